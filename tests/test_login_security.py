"""Logging in against guessing: backoff instead of lock-out, counted under a lock, no timing tell; passwords that
can be changed and reset, and are not among the common ones."""

from __future__ import annotations

import statistics
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from audit.accounts.backoff import ZERO, Backoff
from audit.accounts.models import LoginThrottle, Organisation, Role, User
from audit.accounts.services import create_organisation, create_user
from audit.accounts.strength import check_password_strength
from audit.accounts.throttle import POLICIES, check_password
from audit.database import utcnow
from audit.errors import DomainError
from audit.extensions import db
from audit.migrate import upgrade
from tests.browser_support import live_server
from tests.conftest import TEST_PASSWORD, fresh_database, make_test_app
from tests.web_support import csrf_token, login

FREE = POLICIES[next(iter(POLICIES))].free  # the account from one address: its free tries


@pytest.fixture
def member(create_member: Callable[..., User]) -> User:
    return create_member(Role.inspector, email="guarded@test.example")


def _client(app: Flask, address: str) -> FlaskClient:
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _try(client: FlaskClient, email: str, password: str) -> tuple[int, str, dict[str, str]]:
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": csrf_token(client)})
    return response.status_code, response.get_data(as_text=True), dict(response.headers)


# --- the backoff rule ---------------------------------------------------------------------------------------------


def test_backoff_doubles_is_capped_and_forgets() -> None:
    rule = Backoff(3, timedelta(seconds=10), timedelta(minutes=2), timedelta(hours=1))
    now = utcnow()
    assert rule.wait(2, now, now) == ZERO
    assert rule.wait(3, now, now) == timedelta(seconds=10)
    assert rule.wait(5, now, now) == timedelta(seconds=40)
    assert rule.wait(10_000, now, now) == timedelta(minutes=2)  # never a lock-out, however many failures
    assert rule.wait(4, now - timedelta(seconds=15), now) == timedelta(seconds=5)
    assert rule.wait(10_000, now - timedelta(hours=1), now) == ZERO  # forgotten an hour after the last
    assert rule.current(10_000, now - timedelta(hours=1), now) == 0


# --- throttling through the login page ----------------------------------------------------------------------------


def test_the_guesser_waits_but_the_real_user_elsewhere_logs_in(app: Flask, session: Session, member: User) -> None:
    guesser = _client(app, "203.0.113.7")
    for _ in range(FREE):
        status, page, _headers = _try(guesser, member.email, "wrong guess")
        assert status == 200
        assert "Fel e-postadress eller lösenord." in page
    status, page, headers = _try(guesser, member.email, TEST_PASSWORD)
    assert status == 429
    assert "För många misslyckade försök. Försök igen om 30 sekunder." in page, page[page.find("alert") :][:300]
    assert headers["Retry-After"] == "30"
    # The same account from the user's own address: not locked out.
    login(_client(app, "198.51.100.20"), member.email)
    # Once the wait is over, the guesser's next try is evaluated again (and the right password works).
    session.execute(update(LoginThrottle).values(last_failure_at=utcnow() - timedelta(seconds=31)))
    status, _page, _headers = _try(guesser, member.email, TEST_PASSWORD)
    assert status == 302


def test_each_failure_beyond_the_free_ones_doubles_the_wait(app: Flask, session: Session, member: User) -> None:
    guesser = _client(app, "203.0.113.8")
    waits = []
    for _ in range(3):
        for _ in range(FREE if not waits else 1):
            assert _try(guesser, member.email, "wrong guess")[0] == 200
        status, _page, headers = _try(guesser, member.email, "wrong guess")
        assert status == 429
        waits.append(int(headers["Retry-After"]))
        session.execute(update(LoginThrottle).values(last_failure_at=utcnow() - timedelta(hours=0, seconds=1000)))
    assert waits == [30, 60, 120]


