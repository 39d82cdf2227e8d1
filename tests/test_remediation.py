"""Remediation: tasks from an approved inspection's failed items, the workflow and its refusals, assignment, due
dates, contractors' isolation, the manager's list (also with 10,000 tasks) and the dashboard."""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale
from sqlalchemy import event, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.buildings.models import Building
from audit.buildings.services import create_area
from audit.checklists.models import ChecklistVersion
from audit.checklists.schema import Severity, is_applicable
from audit.demo import demo_photo
from audit.errors import DomainError, InvalidTransition
from audit.extensions import db
from audit.inspections.models import AnswerResult, Inspection, InspectionKind
from audit.inspections.scoring import Outcome
from audit.inspections.services import (
    AnswerInput,
    approve_inspection,
    save_answer,
    start_inspection,
    submit_inspection,
)
from audit.inspections.walk import build_walk
from audit.photos.services import add_photo
from audit.remediation.bulk import add_synthetic_tasks
from audit.remediation.chart import line_chart, nice_maximum, tick_count
from audit.remediation.filters import PAGE_SIZE, TaskFilter, parse_filter
from audit.remediation.follow_up import NothingToFollowUp, follow_up_of
from audit.remediation.models import RemediationTask, TaskEvent, TaskPhoto
from audit.remediation.services import (
    add_task_photo,
    assign_tasks,
    change_due_date,
    sync_tasks,
    today,
)
from audit.remediation.workflow import (
    TRANSITIONS,
    TaskAction,
    TaskCheckFailed,
    TaskStatus,
    TaskTransitionRefused,
    allowed_actions,
    next_status,
)
from tests.pdf_support import pdf_text
from tests.remediation_support import FINDING, approved_inspection, tasks_of, walk
from tests.web_support import csrf_token, login

S = TaskStatus
#: Failed in the approved inspections below: a critical item (shortest deadline), an item with a photo rule,
#: and a plain one.
FAILING = ("ENT-01", "UTE-02", "BEL-02")


# --- the workflow table (pure) -------------------------------------------------------------------------------------

EXPECTED = {
    (TaskAction.started, S.open): S.in_progress,
    (TaskAction.completed, S.in_progress): S.done,
    (TaskAction.verified, S.done): S.verified,
    (TaskAction.reopened, S.done): S.open,
    **{(TaskAction.verified_by_inspection, s): S.verified for s in (S.open, S.in_progress, S.done)},
    **{
        (action, s): s
        for action in (TaskAction.failed_again, TaskAction.assigned, TaskAction.due_date_changed)
        for s in (S.open, S.in_progress, S.done)
    },
}


@pytest.mark.parametrize("action", list(TRANSITIONS))
@pytest.mark.parametrize("status", list(TaskStatus))
def test_the_workflow_table_allows_exactly_the_expected_moves(action: TaskAction, status: TaskStatus) -> None:
    expected = EXPECTED.get((action, status))
    if expected is None:
        with pytest.raises(TaskTransitionRefused) as refused:
            next_status(action, status)
        assert refused.value.current == status.value
        assert action not in allowed_actions(status)
    else:
        assert next_status(action, status) is expected
        assert action in allowed_actions(status)


def test_a_verified_task_allows_nothing() -> None:
    assert allowed_actions(S.verified) == frozenset()


# --- every refused move on the model, with its message --------------------------------------------------------


def _task_in(status: TaskStatus, task: RemediationTask, actor: User, session: Session) -> RemediationTask:
    """Walk `task` (open) to `status` through valid moves."""
    if status is S.open:
        return task
    task.start(actor)
    if status is S.in_progress:
        return task
    add_task_photo(session, actor, task, demo_photo("fix"))
    task.complete(actor, "Buskarna är nedklippta till 0,8 m.")
    if status is S.verified:
        task.verify(actor)
    return task


MOVES: dict[str, Callable[[RemediationTask, User, Inspection], None]] = {
    "start": lambda task, actor, _i: task.start(actor),
    "complete": lambda task, actor, _i: task.complete(actor, "Klart."),
    "verify": lambda task, actor, _i: task.verify(actor),
    "reopen": lambda task, actor, _i: task.reopen(actor, "Inte åtgärdat."),
    "verify_by_inspection": lambda task, actor, i: task.verify_by_inspection(actor, i),
    "note_failed_again": lambda task, actor, i: task.note_failed_again(actor, i, None),
    "assign": lambda task, actor, _i: task.assign(actor, actor),
    "change_due_date": lambda task, actor, _i: task.change_due_date(actor, today(), "Väntar på leverans."),
}
ALLOWED_FROM = {
    "start": {S.open},
    "complete": {S.in_progress},
    "verify": {S.done},
    "reopen": {S.done},
    "verify_by_inspection": {S.open, S.in_progress, S.done},
    "note_failed_again": {S.open, S.in_progress, S.done},
    "assign": {S.open, S.in_progress, S.done},
    "change_due_date": {S.open, S.in_progress, S.done},
}
REFUSED = [(move, status) for move in MOVES for status in TaskStatus if status not in ALLOWED_FROM[move]]


