"""Translations: every source string has a Swedish translation, the compiled catalogues match their sources, and
pages come out in Swedish by default and in English on request (`?lang=en`, then kept in the session).

After changing user-visible text, run `scripts/i18n.sh`, translate what is new in the Swedish catalogue and run
`scripts/i18n.sh compile`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import flask_babel
import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask import Flask, render_template
from flask.testing import FlaskClient
from werkzeug.exceptions import (
    BadRequest,
    Forbidden,
    HTTPException,
    InternalServerError,
    MethodNotAllowed,
    NotFound,
    RequestEntityTooLarge,
    TooManyRequests,
)

from audit.accounts.models import Role, User
from audit.i18n import LANGUAGES
from audit.settings import PROJECT_ROOT
from tests.web_support import login

TRANSLATIONS = PROJECT_ROOT / "audit" / "translations"
BABEL_CFG = PROJECT_ROOT / "babel.cfg"
# The keywords scripts/i18n.sh passes to `pybabel extract` (-k _l -k lazy_gettext -k N_) on top of Babel's defaults.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}

# A %-format placeholder: %(name)s, %d, %.1f, … and the literal %%.
PLACEHOLDER = re.compile(
    r"%(?:\((?P<name>[^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?[hlL]?(?P<conversion>[diouxXeEfFgGcrsa%])"
)


def _po_path(language: str) -> Path:
    return TRANSLATIONS / language / "LC_MESSAGES" / "messages.po"


def _read_po(language: str) -> Catalog:
    with _po_path(language).open("rb") as file:
        return read_po(file, locale=language)


def _read_mo(language: str) -> Catalog:
    with _po_path(language).with_suffix(".mo").open("rb") as file:
        return read_mo(file)


def _key(msgid: str | tuple[str, ...] | list[str]) -> str | tuple[str, ...]:
    return msgid if isinstance(msgid, str) else tuple(msgid)


def _forms(string: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    return (string,) if isinstance(string, str) else tuple(string)


@functools.cache
def _extracted_from_sources() -> dict[str | tuple[str, ...], list[str]]:
    """Every msgid in the sources (as `pybabel extract -F babel.cfg` finds them), with where it occurs."""
    with BABEL_CFG.open(encoding="utf-8") as file:
        method_map, options_map = parse_mapping_cfg(file, str(BABEL_CFG))
    found: dict[str | tuple[str, ...], list[str]] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PROJECT_ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        if isinstance(message, tuple):
            message = tuple(part for part in message if part is not None)
            key: str | tuple[str, ...] = message[0] if len(message) == 1 else message
        else:
            key = message
        if key:
            found.setdefault(key, []).append(f"{filename}:{lineno}")
    return found


def _placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in PLACEHOLDER.finditer(text) if match.group("conversion") != "%")


class _AnyValue(dict):  # type: ignore[type-arg]
    """A mapping that has every key, for trying a %-format string the way Jinja's newstyle gettext does."""

    def __missing__(self, key: str) -> int:
        return 1


def _formats(text: str) -> bool:
    try:
        text % _AnyValue()
    except (ValueError, TypeError, KeyError):
        return False
    return True


# --- the catalogues ----------------------------------------------------------------------------------------------


def test_the_extraction_finds_strings_in_python_and_templates() -> None:
    """Guards the test below against a babel.cfg that silently matches nothing."""
    places = {place for where in _extracted_from_sources().values() for place in where}
    assert any(place.startswith("templates/") for place in places)
    assert any(place.startswith("audit/") and place.split(":")[0].endswith(".py") for place in places)
    assert "Log in" in _extracted_from_sources()


def test_every_source_string_has_a_swedish_translation() -> None:
    """Fails when a string in a template or in the Python code is missing from the catalogues (or left untranslated)."""
    catalog = _read_po("sv")
    problems = []
    for msgid, where in sorted(_extracted_from_sources().items(), key=lambda pair: str(pair[0])):
        message = catalog.get(msgid if isinstance(msgid, str) else msgid[0])
        if message is None or _key(message.id) != msgid:
            problems.append(f"missing: {msgid!r} ({', '.join(where)})")
        elif message.fuzzy:
            problems.append(f"fuzzy: {msgid!r} ({', '.join(where)})")
        elif not all(_forms(message.string)):
            problems.append(f"untranslated: {msgid!r} ({', '.join(where)})")
    assert not problems, "Run scripts/i18n.sh and translate in audit/translations/sv:\n" + "\n".join(problems)