def test_one_address_trying_many_accounts_is_slowed_down(app: Flask) -> None:
    sweeper = _client(app, "203.0.113.9")
    statuses = [_try(sweeper, f"user{n}@test.example", "Sommar2026!")[0] for n in range(60)]
    allowed = POLICIES[next(s for s in POLICIES if s.value == "address")].free
    assert statuses[:allowed] == [200] * allowed
    assert set(statuses[allowed:]) == {429}


@pytest.fixture
def costly_member(production_hashing: None, create_member: Callable[..., User]) -> User:
    """A member whose password is hashed at the production cost (and the dummy hash at that cost too)."""
    return create_member(Role.inspector, email="guarded@test.example")


def test_an_unknown_account_costs_as_much_as_a_known_one(app: Flask, session: Session, costly_member: User) -> None:
    """Without a dummy hash, an unknown account answered in a few milliseconds and a known one in a hundred."""
    member = costly_member
    assert "$m=65536,t=3,p=4$" in member.password_hash

    def seconds(email: str) -> float:
        runs = []
        for index in range(5):
            started = time.perf_counter()
            check_password(session, email, "wrong guess", f"192.0.2.{index}")
            runs.append(time.perf_counter() - started)
        session.execute(update(LoginThrottle).values(failures=0))
        return statistics.median(runs)

    known, unknown = seconds(member.email), seconds("nobody-here@test.example")
    assert unknown > 0.6 * known, (known, unknown)


# --- counted atomically -------------------------------------------------------------------------------------------


