"""Where a sign's QR code points: the address shown before issuing and printed as shown, the development default
from the issuing request, the warning when the configured address is another host, and making a stored sign again
(admins only, with a reason, recorded with the old file's sha256)."""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.buildings.models import Building
from audit.certificates.addresses import (
    DEVELOPMENT_BASE_URL,
    accepted_verification_url,
    offer_verification_url,
    verification_base_url,
)
from audit.certificates.documents import issued_sign
from audit.certificates.models import Certificate, CertificateSignRegeneration
from audit.certificates.services import issue_certificate, regenerate_sign, revoke_certificate
from audit.checklists.models import ChecklistVersion
from audit.errors import DomainError, ImmutableError
from audit.inspections.models import Inspection
from audit.settings import Settings, SettingsError
from tests.pdf_support import qr_codes
from tests.remediation_support import approved_inspection
from tests.web_support import csrf_token, login, offered_verification

PUBLIC = "https://tryggahus.example.se"
SERVED = "127.0.0.1:5101"  # `make run PORT=5101`


@pytest.fixture
def people(create_member: Callable[..., User]) -> dict[Role, User]:
    return {role: create_member(role) for role in (Role.inspector, Role.manager, Role.admin)}


@pytest.fixture
def approved(
    session: Session,
    people: dict[Role, User],
    create_test_building: Callable[..., Building],
    checklist_version: ChecklistVersion,
) -> Callable[[], Inspection]:
    def factory() -> Inspection:
        building = create_test_building(street_address="Fittjavägen 12 B", postcode="145 51", city="Norsborg")
        return approved_inspection(
            session, people[Role.inspector], people[Role.manager], building, checklist_version, ()
        )

    return factory


