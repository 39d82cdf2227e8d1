"""The checklist contract: typed, immutable models of one checklist version.

Pure module (pydantic only). `checklists/README.md` documents the same contract for authors; the loader turns
YAML into these models and every rule that can be checked on one model lives here as a validator.
"""

from __future__ import annotations

from enum import StrEnum
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints, model_validator

from audit.buildings.features import Feature

NonEmptyText = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1)]
SectionKey = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{2,4}$")]
ItemKey = Annotated[str, StringConstraints(strict=True, pattern=r"^[A-Z]{2,4}-\d{2}$")]
ChecklistKey = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
OptionKey = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z0-9_]{1,40}$")]
Number = Annotated[float, Field(strict=True, allow_inf_nan=False)]
Percent = Annotated[StrictInt, Field(ge=0, le=100)]
Share = Annotated[float, Field(strict=True, ge=0, le=1)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(_Model):
    """One text in every language the checklist is written in."""

    sv: NonEmptyText
    en: NonEmptyText

    def get(self, locale: str) -> str:
        return self.en if locale.startswith("en") else self.sv


class AnswerType(StrEnum):
    pass_fail = "pass_fail"  # noqa: S105 (an answer type, not a password)
    scale = "scale"
    measurement = "measurement"
    choice = "choice"
    text = "text"


class Unit(StrEnum):
    lux = "lux"
    m = "m"
    cm = "cm"
    kelvin = "K"
    ratio = "ratio"
    hours = "h"
    seconds = "s"


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"


class PassFailAnswer(_Model):
    type: Literal["pass_fail"]


class ScaleAnswer(_Model):
    type: Literal["scale"]
    min: StrictInt
    max: StrictInt
    pass_min: StrictInt

    @model_validator(mode="after")
    def _check_range(self) -> ScaleAnswer:
        if self.min >= self.max:
            raise ValueError(f"scale min ({self.min}) must be below max ({self.max})")
        if not self.min <= self.pass_min <= self.max:
            raise ValueError(f"scale pass_min ({self.pass_min}) must lie between min and max")
        return self


class Threshold(_Model):
    min: Number | None = None
    max: Number | None = None

    @model_validator(mode="after")
    def _check_bounds(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError("a threshold needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"threshold min ({self.min}) is above max ({self.max})")
        return self

    def is_met(self, value: float) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class MeasurementAnswer(_Model):
    type: Literal["measurement"]
    unit: Unit
    threshold: Threshold


class ChoiceOption(_Model):
    key: OptionKey
    label: Text
    score: Share


class ChoiceAnswer(_Model):
    type: Literal["choice"]
    options: Annotated[tuple[ChoiceOption, ...], Field(min_length=2)]
    pass_min: Share = 1.0

    @model_validator(mode="after")
    def _check_options(self) -> ChoiceAnswer:
        keys = [option.key for option in self.options]
        duplicates = sorted({key for key in keys if keys.count(key) > 1})
        if duplicates:
            raise ValueError(f"choice option keys must be unique: {', '.join(duplicates)}")
        if not any(option.score >= self.pass_min for option in self.options):
            raise ValueError(f"no choice option reaches pass_min {self.pass_min}, so the item could never pass")
        return self

    def option(self, key: str) -> ChoiceOption | None:
        return next((option for option in self.options if option.key == key), None)


class TextAnswer(_Model):
    type: Literal["text"]


AnswerSpec = Annotated[
    PassFailAnswer | ScaleAnswer | MeasurementAnswer | ChoiceAnswer | TextAnswer,
    Field(discriminator="type"),
]


class Remediation(_Model):
    severity: Severity
    fix_days: Annotated[StrictInt, Field(ge=1, le=365)]


class Item(_Model):
    key: ItemKey
    text: Text
    guidance: Text
    answer: AnswerSpec
    weight: Annotated[StrictInt, Field(ge=0, le=10)]
    critical: StrictBool = False
    na_allowed: StrictBool = False
    photo_required_on_fail: StrictBool = False
    requires_feature: Feature | None = None
    remediation: Remediation | None = None

    @property
    def is_scored(self) -> bool:
        return self.answer.type != AnswerType.text

    @model_validator(mode="after")
    def _check_scoring_fields(self) -> Item:
        if not self.is_scored:
            if self.weight != 0 or self.critical or self.photo_required_on_fail or self.remediation:
                raise ValueError(
                    "a text item is not scored: weight must be 0, and critical, photo_required_on_fail "
                    "and remediation must be left out"
                )
            return self
        if self.weight < 1:
            raise ValueError("a scored item needs a weight from 1 to 10")
        if self.remediation is None:
            raise ValueError("a scored item needs remediation (severity and fix_days) for the task it creates")
        if self.critical and self.remediation.severity != Severity.critical:
            raise ValueError("a critical item must use remediation severity 'critical'")
        return self


class Section(_Model):
    key: SectionKey
    title: Text
    description: Text | None = None
    requires_feature: Feature | None = None
    min_percent: Percent | None = None
    items: Annotated[tuple[Item, ...], Field(min_length=1)]


class PassRule(_Model):
    min_total_percent: Percent
    critical_items_must_pass: StrictBool = True
    min_section_percent: Percent | None = None
    validity_months: Annotated[StrictInt, Field(ge=1, le=120)]

    @property
    def min_total(self) -> Fraction:
        return Fraction(self.min_total_percent, 100)


class Checklist(_Model):
    schema_: Literal[1] = Field(alias="schema")
    key: ChecklistKey
    version: Annotated[StrictInt, Field(ge=1)]
    title: Text
    description: Text | None = None
    pass_rule: PassRule
    sections: Annotated[tuple[Section, ...], Field(min_length=1)]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def items(self) -> list[tuple[Section, Item]]:
        return [(section, item) for section in self.sections for item in section.items]

    def find_item(self, key: str) -> tuple[Section, Item] | None:
        return next(((section, item) for section, item in self.items() if item.key == key), None)

    def section_minimum(self, section: Section) -> Fraction | None:
        percent = section.min_percent if section.min_percent is not None else self.pass_rule.min_section_percent
        return None if percent is None else Fraction(percent, 100)


def is_applicable(section: Section, item: Item, features: frozenset[Feature] | set[Feature]) -> bool:
    """Whether an item applies to a building with these features (its section's feature and its own)."""
    return all(feature is None or feature in features for feature in (section.requires_feature, item.requires_feature))
