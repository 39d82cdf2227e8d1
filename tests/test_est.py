"""EST groups through the app: who sees what (member, partner, outsider, sensitive categories), the weekly
situation picture's figures from the database, the meeting's PDF, sharing, measures and hot-spot analyses."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.auditlog.models import AuditEntry
from audit.buildings.models import Area
from audit.buildings.services import create_area
from audit.certificates.status import TIMEZONE
from audit.demo import demo_photo
from audit.deviations.est import services
from audit.deviations.est.models import EstGroup, EstMeasure, HotSpotAnalysis, MeasureStatus, PartyKind, PartyRole
from audit.deviations.est.weeks import parse_week
from audit.deviations.models import DeviationReport
from audit.deviations.services import ReportInput, report_deviation
from tests.pdf_support import pdf_text
from tests.web_support import csrf_token, login

WEEK = "2026-W49"  # Monday 30 November 2026


def at(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    """A moment in Swedish time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=TIMEZONE)


class World:
    """Landlords A (ours) and B, the police as partner, an outsider; one group covering Fittja."""

    def __init__(
        self,
        session: Session,
        create_org: Callable[..., Organisation],
        create_member: Callable[..., User],
        org: Organisation,
    ) -> None:
        self.session = session
        self.a, self.b = org, create_org("landlord-b", "Hyresbolaget B")
        self.police, self.outsider = create_org("polisen", "Polisen Botkyrka"), create_org("outsider", "Utomstående AB")
        self.city = create_org("kommunen", "Botkyrka kommun")
        self.users = {
            "a_manager": create_member(Role.manager, organisation=self.a, email="a-manager@test.example"),
            "a_admin": create_member(Role.admin, organisation=self.a, email="a-admin@test.example"),
            "a_inspector": create_member(Role.inspector, organisation=self.a, email="a-inspector@test.example"),
            "a_host": create_member(Role.contractor, organisation=self.a, email="a-host@test.example"),
            "b_admin": create_member(Role.admin, organisation=self.b, email="b-admin@test.example"),
            "b_host": create_member(Role.contractor, organisation=self.b, email="b-host@test.example"),
            "police_manager": create_member(Role.manager, organisation=self.police, email="p-manager@test.example"),
            "police_viewer": create_member(Role.viewer, organisation=self.police, email="p-viewer@test.example"),
            "city_manager": create_member(Role.manager, organisation=self.city, email="c-manager@test.example"),
            "outsider_admin": create_member(Role.admin, organisation=self.outsider, email="o-admin@test.example"),
        }
        for key, user in self.users.items():
            user.name = f"Namn {key}"
        self.group = services.create_group(session, self.users["a_admin"], self.a, "EST Fittja")
        services.add_party(session, None, self.group, self.b, PartyRole.member, PartyKind.landlord)
        self.police_party = services.add_party(
            session, None, self.group, self.police, PartyRole.partner, PartyKind.police
        )
        services.add_party(session, None, self.group, self.city, PartyRole.partner, PartyKind.municipality)
        self.fittja = services.add_group_area(session, None, self.group, "Fittja")
        self.area_a = create_area(session, self.a, "Fittja")
        self.area_b = create_area(session, self.b, "Fittja centrum")
        self.elsewhere = create_area(session, self.a, "Alby")
        self.outside_area = create_area(session, self.outsider, "Fittja")
        services.link_area(session, None, self.fittja, self.area_a)
        services.link_area(session, None, self.fittja, self.area_b)

    def report(self, who: str, area: Area, category: str, description: str, seen: datetime, **values: Any) -> int:
        user = self.users.get(who) or self.users["a_host"]
        organisation_id = area.organisation_id
        report = report_deviation(
            self.session,
            user,
            organisation_id,
            ReportInput(category=category, area_id=area.id, description=description, seen_at=seen, **values),
        )
        return report.id


@pytest.fixture
def world(
    session: Session, create_org: Callable[..., Organisation], create_member: Callable[..., User], org: Organisation
) -> World:
    return World(session, create_org, create_member, org)


def _as(app: Flask, email: str) -> Any:
    client = app.test_client()
    login(client, email)
    return client


