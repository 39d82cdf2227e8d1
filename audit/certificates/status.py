"""A certificate's status, worked out from its issued facts and the date (pure: no Flask, no database).

Most important first: a revoked certificate is revoked whatever its dates; one replaced by a newer certificate
for the same building is superseded; otherwise it is valid through its last day and expired after it.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

#: Certificates are dated in Swedish time: a certificate valid through 31 December is valid all that day in Sweden.
TIMEZONE = ZoneInfo("Europe/Stockholm")


class CertificateStatus(StrEnum):
    valid = "valid"
    expired = "expired"
    revoked = "revoked"
    superseded = "superseded"


def certificate_status(*, valid_until: date, revoked: bool, superseded: bool, today: date) -> CertificateStatus:
    if revoked:
        return CertificateStatus.revoked
    if superseded:
        return CertificateStatus.superseded
    if today > valid_until:
        return CertificateStatus.expired
    return CertificateStatus.valid


def local_date(moment: datetime) -> date:
    """The Swedish calendar date of an aware timestamp."""
    return moment.astimezone(TIMEZONE).date()


def today_in_sweden() -> date:
    return datetime.now(TIMEZONE).date()
