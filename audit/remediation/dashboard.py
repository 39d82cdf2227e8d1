"""The organisation's dashboard: buildings by certification state next to their open and overdue tasks, and the
certificates that expire soon. A fixed number of queries, whatever the number of buildings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, selectinload

from audit.buildings.models import Building
from audit.certificates.models import Certificate, CertificateRevocation
from audit.certificates.status import CertificateStatus, certificate_status
from audit.remediation.queries import building_task_counts

#: How far ahead the dashboard warns about certificates running out.
EXPIRY_WINDOW = timedelta(days=90)
#: The state of a building that has never had a certificate.
NOT_CERTIFIED = "not_certified"


@dataclass(frozen=True)
class BuildingRow:
    building: Building
    #: The state of its latest certificate (valid, expired, revoked) or NOT_CERTIFIED.
    state: str
    certificate_number: str | None
    valid_until: date | None
    #: When its latest certificate was revoked (None unless it was).
    revoked_at: datetime | None
    open: int
    overdue: int


@dataclass(frozen=True)
class CertificationOverview:
    buildings: list[BuildingRow]
    #: state → number of buildings, in a fixed order.
    by_state: dict[str, int]
    #: Valid certificates whose last day falls within EXPIRY_WINDOW, soonest first.
    expiring: list[Certificate]


_S = CertificateStatus
STATES = (_S.valid.value, _S.expired.value, _S.revoked.value, NOT_CERTIFIED)


def certification_overview(session: Session, organisation_id: int, today: date) -> CertificationOverview:
    latest = (
        select(func.max(Certificate.id))
        .where(Certificate.organisation_id == organisation_id)
        .group_by(Certificate.building_id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(Building, Certificate.number, Certificate.valid_until, CertificateRevocation.revoked_at)
        .outerjoin(Certificate, (Certificate.building_id == Building.id) & Certificate.id.in_(latest))
        .outerjoin(CertificateRevocation, CertificateRevocation.certificate_id == Certificate.id)
        .where(Building.organisation_id == organisation_id)
        .options(selectinload(Building.area))
        .order_by(Building.name)
    ).all()
    counts = building_task_counts(session, organisation_id, today)
    buildings = []
    for building, number, valid_until, revoked_at in rows:
        state = (
            NOT_CERTIFIED
            if number is None
            else certificate_status(
                valid_until=valid_until, revoked=revoked_at is not None, superseded=False, today=today
            ).value
        )
        open_, overdue = counts.get(building.id, (0, 0))
        buildings.append(BuildingRow(building, state, number, valid_until, revoked_at, open_, overdue))
    tally = Counter(row.state for row in buildings)
    newer = aliased(Certificate)
    expiring = session.scalars(
        select(Certificate)
        .outerjoin(CertificateRevocation, CertificateRevocation.certificate_id == Certificate.id)
        .outerjoin(newer, newer.supersedes_id == Certificate.id)
        .where(
            Certificate.organisation_id == organisation_id,
            Certificate.valid_until >= today,
            Certificate.valid_until <= today + EXPIRY_WINDOW,
            CertificateRevocation.certificate_id.is_(None),
            newer.id.is_(None),
        )
        .options(selectinload(Certificate.building))
        .order_by(Certificate.valid_until, Certificate.number)
    ).all()
    return CertificationOverview(buildings, {state: tally.get(state, 0) for state in STATES}, list(expiring))
