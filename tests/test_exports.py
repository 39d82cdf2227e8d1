"""Exports of task lists: CSV and XLSX of any filtered list read back, formula injection neutralised, and the PDFs
per building and per assignee read back with pdftotext."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from openpyxl import load_workbook

from audit.accounts.models import Role, User
from audit.checklists.schema import Severity
from audit.remediation.export import CSV_DELIMITER, neutralise, to_csv, to_xlsx
from audit.remediation.models import RemediationTask
from audit.remediation.presentation import COLUMNS
from audit.remediation.services import today
from tests.web_support import login

ENGLISH_COLUMNS = [
    "Task", "Area", "Building", "Address", "Section", "Item", "Checklist point", "Measured", "Severity", "Status",
    "Overdue", "Assignee", "Due date", "Created", "Inspector's comment", "What was done", "Not met again",
]  # fmt: skip
EVIL = ["=1+2", "+SUM(A1)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("http://example.invalid")']


@pytest.mark.parametrize("value", EVIL)
def test_cells_that_a_spreadsheet_would_run_are_neutralised(value: str) -> None:
    assert neutralise(value) == "'" + value


@pytest.mark.parametrize("value", ["Buskar 1 m", "", "a=b", "Åtgärd: 3-5 dagar", "'quoted", " =space first"])
def test_other_text_is_left_alone(value: str) -> None:
    assert neutralise(value) == value


@pytest.mark.parametrize("value", [-3, 2.5, 0, None, date(2026, 1, 2)])
def test_numbers_and_dates_are_never_touched(value: object) -> None:
    assert neutralise(value) == value  # type: ignore[arg-type]


def test_csv_and_xlsx_keep_text_as_text() -> None:
    header, rows = ["A", "=B"], [[1, "=cmd|' /C calc'!A0"], [-4, "@SUM(1)"], [date(2026, 5, 1), "ok"]]
    parsed = list(csv.reader(io.StringIO(to_csv(header, rows).decode("utf-8-sig")), delimiter=CSV_DELIMITER))
    assert parsed == [["A", "'=B"], ["1", "'=cmd|' /C calc'!A0"], ["-4", "'@SUM(1)"], ["2026-05-01", "ok"]]
    sheet = load_workbook(io.BytesIO(to_xlsx("T", header, rows))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    # XLSX has cell types: the text as written, stored as a string with the quote prefix style (no apostrophe).
    assert values[0] == ["A", "=B"]
    assert values[1] == [1, "=cmd|' /C calc'!A0"]
    assert values[2] == [-4, "@SUM(1)"]
    assert values[3][0].date() == date(2026, 5, 1)
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert [cell.coordinate for row in sheet.iter_rows() for cell in row if cell.quotePrefix] == ["B1", "B2", "B3"]


@pytest.fixture
def listed(create_task: Callable[..., RemediationTask], create_member: Callable[..., User]) -> dict[str, object]:
    create_member(Role.manager, email="export@example.org")
    fixer = create_member(Role.contractor)
    fixer.name = "Bygg & Lås AB"
    late = create_task(
        item_key="ENT-01",
        severity=Severity.critical,
        due_date=today() - timedelta(days=2),
        assignee=fixer,
        finding='=HYPERLINK("http://example.invalid","klicka")',
    )
    other = create_task(item_key="UTE-02", due_date=today() + timedelta(days=20))
    return {"late": late.id, "other": other.id, "building": late.building_id, "fixer": fixer.id, "name": fixer.name}


def test_the_csv_export_holds_the_filtered_list_with_every_column(client: FlaskClient, listed: dict) -> None:
    login(client, "export@example.org")
    response = client.get("/tasks/export.csv?overdue=1&lang=en")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=CSV_DELIMITER))
    header, body = rows[0], rows[1:]
    assert header == ENGLISH_COLUMNS
    assert len(header) == len(COLUMNS)
    assert len(body) == 1
    row = dict(zip(header, body[0], strict=True))
    assert row["Task"] == str(listed["late"])
    assert row["Item"] == "ENT-01"
    assert row["Severity"] == "Critical"
    assert row["Status"] == "Open"
    assert row["Overdue"] == "Yes"
    assert row["Assignee"] == listed["name"]
    assert row["Due date"] == (today() - timedelta(days=2)).isoformat()
    assert row["Inspector's comment"].startswith("'=HYPERLINK")
    # The on-screen list's column titles are all in the export.
    page = client.get("/tasks/?lang=en").get_data(as_text=True)
    for title in ("Building", "Item", "Severity", "Status", "Assignee", "Due date"):
        assert f">{title}" in page
        assert title in header


def test_the_xlsx_export_reads_back_in_swedish(client: FlaskClient, listed: dict) -> None:
    login(client, "export@example.org")
    response = client.get(f"/tasks/export.xlsx?building={listed['building']}")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    header = rows[0]
    assert len(rows) == 2
    assert header[0] != "Task"
    record = dict(zip(header, rows[1], strict=True))
    assert record[header[0]] == listed["late"]
    assert record[header[5]] == "ENT-01"
    comment = sheet.cell(row=2, column=ENGLISH_COLUMNS.index("Inspector's comment") + 1)
    assert comment.value == '=HYPERLINK("http://example.invalid","klicka")'
    assert comment.data_type == "s"
    assert comment.quotePrefix
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def _pdf_text(data: bytes, tmp_path: Path) -> str:
    assert data.startswith(b"%PDF")
    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "pdftotext (poppler-utils) is needed"
    path = tmp_path / "tasks.pdf"
    path.write_bytes(data)
    return subprocess.run([pdftotext, "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_pdf_per_building_and_per_assignee(client: FlaskClient, listed: dict, tmp_path: Path) -> None:
    login(client, "export@example.org")
    response = client.get(f"/tasks/export/building/{listed['building']}.pdf?lang=en")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    text = _pdf_text(response.get_data(), tmp_path)
    assert "ENT-01" in text
    assert "UTE-02" not in text
    assert "Overdue" in text
    assert listed["name"] in text
    response = client.get(f"/tasks/export/assignee/{listed['fixer']}.pdf")
    text = _pdf_text(response.get_data(), tmp_path)
    assert "ENT-01" in text
    assert listed["name"] in text
    assert "1" in text


def test_rendering_pdfs_does_not_make_the_photo_checks_accept_truncated_files() -> None:
    import weasyprint  # noqa: F401  (importing it turns on Pillow's LOAD_TRUNCATED_IMAGES for the whole process)

    from audit.demo import demo_photo
    from audit.photos.processing import PhotoRejected, process_photo

    with pytest.raises(PhotoRejected) as refused:
        process_photo(demo_photo("cut")[:3000], max_bytes=10_000_000)
    assert refused.value.code == "corrupt"


def test_a_long_list_is_exported_in_the_background(database_kind: str, tmp_path: Path) -> None:
    """"Excel in the background" makes a job: its page shows it waiting, the job's function (run here as a worker
    runs it; the queue's own tests use real workers) writes the list as filtered, in the asker's language, records
    the export in the audit log, and the page offers the file to that organisation only."""
    from flask_babel import force_locale
    from sqlalchemy import func, select

    from audit.accounts.services import create_organisation, create_user
    from audit.auditlog.models import AuditEntry
    from audit.buildings.services import create_building
    from audit.checklists.loader import load_checklist
    from audit.checklists.services import store_checklist
    from audit.extensions import db
    from audit.jobs.runner import run_job
    from audit.migrate import upgrade
    from audit.remediation.presentation import header
    from tests.conftest import CHECKLIST_FILE, TEST_PASSWORD, fresh_database, make_test_app
    from tests.remediation_support import approved_inspection
    from tests.web_support import csrf_token

    failing = ("UTE-01", "BEL-01", "ENT-01")
    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        try:
            with app.app_context():
                session = db.session
                version = store_checklist(session, load_checklist(CHECKLIST_FILE)).version
                organisation = create_organisation(session, "export", "Exportbostäder AB")
                inspector = create_user(session, organisation, "i@export.example", Role.inspector, TEST_PASSWORD)
                manager = create_user(session, organisation, "m@export.example", Role.manager, TEST_PASSWORD)
                building = create_building(
                    session, organisation, name="Hus 1", street_address="Exportgatan 1", postcode="111 11", city="Sthlm"
                )
                approved_inspection(session, inspector, manager, building, version, failing)
                stranger = create_organisation(session, "stranger", "Andra AB")
                create_user(session, stranger, "a@stranger.example", Role.admin, TEST_PASSWORD)
                session.commit()

            client = app.test_client()
            login(client, "m@export.example")
            page = client.get("/tasks/?lang=en").get_data(as_text=True)
            assert "Excel in the background" in page
            token = csrf_token(client, "/tasks/")
            assert client.post("/tasks/export?format=pdf", data={"csrf_token": token}).status_code == 400
            assert client.post("/tasks/export?format=csv", data={}).status_code == 400  # no CSRF token
            started = client.post("/tasks/export?format=csv&severity=critical", data={"csrf_token": token})
            assert started.status_code == 303
            job_id = int(started.headers["Location"].rsplit("/", 1)[1])
            assert client.get(f"/tasks/export/{job_id}/progress").get_json()["status"] == "queued"
            waiting = client.get(f"/tasks/export/{job_id}?lang=sv").get_data(as_text=True)
            assert "Väntar på en bakgrundstjänst" in waiting
            assert client.get(f"/tasks/export/{job_id}/download").status_code == 404

            run_job(app, job_id, "in-process", timedelta(seconds=30))
            state = client.get(f"/tasks/export/{job_id}/progress").get_json()
            assert state["status"] == "finished", state
            with app.app_context():
                critical = db.session.scalar(
                    select(func.count()).select_from(RemediationTask).where(RemediationTask.severity == "critical")
                )
                exports = db.session.scalar(
                    select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "task_list.exported")
                )
            assert critical == 2  # of the three tasks: the export follows the list's filter
            assert state["done"] == state["total"] == critical
            assert exports == 1
            download = client.get(state["download"])
            assert download.headers["Cache-Control"] == "private, no-store"
            rows = list(csv.reader(io.StringIO(download.data.decode("utf-8-sig")), delimiter=CSV_DELIMITER))
            assert len(rows) == 1 + critical
            with app.test_request_context(), force_locale(_job_language(app, job_id)):
                assert rows[0] == header()  # in the language of the page it was asked for on
            assert {row[5] for row in rows[1:]} == {"BEL-01", "ENT-01"}  # the critical ones

            other = app.test_client()
            login(other, "a@stranger.example")
            for path in ("", "/progress", "/download"):
                assert other.get(f"/tasks/export/{job_id}{path}").status_code == 404
        finally:
            engine.dispose()


def _job_language(app: Any, job_id: int) -> str:
    from audit.extensions import db
    from audit.jobs.models import Job

    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None
        return str(job.params["language"])
