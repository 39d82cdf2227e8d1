"""Many synthetic tasks at once, for load tests and the benchmark (`make bench`): Core inserts, no ORM objects.

`add_synthetic_tasks()` gives an organisation `count` tasks spread over buildings named "Lasttest NNN" (made
here, each with one draft inspection the tasks point to), so the manager's list can be measured with ten
thousand tasks in a second or two. Never used by the app itself.
"""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, insert, select

from audit.accounts.models import Membership, Role
from audit.buildings.models import Area, Building
from audit.certificates.status import today_in_sweden
from audit.checklists.models import ChecklistVersion
from audit.checklists.schema import Severity
from audit.database import utcnow
from audit.inspections.models import Inspection, InspectionKind, InspectionStatus
from audit.remediation.models import RemediationTask
from audit.remediation.workflow import TaskStatus

BATCH = 1000
#: The statuses synthetic tasks get (verified ones would need a verifier; they are not what a list is about).
STATUSES = (TaskStatus.open, TaskStatus.in_progress, TaskStatus.done)


def _insert(connection: Connection, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    ids: list[int] = []
    for start in range(0, len(rows), BATCH):
        result = connection.execute(insert(table).returning(table.c.id), rows[start : start + BATCH])
        ids.extend(row[0] for row in result)
    return ids


def add_synthetic_tasks(connection: Connection, organisation_id: int, count: int, seed: int = 7) -> int:
    """Add `count` tasks to the organisation; returns the number of buildings made for them."""
    rng = random.Random(seed)  # noqa: S311 (made-up test data, not secrets)
    version = connection.execute(select(ChecklistVersion.id).order_by(ChecklistVersion.id.desc()).limit(1)).scalar()
    inspector = connection.execute(
        select(Membership.user_id).where(Membership.organisation_id == organisation_id).limit(1)
    ).scalar()
    if version is None or inspector is None:
        raise ValueError("load a checklist and add a member to the organisation first")
    assignees: list[int | None] = [
        None,
        *connection.scalars(
            select(Membership.user_id).where(
                Membership.organisation_id == organisation_id, Membership.role.in_((Role.contractor, Role.manager))
            )
        ),
    ]
    keys = [f"{section}-{number:02d}" for section in ("UTE", "BEL", "ENT", "LAS", "TRP") for number in range(1, 21)]
    building_count = -(-count // len(keys))
    now = utcnow()
    area_ids = _insert(
        connection,
        Area.__table__,
        [{"organisation_id": organisation_id, "name": f"Lasttest {n}", "created_at": now} for n in range(1, 6)],
    )
    building_ids = _insert(
        connection,
        Building.__table__,
        [
            {
                "organisation_id": organisation_id,
                "area_id": area_ids[n % len(area_ids)],
                "name": f"Lasttest {n:03d}",
                "street_address": f"Provgatan {n}",
                "postcode": "123 45",
                "city": "Provstad",
                "created_at": now,
            }
            for n in range(1, building_count + 1)
        ],
    )
    inspection_ids = _insert(
        connection,
        Inspection.__table__,
        [
            {
                "organisation_id": organisation_id,
                "building_id": building_id,
                "checklist_version_id": version,
                "kind": InspectionKind.certification.value,
                "status": InspectionStatus.draft.value,
                "inspector_id": inspector,
                "created_at": now,
            }
            for building_id in building_ids
        ],
    )
    today = today_in_sweden()
    rows = []
    for number in range(count):
        place = number % building_count
        key = keys[number // building_count]
        status = rng.choice(STATUSES)
        assignee = rng.choice(assignees)
        if status is TaskStatus.done and assignee is None:
            status = TaskStatus.in_progress
        done = status is TaskStatus.done
        rows.append(
            {
                "organisation_id": organisation_id,
                "building_id": building_ids[place],
                "inspection_id": inspection_ids[place],
                "section_key": key.split("-")[0],
                "item_key": key,
                "item_text_sv": f"Kontrollpunkt {key} i lasttestet",
                "item_text_en": f"Checklist point {key} of the load test",
                "critical": False,
                "severity": rng.choice(list(Severity)).value,
                "due_date": today + timedelta(days=rng.randint(-60, 90)),
                "status": status.value,
                "assignee_id": assignee,
                "created_at": now - timedelta(days=rng.randint(0, 84)),
                "completed_at": now if done else None,
                "completed_by_id": assignee if done else None,
                "completion_comment": "Åtgärdat enligt anvisning." if done else None,
                "repeat_count": 0,
            }
        )
    _insert(connection, RemediationTask.__table__, rows)
    return building_count
