"""The one PDF function: lazy WeasyPrint, resources only from the app itself, shipped fonts; the audit report."""

from __future__ import annotations

import gc
import multiprocessing
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

import audit.pdf
from audit.accounts.models import Role, User
from audit.bounded import BoundedRunner, HelperDied, TooSlow
from audit.buildings.features import Feature
from audit.buildings.models import Building
from audit.certificates.documents import SignFacts, render_sign
from audit.certificates.report import answer_value, build_report, render_report
from audit.checklists.models import ChecklistVersion
from audit.demo import demo_photo
from audit.inspections.models import AnswerResult, Inspection, InspectionKind
from audit.inspections.services import AnswerInput, save_answer, start_inspection, submit_inspection
from audit.inspections.walk import build_walk
from audit.pdf import PDF_ORIGIN, STATIC_ROOT, RefusedResource, make_url_fetcher, read_resource
from audit.storage.local import LocalStore
from tests.pdf_support import pdf_fonts, pdf_image_count, pdf_text
from tests.remediation_support import FINDING, approved_inspection, walk
from tests.web_support import login


def test_the_app_starts_without_weasyprint() -> None:
    """WeasyPrint and boto3 each take almost half a second to import: the app imports them only when it needs them."""
    code = (
        "import sys, audit; from audit.settings import Settings; from pathlib import Path; import tempfile;"
        "audit.create_app(Settings(instance_path=Path(tempfile.mkdtemp()), secret_key='x' * 40));"
        "print(sorted(m for m in ('weasyprint', 'zxingcpp', 'boto3', 'botocore') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_resources_come_only_from_static_files_and_photos(tmp_path: Path) -> None:
    photos = LocalStore(tmp_path / "photos")
    relative = photos.save(b"not really a jpeg")
    (tmp_path / "secret.txt").write_text("secret")
    font = (STATIC_ROOT / "fonts" / "Inter-Regular.ttf").read_bytes()
    assert read_resource(f"{PDF_ORIGIN}static/fonts/Inter-Regular.ttf", STATIC_ROOT, photos) == font
    assert read_resource(f"{PDF_ORIGIN}photos/{relative}", STATIC_ROOT, photos) == b"not really a jpeg"
    refused = [
        "file:///etc/passwd",
        f"file://{tmp_path / 'secret.txt'}",
        "https://example.org/logo.png",
        "http://127.0.0.1:5000/static/css/app.css",
        f"{PDF_ORIGIN}static/../../pyproject.toml",
        f"{PDF_ORIGIN}static/%2e%2e/%2e%2e/pyproject.toml",
        f"{PDF_ORIGIN}photos/../secret.txt",
        f"{PDF_ORIGIN}instance/secret_key",
        f"{PDF_ORIGIN}static/fonts/missing.ttf",
        f"{PDF_ORIGIN}photos/00/00/{'0' * 32}.jpg",
    ]
    for url in refused:
        with pytest.raises(RefusedResource):
            read_resource(url, STATIC_ROOT, photos)
    with pytest.raises(RefusedResource):  # a fetcher made without the photo store serves no photo
        read_resource(f"{PDF_ORIGIN}photos/{relative}", STATIC_ROOT, None)


def test_a_document_cannot_reach_local_files_or_other_hosts(tmp_path: Path) -> None:
    """Rendered for real: the refused images are never opened, the app's own font is embedded."""
    import weasyprint

    (tmp_path / "secret.png").write_bytes(demo_photo("secret"))
    fetcher = make_url_fetcher(STATIC_ROOT, LocalStore(tmp_path / "photos"))
    html = f"""<style>@font-face {{ font-family: Inter; src: url("static/fonts/Inter-Regular.ttf"); }}
        body {{ font-family: Inter; }}</style>
        <p>Hej</p><img src="file://{tmp_path / "secret.png"}"><img src="https://example.org/x.png">
        <img src="static/../../secret.png">"""
    pdf = weasyprint.HTML(string=html, base_url=PDF_ORIGIN, url_fetcher=fetcher).write_pdf()
    assert list(fetcher.refused) == [
        f"file://{tmp_path / 'secret.png'}",
        "https://example.org/x.png",
        f"{PDF_ORIGIN}secret.png",
    ]
    assert pdf_image_count(pdf, tmp_path) == 0
    assert "Inter" in pdf_fonts(pdf, tmp_path)


@pytest.fixture
def submitted_with_photos(
    session: Session,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> Inspection:
    """A submitted certification inspection with a failed critical item (and its photos) and a failed measurement."""
    inspector = create_member(Role.inspector)
    inspection = start_inspection(
        session, inspector, create_test_building(name="Rapporthuset"), InspectionKind.certification, checklist_version
    )
    walk(session, inspector, inspection, failing=("BEL-01", "UTE-01"))
    submit_inspection(session, inspector, inspection)
    return inspection


def test_the_report_lists_every_answered_item_with_photos_and_reasons(
    app: Flask,
    client: FlaskClient,
    session: Session,
    submitted_with_photos: Inspection,
    create_member: Callable[..., User],
    tmp_path: Path,
) -> None:
    inspection = submitted_with_photos
    viewer = create_member(Role.viewer)
    session.commit()
    login(client, viewer.email)
    response = client.get(f"/inspections/{inspection.id}/report.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = pdf_text(response.data)
    compact = " ".join(text.split())
    answered = [answer.item_key for answer in inspection.answers if answer.result is not None]
    assert len(answered) > 80
    missing = [key for key in answered if key not in text]
    assert missing == []
    checklist = inspection.checklist_version.checklist
    values = {answer_value(a.item_key, a, "sv", checklist) for a in inspection.answers} - {""}
    assert len(values) > 10  # measurements ("1.8 m"), steps on a scale and chosen options
    assert [value for value in values if " ".join(value.split()) not in compact] == []
    assert " ".join(FINDING.split()) in compact  # the failed items' comments
    assert "Besiktningsrapport" in text
    assert "Rapporthuset" in text
    assert inspection.inspector.name in text
    assert "trygga-hus" in text  # checklist key and version in the footer
    assert "Huset klarar inte kraven i Trygga hus checklista." in compact  # the verdict
    assert "Den kritiska kontrollpunkten BEL-01 är inte uppfylld" in compact  # the reason from the ScoreCard
    assert "Kritisk" in text  # the critical item is marked
    assert "Sida 1 / " in text  # running footer in the page margin
    photos = sum(1 for photo in inspection.photos)
    assert photos >= 1
    assert pdf_image_count(response.data, tmp_path) == photos  # thumbnails, served through the fetcher
    assert "Inter" in pdf_fonts(response.data, tmp_path)


def test_a_draft_has_no_report(
    client: FlaskClient,
    session: Session,
    create_inspection: Callable[..., Inspection],
    create_member: Callable[..., User],
) -> None:
    inspection = create_inspection()
    manager = create_member(Role.manager)
    session.commit()
    login(client, manager.email)
    response = client.get(f"/inspections/{inspection.id}/report.pdf")
    assert response.status_code == 303


def test_the_report_counts_answered_items_as_the_walk_does(
    app: Flask,
    session: Session,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    """An answered item is an applicable, scored item with a judgement (N/A included). The text item is an optional
    note: the walk does not count it, and neither does the report's cover."""
    inspector = create_member(Role.inspector)
    building = create_test_building(features=set(Feature) - {Feature.garage, Feature.laundry_room})
    inspection = start_inspection(session, inspector, building, InspectionKind.certification, checklist_version)
    walk(session, inspector, inspection, failing=())
    save_answer(session, inspector, inspection, "TRP-01", AnswerInput(result=AnswerResult.not_applicable))
    submit_inspection(session, inspector, inspection)
    answers = {answer.item_key: answer for answer in inspection.answers}
    assert answers["DIA-07"].text  # the note is written
    walked = build_walk(inspection, with_photos=False)
    assert 0 < walked.answered == walked.total < len(answers)
    with app.app_context():
        report = build_report(inspection, "sv")
        text = " ".join(pdf_text(render_report(inspection, "sv")).split())
    assert report.answered_items == walked.answered
    assert report.items_to_answer == walked.total
    # "Besvarade kontrollpunkter" wraps beside its figures in pdftotext's layout
    assert re.search(rf"Besvarade (kontrollpunkter )?{walked.answered} / {walked.total} ", text)


def test_a_follow_ups_report_scores_and_counts_what_the_follow_up_covers(
    app: Flask,
    session: Session,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    """A follow-up is walked and scored on its carried-over items only; its report shows the same items, count and
    verdict, not the whole checklist's items as unanswered."""
    inspector, manager = create_member(Role.inspector), create_member(Role.manager)
    building = create_test_building()
    approved_inspection(session, inspector, manager, building, checklist_version, failing=("UTE-02",))
    follow = start_inspection(session, inspector, building, InspectionKind.follow_up, checklist_version)
    walked = build_walk(follow, with_photos=False)
    walk(session, inspector, follow, failing=(), only={state.item.key for s in walked.sections for state in s.items})
    card = submit_inspection(session, inspector, follow)
    walked = build_walk(follow, with_photos=False)
    assert card.passed
    assert follow.score_passed
    with app.app_context():
        report = build_report(follow, "sv")
    assert report.card.passed
    assert [item.key for s in report.sections for item in s.items] == [
        state.item.key for s in walked.sections for state in s.items
    ]
    assert report.answered_items == walked.answered
    assert report.items_to_answer == walked.total


def test_other_threads_keep_the_garbage_collector_while_pdfs_render(app: Flask) -> None:
    """Making a PDF switches nothing process-wide: a request that another thread serves meanwhile still has Python's
    cyclic garbage collector."""
    facts = SignFacts(
        number="TH-2026-000123",
        street_address="Fittjavägen 12 B",
        postcode="145 51",
        city="Norsborg",
        organisation_name="Testbostäder AB",
        issued_on=date(2026, 11, 23),
        valid_until=date(2029, 11, 22),
        verification_url="https://trygga-hus.example.se/v/abc",
    )
    made: list[bytes] = []

    def render() -> None:
        with app.app_context():
            made.extend(render_sign(facts) for _ in range(5))

    thread = threading.Thread(target=render)
    seen = set()
    thread.start()
    while thread.is_alive():
        seen.add(gc.isenabled())
    thread.join()
    assert len(made) == 5
    assert seen == {True}


def _limit_pdf_time(app: Flask, monkeypatch: pytest.MonkeyPatch, milliseconds: int) -> None:
    monkeypatch.setitem(app.config, "TRYGGAHUS", replace(app.config["TRYGGAHUS"], pdf_timeout_ms=milliseconds))


def test_a_report_that_cannot_be_made_in_time_is_stopped_with_a_clear_message(
    app: Flask,
    client: FlaskClient,
    session: Session,
    submitted_with_photos: Inspection,
    create_member: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A request's PDF is laid out in a helper process: past the limit the helper is killed, the user is told why
    on the inspection's page, and the next report is made by a fresh helper."""
    inspection = submitted_with_photos
    manager = create_member(Role.manager)
    session.commit()
    login(client, manager.email)
    assert client.get(f"/inspections/{inspection.id}/report.pdf").status_code == 200  # the helper is up and warm
    helpers_before = {child.pid for child in multiprocessing.active_children()}
    assert helpers_before

    _limit_pdf_time(app, monkeypatch, 100)  # the report of a whole walk with photos takes several times that
    response = client.get(f"/inspections/{inspection.id}/report.pdf?lang=en")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/inspections/{inspection.id}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Making the PDF took longer than 0.1 seconds and was stopped" in page
    assert not helpers_before & {child.pid for child in multiprocessing.active_children()}  # the helper was killed

    _limit_pdf_time(app, monkeypatch, 20_000)
    again = client.get(f"/inspections/{inspection.id}/report.pdf?lang=sv")
    assert again.status_code == 200
    assert "Besiktningsrapport" in pdf_text(again.data)


def test_a_task_list_pdf_that_cannot_be_made_in_time_says_so_in_swedish_and_is_not_recorded_as_exported(
    app: Flask,
    client: FlaskClient,
    session: Session,
    create_member: Callable[..., User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    from audit.auditlog.models import AuditEntry

    inspector, manager = create_member(Role.inspector), create_member(Role.manager)
    building = create_test_building()
    inspection = approved_inspection(session, inspector, manager, building, checklist_version, ("BEL-01", "UTE-01"))
    session.commit()
    login(client, manager.email)
    exports_before = session.query(AuditEntry).filter(AuditEntry.action == "task_list.exported").count()
    # A helper of its own, cold: its first document imports WeasyPrint and loads the fonts, far over 100 ms.
    cold = BoundedRunner()
    request.addfinalizer(cold.stop)
    monkeypatch.setattr(audit.pdf, "_renderer", cold)
    _limit_pdf_time(app, monkeypatch, 100)
    response = client.get(f"/tasks/export/building/{inspection.building_id}.pdf?lang=sv")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/tasks/")
    page = client.get("/tasks/").get_data(as_text=True)
    assert "Det tog längre än 0,1 sekunder att göra PDF-filen" in page
    session.expire_all()
    assert session.query(AuditEntry).filter(AuditEntry.action == "task_list.exported").count() == exports_before


@pytest.mark.parametrize("milliseconds", ["0", "99", "25001", "soon"])
def test_the_pdf_time_limit_must_fit_under_the_servers_timeout(milliseconds: str) -> None:
    from audit.settings import Settings, SettingsError

    with pytest.raises(SettingsError, match="PDF_TIMEOUT_MS"):
        Settings.from_env({"TRYGGAHUS_PDF_TIMEOUT_MS": milliseconds})


def test_a_helper_that_overruns_is_killed_and_one_that_dies_is_reported() -> None:
    others = {child.pid for child in multiprocessing.active_children()}  # e.g. the app's own PDF helper
    runner = BoundedRunner()
    try:
        assert runner.run(max, 3, 7, timeout=30) == 7  # started, and answering
        first = {child.pid for child in multiprocessing.active_children()} - others
        assert first
        with pytest.raises(TooSlow, match=r"0\.2 seconds"):
            runner.run(time.sleep, 60, timeout=0.2)
        assert not first & {child.pid for child in multiprocessing.active_children()}
        with pytest.raises(HelperDied):
            runner.run(os.abort, timeout=30)
        assert runner.run(max, 1, 2, timeout=30) == 2  # a fresh helper took the dead one's place
        with pytest.raises(ZeroDivisionError):  # the work's own errors reach the caller as they are
            runner.run(divmod, 1, 0, timeout=30)
    finally:
        runner.stop()
