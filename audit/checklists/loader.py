"""Strict, pure loading of checklist YAML files.

No Flask and no database: `load_checklist()` reads one file and returns a validated `LoadedChecklist` or raises
`ChecklistError` carrying every problem found in the file, each naming the file, the line and the item key.

Run as `python -m audit.checklists.loader PATH…` to validate files without the app.
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from audit.checklists.schema import Checklist
from audit.yaml_source import (
    MAX_DEPTH,
    MAX_FILE_BYTES,
    MAX_VALUES,
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

__all__ = [
    "MAX_DEPTH",
    "MAX_FILE_BYTES",
    "MAX_VALUES",
    "ChecklistError",
    "LoadError",
    "LoadedChecklist",
    "checklist_from_content",
    "load_checklist",
    "parse_checklist",
]

_KEY_LINE = re.compile(r"""^\s*(?:-\s*)?key:\s*["']?([A-Z]{2,4}(?:-\d{2})?)\b""")
#: The item (or section) key written nearest above a line, to name it when the YAML cannot be parsed.
_item_key_before = key_before(_KEY_LINE)


class ChecklistError(SourceError):
    """A checklist file is invalid; `errors` lists every problem found in it."""


@dataclass(frozen=True, slots=True)
class LoadedChecklist:
    path: str
    checklist: Checklist
    #: The validated content as plain JSON-able data, with defaults filled in and keys sorted.
    content: dict[str, Any]
    #: sha256 of the canonical JSON of `content`: formatting and comments in the YAML do not change it.
    sha256: str


def _item_key_at(data: Any, path: Path_) -> str | None:
    """The key of the item (or section) that `path` points into, read from the raw data."""
    if len(path) < 2 or path[0] != "sections" or not isinstance(path[1], int):
        return None
    try:
        section = data["sections"][path[1]]
        if len(path) >= 4 and path[2] == "items" and isinstance(path[3], int):
            key = section["items"][path[3]].get("key")
        else:
            key = section.get("key")
    except (KeyError, IndexError, TypeError, AttributeError):
        return None
    return key if isinstance(key, str) else None


#: The checklist's own words for some of pydantic's errors.
_MESSAGES = {"union_tag_invalid": "unknown answer type; use pass_fail, scale, measurement, choice or text"}


def _key_errors(document: Document, data: Any) -> Iterator[LoadError]:
    """Duplicate section and item keys, and item keys outside their section's prefix."""
    sections = data.get("sections") if isinstance(data, dict) else None
    if not isinstance(sections, list):
        return
    item_keys: Counter[str] = Counter()
    section_keys: Counter[str] = Counter()
    for s_index, section in enumerate(sections):
        if not isinstance(section, dict):
            continue
        section_key = section.get("key")
        if isinstance(section_key, str):
            section_keys[section_key] += 1
            if section_keys[section_key] == 2:
                yield LoadError(
                    document.file,
                    document.line_for(("sections", s_index, "key")),
                    section_key,
                    f"section key '{section_key}' is used twice",
                )
        items = section.get("items")
        for i_index, item in enumerate(items if isinstance(items, list) else []):
            key = item.get("key") if isinstance(item, dict) else None
            if not isinstance(key, str):
                continue
            line = document.line_for(("sections", s_index, "items", i_index, "key"))
            item_keys[key] += 1
            if item_keys[key] == 2:
                yield LoadError(document.file, line, key, f"item key '{key}' is used twice")
            if isinstance(section_key, str) and not key.startswith(f"{section_key}-"):
                yield LoadError(document.file, line, key, f"item key must start with its section key '{section_key}-'")


def parse_checklist(text: str, file: str) -> LoadedChecklist:
    """Validate checklist YAML `text`; `file` names it in errors."""
    document, data, problems = compose_source(text, file, ChecklistError, _item_key_before, "schema, key, version, …")
    errors = [LoadError(file, line, _item_key_at(data, path), message) for path, line, message in problems]
    errors.extend(_key_errors(document, data))
    checklist = None
    try:
        checklist = Checklist.model_validate(data)
    except ValidationError as exc:
        errors.extend(validation_errors(document, data, exc, _item_key_at, _MESSAGES))
    if errors or checklist is None:
        raise ChecklistError(sorted(errors, key=lambda error: (error.line or 0, error.message)))
    content = checklist.model_dump(mode="json", by_alias=True)
    return LoadedChecklist(file, checklist, content, content_sha256(content))


def load_checklist(path: str | Path) -> LoadedChecklist:
    """Read and validate one checklist file."""
    return parse_checklist(read_source(path, ChecklistError), str(path))


def checklist_from_content(content: dict[str, Any]) -> Checklist:
    """Rebuild a checklist from content stored by `LoadedChecklist.content`."""
    return Checklist.model_validate(content)


def main(argv: list[str]) -> int:
    failed = False
    for name in argv:
        try:
            loaded = load_checklist(name)
        except ChecklistError as exc:
            failed = True
            print("\n".join(str(error) for error in exc.errors), file=sys.stderr)
        else:
            print(
                f"{name}: valid ({loaded.checklist.key} version {loaded.checklist.version}, "
                f"{len(loaded.checklist.items())} items)"
            )
    return 1 if failed or not argv else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
