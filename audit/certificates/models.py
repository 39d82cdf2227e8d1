"""Certificates, their revocations, new files of their signs and the yearly number counter.

An issued certificate never changes: every fact on it (number, dates, address, organisation, score, token) is
written once. What happens to it later is recorded elsewhere, so the issued row stays as it was: a revocation is a
row of its own (`CertificateRevocation`), and a newer certificate for the same building names the one it
supersedes (`Certificate.supersedes_id`). Its status is worked out from these (see `status.py`). The one exception
is the stored sign (its file, sha256 and printed address): an admin may replace it, and only together with a
`CertificateSignRegeneration` row that keeps who, when, why and the old file's sha256 and address.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Date,
    ForeignKey,
    LargeBinary,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    event,
    inspect,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from audit.accounts.models import Organisation, User
from audit.buildings.models import Building
from audit.certificates.numbering import NUMBER_LENGTH
from audit.certificates.status import CertificateStatus, certificate_status
from audit.checklists.models import ChecklistVersion
from audit.database import Base, UTCDateTime, utcnow
from audit.errors import ImmutableError
from audit.inspections.models import Inspection

#: A stored base address is http(s), without a trailing slash (SQL, for CHECK constraints).
BASE_URL_RULE = "({column} LIKE 'http://%' OR {column} LIKE 'https://%') AND {column} NOT LIKE '%/'"


def verification_url(base_url: str, token: str) -> str:
    """The public address of a certificate's verification page, as printed in its QR code."""
    return f"{base_url}/v/{token}"


class Certificate(Base):
    __tablename__ = "certificates"
    __table_args__ = (
        UniqueConstraint("year", "sequence"),
        CheckConstraint("sequence >= 1", name="sequence_positive"),
        CheckConstraint("valid_until > issued_on", name="valid_after_issue"),
        CheckConstraint("inspected_on <= issued_on", name="inspected_before_issue"),
        CheckConstraint("score >= 0 AND score <= 1", name="score_range"),
        CheckConstraint("length(public_token) >= 22", name="token_length"),
        CheckConstraint("length(pdf_sha256) = 64", name="sha256_length"),
        CheckConstraint("supersedes_id IS NULL OR supersedes_id <> id", name="supersedes_other"),
        CheckConstraint(BASE_URL_RULE.format(column="public_base_url"), name="public_base_url_form"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    #: e.g. ``TH-2026-000123``: the year of issue and its sequence (also kept apart, for the unique pair).
    number: Mapped[str] = mapped_column(String(NUMBER_LENGTH), unique=True)
    year: Mapped[int]
    sequence: Mapped[int]
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)
    #: The approved certification inspection it was issued from; one certificate per inspection.
    inspection_id: Mapped[int] = mapped_column(ForeignKey("inspections.id", ondelete="CASCADE"), unique=True)
    checklist_version_id: Mapped[int] = mapped_column(ForeignKey("checklist_versions.id"))
    #: The building's certificate this one replaces (the chain of a building's certificates).
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("certificates.id"), unique=True)
    #: The facts printed on the sign, as they were when it was issued (a later change to the building or the
    #: organisation does not change an issued certificate).
    street_address: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10))
    city: Mapped[str] = mapped_column(String(100))
    property_designation: Mapped[str | None] = mapped_column(String(100))
    organisation_name: Mapped[str] = mapped_column(String(200))
    #: The inspection's total score, 0–1.
    score: Mapped[Decimal] = mapped_column(Numeric(7, 6))
    #: Swedish calendar dates: the inspection's submission, the issue, and the last day of validity.
    inspected_on: Mapped[date] = mapped_column(Date)
    issued_on: Mapped[date] = mapped_column(Date)
    valid_until: Mapped[date] = mapped_column(Date, index=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    #: The secret in the public verification URL (`/v/<token>`): 256 random bits, never a sequence.
    public_token: Mapped[str] = mapped_column(String(64), unique=True)
    #: The app's public address the sign points to (`<public_base_url>/v/<token>`), as it was when the stored sign
    #: was made; every later rendering of the sign (other sizes, languages, batches) prints the same.
    public_base_url: Mapped[str] = mapped_column(String(200))
    #: The stored sign (A4, Swedish) and its sha256, so a printed or mailed copy can be checked later.
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    sign_pdf: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)

    organisation: Mapped[Organisation] = relationship()
    building: Mapped[Building] = relationship()
    inspection: Mapped[Inspection] = relationship()
    checklist_version: Mapped[ChecklistVersion] = relationship()
    issued_by: Mapped[User] = relationship()
    supersedes: Mapped[Certificate | None] = relationship(remote_side=[id], back_populates="superseded_by")
    superseded_by: Mapped[Certificate | None] = relationship(back_populates="supersedes", uselist=False)
    revocation: Mapped[CertificateRevocation | None] = relationship(
        back_populates="certificate", uselist=False, lazy="joined"
    )
    sign_regenerations: Mapped[list[CertificateSignRegeneration]] = relationship(
        back_populates="certificate", order_by="CertificateSignRegeneration.id"
    )

    @property
    def address(self) -> str:
        return f"{self.street_address}, {self.postcode} {self.city}"

    @property
    def verification_url(self) -> str:
        return verification_url(self.public_base_url, self.public_token)

    @property
    def issued_sha256(self) -> str:
        """The sha256 of the sign made at issue (kept by the first regeneration once the sign has been replaced)."""
        return self.sign_regenerations[0].old_sha256 if self.sign_regenerations else self.pdf_sha256

    @property
    def issued_verification_url(self) -> str:
        first = self.sign_regenerations[0] if self.sign_regenerations else None
        return verification_url(first.old_base_url if first else self.public_base_url, self.public_token)

    def status(self, today: date) -> CertificateStatus:
        return certificate_status(
            valid_until=self.valid_until,
            revoked=self.revocation is not None,
            superseded=self.superseded_by is not None,
            today=today,
        )

    def __repr__(self) -> str:
        return f"<Certificate {self.number}>"


