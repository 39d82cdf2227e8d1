"""Scoring: the rule users must be able to read, trust and explain.

Pure module: no Flask, no database. Given a checklist, the building's features and the inspector's responses,
`score()` returns a `ScoreCard`:

- an answered, applicable item scores between 0 and 1 and counts with its weight;
- items answered N/A, items whose feature the building lacks, text items and unanswered items count in neither
  the numerator nor the denominator;
- a section's score and the total are ratios of weighted points (exact fractions, no rounding);
- the checklist's pass rule decides certification, and every condition that fails is listed as a `Reason`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from fractions import Fraction
from typing import Any

from audit.buildings.features import Feature
from audit.checklists.schema import (
    AnswerType,
    Checklist,
    ChoiceAnswer,
    Item,
    MeasurementAnswer,
    ScaleAnswer,
    Section,
    is_applicable,
)


class Outcome(StrEnum):
    passed = "passed"
    failed = "failed"
    not_applicable = "not_applicable"  # the inspector answered N/A
    skipped = "skipped"  # the building lacks the feature the item or its section requires
    unanswered = "unanswered"
    recorded = "recorded"  # a text item: kept, never scored


@dataclass(frozen=True, slots=True)
class Response:
    """What the inspector answered for one item; only the field that fits the item's answer type is read."""

    not_applicable: bool = False
    passed: bool | None = None  # pass_fail
    value: float | None = None  # scale and measurement
    choice: str | None = None  # choice
    text: str | None = None  # text


@dataclass(frozen=True, slots=True)
class ItemResult:
    key: str
    section: str
    outcome: Outcome
    weight: int
    critical: bool
    score: Fraction | None = None
    #: Whether certification needs an answer (text items are optional notes).
    required: bool = True

    @property
    def counts(self) -> bool:
        return self.score is not None

    @property
    def missing(self) -> bool:
        return self.required and self.outcome is Outcome.unanswered


@dataclass(frozen=True, slots=True)
class SectionScore:
    key: str
    applicable: bool
    earned: Fraction
    possible: int
    minimum: Fraction | None
    answered: int
    to_answer: int

    @property
    def score(self) -> Fraction | None:
        return self.earned / self.possible if self.possible else None


class ReasonCode(StrEnum):
    total_below_minimum = "total_below_minimum"
    section_below_minimum = "section_below_minimum"
    critical_item_failed = "critical_item_failed"
    items_unanswered = "items_unanswered"
    nothing_scored = "nothing_scored"


@dataclass(frozen=True, slots=True)
class Reason:
    """One failed condition of the pass rule, with the figures that explain it."""

    code: ReasonCode
    section: str | None = None
    item: str | None = None
    actual: Fraction | None = None
    required: Fraction | None = None
    items: tuple[str, ...] = ()

    def __str__(self) -> str:
        match self.code:
            case ReasonCode.total_below_minimum:
                return f"Total score {_percent(self.actual)} is below the required {_percent(self.required)}."
            case ReasonCode.section_below_minimum:
                return (
                    f"Section {self.section} scores {_percent(self.actual)}, below the required "
                    f"{_percent(self.required)}."
                )
            case ReasonCode.critical_item_failed:
                return f"Critical item {self.item} failed."
            case ReasonCode.items_unanswered:
                return f"{len(self.items)} applicable items are unanswered: {', '.join(self.items)}."
            case ReasonCode.nothing_scored:
                return "No applicable item has been scored."
        return self.code.value  # pragma: no cover - every code is matched above


def _percent(value: Fraction | None) -> str:
    return "–" if value is None else f"{float(value) * 100:.1f} %"


