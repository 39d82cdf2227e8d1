"""The organisation's dashboard: buildings by certification state next to their open and overdue tasks, and the
certificates that expire soon. A fixed number of queries, whatever the number of buildings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session, aliased, joinedload, lazyload

from audit.buildings.models import Building
from audit.certificates.models import Certificate, CertificateRevocation
from audit.certificates.status import CertificateStatus
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
    #: One page of the organisation's buildings, by name.
    buildings: list[BuildingRow]
    #: state → number of buildings, in a fixed order.
    by_state: dict[str, int]
    #: The first EXPIRING_SHOWN valid certificates whose last day falls within EXPIRY_WINDOW, soonest first.
    expiring: list[Certificate]
    #: How many there are in all.
    expiring_total: int
    page: int
    pages: int


_S = CertificateStatus
STATES = (_S.valid.value, _S.expired.value, _S.revoked.value, NOT_CERTIFIED)
#: Buildings on a page of the dashboard's table; expiring certificates listed at most.
PAGE_SIZE = 50
EXPIRING_SHOWN = 50


def _current_certificates(organisation_id: int, today: date) -> Any:
    """Each certified building's latest certificate (the one no newer certificate supersedes) and its state, as
    `certificate_status` says it."""
    newer = aliased(Certificate, name="newer")
    state = case(
        (CertificateRevocation.certificate_id.is_not(None), _S.revoked.value),
        (Certificate.valid_until < today, _S.expired.value),
        else_=_S.valid.value,
    ).label("state")
    return (
        select(
            Certificate.building_id,
            Certificate.number,
            Certificate.valid_until,
            CertificateRevocation.revoked_at,
            state,
        )
        .outerjoin(CertificateRevocation, CertificateRevocation.certificate_id == Certificate.id)
        .outerjoin(newer, newer.supersedes_id == Certificate.id)
        .where(Certificate.organisation_id == organisation_id, newer.id.is_(None))
        .subquery("current_certificate")
    )


def certification_overview(
    session: Session, organisation_id: int, today: date, page: int = 1, page_size: int = PAGE_SIZE
) -> CertificationOverview:
    """Buildings by certification state, one page of buildings with their latest certificate and open tasks, and
    the certificates expiring soon: a fixed number of statements, whatever the size of the portfolio (grouped
    counts over the certificates, and only the page's buildings joined with theirs)."""
    current = _current_certificates(organisation_id, today)
    grouped = select(current.c.state, func.count()).group_by(current.c.state)
    tally = {str(state): int(count) for state, count in session.execute(grouped)}
    total = session.scalar(select(func.count(Building.id)).where(Building.organisation_id == organisation_id)) or 0
    tally[NOT_CERTIFIED] = total - sum(tally.values())
    pages = max(1, -(-total // page_size))
    page = min(max(page, 1), pages)
    shown_ids = (
        select(Building.id)
        .where(Building.organisation_id == organisation_id)
        .order_by(Building.name, Building.id)
        .limit(page_size)
        .offset((page - 1) * page_size)
        .subquery("shown")
    )
    rows = session.execute(
        select(Building, current.c.number, current.c.valid_until, current.c.revoked_at, current.c.state)
        .join(shown_ids, shown_ids.c.id == Building.id)
        .outerjoin(current, current.c.building_id == Building.id)
        .options(joinedload(Building.area), lazyload(Building.feature_rows))
        .order_by(Building.name, Building.id)
    ).all()
    counts = building_task_counts(session, organisation_id, today, [row[0].id for row in rows])
    buildings = [
        BuildingRow(building, state or NOT_CERTIFIED, number, valid_until, revoked_at, *counts.get(building.id, (0, 0)))
        for building, number, valid_until, revoked_at, state in rows
    ]
    newer = aliased(Certificate)
    expiring = (
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
    )
    expiring_total = session.scalar(expiring.with_only_columns(func.count(Certificate.id))) or 0
    shown = session.scalars(
        expiring.options(joinedload(Certificate.building).lazyload(Building.feature_rows))
        .order_by(Certificate.valid_until, Certificate.number)
        .limit(EXPIRING_SHOWN)
    ).all()
    return CertificationOverview(
        buildings, {key: tally.get(key, 0) for key in STATES}, list(shown), expiring_total, page, pages
    )
