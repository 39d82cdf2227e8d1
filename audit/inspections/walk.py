"""The inspection as the inspector walks it: sections, applicable items, answers, photos and progress."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.checklists.schema import Item, Section, is_applicable
from audit.inspections.models import Answer, AnswerResult, Inspection
from audit.photos.models import Photo


@dataclass(frozen=True, slots=True)
class ItemState:
    item: Item
    applicable: bool
    answer: Answer | None
    photos: tuple[Photo, ...] = ()

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
    section: Section
    items: tuple[ItemState, ...]

    @property
    def applicable(self) -> bool:
        return any(state.applicable for state in self.items)

    @property
    def required(self) -> list[ItemState]:
        return [s for s in self.items if s.applicable and s.item.is_scored]

    @property
    def answered(self) -> int:
        return sum(1 for s in self.required if s.answered)

    @property
    def total(self) -> int:
        return len(self.required)


@dataclass(frozen=True, slots=True)
class Walk:
    inspection: Inspection
    sections: tuple[SectionState, ...]

    @property
    def answered(self) -> int:
        return sum(s.answered for s in self.sections)

    @property
    def total(self) -> int:
        return sum(s.total for s in self.sections)

    def section(self, key: str) -> SectionState | None:
        return next((s for s in self.sections if s.section.key == key), None)

    def neighbours(self, key: str) -> tuple[SectionState | None, SectionState | None]:
        """The applicable sections before and after `key`."""
        applicable = [s for s in self.sections if s.applicable]
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
    features = inspection.building.features
    answers = {answer.item_key: answer for answer in inspection.answers}
    photos: dict[str, list[Photo]] = defaultdict(list)
    for photo in inspection.photos if with_photos else ():
        photos[photo.item_key].append(photo)
    sections = tuple(
        SectionState(
            section,
            tuple(
                ItemState(item, is_applicable(section, item, features), answers.get(item.key), tuple(photos[item.key]))
                for item in section.items
            ),
        )
        for section in inspection.checklist_version.checklist.sections
    )
    return Walk(inspection, sections)


def answer_json(answer: Answer | None, item_key: str) -> dict[str, Any]:
    """An answer as the API and the page's script see it."""
    if answer is None:
        return {
            "item_key": item_key,
            "result": None,
            "value": None,
            "choice": None,
            "text": None,
            "comment": None,
            "revision": 0,
            "answered_at": None,
        }
    return {
        "item_key": answer.item_key,
        "result": answer.result.value if answer.result else None,
        "value": None if answer.value is None else float(answer.value),
        "choice": answer.choice,
        "text": answer.text,
        "comment": answer.comment,
        "revision": answer.revision,
        "answered_at": answer.answered_at.isoformat(),
    }


def answered_keys(session: Session, inspection_id: int) -> set[str]:
    """The keys of the items that have a judgement, without loading the answers themselves."""
    return set(
        session.scalars(
            select(Answer.item_key).where(Answer.inspection_id == inspection_id, Answer.result.is_not(None))
        )
    )


def progress(inspection: Inspection, answered: set[str]) -> dict[str, Any]:
    """Answered and total scored, applicable items, per section and overall (what the walk's bars show)."""
    features = inspection.building.features
    sections = []
    for section in inspection.checklist_version.checklist.sections:
        required = [item.key for item in section.items if item.is_scored and is_applicable(section, item, features)]
        sections.append(
            {
                "key": section.key,
                "applicable": any(is_applicable(section, item, features) for item in section.items),
                "answered": sum(1 for key in required if key in answered),
                "total": len(required),
            }
        )
    return {
        "answered": sum(s["answered"] for s in sections),
        "total": sum(s["total"] for s in sections),
        "sections": sections,
    }
