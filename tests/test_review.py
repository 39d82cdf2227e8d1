"""The review flow and the words it uses: one name for each thing (review state, verdict, item result), the decision
on the result page, the inspection list's filters, drafts that are continued or discarded, and certificates that no
longer count saying so first."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.buildings.models import Area, Building
from audit.certificates.documents import issued_sign
from audit.certificates.services import issue_certificate, revoke_certificate
from audit.certificates.status import today_in_sweden
from audit.checklists.models import ChecklistVersion
from audit.demo import demo_photo
from audit.errors import ImmutableError, InvalidTransition
from audit.inspections.models import Inspection, InspectionKind, InspectionStatus
from audit.inspections.services import (
    AnswerInput,
    DraftExists,
    FinalInspection,
    approve_inspection,
    save_answer,
    score_inspection,
    start_inspection,
    submit_inspection,
)
from audit.photos.services import add_photo
from tests.pdf_support import pdf_text
from tests.remediation_support import FINDING, approved_inspection, tasks_of, walk
from tests.test_remediation import counted_statements
from tests.web_support import api_headers, csrf_token, login

#: A measurement (2.5 m of bushes, with a photo), a light level (18 lux, no photo needed) and a critical item.
FAILING = ("UTE-02", "BEL-09", "BEL-01")


@pytest.fixture
def people(create_member: Callable[..., User]) -> dict[Role, User]:
    return {role: create_member(role) for role in (Role.inspector, Role.manager, Role.admin, Role.viewer)}


def _submitted(
    session: Session, inspector: User, building: Building, version: ChecklistVersion, failing: tuple[str, ...]
) -> Inspection:
    inspection = start_inspection(session, inspector, building, InspectionKind.certification, version)
    walk(session, inspector, inspection, failing)
    add_photo(session, inspector, inspection, "BEL-09", demo_photo("BEL-09"))  # a photo although none is required
    submit_inspection(session, inspector, inspection)
    return inspection


def _text(html: str) -> str:
    """What a reader sees: the tags and attributes (class names such as "pass") left out."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


# --- one name for each thing --------------------------------------------------------------------------------------

#: Swedish words that name both a review state and a verdict or item result: none may be shown any more.
AMBIGUOUS_SV = re.compile(r"godkän|underkän|besiktningsman", re.IGNORECASE)
#: English: the review state is "Confirmed", the verdict "Passes"/"Does not pass", an item "Met"/"Not met".
AMBIGUOUS_EN = re.compile(r"\b(Approved|approved|Approve|Pass|Fail|Failed|failed)\b")