@pytest.mark.parametrize(("move", "status"), REFUSED, ids=[f"{m}-from-{s.value}" for m, s in REFUSED])
def test_every_refused_move_is_refused_with_a_clear_message(
    move: str,
    status: TaskStatus,
    app: Flask,
    session: Session,
    create_task: Callable[..., RemediationTask],
    create_member: Callable[..., User],
) -> None:
    manager = create_member(Role.manager)
    task = _task_in(status, create_task(), manager, session)
    session.flush()
    events_before = len(task.events)
    with pytest.raises(TaskTransitionRefused) as refused:
        MOVES[move](task, manager, task.inspection)
    assert task.status is status
    assert len(task.events) == events_before
    with app.test_request_context("/"), force_locale("en"):
        message = refused.value.translated()
    with app.test_request_context("/"), force_locale("sv"):
        swedish = refused.value.translated()
    assert message != swedish
    if status is not S.verified:
        assert {"open": "open", "in_progress": "in progress", "done": "done"}[status.value] in message
    assert "%(" not in message
    assert "%(" not in swedish


def test_done_needs_a_comment_and_a_photo_and_reopening_a_reason(
    session: Session, create_task: Callable[..., RemediationTask], create_member: Callable[..., User]
) -> None:
    contractor = create_member(Role.contractor)
    task = create_task(assignee=contractor)
    task.start(contractor)
    with pytest.raises(TaskCheckFailed, match="Describe what was done"):
        task.complete(contractor, "  ")
    with pytest.raises(TaskCheckFailed, match="Add a photo"):
        task.complete(contractor, "Klippt ner buskarna.")
    add_task_photo(session, contractor, task, demo_photo("after"))
    task.complete(contractor, "Klippt ner buskarna.")
    assert task.status is S.done
    assert task.completed_by is contractor
    with pytest.raises(TaskCheckFailed, match="why"):
        task.reopen(contractor, "")
    with pytest.raises(DomainError, match="final"):  # a done task's evidence is final
        add_task_photo(session, contractor, task, demo_photo("late"))
    with pytest.raises(TaskCheckFailed, match="reason"):
        task.change_due_date(contractor, today(), " ")


def test_every_step_is_recorded_with_who_when_from_to_and_comment(
    session: Session, create_task: Callable[..., RemediationTask], create_member: Callable[..., User]
) -> None:
    manager, contractor = create_member(Role.manager), create_member(Role.contractor)
    task = create_task()
    assign_tasks(session, manager, task.organisation_id, [task], contractor)
    new_due = task.due_date + timedelta(days=14)
    change_due_date(session, manager, task, new_due, "Låssmeden har tre veckors väntetid.")
    task.start(contractor)
    add_task_photo(session, contractor, task, demo_photo("after"))
    task.complete(contractor, "Nytt lås monterat.")
    task.reopen(manager, "Låset går inte i lås.")
    task.start(contractor)
    task.complete(contractor, "Justerat slutblecket.")
    task.verify(manager, "Kontrollerat på plats.")
    session.flush()
    events = session.scalars(select(TaskEvent).where(TaskEvent.task_id == task.id).order_by(TaskEvent.id)).all()
    steps = [(e.action, e.from_status, e.to_status, e.actor_id) for e in events]
    assert steps == [
        (TaskAction.created, None, S.open, task.inspection.inspector_id),
        (TaskAction.assigned, S.open, S.open, manager.id),
        (TaskAction.due_date_changed, S.open, S.open, manager.id),
        (TaskAction.started, S.open, S.in_progress, contractor.id),
        (TaskAction.completed, S.in_progress, S.done, contractor.id),
        (TaskAction.reopened, S.done, S.open, manager.id),
        (TaskAction.started, S.open, S.in_progress, contractor.id),
        (TaskAction.completed, S.in_progress, S.done, contractor.id),
        (TaskAction.verified, S.done, S.verified, manager.id),
    ]
    assert events[1].assignee_id == contractor.id
    assert (events[2].previous_due_date, events[2].due_date) == (today(), new_due)
    assert events[2].comment == "Låssmeden har tre veckors väntetid."
    assert events[5].comment == "Låset går inte i lås."
    assert all(e.at is not None for e in events)
    assert task.verified_by is manager
    assert task.verified_at is not None


