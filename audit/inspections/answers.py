"""One rule for what an answer may be: the walk's page and the API both save through `check_answer`.

Pure module: no Flask, no database. Given a checklist item and what the inspector sent, `check_answer` returns the
answer exactly as it will be stored — with the result worked out from that stored value — or raises
`InvalidAnswer` with a message that names the item.

A measured value (or a scale step) is a decimal number, written with a decimal point or a comma, with at most
`VALUE_DECIMALS` decimals: the database keeps exactly that many, and the value judged when saving must be the value
that is stored, scored, printed in the report and carried into a remediation task. A value with more decimals is
refused rather than rounded, because rounding can move it across its threshold (1.0004 m judged above a 1.0 m
limit but stored as 1.000 m would pass when scored).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from audit.checklists.schema import AnswerType, ChoiceAnswer, Item, MeasurementAnswer, ScaleAnswer
from audit.errors import N_, DomainError
from audit.inspections.scoring import Response, item_passes

#: Decimals kept of a measured value or scale step (the `answers.value` column's scale).
VALUE_DECIMALS = 3
#: Digits in all (the column's precision): values must stay below 10 ** (VALUE_DIGITS - VALUE_DECIMALS).
VALUE_DIGITS = 12
VALUE_LIMIT = Decimal(10) ** (VALUE_DIGITS - VALUE_DECIMALS)
#: The longest comment or text answer, in characters.
MAX_TEXT = 10_000
#: The most text (comments and text answers) one inspection holds in all: a report prints every character of it.
MAX_INSPECTION_TEXT = 200_000
#: Only an answer with at least this much text is checked against the total (almost every save on the walk has
#: less, and reads no total): an inspection of 100 items thus holds at most MAX_INSPECTION_TEXT plus 100 short texts.
TEXT_COUNTED_FROM = MAX_INSPECTION_TEXT // 100
#: The longest choice key (the `answers.choice` column's length).
MAX_CHOICE = 40


class AnswerResult(StrEnum):
    passed = "pass"
    failed = "fail"
    not_applicable = "na"
    #: A text item's note: kept, never scored.
    noted = "noted"


class InvalidAnswer(DomainError):
    """An answer that does not fit its checklist item."""


@dataclass(frozen=True, slots=True)
class AnswerInput:
    """One answer as the inspector gives it; `result` is 'pass', 'fail' or 'na' (or omitted for values)."""

    result: AnswerResult | None = None
    value: Decimal | float | str | None = None
    choice: str | None = None
    text: str | None = None
    comment: str | None = None


@dataclass(frozen=True, slots=True)
class CheckedAnswer:
    """An answer as it will be stored: `result` is worked out from exactly this `value` or `choice`."""

    result: AnswerResult | None
    value: Decimal | None
    choice: str | None
    text: str | None
    comment: str | None


def check_answer(item: Item, given: AnswerInput) -> CheckedAnswer:
    """The answer to store for `item`, or `InvalidAnswer` naming the item and what is wrong."""
    _check_text(item, given.comment)
    is_na = given.result is AnswerResult.not_applicable
    if is_na:
        value, choice = None, None
    else:
        value = parse_value(item, given.value)
        choice = given.choice
        _check_fields(item, value, choice, given.text)
    _check_text(item, given.text)
    return CheckedAnswer(
        result=_result_for(item, given.result, value, choice, given.text),
        value=value,
        choice=choice,
        text=given.text,
        comment=given.comment,
    )


def text_length(answer: CheckedAnswer) -> int:
    return len(answer.comment or "") + len(answer.text or "")


def check_inspection_text(item: Item, answer: CheckedAnswer, others: int) -> None:
    """Refuse an answer that would bring the inspection's text (`others`: every other answer's) over its total."""
    total = others + text_length(answer)
    if total > MAX_INSPECTION_TEXT:
        raise InvalidAnswer(
            N_(
                "%(key)s: the inspection's comments and notes may hold %(max)d characters in all; "
                "this text would make %(total)d."
            ),
            key=item.key,
            max=MAX_INSPECTION_TEXT,
            total=total,
        )


def parse_value(item: Item, raw: Decimal | float | str | None) -> Decimal | None:
    """A measured value or scale step as stored; a comma is read as the decimal point."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise InvalidAnswer(N_("'%(value)s' is not a number."), value=str(raw))
    text = str(raw).strip().replace(",", ".")
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise InvalidAnswer(N_("'%(value)s' is not a number."), value=str(raw)[:40]) from None
    if not value.is_finite() or abs(value) >= VALUE_LIMIT:
        raise InvalidAnswer(N_("'%(value)s' is not a usable measurement."), value=str(raw)[:40])
    exponent = value.normalize().as_tuple().exponent
    if isinstance(exponent, int) and -exponent > VALUE_DECIMALS:
        raise InvalidAnswer(
            N_("%(key)s takes a value with at most %(decimals)d decimals; '%(value)s' has more."),
            key=item.key,
            decimals=VALUE_DECIMALS,
            value=str(raw)[:40],
        )
    return value.quantize(Decimal(1).scaleb(-VALUE_DECIMALS))


