"""A portfolio-scale organisation for load tests and `make bench`: `tryggahus demo --scale N` (N buildings).

At N = 10,000 it is the scale issue's portfolio: 50 areas, 50,000 inspections with about 3.6 million answers,
100,000 remediation tasks, 8,000 certificates and about 5,000 photos; everything else is proportional (N/200
areas, 5 inspections and up to 10 tasks per building, 80 certificates per 100 buildings (76 are certified, 4 of
them twice), photos for every fourth building's latest findings).

The rows are valid as the app would have made them: every inspection follows the state machine (certification,
follow-up and spot check over five years; drafts, submitted, returned, discarded and approved), its answers are the
checklist's own (`check_answer`) and its score card comes from the real scoring (`score`), computed once for a
handful of answer patterns per set of building features and reused. Follow-ups carry the items `follow_up_items`
picks. Tasks come from the failed answers of approved inspections, in every state, one unfinished task per item
and building. Certificates are valid, expiring, expired, revoked and superseded in proportion; every stored sign
is the same small real PDF made once by the caller (so its printed number is only right for the first). Photos
are real small JPEG files in the photo store (its `save`), one pair per photo row; they are written before
the transaction commits, so a run that fails leaves files that `tryggahus purge` removes. Task histories (task
events) are not generated: each task's page shows an empty history.

Rows are written per chunk of buildings with ids chosen here: on PostgreSQL through COPY (psycopg's
`cursor.copy`), elsewhere as SQLAlchemy Core inserts; on PostgreSQL the id sequences are moved past the new rows
at the end and the tables analysed. Measured on the 2-core machine, busy, 500 buildings (178,000 answers): 14 to
19 s with COPY, 26 to 29 s with Core inserts (`copy=False`). Never used by the app itself.
"""

from __future__ import annotations

import hashlib
import json
import random
import secrets
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, ClassVar, Protocol

from sqlalchemy import Connection, Table, func, insert, select, text, update

from audit.accounts.models import Membership, Organisation, Role
from audit.buildings.features import Feature
from audit.buildings.models import Area, Building, BuildingFeature
from audit.certificates.models import Certificate, CertificateCounter, CertificateRevocation
from audit.certificates.numbering import format_number, valid_until
from audit.checklists.schema import Checklist, Item, MeasurementAnswer, is_applicable
from audit.demo import BUILDINGS, answer_for
from audit.inspections.answers import AnswerInput, AnswerResult, check_answer
from audit.inspections.models import Answer, Inspection, InspectionKind, InspectionStatus
from audit.inspections.scoring import Response, score
from audit.photos.models import Photo
from audit.remediation.follow_up import follow_up_items, restricted
from audit.remediation.models import FollowUp, RemediationTask
from audit.remediation.workflow import TaskStatus

#: Buildings written per transaction step (all their rows at once).
CHUNK = 500
BUILDINGS_PER_AREA = 200
TASKS_PER_BUILDING = 10
#: Photo rows: the photo-required findings of every PHOTO_EVERY-th building's newest scored inspection.
PHOTO_EVERY = 4
AREA_NAMES = (
    "Rinkeby", "Tensta", "Husby", "Akalla", "Hjulsta", "Skärholmen", "Bredäng", "Sätra", "Vårby", "Hallunda",
    "Norsborg", "Rågsved", "Hagsätra", "Farsta", "Hökarängen", "Bagarmossen", "Skarpnäck", "Kista", "Hässelby",
    "Vällingby", "Spånga", "Hallonbergen", "Rissne", "Flemingsberg", "Visättra", "Jordbro", "Hammarkullen",
    "Angered", "Bergsjön", "Biskopsgården", "Rosengård", "Herrgården", "Holma", "Kroksbäck", "Gottsunda",
    "Valsätra", "Navestad", "Skäggetorp", "Ryd", "Araby", "Gamlegården", "Vivalla", "Oxhagen", "Ronna", "Hovsjö",
    "Fisksätra", "Ålidhem", "Lövgärdet", "Backa", "Hjällbo",
)  # fmt: skip
STREET_ENDINGS = ("vägen", "gatan", "stråket", "gränd", "backe")
#: The sets of features buildings have: the demo's ten, so each kind of building recurs.
FEATURE_SETS: tuple[frozenset[Feature], ...] = tuple(frozenset(spec["features"]) for spec in BUILDINGS)
COMMENT = "Brist noterad vid besiktningen; se foto."