def test_no_page_or_export_uses_one_word_for_two_things(
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector, manager = people[Role.inspector], people[Role.manager]
    building = create_test_building()
    approved = approved_inspection(session, inspector, manager, building, checklist_version, FAILING)
    submitted = _submitted(session, inspector, create_test_building(), checklist_version, ("UTE-02",))
    task = tasks_of(session, approved)["UTE-02"]
    task.repeat_count = 1  # shows the "not met again" badge
    session.flush()
    for lang, ambiguous in (("sv", AMBIGUOUS_SV), ("en", AMBIGUOUS_EN)):  # the front page, before logging in
        assert not ambiguous.search(_text(client.get(f"/?lang={lang}").get_data(as_text=True)))
    login(client, manager.email)
    pages = (
        f"/inspections/{approved.id}/result",
        f"/inspections/{submitted.id}/result",
        f"/inspections/{approved.id}",
        "/inspections/",
        f"/buildings/{building.id}",
        "/buildings/",
        "/tasks/",
        f"/tasks/{task.id}",
        "/tasks/dashboard",
    )
    for lang, ambiguous in (("sv", AMBIGUOUS_SV), ("en", AMBIGUOUS_EN)):
        for path in pages:
            response = client.get(f"{path}?lang={lang}")
            assert response.status_code == 200, path
            shown = _text(response.get_data(as_text=True))
            assert not ambiguous.search(shown), (lang, path, ambiguous.search(shown))
        csv = client.get(f"/tasks/export.csv?lang={lang}").get_data(as_text=True)
        assert not ambiguous.search(csv), (lang, csv[:300])
        report = pdf_text(client.get(f"/inspections/{approved.id}/report.pdf?lang={lang}").data)
        assert not ambiguous.search(report), (lang, ambiguous.search(report))
    result = _text(client.get(f"/inspections/{approved.id}/result?lang=sv").get_data(as_text=True))
    assert "Fastställd" in result
    assert "Huset klarar inte kraven" in result
    english = _text(client.get(f"/inspections/{approved.id}/result?lang=en").get_data(as_text=True))
    assert "Confirmed" in english
    assert "The building does not pass" in english
    report = pdf_text(client.get(f"/inspections/{approved.id}/report.pdf?lang=sv").data)
    assert "Ej uppfyllt" in report
    assert "Uppfyllt" in report
    export = client.get("/tasks/export.csv?lang=sv").get_data(as_text=True)
    assert "Besiktningspersonens kommentar" in export
    assert "Ej uppfyllt igen" in export
    # The walk's answer buttons (the checklist's own guidance, authored in its YAML, is not the app's wording).
    walk_page = client.get(f"/inspections/{submitted.id}/sections/ENT?lang=sv").get_data(as_text=True)
    buttons = set(re.findall(r'name="result-[^"]+" value="(?:pass|fail)"[^>]*><span>([^<]+)</span>', walk_page))
    assert buttons == {"Uppfyllt", "Ej uppfyllt"}


# --- the result page: the decision beside the verdict and what was found ----------------------------------------


def test_the_reviewer_decides_on_the_result_page_beside_the_findings(
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector, manager = people[Role.inspector], people[Role.manager]
    inspection = _submitted(session, inspector, create_test_building(), checklist_version, FAILING)
    inspection_id = inspection.id
    photos = {photo.item_key: photo.id for photo in inspection.photos}
    url = f"/inspections/{inspection_id}/result"

    login(client, manager.email)
    page = client.get(f"{url}?lang=en").get_data(as_text=True)
    verdict, decision, findings = (page.index(mark) for mark in ("verdict-panel", 'id="review"', 'id="not-met"'))
    assert f'action="/inspections/{inspection_id}/approve"' in page[decision:]
    assert f'action="/inspections/{inspection_id}/return"' in page[decision:]
    assert verdict < findings
    found = page[findings:]
    assert "2.5 m" in found  # the measured value with its unit
    assert "18 lux" in found
    assert "Buskarna skymmer entrén." in found  # the inspector's comment (escaped, as text)
    for key in ("UTE-02", "BEL-09"):
        assert f"/inspections/{inspection_id}/photos/{photos[key]}/thumb" in found
    assert client.get(f"/inspections/{inspection_id}/photos/{photos['BEL-09']}/thumb").status_code == 200
    # The inspection's own page sends the reviewer to the result instead of deciding blind.
    show = client.get(f"/inspections/{inspection_id}").get_data(as_text=True)
    assert "/approve" not in show
    assert f"{url}#review" in show

    # A return whose comment is too long is refused with the reason, and the typed comment stays in its form.
    too_long = "Komplettera garaget. " * 300
    response = client.post(
        f"/inspections/{inspection_id}/return", data={"comment": too_long, "csrf_token": csrf_token(client, url)}
    )
    assert response.status_code == 422
    refused = response.get_data(as_text=True)
    assert f"{too_long}</textarea>" in refused[refused.index(f'action="/inspections/{inspection_id}/return"') :]
    assert "5000" in refused

    response = client.post(
        f"/inspections/{inspection_id}/approve", data={"comment": "", "csrf_token": csrf_token(client, url)}
    )
    assert response.headers["Location"] == url
    session.expire_all()
    tasks = tasks_of(session, session.get(Inspection, inspection_id))
    assert set(tasks) == set(FAILING)
    page = client.get(f"{url}?lang=en").get_data(as_text=True)
    assert 'id="review"' not in page
    no_certificate = page[page.index('id="no-certificate"') :]
    assert "The inspection does not pass the checklist, so no certificate can be issued." in no_certificate
    assert "3 remediation tasks" in no_certificate
    for task in tasks.values():
        assert f'href="/tasks/{task.id}"' in page
    swedish = client.get(f"{url}?lang=sv").get_data(as_text=True)
    assert "Inget certifikat" in swedish
    assert "Huset klarar inte kraven i checklistan, så inget certifikat kan utfärdas." in swedish


def test_only_another_reviewer_sees_the_decision(
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    reviewing_admin = create_member(Role.admin)
    inspection = _submitted(session, reviewing_admin, create_test_building(), checklist_version, ())
    url = f"/inspections/{inspection.id}/result"
    for user, decides in ((reviewing_admin, False), (people[Role.viewer], False), (people[Role.admin], True)):
        login(client, user.email)
        assert ('id="review"' in client.get(url).get_data(as_text=True)) is decides, user.email
        client.post("/logout", data={"csrf_token": csrf_token(client, "/buildings/")})


# --- the inspection list --------------------------------------------------------------------------------------------


def _rows(page: str) -> list[str]:
    body = page[page.index("<tbody>") : page.index("</tbody>")] if "<tbody>" in page else ""
    return re.findall(r"<tr>.*?</tr>", body, re.DOTALL)


def test_the_inspection_list_shows_score_and_verdict_and_filters(
    client: FlaskClient,
    session: Session,
    org: Organisation,
    people: dict[Role, User],
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector, manager = people[Role.inspector], people[Role.manager]
    other_inspector = create_member(Role.inspector)
    fittja = Area(organisation_id=org.id, name="Fittja")
    session.add(fittja)
    session.flush()
    north = create_test_building(name="Norra huset", area=fittja)
    south = create_test_building(name="Södra huset")
    passing = approved_inspection(session, inspector, manager, north, checklist_version, ())
    failing = _submitted(session, other_inspector, south, checklist_version, ("BEL-01",))
    draft = start_inspection(session, other_inspector, north, InspectionKind.spot_check, checklist_version)
    login(client, manager.email)

    def listed(query: str) -> set[int]:
        page = client.get(f"/inspections/{query}").get_data(as_text=True)
        return {int(ident) for ident in re.findall(r'href="/inspections/(\d+)', "".join(_rows(page)))}

    everything = client.get("/inspections/?lang=en").get_data(as_text=True)
    row = next(r for r in _rows(everything) if f"/inspections/{failing.id}/result" in r)
    assert "Does not pass" in row
    assert re.search(r"\d+\.\d\s?%", row)
    assert listed("") == {passing.id, failing.id, draft.id}
    assert listed("?status=approved") == {passing.id}
    assert listed("?status=draft") == {draft.id}
    assert listed("?verdict=passes") == {passing.id}
    assert listed("?verdict=fails") == {failing.id}
    assert listed(f"?area={fittja.id}") == {passing.id, draft.id}
    assert listed(f"?building={south.id}") == {failing.id}
    assert listed(f"?inspector={other_inspector.id}") == {failing.id, draft.id}
    assert listed(f"?inspector={other_inspector.id}&area={fittja.id}") == {draft.id}
    assert listed("?status=nonsense&verdict=maybe&area=x") == {passing.id, failing.id, draft.id}


def test_the_inspection_list_takes_a_fixed_number_of_statements(
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    login(client, people[Role.manager].email)

    def statements() -> int:
        with counted_statements(session) as seen:
            assert client.get("/inspections/?lang=en").status_code == 200
        return len(seen)

    start_inspection(
        session, people[Role.inspector], create_test_building(), InspectionKind.certification, checklist_version
    )
    few = statements()
    for _ in range(12):
        start_inspection(
            session,
            create_member(Role.inspector),
            create_test_building(),
            InspectionKind.certification,
            checklist_version,
        )
    assert statements() == few
    assert few <= 6  # the login, the rows (with building, area and inspector), areas, buildings, inspectors


# --- drafts: continue one, or discard it with a reason ------------------------------------------------------------


def test_starting_again_offers_the_draft_instead_of_a_second_one(
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector = people[Role.inspector]
    building = create_test_building()
    draft = start_inspection(session, inspector, building, InspectionKind.certification, checklist_version)
    building_id, draft_id = building.id, draft.id
    login(client, inspector.email)
    url = f"/inspections/start/{building_id}"
    page = client.get(f"{url}?lang=en").get_data(as_text=True)
    assert "Continue a draft" in page
    assert f'href="/inspections/{draft_id}"' in page
    form = {"kind": "certification", "checklist": "trygga-hus", "csrf_token": csrf_token(client, url)}
    again = client.post(url, data=form)
    assert again.status_code == 409
    assert "This building already has a draft of this kind" in again.get_data(as_text=True)

    def count() -> int:
        return session.scalar(select(func.count()).select_from(Inspection).where(Inspection.building_id == building_id))

    assert count() == 1
    assert client.post(url, data={**form, "kind": "spot_check"}).status_code == 302  # another kind is another walk
    assert count() == 2
    api = client.post(
        "/api/v1/inspections", json={"building_id": building_id, "kind": "certification"}, headers=api_headers(client)
    )
    assert api.status_code == 409
    assert (api.json["error"], api.json["draft"]) == ("draft_exists", draft_id)
    assert count() == 2


def test_a_discarded_draft_is_kept_with_who_when_and_why_but_leaves_the_lists(
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector = people[Role.inspector]
    building = create_test_building(name="Kasserade huset")
    draft = start_inspection(session, inspector, building, InspectionKind.certification, checklist_version)
    save_answer(session, inspector, draft, "ENT-01", AnswerInput(comment="Påbörjad av misstag"))
    draft_id, building_id = draft.id, building.id
    login(client, inspector.email)
    show = f"/inspections/{draft_id}"
    refused = client.post(f"{show}/discard", data={"reason": " ", "csrf_token": csrf_token(client, show)})
    assert refused.status_code == 302
    assert session.get(Inspection, draft_id).status is InspectionStatus.draft
    assert client.post(f"{show}/discard", data={"reason": "Fel hus"}).status_code == 400  # no CSRF token
    response = client.post(
        f"{show}/discard", data={"reason": "Startad två gånger", "csrf_token": csrf_token(client, show)}
    )
    assert response.headers["Location"] == f"/buildings/{building_id}"
    session.expire_all()
    discarded = session.get(Inspection, draft_id)
    assert discarded.status is InspectionStatus.discarded
    assert (discarded.discarded_by_id, discarded.discard_reason) == (inspector.id, "Startad två gånger")
    assert discarded.discarded_at is not None
    assert len(discarded.answers) == 1  # kept for the record
    assert f'href="/inspections/{draft_id}"' not in client.get(f"/buildings/{building_id}").get_data(as_text=True)
    assert f'/inspections/{draft_id}"' not in client.get("/inspections/").get_data(as_text=True)
    assert f'/inspections/{draft_id}"' in client.get("/inspections/?status=discarded").get_data(as_text=True)
    assert "Startad två gånger" in client.get(show).get_data(as_text=True)
    # Its answers can no longer change, through the API or the service; and a new draft may now be started.
    put = client.put(
        f"/api/v1/inspections/{draft_id}/answers/ENT-01", json={"result": "fail"}, headers=api_headers(client)
    )
    assert put.status_code == 409
    discarded, inspector = session.get(Inspection, draft_id), session.get(User, inspector.id)
    with pytest.raises(FinalInspection):
        save_answer(session, inspector, discarded, "ENT-01", AnswerInput(comment="Ändrad"))
    version = session.get(ChecklistVersion, checklist_version.id)
    start_inspection(session, inspector, session.get(Building, building_id), InspectionKind.certification, version)


def test_who_may_discard_a_draft(
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_member: Callable[..., User],
    create_org: Callable[..., Organisation],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    draft = start_inspection(
        session, people[Role.inspector], create_test_building(), InspectionKind.certification, checklist_version
    )
    show = f"/inspections/{draft.id}"
    outsider = create_member(Role.manager, organisation=create_org())
    for user, status in (
        (outsider, 404),
        (create_member(Role.inspector), 403),  # another inspector's draft
        (people[Role.viewer], 403),
        (people[Role.manager], 302),
    ):
        login(client, user.email)
        response = client.post(
            f"{show}/discard", data={"reason": "Dubblett", "csrf_token": csrf_token(client, "/buildings/")}
        )
        assert response.status_code == status, user.email
        client.post("/logout", data={"csrf_token": csrf_token(client, "/buildings/")})
    session.expire_all()
    assert session.get(Inspection, draft.id).discarded_by_id == people[Role.manager].id


def test_the_state_machine_and_the_database_refuse_invalid_discards(
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector = people[Role.inspector]
    submitted = _submitted(session, inspector, create_test_building(), checklist_version, ())
    with pytest.raises(InvalidTransition):
        submitted.discard(inspector, "För sent")
    draft = start_inspection(
        session, inspector, create_test_building(), InspectionKind.certification, checklist_version
    )
    with pytest.raises(ValueError, match="reason"):
        draft.discard(inspector, "  ")
    with pytest.raises(DraftExists):
        start_inspection(session, inspector, draft.building, InspectionKind.certification, checklist_version)
    draft.discard(inspector, "Dubblett")
    session.flush()
    draft.discard_reason = "Ändrat i efterhand"
    with pytest.raises(ImmutableError):
        session.flush()
    session.rollback()
    # Rows that no sequence of moves can produce: a discard without a reason, or discard facts on another status.
    draft = start_inspection(
        session, inspector, create_test_building(), InspectionKind.certification, checklist_version
    )
    for values in (
        {"status": "discarded"},
        {"discard_reason": "Utan status", "discarded_by_id": inspector.id, "discarded_at": func.now()},
    ):
        with pytest.raises(IntegrityError), session.begin_nested():
            session.execute(update(Inspection).where(Inspection.id == draft.id).values(**values))
    assert session.execute(text("SELECT status FROM inspections WHERE id = :id"), {"id": draft.id}).scalar() == "draft"


# --- certificates that no longer count ------------------------------------------------------------------------------

NOT_VALID_ANY_MORE = ("Giltigt till och med", "intygar", "Valid until", "certifies")


def test_the_check_page_states_a_certificate_that_no_longer_counts_first(
    app: Flask,
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector, manager = people[Role.inspector], people[Role.manager]
    building = create_test_building()
    first = issue_certificate(
        session, manager, approved_inspection(session, inspector, manager, building, checklist_version, ()), issued_sign
    )
    session.commit()

    def headline(lang: str, token: str) -> tuple[str, str]:
        page = client.get(f"/v/{token}?lang={lang}").get_data(as_text=True)
        return _text(page[page.index("<h1>") : page.index("</h1>")]).strip(), _text(page)

    for lang, valid in (("sv", "Certifikatet är giltigt."), ("en", "This certificate is valid.")):
        title, page = headline(lang, first.public_token)
        assert title == valid
        assert "Giltigt till och med" in page if lang == "sv" else "Valid until" in page

    app.config["TRYGGAHUS_FROZEN_DATE"] = (first.valid_until + timedelta(days=1)).isoformat()
    try:
        expired = {lang: headline(lang, first.public_token) for lang in ("sv", "en")}
    finally:
        del app.config["TRYGGAHUS_FROZEN_DATE"]
    assert expired["sv"][0].startswith("Certifikatet har gått ut: det gällde till och med")
    assert expired["en"][0].startswith("This certificate has expired: it was valid until")

    newer = issue_certificate(
        session, manager, approved_inspection(session, inspector, manager, building, checklist_version, ()), issued_sign
    )
    session.commit()
    superseded = {lang: headline(lang, first.public_token) for lang in ("sv", "en")}
    assert superseded["sv"][0].startswith("Certifikatet har ersatts av ett nyare, utfärdat den")
    assert superseded["en"][0].startswith("This certificate has been replaced by a newer one")

    revoke_certificate(session, people[Role.admin], newer, "Skylten sattes upp på fel hus.")
    session.commit()
    revoked = {lang: headline(lang, newer.public_token) for lang in ("sv", "en")}
    assert revoked["sv"][0].startswith("Certifikatet återkallades den")
    assert revoked["en"][0].startswith("This certificate was revoked on")

    for title, page in (*expired.values(), *superseded.values(), *revoked.values()):
        for phrase in NOT_VALID_ANY_MORE:
            assert phrase not in page, (title, phrase)


def test_the_dashboard_never_says_until_of_a_revoked_certificate(
    client: FlaskClient,
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector, manager = people[Role.inspector], people[Role.manager]
    soon = today_in_sweden() - timedelta(days=3 * 365 - 30)  # issued almost three years ago: expires within 90 days

    def certified(name: str, revoked: bool) -> None:
        building = create_test_building(name=name)
        inspection = start_inspection(session, inspector, building, InspectionKind.certification, checklist_version)
        walk(session, inspector, inspection, ())
        inspection.submit(score_inspection(inspection), at=datetime.combine(soon, time(12), UTC))
        approve_inspection(session, manager, inspection)
        certificate = issue_certificate(session, manager, inspection, issued_sign, today=soon)
        if revoked:
            revoke_certificate(session, people[Role.admin], certificate, "Fel hus")

    certified("Återkallade huset", revoked=True)
    certified("Giltiga huset", revoked=False)
    login(client, manager.email)
    for lang, revoked_words, until in (("sv", "återkallat den", "till och med"), ("en", "revoked on", "valid until")):
        page = client.get(f"/tasks/dashboard?lang={lang}").get_data(as_text=True)
        first_list = page.split("<section>")[1]  # the certificates that expire soon, then the buildings
        expiring = _text(first_list[: first_list.index("</section>")])
        assert "Giltiga huset" in expiring
        assert "Återkallade huset" not in expiring
        row = _text(next(r for r in re.findall(r"<tr>.*?</tr>", page, re.DOTALL) if "Återkallade huset" in r))
        assert revoked_words in row
        assert until not in row
        assert not re.search(r"\b(till|until)\b", row)
        valid_row = _text(next(r for r in re.findall(r"<tr>.*?</tr>", page, re.DOTALL) if "Giltiga huset</a>" in r))
        assert until in valid_row


def test_answers_of_a_discarded_draft_stay_as_they_were(
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    inspector = people[Role.inspector]
    draft = start_inspection(
        session, inspector, create_test_building(), InspectionKind.certification, checklist_version
    )
    save_answer(session, inspector, draft, "UTE-02", AnswerInput(value=Decimal("0.5"), comment=FINDING))
    draft.discard(inspector, "Dubblett")
    session.flush()
    answer = draft.answers[0]
    answer.comment = "Ändrad"
    with pytest.raises(ImmutableError):
        session.flush()
