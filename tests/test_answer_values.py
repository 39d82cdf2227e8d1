"""A measured value, its stored result and its score always agree (one rule: `audit.inspections.answers`).

Hypothesis drives `save_answer` with values around every threshold — any number of decimals, a comma or a point,
trailing zeros, floats — and checks after every save, for every answered item, that the result stored when saving
is the one the scorer gives for the stored value, and that both agree with an exact decimal reading of the
checklist's rule. A value with more decimals than are stored is refused and changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.checklists.schema import Item, MeasurementAnswer, ScaleAnswer
from audit.inspections.answers import VALUE_DECIMALS
from audit.inspections.models import Answer, AnswerResult, Inspection
from audit.inspections.scoring import Outcome
from audit.inspections.services import AnswerInput, InvalidAnswer, save_answer, score_inspection
from tests.web_support import api_headers, login

OUTCOME_OF = {AnswerResult.passed: Outcome.passed, AnswerResult.failed: Outcome.failed}


def _valued_items(inspection: Inspection) -> list[Item]:
    return [
        item
        for _, item in inspection.checklist_version.checklist.items()
        if isinstance(item.answer, MeasurementAnswer | ScaleAnswer)
    ]


def _exact_passes(item: Item, value: Decimal) -> bool:
    """The checklist's rule read with exact decimals (independent of the app's float comparisons)."""
    spec = item.answer
    if isinstance(spec, ScaleAnswer):
        return value >= spec.pass_min
    assert isinstance(spec, MeasurementAnswer)
    low, high = spec.threshold.min, spec.threshold.max
    return (low is None or value >= Decimal(str(low))) and (high is None or value <= Decimal(str(high)))


def _anchors(item: Item) -> list[Decimal]:
    spec = item.answer
    if isinstance(spec, ScaleAnswer):
        return [Decimal(spec.min), Decimal(spec.pass_min), Decimal(spec.max)]
    assert isinstance(spec, MeasurementAnswer)
    return [Decimal(str(bound)) for bound in (spec.threshold.min, spec.threshold.max) if bound is not None]


@st.composite
def typed_values(draw: st.DrawFn, item: Item) -> str | float:
    """What an inspector or a client might send: near a bound, with 0–6 decimals, comma or point, or a float."""
    anchor = draw(st.sampled_from(_anchors(item)))
    decimals = draw(st.integers(0, 6))
    step = Decimal(1).scaleb(-decimals)
    value = anchor + draw(st.integers(-3, 3)) * step
    text = f"{value:.{decimals}f}" + "0" * draw(st.integers(0, 2))
    form = draw(st.sampled_from(["point", "comma", "float", "spaces"]))
    if form == "comma":
        return text.replace(".", ",")
    if form == "float":
        return float(text)
    if form == "spaces":
        return f" {text} "
    return text


def _stored_value(session: Session, inspection: Inspection, key: str) -> Decimal | None:
    return session.scalar(select(Answer.value).where(Answer.inspection_id == inspection.id, Answer.item_key == key))


def _decimals(raw: str | float) -> int:
    exponent = Decimal(str(raw).strip().replace(",", ".")).normalize().as_tuple().exponent
    assert isinstance(exponent, int)
    return max(0, -exponent)


@pytest.fixture
def inspection(create_inspection: Callable[..., Inspection]) -> Inspection:
    return create_inspection()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_saved_result_and_score_agree_for_every_value(
    data: st.DataObject, inspection: Inspection, session: Session
) -> None:
    """One inspection for every example (a fixture is made once per test): its answers accumulate, and after each
    example every answered item is checked again."""
    items = _valued_items(inspection)
    for _ in range(3):
        item = data.draw(st.sampled_from(items))
        raw = data.draw(typed_values(item))
        before = _stored_value(session, inspection, item.key)
        try:
            saved = save_answer(session, inspection.inspector, inspection, item.key, AnswerInput(value=raw))
        except InvalidAnswer:
            value = Decimal(str(raw).strip().replace(",", "."))
            out_of_scale = isinstance(item.answer, ScaleAnswer) and not item.answer.min <= value <= item.answer.max
            assert _decimals(raw) > VALUE_DECIMALS or out_of_scale, raw
            stored = _stored_value(session, inspection, item.key)
            assert stored == before, "a refused value changes nothing"
            continue
        assert _decimals(raw) <= VALUE_DECIMALS
        assert saved.value == Decimal(str(raw).strip().replace(",", "."))
        assert (saved.result is AnswerResult.passed) is _exact_passes(item, saved.value)
    session.expire_all()
    card = {result.key: result for result in score_inspection(inspection).items}
    for answer in inspection.answers:
        assert card[answer.item_key].outcome is OUTCOME_OF[answer.result], answer.item_key
        item = inspection.checklist_version.checklist.find_item(answer.item_key)[1]  # type: ignore[index]
        assert (answer.result is AnswerResult.passed) is _exact_passes(item, answer.value)  # type: ignore[arg-type]


@pytest.mark.parametrize("raw", ["1.0004", "1,0004", 1.00001])
def test_more_decimals_than_are_stored_is_refused_through_the_api_and_the_page(
    client: FlaskClient, create_inspection: Callable[..., Inspection], session: Session, raw: str | float
) -> None:
    """The field test's values: judged as failing but scored as passing before; now refused with the reason."""
    inspection = create_inspection()
    login(client, inspection.inspector.email)
    response = client.put(
        f"/api/v1/inspections/{inspection.id}/answers/UTE-01", json={"value": raw}, headers=api_headers(client)
    )
    assert response.status_code == 422
    assert response.json["message"] == f"UTE-01 tar ett värde med högst 3 decimaler; '{raw}' har fler."
    # The page without script: nothing is saved, and every typed field of the section is shown as it was typed.
    response = client.post(
        f"/inspections/{inspection.id}/sections/UTE",
        data={
            "value-UTE-01": str(raw),
            "comment-UTE-01": "Buskarna vid entrén.",
            "result-UTE-05": "fail",
            "comment-UTE-05": "Skymd gångväg.",
            "csrf_token": api_headers(client)["X-CSRFToken"],
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "högst 3 decimaler" in page
    assert f'value="{raw}"' in page
    assert "Buskarna vid entrén." in page
    assert "Skymd gångväg." in page
    assert 'name="result-UTE-05" value="fail" checked' in page
    assert session.scalar(select(Answer.id).where(Answer.inspection_id == inspection.id)) is None


def test_an_inspection_holds_a_bounded_amount_of_text(inspection: Inspection, session: Session) -> None:
    """Each text is at most 10,000 characters, and all of an inspection's together at most 200,000 (its report prints
    every character): the page and the API refuse the text that would go over, naming the item and the figures."""
    from audit.inspections.answers import MAX_INSPECTION_TEXT, MAX_TEXT

    items = [item for _, item in inspection.checklist_version.checklist.items()]
    long = "x" * MAX_TEXT
    saved = 0
    for item in items:
        if saved + MAX_TEXT > MAX_INSPECTION_TEXT:
            with pytest.raises(InvalidAnswer, match=f"{MAX_INSPECTION_TEXT}"):
                save_answer(session, inspection.inspector, inspection, item.key, AnswerInput(comment=long))
            break
        save_answer(session, inspection.inspector, inspection, item.key, AnswerInput(comment=long))
        saved += MAX_TEXT
    else:
        pytest.fail("the checklist has too few items to reach the total")
    # Changing one of the stored texts counts the others only, and a short text is never refused.
    save_answer(session, inspection.inspector, inspection, items[0].key, AnswerInput(comment=long[:-1] + "y"))
    save_answer(session, inspection.inspector, inspection, items[-1].key, AnswerInput(comment="Kort anteckning."))