class FileSaver(Protocol):
    """What the generator needs of the photo store (`audit.photos.services.photo_store()`)."""

    def save(self, data: bytes, suffix: str = ".jpg") -> str: ...


@dataclass(frozen=True)
class PhotoFiles:
    """One cleaned photo (see `audit.photos.processing`), written again under a new name for every photo row."""

    data: bytes
    thumbnail: bytes
    sha256: str
    media_type: str
    width: int
    height: int


@dataclass(frozen=True)
class Pattern:
    """One way an inspection of a building with given features was answered, scored once."""

    #: (item_key, result, value, choice, text, comment) per answer.
    answers: tuple[tuple[str, str | None, Decimal | None, str | None, str | None, str | None], ...]
    total: Decimal | None
    passed: bool | None
    card: dict[str, Any] | None
    #: The failed items that make remediation tasks: (section key, item, value).
    failed: tuple[tuple[str, Item, Decimal | None], ...]


@dataclass
class Summary:
    buildings: int = 0
    areas: int = 0
    inspections: int = 0
    answers: int = 0
    tasks: int = 0
    certificates: int = 0
    photos: int = 0
    by_state: dict[str, int] = field(default_factory=dict)

    def count(self, key: str, times: int = 1) -> None:
        self.by_state[key] = self.by_state.get(key, 0) + times


class Patterns:
    """The answer patterns of one checklist: per feature set, passing, failing, spot-check and partial (draft)."""

    #: outcome → (share of non-critical items that fail, share of items answered, a critical item fails)
    OUTCOMES: ClassVar[dict[str, tuple[float, float, bool]]] = {
        "passing": (0.03, 1.0, False),
        "spot_check": (0.10, 1.0, False),
        "failing": (0.25, 1.0, False),
        "critical": (0.05, 1.0, True),
        "draft": (0.05, 0.8, False),
    }
    VARIANTS = 3

    def __init__(self, checklist: Checklist) -> None:
        self.checklist = checklist
        self._cache: dict[tuple[Any, ...], Pattern] = {}

    def get(self, features: int, outcome: str, variant: int) -> Pattern:
        key = (features, outcome, variant % self.VARIANTS)
        if key not in self._cache:
            seed = features * 1000 + list(self.OUTCOMES).index(outcome) * 100 + key[2]
            wanted = {"passing": True, "failing": False, "critical": False}.get(outcome)
            # A pattern whose verdict is not its name's is drawn again (with the next seed).
            for attempt in range(50):
                pattern = self._make(FEATURE_SETS[features], outcome, random.Random(seed + attempt * 10))  # noqa: S311
                if wanted is None or pattern.passed is wanted:
                    break
            self._cache[key] = pattern
        return self._cache[key]

    def follow_up(self, features: int, previous: Pattern) -> tuple[list[str], Pattern]:
        """The items a follow-up of `previous` covers, and their answers (all fixed), scored on those items."""
        key = ("follow_up", features, id(previous))
        failed = {item.key for _s, item, _v in previous.failed}
        keys = follow_up_items(self.checklist, FEATURE_SETS[features], failed, ())
        if key not in self._cache:
            self._cache[key] = self._make(
                FEATURE_SETS[features],
                "passing",
                random.Random(1),  # noqa: S311
                restricted(self.checklist, keys),
                fail_share=0,
            )
        return keys, self._cache[key]

    def _make(
        self,
        features: frozenset[Feature],
        outcome: str,
        rng: random.Random,
        checklist: Checklist | None = None,
        fail_share: float | None = None,
    ) -> Pattern:
        checklist = checklist or self.checklist
        share, answered, critical_fails = self.OUTCOMES[outcome]
        share = share if fail_share is None else fail_share
        rows, responses, failed = [], {}, []
        critical_done = False
        for section, item in checklist.items():
            if not is_applicable(section, item, features) or (answered < 1 and rng.random() > answered):
                continue
            fails = (not item.critical and rng.random() < share) or (
                critical_fails and item.critical and not critical_done
            )
            critical_done = critical_done or (fails and item.critical)
            given = answer_for(item, passing=not fails)
            if fails:
                given = AnswerInput(given.result, given.value, given.choice, given.text, comment=COMMENT)
            checked = check_answer(item, given)
            rows.append(
                (item.key, _value(checked.result), checked.value, checked.choice, checked.text, checked.comment)
            )
            responses[item.key] = Response(
                not_applicable=checked.result is AnswerResult.not_applicable,
                passed=None
                if checked.result not in (AnswerResult.passed, AnswerResult.failed)
                else checked.result is AnswerResult.passed,
                value=None if checked.value is None else float(checked.value),
                choice=checked.choice,
                text=checked.text,
            )
            if checked.result is AnswerResult.failed and item.remediation is not None:
                failed.append((section.key, item, checked.value))
        if answered < 1:  # a draft: not scored yet
            return Pattern(tuple(rows), None, None, None, tuple(failed))
        card = score(checklist, features, responses)
        total = card.total
        exact = None if total is None else Decimal(total.numerator) / Decimal(total.denominator)
        return Pattern(
            tuple(rows),
            None if exact is None else exact.quantize(Decimal("0.000001")),
            card.passed,
            card.to_dict(),
            tuple(failed),
        )