def _check_text(item: Item, text: str | None) -> None:
    if text is not None and len(text) > MAX_TEXT:
        raise InvalidAnswer(N_("%(key)s: a text may be at most %(max)d characters long."), key=item.key, max=MAX_TEXT)
    if text is not None and "\x00" in text:
        raise InvalidAnswer(N_("%(key)s: the text contains a character that cannot be stored."), key=item.key)


def _check_fields(item: Item, value: Decimal | None, choice: str | None, text: str | None) -> None:
    """Only the field that fits the item's answer type may be given."""
    spec = item.answer
    if value is not None and not isinstance(spec, ScaleAnswer | MeasurementAnswer):
        raise InvalidAnswer(N_("%(key)s takes no measured value."), key=item.key)
    if choice is not None and not isinstance(spec, ChoiceAnswer):
        raise InvalidAnswer(N_("%(key)s takes no choice."), key=item.key)
    if text is not None and spec.type != AnswerType.text:
        raise InvalidAnswer(N_("%(key)s takes no text answer; write a comment instead."), key=item.key)


def _result_for(
    item: Item, given: AnswerResult | None, value: Decimal | None, choice: str | None, text: str | None
) -> AnswerResult | None:
    """The stored outcome: the inspector's for pass/fail and N/A, worked out from the value or choice otherwise."""
    if given is AnswerResult.not_applicable:
        if not item.na_allowed:
            raise InvalidAnswer(N_("%(key)s cannot be answered 'not applicable'."), key=item.key)
        return AnswerResult.not_applicable
    spec = item.answer
    if spec.type != AnswerType.pass_fail and given is not None:
        raise InvalidAnswer(N_("%(key)s is answered with a value or a choice, not pass or fail."), key=item.key)
    if spec.type == AnswerType.pass_fail:
        if given not in (None, AnswerResult.passed, AnswerResult.failed):
            raise InvalidAnswer(N_("%(key)s is answered pass or fail."), key=item.key)
        return given
    if spec.type == AnswerType.text:
        return AnswerResult.noted if text and text.strip() else None
    if isinstance(spec, ScaleAnswer) and value is not None and not spec.min <= value <= spec.max:
        raise InvalidAnswer(
            N_("%(key)s takes a value from %(min)d to %(max)d."), key=item.key, min=spec.min, max=spec.max
        )
    if isinstance(spec, ScaleAnswer | MeasurementAnswer) and value is None:
        return None
    if isinstance(spec, ChoiceAnswer):
        if choice is None:
            return None
        if len(choice) > MAX_CHOICE or spec.option(choice) is None:
            raise InvalidAnswer(N_("'%(choice)s' is not an option of %(key)s."), choice=choice[:40], key=item.key)
    passes = item_passes(item, Response(value=None if value is None else float(value), choice=choice))
    return None if passes is None else (AnswerResult.passed if passes else AnswerResult.failed)
