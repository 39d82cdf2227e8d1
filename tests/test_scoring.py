"""Tests of `audit.inspections.scoring`: worked examples and properties that must hold for any checklist."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from audit.checklists.loader import parse_checklist
from audit.checklists.schema import Checklist, is_applicable
from audit.inspections.scoring import (
    ItemResult,
    Outcome,
    Reason,
    ReasonCode,
    Response,
    ScoreCard,
    item_score,
    score,
)
from tests.checklist_strategies import Scenario, passing_response, scenarios, texts, without

PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _item(key: str, answer: dict[str, Any], weight: int = 1, **extra: Any) -> dict[str, Any]:
    """An item as checklist data; scored items get a remediation that fits `critical`."""
    item: dict[str, Any] = {
        "key": key,
        "text": texts(key),
        "guidance": texts(key),
        "answer": answer,
        "weight": weight,
        **extra,
    }
    if answer["type"] != "text":
        severity = "critical" if extra.get("critical") else "medium"
        item.setdefault("remediation", {"severity": severity, "fix_days": 30})
    return item


def _section(key: str, *items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"key": key, "title": texts(key), "items": list(items), **extra}


def _checklist(*sections: dict[str, Any], **rule: Any) -> Checklist:
    """A checklist from sections; `rule` overrides the pass rule (85 %, critical items must pass)."""
    pass_rule = {"min_total_percent": 85, "critical_items_must_pass": True, "validity_months": 36, **rule}
    return Checklist.model_validate(
        {
            "schema": 1,
            "key": "example",
            "version": 1,
            "title": texts("Example"),
            "pass_rule": pass_rule,
            "sections": list(sections),
        }
    )


PASS_FAIL = {"type": "pass_fail"}
SCALE_0_4 = {"type": "scale", "min": 0, "max": 4, "pass_min": 3}
CHOICE = {
    "type": "choice",
    "pass_min": 0.5,
    "options": [
        {"key": "none", "label": texts("none"), "score": 0},
        {"key": "some", "label": texts("some"), "score": 0.25},
        {"key": "half", "label": texts("half"), "score": 0.5},
        {"key": "full", "label": texts("full"), "score": 1},
    ],
}


def _result(card: ScoreCard, key: str) -> ItemResult:
    return next(result for result in card.items if result.key == key)


def _codes(card: ScoreCard) -> list[ReasonCode]:
    return [reason.code for reason in card.reasons]


# A small checklist written as YAML, for the examples that read best against the file format.
EXAMPLE_YAML = """\
schema: 1
key: example-yaml
version: 1
title: {sv: Exempel, en: Example}
pass_rule: {min_total_percent: 85, critical_items_must_pass: true, min_section_percent: 60, validity_months: 36}
sections:
  - key: ENT
    title: {sv: Entré, en: Entrance}
    items:
      - key: ENT-01
        text: {sv: Dörren låser, en: The door locks}
        guidance: {sv: Prova, en: Try it}
        answer: {type: pass_fail}
        weight: 3
        critical: true
        remediation: {severity: critical, fix_days: 7}
      - key: ENT-02
        text: {sv: Belysning, en: Lighting}
        guidance: {sv: Mät, en: Measure}
        answer: {type: measurement, unit: lux, threshold: {min: 50}}
        weight: 2
        remediation: {severity: high, fix_days: 30}
      - key: ENT-03
        text: {sv: Anteckningar, en: Notes}
        guidance: {sv: Fritt, en: Free text}
        answer: {type: text}
        weight: 0
  - key: GAR
    title: {sv: Garage, en: Garage}
    requires_feature: garage
    items:
      - key: GAR-01
        text: {sv: Belysning i garaget, en: Lighting in the garage}
        guidance: {sv: Mät, en: Measure}
        answer: {type: measurement, unit: lux, threshold: {min: 30}}
        weight: 5
        remediation: {severity: high, fix_days: 30}
      - key: GAR-02
        text: {sv: Hissen, en: The elevator}
        guidance: {sv: Prova, en: Try it}
        answer: {type: pass_fail}
        weight: 1
        requires_feature: elevator
        na_allowed: true
        remediation: {severity: low, fix_days: 90}
