"""Many synthetic deviation reports at once, for the benchmark (`make bench`): Core inserts, no ORM objects.

`add_synthetic_reports()` fills an EST group's members' counted areas with reports over the last year, copying
the catalogue version, reporter and places of the reports already there (run it after `tryggahus demo`), so the
weekly situation picture can be measured with 50,000 reports. Never used by the app itself.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from audit.database import utcnow
from audit.deviations.est.models import EstAreaLink
from audit.deviations.models import DeviationReport
from audit.deviations.workflow import DeviationStatus

BATCH = 2000
CATEGORIES = ("youth_gathering", "disturbance", "graffiti", "vandalism", "break_in", "broken_lighting", "littering")


def add_synthetic_reports(connection: Connection, group_id: int, count: int, seed: int = 14) -> int:
    """Add `count` new reports in the group's areas, seen over the last 52 weeks; returns how many were added."""
    rng = random.Random(seed)  # noqa: S311  (synthetic data, not security)
    templates = connection.execute(
        select(
            DeviationReport.organisation_id,
            DeviationReport.area_id,
            DeviationReport.place_id,
            DeviationReport.catalogue_id,
            DeviationReport.reported_by_id,
            DeviationReport.urgency,
        )
        .join(EstAreaLink, EstAreaLink.area_id == DeviationReport.area_id)
        .where(EstAreaLink.group_id == group_id)
    ).all()
    if not templates:
        return 0
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for _ in range(count):
        template = rng.choice(templates)
        seen = now - timedelta(minutes=rng.randrange(60 * 24 * 7 * 52))
        rows.append(
            {
                "organisation_id": template.organisation_id,
                "catalogue_id": template.catalogue_id,
                "category_key": rng.choice(CATEGORIES),
                "sensitive": False,
                "police_tip": False,
                "area_id": template.area_id,
                "place_id": template.place_id if rng.random() < 0.3 else None,
                "seen_at": seen,
                "reported_at": seen,
                "reported_by_id": template.reported_by_id,
                "description": "Syntetisk rapport.",
                "urgency": template.urgency,
                "status": DeviationStatus.new,
            }
        )
    for start in range(0, len(rows), BATCH):
        connection.execute(insert(DeviationReport), rows[start : start + BATCH])
    return count