def _outsider_report(world: World) -> int:
    user = world.users["outsider_admin"]
    data = ReportInput(category="graffiti", area_id=world.outside_area.id, description="UTANFÖR-O", seen_at=at(2, 12))
    return report_deviation(world.session, user, world.outsider.id, data).id


def test_group_access_matrix(app: Flask, world: World) -> None:
    """Every EST route as member, partner and outsider; then what each one's pages actually carry."""
    w = world
    a_open = w.report("a_host", w.area_a, "graffiti", "OPEN-A taggar", at(2, 10), place_name="Kyrkgatan 4")
    w.report("a_host", w.area_a, "drug_dealing", "HEMLIG-A", at(2, 11))
    b_open = w.report("b_host", w.area_b, "vandalism", "OPEN-B krossad ruta", at(2, 12), photo=demo_photo("B"))
    b_secret = w.report("b_host", w.area_b, "disturbance", "HEMLIG-B", at(2, 13))
    b_shared = w.report("b_host", w.area_b, "graffiti", "DELAD-B", at(2, 14))
    b_secret_shared = w.report("b_host", w.area_b, "youth_gathering", "DELADKÄNSLIG-B", at(2, 15))
    a_elsewhere = w.report("a_host", w.elsewhere, "graffiti", "ANNANSTANS-A", at(2, 16))
    foreign = _outsider_report(w)
    for report_id in (b_shared, b_secret_shared):
        services.share_report(w.session, w.users["b_admin"], w.session.get(DeviationReport, report_id), True)
    measure = (
        w.session.scalar(select(EstMeasure.id))
        or services.record_measure(
            w.session,
            w.users["a_manager"],
            w.group,
            parse_week(WEEK) or 0,
            services.MeasureInput(what="Väktare", party_id=w.police_party.id),
        ).id
    )
    place = w.session.get(DeviationReport, a_open).place_id  # type: ignore[union-attr]
    ids = {
        "group_id": w.group.id,
        "week": WEEK,
        "group_area_id": w.fittja.id,
        "measure_id": measure,
        "spot": f"place:{place}",
    }
    w.session.flush()
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        routes = [
            (rule, method)
            for rule in app.url_map.iter_rules()
            if rule.endpoint.startswith("est.")
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        ]
        assert len(routes) >= 12

        def url(rule: Any) -> str:
            return rule.build(ids, append_unknown=False)[1]  # type: ignore[no-any-return]

        expected_reading = {
            "a_manager": 200,
            "b_admin": 200,
            "police_manager": 200,
            "police_viewer": 200,
            "outsider_admin": 404,
        }
        for who, status in expected_reading.items():
            client = _as(app, f"{who.replace('_', '-').replace('police', 'p').replace('outsider', 'o')}@test.example")
            for rule, method in routes:
                got = client.open(url(rule), method=method).status_code
                if rule.endpoint in ("est.index", "est.create"):
                    continue
                if who == "outsider_admin":
                    assert got == 404, (who, rule.endpoint, method, got)  # nothing of the group exists for it
                elif method == "POST" and who.startswith("police"):
                    assert got == 403, (who, rule.endpoint, got)  # partners record nothing
                elif method == "GET" and not (rule.endpoint == "est.reports" and who == "police_viewer"):
                    assert got == status, (who, rule.endpoint, got)

        # A member's coordinator: every member's reports in the group's areas; another member's sensitive ones
        # only as category and place; no reporter, no photo of another organisation's report.
        page = _as(app, "a-manager@test.example").get(f"/est/{w.group.id}/reports").get_data(as_text=True)
        for shown in ("OPEN-A", "HEMLIG-A", "OPEN-B", "DELAD-B"):
            assert shown in page, shown
        for hidden in (
            "HEMLIG-B",
            "DELADKÄNSLIG-B",
            "ANNANSTANS-A",
            "UTANFÖR-O",
            "Namn b_host",
            "Namn a_host",
            "/photos/",
        ):
            assert hidden not in page, hidden
        for report_id in (b_secret, b_secret_shared, b_open):
            assert f'data-report="{report_id}"' in page
        assert f'data-report="{a_elsewhere}"' not in page
        assert f'data-report="{foreign}"' not in page
        client = _as(app, "a-manager@test.example")
        assert client.get(f"/deviations/{b_open}").status_code == 404  # another organisation's report page
        photo_id = w.session.get(DeviationReport, b_open).photos[0].id  # type: ignore[union-attr]
        assert client.get(f"/deviations/{b_open}/photos/{photo_id}").status_code == 404

        # The police: what a member shared, the sensitive one as category and place, and the tips (suspected drug
        # dealing) with their words; no people, no photos.
        page = _as(app, "p-manager@test.example").get(f"/est/{w.group.id}/reports").get_data(as_text=True)
        assert "DELAD-B" in page
        assert f'data-report="{b_secret_shared}"' in page
        assert "HEMLIG-A" in page  # a tip to the police
        assert page.count("data-tip") == 1
        for hidden in (
            "OPEN-A",
            "OPEN-B",
            "HEMLIG-B",
            "DELADKÄNSLIG-B",
            "Namn b_host",
            "Namn a_host",
            "/photos/",
        ):
            assert hidden not in page, hidden
        # Another partner (the municipality) gets what was shared, not the police's tips.
        page = _as(app, "c-manager@test.example").get(f"/est/{w.group.id}/reports").get_data(as_text=True)
        assert "DELAD-B" in page
        for hidden in ("HEMLIG-A", "OPEN-A", "OPEN-B", "HEMLIG-B", "DELADKÄNSLIG-B", "data-tip"):
            assert hidden not in page, hidden
        police = _as(app, "p-manager@test.example")
        for path in (f"/deviations/{b_shared}", f"/deviations/{a_open}", "/deviations/?status=new"):
            response = police.get(path)
            assert response.status_code in (200, 404)
            assert "DELAD-B" not in response.get_data(as_text=True)
            assert "OPEN-A" not in response.get_data(as_text=True)
        # The picture counts every member's reports, and names no person.
        picture = police.get(f"/est/{w.group.id}/weeks/{WEEK}").get_data(as_text=True)
        assert 'data-area-total="Fittja"' in picture
        assert "Kyrkgatan 4" in picture
        assert "Namn a_host" not in picture
        # The evaluation counts the six reports of week 49 in Fittja, sensitive ones too, and carries no words.
        evaluation = police.get(f"/est/{w.group.id}/areas/{w.fittja.id}/evaluation?until={WEEK}")
        row = re.search(r'data-week="2026-W49">.*?data-total>(\d+)<', evaluation.get_data(as_text=True))
        assert row is not None
        assert row.group(1) == "6"
        for hidden in ("OPEN-A", "HEMLIG-B", "DELAD-B", "Namn a_host", "Kyrkgatan 4"):
            assert hidden not in evaluation.get_data(as_text=True), hidden

        # Within a member, reports beyond one's own stay with the coordinators.
        assert _as(app, "a-inspector@test.example").get(f"/est/{w.group.id}/reports").status_code == 403
        # Only a coordinator of the reporting organisation shares a report.
        assert (
            _as(app, "a-host@test.example").post(f"/deviations/{a_open}/share", data={"shared": "1"}).status_code == 403
        )
        assert (
            _as(app, "a-manager@test.example").post(f"/deviations/{b_open}/share", data={"shared": "1"}).status_code
            == 404
        )
    finally:
        app.config["WTF_CSRF_ENABLED"] = True