def _value(member: Any) -> Any:
    return None if member is None else member.value


# --- writing rows ------------------------------------------------------------------------------------------------


class Writer:
    """Rows with ids chosen here: COPY on PostgreSQL, Core inserts elsewhere."""

    def __init__(self, connection: Connection, copy: bool = True) -> None:
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self.copy = copy and self.postgresql
        self._next: dict[str, int] = {}
        self.tables: set[Table] = set()

    def next_id(self, table: Any) -> int:
        name = table.__table__.name
        if name not in self._next:
            self._next[name] = (self.connection.scalar(select(func.max(table.id))) or 0) + 1
        self._next[name] += 1
        return self._next[name] - 1

    def write(self, model: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        table: Table = model.__table__
        self.tables.add(table)
        if self.copy:
            self._copy(table, columns, rows)
        else:
            self.connection.execute(insert(table), [dict(zip(columns, row, strict=True)) for row in rows])

    def _copy(self, table: Table, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        raw = self.connection.connection.driver_connection
        statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
            for row in rows:
                copy.write_row([json.dumps(v) if isinstance(v, dict | list) else v for v in row])

    def finish(self) -> None:
        """Move PostgreSQL's id sequences past the ids chosen here, and renew the planner's statistics of the
        tables (autovacuum would, some time later; the pages are measured right after)."""
        if not self.postgresql:
            return
        for table in self.tables:
            self.connection.execute(text(f"ANALYZE {table.name}"))
            if "id" in table.c:
                self.connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608 (our table names)
                        f"(SELECT coalesce(max(id), 1) FROM {table.name}))"
                    )
                )


# --- the portfolio -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """What every chunk needs: the organisation, its people, the checklist and the shared files."""

    organisation_id: int
    organisation_name: str
    version_id: int
    checklist: Checklist
    users: dict[Role, int]
    today: date
    sign_pdf: bytes
    sign_sha256: str
    public_base_url: str
    photos: PhotoFiles | None
    store: FileSaver | None