@pytest.fixture
def served_login(database_kind: str, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """A threaded server with one committed user: (server url, e-mail). CSRF is off: this is about counting."""
    with fresh_database(database_kind, tmp_path) as url:
        # At the production cost: the slow hash is what widens the window in which uncounted guesses would race.
        app = make_test_app(url, tmp_path, production_hashing=True, WTF_CSRF_ENABLED=False)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        with app.app_context():
            organisation = create_organisation(db.session, "race", "Race AB")
            create_user(db.session, organisation, "target@test.example", Role.inspector, TEST_PASSWORD)
            db.session.commit()
        with live_server(app) as server:
            yield server.url, "target@test.example"
        engine.dispose()


def test_forty_parallel_guesses_are_evaluated_only_as_often_as_allowed(served_login: tuple[str, str]) -> None:
    url, email = served_login
    barrier = threading.Barrier(40)
    statuses: list[int] = []

    def guess(index: int) -> None:
        body = urllib.parse.urlencode({"email": email, "password": f"wrong guess {index}"}).encode()
        barrier.wait()
        try:
            with urllib.request.urlopen(urllib.request.Request(url + "/login", data=body), timeout=60) as response:
                statuses.append(response.status)
        except urllib.error.HTTPError as error:
            statuses.append(error.code)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sorted(statuses) == [200] * FREE + [429] * (40 - FREE)


# --- changing and resetting a password ----------------------------------------------------------------------------


def _change(client: FlaskClient, current: str, new: str, repeat: str | None = None) -> tuple[int, str]:
    response = client.post(
        "/password",
        data={
            "current_password": current,
            "new_password": new,
            "repeat": new if repeat is None else repeat,
            "csrf_token": csrf_token(client, "/password"),
        },
    )
    return response.status_code, response.get_data(as_text=True)


def test_a_user_changes_the_password_and_other_logins_end(app: Flask, session: Session, member: User) -> None:
    other_device, this_device = app.test_client(), app.test_client()
    login(other_device, member.email)
    login(this_device, member.email)
    status, page = _change(this_device, "not my password", "a brand new phrase")
    assert status == 200
    assert "Det nuvarande lösenordet är fel." in page
    status, page = _change(this_device, TEST_PASSWORD, "password123")
    assert status == 422
    assert "ett av de vanligaste lösenorden" in page
    status, page = _change(this_device, TEST_PASSWORD, "a brand new phrase", "a brand new phrasE")
    assert status == 422
    assert "De två nya lösenorden skiljer sig åt." in page
    status, _page = _change(this_device, TEST_PASSWORD, "a brand new phrase")
    assert status == 302
    assert this_device.get("/buildings/").status_code == 200
    assert other_device.get("/buildings/").status_code == 302  # logged out there
    login(app.test_client(), member.email, "a brand new phrase")
    assert _try(app.test_client(), member.email, TEST_PASSWORD)[0] == 200  # the old one is refused


def test_guessing_the_current_password_is_throttled_too(app: Flask, member: User) -> None:
    client = _client(app, "203.0.113.10")
    login(client, member.email)
    for _ in range(FREE):
        assert _change(client, "guess", "a brand new phrase")[0] == 200
    assert _change(client, TEST_PASSWORD, "a brand new phrase")[0] == 429


def _reset_link(admin_client: FlaskClient, user_id: int) -> tuple[int, str]:
    response = admin_client.post(
        f"/users/{user_id}/reset-link", data={"csrf_token": csrf_token(admin_client, "/users/")}
    )
    page = response.get_data(as_text=True)
    start = page.find("http://localhost/password/reset/")
    return response.status_code, page[start : page.index('"', start)] if start >= 0 else ""


def test_an_admin_makes_a_one_time_reset_link(
    app: Flask, member: User, create_member: Callable[..., User], create_org: Callable[..., Organisation]
) -> None:
    admin = app.test_client()
    login(admin, create_member(Role.admin).email)
    assert member.email in admin.get("/users/").get_data(as_text=True)
    stranger = create_member(Role.inspector, organisation=create_org("stranger"))
    assert _reset_link(admin, stranger.id)[0] == 404  # another organisation's user
    member_device = app.test_client()
    login(member_device, member.email)

    status, link = _reset_link(admin, member.id)
    assert status == 200
    assert link
    path = link.removeprefix("http://localhost")
    visitor = app.test_client()
    page = visitor.get(path)
    assert page.status_code == 200
    assert member.email in page.get_data(as_text=True)
    weak = visitor.post(
        path, data={"new_password": "qwertyuiop", "repeat": "qwertyuiop", "csrf_token": csrf_token(visitor, path)}
    )
    assert weak.status_code == 422
    new = {"new_password": "chosen after a reset", "repeat": "chosen after a reset"}
    done = visitor.post(path, data={**new, "csrf_token": csrf_token(visitor, path)})
    assert done.status_code == 302
    assert done.headers["Location"] == "/login"
    assert member_device.get("/buildings/").status_code == 302  # every login ended
    login(app.test_client(), member.email, "chosen after a reset")
    used = visitor.get(path)
    assert used.status_code == 404
    assert "Länken fungerar inte" in used.get_data(as_text=True)


def test_a_reset_link_expires_and_a_newer_password_voids_it(
    app: Flask, session: Session, member: User, create_member: Callable[..., User]
) -> None:
    from audit.accounts.models import PasswordReset

    admin = app.test_client()
    login(admin, create_member(Role.admin).email)
    path = _reset_link(admin, member.id)[1].removeprefix("http://localhost")
    session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
    assert app.test_client().get(path).status_code == 404
    path = _reset_link(admin, member.id)[1].removeprefix("http://localhost")
    client = app.test_client()
    login(client, member.email)
    assert _change(client, TEST_PASSWORD, "changed before the link")[0] == 302
    assert app.test_client().get(path).status_code == 404
    assert session.scalar(select(PasswordReset.used_at).order_by(PasswordReset.id.desc()).limit(1)) is not None


# --- weak passwords -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "short",
        "password123",
        "1q2w3e4r5t",
        "Qwertyuiop",
        "iloveyou123",
        "aaaaaaaaaaaa",
        "1212121212",
        "walker@test.example",
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password: str) -> None:
    with pytest.raises(DomainError):
        check_password_strength(password, "walker@test.example")


def test_a_good_pass_phrase_is_accepted() -> None:
    check_password_strength("vinterns ljus över Fittja", "walker@test.example")