def test_the_catalogues_hold_no_string_the_sources_no_longer_use() -> None:
    extracted = set(_extracted_from_sources())
    for language in LANGUAGES:
        stale = [message.id for message in _read_po(language) if message.id and _key(message.id) not in extracted]
        assert not stale, f"{language}: run scripts/i18n.sh to drop strings no longer in the sources: {stale}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_a_catalogue_with_its_plural_rule(language: str) -> None:
    catalog = _read_po(language)
    assert str(catalog.locale) == language
    assert catalog.num_plurals == 2
    assert catalog.plural_expr.replace(" ", "") == "(n!=1)"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalogue_is_up_to_date(language: str) -> None:
    po, mo = _read_po(language), _read_mo(language)
    expected: dict[str | tuple[str, ...], str | tuple[str, ...]] = {}
    for message in po:
        if not message.id or message.fuzzy or not message.string:
            continue
        if message.pluralizable:
            # Empty plural forms are compiled as the English source (msgid for the first form, msgid_plural after).
            ids = _forms(message.id)
            expected[_key(message.id)] = tuple(
                form or ids[min(index, 1)] for index, form in enumerate(_forms(message.string))
            )
        else:
            expected[message.id] = message.string
    compiled = {_key(message.id): _key(message.string) for message in mo if message.id}
    stale = sorted(str(msgid) for msgid in expected.keys() ^ compiled.keys())
    stale += sorted(str(msgid) for msgid in expected.keys() & compiled.keys() if expected[msgid] != compiled[msgid])
    assert not stale, f"{language}: messages.mo is older than messages.po; run scripts/i18n.sh compile: {stale}"
    assert mo.plural_forms == po.plural_forms


def test_swedish_translations_keep_the_placeholders() -> None:
    problems = []
    for message in _read_po("sv"):
        if not message.id:
            continue
        ids = _forms(message.id)
        wanted = _placeholders(ids[-1])
        for index, form in enumerate(_forms(message.string)):
            if not form:
                continue
            have = _placeholders(form)
            if message.pluralizable and index == 0:
                # The singular may say "one" instead of %(num)d, but must not bring a placeholder of its own.
                ok = set(have) <= set(wanted) and set(wanted) - {"%(num)d"} <= set(have)
            elif message.pluralizable:
                ok = set(have) == set(wanted)
            else:
                ok = have == wanted
            if not ok:
                problems.append(f"{ids[0]!r}: {wanted} in the source, {have} in {form!r}")
            if _formats(ids[0]) and not _formats(form):
                problems.append(f"{ids[0]!r}: the translation {form!r} is not a valid %-format string")
    assert not problems, "\n".join(problems)


# --- pages ---------------------------------------------------------------------------------------------------------


def _new_request() -> None:
    """Forget the locale Flask-Babel chose for the previous request.

    Flask-Babel keeps the chosen locale in `g`, which belongs to the app context. In production every request has
    an app context of its own; here the `session` fixture holds one app context open for the whole test, and the
    test client's requests share it (and its `g`), so without this every request would keep the first one's language.
    """
    flask_babel.refresh()


def _page(client: FlaskClient, path: str, status: int = 200, **kwargs: Any) -> str:
    _new_request()
    response = client.get(path, **kwargs)
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    return response.get_data(as_text=True)


def test_the_login_page_is_swedish_by_default_and_english_on_request(client: FlaskClient) -> None:
    page = _page(client, "/login")
    assert '<html lang="sv">' in page
    assert "<h1>Logga in</h1>" in page
    assert "Lösenord" in page
    assert 'hreflang="en"' in page  # the switch offers the other language

    page = _page(client, "/login?lang=en")
    assert '<html lang="en">' in page
    assert "<h1>Log in</h1>" in page
    assert "Password" in page
    assert "Logga in" not in page
    assert 'hreflang="sv"' in page


def test_the_chosen_language_sticks_in_the_session(client: FlaskClient) -> None:
    _page(client, "/login?lang=en")
    page = _page(client, "/login")
    assert '<html lang="en">' in page
    assert "<h1>Log in</h1>" in page

    page = _page(client, "/login?lang=de")  # not offered: ignored, the session's choice stays
    assert '<html lang="en">' in page

    _page(client, "/login?lang=sv")
    page = _page(client, "/login")
    assert '<html lang="sv">' in page
    assert "<h1>Logga in</h1>" in page


