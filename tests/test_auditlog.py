"""The audit log: every state change and security event is appended, in the change's own transaction, to its
organisation's hash chain; the database refuses to rewrite it; `tryggahus audit verify` names the first broken link;
admins read, filter and export their own organisation's log."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from audit.accounts.auth import create_api_token, revoke_api_tokens
from audit.accounts.models import Organisation, Role, User
from audit.auditlog.chain import GENESIS, Head, check_chain, entry_hash
from audit.auditlog.models import AuditChainHead, AuditEntry
from audit.auditlog.services import append, verify_chains
from audit.buildings.models import Building
from audit.certificates.documents import issued_sign
from audit.certificates.services import issue_certificate, regenerate_sign, revoke_certificate
from audit.checklists.models import ChecklistVersion
from audit.inspections.services import discard_draft, return_inspection, start_inspection, submit_inspection
from audit.remediation.services import assign_tasks, start_task
from tests.remediation_support import approved_inspection, tasks_of, walk
from tests.web_support import csrf_token, login


def _entries(session: Session, organisation_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.id)
    if organisation_id is not None:
        query = query.where(AuditEntry.organisation_id == organisation_id)
    return list(session.scalars(query))


def _actions(session: Session, organisation_id: int) -> list[str]:
    return [entry.action for entry in _entries(session, organisation_id)]


# --- the chain, without a database -------------------------------------------------------------------------------


class _Entry:
    def __init__(self, sequence: int, previous: str, payload: str) -> None:
        self.id, self.sequence, self.previous_hash = 100 + sequence, sequence, previous
        self.fields = {
            "chain": 7,
            "sequence": sequence,
            "organisation_id": 7,
            "at": "2026-12-07T10:00:00+00:00",
            "actor_id": 1,
            "actor_email": "a@example.org",
            "action": "task.started",
            "object_type": "task",
            "object_id": 3,
            "before": None,
            "after": {"text": payload},
            "request_id": None,
            "previous_hash": previous,
        }
        self.entry_hash = entry_hash(self.fields)

    def content(self) -> dict[str, object]:
        return self.fields


def _chain(length: int) -> list[_Entry]:
    entries, previous = [], GENESIS
    for sequence in range(1, length + 1):
        entries.append(_Entry(sequence, previous, f"step {sequence}"))
        previous = entries[-1].entry_hash
    return entries


def test_the_chain_names_the_first_changed_removed_or_cut_off_entry() -> None:
    entries = _chain(5)
    head = Head(5, entries[-1].entry_hash)
    assert check_chain(7, entries, head).broken is None
    assert check_chain(7, [], None).broken is None

    entries[2].fields["after"] = {"text": "rewritten"}
    broken = check_chain(7, entries, head).broken
    assert broken is not None
    assert (broken.sequence, broken.entry_id) == (3, 103)
    assert "changed" in broken.reason

    entries = _chain(5)
    broken = check_chain(7, [*entries[:2], *entries[3:]], head).broken
    assert broken is not None
    assert broken.sequence == 3
    assert "missing" in broken.reason

    broken = check_chain(7, entries[:4], head).broken
    assert broken is not None
    assert broken.sequence == 5
    assert "removed from its end" in broken.reason


# --- what is recorded --------------------------------------------------------------------------------------------


def test_every_state_change_and_security_event_is_recorded_in_its_organisation_chain(
    session: Session,
    client: FlaskClient,
    org: Organisation,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    admin = create_member(Role.admin)
    inspector = create_member(Role.inspector)
    manager = create_member(Role.manager)
    contractor = create_member(Role.contractor)
    assert _actions(session, org.id) == ["membership.role_granted"] * 4

    failing = approved_inspection(session, inspector, manager, create_test_building(), checklist_version, ["UTE-01"])
    task = tasks_of(session, failing)["UTE-01"]
    assign_tasks(session, manager, org.id, [task], contractor)
    start_task(session, contractor, task)
    passing = approved_inspection(session, inspector, manager, create_test_building(), checklist_version, [])
    certificate = issue_certificate(session, manager, passing, issued_sign)
    regenerate_sign(session, admin, certificate, "Fel adress", issued_sign, base_url="https://other.example")
    revoke_certificate(session, admin, certificate, "Fel hus")
    returned = start_inspection(session, inspector, create_test_building(), failing.kind, checklist_version)
    walk(session, inspector, returned, [])
    submit_inspection(session, inspector, returned)
    return_inspection(session, manager, returned, "Ta om UTE-02")
    draft = start_inspection(session, inspector, create_test_building(), failing.kind, checklist_version)
    discard_draft(session, inspector, Role.inspector, draft, "Fel hus")
    create_api_token(session, admin, org, "skript")
    revoke_api_tokens(session, admin)

    actions = _actions(session, org.id)[4:]
    assert actions[:4] == ["inspection.started", "inspection.submitted", "task.created", "inspection.approved"]
    assert actions[4:6] == ["task.assigned", "task.started"]
    assert actions[9:] == [
        "certificate.issued",
        "certificate.sign_regenerated",
        "certificate.revoked",
        "inspection.started",
        "inspection.submitted",
        "inspection.returned",
        "inspection.started",
        "inspection.discarded",
        "api_token.created",
        "api_token.revoked",
    ]
    started = _entries(session, org.id)[9]
    assert (started.actor_id, started.actor_email, started.object_id) == (contractor.id, contractor.email, task.id)
    assert (started.before, started.after) == ({"status": "open"}, {"status": "in_progress"})
    issued = next(e for e in _entries(session, org.id) if e.action == "certificate.issued")
    regenerated = next(e for e in _entries(session, org.id) if e.action == "certificate.sign_regenerated")
    assert regenerated.after is not None
    assert regenerated.after["url"] == "https://other.example"
    assert regenerated.before == {"sha256": issued.after["sha256"], "url": issued.after["url"]}  # type: ignore[index]

    # Through the web: a login, a failed login (known and unknown address), an export of personal data.
    client.post("/login", data={"email": admin.email, "password": "wrong", "csrf_token": csrf_token(client)})
    client.post("/login", data={"email": "nobody@example.org", "password": "x", "csrf_token": csrf_token(client)})
    login(client, manager.email)
    response = client.get("/tasks/export.csv")
    assert response.status_code == 200
    entries = _entries(session, org.id)
    assert [e.action for e in entries[-3:]] == ["user.login_failed", "user.logged_in", "task_list.exported"]
    assert entries[-3].actor_id is None
    assert entries[-3].after == {"email": admin.email, "remote_addr": "127.0.0.1"}
    assert entries[-1].request_id == response.headers["X-Request-Id"]
    assert entries[-1].after == {"format": "csv", "rows": 1}
    unknown = session.scalars(select(AuditEntry).where(AuditEntry.chain == 0)).all()
    assert [(e.action, e.after) for e in unknown][-1] == ("user.login_failed", {"remote_addr": "127.0.0.1"})

    assert [e.sequence for e in entries] == list(range(1, len(entries) + 1))
    assert all(report.broken is None for report in verify_chains(session))


def test_each_copy_of_an_inspection_report_is_recorded_as_an_export_of_personal_data(
    session: Session,
    client: FlaskClient,
    org: Organisation,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector, manager = create_member(Role.inspector), create_member(Role.manager)
    inspection = approved_inspection(session, inspector, manager, create_test_building(), checklist_version, [])
    login(client, manager.email)
    response = client.get(f"/inspections/{inspection.id}/report.pdf?lang=en")
    assert response.status_code == 200
    last = _entries(session, org.id)[-1]
    assert (last.action, last.object_id, last.actor_id) == ("inspection_report.exported", inspection.id, manager.id)
    assert last.after == {"format": "pdf", "language": "en"}
    assert last.request_id == response.headers["X-Request-Id"]


def test_an_entry_is_written_in_the_transaction_of_its_change(
    session: Session, create_inspection: Callable[..., object], org: Organisation
) -> None:
    before = len(_entries(session, org.id))
    savepoint = session.begin_nested()
    create_inspection()
    assert len(_entries(session, org.id)) == before + 2  # the inspector's role granted, the inspection started
    savepoint.rollback()
    assert len(_entries(session, org.id)) == before


def test_each_response_carries_its_own_request_id(client: FlaskClient) -> None:
    first, second = client.get("/login"), client.get("/nowhere")
    assert len(first.headers["X-Request-Id"]) == 32
    assert len(second.headers["X-Request-Id"]) == 32
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]
    sent = client.get("/login", headers={"X-Request-Id": "forged"})
    assert sent.headers["X-Request-Id"] != "forged"


# --- the database refuses to rewrite it -----------------------------------------------------------------------


def test_the_database_refuses_to_change_or_remove_entries_and_to_move_a_head_back(
    session: Session, create_member: Callable[..., User], org: Organisation
) -> None:
    create_member(Role.admin)
    create_member(Role.viewer)
    for statement in (
        update(AuditEntry).values(actor_email="someone@else.example"),
        delete(AuditEntry).where(AuditEntry.sequence == 2),
        update(AuditChainHead).values(last_sequence=1),
        delete(AuditChainHead),
    ):
        with pytest.raises(DBAPIError, match=r"audit_(entries|chain_heads)"), session.begin_nested():
            session.execute(statement.execution_options(synchronize_session=False))
    assert [e.sequence for e in _entries(session, org.id)] == [1, 2]


def _drop_guard(session: Session) -> None:
    """What someone with the database's owner rights could do: drop the trigger, then rewrite the log."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("DROP TRIGGER audit_entries_append_only ON audit_entries"))
    else:
        session.execute(text("DROP TRIGGER audit_entries_no_update"))
        session.execute(text("DROP TRIGGER audit_entries_no_delete"))


