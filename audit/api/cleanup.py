"""The API's clean-up for `tryggahus purge`: idempotency records past their retention.

A record lets a retried write get its first answer instead of a second effect; an offline tablet may retry days
later, so records are kept for `Settings.idempotency_retention_days` (30 by default) and then removed.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from sqlalchemy.orm import Session

from audit.api.models import IdempotencyRecord
from audit.purge import Removed, delete_in_batches


def expired_idempotency_records(session: Session, *, before: datetime, dry_run: bool) -> Iterator[Removed]:
    yield from delete_in_batches(
        session,
        IdempotencyRecord.id,
        IdempotencyRecord.created_at < before,
        what=f"%d made before {before:%Y-%m-%d %H:%M} UTC",
        dry_run=dry_run,
    )
