"""The inspection as the inspector walks it: sections, applicable items, answers, photos and progress."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from functools import cached_property
from typing import Any

from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session, object_session

from audit.buildings.features import Feature
from audit.checklists.schema import Checklist, Item, Section, is_applicable
from audit.inspections.models import Answer, AnswerResult, Inspection
from audit.inspections.scoring import FailTest, fail_test
from audit.photos.models import Photo
from audit.remediation.follow_up import follow_up_of, inspection_checklist

#: What the walk shows of an answer and a photo: plain rows, read with two prepared statements (a page shows up
#: to a hundred answers, and building ORM objects for them costs more than the rest of the query).
ANSWER_COLUMNS = (
    Answer.item_key,
    Answer.result,
    Answer.value,
    Answer.choice,
    Answer.text,
    Answer.comment,
    Answer.revision,
)
_ANSWERS = select(*ANSWER_COLUMNS).where(Answer.inspection_id == bindparam("inspection_id"))
_PHOTOS = select(Photo.id, Photo.item_key).where(Photo.inspection_id == bindparam("inspection_id")).order_by(Photo.id)
_ANSWERED_KEYS = select(Answer.item_key).where(
    Answer.inspection_id == bindparam("inspection_id"), Answer.result.is_not(None)
)


@dataclass(frozen=True, slots=True)
class Layout:
    """Which items of a checklist apply to a building with these features; the same on every request."""

    applicable: frozenset[str]
    #: Per section, in checklist order: (key, whether any item applies, the applicable scored items' keys).
    sections: tuple[tuple[str, bool, tuple[str, ...]], ...]


#: Layouts by (checklist, features); the checklist is kept in the value, so its id cannot be reused meanwhile.
_LAYOUTS: dict[tuple[int, frozenset[Feature]], tuple[Checklist, Layout]] = {}


def layout(checklist: Checklist, features: frozenset[Feature]) -> Layout:
    cached = _LAYOUTS.get((id(checklist), features))
    if cached is not None and cached[0] is checklist:
        return cached[1]
    applicable = frozenset(item.key for section, item in checklist.items() if is_applicable(section, item, features))
    sections = tuple(
        (
            section.key,
            any(item.key in applicable for item in section.items),
            tuple(item.key for item in section.items if item.is_scored and item.key in applicable),
        )
        for section in checklist.sections
    )
    if len(_LAYOUTS) > 1024:  # a handful of checklist versions × feature sets; never grows without bound
        _LAYOUTS.clear()
    result = _LAYOUTS[(id(checklist), features)] = (checklist, Layout(applicable, sections))
    return result[1]


def inspection_layout(inspection: Inspection) -> Layout:
    return layout(inspection_checklist(inspection), inspection.building.features)


@dataclass(frozen=True, slots=True)
class ItemState:
    item: Item
    applicable: bool
    #: The stored answer (columns as in ANSWER_COLUMNS), or None; as typed when saving the section was refused.
    answer: Row[*tuple[Any, ...]] | TypedAnswer | None
    #: The item's photos as (id, item_key) rows.
    photos: tuple[Row[*tuple[Any, ...]], ...] = ()
    #: A follow-up's view of the answer in the inspection it follows up (columns as in ANSWER_COLUMNS), or None.
    previous: Row[*tuple[Any, ...]] | None = None

    @property
    def answered(self) -> bool:
        return self.answer is not None and self.answer.result is not None

    @property
    def needs_photo(self) -> bool:
        """A failed answer on an item whose rule wants a photo, and none is attached yet."""
        return (
            self.item.photo_required_on_fail
            and self.answer is not None
            and self.answer.result is AnswerResult.failed
            and not self.photos
        )


@dataclass(frozen=True, slots=True)
class SectionState:
    """One section's items and progress, counted once (a page shows every section's progress)."""

    section: Section
    items: tuple[ItemState, ...]
    applicable: bool
    #: The applicable, scored items: what must be answered.
    required: tuple[ItemState, ...]
    answered: int

    @classmethod
    def of(cls, section: Section, items: tuple[ItemState, ...]) -> SectionState:
        required = tuple(s for s in items if s.applicable and s.item.is_scored)
        applicable = any(s.applicable for s in items)
        return cls(section, items, applicable, required, sum(1 for s in required if s.answered))

    @property
    def total(self) -> int:
        return len(self.required)


#: The fields of one item in the section form (without script): `<field>-<item key>`.
FORM_FIELDS = ("result", "value", "choice", "text", "comment")


@dataclass(frozen=True, slots=True)
class TypedAnswer:
    """An item's fields as the section form sent them, when saving was refused: drawn again exactly as typed."""

    item_key: str
    result: AnswerResult | None
    #: The typed value as a number where it is one (a scale's step is drawn from it), and as it was typed.
    value: Decimal | None
    typed_value: str
    choice: str | None
    text: str | None
    comment: str | None
    #: The stored answer's revision (0 when there is none), so the page's own saving goes on from there.
    revision: int


def as_typed(state: SectionState, form: Mapping[str, str]) -> SectionState:
    """The section with every item the form sent shown as it was typed instead of as it is stored."""
    items = []
    for item_state in state.items:
        key = item_state.item.key
        fields = {name: form.get(f"{name}-{key}") or None for name in FORM_FIELDS}
        if not any(fields.values()):
            items.append(item_state)
            continue
        result = fields["result"] if fields["result"] in set(AnswerResult) else None
        raw = fields["value"] or ""
        try:
            value: Decimal | None = Decimal(raw.replace(",", ".")) if raw else None
        except InvalidOperation:
            value = None
        typed = TypedAnswer(
            key,
            AnswerResult(result) if result else None,
            value if value is None or value.is_finite() else None,
            raw,
            fields["choice"],
            fields["text"],
            fields["comment"],
            item_state.answer.revision if item_state.answer is not None else 0,
        )
        items.append(replace(item_state, answer=typed))
    return replace(state, items=tuple(items))