def test_the_situation_picture_from_the_database(world: World) -> None:
    w = world
    for day in (30, 2):  # two graffiti reports in week 49 (30 Nov, 2 Dec)
        w.report(
            "a_host",
            w.area_a,
            "graffiti",
            "Taggar",
            at(day, 10, month=11 if day == 30 else 12),
            place_name="Kyrkgatan 4",
        )
    w.report("a_host", w.area_a, "graffiti", "Taggar", at(24, 10, month=11), place_name="Kyrkgatan 4")  # week 48
    w.report("a_host", w.area_a, "graffiti", "Taggar", at(17, 10, month=11), place_name="Kyrkgatan 4")  # week 47
    for _ in range(2):
        w.report("a_host", w.area_a, "graffiti", "Taggar", at(10, 10, month=11))  # week 46
    w.report("b_host", w.area_b, "vandalism", "Ruta", at(3, 9))  # week 49, the other member
    w.report("a_host", w.area_a, "break_in", "Sent söndag", at(6, 23, 30))  # Sunday 23:30: still week 49
    w.report("a_host", w.area_a, "break_in", "Natt till måndag", at(7, 0, 30))  # Monday 00:30: week 50
    w.report("a_host", w.elsewhere, "graffiti", "Alby", at(2, 10))  # not an area of the group
    _outsider_report(w)  # not a member
    picture = services.situation(w.session, w.group, parse_week(WEEK) or 0)
    lines = {(line.area, line.category): (line.count, line.average, line.change) for line in picture.lines}
    assert lines == {
        ("Fittja", "break_in"): (1, 0.0, 1.0),
        ("Fittja", "graffiti"): (2, 1.0, 1.0),  # weeks 48, 47, 46, 45: 1 + 1 + 2 + 0 = 4, average 1
        ("Fittja", "vandalism"): (1, 0.0, 1.0),
    }
    assert [(t.area, t.count, t.average) for t in picture.totals] == [("Fittja", 4, 1.0)]
    assert [(p.label, p.count) for p in picture.places] == [("Kyrkgatan 4", 2)]
    assert [(h.label, h.state, h.weeks_with_reports) for h in picture.hot_spots] == [("Kyrkgatan 4", "new", 3)]


