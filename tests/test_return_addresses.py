"""Return addresses: a page that sends the user back somewhere sends them only to a path on this site (issue 16)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from audit.accounts.models import Role, User
from audit.settings import PROJECT_ROOT
from tests.conftest import TEST_PASSWORD
from tests.web_support import csrf_token, login

#: Addresses that lead off the site, written the ways browsers and servers read them.
OUTSIDE = [
    "https://evil.example/phish",
    "http:evil.example",
    "//evil.example/phish",
    "///evil.example",
    "/\\evil.example",
    "\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "javascript:alert(1)",
    "evil.example",
    " //evil.example",
]


@pytest.mark.parametrize("outside", OUTSIDE)
def test_login_never_sends_the_user_off_site(
    client: FlaskClient, create_member: Callable[..., User], outside: str
) -> None:
    user = create_member(Role.inspector)
    response = client.post(
        "/login",
        query_string={"next": outside},
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/buildings/"
    # Already logged in: the login page sends the user on at once, by the same rule.
    again = client.get("/login", query_string={"next": outside})
    assert again.headers["Location"] == "/buildings/"


def test_login_keeps_a_path_on_the_site(client: FlaskClient, create_member: Callable[..., User]) -> None:
    user = create_member(Role.inspector)
    response = client.post(
        "/login?next=/inspections/%3Fstatus%3Ddraft",
        data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": csrf_token(client)},
    )
    assert response.headers["Location"] == "/inspections/?status=draft"


def _assign(client: FlaskClient, back: str, tasks: list[str]) -> Any:
    data = {"csrf_token": csrf_token(client, "/tasks/"), "tasks": tasks, "assignee": "", "back": back}
    return client.post("/tasks/assign", data=data)


@pytest.mark.parametrize("outside", OUTSIDE)
def test_bulk_assignment_never_sends_the_user_off_site(
    client: FlaskClient, create_member: Callable[..., User], create_task: Callable[..., Any], outside: str
) -> None:
    manager = create_member(Role.manager)
    task = create_task()
    login(client, manager.email)
    for tasks in ([str(task.id)], []):  # assigned, and refused for want of tasks
        response = _assign(client, outside, tasks)
        assert response.status_code == 303
        assert response.headers["Location"] == "/tasks/"


def test_bulk_assignment_returns_to_the_list_it_came_from(
    client: FlaskClient, create_member: Callable[..., User], create_task: Callable[..., Any]
) -> None:
    manager = create_member(Role.manager)
    task = create_task()
    login(client, manager.email)
    response = _assign(client, "/tasks/?status=open&page=2", [str(task.id)])
    assert response.headers["Location"] == "/tasks/?status=open&page=2"


def test_every_redirect_built_from_the_request_goes_through_the_one_check() -> None:
    """A redirect to an address the request gave (not one built by `url_for`) must pass `same_site_path`."""
    unchecked = []
    for source in (PROJECT_ROOT / "audit").rglob("*.py"):
        for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
            if re.search(r"redirect\((?!url_for\().*request\.", line) and not re.search(
                r"same_site_path\(|_safe_next\(", line
            ):
                unchecked.append(f"{source.relative_to(PROJECT_ROOT)}:{number}: {line.strip()}")
    assert unchecked == []