def test_a_new_visitor_gets_swedish_whatever_the_browser_asks_for(client: FlaskClient) -> None:
    page = _page(client, "/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="sv">' in page
    assert "<h1>Logga in</h1>" in page


def test_the_start_page_in_both_languages(client: FlaskClient) -> None:
    page = _page(client, "/")
    assert '<html lang="sv">' in page
    assert "Trygghetsbesiktning av bostadshus" in page
    assert "<h2>Checklistor</h2>" in page
    assert "version 2, 100 punkter" in page
    assert "Logga in" in page

    page = _page(client, "/?lang=en")
    assert '<html lang="en">' in page
    assert "Safety inspection of residential buildings" in page
    assert "<h2>Checklists</h2>" in page
    assert "version 2, 100 items" in page
    assert "Trygghetsbesiktning" not in page


def test_the_menu_of_a_logged_in_user_in_both_languages(
    client: FlaskClient, create_member: Callable[..., User]
) -> None:
    _new_request()
    login(client, create_member(Role.inspector).email)
    page = _page(client, "/buildings/")
    assert ">Hus</a>" in page
    assert ">Besiktningar</a>" in page
    assert "Logga ut" in page

    page = _page(client, "/buildings/?lang=en")
    assert ">Buildings</a>" in page
    assert ">Inspections</a>" in page
    assert "Log out" in page


def test_the_404_page_is_swedish_by_default_and_english_on_request(client: FlaskClient) -> None:
    page = _page(client, "/finns-inte", status=404)
    assert '<html lang="sv">' in page
    assert "Sidan finns inte" in page
    assert "Till startsidan" in page

    page = _page(client, "/finns-inte?lang=en", status=404)
    assert '<html lang="en">' in page
    assert "Page not found" in page
    assert "Go to the start page" in page
    assert "Sidan finns inte" not in page


def test_the_csrf_page_is_friendly_in_both_languages(client: FlaskClient) -> None:
    _new_request()
    response = client.post("/login", data={"email": "someone@example.org", "password": "x"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<html lang="sv">' in page
    assert "Sidan hade gått ut" in page
    assert "ladda om sidan och skicka igen" in page

    _new_request()
    response = client.post("/login?lang=en", data={"email": "someone@example.org", "password": "x"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "The page had expired" in page
    assert "reload the page and send again" in page


ERROR_HEADINGS = [
    (BadRequest(), "Begäran kunde inte utföras", "The request could not be carried out"),
    (Forbidden(), "Du har inte behörighet", "You do not have permission"),
    (NotFound(), "Sidan finns inte", "Page not found"),
    (MethodNotAllowed(), "Begäran kunde inte utföras", "The request could not be carried out"),
    (RequestEntityTooLarge(), "Begäran kunde inte utföras", "The request could not be carried out"),
    (TooManyRequests(), "Begäran kunde inte utföras", "The request could not be carried out"),
    (InternalServerError(), "Något gick fel", "Something went wrong"),
]


@pytest.mark.parametrize(("error", "swedish", "english"), ERROR_HEADINGS, ids=lambda value: str(value)[:3])
@pytest.mark.usefixtures("session")
def test_every_error_page_in_both_languages(app: Flask, error: HTTPException, swedish: str, english: str) -> None:
    for query, heading, other in (("", swedish, english), ("?lang=en", english, swedish)):
        with app.test_request_context(f"/{query}"):
            _new_request()
            page = render_template("errors/error.html", error=error, code=error.code)
        assert f"<h1>{heading}</h1>" in page
        assert other not in page
        assert error.description not in page  # Werkzeug's English text is replaced by our own, translated one


def test_the_language_switch_passes_query_arguments_on_as_query_arguments_only(client: FlaskClient) -> None:
    """Query arguments named like a part of the path or like url_for's own options (`_external`, `_scheme`,
    `_anchor`) neither break the page nor change where the switch leads."""
    page = _page(client, "/login?_external=1&_anchor=top&next=/buildings/")
    assert 'href="/login?_external=1&amp;_anchor=top&amp;next=%2Fbuildings%2F&amp;lang=en"' in page
    page = _page(client, "/v/no-such-token?token=other", status=404)
    assert 'href="/v/no-such-token?token=other&amp;lang=en"' in page