def test_meeting_decisions_carry_to_the_next_week_and_the_pdf_reads_back(app: Flask, world: World) -> None:
    w = world
    for month, day in ((11, 17), (11, 24), (12, 2)):
        w.report("a_host", w.area_a, "youth_gathering", "Grupp", at(day, 21, month=month), place_name="Parkeringen")
    w.session.flush()
    app.config["WTF_CSRF_ENABLED"] = False
    try:
        manager = _as(app, "a-manager@test.example")
        response = manager.post(
            f"/est/{w.group.id}/weeks/2026-W48/measures",
            data={
                "place": "Parkeringen",
                "what": "Nattvandrare fredag och lördag",
                "party_id": w.police_party.id,
                "responsible": "Kommunpolis",
                "follow_up_on": "2026-12-07",
            },
        )
        assert response.status_code == 303
        measure = w.session.scalar(select(EstMeasure).where(EstMeasure.group_id == w.group.id))
        assert measure is not None
        assert measure.week == "2026-W48"
        assert (
            manager.post(f"/est/{w.group.id}/measures/{measure.id}/status", data={"status": "under_way"}).status_code
            == 303
        )
        w.session.refresh(measure)
        assert measure.status is MeasureStatus.under_way
        page = manager.get(f"/est/{w.group.id}/weeks/{WEEK}").get_data(as_text=True)
        assert "Nattvandrare fredag och lördag" in page
        assert 'data-state="new"' in page
        # The police may read but not record.
        police = _as(app, "p-viewer@test.example")
        assert police.post(f"/est/{w.group.id}/weeks/{WEEK}/measures", data={"what": "x"}).status_code == 403
        sv = " ".join(pdf_text(manager.get(f"/est/{w.group.id}/weeks/{WEEK}.pdf").data).split())
        en = " ".join(pdf_text(manager.get(f"/est/{w.group.id}/weeks/{WEEK}.pdf?lang=en").data).split())
    finally:
        app.config["WTF_CSRF_ENABLED"] = True
    for text in (sv, en):
        assert "EST Fittja" in text
        assert "2026-W49" in text
        assert "Parkeringen" in text
        assert "Nattvandrare" in text
        assert "Kommunpolis" in text
    assert "Lägesbild" in sv
    assert "Brännpunkter" in sv
    assert "Pågår" in sv
    assert "Situation picture" in en
    assert "Hot spots" in en
    assert "Under way" in en
    entries = {e.action for e in w.session.scalars(select(AuditEntry))}
    assert {"est_group.created", "est_group.changed", "est_measure.recorded", "est_measure.status_changed"} <= entries


