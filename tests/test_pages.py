"""Pages as people use them: buildings and areas (admins), the walk without script, review, and the CSRF page."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask
from flask.testing import FlaskClient
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.accounts.models import Role, User
from audit.buildings.features import Feature
from audit.buildings.models import Area, Building
from audit.inspections.models import Answer, Inspection, InspectionStatus
from tests.web_support import api_headers, csrf_token, login

VALID = {
    "name": "Ekbacken 4",
    "street_address": "Ekvägen 4",
    "postcode": "145 70",
    "city": "Norsborg",
    "area_id": "0",
    "year_built": "1968",
    "apartments": "24",
    "features": ["garage", "laundry_room"],
}


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def test_admin_creates_and_edits_a_building(
    client: FlaskClient, create_member: Callable[..., User], session: Session
) -> None:
    login(client, create_member(Role.admin).email)
    token = csrf_token(client, "/buildings/new")
    created = client.post("/buildings/new", data={**VALID, "csrf_token": token})
    assert created.status_code == 302
    building = session.scalar(select(Building).where(Building.name == "Ekbacken 4"))
    assert building.features == {Feature.garage, Feature.laundry_room}
    edit_url = f"/buildings/{building.id}/edit"
    form = client.get(edit_url).get_data(as_text=True)
    assert 'value="Ekvägen 4"' in form
    edited = client.post(edit_url, data={**VALID, "features": ["elevator"], "csrf_token": csrf_token(client, edit_url)})
    assert edited.status_code == 302
    session.expire_all()
    assert session.get(Building, building.id).features == {Feature.elevator}


def test_invalid_building_form_keeps_the_input_and_changes_nothing(
    client: FlaskClient, create_member: Callable[..., User], session: Session
) -> None:
    login(client, create_member(Role.admin).email)
    before = _count(session, Building)
    page = client.post(
        "/buildings/new",
        data={**VALID, "postcode": "1234", "year_built": "soon", "csrf_token": csrf_token(client, "/buildings/new")},
    )
    assert page.status_code == 422
    text = page.get_data(as_text=True)
    assert "123 45" in text  # the postcode hint, in Swedish by default
    assert 'value="Ekbacken 4"' in text
    assert _count(session, Building) == before


def test_duplicate_building_name_is_refused(
    client: FlaskClient, create_member: Callable[..., User], create_test_building: Callable[..., Building]
) -> None:
    existing = create_test_building(name="Samma namn")
    login(client, create_member(Role.admin).email)
    page = client.post(
        "/buildings/new", data={**VALID, "name": existing.name, "csrf_token": csrf_token(client, "/buildings/new")}
    )
    assert page.status_code == 409


def test_areas_are_created_once(client: FlaskClient, create_member: Callable[..., User], session: Session) -> None:
    login(client, create_member(Role.admin).email)
    assert (
        client.post(
            "/buildings/areas", data={"name": "Hallunda", "csrf_token": csrf_token(client, "/buildings/areas")}
        ).status_code
        == 302
    )
    again = client.post(
        "/buildings/areas", data={"name": "Hallunda", "csrf_token": csrf_token(client, "/buildings/areas")}
    )
    assert again.status_code == 422
    assert _count(session, Area) == 1


def test_building_list_is_searchable_and_grouped(
    client: FlaskClient, create_member: Callable[..., User], create_test_building: Callable[..., Building]
) -> None:
    create_test_building(name="Fittja Gård", street_address="Fittjavägen 1")
    create_test_building(name="Alby Park", street_address="Albyvägen 9")
    login(client, create_member(Role.viewer).email)
    page = client.get("/buildings/?q=albyv").get_data(as_text=True)
    assert "Alby Park" in page
    assert "Fittja Gård" not in page


def test_the_section_form_without_script_saves_answers(
    client: FlaskClient, create_inspection: Callable[..., Inspection], session: Session
) -> None:
    inspection = create_inspection()
    inspection_id, email = inspection.id, inspection.inspector.email
    item = next(
        i for s, i in inspection.checklist_version.checklist.items() if s.key == "ENT" and i.answer.type == "pass_fail"
    )
    login(client, email)
    url = f"/inspections/{inspection_id}/sections/ENT"
    response = client.post(
        url,
        data={
            f"result-{item.key}": "fail",
            f"comment-{item.key}": "Dörren går i baklås",
            "csrf_token": csrf_token(client, url),
        },
    )
    assert response.status_code == 302
    answer = session.scalar(select(Answer).where(Answer.inspection_id == inspection_id, Answer.item_key == item.key))
    assert (answer.result.value, answer.comment) == ("fail", "Dörren går i baklås")
    forged = client.post(url, data={f"result-{item.key}": "maybe", "csrf_token": csrf_token(client, url)})
    assert forged.status_code == 422  # the section again, with the reason and the forged field as it was sent
    assert "Okänt svar för" in forged.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(Answer.result).where(Answer.id == answer.id)).value == "fail"


def test_expired_form_gets_a_friendly_page(app: Flask, client: FlaskClient, create_member: Callable[..., User]) -> None:
    login(client, create_member(Role.admin).email)
    page = client.post("/buildings/areas", data={"name": "X", "csrf_token": "expired-or-forged"})
    assert page.status_code == 400
    text = page.get_data(as_text=True)
    assert '<html lang="sv">' in text
    assert "Traceback" not in text


def test_returning_needs_a_comment_for_the_inspector(
    client: FlaskClient,
    create_member: Callable[..., User],
    create_inspection: Callable[..., Inspection],
    session: Session,
) -> None:
    from audit.inspections.scoring import score

    inspection = create_inspection()
    inspection.submit(score(inspection.checklist_version.checklist, inspection.building.features, {}))
    session.flush()
    inspection_id = inspection.id
    login(client, create_member(Role.manager).email)
    show = f"/inspections/{inspection_id}"
    refused = client.post(f"{show}/return", data={"comment": "", "csrf_token": csrf_token(client, show)})
    assert refused.status_code == 422  # the result page again, with the reason
    assert "Skriv vad besiktningspersonen ska göra." in refused.get_data(as_text=True)
    assert session.get(Inspection, inspection_id).status is InspectionStatus.submitted
    client.post(f"{show}/return", data={"comment": "Foton saknas", "csrf_token": csrf_token(client, show)})
    session.expire_all()
    returned = session.get(Inspection, inspection_id)
    assert (returned.status, returned.review_comment) == (InspectionStatus.returned, "Foton saknas")


def test_search_treats_wildcards_as_text_and_folds_swedish_letters(
    client: FlaskClient, create_member: Callable[..., User], create_test_building: Callable[..., Building]
) -> None:
    create_test_building(name="Älvsjö Gård", street_address="Ängsvägen 2")
    create_test_building(name="Bredäng 100%", street_address="Ormvägen 1")
    login(client, create_member(Role.viewer).email)
    folded = client.get("/buildings/?q=älvsjö").get_data(as_text=True)
    assert "Älvsjö Gård" in folded
    wildcard = client.get("/buildings/?q=%25").get_data(as_text=True)
    assert "Bredäng 100%" in wildcard
    assert "Älvsjö Gård" not in wildcard


def test_language_switch_keeps_the_page_and_its_query(client: FlaskClient, create_member: Callable[..., User]) -> None:
    login(client, create_member(Role.viewer).email)
    page = client.get("/buildings/?q=alby").get_data(as_text=True)
    assert 'href="/buildings/?q=alby&amp;lang=en"' in page


def test_the_section_page_shows_each_language_and_answer_although_its_fixed_parts_are_kept(
    client: FlaskClient, create_inspection: Callable[..., Inspection]
) -> None:
    """Item texts, guidance, thresholds and the section menu are drawn once per language: each view still shows its
    own language, and the answer-dependent parts (checked buttons, revision, comment) follow every save."""
    inspection = create_inspection()
    inspection_id, email = inspection.id, inspection.inspector.email
    checklist = inspection.checklist_version.checklist
    section = next(s for s in checklist.sections if s.key == "ENT")
    item = next(i for i in section.items if i.answer.type == "pass_fail")
    login(client, email)
    url = f"/inspections/{inspection_id}/sections/ENT"
    pages = [client.get(f"{url}?lang={lang}").get_data(as_text=True) for lang in ("sv", "en", "sv")]
    for page, lang in zip(pages, ("sv", "en", "sv"), strict=True):
        assert escape(item.text.get(lang)) in page
        assert escape(item.guidance.get(lang)) in page
        assert f'data-title="{escape(section.title.get(lang))}"' in page
    assert escape(item.text.en) not in pages[0]
    assert escape(item.text.sv) not in pages[1]
    client.put(
        f"/api/v1/inspections/{inspection_id}/answers/{item.key}",
        json={"result": "fail", "comment": "Dörren går i baklås"},
        headers=api_headers(client),
    )
    page = client.get(url).get_data(as_text=True)
    assert f'id="item-{item.key}" data-item="{item.key}"' in page
    assert 'data-revision="1"' in page
    assert f'name="result-{item.key}" value="fail" checked' in page
    assert "Dörren går i baklås" in page