def add_portfolio(
    connection: Connection,
    organisation_id: int,
    scale: int,
    *,
    version_id: int,
    checklist: Checklist,
    sign_pdf: bytes,
    public_base_url: str,
    today: date,
    photos: PhotoFiles | None = None,
    store: FileSaver | None = None,
    seed: int = 2026,
    progress: Any = None,
    first: int = 0,
    copy: bool = True,
) -> Summary:
    """Add `scale` buildings with their inspections, answers, tasks, certificates and photos to the organisation.

    The organisation needs a member of every role (the demo's). The buildings are numbered from `first`, so a
    portfolio can grow by another call; ValueError if building number `first` exists already. `copy=False`
    writes with Core inserts on PostgreSQL too (to compare).
    """
    users = {
        Role(role): user_id
        for user_id, role in connection.execute(
            select(Membership.user_id, Membership.role).where(Membership.organisation_id == organisation_id)
        )
    }
    if not {Role.inspector, Role.manager, Role.admin, Role.contractor} <= set(users):
        raise ValueError("the organisation needs an inspector, a manager, an admin and a contractor")
    names = area_names(max(1, (first + scale) // BUILDINGS_PER_AREA))
    taken = connection.scalar(
        select(func.count())
        .select_from(Building)
        .where(Building.organisation_id == organisation_id, Building.name == building_name(first, names))
    )
    if taken:
        raise ValueError("the portfolio has been added to this organisation already")
    setting = Setting(
        organisation_id,
        connection.scalar(select(Organisation.name).where(Organisation.id == organisation_id)) or "",
        version_id,
        checklist,
        users,
        today,
        sign_pdf,
        hashlib.sha256(sign_pdf).hexdigest(),
        public_base_url.rstrip("/"),
        photos,
        store,
    )
    writer = Writer(connection, copy)
    area_ids = _areas(connection, writer, organisation_id, names)
    summary = Summary(areas=len(names))
    numbers = _Numbers(connection)
    patterns = Patterns(checklist)
    rng = random.Random(seed + first)  # noqa: S311 (made-up data, not secrets)
    for start in range(first, first + scale, CHUNK):
        chunk = _Chunk(setting, writer, patterns, numbers, rng, summary)
        for index in range(start, min(first + scale, start + CHUNK)):
            chunk.building(index, area_ids[index % len(area_ids)], names)
        chunk.flush()
        if progress is not None:
            progress(min(first + scale, start + CHUNK) - first)
    numbers.store()
    writer.finish()
    return summary


def _areas(connection: Connection, writer: Writer, organisation_id: int, names: list[str]) -> list[int]:
    """The ids of these areas of the organisation, made where missing."""
    existing = {
        row.name: row.id
        for row in connection.execute(
            select(Area.name, Area.id).where(Area.organisation_id == organisation_id, Area.name.in_(names))
        )
    }
    missing = [
        (writer.next_id(Area), organisation_id, name, datetime.now(UTC)) for name in names if name not in existing
    ]
    writer.write(Area, ("id", "organisation_id", "name", "created_at"), missing)
    existing.update((row[2], row[0]) for row in missing)
    return [existing[name] for name in names]


def building_name(index: int, names: list[str]) -> str:
    """The name (and street address) of the portfolio's building number `index`: unique for every index."""
    area = names[index % len(names)].split(" ")[0]
    return f"{area}{STREET_ENDINGS[index % len(STREET_ENDINGS)]} {index // len(STREET_ENDINGS) + 1}"


def area_names(count: int) -> list[str]:
    return [
        AREA_NAMES[n % len(AREA_NAMES)] + ("" if n < len(AREA_NAMES) else f" {n // len(AREA_NAMES) + 1}")
        for n in range(count)
    ]


class _Numbers:
    """Certificate numbers per year, continuing the organisation-wide counters."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.last = dict(connection.execute(select(CertificateCounter.year, CertificateCounter.last_sequence)).all())
        self.known = set(self.last)

    def next(self, year: int) -> tuple[str, int]:
        self.last[year] = self.last.get(year, 0) + 1
        return format_number(year, self.last[year]), self.last[year]

    def store(self) -> None:
        for year, last in self.last.items():
            if year in self.known:
                self.connection.execute(
                    update(CertificateCounter).where(CertificateCounter.year == year).values(last_sequence=last)
                )
            else:
                self.connection.execute(insert(CertificateCounter).values(year=year, last_sequence=last))


def _at(day: date, hour: int = 9) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=UTC)


@dataclass
class _Walk:
    """One inspection as it goes into the database, and the pattern of its answers."""

    id: int
    kind: InspectionKind
    status: InspectionStatus
    pattern: Pattern
    day: date
    follow_up: tuple[int, list[str]] | None = None


BUILDING_COLUMNS = (
    "id", "organisation_id", "area_id", "name", "street_address", "postcode", "city", "property_designation",
    "year_built", "apartments", "created_at",
)  # fmt: skip
INSPECTION_COLUMNS = (
    "id", "organisation_id", "building_id", "checklist_version_id", "kind", "status", "inspector_id",
    "reviewer_id", "created_at", "submitted_at", "reviewed_at", "review_comment", "score_total", "score_passed",
    "score_card", "discarded_by_id", "discarded_at", "discard_reason",
)  # fmt: skip
ANSWER_COLUMNS = (
    "id", "inspection_id", "item_key", "result", "value", "choice", "text", "comment", "answered_by_id",
    "answered_at", "revision",
)  # fmt: skip
TASK_COLUMNS = (
    "id", "organisation_id", "building_id", "inspection_id", "section_key", "item_key", "item_text_sv",
    "item_text_en", "critical", "severity", "due_date", "status", "finding", "measured_value", "measured_unit",
    "required_min", "required_max", "assignee_id", "created_at", "completed_at", "completed_by_id",
    "completion_comment", "verified_at", "verified_by_id", "verified_by_inspection_id", "repeat_count",
)  # fmt: skip
CERTIFICATE_COLUMNS = (
    "id", "number", "year", "sequence", "organisation_id", "building_id", "inspection_id", "checklist_version_id",
    "supersedes_id", "street_address", "postcode", "city", "property_designation", "organisation_name", "score",
    "inspected_on", "issued_on", "valid_until", "issued_at", "issued_by_id", "public_token", "public_base_url",
    "pdf_sha256", "sign_pdf",
)  # fmt: skip
PHOTO_COLUMNS = (
    "id", "organisation_id", "inspection_id", "item_key", "file_path", "thumbnail_path", "sha256", "media_type",
    "width", "height", "size_bytes", "uploaded_by_id", "uploaded_at",
)  # fmt: skip


class _Chunk:
    """The rows of a run of buildings, written table by table in the order of their foreign keys."""

    def __init__(
        self,
        setting: Setting,
        writer: Writer,
        patterns: Patterns,
        numbers: _Numbers,
        rng: random.Random,
        summary: Summary,
    ) -> None:
        self.s, self.writer, self.patterns, self.numbers, self.rng, self.summary = (
            setting,
            writer,
            patterns,
            numbers,
            rng,
            summary,
        )
        self.rows: dict[str, list[tuple[Any, ...]]] = {
            name: []
            for name in (
                "buildings",
                "features",
                "inspections",
                "follow_ups",
                "answers",
                "photos",
                "certificates",
                "revocations",
                "tasks",
            )
        }

    # --- one building --------------------------------------------------------------------------------------------

    def building(self, index: int, area_id: int, names: list[str]) -> None:
        s, rng = self.s, self.rng
        building_id = self.writer.next_id(Building)
        features = index % len(FEATURE_SETS)
        name = building_name(index, names)
        city = names[index % len(names)].split(" ")[0]
        number = index // len(STREET_ENDINGS) + 1
        self.rows["buildings"].append(
            (
                building_id,
                s.organisation_id,
                area_id,
                name,
                name,
                f"{163 + index % 40} {index % 90 + 10}",
                city,
                f"{city} {number // 20 + 1}:{number % 20 + 1}",
                rng.randint(1950, 2022),
                rng.randint(12, 160),
                _at(s.today - timedelta(days=2000)),
            )
        )
        self.rows["features"].extend((building_id, feature.value) for feature in sorted(FEATURE_SETS[features]))
        self.summary.buildings += 1
        walks = self._walks(index, features)
        for walk in walks:
            self._inspection(building_id, walk)
        self._certificates(index, building_id, walks)
        self._tasks(building_id, walks)
        if s.store is not None and s.photos is not None and index % PHOTO_EVERY == 0:
            self._photos(walks)

    def _walks(self, index: int, features: int) -> list[_Walk]:
        """Five inspections over five years, oldest first: certification, its follow-up, the current
        certification, a spot check, and this year's inspection in any state."""
        rng, today, p = self.rng, self.s.today, self.patterns
        # Of every 25 buildings, 19 are certified, and one of those twice (the first certificate superseded):
        # 20 certificates for 25 buildings.
        kind_of_building = index % 25
        certified = kind_of_building < 19
        twice = kind_of_building == 0
        phase = rng.randint(0, 250)
        first_day = today - timedelta(days=1750 - phase)
        first = p.get(features, "passing" if twice else rng.choice(("failing", "critical")), index)
        walks = [_Walk(self._id(), InspectionKind.certification, InspectionStatus.approved, first, first_day)]
        keys, follow = p.follow_up(features, first)
        walks.append(
            _Walk(
                self._id(),
                InspectionKind.follow_up,
                InspectionStatus.approved,
                follow,
                first_day + timedelta(days=120),
                (walks[0].id, keys),
            )
        )
        issue_age = self._issue_age(index)
        current = p.get(features, "passing" if certified else "failing", index + 1)
        walks.append(
            _Walk(
                self._id(),
                InspectionKind.certification,
                InspectionStatus.approved,
                current,
                today - timedelta(days=issue_age),
            )
        )
        spot_day = today - timedelta(days=max(70, issue_age // 2))
        walks.append(
            _Walk(
                self._id(),
                InspectionKind.spot_check,
                InspectionStatus.approved,
                p.get(features, "spot_check", index),
                spot_day,
            )
        )
        draw = rng.random()
        status, kind, outcome = (
            (InspectionStatus.draft, InspectionKind.certification, "draft")
            if draw < 0.35
            else (InspectionStatus.submitted, InspectionKind.spot_check, "spot_check")
            if draw < 0.5
            else (InspectionStatus.returned, InspectionKind.spot_check, "spot_check")
            if draw < 0.6
            else (InspectionStatus.discarded, InspectionKind.spot_check, "draft")
            if draw < 0.7
            else (InspectionStatus.approved, InspectionKind.spot_check, "passing")
        )
        day = today - timedelta(days=rng.randint(1, 60))
        walks.append(_Walk(self._id(), kind, status, p.get(features, outcome, index + 2), day))
        return walks

    def _issue_age(self, index: int) -> int:
        """Days since the current certificate was issued: valid, expiring within 90 days, or expired."""
        draw = index % 20
        if draw < 2:
            return self.rng.randint(1100, 1300)  # expired (36 months of validity)
        if draw < 4:
            return self.rng.randint(1010, 1090)  # expires within 90 days
        return self.rng.randint(90, 990)

    def _id(self) -> int:
        return self.writer.next_id(Inspection)

    def _inspection(self, building_id: int, walk: _Walk) -> None:
        s, users = self.s, self.s.users
        created = _at(walk.day)
        scored = walk.status in (InspectionStatus.submitted, InspectionStatus.approved, InspectionStatus.returned)
        reviewed = walk.status in (InspectionStatus.approved, InspectionStatus.returned)
        discarded = walk.status is InspectionStatus.discarded
        pattern = walk.pattern
        self.rows["inspections"].append(
            (
                walk.id,
                s.organisation_id,
                building_id,
                s.version_id,
                walk.kind.value,
                walk.status.value,
                users[Role.inspector],
                users[Role.manager] if reviewed else None,
                created,
                created + timedelta(hours=5) if scored else None,
                created + timedelta(days=2) if reviewed else None,
                "Komplettera foton i källaren." if walk.status is InspectionStatus.returned else None,
                pattern.total if scored else None,
                pattern.passed if scored else None,
                pattern.card if scored else None,
                users[Role.manager] if discarded else None,
                created + timedelta(days=1) if discarded else None,
                "Påbörjad två gånger." if discarded else None,
            )
        )
        if walk.follow_up is not None:
            self.rows["follow_ups"].append((walk.id, walk.follow_up[0], walk.follow_up[1]))
        answered = created + timedelta(hours=2)
        answers = self.rows["answers"]
        for key, result, value, choice, note, comment in pattern.answers:
            answers.append(
                (
                    self.writer.next_id(Answer),
                    walk.id,
                    key,
                    result,
                    value,
                    choice,
                    note,
                    comment,
                    users[Role.inspector],
                    answered,
                    1,
                )
            )
        self.summary.inspections += 1
        self.summary.answers += len(pattern.answers)
        self.summary.count(f"inspection {walk.kind.value} {walk.status.value}")

    # --- certificates ---------------------------------------------------------------------------------------------

    def _certificates(self, index: int, building_id: int, walks: list[_Walk]) -> None:
        building = self.rows["buildings"][-1]
        passing = [w for w in walks if w.kind is InspectionKind.certification and w.pattern.passed]
        previous: int | None = None
        for walk in passing:
            previous = self._certificate(building_id, building, walk, previous)
        if previous is None:
            self.summary.count("building not certified")
            return
        latest = self.rows["certificates"][-1]
        if index % 20 == 19:  # the current certificate is revoked, a month after its issue
            revoked = _at(latest[16] + timedelta(days=30), 14)
            reason = "Brandskyddet uppfyller inte längre kraven."
            self.rows["revocations"].append((previous, reason, self.s.users[Role.admin], revoked))
            self.summary.count("certificate revoked")
        elif latest[17] >= self.s.today:
            self.summary.count("certificate valid")
        else:
            self.summary.count("certificate expired")
        self.summary.count("certificate superseded", len(passing) - 1)

    def _certificate(self, building_id: int, building: tuple[Any, ...], walk: _Walk, previous: int | None) -> int:
        s = self.s
        certificate_id = self.writer.next_id(Certificate)
        issued_on = walk.day + timedelta(days=2)
        number, sequence = self.numbers.next(issued_on.year)
        until = valid_until(issued_on, s.checklist.pass_rule.validity_months)
        self.rows["certificates"].append(
            (
                certificate_id,
                number,
                issued_on.year,
                sequence,
                s.organisation_id,
                building_id,
                walk.id,
                s.version_id,
                previous,
                building[4],
                building[5],
                building[6],
                building[7],
                s.organisation_name,
                walk.pattern.total,
                walk.day,
                issued_on,
                until,
                _at(issued_on, 10),
                s.users[Role.manager],
                secrets.token_urlsafe(32),
                s.public_base_url,
                s.sign_sha256,
                s.sign_pdf,
            )
        )
        self.summary.certificates += 1
        return certificate_id

    # --- remediation tasks ----------------------------------------------------------------------------------------

    def _tasks(self, building_id: int, walks: list[_Walk]) -> None:
        """Up to TASKS_PER_BUILDING tasks from the approved inspections' failures, newest first, one per item."""
        rng, users = self.rng, self.s.users
        approved = [w for w in walks if w.status is InspectionStatus.approved]
        newest = approved[-1].id
        seen: set[str] = set()
        chosen = 0
        for walk in reversed(approved):
            for section_key, item, value in walk.pattern.failed:
                if item.key in seen or chosen >= TASKS_PER_BUILDING:
                    continue
                seen.add(item.key)
                chosen += 1
                self._task(building_id, walk, section_key, item, value, newest, rng, users)

    def _task(
        self,
        building_id: int,
        walk: _Walk,
        section_key: str,
        item: Item,
        value: Decimal | None,
        newest: int,
        rng: random.Random,
        users: dict[Role, int],
    ) -> None:
        remediation = item.remediation
        assert remediation is not None  # only items with remediation defaults are in `failed`
        created = _at(walk.day + timedelta(days=2), 11)
        draw = rng.random()
        if walk.id == newest:
            status = _pick(draw, (0.35, TaskStatus.open), (0.65, TaskStatus.in_progress), (0.85, TaskStatus.done))
        else:
            status = _pick(draw, (0.1, TaskStatus.open), (0.2, TaskStatus.in_progress), (0.3, TaskStatus.done))
        status = status or TaskStatus.verified
        assignee = (
            None
            if status is TaskStatus.open and draw < 0.15
            else rng.choice((users[Role.contractor], users[Role.manager]))
        )
        finished = status in (TaskStatus.done, TaskStatus.verified)
        completed_at = created + timedelta(days=rng.randint(3, 40)) if finished else None
        verified = status is TaskStatus.verified
        spec = item.answer
        measured = isinstance(spec, MeasurementAnswer) and value is not None
        self.rows["tasks"].append(
            (
                self.writer.next_id(RemediationTask),
                self.s.organisation_id,
                building_id,
                walk.id,
                section_key,
                item.key,
                item.text.sv,
                item.text.en,
                item.critical,
                remediation.severity.value,
                walk.day + timedelta(days=2 + remediation.fix_days),
                status.value,
                COMMENT,
                value if measured else None,
                spec.unit.value if isinstance(spec, MeasurementAnswer) and measured else None,
                _limit(spec, "min") if measured else None,
                _limit(spec, "max") if measured else None,
                assignee,
                created,
                completed_at,
                assignee if finished else None,
                "Åtgärdat enligt anvisning." if finished else None,
                completed_at + timedelta(days=5) if verified and completed_at else None,
                users[Role.manager] if verified else None,
                None,
                0,
            )
        )
        self.summary.tasks += 1
        self.summary.count(f"task {status.value}")

    # --- photos ---------------------------------------------------------------------------------------------------

    def _photos(self, walks: list[_Walk]) -> None:
        s = self.s
        assert s.store is not None
        assert s.photos is not None
        scored = [w for w in walks if w.status is not InspectionStatus.discarded and w.pattern.failed]
        if not scored:
            return
        walk = scored[-1]
        for _section, item, _value in walk.pattern.failed:
            if not item.photo_required_on_fail:
                continue
            self.rows["photos"].append(
                (
                    self.writer.next_id(Photo),
                    s.organisation_id,
                    walk.id,
                    item.key,
                    "",  # the files are written by `flush`, several at once
                    "",
                    s.photos.sha256,
                    s.photos.media_type,
                    s.photos.width,
                    s.photos.height,
                    len(s.photos.data),
                    s.users[Role.inspector],
                    _at(walk.day, 11),
                )
            )
            self.summary.photos += 1

    def _store_photo_files(self, photos: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        """Write each photo's file and thumbnail through the store; each save waits for its fsync, so several run
        at once."""
        store, files = self.s.store, self.s.photos
        assert store is not None
        assert files is not None
        with ThreadPoolExecutor(max_workers=16) as pool:
            paths = list(pool.map(store.save, [files.data, files.thumbnail] * len(photos)))
        return [(*row[:4], paths[2 * n], paths[2 * n + 1], *row[6:]) for n, row in enumerate(photos)]

    # --- writing ---------------------------------------------------------------------------------------------------

    def flush(self) -> None:
        w, rows = self.writer, self.rows
        if rows["photos"]:
            rows["photos"] = self._store_photo_files(rows["photos"])
        w.write(
            Building,
            BUILDING_COLUMNS,
            rows["buildings"],
        )
        w.write(BuildingFeature, ("building_id", "feature"), rows["features"])
        w.write(Inspection, INSPECTION_COLUMNS, rows["inspections"])
        w.write(FollowUp, ("inspection_id", "previous_id", "item_keys"), rows["follow_ups"])
        w.write(Answer, ANSWER_COLUMNS, rows["answers"])
        w.write(Photo, PHOTO_COLUMNS, rows["photos"])
        w.write(Certificate, CERTIFICATE_COLUMNS, rows["certificates"])
        w.write(CertificateRevocation, ("certificate_id", "reason", "revoked_by_id", "revoked_at"), rows["revocations"])
        w.write(RemediationTask, TASK_COLUMNS, rows["tasks"])


def _pick(draw: float, *steps: tuple[float, TaskStatus]) -> TaskStatus | None:
    for bound, status in steps:
        if draw < bound:
            return status
    return None


def _limit(spec: Any, side: str) -> Decimal | None:
    bound = getattr(spec.threshold, side)
    return None if bound is None else Decimal(str(bound))


def feature_sets() -> Iterable[frozenset[Feature]]:
    return FEATURE_SETS


# --- wiring for `tryggahus demo --scale N` (inside an app context) -----------------------------------------------


def sample_sign(organisation_name: str, public_base_url: str, today: date) -> bytes:
    """The one real sign every generated certificate stores: a sign for a made-up certificate of today."""
    from audit.certificates.documents import SignFacts, render_sign

    facts = SignFacts(
        number=format_number(today.year, 1),
        street_address="Portföljvägen 1",
        postcode="123 45",
        city="Provstad",
        organisation_name=organisation_name,
        issued_on=today,
        valid_until=valid_until(today, 36),
        verification_url=f"{public_base_url}/v/{secrets.token_urlsafe(32)}",
    )
    return render_sign(facts)


def sample_photo(max_bytes: int) -> PhotoFiles:
    """The demo's picture of a defect, cleaned as an upload is."""
    from audit.demo import demo_photo
    from audit.photos.processing import process_photo

    processed = process_photo(demo_photo("portfölj"), max_bytes=max_bytes)
    return PhotoFiles(
        processed.data,
        processed.thumbnail,
        processed.sha256,
        processed.media_type,
        processed.width,
        processed.height,
    )


def add_to_demo(connection: Connection, scale: int, progress: Any = None) -> Summary:
    """The portfolio in the demo organisation (made by `create_demo` first), with the app's photo store."""
    from flask import current_app

    from audit.certificates.status import today_in_sweden
    from audit.checklists.models import ChecklistVersion, checklist_from_content
    from audit.demo import CHECKLIST_KEY, DEMO_SLUG
    from audit.photos.services import photo_store

    settings = current_app.config["TRYGGAHUS"]
    organisation = connection.execute(
        select(Organisation.id, Organisation.name).where(Organisation.slug == DEMO_SLUG)
    ).one()
    version = connection.execute(
        select(ChecklistVersion.id, ChecklistVersion.content)
        .where(ChecklistVersion.key == CHECKLIST_KEY)
        .order_by(ChecklistVersion.version.desc())
        .limit(1)
    ).one()
    base_url = (settings.public_base_url or "http://127.0.0.1:5000").rstrip("/")
    today = today_in_sweden()
    return add_portfolio(
        connection,
        organisation.id,
        scale,
        version_id=version.id,
        checklist=checklist_from_content(version.content),
        sign_pdf=sample_sign(organisation.name, base_url, today),
        public_base_url=base_url,
        today=today,
        photos=sample_photo(settings.max_photo_bytes),
        store=photo_store(),
        progress=progress,
    )