def test_the_database_refuses_rows_no_valid_move_could_make(
    session: Session, create_task: Callable[..., RemediationTask]
) -> None:
    task = create_task()
    task.status = S.verified  # bypassing the state machine: no verifier, no completion
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


# --- tasks from findings ------------------------------------------------------------------------------------------


@pytest.fixture
def people(create_member: Callable[..., User]) -> dict[Role, User]:
    return {role: create_member(role) for role in Role}


def test_approving_turns_each_failed_item_into_a_task_with_the_checklist_defaults(
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspection = approved_inspection(
        session, people[Role.inspector], people[Role.manager], create_test_building(), checklist_version, FAILING
    )
    tasks = tasks_of(session, inspection)
    assert set(tasks) == set(FAILING)
    checklist = checklist_version.checklist
    approved_on = today()
    for key, task in tasks.items():
        section, item = checklist.find_item(key)  # type: ignore[misc]
        assert task.building_id == inspection.building_id
        assert task.section_key == section.key
        assert task.severity is item.remediation.severity  # type: ignore[union-attr]
        assert task.due_date == approved_on + timedelta(days=item.remediation.fix_days)  # type: ignore[union-attr]
        assert task.finding == FINDING
        assert task.status is S.open
        assert task.assignee is None
        assert task.item_text_sv == item.text.sv
        assert task.item_text_en == item.text.en
    # The critical item gets the critical severity and the shortest deadline.
    assert tasks["ENT-01"].severity is Severity.critical
    assert tasks["ENT-01"].critical
    assert tasks["ENT-01"].due_date == min(task.due_date for task in tasks.values())
    # The inspector's photos of a finding are linked through the inspection.
    from audit.remediation.services import finding_photos

    assert [p.item_key for p in finding_photos(session, tasks["UTE-02"])] == ["UTE-02"]
    assert [e.action for e in tasks["BEL-02"].events] == [TaskAction.created]


def test_running_the_step_again_or_approving_again_never_duplicates(
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspection = approved_inspection(
        session, people[Role.inspector], people[Role.manager], create_test_building(), checklist_version, FAILING
    )
    for _ in range(2):
        again = sync_tasks(session, people[Role.manager], inspection)
        assert (again.created, again.verified, again.failed_again) == ([], [], [])
    with pytest.raises(InvalidTransition):
        approve_inspection(session, people[Role.admin], inspection)
    count = session.scalar(select(func.count()).where(RemediationTask.inspection_id == inspection.id))
    assert count == len(FAILING)
    events = session.scalar(
        select(func.count())
        .select_from(TaskEvent)
        .join(RemediationTask)
        .where(RemediationTask.inspection_id == inspection.id)
    )
    assert events == len(FAILING)
    # And the database itself refuses a second task for the same item of the same inspection.
    task = tasks_of(session, inspection)["BEL-02"]
    duplicate = RemediationTask(
        organisation_id=task.organisation_id,
        building_id=task.building_id,
        inspection_id=inspection.id,
        section_key="BEL",
        item_key="BEL-02",
        item_text_sv="x",
        item_text_en="x",
        severity=Severity.low,
        due_date=today(),
        status=S.open,
    )
    session.add(duplicate)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.flush()


def test_a_later_inspection_verifies_passing_items_and_notes_repeats(
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    building = create_test_building()
    inspector, manager = people[Role.inspector], people[Role.manager]
    first = approved_inspection(session, inspector, manager, building, checklist_version, FAILING)
    before = tasks_of(session, first)
    second = approved_inspection(session, inspector, manager, building, checklist_version, {"UTE-02", "TRP-01"})
    assert before["ENT-01"].status is S.verified
    assert before["BEL-02"].status is S.verified
    assert before["ENT-01"].verified_by_inspection_id == second.id
    assert before["ENT-01"].events[-1].action is TaskAction.verified_by_inspection
    assert before["UTE-02"].status is S.open
    assert before["UTE-02"].repeat_count == 1
    assert before["UTE-02"].events[-1].action is TaskAction.failed_again
    assert before["UTE-02"].events[-1].inspection_id == second.id
    assert set(tasks_of(session, second)) == {"TRP-01"}  # new finding; the repeat stays on the first task
    again = sync_tasks(session, manager, second)
    assert (again.created, again.verified, again.failed_again) == ([], [], [])
    assert before["UTE-02"].repeat_count == 1


# --- over HTTP: the contractor on the phone, the manager at the desk ----------------------------------------------


def _post(client: FlaskClient, url: str, data: dict[str, Any] | None = None, page: str = "/tasks/") -> Any:
    return client.post(url, data={"csrf_token": csrf_token(client, page), **(data or {})})


def test_the_contractor_works_on_own_tasks_only(
    client: FlaskClient,
    session: Session,
    create_task: Callable[..., RemediationTask],
    create_member: Callable[..., User],
) -> None:
    contractor = create_member(Role.contractor, email="bygg@example.org")
    mine = create_task(assignee=contractor, item_key="UTE-01")
    others = create_task(item_key="UTE-02")
    mine_id, others_id, inspection_id, building_id = mine.id, others.id, mine.inspection_id, mine.building_id
    login(client, "bygg@example.org")
    listing = client.get("/tasks/").get_data(as_text=True)
    assert f"/tasks/{mine_id}" in listing
    assert f"/tasks/{others_id}" not in listing
    assert client.get(f"/tasks/{others_id}").status_code == 404
    assert client.get(f"/tasks/?assignee={others.assignee_id or 'none'}").status_code == 200
    assert f"/tasks/{others_id}" not in client.get("/tasks/?assignee=none").get_data(as_text=True)
    assert _post(client, f"/tasks/{others_id}/start").status_code == 404
    page = client.get(f"/tasks/{mine_id}").get_data(as_text=True)
    assert f"/inspections/{inspection_id}" not in page
    assert f"/buildings/{building_id}" not in page
    for url in (f"/inspections/{inspection_id}", f"/buildings/{building_id}", "/buildings/", "/tasks/dashboard"):
        assert client.get(url).status_code == 403, url
    assert _post(client, f"/tasks/{mine_id}/verify").status_code == 403
    # Start, save a photo, mark done.
    assert _post(client, f"/tasks/{mine_id}/start").status_code == 303
    photo = (io.BytesIO(demo_photo("efter")), "efter.jpg")
    response = client.post(
        f"/tasks/{mine_id}/work",
        data={
            "csrf_token": csrf_token(client, "/tasks/"),
            "comment": "Buskarna klippta.",
            "action": "done",
            "photo": photo,
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    session.expire_all()
    task = db.session.get(RemediationTask, mine_id)
    assert task is not None
    assert task.status is S.done
    assert len(task.photos) == 1
    evidence = task.photos[0]
    assert client.get(f"/tasks/{mine_id}/evidence/{evidence.id}/thumb").status_code == 200
    assert client.get(f"/tasks/{others_id}/evidence/{evidence.id}").status_code == 404
    # The inspector's photo of the finding: through the task, never through the inspection.
    finding = add_photo(session, task.inspection.inspector, task.inspection, "UTE-01", demo_photo("brist"))
    assert client.get(f"/tasks/{mine_id}/findings/{finding.id}/thumb").status_code == 200
    assert client.get(f"/tasks/{others_id}/findings/{finding.id}").status_code == 404
    assert client.get(f"/inspections/{inspection_id}/photos/{finding.id}").status_code == 403


def test_photos_are_checked_like_the_inspectors(
    app: Flask, client: FlaskClient, create_task: Callable[..., RemediationTask], create_member: Callable[..., User]
) -> None:
    contractor = create_member(Role.contractor, email="foto@example.org")
    task = create_task(assignee=contractor)
    task_id = task.id
    login(client, "foto@example.org")
    _post(client, f"/tasks/{task_id}/start")

    def upload(data: bytes, name: str = "x.jpg") -> Any:
        return client.post(
            f"/tasks/{task_id}/work",
            data={"csrf_token": csrf_token(client, "/tasks/"), "action": "photo", "photo": (io.BytesIO(data), name)},
            content_type="multipart/form-data",
        )

    assert upload(b"%PDF-1.4 not a photo", "x.pdf").status_code == 415
    settings = app.config["TRYGGAHUS"]
    assert upload(b"\xff\xd8\xff" + b"0" * (settings.max_photo_bytes + 10)).status_code == 413
    assert db.session.scalar(select(func.count()).select_from(TaskPhoto).where(TaskPhoto.task_id == task_id)) == 0
    assert upload(demo_photo("ok")).status_code == 303
    stored = db.session.scalars(select(TaskPhoto).where(TaskPhoto.task_id == task_id)).one()
    assert stored.media_type == "image/jpeg"
    assert stored.width <= settings.photo_max_dimension


def test_the_manager_assigns_in_bulk_changes_due_dates_and_verifies(
    client: FlaskClient,
    session: Session,
    create_task: Callable[..., RemediationTask],
    create_member: Callable[..., User],
    create_org: Callable[..., Organisation],
) -> None:
    create_member(Role.manager, email="chef@example.org")
    contractor = create_member(Role.contractor)
    outsider = create_member(Role.contractor, organisation=create_org())
    viewer = create_member(Role.viewer)
    tasks = [create_task(item_key=f"UTE-0{n}") for n in (1, 2, 3)]
    ids = [task.id for task in tasks]
    login(client, "chef@example.org")
    response = _post(client, "/tasks/assign", {"tasks": [str(i) for i in ids[:2]], "assignee": str(contractor.id)})
    assert response.status_code == 303
    session.expire_all()
    assert [db.session.get(RemediationTask, i).assignee_id for i in ids] == [contractor.id, contractor.id, None]
    # Only members who may work on tasks can be chosen.
    for stranger in (outsider, viewer):
        response = _post(client, f"/tasks/{ids[2]}/assign", {"assignee": str(stranger.id)})
        assert response.status_code == 400
    session.expire_all()
    assert db.session.get(RemediationTask, ids[2]).assignee_id is None
    # A due date needs a reason.
    new_due = (today() + timedelta(days=30)).isoformat()
    _post(client, f"/tasks/{ids[0]}/due-date", {"due_date": new_due, "reason": ""})
    session.expire_all()
    assert db.session.get(RemediationTask, ids[0]).due_date == today()
    _post(client, f"/tasks/{ids[0]}/due-date", {"due_date": new_due, "reason": "Materialbrist."})
    session.expire_all()
    assert db.session.get(RemediationTask, ids[0]).due_date.isoformat() == new_due
    # Verifying a task that is not done is refused, with the reason shown on the task's page.
    response = _post(client, f"/tasks/{ids[0]}/verify")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Bara en åtgärd som är markerad som klar kan verifieras; den här är öppen." in page
    assert "Materialbrist." in page


def test_the_managers_list_filters_sorts_counts_and_pages(
    client: FlaskClient,
    session: Session,
    create_task: Callable[..., RemediationTask],
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
    create_test_building: Callable[..., Building],
) -> None:
    create_member(Role.manager, email="lista@example.org")
    contractor = create_member(Role.contractor)
    late = create_task(item_key="UTE-01", severity=Severity.critical, due_date=today() - timedelta(days=3))
    area = create_area(session, late.building.organisation, "Fittja")
    in_area = create_inspection(building=create_test_building(area=area, name="Ö-huset"))
    later = create_task(in_area, item_key="UTE-02", assignee=contractor, due_date=today() + timedelta(days=9))
    create_task(item_key="UTE-03", severity=Severity.low, due_date=today() + timedelta(days=1))
    login(client, "lista@example.org")

    def ids(query: str) -> list[int]:
        page = client.get(f"/tasks/?{query}").get_data(as_text=True)
        return [int(n) for n in re.findall(r'href="/tasks/(\d+)"', page)]

    assert ids("overdue=1") == [late.id]
    assert ids(f"assignee={contractor.id}") == [later.id]
    assert late.id not in ids("assignee=none") or later.id not in ids("assignee=none")
    assert ids("severity=critical") == [late.id]
    assert ids(f"building={later.building_id}") == [later.id]
    assert ids("sort=-due")[0] == later.id
    assert ids("sort=due")[0] == late.id
    assert ids("sort=severity")[0] == late.id
    assert ids(f"area={area.id}") == [later.id]
    assert ids(f"area={area.id}&sort=-building&status=open") == [later.id]
    assert ids("sort=-building")[0] == later.id
    assert ids("sort=assignee")[0] == later.id
    page = client.get("/tasks/?lang=en").get_data(as_text=True)
    assert re.search(r"Open <span class=\"count\">3</span>", page)
    assert re.search(r"Overdue: <strong[^>]*>1</strong>", page)


def test_the_filter_reads_a_query_string_and_ignores_nonsense() -> None:
    chosen = parse_filter(
        {
            "area": "3",
            "severity": "high",
            "status": "done",
            "assignee": "none",
            "overdue": "1",
            "sort": "-building",
            "page": "2",
        }
    )
    assert chosen == TaskFilter(3, None, Severity.high, S.done, "none", True, False, "building", True, 2)
    assert parse_filter(chosen.to_args()) == chosen
    assert parse_filter({"area": "x", "severity": "huge", "sort": "; drop", "page": "-1", "assignee": "1e9"}) == (
        TaskFilter()
    )
    assert TaskFilter().sorted_by("due") == {"sort": "-due"}
    assert not TaskFilter(page=3).narrowed
    assert TaskFilter(overdue=True).narrowed


# --- the dashboard and the buildings ------------------------------------------------------------------------------


def test_the_dashboard_shows_open_and_overdue_tasks_and_their_trend(
    client: FlaskClient,
    create_task: Callable[..., RemediationTask],
    create_member: Callable[..., User],
) -> None:
    create_member(Role.manager, email="dash@example.org")
    create_task(item_key="UTE-01", due_date=today() - timedelta(days=1))
    create_task(item_key="UTE-02")
    login(client, "dash@example.org")
    page = client.get("/tasks/dashboard?lang=en").get_data(as_text=True)
    assert re.search(r'data-figure="open">2<', page)
    assert re.search(r'data-figure="overdue">1<', page)
    assert "<svg" in page
    assert "<polyline" in page
    assert "Certificates expiring within 90 days" in page
    assert page.count("<circle") == 12


# --- 10,000 tasks -------------------------------------------------------------------------------------------------


@contextmanager
def counted_statements(session: Session) -> Iterator[list[str]]:
    statements: list[str] = []
    engine = session.get_bind().engine  # type: ignore[union-attr]

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


#: Statements the manager's list may cost, whatever the number of tasks: the login, the counts, one page of rows,
#: and the filter's areas, buildings and assignable users.
MAX_LIST_STATEMENTS = 7


def test_the_managers_list_of_ten_thousand_tasks_takes_a_fixed_number_of_queries(
    client: FlaskClient, session: Session, org: Organisation, create_member: Callable[..., User]
) -> None:
    create_member(Role.manager, email="tiotusen@example.org")
    create_member(Role.contractor)
    add_synthetic_tasks(session.connection(), org.id, 10_000)
    login(client, "tiotusen@example.org")
    for query in ("", "?sort=-severity&page=7", "?overdue=1&sort=assignee", "?status=done&sort=building&page=3"):
        with counted_statements(session) as statements:
            response = client.get(f"/tasks/{query}")
        assert response.status_code == 200
        assert len(statements) <= MAX_LIST_STATEMENTS, "\n\n".join(statements)
        assert response.get_data(as_text=True).count("<tr>") - 1 == PAGE_SIZE
    page = client.get("/tasks/?lang=en").get_data(as_text=True)
    assert "10,000 tasks" in page


# --- follow-up inspections ------------------------------------------------------------------------------------------


def test_a_follow_up_carries_over_failed_and_critical_items_and_verifies_what_was_fixed(
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    building = create_test_building()
    inspector, manager = people[Role.inspector], people[Role.manager]
    first = approved_inspection(session, inspector, manager, building, checklist_version, FAILING)
    tasks = tasks_of(session, first)
    follow = start_inspection(session, inspector, building, InspectionKind.follow_up, checklist_version)
    plan = follow_up_of(follow)
    assert plan is not None
    assert plan.previous_id == first.id
    checklist = checklist_version.checklist
    critical = {i.key for s, i in checklist.items() if i.critical and is_applicable(s, i, building.features)}
    assert set(plan.item_keys) == set(FAILING) | critical
    # The walk shows only those items, each with the previous answer.
    walked = build_walk(follow)
    states = {state.item.key: state for section in walked.sections for state in section.items}
    assert set(states) == set(plan.item_keys)
    assert walked.total == len(plan.item_keys)
    assert states["UTE-02"].previous.result is AnswerResult.failed
    assert states["UTE-02"].previous.comment == FINDING
    assert states["ENT-02"].previous.result is AnswerResult.passed
    # UTE-02 fails again; the rest passes.
    walk(session, inspector, follow, failing={"UTE-02"}, only=plan.item_keys)
    card = submit_inspection(session, inspector, follow)
    assert {r.key for r in card.items if r.outcome is not Outcome.skipped} == set(plan.item_keys)
    approve_inspection(session, manager, follow)
    for key in ("ENT-01", "BEL-02"):
        assert tasks[key].status is S.verified
        assert tasks[key].verified_by_inspection_id == follow.id
        assert tasks[key].events[-1].action is TaskAction.verified_by_inspection
        assert tasks[key].events[-1].inspection_id == follow.id
    assert tasks["UTE-02"].status is S.open
    assert tasks["UTE-02"].repeat_count == 1
    assert tasks["UTE-02"].events[-1].action is TaskAction.failed_again
    assert tasks_of(session, follow) == {}
    # A second follow-up carries over the item that is still open.
    second = start_inspection(session, inspector, building, InspectionKind.follow_up, checklist_version)
    plan = follow_up_of(second)
    assert plan is not None
    assert set(plan.item_keys) == {"UTE-02"} | critical


def test_a_follow_up_needs_an_approved_inspection(
    session: Session, people: dict[Role, User], create_test_building: Callable[..., Building], checklist_version: Any
) -> None:
    with pytest.raises(NothingToFollowUp):
        start_inspection(
            session, people[Role.inspector], create_test_building(), InspectionKind.follow_up, checklist_version
        )


def test_the_follow_up_walk_shows_the_previous_answers(
    client: FlaskClient,
    session: Session,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector = create_member(Role.inspector, email="uppfoljning@example.org")
    building = create_test_building()
    approved_inspection(session, inspector, create_member(Role.manager), building, checklist_version, FAILING)
    follow = start_inspection(session, inspector, building, InspectionKind.follow_up, checklist_version)
    follow_id = follow.id
    login(client, "uppfoljning@example.org")
    page = client.get(f"/inspections/{follow_id}/sections/UTE?lang=en").get_data(as_text=True)
    assert 'id="item-UTE-02"' in page
    assert 'id="item-UTE-01"' not in page  # passed last time, not critical: not carried over
    assert "Previous inspection" in page
    assert FINDING in page or FINDING.replace('"', "&#34;") in page
    overview = client.get(f"/inspections/{follow_id}?lang=en").get_data(as_text=True)
    assert "/sections/UTE" in overview


# --- the chart (pure) -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "top", "ticks"), [(0, 1, 1), (3, 5, 5), (7, 10, 5), (17, 20, 4), (38, 50, 5)])
def test_the_chart_scale_ends_on_a_round_number(value: int, top: int, ticks: int) -> None:
    assert nice_maximum(value) == top
    assert tick_count(top) == ticks


def test_the_chart_places_points_left_to_right_and_higher_values_higher() -> None:
    chart = line_chart([("1/11", 4), ("8/11", 10), ("15/11", 0)])
    xs = [point.x for point in chart.points]
    assert xs == sorted(xs)
    assert chart.points[0].x == chart.left
    assert chart.points[-1].x == chart.right_edge
    assert chart.points[1].y < chart.points[0].y < chart.points[2].y == chart.baseline
    assert [value for _y, value in chart.ticks] == [0, 2, 4, 6, 8, 10]
    assert chart.polyline.count(",") == 3


def test_inspections_approved_out_of_order_leave_the_newer_finding_alone(
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    building = create_test_building()
    inspector, manager = people[Role.inspector], people[Role.manager]
    older = start_inspection(session, inspector, building, InspectionKind.certification, checklist_version)
    walk(session, inspector, older, failing={"BEL-02", "UTE-02"})
    submit_inspection(session, inspector, older)
    newer = approved_inspection(session, inspector, manager, building, checklist_version, {"BEL-02"})
    approve_inspection(session, manager, older)  # approved last, walked first
    assert set(tasks_of(session, newer)) == {"BEL-02"}
    assert set(tasks_of(session, older)) == {"UTE-02"}
    assert tasks_of(session, newer)["BEL-02"].repeat_count == 0


def test_the_trend_counts_tasks_open_at_the_end_of_each_week(
    session: Session, org: Organisation, create_task: Callable[..., RemediationTask], create_member: Callable[..., User]
) -> None:
    from audit.database import utcnow
    from audit.remediation.queries import open_task_trend

    manager = create_member(Role.manager)
    now = utcnow()
    old = create_task(item_key="UTE-01", created_at=now - timedelta(days=30))
    create_task(item_key="UTE-02", created_at=now - timedelta(days=9))
    _task_in(S.verified, old, manager, session)
    old.verified_at = now - timedelta(days=16)
    session.flush()
    trend = dict(open_task_trend(session, org.id, today(), weeks=6))
    assert list(trend.values()) == [0, 1, 1, 0, 1, 1]


def test_starting_a_follow_up_from_the_building_page(
    client: FlaskClient,
    session: Session,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector = create_member(Role.inspector, email="start@example.org")
    building, never_inspected = create_test_building(), create_test_building()
    approved_inspection(session, inspector, create_member(Role.manager), building, checklist_version, FAILING)
    building_id, other_id = building.id, never_inspected.id
    login(client, "start@example.org")
    form = {"kind": "follow_up", "checklist": "trygga-hus"}
    refused = _post(client, f"/inspections/start/{other_id}?lang=en", form, page=f"/inspections/start/{other_id}")
    assert refused.status_code == 422
    assert "A follow-up needs an approved inspection of the building to follow up." in refused.get_data(as_text=True)
    started = _post(client, f"/inspections/start/{building_id}", form, page=f"/inspections/start/{building_id}")
    assert started.status_code == 302
    follow_id = int(started.headers["Location"].rsplit("/", 1)[1])
    session.expire_all()
    plan = follow_up_of(db.session.get(Inspection, follow_id))
    assert plan is not None
    assert set(FAILING) <= set(plan.item_keys)


def test_every_refused_task_form_keeps_what_was_typed(
    client: FlaskClient,
    session: Session,
    create_task: Callable[..., RemediationTask],
    create_member: Callable[..., User],
) -> None:
    """A refusal shows the task's page again with the reason and every typed value, in its own form only."""
    contractor = create_member(Role.contractor, email="skriver@example.org")
    create_member(Role.manager, email="granskar@example.org")
    task = create_task(assignee=contractor)
    task_id = task.id
    login(client, "skriver@example.org")
    assert _post(client, f"/tasks/{task_id}/start").status_code == 303

    def refused(url: str, data: dict[str, str], kept: str) -> str:
        response = _post(client, url, data)
        page = response.get_data(as_text=True)
        assert response.status_code == 422, url
        assert page.count(kept) == 1, f"{url}: the typed text once, in its own form"
        return page

    # Done without a photo of the fix: the comment typed on the phone stays.
    page = refused(f"/tasks/{task_id}/work", {"comment": "Buskarna klippta till 0,8 m.", "action": "done"}, "0,8 m")
    assert "foto" in page.lower()
    # A photo saved without choosing one: the comment stays too.
    refused(f"/tasks/{task_id}/work", {"comment": "Första försöket.", "action": "photo"}, "Första försöket.")
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks/")})
    login(client, "granskar@example.org")
    # A new due date without its reason: the date stays; a reason without a date: the reason stays.
    refused(f"/tasks/{task_id}/due-date", {"due_date": "2031-05-17", "reason": ""}, "2031-05-17")
    refused(f"/tasks/{task_id}/due-date", {"due_date": "", "reason": "Väntar på leverans."}, "Väntar på leverans.")
    session.expire_all()
    task = db.session.get(RemediationTask, task_id)
    assert task is not None
    assert (task.status, task.due_date != date(2031, 5, 17)) == (S.in_progress, True)


def test_a_failed_measurement_carries_its_value_unit_and_limit_into_the_task(
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    """UTE-01 (bushes at most 1 m) measured 1,4 m: the contractor sees how high they are and how low they must be."""
    inspection = start_inspection(
        session, people[Role.inspector], create_test_building(), InspectionKind.certification, checklist_version
    )
    walk(session, people[Role.inspector], inspection, failing=set())
    save_answer(session, people[Role.inspector], inspection, "UTE-01", AnswerInput(value="1,4", comment=FINDING))
    add_photo(session, people[Role.inspector], inspection, "UTE-01", demo_photo("UTE-01"))
    submit_inspection(session, people[Role.inspector], inspection)
    approve_inspection(session, people[Role.manager], inspection)
    task = tasks_of(session, inspection)["UTE-01"]
    assert (task.measured_value, task.measured_unit, task.required_min, task.required_max) == (
        Decimal("1.4"),
        "m",
        None,
        Decimal("1"),
    )
    assert tasks_of(session, inspection).get("UTE-02") is None
    task.assignee = people[Role.contractor]
    session.flush()
    shown = "1,4 m (krav: högst 1 m)"
    login(client, people[Role.contractor].email)
    assert shown in client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert shown in client.get("/tasks/").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/tasks/")})
    login(client, people[Role.manager].email)
    assert shown in client.get("/tasks/export.csv").get_data(as_text=True)
    pdf = client.get(f"/tasks/export/building/{task.building_id}.pdf").data
    assert shown in pdf_text(pdf)