def test_setting_up_a_group_on_its_pages(app: Flask, world: World) -> None:
    w = world
    admin = _as(app, "b-admin@test.example")
    token = csrf_token(admin, "/est/")
    response = admin.post("/est/", data={"name": "EST Alby", "csrf_token": token})
    assert response.status_code == 303
    group_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    for path, data in (
        ("parties", {"organisation": "polisen", "role": "partner", "kind": "police"}),
        ("areas", {"name": "Alby"}),
        ("rule", {"hot_n": 2, "hot_m": 3}),
    ):
        assert admin.post(f"/est/{group_id}/{path}", data={**data, "csrf_token": token}).status_code == 303, path
    page = admin.get(f"/est/{group_id}/").get_data(as_text=True)
    assert "Polisen Botkyrka" in page
    group_area = services.standing(w.session, group_id, w.b.id).group.areas[0]  # type: ignore[union-attr]
    link = f"/est/{group_id}/areas/{group_area.id}/links"
    assert admin.post(link, data={"area_id": w.area_b.id, "csrf_token": token}).status_code == 303
    # Another organisation's area is never counted by this one.
    assert admin.post(link, data={"area_id": w.area_a.id, "csrf_token": token}).status_code == 422
    # Members are landlords; a police member is refused.
    refused = admin.post(
        f"/est/{group_id}/parties",
        data={"organisation": "outsider", "role": "member", "kind": "police", "csrf_token": token},
    )
    assert refused.status_code == 422
    # A member's manager may not change the group; the police's manager sees it but changes nothing.
    assert _as(app, "p-manager@test.example").get(f"/est/{group_id}/").status_code == 200
    assert _as(app, "a-manager@test.example").get(f"/est/{group_id}/").status_code == 404  # A is not in EST Alby


def test_a_hot_spot_analysis(app: Flask, world: World) -> None:
    w = world
    report_id = w.report("a_host", w.area_a, "broken_lighting", "Mörkt", at(2, 19), place_name="Gångtunneln")
    place_id = w.session.get(DeviationReport, report_id).place_id  # type: ignore[union-attr]
    manager = _as(app, "a-manager@test.example")
    token = csrf_token(manager, "/est/")
    spot = f"/est/{w.group.id}/spots/place:{place_id}"
    response = manager.post(
        spot,
        data={"causes": ["poor_lighting", "hidden_corners", "bogus"], "notes": "Buskage skymmer", "csrf_token": token},
    )
    assert response.status_code == 303
    analysis = w.session.scalar(select(HotSpotAnalysis))
    assert analysis is not None
    assert analysis.causes == ["poor_lighting", "hidden_corners"]
    assert (
        manager.post(
            f"{spot}/measures", data={"what": "Ny belysning", "party_id": w.group.parties[0].id, "csrf_token": token}
        ).status_code
        == 303
    )
    page = _as(app, "p-viewer@test.example").get(spot).get_data(as_text=True)
    assert "Ny belysning" in page
    assert "Buskage skymmer" in page
    # A place outside the group's areas is no spot of it.
    other = w.report("a_host", w.elsewhere, "graffiti", "Alby", at(2, 10), place_name="Torget")
    other_place = w.session.get(DeviationReport, other).place_id  # type: ignore[union-attr]
    assert manager.get(f"/est/{w.group.id}/spots/place:{other_place}").status_code == 404


def test_setting_up_a_group_on_the_command_line(runner: Any, world: World, session: Session) -> None:
    assert runner.invoke(args=["est", "create", "--name", "EST Norsborg", "--member", "landlord-b"]).exit_code == 0
    added = runner.invoke(
        args=["est", "add", "--group", "EST Norsborg", "--org", "polisen", "--role", "partner", "--kind", "police"]
    )
    assert added.exit_code == 0, added.output
    area = runner.invoke(
        args=[
            "est",
            "area",
            "--group",
            "EST Norsborg",
            "--name",
            "Fittja",
            "--org",
            "landlord-b",
            "--area",
            "Fittja centrum",
        ]
    )
    assert area.exit_code == 0, area.output
    made = session.scalar(select(EstGroup).where(EstGroup.name == "EST Norsborg"))
    assert made is not None
    assert sorted(p.organisation.slug for p in made.parties) == ["landlord-b", "polisen"]
    assert [link.area_id for link in made.areas[0].links] == [world.area_b.id]
    refused = runner.invoke(args=["est", "area", "--group", "EST Norsborg", "--name", "Fittja", "--org", "test"])
    assert refused.exit_code != 0
    assert "Only a member's own areas can be counted in the group." in refused.output
