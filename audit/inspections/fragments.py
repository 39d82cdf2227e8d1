"""The parts of an item's inputs that are the same on every page view, drawn once per item and language.

A section page draws up to a dozen items on every view. An item's key, text, guidance, legend and threshold depend
only on the checklist and the language, so the small macros in `templates/inspections/_item.html` draw them once
per process and language, and the page reuses the result; `item_inputs` draws only what depends on the answer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from flask import get_template_attribute
from markupsafe import Markup

from audit.checklists.schema import Item

ITEM_TEMPLATE = "inspections/_item.html"


@dataclass(frozen=True, slots=True)
class ItemFragments:
    #: `<article …` up to (not including) its answer's revision and the closing `>`.
    opening: Markup
    head: Markup
    guidance: Markup
    legend: Markup
    #: A measurement's unit and threshold, or a scale's reading hint; empty for other items.
    threshold: Markup


#: Fragments by (item, language); the item is kept in the value, so its id cannot be reused meanwhile.
_FRAGMENTS: dict[tuple[int, str], tuple[Item, ItemFragments]] = {}
#: Checklist versions × items × languages in use: a few thousand at most; cleared beyond this.
MAX_CACHED = 20_000


def item_fragments(item: Item, lang: str, texts: Mapping[str, str]) -> ItemFragments:
    """The item's fixed parts in `lang`; `texts` are the page's fixed texts in the same language."""
    cached = _FRAGMENTS.get((id(item), lang))
    if cached is not None and cached[0] is item:
        return cached[1]
    parts = {
        name: Markup(get_template_attribute(ITEM_TEMPLATE, f"item_{name}")(item, lang, texts))  # noqa: S704 (Jinja output)
        for name in ("opening", "head", "guidance", "legend", "threshold")
    }
    fragments = ItemFragments(**parts)
    if len(_FRAGMENTS) >= MAX_CACHED:
        _FRAGMENTS.clear()
    _FRAGMENTS[(id(item), lang)] = (item, fragments)
    return fragments