class CertificateRevocation(Base):
    """An admin's revocation of a certificate: who, when and why. One per certificate, never changed."""

    __tablename__ = "certificate_revocations"
    __table_args__ = (CheckConstraint("length(trim(reason)) > 0", name="reason_given"),)

    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"), primary_key=True)
    reason: Mapped[str] = mapped_column(Text)
    revoked_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="revocation")
    revoked_by: Mapped[User] = relationship()


class CertificateSignRegeneration(Base):
    """An admin's new file for a certificate's stored sign: same number and token, possibly another address.

    Who, when and why, and the sha256 and address of the file it replaced and of the new one. Never changed.
    """

    __tablename__ = "certificate_sign_regenerations"
    __table_args__ = (
        CheckConstraint("length(trim(reason)) > 0", name="reason_given"),
        CheckConstraint("length(old_sha256) = 64 AND length(new_sha256) = 64", name="sha256_length"),
        CheckConstraint("old_sha256 <> new_sha256", name="new_file"),
        CheckConstraint(BASE_URL_RULE.format(column="old_base_url"), name="old_base_url_form"),
        CheckConstraint(BASE_URL_RULE.format(column="new_base_url"), name="new_base_url_form"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    regenerated_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    regenerated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    old_sha256: Mapped[str] = mapped_column(String(64))
    new_sha256: Mapped[str] = mapped_column(String(64))
    old_base_url: Mapped[str] = mapped_column(String(200))
    new_base_url: Mapped[str] = mapped_column(String(200))

    certificate: Mapped[Certificate] = relationship(back_populates="sign_regenerations")
    regenerated_by: Mapped[User] = relationship()

    @property
    def old_verification_url(self) -> str:
        return verification_url(self.old_base_url, self.certificate.public_token)

    @property
    def new_verification_url(self) -> str:
        return verification_url(self.new_base_url, self.certificate.public_token)


class CertificateCounter(Base):
    """The last sequence number used in a year; its row lock makes concurrent issuing take turns."""

    __tablename__ = "certificate_counters"
    __table_args__ = (CheckConstraint("last_sequence >= 0", name="last_sequence_positive"),)

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_sequence: Mapped[int] = mapped_column(default=0)


class BatchFormat(StrEnum):
    pdf = "pdf"
    zip = "zip"


#: What a regeneration of the sign replaces on the certificate.
SIGN_COLUMNS = frozenset({"sign_pdf", "pdf_sha256", "public_base_url"})
_FINAL = Certificate | CertificateRevocation | CertificateSignRegeneration


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_issued_certificates(session: Session, _context: Any, _instances: Any) -> None:
    """Issued certificates, revocations and regenerations are final: never updated, never deleted (only with their
    organisation). Only the stored sign may be replaced, and only with a regeneration that records it."""
    recorded = {
        (id(obj.certificate), obj.new_sha256, obj.new_base_url)
        for obj in session.new
        if isinstance(obj, CertificateSignRegeneration)
    }
    for obj in (*session.dirty, *session.deleted):
        if not isinstance(obj, _FINAL):
            continue
        changed = set(_changed_columns(obj))
        deleted = obj in session.deleted
        sign_replaced = (
            isinstance(obj, Certificate)
            and not deleted
            and bool(changed)
            and changed <= SIGN_COLUMNS
            and (id(obj), obj.pdf_sha256, obj.public_base_url) in recorded
        )
        if sign_replaced:
            continue
        if deleted or changed:
            raise ImmutableError(f"{obj!r} is issued and can no longer change")


def _changed_columns(obj: Base) -> list[str]:
    """Stored values about to change (a newer certificate or a revocation pointing at it is not a change)."""
    state = inspect(obj)
    return [attr.key for attr in state.mapper.column_attrs if state.attrs[attr.key].history.has_changes()]
