"""The deviation catalogue: the categories staff report deviations in, read strictly from YAML.

Pure module (pydantic and the shared YAML reader only, no Flask, no database). `load_catalogue()` reads one file
and returns a validated `LoadedCatalogue` or raises `CatalogueError` carrying every problem found, each naming the
file, the line and the category key. With the sections of the checklist the catalogue names, every
`related_section` is checked to exist in it. `checklists/README.md` documents the format for authors.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StringConstraints, ValidationError

from audit.checklists.schema import ChecklistKey, SectionKey, Text
from audit.yaml_source import (
    Document,
    LoadError,
    Path_,
    SourceError,
    compose_source,
    content_sha256,
    key_before,
    read_source,
    validation_errors,
)

#: The catalogue's file in the checklist folder (it is not a checklist: `tryggahus checklist load` leaves it out).
CATALOGUE_FILE = "deviations.yaml"

CategoryKey = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z][a-z0-9_]{1,39}$")]
_KEY_LINE = re.compile(r"""^\s*(?:-\s*)?key:\s*["']?([a-z][a-z0-9_]{1,39})\b""")


class Urgency(StrEnum):
    """How soon someone should look at a report; most urgent last."""

    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Category(_Model):
    key: CategoryKey
    title: Text
    #: One line under the choice on the report form.
    help: Text
    #: The report may concern a person: its details are shown only to the organisation's safety coordinators.
    sensitive: StrictBool = False
    #: Routed as a tip to the police contact of the area's EST group (when groups exist).
    police_tip: StrictBool = False
    #: The checklist section the deviation relates to (what a spot check would look at); None for "other".
    related_section: SectionKey | None = None
    urgency: Urgency = Urgency.normal


class Catalogue(_Model):
    schema_: Literal[1] = Field(alias="schema")
    key: ChecklistKey
    version: Annotated[StrictInt, Field(ge=1)]
    title: Text
    #: The checklist whose sections `related_section` names.
    checklist: ChecklistKey
    categories: Annotated[tuple[Category, ...], Field(min_length=1)]

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    def category(self, key: str) -> Category | None:
        return next((category for category in self.categories if category.key == key), None)


class CatalogueError(SourceError):
    """A catalogue file is invalid; `errors` lists every problem found in it."""


@dataclass(frozen=True, slots=True)
class LoadedCatalogue:
    path: str
    catalogue: Catalogue
    #: The validated content as plain JSON-able data, defaults filled in.
    content: dict[str, Any]
    #: sha256 of the canonical JSON of `content`.
    sha256: str


def _category_at(data: Any, path: Path_) -> str | None:
    if len(path) < 2 or path[0] != "categories" or not isinstance(path[1], int):
        return None
    try:
        key = data["categories"][path[1]].get("key")
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return key if isinstance(key, str) else None


def _categories(data: dict[Any, Any]) -> Iterator[tuple[int, dict[Any, Any]]]:
    categories = data.get("categories")
    for index, category in enumerate(categories if isinstance(categories, list) else []):
        if isinstance(category, dict):
            yield index, category


def _duplicate_keys(document: Document, data: dict[Any, Any]) -> Iterator[LoadError]:
    seen: Counter[str] = Counter()
    for index, category in _categories(data):
        key = category.get("key")
        if isinstance(key, str):
            seen[key] += 1
            if seen[key] == 2:
                line = document.line_for(("categories", index, "key"))
                yield LoadError(document.file, line, key, f"category key '{key}' is used twice")


def _broken_sections(
    document: Document, catalogue: Catalogue, data: dict[Any, Any], sections: Mapping[str, frozenset[str]]
) -> Iterator[LoadError]:
    known = sections.get(catalogue.checklist)
    if known is None:
        line = document.line_for(("checklist",))
        yield LoadError(document.file, line, None, f"checklist: '{catalogue.checklist}' is not a loaded checklist")
        return
    for (index, _raw), category in zip(_categories(data), catalogue.categories, strict=True):
        if category.related_section is not None and category.related_section not in known:
            yield LoadError(
                document.file,
                document.line_for(("categories", index, "related_section")),
                category.key,
                f"related_section: '{category.related_section}' is not a section of '{catalogue.checklist}'",
            )


def parse_catalogue(text: str, file: str, sections: Mapping[str, frozenset[str]] | None = None) -> LoadedCatalogue:
    """Validate catalogue YAML `text`; `file` names it in errors. `sections` (checklist key → its section keys)
    checks every `related_section`; without it only the format is checked."""
    document, data, problems = compose_source(
        text, file, CatalogueError, key_before(_KEY_LINE), "schema, key, version, …"
    )
    errors = [LoadError(file, line, _category_at(data, path), message) for path, line, message in problems]
    errors.extend(_duplicate_keys(document, data))
    catalogue = None
    try:
        catalogue = Catalogue.model_validate(data)
    except ValidationError as exc:
        errors.extend(validation_errors(document, data, exc, _category_at))
    if catalogue is not None and sections is not None:
        errors.extend(_broken_sections(document, catalogue, data, sections))
    if errors or catalogue is None:
        raise CatalogueError(sorted(errors, key=lambda error: (error.line or 0, error.message)))
    content = catalogue.model_dump(mode="json", by_alias=True)
    return LoadedCatalogue(file, catalogue, content, content_sha256(content))


def load_catalogue(path: str | Path, sections: Mapping[str, frozenset[str]] | None = None) -> LoadedCatalogue:
    """Read and validate the catalogue file."""
    return parse_catalogue(read_source(path, CatalogueError), str(path), sections)


def catalogue_from_content(content: dict[str, Any]) -> Catalogue:
    """Rebuild a catalogue from content stored by `LoadedCatalogue.content`."""
    return Catalogue.model_validate(content)
