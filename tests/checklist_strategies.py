"""Hypothesis strategies: random valid checklists, building features and inspector responses.

Used by the property-based tests of `audit.inspections.scoring` (and the loader's round-trip test). Every
checklist drawn here is valid by construction: it is built as plain data and checked by `Checklist.model_validate`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hypothesis import strategies as st

from audit.buildings.features import Feature
from audit.checklists.schema import (
    Checklist,
    ChoiceAnswer,
    Item,
    MeasurementAnswer,
    PassFailAnswer,
    ScaleAnswer,
    Severity,
    TextAnswer,
    Unit,
)
from audit.inspections.scoring import Response

FEATURES: tuple[Feature, ...] = tuple(Feature)
ANSWER_TYPES: tuple[str, ...] = ("pass_fail", "scale", "measurement", "choice", "text")

Scenario = tuple[Checklist, frozenset[Feature], dict[str, Response]]


def texts(label: str) -> dict[str, str]:
    """A `{sv, en}` text for a label."""
    return {"sv": f"{label} på svenska", "en": f"{label} in English"}


#: Threshold and measurement numbers: whole numbers (to hit boundaries) and arbitrary finite floats.
numbers = st.one_of(
    st.integers(min_value=-50, max_value=500).map(float),
    st.floats(min_value=-1000, max_value=1000, allow_nan=False, allow_infinity=False),
)
#: Choice option scores and pass_min: a few round shares and arbitrary floats in [0, 1].
shares = st.one_of(
    st.sampled_from([0.0, 0.1, 0.25, 0.3, 0.5, 0.6, 0.75, 0.85, 0.9, 1.0]),
    st.floats(min_value=0, max_value=1, allow_nan=False),
)


@st.composite
def scale_answers(draw: st.DrawFn) -> dict[str, Any]:
    """A scale answer with whole-number `min` < `max` and `pass_min` between them."""
    low = draw(st.integers(min_value=-5, max_value=5))
    high = low + draw(st.integers(min_value=1, max_value=10))
    return {"type": "scale", "min": low, "max": high, "pass_min": draw(st.integers(min_value=low, max_value=high))}


@st.composite
def measurement_answers(draw: st.DrawFn) -> dict[str, Any]:
    """A measurement answer with a threshold holding min, max or both (min ≤ max)."""
    bounds = draw(st.sampled_from(["min", "max", "both"]))
    first, second = sorted([draw(numbers), draw(numbers)])
    threshold = (
        {"min": first} if bounds == "min" else {"max": second} if bounds == "max" else {"min": first, "max": second}
    )
    return {"type": "measurement", "unit": draw(st.sampled_from([unit.value for unit in Unit])), "threshold": threshold}


@st.composite
def choice_answers(draw: st.DrawFn) -> dict[str, Any]:
    """A choice answer with 2–4 uniquely keyed options of which at least one reaches `pass_min`."""
    scores = draw(st.lists(shares, min_size=2, max_size=4))
    answer: dict[str, Any] = {
        "type": "choice",
        "options": [
            {"key": f"opt_{index}", "label": texts(f"Option {index}"), "score": value}
            for index, value in enumerate(scores)
        ],
    }
    if draw(st.booleans()):
        answer["pass_min"] = draw(
            st.one_of(st.sampled_from(scores), st.floats(min_value=0, max_value=max(scores), allow_nan=False))
        )
    elif max(scores) < 1:
        answer["pass_min"] = max(scores)  # the default pass_min of 1 would make the checklist invalid
    return answer


_ANSWERS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "pass_fail": st.just({"type": "pass_fail"}),
    "scale": scale_answers(),
    "measurement": measurement_answers(),
    "choice": choice_answers(),
    "text": st.just({"type": "text"}),
}


def answers(answer_type: str) -> st.SearchStrategy[dict[str, Any]]:
    """The answer settings for one answer type."""
    return _ANSWERS[answer_type]


SECTION_KEYS = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=2, max_size=4)
#: No feature two times out of three, otherwise any feature (one draw, shrinking towards no feature).
optional_features = st.sampled_from((None,) * 2 * len(FEATURES) + tuple(feature.value for feature in FEATURES))


@st.composite
def item_dicts(draw: st.DrawFn, key: str) -> dict[str, Any]:
    """One valid item, as checklist data."""
    answer_type = draw(st.sampled_from(ANSWER_TYPES))
    item: dict[str, Any] = {
        "key": key,
        "text": texts(f"Item {key}"),
        "guidance": texts(f"Guidance for {key}"),
        "answer": draw(answers(answer_type)),
        "na_allowed": draw(st.booleans()),
    }
    feature = draw(optional_features)
    if feature is not None:
        item["requires_feature"] = feature
    if answer_type == "text":
        item["weight"] = 0
        return item
    critical = draw(st.booleans())
    item["weight"] = draw(st.integers(min_value=1, max_value=10))
    item["critical"] = critical
    # Remediation and photos do not affect the score: derived from the drawn values to keep generation fast.
    item["photo_required_on_fail"] = critical
    severity = Severity.critical if critical else list(Severity)[item["weight"] % 3]
    item["remediation"] = {"severity": severity.value, "fix_days": 7 * item["weight"]}
    return item


@st.composite
def checklist_dicts(draw: st.DrawFn) -> dict[str, Any]:
    """A valid checklist as plain data: 1–4 sections with 1–6 items each."""
    section_keys = draw(st.lists(SECTION_KEYS, min_size=1, max_size=4, unique=True))
    sections = []
    for section_key in section_keys:
        count = draw(st.integers(min_value=1, max_value=6))
        section: dict[str, Any] = {
            "key": section_key,
            "title": texts(f"Section {section_key}"),
            "items": [draw(item_dicts(f"{section_key}-{number:02d}")) for number in range(1, count + 1)],
        }
        feature = draw(optional_features)
        if feature is not None:
            section["requires_feature"] = feature
        if draw(st.booleans()):
            section["min_percent"] = draw(st.integers(min_value=0, max_value=100))
        sections.append(section)
    pass_rule: dict[str, Any] = {
        "min_total_percent": draw(st.integers(min_value=0, max_value=100)),
        "critical_items_must_pass": draw(st.booleans()),
        "validity_months": draw(st.integers(min_value=1, max_value=120)),
    }
    if draw(st.booleans()):
        pass_rule["min_section_percent"] = draw(st.integers(min_value=0, max_value=100))
    return {
        "schema": 1,
        "key": "property-test",
        "version": draw(st.integers(min_value=1, max_value=99)),
        "title": texts("Property test"),
        "pass_rule": pass_rule,
        "sections": sections,
    }


def checklists() -> st.SearchStrategy[Checklist]:
    """Random valid `Checklist` models."""
    return checklist_dicts().map(Checklist.model_validate)


def features() -> st.SearchStrategy[frozenset[Feature]]:
    """A random set of building features."""
    return st.frozensets(st.sampled_from(FEATURES))


@st.composite
def valid_answers(draw: st.DrawFn, item: Item) -> Response:
    """A response that answers the item (passing or failing)."""
    spec = item.answer
    if isinstance(spec, PassFailAnswer):
        return Response(passed=draw(st.booleans()))
    if isinstance(spec, ScaleAnswer):
        whole = draw(st.booleans())
        value = (
            float(draw(st.integers(min_value=spec.min, max_value=spec.max)))
            if whole
            else draw(st.floats(min_value=spec.min, max_value=spec.max, allow_nan=False))
        )
        return Response(value=value)
    if isinstance(spec, MeasurementAnswer):
        if draw(st.booleans()):
            bounds = [bound for bound in (spec.threshold.min, spec.threshold.max) if bound is not None]
            return Response(value=draw(st.sampled_from(bounds)) + draw(st.sampled_from(NEAR)))
        return Response(value=draw(numbers))
    if isinstance(spec, ChoiceAnswer):
        return Response(choice=draw(st.sampled_from(spec.options)).key)
    assert isinstance(spec, TextAnswer)
    return Response(text=draw(st.text(min_size=1, max_size=20)))


#: Offsets from a threshold bound, to hit the boundary and both sides of it.
NEAR = (-1.0, -1e-9, 0.0, 0.0, 1e-9, 1.0)


def invalid_answers(item: Item) -> st.SearchStrategy[Response]:
    """A response that does not answer the item: no value, or a value outside what the item accepts."""
    spec = item.answer
    if isinstance(spec, ScaleAnswer):
        return st.sampled_from(
            [Response(), Response(value=spec.min - 1.0), Response(value=spec.max + 0.5), Response(passed=True)]
        )
    if isinstance(spec, ChoiceAnswer):
        return st.sampled_from([Response(), Response(choice="no_such_option"), Response(value=1.0)])
    if isinstance(spec, TextAnswer):
        return st.sampled_from([Response(), Response(text=""), Response(text="  \n")])
    return st.sampled_from([Response(), Response(text="only a note")])


#: What an inspector may have entered for one item; answers are twice as likely as each of the others.
RESPONSE_KINDS = ("missing", "not_applicable", "not_applicable_with_answer", "answer", "answer", "invalid")


@st.composite
def responses_for(draw: st.DrawFn, item: Item) -> Response | None:
    """What an inspector may have entered for one item: nothing, N/A, an answer, or something invalid."""
    kind = draw(st.sampled_from(RESPONSE_KINDS))
    if kind == "missing":
        return None
    if kind == "not_applicable":
        return Response(not_applicable=True)
    if kind == "invalid":
        return draw(invalid_answers(item))
    response = draw(valid_answers(item))
    if kind == "not_applicable_with_answer":
        return replace(response, not_applicable=True)
    return response


@st.composite
def responses(draw: st.DrawFn, checklist: Checklist) -> dict[str, Response]:
    """Random responses for a checklist, keyed by item key (items without a response are left out)."""
    drawn: dict[str, Response] = {}
    for _, item in checklist.items():
        response = draw(responses_for(item))
        if response is not None:
            drawn[item.key] = response
    return drawn


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    """A checklist, the building's features and the inspector's responses."""
    checklist = draw(checklists())
    used = {
        feature
        for section, item in checklist.items()
        for feature in (section.requires_feature, item.requires_feature)
        if feature is not None
    }
    # Mostly draw from the features the checklist uses, so both skipped and applicable items are common.
    building = draw(st.frozensets(st.sampled_from(sorted(used)))) if used and draw(st.booleans()) else draw(features())
    return checklist, building, draw(responses(checklist))


def passing_response(item: Item) -> Response:
    """A response with which the (scored) item passes."""
    spec = item.answer
    if isinstance(spec, ScaleAnswer):
        return Response(value=float(spec.max))
    if isinstance(spec, MeasurementAnswer):
        bound = spec.threshold.min if spec.threshold.min is not None else spec.threshold.max
        assert bound is not None
        return Response(value=bound)
    if isinstance(spec, ChoiceAnswer):
        return Response(choice=max(spec.options, key=lambda option: option.score).key)
    return Response(passed=True)


def without(mapping: Mapping[str, Response], key: str) -> dict[str, Response]:
    """A copy of `mapping` without `key`."""
    return {other: value for other, value in mapping.items() if other != key}