"""


@pytest.fixture(scope="module")
def example() -> Checklist:
    return parse_checklist(EXAMPLE_YAML, "example.yaml").checklist


# --- worked examples -----------------------------------------------------------------------------------------


def test_yaml_example_all_passing_is_certified(example: Checklist) -> None:
    """A building with a garage but no elevator: GAR-02 is skipped, everything else passes."""
    card = score(
        example,
        ["garage"],
        {
            "ENT-01": Response(passed=True),
            "ENT-02": Response(value=50),
            "ENT-03": Response(text="Inga"),
            "GAR-01": Response(value=31.5),
        },
    )
    assert [r.outcome for r in card.items] == [
        Outcome.passed,
        Outcome.passed,
        Outcome.recorded,
        Outcome.passed,
        Outcome.skipped,
    ]
    assert (card.earned, card.possible, card.total) == (10, 10, 1)
    assert card.passed
    assert card.reasons == ()


def test_pass_fail_scores_one_or_zero() -> None:
    checklist = _checklist(
        _section("AA", _item("AA-01", PASS_FAIL, 2), _item("AA-02", PASS_FAIL, 3), _item("AA-03", PASS_FAIL))
    )
    card = score(
        checklist, [], {"AA-01": Response(passed=True), "AA-02": Response(passed=False), "AA-03": Response(value=1.0)}
    )
    assert [(r.outcome, r.score) for r in card.items] == [
        (Outcome.passed, 1),
        (Outcome.failed, 0),
        (Outcome.unanswered, None),
    ]
    assert (card.earned, card.possible) == (2, 5)
    assert card.total == Fraction(2, 5)


@pytest.mark.parametrize(
    ("value", "expected_score", "passes"),
    [
        (0, Fraction(0), False),
        (1, Fraction(1, 4), False),
        (2, Fraction(1, 2), False),
        (2.5, Fraction(5, 8), False),
        (3, Fraction(3, 4), True),
        (4, Fraction(1), True),
    ],
)
def test_scale_scores_linearly_and_passes_from_pass_min(value: float, expected_score: Fraction, passes: bool) -> None:
    checklist = _checklist(_section("AA", _item("AA-01", SCALE_0_4, 4)))
    card = score(checklist, [], {"AA-01": Response(value=value)})
    result = _result(card, "AA-01")
    assert result.score == expected_score
    assert result.outcome is (Outcome.passed if passes else Outcome.failed)
    assert card.earned == 4 * expected_score
    assert card.possible == 4


@pytest.mark.parametrize(
    ("value", "expected_score", "passes"),
    [
        (1, Fraction(0), False),
        (2, Fraction(1, 4), False),
        (4, Fraction(3, 4), True),
        (5, Fraction(1), True),
    ],
)
def test_scale_with_nonzero_min(value: float, expected_score: Fraction, passes: bool) -> None:
    """score = (value − min) / (max − min) for a 1–5 scale with pass_min 4."""
    checklist = _checklist(_section("AA", _item("AA-01", {"type": "scale", "min": 1, "max": 5, "pass_min": 4})))
    result = _result(score(checklist, [], {"AA-01": Response(value=value)}), "AA-01")
    assert (result.score, result.outcome is Outcome.passed) == (expected_score, passes)


@pytest.mark.parametrize("value", [-1, 4.5, 100])
def test_scale_value_outside_range_is_not_an_answer(value: float) -> None:
    checklist = _checklist(_section("AA", _item("AA-01", SCALE_0_4)))
    card = score(checklist, [], {"AA-01": Response(value=value)})
    assert _result(card, "AA-01").outcome is Outcome.unanswered
    assert card.possible == 0


@pytest.mark.parametrize(
    ("threshold", "value", "passes"),
    [
        ({"min": 30}, 29.99, False),
        ({"min": 30}, 30, True),
        ({"min": 30}, 1000, True),
        ({"max": 2.5}, 2.5, True),
        ({"max": 2.5}, 2.51, False),
        ({"max": 2.5}, -3, True),
        ({"min": 2700, "max": 4000}, 2699, False),
        ({"min": 2700, "max": 2700}, 2700, True),
        ({"min": 2700, "max": 4000}, 2700, True),
        ({"min": 2700, "max": 4000}, 4000, True),
        ({"min": 2700, "max": 4000}, 4000.5, False),
    ],
)
def test_measurement_passes_inside_threshold(threshold: dict[str, float], value: float, passes: bool) -> None:
    """A measurement scores 1 inside its threshold (bounds included) and 0 outside."""
    checklist = _checklist(
        _section("AA", _item("AA-01", {"type": "measurement", "unit": "lux", "threshold": threshold}, 3))
    )
    card = score(checklist, [], {"AA-01": Response(value=value)})
    result = _result(card, "AA-01")
    assert result.outcome is (Outcome.passed if passes else Outcome.failed)
    assert result.score == int(passes)
    assert (card.earned, card.possible) == (3 * int(passes), 3)


@pytest.mark.parametrize(
    ("choice", "expected_score", "passes"),
    [
        ("none", Fraction(0), False),
        ("some", Fraction(1, 4), False),
        ("half", Fraction(1, 2), True),
        ("full", Fraction(1), True),
    ],
)
def test_choice_scores_the_option_and_passes_from_pass_min(choice: str, expected_score: Fraction, passes: bool) -> None:
    checklist = _checklist(_section("AA", _item("AA-01", CHOICE, 2)))
    card = score(checklist, [], {"AA-01": Response(choice=choice)})
    result = _result(card, "AA-01")
    assert (result.score, result.outcome is Outcome.passed) == (expected_score, passes)
    assert card.earned == 2 * expected_score


def test_choice_default_pass_min_is_one() -> None:
    answer = {
        "type": "choice",
        "options": [
            {"key": "part", "label": texts("part"), "score": 0.9},
            {"key": "all", "label": texts("all"), "score": 1},
        ],
    }
    checklist = _checklist(_section("AA", _item("AA-01", answer)))
    assert _result(score(checklist, [], {"AA-01": Response(choice="part")}), "AA-01").outcome is Outcome.failed
    assert _result(score(checklist, [], {"AA-01": Response(choice="all")}), "AA-01").outcome is Outcome.passed


def test_unknown_choice_is_not_an_answer() -> None:
    checklist = _checklist(_section("AA", _item("AA-01", CHOICE)))
    card = score(checklist, [], {"AA-01": Response(choice="maybe")})
    assert _result(card, "AA-01").outcome is Outcome.unanswered
    assert card.reasons[0] == Reason(ReasonCode.items_unanswered, items=("AA-01",))


def test_text_items_are_recorded_and_never_scored() -> None:
    checklist = _checklist(_section("AA", _item("AA-01", PASS_FAIL, 2), _item("AA-02", {"type": "text"}, 0)))
    card = score(
        checklist,
        [],
        {"AA-01": Response(passed=True), "AA-02": Response(text="Kodlås byts i vår", passed=False, value=0)},
    )
    text_result = _result(card, "AA-02")
    assert (text_result.outcome, text_result.score, text_result.counts) == (Outcome.recorded, None, False)
    assert (card.earned, card.possible) == (2, 2)
    assert card.passed
    assert "AA-02" not in card.to_dict()["failed_items"]


def test_unanswered_text_item_does_not_block_certification() -> None:
    checklist = _checklist(_section("AA", _item("AA-01", PASS_FAIL), _item("AA-02", {"type": "text"}, 0)))
    card = score(checklist, [], {"AA-01": Response(passed=True), "AA-02": Response(text="   ")})
    assert _result(card, "AA-02").outcome is Outcome.unanswered
    assert card.possible == 1
    assert card.passed  # text items are optional notes
    assert (card.sections[0].answered, card.sections[0].to_answer) == (1, 1)


def test_na_counts_only_where_allowed() -> None:
    """N/A on an item that allows it leaves the score; on any other item it is no answer at all."""
    checklist = _checklist(
        _section(
            "AA",
            _item("AA-01", PASS_FAIL, 2),
            _item("AA-02", PASS_FAIL, 5, na_allowed=True),
            _item("AA-03", PASS_FAIL, 7),
            _item("AA-04", {"type": "text"}, 0, na_allowed=True),
        )
    )
    card = score(
        checklist,
        [],
        {key: Response(not_applicable=True) for key in ("AA-02", "AA-03", "AA-04")} | {"AA-01": Response(passed=True)},
    )
    assert [r.outcome for r in card.items] == [
        Outcome.passed,
        Outcome.not_applicable,
        Outcome.unanswered,
        Outcome.not_applicable,
    ]
    assert (card.earned, card.possible) == (2, 2)
    assert card.reasons == (Reason(ReasonCode.items_unanswered, items=("AA-03",)),)
    section = card.sections[0]
    assert (section.answered, section.to_answer) == (2, 3)  # the text item is not required


def test_na_wins_over_a_value_on_an_item_that_allows_it() -> None:
    checklist = _checklist(_section("AA", _item("AA-01", PASS_FAIL, na_allowed=True), _item("AA-02", PASS_FAIL)))
    card = score(
        checklist,
        [],
        {"AA-01": Response(not_applicable=True, passed=False), "AA-02": Response(not_applicable=True, passed=False)},
    )
    assert [r.outcome for r in card.items] == [Outcome.not_applicable, Outcome.failed]


def test_sections_and_items_are_skipped_without_their_feature(example: Checklist) -> None:
    responses = {
        "ENT-01": Response(passed=True),
        "ENT-02": Response(value=10),
        "ENT-03": Response(text="x"),
        "GAR-01": Response(value=0),
        "GAR-02": Response(passed=False),
    }
    card = score(example, [], responses)
    assert [r.outcome for r in card.items[3:]] == [Outcome.skipped, Outcome.skipped]
    garage = card.sections[1]
    assert (garage.applicable, garage.possible, garage.score, garage.to_answer) == (False, 0, None, 0)
    assert (card.earned, card.possible) == (3, 5)
    assert _codes(card) == [ReasonCode.total_below_minimum]

    with_garage = score(example, ["garage"], responses)
    assert [r.outcome for r in with_garage.items[3:]] == [Outcome.failed, Outcome.skipped]
    assert (with_garage.earned, with_garage.possible) == (3, 10)

    with_both = score(example, ["garage", "elevator"], responses)
    assert [r.outcome for r in with_both.items[3:]] == [Outcome.failed, Outcome.failed]
    assert (with_both.earned, with_both.possible) == (3, 11)
    assert with_both.sections[1].to_answer == 2


def test_item_feature_inside_a_section_without_feature() -> None:
    checklist = _checklist(
        _section("AA", _item("AA-01", PASS_FAIL, 1), _item("AA-02", PASS_FAIL, 9, requires_feature="elevator"))
    )
    responses = {"AA-01": Response(passed=True), "AA-02": Response(passed=False)}
    assert score(checklist, [], responses).total == 1
    assert score(checklist, ["elevator"], responses).total == Fraction(1, 10)


def test_section_minimum_override_and_global_minimum() -> None:
    """`min_percent` overrides `min_section_percent` for its section, upwards and downwards."""
    checklist = _checklist(
        _section("AA", _item("AA-01", PASS_FAIL, 7), _item("AA-02", PASS_FAIL, 3)),  # global 60 %
        _section("BB", _item("BB-01", PASS_FAIL, 9), _item("BB-02", PASS_FAIL, 1), min_percent=95),
        _section("CC", _item("CC-01", PASS_FAIL, 1), min_percent=0),
        min_total_percent=0,
        min_section_percent=60,
    )
    responses = {
        "AA-01": Response(passed=True),
        "AA-02": Response(passed=False),
        "BB-01": Response(passed=True),
        "BB-02": Response(passed=False),
        "CC-01": Response(passed=False),
    }
    card = score(checklist, [], responses)
    assert [s.minimum for s in card.sections] == [Fraction(3, 5), Fraction(19, 20), Fraction(0)]
    assert [s.score for s in card.sections] == [Fraction(7, 10), Fraction(9, 10), Fraction(0)]
    assert card.reasons == (
        Reason(ReasonCode.section_below_minimum, section="BB", actual=Fraction(9, 10), required=Fraction(19, 20)),
    )

    # The global minimum applies where there is no override: AA at 40 % now fails it; CC at 0 % never does.
    worse = score(checklist, [], responses | {"AA-01": Response(passed=False), "AA-02": Response(passed=True)})
    assert {r.section for r in worse.reasons} == {"AA", "BB"}


def test_section_exactly_at_its_minimum_passes() -> None:
    checklist = _checklist(
        _section("AA", _item("AA-01", PASS_FAIL, 3), _item("AA-02", PASS_FAIL, 2)),
        min_total_percent=0,
        min_section_percent=60,
    )
    card = score(checklist, [], {"AA-01": Response(passed=True), "AA-02": Response(passed=False)})
    assert card.sections[0].score == card.sections[0].minimum == Fraction(3, 5)
    assert card.passed


def test_no_section_minimum_without_rule() -> None:
    checklist = _checklist(
        _section("AA", _item("AA-01", PASS_FAIL, 1), _item("AA-02", PASS_FAIL, 1)), min_total_percent=0
    )
    card = score(checklist, [], {"AA-01": Response(passed=False), "AA-02": Response(passed=False)})
    assert card.sections[0].minimum is None
    assert card.passed


def test_total_exactly_at_the_minimum_passes() -> None:
    """17 of 20 weighted points is exactly 85 %: certified. A hair below is not."""
    checklist = _checklist(
        _section(
            "AA",
            _item("AA-01", PASS_FAIL, 10),
            _item("AA-02", PASS_FAIL, 3),
            _item("AA-03", {"type": "scale", "min": 0, "max": 100, "pass_min": 0}, 7),
        )
    )
    exact = score(
        checklist, [], {"AA-01": Response(passed=True), "AA-02": Response(passed=False), "AA-03": Response(value=100)}
    )
    assert exact.total == Fraction(17, 20)
    assert exact.passed
    below = score(
        checklist, [], {"AA-01": Response(passed=True), "AA-02": Response(passed=False), "AA-03": Response(value=99.99)}
    )
    assert below.total is not None
    assert below.total < Fraction(17, 20)
    assert below.reasons == (Reason(ReasonCode.total_below_minimum, actual=below.total, required=Fraction(17, 20)),)


def test_choice_scores_are_exact_fractions_at_the_boundary() -> None:
    """0.85 is not exactly representable as a float; the score must still be exactly 85 %."""
    answer = {
        "type": "choice",
        "pass_min": 0,
        "options": [{"key": "a", "label": texts("a"), "score": 0.85}, {"key": "b", "label": texts("b"), "score": 0.1}],
    }
    checklist = _checklist(_section("AA", _item("AA-01", answer, 3)), min_total_percent=85)
    card = score(checklist, [], {"AA-01": Response(choice="a")})
    assert card.total == Fraction(17, 20)
    assert card.passed


def test_unanswered_items_fail_and_are_listed_in_checklist_order() -> None:
    checklist = _checklist(
        _section("BB", _item("BB-01", PASS_FAIL), _item("BB-02", SCALE_0_4)),
        _section("AA", _item("AA-01", CHOICE), _item("AA-02", PASS_FAIL)),
    )
    card = score(
        checklist, [], {"BB-01": Response(passed=True), "AA-02": Response(passed=True), "XX-99": Response(passed=False)}
    )
    assert card.total == 1
    assert not card.passed
    assert card.reasons == (Reason(ReasonCode.items_unanswered, items=("BB-02", "AA-01")),)
    assert "2 applicable items are unanswered: BB-02, AA-01" in str(card.reasons[0])


def test_failed_critical_item_fails_certification() -> None:
    checklist = _checklist(_section("AA", _item("AA-01", PASS_FAIL, 1, critical=True), _item("AA-02", PASS_FAIL, 10)))
    card = score(checklist, [], {"AA-01": Response(passed=False), "AA-02": Response(passed=True)})
    assert card.total == Fraction(10, 11)
    assert card.reasons == (Reason(ReasonCode.critical_item_failed, section="AA", item="AA-01"),)
    assert [r.key for r in card.failed_critical_items] == ["AA-01"]
    assert str(card.reasons[0]) == "Critical item AA-01 failed."

    relaxed = _checklist(
        _section("AA", _item("AA-01", PASS_FAIL, 1, critical=True), _item("AA-02", PASS_FAIL, 10)),
        critical_items_must_pass=False,
    )
    assert score(relaxed, [], {"AA-01": Response(passed=False), "AA-02": Response(passed=True)}).passed


def test_skipped_critical_item_does_not_fail() -> None:
    checklist = _checklist(
        _section("AA", _item("AA-01", PASS_FAIL, 1)),
        _section("GG", _item("GG-01", PASS_FAIL, 1, critical=True), requires_feature="garage"),
    )
    card = score(checklist, [], {"AA-01": Response(passed=True), "GG-01": Response(passed=False)})
    assert card.passed


def test_nothing_scored() -> None:
    checklist = _checklist(
        _section("AA", _item("AA-01", PASS_FAIL, na_allowed=True), _item("AA-02", {"type": "text"}, 0, na_allowed=True))
    )
    card = score(checklist, [], {"AA-01": Response(not_applicable=True), "AA-02": Response(not_applicable=True)})
    assert (card.earned, card.possible, card.total) == (0, 0, None)
    assert card.reasons == (Reason(ReasonCode.nothing_scored),)
    assert not card.passed
    assert card.to_dict()["total"] is None


def test_all_reasons_are_listed_together() -> None:
    checklist = _checklist(
        _section("AA", _item("AA-01", PASS_FAIL, 1, critical=True), _item("AA-02", PASS_FAIL)), min_section_percent=50
    )
    card = score(checklist, [], {"AA-01": Response(passed=False)})
    assert _codes(card) == [
        ReasonCode.items_unanswered,
        ReasonCode.total_below_minimum,
        ReasonCode.section_below_minimum,
        ReasonCode.critical_item_failed,
    ]


def test_to_dict_is_json_and_matches_the_card(example: Checklist) -> None:
    card = score(
        example,
        ["garage", "elevator"],
        {
            "ENT-01": Response(passed=False),
            "ENT-02": Response(value=60),
            "GAR-01": Response(value=29),
            "GAR-02": Response(not_applicable=True),
        },
    )
    data = json.loads(json.dumps(card.to_dict()))
    assert data["checklist"] == {"key": "example-yaml", "version": 1}
    assert data["passed"] is card.passed is False
    assert card.total == Fraction(2, 10)
    assert data["total"] == pytest.approx(0.2)
    assert (Fraction(data["earned"]), data["possible"]) == (card.earned, card.possible)
    assert [s["key"] for s in data["sections"]] == ["ENT", "GAR"]
    for section, summary in zip(card.sections, data["sections"], strict=True):
        assert Fraction(summary["earned"]) == section.earned
        assert summary["possible"] == section.possible
        assert summary["score"] == (None if section.score is None else pytest.approx(float(section.score)))
        assert summary["minimum"] == pytest.approx(0.6)
        assert (summary["answered"], summary["to_answer"]) == (section.answered, section.to_answer)
    assert data["failed_items"] == ["ENT-01", "GAR-01"]
    assert data["failed_critical_items"] == ["ENT-01"]
    assert (
        [r["code"] for r in data["reasons"]]
        == [r.code.value for r in card.reasons]
        == ["total_below_minimum", "section_below_minimum", "section_below_minimum", "critical_item_failed"]
    )
    assert [r["section"] for r in data["reasons"]] == [None, "ENT", "GAR", "ENT"]
    assert data["reasons"][3]["item"] == "ENT-01"
    assert data["reasons"][0]["actual"] == pytest.approx(0.2)
    assert data["reasons"][0]["required"] == pytest.approx(0.85)
    assert [r["text"] for r in data["reasons"]] == [str(r) for r in card.reasons]


# --- properties -----------------------------------------------------------------------------------------------


def _scores(card: ScoreCard) -> list[Fraction | None]:
    return [section.score for section in card.sections] + [card.total]


@PROPERTY_SETTINGS
@given(scenarios())
def test_scores_lie_between_zero_and_one(scenario: Scenario) -> None:
    """Law 1: every section score and the total are None or within [0, 1]."""
    card = score(*scenario)
    for value in _scores(card):
        assert value is None or 0 <= value <= 1
    for result in card.items:
        assert result.score is None or 0 <= result.score <= 1


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_na_only_removes_its_own_item(scenario: Scenario, data: st.DataObject) -> None:
    """Law 2: answering N/A on an item that allows it changes nothing but that item, which then does not count."""
    checklist, building, responses = scenario
    allowing = [item.key for _, item in checklist.items() if item.na_allowed]
    assume(allowing)
    key = data.draw(st.sampled_from(allowing), label="item answered N/A")
    before = score(checklist, building, responses)
    after = score(checklist, building, responses | {key: Response(not_applicable=True)})
    unanswered = score(checklist, building, without(responses, key))

    for old, new in zip(before.items, after.items, strict=True):
        if old.key != key:
            assert new == old
    changed = _result(after, key)
    assert changed.outcome in (Outcome.not_applicable, Outcome.skipped)
    assert not changed.counts
    # Earned and possible are those of the card on which the item is simply not scored.
    assert (after.earned, after.possible) == (unanswered.earned, unanswered.possible)
    assert [(s.earned, s.possible) for s in after.sections] == [(s.earned, s.possible) for s in unanswered.sections]
    old = _result(before, key)
    contribution = (old.score * old.weight, old.weight) if old.score is not None else (0, 0)
    assert (before.earned - after.earned, before.possible - after.possible) == contribution


@PROPERTY_SETTINGS
@given(scenarios())
def test_failed_critical_item_means_not_passed(scenario: Scenario) -> None:
    """Law 3: an applicable critical item that failed fails certification when the rule says so."""
    checklist = scenario[0]
    card = score(*scenario)
    failed_critical = [r for r in card.items if r.critical and r.outcome is Outcome.failed]
    if failed_critical and checklist.pass_rule.critical_items_must_pass:
        assert not card.passed
        assert {r.item for r in card.reasons if r.code is ReasonCode.critical_item_failed} == {
            r.key for r in failed_critical
        }


@PROPERTY_SETTINGS
@given(scenarios(), st.data())
def test_passing_a_failed_item_lowers_no_score(scenario: Scenario, data: st.DataObject) -> None:
    """Law 4: turning a failed item into a passed one never lowers a section score or the total."""
    checklist, building, responses = scenario
    before = score(checklist, building, responses)
    failed = [r.key for r in before.failed_items]
    assume(failed)
    key = data.draw(st.sampled_from(failed), label="item turned to pass")
    found = checklist.find_item(key)
    assert found is not None
    after = score(checklist, building, responses | {key: passing_response(found[1])})
    assert _result(after, key).outcome is Outcome.passed
    assert after.possible == before.possible
    for old, new in zip(_scores(before), _scores(after), strict=True):
        assert (old is None) == (new is None)
        assert old is None or new is None or new >= old
    assert len(after.failed_items) == len(before.failed_items) - 1


@PROPERTY_SETTINGS
@given(scenarios(), st.randoms(use_true_random=False))
def test_order_of_responses_does_not_matter(scenario: Scenario, rng: random.Random) -> None:
    """Law 5: the card depends on what was answered, not on the order of the responses mapping."""
    checklist, building, responses = scenario
    keys = list(responses)
    rng.shuffle(keys)
    shuffled = {key: responses[key] for key in keys}
    assert score(checklist, building, shuffled).to_dict() == score(checklist, building, responses).to_dict()
    assert score(checklist, sorted(building, reverse=True), shuffled) == score(checklist, building, responses)


@PROPERTY_SETTINGS
@given(scenarios())
def test_skipped_items_never_count(scenario: Scenario) -> None:
    """Law 6: items whose feature the building lacks are skipped and count in no `possible`."""
    checklist, building, responses = scenario
    card = score(checklist, building, responses)
    for (section, item), result in zip(checklist.items(), card.items, strict=True):
        assert (result.outcome is Outcome.skipped) == (not is_applicable(section, item, building))
        if result.outcome is Outcome.skipped:
            assert result.score is None
    for section in card.sections:
        counted = [r for r in card.items if r.section == section.key and r.counts]
        assert section.possible == sum(r.weight for r in counted)
        assert section.to_answer == sum(
            1
            for (owner, item), r in zip(checklist.items(), card.items, strict=True)
            if owner.key == section.key and item.is_scored and r.outcome is not Outcome.skipped
        )
    assert card.possible == sum(r.weight for r in card.items if r.counts)
    # Whatever was entered for skipped items is ignored.
    skipped = {r.key for r in card.items if r.outcome is Outcome.skipped}
    kept = {key: value for key, value in responses.items() if key not in skipped}
    assert score(checklist, building, kept) == card


@PROPERTY_SETTINGS
@given(scenarios())
def test_card_follows_the_documented_formula(scenario: Scenario) -> None:
    """Earned and possible are the weighted sums the README describes, and the reasons follow the pass rule."""
    checklist, building, responses = scenario
    card = score(*scenario)
    earned, possible = Fraction(0), 0
    for (section, item), result in zip(checklist.items(), card.items, strict=True):
        response = responses.get(item.key)
        if not is_applicable(section, item, building) or not item.is_scored:
            continue
        if response is None or (response.not_applicable and item.na_allowed):
            continue
        value = item_score(item, response)
        if value is not None:
            earned += value * item.weight
            possible += item.weight
            assert result.score == value
    assert (card.earned, card.possible) == (earned, possible)
    rule = checklist.pass_rule
    total_ok = possible > 0 and earned / possible >= rule.min_total
    sections_ok = all(s.score is None or s.minimum is None or s.score >= s.minimum for s in card.sections)
    critical_ok = not rule.critical_items_must_pass or not card.failed_critical_items
    all_answered = all(
        r.outcome is not Outcome.unanswered
        for (_, item), r in zip(checklist.items(), card.items, strict=True)
        if item.is_scored
    )
    assert card.passed == (total_ok and sections_ok and critical_ok and all_answered)
    json.dumps(card.to_dict())
