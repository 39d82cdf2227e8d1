"""Issuing and revoking certificates, regenerating their stored signs, finding them, and the facts the public may
see."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, selectinload

from audit.accounts.models import User
from audit.buildings.models import Building
from audit.certificates.addresses import new_token, verification_base_url
from audit.certificates.models import (
    Certificate,
    CertificateCounter,
    CertificateRevocation,
    CertificateSignRegeneration,
)
from audit.certificates.numbering import format_number, valid_until
from audit.certificates.status import CertificateStatus, local_date, today_in_sweden
from audit.database import lock_for_write, utcnow
from audit.errors import N_, DomainError
from audit.inspections.models import Inspection, InspectionKind, InspectionStatus
from audit.inspections.services import lock_inspection


class CertificateRefused(DomainError):
    """A certificate cannot be issued from this inspection; nothing was created."""


def issue_problem(inspection: Inspection) -> CertificateRefused | None:
    """Why this inspection cannot give a certificate (checked without the database), or None."""
    if inspection.kind is not InspectionKind.certification:
        return CertificateRefused(N_("Only a certification inspection can give a certificate."))
    if inspection.status is not InspectionStatus.approved:
        return CertificateRefused(N_("The inspection must be approved before a certificate is issued."))
    if not inspection.score_passed or inspection.score_total is None or inspection.submitted_at is None:
        return CertificateRefused(N_("The inspection does not pass the checklist, so no certificate can be issued."))
    return None


def certificate_for_inspection(session: Session, inspection: Inspection) -> Certificate | None:
    return session.scalar(select(Certificate).where(Certificate.inspection_id == inspection.id))


def latest_certificate(session: Session, building_id: int) -> Certificate | None:
    return session.scalar(
        select(Certificate).where(Certificate.building_id == building_id).order_by(Certificate.id.desc()).limit(1)
    )


def can_issue(session: Session, inspection: Inspection) -> bool:
    """Whether the issue button belongs on the inspection's pages."""
    return issue_problem(inspection) is None and certificate_for_inspection(session, inspection) is None