@pytest.fixture
def configure(app: Flask, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Set TRYGGAHUS_PUBLIC_BASE_URL for one test."""

    def set_address(address: str) -> None:
        settings = dataclasses.replace(app.config["TRYGGAHUS"], public_base_url=address)
        monkeypatch.setitem(app.config, "TRYGGAHUS", settings)

    return set_address


@pytest.fixture
def at(app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch) -> Callable[[str, User], FlaskClient]:
    def log_in_at(host: str, user: User) -> FlaskClient:
        """A browser at `host` (every test client request goes there from now on), logged in as `user`."""
        monkeypatch.setitem(app.config, "SERVER_NAME", host)
        client = app.test_client()
        login(client, user.email)
        return client

    return log_in_at


def _shown_url(page: str) -> str:
    match = re.search(r'<code class="break verification-url">([^<]+)</code>', page)
    assert match, "no verification URL on the page"
    return match.group(1)


def _issue(client: FlaskClient, inspection: Inspection) -> tuple[str, str]:
    """Open the result page and press "Issue certificate": (the URL the page showed, the redirect)."""
    page = client.get(f"/inspections/{inspection.id}/result").get_data(as_text=True)
    response = client.post(
        f"/inspections/{inspection.id}/certificate",
        data={"csrf_token": csrf_token(client, "/certificates/"), "verification": offered_verification(page)},
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return _shown_url(page), response.headers["Location"]


def _certificate(session: Session, inspection: Inspection) -> Certificate:
    return session.scalars(select(Certificate).where(Certificate.inspection_id == inspection.id)).one()


# --- settings -----------------------------------------------------------------------------------------------------


def test_the_address_setting_is_empty_in_development_and_an_https_address_in_production() -> None:
    assert Settings.from_env({}).public_base_url == ""  # development: the issuing request's address
    production = {"TRYGGAHUS_ENV": "production", "TRYGGAHUS_SECRET_KEY": "s" * 40}
    for missing_or_plain in ({}, {"TRYGGAHUS_PUBLIC_BASE_URL": "http://tryggahus.example.se"}):
        with pytest.raises(SettingsError, match="PUBLIC_BASE_URL must be the app's public https:// address"):
            Settings.from_env({**production, **missing_or_plain})
    assert Settings.from_env({**production, "TRYGGAHUS_PUBLIC_BASE_URL": PUBLIC}).public_base_url == PUBLIC
    for wrong in ("tryggahus.example.se", "ftp://tryggahus.example.se", "https://", f"{PUBLIC}/?x=1"):
        with pytest.raises(SettingsError, match="PUBLIC_BASE_URL"):
            Settings.from_env({"TRYGGAHUS_PUBLIC_BASE_URL": wrong})


def test_the_base_address_comes_from_the_setting_or_else_the_request(
    app: Flask, configure: Callable[[str], None]
) -> None:
    with app.test_request_context(base_url=f"http://{SERVED}"):
        assert verification_base_url() == f"http://{SERVED}"
    with app.test_request_context(base_url=f"http://{SERVED}/prefix"):  # served below a path
        assert verification_base_url() == f"http://{SERVED}/prefix"
    with app.app_context():  # the command line (the demo data) in development
        assert verification_base_url() == DEVELOPMENT_BASE_URL
    configure(PUBLIC + "/")
    with app.test_request_context(base_url=f"http://{SERVED}"):
        assert verification_base_url() == PUBLIC
    with app.app_context():
        assert verification_base_url() == PUBLIC


# --- issuing ------------------------------------------------------------------------------------------------------


def test_in_development_the_sign_points_to_where_the_issuing_page_was_served(
    at: Callable[[str, User], FlaskClient],
    session: Session,
    approved: Callable[[], Inspection],
    people: dict[Role, User],
    tmp_path: Path,
) -> None:
    inspection = approved()
    client = at(SERVED, people[Role.manager])
    shown, location = _issue(client, inspection)
    certificate = _certificate(session, inspection)
    assert shown == f"http://{SERVED}/v/{certificate.public_token}"  # shown before issuing, exactly
    assert certificate.public_base_url == f"http://{SERVED}"
    assert certificate.verification_url == shown
    page = client.get(location).get_data(as_text=True)
    assert f'href="{shown}"' in page
    assert qr_codes(certificate.sign_pdf, tmp_path) == [shown]
    # Opened later from another address, every rendering still prints the address the stored sign has.
    client = at("localhost:5000", people[Role.manager])
    for query in ("", "?size=A3", "?language=en"):
        sign = client.get(f"/certificates/{certificate.id}/sign.pdf{query}")
        assert qr_codes(sign.data, tmp_path, resolution=50) == [shown], query


def test_a_configured_address_wins_and_another_host_is_pointed_out(
    at: Callable[[str, User], FlaskClient],
    session: Session,
    approved: Callable[[], Inspection],
    people: dict[Role, User],
    configure: Callable[[str], None],
) -> None:
    inspection = approved()
    configure(PUBLIC)
    client = at(SERVED, people[Role.manager])
    page = client.get(f"/inspections/{inspection.id}/result").get_data(as_text=True)
    assert _shown_url(page).startswith(f"{PUBLIC}/v/")
    assert "served-elsewhere" in page
    assert f"inte adressen som den här sidan öppnades på ({SERVED})" in page

    client = at("tryggahus.example.se", people[Role.manager])  # behind a proxy: http inside, the public host
    shown, _location = _issue(client, inspection)
    page = client.get(f"/inspections/{inspection.id}/result").get_data(as_text=True)
    assert "served-elsewhere" not in page
    assert _certificate(session, inspection).verification_url == shown
    assert shown.startswith(f"{PUBLIC}/v/")


def test_the_sign_prints_what_was_shown_or_nothing_is_issued(
    at: Callable[[str, User], FlaskClient],
    app: Flask,
    session: Session,
    approved: Callable[[], Inspection],
    people: dict[Role, User],
    configure: Callable[[str], None],
) -> None:
    inspection, other = approved(), approved()
    client = at(SERVED, people[Role.manager])
    page = client.get(f"/inspections/{inspection.id}/result").get_data(as_text=True)
    offered = offered_verification(page)
    configure(PUBLIC)  # the address changed after the page was shown
    response = client.post(
        f"/inspections/{inspection.id}/certificate",
        data={"csrf_token": csrf_token(client, "/certificates/"), "verification": offered},
    )
    assert response.status_code == 303
    assert "Adressen i QR-koden har ändrats" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(Certificate)) == 0
    with app.test_request_context(base_url=f"http://{SERVED}"):
        offer = offer_verification_url(inspection.id)
        assert accepted_verification_url(offer.signed, other.id) is None  # another inspection's offer
        assert accepted_verification_url(offer.signed[:-2] + "xx", inspection.id) is None  # forged
        assert accepted_verification_url("", inspection.id) is None
    with app.test_request_context(base_url=PUBLIC):
        offer = offer_verification_url(inspection.id)
        base_url, token = accepted_verification_url(offer.signed, inspection.id) or ("", "")
    assert offer.url == f"{base_url}/v/{token}"
    assert len(token) >= 43


# --- making the sign again ----------------------------------------------------------------------------------------


def _regenerate(client: FlaskClient, certificate: Certificate, reason: str) -> str:
    """The page after asking for a new sign: the certificate's page, or (refused, 422) the same page with the reason
    still typed in its form."""
    response = client.post(
        f"/certificates/{certificate.id}/sign/regenerate",
        data={"csrf_token": csrf_token(client, "/certificates/"), "sign_reason": reason},
    )
    if response.status_code == 303:
        return client.get(response.headers["Location"]).get_data(as_text=True)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    if reason.strip() and "sign/regenerate" in page:
        assert f"{reason}</textarea>" in page, "a refused form keeps what was typed"
    return page


def test_an_admin_makes_the_sign_again_and_the_history_keeps_the_old_file(
    at: Callable[[str, User], FlaskClient],
    session: Session,
    approved: Callable[[], Inspection],
    people: dict[Role, User],
    tmp_path: Path,
) -> None:
    # Issued from the command line, before anyone knew the app would be served on port 5101.
    certificate = issue_certificate(session, people[Role.manager], approved(), issued_sign)
    number, token, old_sha256 = certificate.number, certificate.public_token, certificate.pdf_sha256
    assert qr_codes(certificate.sign_pdf, tmp_path) == [f"{DEVELOPMENT_BASE_URL}/v/{token}"]
    admin = people[Role.admin]
    client = at(SERVED, admin)
    page = client.get(f"/certificates/{certificate.id}").get_data(as_text=True)
    assert _shown_url(page) == f"http://{SERVED}/v/{token}"

    page = _regenerate(client, certificate, "  Skylten pekade på port 5000.  ")
    assert "Skylten för certifikat" in page
    session.expire_all()
    certificate = session.get(Certificate, certificate.id)
    assert certificate is not None
    assert (certificate.number, certificate.public_token) == (number, token)
    assert certificate.pdf_sha256 != old_sha256
    sign = client.get(f"/certificates/{certificate.id}/sign.pdf").data
    assert hashlib.sha256(sign).hexdigest() == certificate.pdf_sha256
    assert qr_codes(sign, tmp_path) == [f"http://{SERVED}/v/{token}"]
    [regeneration] = certificate.sign_regenerations
    assert regeneration.regenerated_by_id == admin.id
    assert regeneration.reason == "Skylten pekade på port 5000."
    assert (regeneration.old_sha256, regeneration.new_sha256) == (old_sha256, certificate.pdf_sha256)
    assert (regeneration.old_base_url, regeneration.new_base_url) == (DEVELOPMENT_BASE_URL, f"http://{SERVED}")
    assert certificate.issued_sha256 == old_sha256
    history = page.split('class="certificate-history"', 1)[1]
    for shown in (old_sha256, certificate.pdf_sha256, "Skylten pekade på port 5000.", admin.name):
        assert shown in history, shown
    assert f"{DEVELOPMENT_BASE_URL}/v/{token}" in history

    # Again from the same address: the same file, so nothing changes.
    page = _regenerate(client, certificate, "En gång till.")
    assert "skulle bli samma fil" in page
    session.expire_all()
    assert len(session.get(Certificate, certificate.id).sign_regenerations) == 1  # type: ignore[union-attr]


def test_making_the_sign_again_needs_an_admin_a_reason_and_a_certificate_in_force(
    at: Callable[[str, User], FlaskClient],
    session: Session,
    approved: Callable[[], Inspection],
    people: dict[Role, User],
    create_org: Callable[..., Organisation],
    create_member: Callable[..., User],
) -> None:
    certificate = issue_certificate(session, people[Role.manager], approved(), issued_sign)
    sha256 = certificate.pdf_sha256
    url = f"/certificates/{certificate.id}/sign/regenerate"
    client = at(SERVED, people[Role.manager])
    form = {"csrf_token": csrf_token(client, "/certificates/"), "sign_reason": "x"}
    assert client.post(url, data=form).status_code == 403
    assert "sign/regenerate" not in client.get(f"/certificates/{certificate.id}").get_data(as_text=True)
    client = at(SERVED, create_member(Role.admin, organisation=create_org("stranger")))
    form = {"csrf_token": csrf_token(client, "/certificates/"), "sign_reason": "x"}
    assert client.post(url, data=form).status_code == 404
    client = at(SERVED, people[Role.admin])
    assert client.post(url, data={"sign_reason": "no CSRF token"}).status_code == 400
    assert "Skriv varför skylten görs om." in _regenerate(client, certificate, "   ")
    revoke_certificate(session, people[Role.admin], certificate, "Fel hus.")
    assert "dess skylt görs inte om" in _regenerate(client, certificate, "Ny adress.")
    session.expire_all()
    assert session.get(Certificate, certificate.id).pdf_sha256 == sha256  # type: ignore[union-attr]
    assert session.scalar(select(func.count()).select_from(CertificateSignRegeneration)) == 0


def test_the_stored_sign_changes_only_with_a_recorded_regeneration(
    session: Session, approved: Callable[[], Inspection], people: dict[Role, User]
) -> None:
    certificate = issue_certificate(session, people[Role.manager], approved(), issued_sign)
    regeneration = regenerate_sign(
        session, people[Role.admin], certificate, "Ny adress.", issued_sign, base_url=f"http://{SERVED}"
    )
    assert certificate.verification_url == f"http://{SERVED}/v/{certificate.public_token}"
    other_file = CertificateSignRegeneration(
        reason="Ny fil.",
        regenerated_by_id=people[Role.admin].id,
        old_sha256=regeneration.new_sha256,
        new_sha256="1" * 64,
        old_base_url=f"http://{SERVED}",
        new_base_url=f"http://{SERVED}",
    )
    changes: list[Callable[[], object]] = [
        lambda: setattr(certificate, "pdf_sha256", "0" * 64),  # without a regeneration
        lambda: (setattr(certificate, "pdf_sha256", "0" * 64), setattr(other_file, "certificate", certificate)),
        lambda: setattr(regeneration, "reason", "Något annat."),
        lambda: session.delete(regeneration),
    ]
    for change in changes:
        with session.begin_nested() as savepoint:
            change()
            with pytest.raises(ImmutableError):
                session.flush()
            savepoint.rollback()
    with pytest.raises(DomainError):
        regenerate_sign(session, people[Role.admin], certificate, "  ", issued_sign)


@pytest.mark.parametrize(
    "values",
    [
        {"reason": " "},
        {"new_sha256": "a" * 64},  # the same file as the old one
        {"old_sha256": "a" * 63},
        {"new_base_url": "http://127.0.0.1:5101/"},
        {"old_base_url": "ftp://127.0.0.1"},
    ],
)
def test_the_database_refuses_a_regeneration_that_records_nothing_true(
    session: Session, approved: Callable[[], Inspection], people: dict[Role, User], values: dict[str, str]
) -> None:
    certificate = issue_certificate(session, people[Role.manager], approved(), issued_sign)
    session.flush()
    row = {
        "certificate_id": certificate.id,
        "reason": "Ny adress.",
        "regenerated_by_id": people[Role.admin].id,
        "regenerated_at": certificate.issued_at,
        "old_sha256": "a" * 64,
        "new_sha256": "b" * 64,
        "old_base_url": DEVELOPMENT_BASE_URL,
        "new_base_url": f"http://{SERVED}",
    }
    columns = ", ".join(row)
    insert = text(f"INSERT INTO certificate_sign_regenerations ({columns}) VALUES (:{', :'.join(row)})")
    with session.begin_nested():
        session.execute(insert, row)  # the row as it should be
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(insert, {**row, **values})
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text("UPDATE certificates SET public_base_url = :url WHERE id = :id"),
            {"url": "tryggahus.example.se", "id": certificate.id},
        )


# --- the migration ------------------------------------------------------------------------------------------------


def test_upgrading_gives_earlier_certificates_the_address_they_printed_and_keeps_their_revocations(
    database_kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from audit.accounts.services import create_organisation, create_user
    from audit.buildings.services import create_building
    from audit.checklists.loader import load_checklist
    from audit.checklists.services import store_checklist
    from audit.extensions import db
    from audit.migrate import downgrade, upgrade
    from tests.conftest import CHECKLIST_FILE, TEST_PASSWORD, fresh_database, make_test_app

    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        with app.app_context():
            session = db.session
            version = store_checklist(session, load_checklist(CHECKLIST_FILE)).version
            organisation = create_organisation(session, "earlier", "Tidigare AB")
            inspector = create_user(session, organisation, "i@earlier.example", Role.inspector, TEST_PASSWORD)
            admin = create_user(session, organisation, "a@earlier.example", Role.admin, TEST_PASSWORD)
            building = create_building(
                session, organisation, name="Hus", street_address="Gatan 1", postcode="123 45", city="Stad"
            )
            inspection = approved_inspection(session, inspector, admin, building, version, ())
            certificate = issue_certificate(session, admin, inspection, issued_sign)
            revoke_certificate(session, admin, certificate, "Fel hus.")
            session.commit()
        try:
            downgrade(engine, "0004")
            monkeypatch.setenv("TRYGGAHUS_PUBLIC_BASE_URL", "https://earlier.example.se/")
            upgrade(engine)
            with engine.connect() as connection:
                assert connection.scalar(text("SELECT public_base_url FROM certificates")) == (
                    "https://earlier.example.se"
                )
                assert connection.scalar(text("SELECT count(*) FROM certificate_revocations")) == 1
        finally:
            engine.dispose()
