"""Dates a user enters lie in a sensible window around today, or are refused with that window (issue 16, item 9)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from audit.accounts.models import Role, User
from audit.remediation.models import RemediationTask
from audit.remediation.services import today
from audit.validators import DUE_DATES
from tests.web_support import csrf_token, login


def _change_due_date(client: FlaskClient, task: RemediationTask, due: str) -> Any:
    data = {"csrf_token": csrf_token(client, "/tasks/"), "due_date": due, "reason": "Avtalat med entreprenören."}
    return client.post(f"/tasks/{task.id}/due-date", data=data)


@pytest.mark.parametrize("typed", ["0001-01-01", "1900-01-01", "9999-12-31", "2999-06-30"])
def test_a_due_date_far_away_is_refused_with_the_window(
    client: FlaskClient,
    session: Session,
    create_member: Callable[..., User],
    create_task: Callable[..., RemediationTask],
    typed: str,
) -> None:
    manager = create_member(Role.manager)
    task = create_task()
    before = task.due_date
    login(client, manager.email)
    response = _change_due_date(client, task, typed)
    assert response.status_code == 422
    first, last = DUE_DATES.window()
    page = response.get_data(as_text=True)
    assert f"Välj ett datum från {first.isoformat()} till {last.isoformat()}." in page
    assert f'value="{typed}"' in page  # what was typed is shown again
    session.expire_all()
    assert session.get(RemediationTask, task.id).due_date == before  # type: ignore[union-attr]


def test_the_edges_of_the_window_are_accepted(
    client: FlaskClient, session: Session, create_member: Callable[..., User], create_task: Callable[..., Any]
) -> None:
    manager = create_member(Role.manager)
    task = create_task()
    login(client, manager.email)
    first, last = DUE_DATES.window()
    for edge in (last, first):
        assert _change_due_date(client, task, edge.isoformat()).status_code == 303
        session.expire_all()
        assert session.get(RemediationTask, task.id).due_date == edge  # type: ignore[union-attr]
    outside = _change_due_date(client, task, (last + timedelta(days=1)).isoformat())
    assert outside.status_code == 422


def test_the_window_is_counted_from_today() -> None:
    first, last = DUE_DATES.window()
    assert first < today() < last
    assert date(2000, 1, 1) < first
    assert last < date(today().year + 6, 1, 1)