def _next_sequence(session: Session, year: int) -> int:
    """The year's next number. The counter row's lock makes concurrent issuers take turns (and a rollback
    gives the number back), on SQLite and PostgreSQL alike."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(CertificateCounter).values(year=year, last_sequence=0).on_conflict_do_nothing(index_elements=["year"])
    )
    return session.execute(
        update(CertificateCounter)
        .where(CertificateCounter.year == year)
        .values(last_sequence=CertificateCounter.last_sequence + 1)
        .returning(CertificateCounter.last_sequence)
        .execution_options(synchronize_session=False)
    ).scalar_one()


def issue_certificate(
    session: Session,
    actor: User,
    inspection: Inspection,
    render_sign: Callable[[Certificate], bytes],
    *,
    base_url: str | None = None,
    token: str | None = None,
    today: date | None = None,
) -> Certificate:
    """Issue the certificate of an approved, passing certification inspection.

    `render_sign` makes the sign's PDF (A4, Swedish) from the new certificate; its bytes and sha256 are stored
    with it. The sign points to `<base_url>/v/<token>` (by default the address of a sign made now, and a new
    token). Raises CertificateRefused, creating nothing, when the inspection cannot give a certificate.
    """
    lock_inspection(session, inspection)
    problem = issue_problem(inspection)
    if problem is not None:
        raise problem
    # Only approved inspections get this far, and those have been submitted (a check constraint says so).
    inspected_on = local_date(cast(datetime, inspection.submitted_at))
    existing = certificate_for_inspection(session, inspection)
    if existing is not None:
        raise CertificateRefused(
            N_("Certificate %(number)s has already been issued from this inspection."), number=existing.number
        )
    issued_on = today or today_in_sweden()
    sequence = _next_sequence(session, issued_on.year)  # from here on, issuers take turns until the commit
    previous = latest_certificate(session, inspection.building_id)
    if previous is not None and previous.inspected_on > inspected_on:
        raise CertificateRefused(
            N_("Certificate %(number)s is based on a later inspection of this building."), number=previous.number
        )
    building, checklist = inspection.building, inspection.checklist_version.checklist
    certificate = Certificate(
        number=format_number(issued_on.year, sequence),
        year=issued_on.year,
        sequence=sequence,
        organisation_id=inspection.organisation_id,
        building_id=building.id,
        inspection_id=inspection.id,
        checklist_version_id=inspection.checklist_version_id,
        supersedes=previous,
        street_address=building.street_address,
        postcode=building.postcode,
        city=building.city,
        property_designation=building.property_designation,
        organisation_name=inspection.organisation.name,
        score=inspection.score_total,
        inspected_on=inspected_on,
        issued_on=issued_on,
        valid_until=valid_until(issued_on, checklist.pass_rule.validity_months),
        issued_at=utcnow(),
        issued_by_id=actor.id,
        public_token=token or new_token(),
        public_base_url=base_url or verification_base_url(),
    )
    pdf = render_sign(certificate)
    certificate.sign_pdf = pdf
    certificate.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    session.add(certificate)
    session.flush()
    return certificate


def revoke_certificate(
    session: Session, actor: User, certificate: Certificate, reason: str, at: datetime | None = None
) -> CertificateRevocation:
    reason = reason.strip()
    if not reason:
        raise DomainError(N_("Write why the certificate is revoked."))
    # Two admins at once: the second waits for the first, then sees its revocation.
    lock_for_write(session)
    session.execute(select(Certificate.id).where(Certificate.id == certificate.id).with_for_update())
    session.refresh(certificate, ["revocation"])
    if certificate.revocation is not None:
        raise DomainError(N_("Certificate %(number)s is already revoked."), number=certificate.number)
    revocation = CertificateRevocation(
        certificate=certificate, reason=reason[:2000], revoked_by_id=actor.id, revoked_at=at or utcnow()
    )
    session.add(revocation)
    session.flush()
    return revocation


def regenerate_sign(
    session: Session,
    actor: User,
    certificate: Certificate,
    reason: str,
    render_sign: Callable[[Certificate], bytes],
    *,
    base_url: str | None = None,
    at: datetime | None = None,
) -> CertificateSignRegeneration:
    """Replace the stored sign with a new file (same number and token) pointing to `base_url` (by default the
    address of a sign made now); the regeneration keeps who, when, why and the old file's sha256 and address."""
    reason = reason.strip()
    if not reason:
        raise DomainError(N_("Write why the sign is made again."))
    # Two admins at once: the second waits for the first, then replaces the first one's file.
    lock_for_write(session)
    session.execute(select(Certificate.id).where(Certificate.id == certificate.id).with_for_update())
    session.refresh(certificate, ["revocation", "pdf_sha256", "public_base_url"])
    if certificate.revocation is not None:
        raise DomainError(
            N_("Certificate %(number)s is revoked: its sign is not made again."), number=certificate.number
        )
    old_sha256, old_base_url = certificate.pdf_sha256, certificate.public_base_url
    # The changed certificate may reach the database only together with its regeneration (see models.py).
    with session.no_autoflush:
        certificate.public_base_url = base_url or verification_base_url()
        pdf = render_sign(certificate)
    new_sha256 = hashlib.sha256(pdf).hexdigest()
    if new_sha256 == old_sha256:
        session.refresh(certificate, ["public_base_url"])
        raise DomainError(N_("The new sign would be the same file as the stored one: nothing was changed."))
    regeneration = CertificateSignRegeneration(
        certificate=certificate,
        reason=reason[:2000],
        regenerated_by_id=actor.id,
        regenerated_at=at or utcnow(),
        old_sha256=old_sha256,
        new_sha256=new_sha256,
        old_base_url=old_base_url,
        new_base_url=certificate.public_base_url,
    )
    certificate.sign_pdf, certificate.pdf_sha256 = pdf, new_sha256
    session.add(regeneration)
    session.flush()
    return regeneration


def certificate_by_token(session: Session, token: str) -> Certificate | None:
    """The certificate with this verification token; None for anything else (every miss looks the same)."""
    if not 22 <= len(token) <= 64:
        return None
    return session.scalar(select(Certificate).where(Certificate.public_token == token))


def building_certificates(session: Session, building: Building) -> list[Certificate]:
    return list(
        session.scalars(
            select(Certificate)
            .where(Certificate.building_id == building.id)
            .options(selectinload(Certificate.superseded_by))
            .order_by(Certificate.id.desc())
        )
    )


def current_certificates(
    session: Session,
    organisation_id: int,
    *,
    area_id: int | None = None,
    building_ids: Iterable[int] | None = None,
    today: date | None = None,
) -> list[Certificate]:
    """The valid certificates (one per building at most) of an area or of chosen buildings, by address."""
    today = today or today_in_sweden()
    query = (
        select(Certificate)
        .join(Building, Building.id == Certificate.building_id)
        .where(Certificate.organisation_id == organisation_id, Certificate.valid_until >= today)
        .options(selectinload(Certificate.superseded_by))
        .order_by(Certificate.street_address, Certificate.number)
    )
    if area_id is not None:
        query = query.where(Building.area_id == area_id)
    if building_ids is not None:
        query = query.where(Certificate.building_id.in_(list(building_ids)))
    return [c for c in session.scalars(query) if c.status(today) is CertificateStatus.valid]