@dataclass(frozen=True, slots=True)
class SectionProgress:
    """A section's place in the walk without its items: what the section menu and the progress bars show."""

    section: Section
    applicable: bool
    answered: int
    total: int


class Walk:
    """An inspection's answers and photos laid over its checklist.

    A section page shows one section's items but every section's progress, so progress is counted from the
    cached layout and the answers' keys, and item states are built for the one section asked for; `sections`
    builds them all (the overview page and submission need every item).
    """

    def __init__(
        self,
        checklist: Checklist,
        layout: Layout,
        answers: dict[str, Row[*tuple[Any, ...]]],
        photos: dict[str, list[Row[*tuple[Any, ...]]]],
        previous: dict[str, Row[*tuple[Any, ...]]],
    ) -> None:
        self._checklist = checklist
        self._layout = layout
        self._answers = answers
        self._photos = photos
        self._previous = previous

    @cached_property
    def progress(self) -> tuple[SectionProgress, ...]:
        answered = {key for key, row in self._answers.items() if row.result is not None}
        counts = counted(self._layout, answered)
        return tuple(
            SectionProgress(section, applies, done, total)
            for section, (_key, applies, done, total) in zip(self._checklist.sections, counts, strict=True)
        )

    @property
    def answered(self) -> int:
        return sum(s.answered for s in self.progress)

    @property
    def progress_rules(self) -> list[tuple[str, tuple[str, ...], list[str]]]:
        """Per section: its key, the items that must be answered and those that are; the walk's page counts progress
        from these on the device (walk.js), with the answers it holds that the server does not have yet."""
        answered = {key for key, row in self._answers.items() if row.result is not None}
        return [
            (key, required, [k for k in required if k in answered]) for key, _applies, required in self._layout.sections
        ]

    @property
    def total(self) -> int:
        return sum(s.total for s in self.progress)

    @property
    def photo_count(self) -> int:
        return sum(len(photos) for photos in self._photos.values())

    @property
    def photo_rules(self) -> list[tuple[str, FailTest, bool, bool]]:
        """Per applicable item that wants a photo when not met: its key, how a device tells a failed answer
        (`fail_test`), whether its stored answer failed and whether it has a photo. With `progress_rules`, what the
        overview counts as missing on the device (submit.js), by the rule of `unanswered` and `photos_missing`."""
        return [
            (
                state.item.key,
                fail_test(state.item),
                state.answer is not None and state.answer.result is AnswerResult.failed,
                bool(state.photos),
            )
            for section in self.sections
            for state in section.items
            if state.applicable and state.item.photo_required_on_fail
        ]

    def _state(self, section: Section) -> SectionState:
        applicable = self._layout.applicable
        return SectionState.of(
            section,
            tuple(
                ItemState(
                    item,
                    item.key in applicable,
                    self._answers.get(item.key),
                    tuple(self._photos.get(item.key, ())),
                    self._previous.get(item.key),
                )
                for item in section.items
            ),
        )

    @cached_property
    def sections(self) -> tuple[SectionState, ...]:
        return tuple(self._state(section) for section in self._checklist.sections)

    def section(self, key: str) -> SectionState | None:
        return next((self._state(s) for s in self._checklist.sections if s.key == key), None)

    def neighbours(self, key: str) -> tuple[SectionProgress | None, SectionProgress | None]:
        """The applicable sections before and after `key`."""
        applicable = [s for s in self.progress if s.applicable]
        keys = [s.section.key for s in applicable]
        if key not in keys:
            return None, None
        index = keys.index(key)
        return (applicable[index - 1] if index else None, applicable[index + 1] if index + 1 < len(keys) else None)

    @property
    def unanswered(self) -> list[ItemState]:
        return [state for section in self.sections for state in section.required if not state.answered]

    @property
    def photos_missing(self) -> list[ItemState]:
        return [state for section in self.sections for state in section.items if state.needs_photo]


def build_walk(inspection: Inspection, *, with_photos: bool = True) -> Walk:
    """The walk; without photos (one query less) when only answers and progress are needed."""
    session = object_session(inspection)
    if session is None:
        raise RuntimeError("the walk is read through the inspection's own session; this one is detached")
    checklist = inspection_checklist(inspection)
    params = {"inspection_id": inspection.id}
    # Plain Core rows through the session's connection: the ORM has nothing to add to them. Changes not yet
    # flushed are flushed first, as the session would.
    session.flush()
    connection = session.connection()
    answers = {row.item_key: row for row in connection.execute(_ANSWERS, params)}
    photos: dict[str, list[Row[*tuple[Any, ...]]]] = defaultdict(list)
    for photo in connection.execute(_PHOTOS, params) if with_photos else ():
        photos[photo.item_key].append(photo)
    follow_up = follow_up_of(inspection)
    previous = (
        {row.item_key: row for row in connection.execute(_ANSWERS, {"inspection_id": follow_up.previous_id})}
        if follow_up
        else {}
    )
    return Walk(checklist, layout(checklist, inspection.building.features), answers, photos, previous)


def answered_keys(session: Session, inspection_id: int) -> set[str]:
    """The keys of the items that have a judgement, without loading the answers themselves."""
    session.flush()
    return set(session.connection().scalars(_ANSWERED_KEYS, {"inspection_id": inspection_id}))


def counted(layout: Layout, answered: set[str]) -> list[tuple[str, bool, int, int]]:
    """(section key, whether it applies, answered, total) per section: its scored, applicable items."""
    return [
        (key, applies, sum(1 for item_key in required if item_key in answered), len(required))
        for key, applies, required in layout.sections
    ]
