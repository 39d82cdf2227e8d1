"""The parts of the walk's markup that are the same on every page view, drawn once per item or section and language.

A section page draws up to a dozen items and a menu of every section on every view. An item's key, text,
guidance, legend and threshold, and a section's menu entry, depend only on the checklist and the language, so the
small macros in `templates/inspections/_fragments.html` draw them once per process and language and the page
reuses the result; `_item.html` and `section.html` draw only what depends on the answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import get_template_attribute
from markupsafe import Markup

from audit.checklists.schema import Item, Section

FRAGMENTS_TEMPLATE = "inspections/_fragments.html"


@dataclass(frozen=True, slots=True)
class ItemFragments:
    #: `<article …` up to (not including) its answer's revision and the closing `>`.
    opening: Markup
    head: Markup
    guidance: Markup
    legend: Markup
    #: A measurement's unit and threshold, or a scale's reading hint; empty for other items.
    threshold: Markup


@dataclass(frozen=True, slots=True)
class SectionFragments:
    #: `<option …` of the section menu, up to (not including) `selected` and the closing `>`.
    option: Markup
    title: Markup


#: Fragments by (item or section, language); the object is kept in the value, so its id cannot be reused meanwhile.
_FRAGMENTS: dict[tuple[int, str], tuple[object, object]] = {}
#: Checklist versions × items × languages in use: a few thousand at most; cleared beyond this.
MAX_CACHED = 20_000


def _drawn(owner: Item | Section, lang: str, texts: Mapping[str, str], kind: type[Any], prefix: str) -> Any:
    cached = _FRAGMENTS.get((id(owner), lang))
    if cached is not None and cached[0] is owner:
        return cached[1]
    parts = {
        name: Markup(get_template_attribute(FRAGMENTS_TEMPLATE, f"{prefix}_{name}")(owner, lang, texts))  # noqa: S704 (Jinja output)
        for name in kind.__dataclass_fields__
    }
    if len(_FRAGMENTS) >= MAX_CACHED:
        _FRAGMENTS.clear()
    fragments = _FRAGMENTS[(id(owner), lang)] = (owner, kind(**parts))
    return fragments[1]


def item_fragments(item: Item, lang: str, texts: Mapping[str, str]) -> ItemFragments:
    """The item's fixed parts in `lang`; `texts` are the page's fixed texts in the same language."""
    return _drawn(item, lang, texts, ItemFragments, "item")  # type: ignore[no-any-return]


def section_fragments(section: Section, lang: str, texts: Mapping[str, str]) -> SectionFragments:
    """The section's entry in the section menu, in `lang`."""
    return _drawn(section, lang, texts, SectionFragments, "section")  # type: ignore[no-any-return]
