"""The hash chain of the audit log: pure functions, no database and no app.

Every organisation has one chain (events outside any organisation, such as a failed login with an unknown e-mail
address, have chain 0). Entry n stores the SHA-256 of its own content together with the hash of entry n-1, so a
changed entry no longer matches its hash, and a removed one breaks the link of the entry after it. The chain's head
(the last sequence and hash) is kept beside it, so entries removed from the end are noticed too. Rewriting an
entry and every later one together with the head is not detectable from inside the database; the triggers that
refuse UPDATE and DELETE are the guard against that.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol

#: The previous hash of every chain's first entry.
GENESIS = "0" * 64
#: The columns an entry's hash covers (everything but its id and its own hash).
HASHED_FIELDS = (
    "chain",
    "sequence",
    "organisation_id",
    "at",
    "actor_id",
    "actor_email",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "request_id",
    "previous_hash",
)


def _plain(value: object) -> object:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} cannot be kept in the audit log")


def normalise(payload: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A before/after payload as the JSON column will give it back (dates and decimals as text), so the hash
    computed when the entry is written is the hash computed when it is read again."""
    if payload is None:
        return None
    normalised: dict[str, Any] = json.loads(json.dumps(payload, default=_plain))
    return normalised


def canonical(content: Mapping[str, Any]) -> bytes:
    """One byte string per content: sorted keys, no spaces, timestamps in ISO 8601."""
    return json.dumps(
        {name: content[name] for name in HASHED_FIELDS}, sort_keys=True, separators=(",", ":"), default=_plain
    ).encode("utf-8")


def entry_hash(content: Mapping[str, Any]) -> str:
    """The hash of an entry's content (which names the previous entry's hash)."""
    return hashlib.sha256(canonical(content)).hexdigest()


class StoredEntry(Protocol):
    """An entry as read back: its id, its hashed content and the hash stored with it."""

    @property
    def id(self) -> int: ...

    @property
    def sequence(self) -> int: ...

    @property
    def previous_hash(self) -> str: ...

    @property
    def entry_hash(self) -> str: ...

    def content(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Head:
    """The chain's last sequence and hash, as recorded when the last entry was appended."""

    sequence: int
    hash: str


@dataclass(frozen=True, slots=True)
class BrokenLink:
    """The first place where a chain does not hold, and why."""

    chain: int
    sequence: int
    entry_id: int | None
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    chain: int
    entries: int
    broken: BrokenLink | None
    #: The hash of the last entry (of an intact chain): kept elsewhere, it shows later that nothing was rewritten.
    last_hash: str = GENESIS


def check_chain(chain: int, entries: Iterable[StoredEntry], head: Head | None) -> ChainReport:
    """Walk one chain's entries in sequence order and report the first broken link (or none)."""
    expected_sequence, expected_previous, count = 1, GENESIS, 0

    def broken(sequence: int, entry_id: int | None, reason: str) -> ChainReport:
        return ChainReport(chain, count, BrokenLink(chain, sequence, entry_id, reason))

    for entry in entries:
        count += 1
        if entry.sequence != expected_sequence:
            return broken(
                expected_sequence,
                entry.id,
                f"entry {expected_sequence} is missing: the chain goes on with entry {entry.sequence}",
            )
        if entry.previous_hash != expected_previous:
            return broken(
                entry.sequence, entry.id, f"entry {entry.sequence} does not name the hash of the entry before it"
            )
        if entry_hash(entry.content()) != entry.entry_hash:
            return broken(
                entry.sequence, entry.id, f"entry {entry.sequence} was changed: its content does not match its hash"
            )
        expected_sequence, expected_previous = entry.sequence + 1, entry.entry_hash
    last = expected_sequence - 1
    recorded = head or Head(0, GENESIS)
    if recorded.sequence != last or recorded.hash != expected_previous:
        reason = f"the chain ends with entry {last}, but its head records entry {recorded.sequence}"
        if recorded.sequence > last:
            reason += ": entries were removed from its end"
        return broken(last + 1, None, reason)
    return ChainReport(chain, count, None, expected_previous)