def test_verify_names_the_first_changed_entry_and_the_first_removed_one(
    session: Session, runner: FlaskCliRunner, create_member: Callable[..., User], org: Organisation
) -> None:
    for role in (Role.admin, Role.manager, Role.inspector, Role.viewer):
        create_member(role)
    intact = runner.invoke(args=["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    last_hash = _entries(session, org.id)[-1].entry_hash
    assert f"organisation test: 4 entries, intact, last hash {last_hash}" in intact.output

    entries = _entries(session, org.id)
    _drop_guard(session)
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.id == entries[1].id)
        .values(after={"role": "admin"})
        .execution_options(synchronize_session=False)
    )
    changed = runner.invoke(args=["audit", "verify"])
    assert changed.exit_code == 1
    assert f"organisation test: broken at sequence 2 (entry id {entries[1].id}): entry 2 was changed" in changed.output

    session.execute(delete(AuditEntry).where(AuditEntry.id.in_([entries[1].id, entries[2].id])))
    removed = runner.invoke(args=["audit", "verify"])
    assert removed.exit_code == 1
    assert "broken at sequence 2" in removed.output
    assert "entry 2 is missing" in removed.output


# --- concurrent writers ------------------------------------------------------------------------------------------


def test_concurrent_writers_take_turns_at_the_head_of_the_chain(database_kind: str, tmp_path: Path) -> None:
    from audit.accounts.services import create_organisation
    from audit.extensions import db
    from audit.migrate import upgrade
    from tests.conftest import fresh_database, make_test_app

    writers, each = 8, 5
    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        with app.app_context():
            organisation_id = create_organisation(db.session, "busy", "Upptagna AB").id
            db.session.commit()
        errors: list[BaseException] = []
        start = threading.Barrier(writers)

        def write(number: int) -> None:
            start.wait()
            for step in range(each):
                try:
                    with app.app_context():
                        append(
                            db.session,
                            action="task.started",
                            actor=None,
                            organisation_id=organisation_id,
                            after={"writer": number, "step": step},
                        )
                        db.session.commit()
                except BaseException as exc:
                    errors.append(exc)

        threads = [threading.Thread(target=write, args=(number,)) for number in range(writers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        with app.app_context():
            entries = _entries(db.session, organisation_id)
            assert [e.sequence for e in entries] == list(range(1, writers * each + 1))
            assert [report.broken for report in verify_chains(db.session)] == [None]
        engine.dispose()


# --- the page and the export -------------------------------------------------------------------------------------


def test_admins_read_filter_and_export_only_their_own_organisation_log(
    app: Flask,
    session: Session,
    client: FlaskClient,
    org: Organisation,
    create_org: Callable[..., Organisation],
    create_member: Callable[..., User],
) -> None:
    admin = create_member(Role.admin, email="chef@example.org")
    create_member(Role.viewer, email="tittare@example.org")
    other = create_org("annat")
    create_member(Role.admin, organisation=other, email="hemlig@annat.example")
    create_api_token(session, admin, org, "skript")

    for role in (Role.manager, Role.inspector, Role.viewer, Role.contractor):
        someone = app.test_client()
        login(someone, create_member(role).email)
        assert someone.get("/audit/").status_code == 403
        assert someone.get("/audit/export.csv").status_code == 403

    login(client, admin.email)
    page = client.get("/audit/").get_data(as_text=True)
    assert "Granskningslogg" in page
    assert "tittare@example.org" in page
    assert "API-nyckel skapad" in page
    assert "hemlig@annat.example" not in page
    filtered = client.get("/audit/?action=api_token.created").get_data(as_text=True)
    assert "API-nyckel skapad" in filtered
    assert "tittare@example.org" not in filtered

    export = client.get("/audit/export.csv?action=membership.role_granted")
    assert export.status_code == 200
    assert export.headers["Content-Type"] == "text/csv; charset=utf-8"
    body = export.get_data().decode("utf-8-sig")
    assert "tittare@example.org" in body
    assert "hemlig@annat.example" not in body
    assert "api_token.created" not in body
    last = _entries(session, org.id)[-1]
    assert last.action == "audit_log.exported"
    assert last.actor_id == admin.id
    assert last.after == {"rows": 6, "filter": {"action": "membership.role_granted"}}


def test_the_log_page_takes_any_query_string_without_failing(
    client: FlaskClient, create_member: Callable[..., User]
) -> None:
    admin = create_member(Role.admin)
    login(client, admin.email)
    for query in (
        "since=0001-01-01&until=9999-12-31",
        "object_id=%C2%B2&page=%C2%B2",
        "object_id=99999999999999999999999&page=99999999999999999999",
        "since=2026-13-01&until=yesterday&action=" + "x" * 500,
        "actor=%25_%5C&object_type=",
    ):
        assert client.get(f"/audit/?{query}").status_code == 200, query
        assert client.get(f"/audit/export.csv?{query}").status_code == 200, query
    # A NUL character is refused for every request before any view (audit/input_guard.py): never a 500.
    assert client.get("/audit/?object_type=%00").status_code == 400
