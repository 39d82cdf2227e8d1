"""Languages: Swedish by default, English on request (`?lang=en` or the switch in the header, kept in the session)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

import flask_babel
from flask import Flask, request, request_started, session, url_for
from flask_babel import Babel, LazyString

from audit.settings import PROJECT_ROOT

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"

babel = Babel()


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    kept = session.get("lang")
    return kept if kept in LANGUAGES else DEFAULT_LANGUAGE


def init_i18n(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANGUAGE)
    app.config.setdefault("BABEL_DEFAULT_TIMEZONE", "Europe/Stockholm")
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(PROJECT_ROOT / "audit" / "translations")
    babel.init_app(app, locale_selector=select_locale)
    request_started.connect(_choose_locale_anew, app)


def _choose_locale_anew(_sender: Flask, **_extra: Any) -> None:
    # Flask-Babel keeps the locale it chose in `g`. Where a request reuses an application context in which the
    # locale was already chosen (a test that rendered a PDF in its own context first), the request must still
    # choose its own: from its `?lang=` or its session.
    flask_babel.refresh()


def current_language() -> str:
    """ "sv" or "en": the language of this request, also used to pick checklist texts written in the YAML."""
    locale = flask_babel.get_locale()
    return locale.language if locale else DEFAULT_LANGUAGE


#: Fixed sets of texts already translated, by (the set, language): see `translate_all`.
_TRANSLATED: dict[tuple[int, str], dict[str, str]] = {}


def translate_all(texts: Mapping[str, LazyString]) -> dict[str, str]:
    """A module's fixed texts (lazy strings) in this request's language, translated once per language.

    For pages that repeat the same words many times (the walk: every item has its pass, fail and comment labels):
    one dictionary lookup instead of a catalogue lookup per use. `texts` must be a module-level constant.
    """
    key = (id(texts), current_language())
    translated = _TRANSLATED.get(key)
    if translated is None:
        translated = _TRANSLATED[key] = {name: str(text) for name, text in texts.items()}
    return translated


def _current_locale() -> dict[str, str]:
    language = current_language()
    # `lang` picks the checklist's own texts (Text.get(lang)); `current_locale` marks up the page.
    return {"current_locale": language, "lang": language}


def language_url(language: str) -> str:
    """This page in another language: same address and query, except after a form post (then the start page)."""
    if request.method != "GET" or request.endpoint is None:
        return url_for("main.index", lang=language)
    # The query is not handed to url_for, where an argument could clash with a part of the path or pass for one of
    # url_for's own options (`?_external=1` made the link absolute).
    query = [(key, value) for key, value in request.args.items(multi=True) if key != "lang"]
    path = url_for(request.endpoint, **(request.view_args or {}))
    return f"{path}?{urlencode([*query, ('lang', language)])}"


def init_template_helpers(app: Flask) -> None:
    """Globals (not context), so macros imported from other templates can use them too."""
    import flask_babel

    from audit.labels import label

    app.jinja_env.globals.update(
        label=label,
        status_label=label,
        language_url=language_url,
        format_date=flask_babel.format_date,
        format_datetime=flask_babel.format_datetime,
        format_number=flask_babel.format_number,
        format_decimal=flask_babel.format_decimal,
        format_percent=flask_babel.format_percent,
        zip=zip,
    )
    app.context_processor(_current_locale)
