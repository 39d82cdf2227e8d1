"""Certificates: issuing and its refusals, immutability, status over time, the sign, verification and batches."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.buildings.models import Building
from audit.certificates.addresses import offer_verification_url
from audit.certificates.batch import print_signs, sign_renderer
from audit.certificates.documents import (
    PaperSize,
    SignFacts,
    issued_sign,
    render_sign,
    sign_facts,
    size_step,
)
from audit.certificates.jobs import create_print_job
from audit.certificates.models import BatchFormat, Certificate, CertificateCounter
from audit.certificates.numbering import add_months, format_number, parse_number, valid_until
from audit.certificates.services import CertificateRefused, issue_certificate, revoke_certificate
from audit.certificates.status import CertificateStatus, certificate_status, today_in_sweden
from audit.checklists.models import ChecklistVersion
from audit.errors import ImmutableError
from audit.extensions import limiter
from audit.inspections.models import Inspection, InspectionKind
from audit.inspections.services import start_inspection, submit_inspection
from audit.settings import Settings, SettingsError
from tests.pdf_support import pdf_images, pdf_info, pdf_text, qr_codes
from tests.remediation_support import approved_inspection, walk
from tests.web_support import csrf_token, login, offered_verification

Approved = Callable[..., Inspection]


# --- pure parts ---------------------------------------------------------------------------------------------------


def test_numbers_and_validity_dates() -> None:
    assert format_number(2026, 123) == "TH-2026-000123"
    assert parse_number(" th-2026-000123 ") == (2026, 123)
    assert parse_number("TH-26-1") is None
    with pytest.raises(ValueError, match="no certificate number"):
        format_number(2026, 0)
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert valid_until(date(2026, 11, 23), 36) == date(2029, 11, 22)


@pytest.mark.parametrize(
    ("revoked", "superseded", "today", "expected"),
    [
        (False, False, date(2029, 11, 22), CertificateStatus.valid),
        (False, False, date(2029, 11, 23), CertificateStatus.expired),
        (True, True, date(2030, 1, 1), CertificateStatus.revoked),
        (False, True, date(2026, 12, 1), CertificateStatus.superseded),
    ],
)
def test_status_order(revoked: bool, superseded: bool, today: date, expected: CertificateStatus) -> None:
    assert (
        certificate_status(valid_until=date(2029, 11, 22), revoked=revoked, superseded=superseded, today=today)
        is expected
    )


# --- issuing ------------------------------------------------------------------------------------------------------


@pytest.fixture
def people(create_member: Callable[..., User]) -> dict[Role, User]:
    return {role: create_member(role) for role in (Role.inspector, Role.manager, Role.admin)}


@pytest.fixture
def approved(
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> Approved:
    def factory(
        building: Building | None = None,
        failing: tuple[str, ...] = (),
        kind: InspectionKind = InspectionKind.certification,
    ) -> Inspection:
        return approved_inspection(
            session,
            people[Role.inspector],
            people[Role.manager],
            building or create_test_building(street_address="Fittjavägen 12 B", postcode="145 51", city="Norsborg"),
            checklist_version,
            failing,
            kind,
        )

    return factory


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Certificate)) or 0


def test_issuing_records_the_facts_and_the_signed_pdf(
    session: Session, approved: Approved, people: dict[Role, User]
) -> None:
    inspection = approved()
    certificate = issue_certificate(session, people[Role.manager], inspection, issued_sign)
    today = today_in_sweden()
    year, sequence = parse_number(certificate.number) or (0, 0)
    assert (year, sequence) == (today.year, certificate.sequence)
    assert certificate.issued_on == today
    assert certificate.valid_until == valid_until(today, 36)
    assert certificate.address == "Fittjavägen 12 B, 145 51 Norsborg"
    assert certificate.organisation_name == inspection.organisation.name
    assert certificate.score == inspection.score_total
    assert certificate.checklist_version_id == inspection.checklist_version_id
    assert len(certificate.public_token) >= 43  # 32 random bytes, URL-safe
    assert certificate.pdf_sha256 == hashlib.sha256(certificate.sign_pdf).hexdigest()
    assert certificate.status(today) is CertificateStatus.valid
    second = issue_certificate(session, people[Role.manager], approved(), issued_sign)
    assert second.sequence == certificate.sequence + 1
    assert second.public_token != certificate.public_token


def test_refused_issuing_creates_nothing(
    session: Session,
    approved: Approved,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> None:
    failing = approved(failing=("ENT-01",))  # a critical item
    spot_check = approved(kind=InspectionKind.spot_check)
    waiting = start_inspection(
        session, people[Role.inspector], create_test_building(), InspectionKind.certification, checklist_version
    )
    walk(session, people[Role.inspector], waiting, ())
    submit_inspection(session, people[Role.inspector], waiting)
    counters = session.scalar(select(func.count()).select_from(CertificateCounter))
    for inspection, message in (
        (failing, "does not pass"),
        (spot_check, "Only a certification inspection"),
        (waiting, "must be approved"),
    ):
        with pytest.raises(CertificateRefused, match=message):
            issue_certificate(session, people[Role.manager], inspection, issued_sign)
    assert _count(session) == 0
    assert session.scalar(select(func.count()).select_from(CertificateCounter)) == counters
    once = approved()
    issue_certificate(session, people[Role.admin], once, issued_sign)
    with pytest.raises(CertificateRefused, match="already been issued"):
        issue_certificate(session, people[Role.manager], once, issued_sign)
    assert _count(session) == 1


def test_an_issued_certificate_never_changes(session: Session, approved: Approved, people: dict[Role, User]) -> None:
    certificate = issue_certificate(session, people[Role.manager], approved(), issued_sign)
    revoke_certificate(session, people[Role.admin], certificate, "Fel adress på skylten.")
    assert certificate.status(today_in_sweden()) is CertificateStatus.revoked
    certificate.valid_until = date(2099, 1, 1)
    with pytest.raises(ImmutableError):
        session.flush()
    session.rollback()
    certificate = session.scalars(select(Certificate)).first()
    if certificate is not None:  # rolled back with the test's savepoint on some databases
        session.delete(certificate)
        with pytest.raises(ImmutableError):
            session.flush()


def test_a_newer_certificate_supersedes_the_older(
    session: Session, approved: Approved, people: dict[Role, User]
) -> None:
    first_inspection = approved()
    first = issue_certificate(session, people[Role.manager], first_inspection, issued_sign)
    second = issue_certificate(session, people[Role.manager], approved(first_inspection.building), issued_sign)
    session.expire_all()
    today = today_in_sweden()
    assert second.supersedes_id == first.id
    assert first.status(today) is CertificateStatus.superseded
    assert second.status(today) is CertificateStatus.valid


# --- pages --------------------------------------------------------------------------------------------------------


def _issue_through_the_page(client: FlaskClient, manager: User, inspection: Inspection) -> str:
    login(client, manager.email)
    page = client.get(f"/inspections/{inspection.id}/result").get_data(as_text=True)
    assert f"/inspections/{inspection.id}/certificate" in page  # the issue button
    response = client.post(
        f"/inspections/{inspection.id}/certificate",
        data={"csrf_token": csrf_token(client, "/certificates/"), "verification": offered_verification(page)},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return response.headers["Location"]


def test_manager_issues_and_downloads_a_sign_that_reads_and_scans(
    client: FlaskClient, session: Session, approved: Approved, people: dict[Role, User], tmp_path: Path
) -> None:
    inspection = approved()
    location = _issue_through_the_page(client, people[Role.manager], inspection)
    certificate = session.scalars(select(Certificate).where(Certificate.inspection_id == inspection.id)).one()
    assert location.endswith(f"/certificates/{certificate.id}")
    assert certificate.number in client.get(location).get_data(as_text=True)

    sign = client.get(f"/certificates/{certificate.id}/sign.pdf")
    assert sign.mimetype == "application/pdf"
    assert hashlib.sha256(sign.data).hexdigest() == certificate.pdf_sha256  # the stored, issued document
    text = pdf_text(sign.data)
    until = certificate.valid_until
    for expected in ("Trygga hus", "Fittjavägen 12 B", "145 51 Norsborg", certificate.number):
        assert expected in text, expected
    assert f"{until.day} {_swedish_month(until)} {until.year}" in text  # "Giltigt till och med 22 november 2029"
    url = certificate.verification_url
    assert url == f"http://localhost/v/{certificate.public_token}"  # where the test client's request came to
    assert qr_codes(sign.data, tmp_path) == [url]
    # The code is one small image that viewers and printers enlarge without smoothing, so its squares stay sharp.
    [image] = pdf_images(sign.data, tmp_path)
    assert image["interp"] == "no"
    assert image["width"] == image["height"]

    english_a3 = client.get(f"/certificates/{certificate.id}/sign.pdf?size=A3&language=en")
    assert f"{until:%B} {until.day}, {until.year}" in pdf_text(english_a3.data)
    assert "pts (A3)" in pdf_info(english_a3.data)
    assert qr_codes(english_a3.data, tmp_path, resolution=50) == [url]


LONG = {
    "street_address": "Övre Fredriksbergsgatan 123 B, trapphus 4, port mot gården",
    "city": "Upplands Väsby och Sollentuna kommundel",
    "organisation_name": "Stiftelsen Stockholms Studentbostäder och Allmännyttiga Hyresfastigheter i Storstockholm AB",
}
#: As long as the columns allow: the sign cuts these, but keeps its one page, its QR code and its number.
LONGEST = {"street_address": "Gata " * 40, "city": "Stad " * 20, "organisation_name": "Organisation " * 15}


@pytest.mark.parametrize("size", list(PaperSize))
@pytest.mark.parametrize(("texts", "shown_in_full"), [(LONG, True), (LONGEST, False)], ids=["long", "longest"])
def test_long_addresses_and_names_keep_the_sign_on_one_page(
    app: Flask, tmp_path: Path, size: PaperSize, texts: dict[str, str], shown_in_full: bool
) -> None:
    url = "https://trygga-hus.example.se/v/" + "x" * 43
    facts = SignFacts(
        number="TH-2026-000123",
        postcode="123 45",
        issued_on=date(2026, 11, 23),
        valid_until=date(2029, 9, 30),
        verification_url=url,
        **{key: value[: Certificate.__table__.c[key].type.length] for key, value in texts.items()},
    )
    with app.app_context():
        data = render_sign(facts, size, "sv")
    assert re.search(r"^Pages:\s+1$", pdf_info(data), re.MULTILINE)
    text = " ".join(pdf_text(data).split())
    assert "TH-2026-000123" in text
    assert "30 september 2029" in text
    assert all(" ".join(value.split()) in text for value in texts.values()) is shown_in_full
    assert qr_codes(data, tmp_path, resolution=40 if size is PaperSize.a4 else 30) == [url]


def test_longer_texts_take_smaller_steps() -> None:
    assert [size_step("x" * length, (10, 20)) for length in (0, 10, 11, 20, 21, 200)] == [0, 0, 1, 1, 2, 2]


def _swedish_month(day: date) -> str:
    months = ("januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober")
    months += ("november", "december")
    return months[day.month - 1]


def test_inspector_cannot_issue_and_a_failing_inspection_shows_no_button(
    app: Flask, client: FlaskClient, session: Session, approved: Approved, people: dict[Role, User]
) -> None:
    passing, failing = approved(), approved(failing=("ENT-01",))
    login(client, people[Role.inspector].email)
    assert client.post(f"/inspections/{passing.id}/certificate").status_code in (400, 403)
    client.post("/logout", data={"csrf_token": csrf_token(client, "/certificates/")})
    login(client, people[Role.manager].email)
    page = client.get(f"/inspections/{failing.id}/result").get_data(as_text=True)
    assert f"/inspections/{failing.id}/certificate" not in page
    with app.test_request_context():  # a form the page did not offer, made up as the page would make it
        offer = offer_verification_url(failing.id)
    response = client.post(
        f"/inspections/{failing.id}/certificate",
        data={"csrf_token": csrf_token(client, "/certificates/"), "verification": offer.signed},
    )
    assert response.status_code == 303
    assert "klarar inte kraven" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert _count(session) == 0


def test_verification_tells_the_truth_over_time(
    app: Flask, client: FlaskClient, session: Session, approved: Approved, people: dict[Role, User]
) -> None:
    inspection = approved()
    certificate = issue_certificate(session, people[Role.manager], inspection, issued_sign)
    session.commit()
    page = client.get(f"/v/{certificate.public_token}")
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert "Certifikatet är giltigt." in body
    for shown in ("Fittjavägen 12 B, 145 51 Norsborg", certificate.organisation_name, certificate.number):
        assert shown in body
    for hidden in (people[Role.inspector].name, people[Role.manager].name, people[Role.inspector].email):
        assert hidden not in body
    assert "This certificate is valid." in client.get(f"/v/{certificate.public_token}?lang=en").get_data(as_text=True)

    app.config["TRYGGAHUS_FROZEN_DATE"] = (certificate.valid_until + timedelta(days=1)).isoformat()
    try:
        expired = client.get(f"/v/{certificate.public_token}?lang=en").get_data(as_text=True)
    finally:
        del app.config["TRYGGAHUS_FROZEN_DATE"]
    assert "This certificate has expired: it was valid until" in expired

    newer = issue_certificate(session, people[Role.manager], approved(inspection.building), issued_sign)
    session.commit()
    assert "replaced by a newer one" in client.get(f"/v/{certificate.public_token}?lang=en").get_data(as_text=True)

    login(client, people[Role.admin].email)
    response = client.post(
        f"/certificates/{newer.id}/revoke",
        data={"csrf_token": csrf_token(client, "/certificates/"), "reason": "Skylten sattes upp på fel hus."},
    )
    assert response.status_code == 303
    revoked = client.get(f"/v/{newer.public_token}?lang=en").get_data(as_text=True)
    assert "This certificate was revoked on" in revoked
    assert "fel hus" not in revoked


def test_unknown_tokens_and_other_organisations_get_404(
    client: FlaskClient,
    session: Session,
    approved: Approved,
    people: dict[Role, User],
    create_org: Callable[..., Organisation],
    create_member: Callable[..., User],
) -> None:
    certificate = issue_certificate(session, people[Role.manager], approved(), issued_sign)
    job = create_print_job(
        session,
        people[Role.manager].id,
        certificate.organisation_id,
        [certificate],
        BatchFormat.zip,
        PaperSize.a4,
        "sv",
    )  # not run: only its pages are looked at
    session.commit()
    tokens = ("x", "A" * 43, certificate.public_token[:-1] + "_")
    assert client.get("/v/%00").status_code == 400  # a NUL is refused before any view (audit/input_guard.py)
    misses = [client.get(f"/v/{token}") for token in tokens]
    assert {miss.status_code for miss in misses} == {404}
    # Every miss looks the same (apart from the page's own address in its language link, and its CSRF token).
    bodies = {
        re.sub(r'name="csrf-token" content="[^"]+"', "", miss.get_data(as_text=True).replace(f"/v/{token}", "/v/T"))
        for token, miss in zip(tokens, misses, strict=True)
    }
    assert len(bodies) == 1
    stranger = create_member(Role.admin, organisation=create_org("stranger"))
    login(client, stranger.email)
    for url in (
        f"/certificates/{certificate.id}",
        f"/certificates/{certificate.id}/sign.pdf",
        f"/inspections/{certificate.inspection_id}/report.pdf",
        f"/buildings/{certificate.building_id}/certificates",
        f"/certificates/batch/{job.id}",
        f"/certificates/batch/{job.id}/progress",
        f"/certificates/batch/{job.id}/download",
    ):
        assert client.get(url).status_code == 404, url
    revoke = client.post(
        f"/certificates/{certificate.id}/revoke",
        data={"csrf_token": csrf_token(client, "/certificates/"), "reason": "x"},
    )
    assert revoke.status_code == 404


def test_verification_is_rate_limited(app: Flask, client: FlaskClient) -> None:
    settings = app.config["TRYGGAHUS"]
    app.config["TRYGGAHUS"] = dataclasses.replace(settings, verify_rate_limit="3 per minute")
    limiter.reset()
    try:
        statuses = [client.get(f"/v/{'B' * 43}").status_code for _ in range(4)]
    finally:
        app.config["TRYGGAHUS"] = settings
        limiter.reset()
    assert statuses == [404, 404, 404, 429]


def test_production_needs_the_public_https_address() -> None:
    secret = "s" * 40
    with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
        Settings.from_env({"TRYGGAHUS_ENV": "production", "TRYGGAHUS_SECRET_KEY": secret})
    settings = Settings.from_env(
        {
            "TRYGGAHUS_ENV": "production",
            "TRYGGAHUS_SECRET_KEY": secret,
            "TRYGGAHUS_PUBLIC_BASE_URL": "https://tryggahus.example.se",
            "TRYGGAHUS_VERIFY_RATE_LIMIT": "10 per minute",
        }
    )
    assert settings.verify_rate_limit == "10 per minute"


# --- batch --------------------------------------------------------------------------------------------------------


def test_a_failed_sign_is_reported_and_the_others_are_printed(
    session: Session, approved: Approved, people: dict[Role, User], tmp_path: Path
) -> None:
    certificates = [issue_certificate(session, people[Role.manager], approved(), issued_sign) for _ in range(3)]
    signs = [sign_facts(certificate) for certificate in certificates]
    broken = signs[1].number
    real = sign_renderer(PaperSize.a4, "sv")

    def render(facts):  # type: ignore[no-untyped-def]
        if facts.number == broken:
            raise RuntimeError("the printer ran out of toner")
        return real(facts)

    progress: list[int] = []
    joined = print_signs(signs, BatchFormat.pdf, render=render, on_progress=progress.append)
    assert progress == [1, 2, 3]
    assert joined.printed == 2
    assert joined.errors == [(broken, "RuntimeError: the printer ran out of toner")]
    text = pdf_text(joined.data or b"")
    assert signs[0].number in text
    assert signs[2].number in text
    assert broken not in text
    assert text.count("\f") == 2  # two pages
    pages = [qr_codes(joined.data or b"", tmp_path, resolution=40, page=page) for page in (1, 2)]
    assert pages == [[signs[0].verification_url], [signs[2].verification_url]]

    zipped = print_signs(signs, BatchFormat.zip, render=render)
    with zipfile.ZipFile(io.BytesIO(zipped.data or b"")) as archive:
        names = archive.namelist()
        assert len([name for name in names if name.endswith(".pdf")]) == 2
        assert broken in archive.read("errors.txt").decode()


def test_cli_prints_the_signs_of_an_area(
    runner, session: Session, approved: Approved, people: dict[Role, User], tmp_path: Path, org: Organisation
) -> None:  # type: ignore[no-untyped-def]
    from audit.buildings.services import create_area, create_building

    area = create_area(session, org, "Fittja")
    building = create_building(
        session, org, name="Fittja 1", street_address="Fittjavägen 1", postcode="145 51", city="Norsborg", area=area
    )
    inside = issue_certificate(session, people[Role.manager], approved(building), issued_sign)
    outside = issue_certificate(session, people[Role.manager], approved(), issued_sign)
    out = tmp_path / "fittja.pdf"
    result = runner.invoke(args=["certificates", "print", "--org", org.slug, "--area", "Fittja", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "1 of 1 signs written" in result.output
    text = pdf_text(out.read_bytes())
    assert inside.number in text
    assert outside.number not in text


def test_a_print_job_started_on_the_page_prints_every_sign_with_its_progress(
    database_kind: str, tmp_path: Path
) -> None:
    """The page starts the job and shows its row; the job's function, run here in-process as a worker would run it
    (the queue itself is tested with real workers in test_jobs.py), prints every sign and the page offers the file."""
    from audit.jobs.runner import run_job
    from tests.conftest import fresh_database, make_test_app
    from tests.jobs_support import print_setup, start_batch

    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        try:
            setup = print_setup(app, signs=2)
            client = app.test_client()
            login(client, setup.manager_email)
            job_id = start_batch(client, setup.area_id)
            page = client.get(f"/certificates/batch/{job_id}").get_data(as_text=True)
            assert "batch-status" in page
            assert client.get(f"/certificates/batch/{job_id}/progress").get_json()["status"] == "queued"
            assert client.get(f"/certificates/batch/{job_id}/download").status_code == 404  # nothing made yet
            run_job(app, job_id, "in-process", timedelta(seconds=30))
            state = client.get(f"/certificates/batch/{job_id}/progress").get_json()
            assert state["status"] == "finished", state
            assert state["done"] == state["total"] == 2
            assert state["errors"] == []
            assert state["attempt"] == 1
            download = client.get(state["download"])
            assert download.mimetype == "application/pdf"
            text = pdf_text(download.data)
            assert all(number in text for number in setup.numbers)
            run_job(app, job_id, "in-process", timedelta(seconds=30))  # a second message changes nothing
            assert client.get(f"/certificates/batch/{job_id}/progress").get_json() == state
        finally:
            app.extensions["tryggahus.database"].engine.dispose()


def test_concurrent_issuers_never_share_a_number(database_kind: str, tmp_path: Path) -> None:
    """Eight writers draw numbers at once from a real database (not the test transaction): 1–8, each once."""
    import threading
    import time

    from audit.certificates.services import _next_sequence
    from audit.extensions import db
    from audit.migrate import upgrade
    from tests.conftest import fresh_database, make_test_app

    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        start = threading.Barrier(8)
        drawn: list[int] = []
        failures: list[BaseException] = []

        def issuer() -> None:
            try:
                with app.app_context():
                    start.wait()
                    db.begin_write()
                    number = _next_sequence(db.session, 2026)
                    time.sleep(0.01)  # hold the turn a little, as rendering the sign does
                    db.session.commit()
                    drawn.append(number)
            except BaseException as exc:
                failures.append(exc)

        threads = [threading.Thread(target=issuer) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        engine.dispose()
    assert failures == []
    assert sorted(drawn) == list(range(1, 9))