@dataclass(frozen=True, slots=True)
class ScoreCard:
    checklist_key: str
    checklist_version: int
    items: tuple[ItemResult, ...]
    sections: tuple[SectionScore, ...]
    earned: Fraction
    possible: int
    reasons: tuple[Reason, ...] = field(default=())

    @property
    def total(self) -> Fraction | None:
        return self.earned / self.possible if self.possible else None

    @property
    def passed(self) -> bool:
        return not self.reasons

    @property
    def failed_items(self) -> tuple[ItemResult, ...]:
        return tuple(result for result in self.items if result.outcome is Outcome.failed)

    @property
    def failed_critical_items(self) -> tuple[ItemResult, ...]:
        return tuple(result for result in self.failed_items if result.critical)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able summary to store on the inspection, so dashboards never recompute."""
        return {
            "checklist": {"key": self.checklist_key, "version": self.checklist_version},
            "passed": self.passed,
            "total": _as_float(self.total),
            "earned": str(self.earned),
            "possible": self.possible,
            "sections": [
                {
                    "key": s.key,
                    "applicable": s.applicable,
                    "score": _as_float(s.score),
                    "minimum": _as_float(s.minimum),
                    "earned": str(s.earned),
                    "possible": s.possible,
                    "answered": s.answered,
                    "to_answer": s.to_answer,
                }
                for s in self.sections
            ],
            "failed_items": [r.key for r in self.failed_items],
            "failed_critical_items": [r.key for r in self.failed_critical_items],
            "reasons": [
                {
                    "code": r.code.value,
                    "section": r.section,
                    "item": r.item,
                    "actual": _as_float(r.actual),
                    "required": _as_float(r.required),
                    "items": list(r.items),
                    "text": str(r),
                }
                for r in self.reasons
            ],
        }


def _as_float(value: Fraction | None) -> float | None:
    return None if value is None else round(float(value), 6)


def item_score(item: Item, response: Response) -> Fraction | None:
    """The score in [0, 1] of an answered item, or None when the response does not answer it."""
    spec = item.answer
    if spec.type == AnswerType.pass_fail:
        return None if response.passed is None else Fraction(int(response.passed))
    if isinstance(spec, MeasurementAnswer):
        return None if response.value is None else Fraction(int(spec.threshold.is_met(response.value)))
    if isinstance(spec, ScaleAnswer):
        if response.value is None or not spec.min <= response.value <= spec.max:
            return None
        return (Fraction(str(response.value)) - spec.min) / (spec.max - spec.min)
    if isinstance(spec, ChoiceAnswer):
        option = spec.option(response.choice) if response.choice is not None else None
        return None if option is None else Fraction(str(option.score))
    return None


def item_passes(item: Item, response: Response) -> bool | None:
    """Whether an answered item passes; None when it is unanswered or not scored."""
    spec = item.answer
    score = item_score(item, response)
    if score is None:
        return None
    if isinstance(spec, ScaleAnswer):
        return response.value is not None and response.value >= spec.pass_min
    if isinstance(spec, ChoiceAnswer):
        return score >= Fraction(str(spec.pass_min))
    return score == 1


#: How a device tells a failed answer from its fields (walk.js, submit.js): ["result"] (the inspector's pass or
#: fail), ["range", min, max] (a value outside the bounds fails; either may be None) or ["choices", [failing keys]].
FailTest = list[Any]


def fail_test(item: Item) -> FailTest:
    """The pass rule of `item_passes`, for a device that judges answers the server has not seen yet."""
    spec = item.answer
    if isinstance(spec, MeasurementAnswer):
        return ["range", spec.threshold.min, spec.threshold.max]
    if isinstance(spec, ScaleAnswer):
        return ["range", spec.pass_min, None]
    if isinstance(spec, ChoiceAnswer):
        return ["choices", [o.key for o in spec.options if not item_passes(item, Response(choice=o.key))]]
    return ["result"]


def evaluate_item(section: Section, item: Item, features: frozenset[Feature], response: Response | None) -> ItemResult:
    def result(outcome: Outcome, score: Fraction | None = None) -> ItemResult:
        return ItemResult(item.key, section.key, outcome, item.weight, item.critical, score, item.is_scored)

    if not is_applicable(section, item, features):
        return result(Outcome.skipped)
    if response is not None and response.not_applicable and item.na_allowed:
        return result(Outcome.not_applicable)
    if not item.is_scored:
        answered = response is not None and bool(response.text and response.text.strip())
        return result(Outcome.recorded if answered else Outcome.unanswered)
    if response is None:
        return result(Outcome.unanswered)
    passes = item_passes(item, response)
    if passes is None:
        return result(Outcome.unanswered)
    return result(Outcome.passed if passes else Outcome.failed, item_score(item, response))


def _section_score(checklist: Checklist, section: Section, results: list[ItemResult]) -> SectionScore:
    scored = [r for r in results if r.counts]
    return SectionScore(
        key=section.key,
        applicable=any(r.outcome is not Outcome.skipped for r in results),
        earned=sum((r.score * r.weight for r in scored if r.score is not None), Fraction(0)),
        possible=sum(r.weight for r in scored),
        minimum=checklist.section_minimum(section),
        answered=sum(r.required and r.outcome not in (Outcome.skipped, Outcome.unanswered) for r in results),
        to_answer=sum(r.required and r.outcome is not Outcome.skipped for r in results),
    )


def _reasons(checklist: Checklist, card: ScoreCard) -> list[Reason]:
    rule = checklist.pass_rule
    reasons: list[Reason] = []
    unanswered = tuple(r.key for r in card.items if r.missing)
    if unanswered:
        reasons.append(Reason(ReasonCode.items_unanswered, items=unanswered))
    if card.total is None:
        reasons.append(Reason(ReasonCode.nothing_scored))
    elif card.total < rule.min_total:
        reasons.append(Reason(ReasonCode.total_below_minimum, actual=card.total, required=rule.min_total))
    for section in card.sections:
        if section.score is not None and section.minimum is not None and section.score < section.minimum:
            reasons.append(
                Reason(
                    ReasonCode.section_below_minimum,
                    section=section.key,
                    actual=section.score,
                    required=section.minimum,
                )
            )
    if rule.critical_items_must_pass:
        reasons.extend(
            Reason(ReasonCode.critical_item_failed, section=r.section, item=r.key) for r in card.failed_critical_items
        )
    return reasons


def score(checklist: Checklist, features: Iterable[Feature | str], responses: Mapping[str, Response]) -> ScoreCard:
    """Score an inspection: `responses` maps item keys to what the inspector answered."""
    building_features = frozenset(Feature(feature) for feature in features)
    item_results: list[ItemResult] = []
    section_scores: list[SectionScore] = []
    for section in checklist.sections:
        results = [evaluate_item(section, item, building_features, responses.get(item.key)) for item in section.items]
        item_results.extend(results)
        section_scores.append(_section_score(checklist, section, results))
    card = ScoreCard(
        checklist_key=checklist.key,
        checklist_version=checklist.version,
        items=tuple(item_results),
        sections=tuple(section_scores),
        earned=sum((s.earned for s in section_scores), Fraction(0)),
        possible=sum(s.possible for s in section_scores),
    )
    return replace(card, reasons=tuple(_reasons(checklist, card)))
