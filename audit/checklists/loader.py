"""Strict, pure loading of checklist YAML files.

No Flask and no database: `load_checklist()` reads one file and returns a validated `LoadedChecklist` or raises
`ChecklistError` carrying every problem found in the file, each naming the file, the line and the item key.

Run as `python -m audit.checklists.loader PATH…` to validate files without the app.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from audit.checklists.schema import Checklist

#: A place in a document: mapping keys (numbers are YAML keys too) and list indexes.
Path_ = tuple[str | int | float, ...]

_KEY_LINE = re.compile(r"""^\s*(?:-\s*)?key:\s*["']?([A-Z]{2,4}(?:-\d{2})?)\b""")
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


#: Deeper than any checklist nests (about ten levels). PyYAML's composer recurses once per level, so a file nested a
#: few hundred levels deep would otherwise end in a RecursionError instead of an error that names the line.
MAX_DEPTH = 32


class _StrictLoader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false are booleans; yes, no, on and off stay text. At most MAX_DEPTH levels."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self._depth >= MAX_DEPTH:
            raise yaml.composer.ComposerError(
                None, None, f"nested more than {MAX_DEPTH} levels deep", self.peek_event().start_mark
            )
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


_StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Most values a file may hold once YAML aliases are expanded (the real checklist has about 3,000).
MAX_VALUES = 100_000


@dataclass(frozen=True, slots=True)
class LoadError:
    file: str
    line: int | None
    item: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        what = f" {self.item}:" if self.item else ""
        return f"{where}:{what} {self.message}"


class ChecklistError(Exception):
    """A checklist file is invalid; `errors` lists every problem found in it."""

    def __init__(self, errors: list[LoadError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True, slots=True)
class LoadedChecklist:
    path: str
    checklist: Checklist
    #: The validated content as plain JSON-able data, with defaults filled in and keys sorted.
    content: dict[str, Any]
    #: sha256 of the canonical JSON of `content`: formatting and comments in the YAML do not change it.
    sha256: str


class _Document:
    """A YAML document turned into plain Python values, remembering the line of every value."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}
        #: Problems met while building, with the path they were met at, to name the item afterwards.
        self.problems: list[tuple[Path_, int, str]] = []
        self._constructor = _StrictLoader("")
        #: Nodes already built (an alias reuses its anchor's node) with the number of values each expands to.
        self._built: dict[int, tuple[Any, int]] = {}
        self._building: set[int] = set()
        self._expanded = 0

    def build(self, node: yaml.Node, path: Path_ = ()) -> Any:
        line = node.start_mark.line + 1
        self.lines.setdefault(path, line)
        if id(node) in self._building:
            self.problems.append((path, line, "a YAML alias refers to itself"))
            return None
        if id(node) in self._built:
            value, size = self._built[id(node)]
            self._count(size, path, line)
            return value
        self._building.add(id(node))
        before = self._expanded
        value = self._build_node(node, path, line)
        self._count(1, path, line)
        self._building.discard(id(node))
        self._built[id(node)] = (value, self._expanded - before)
        return value

    def _count(self, size: int, path: Path_, line: int) -> None:
        # Aliases of aliases can expand a small file into billions of values: stop long before that.
        self._expanded += size
        if self._expanded > MAX_VALUES and not self._overflowed:
            self._overflowed = True
            self.problems.append((path, line, f"the file expands to more than {MAX_VALUES} values (YAML aliases)"))

    _overflowed = False

    def _build_node(self, node: yaml.Node, path: Path_, line: int) -> Any:
        if self._overflowed:
            return None
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            expected = _MAP_TAG if isinstance(node, yaml.MappingNode) else _SEQ_TAG
            if node.tag != expected:
                self.problems.append((path, line, f"YAML tag {node.tag} is not allowed in checklists"))
                return None
        if isinstance(node, yaml.MappingNode):
            return self._build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, index)) for index, child in enumerate(node.value)]
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problems.append((path, line, _yaml_problem(exc)))
            return None

    def _build_mapping(self, node: yaml.MappingNode, path: Path_) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.build(key_node, (*path, "<key>"))
            line = key_node.start_mark.line + 1
            if not isinstance(key, str | int | bool | float) or key is None:
                self.problems.append((path, line, "mapping keys must be plain names"))
                continue
            if key in result:
                first = self.lines[(*path, key)]
                self.problems.append((path, line, f"duplicate key '{key}' (first on line {first})"))
                continue
            self.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key))
        return result

    def line_for(self, path: Path_) -> int | None:
        """The line of the deepest part of `path` that exists in the document."""
        for length in range(len(path), -1, -1):
            if path[:length] in self.lines:
                return self.lines[path[:length]]
        return None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [exc.context, exc.problem]
        return "YAML syntax error: " + ", ".join(part for part in parts if part)
    return f"YAML syntax error: {exc}"


def _item_key_before(text: str, line: int) -> str | None:
    """The item (or section) key written nearest above `line`, to name it when the YAML cannot be parsed."""
    for candidate in reversed(text.splitlines()[:line]):
        match = _KEY_LINE.match(candidate)
        if match:
            return match.group(1)
    return None


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


def _data_path(data: Any, loc: Iterable[str | int]) -> Path_:
    """Pydantic's error location mapped onto the data, dropping union tags such as 'measurement'."""
    path: list[str | int] = []
    node = data
    for part in loc:
        # Two branches with one body, so that the type checker knows `part` is an index in the second.
        if isinstance(node, dict) and part in node:  # noqa: SIM114
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif isinstance(node, dict) and isinstance(part, str) and part == node.get("type"):
            continue  # a discriminated union's tag, not a place in the file
        else:
            path.append(part)
            break
        path.append(part)
    return tuple(path)


def _pydantic_message(error: ErrorDetails, path: Path_) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field (not part of the checklist format, see checklists/README.md)"
    elif error["type"] == "missing":
        message = "required field is missing"
    elif error["type"] == "union_tag_invalid":
        message = "unknown answer type; use pass_fail, scale, measurement, choice or text"
    names = [part for part in path if isinstance(part, str)]
    field = ".".join(names[-2:]) if names and names[-1] in ("sv", "en") else (names[-1] if names else "")
    return f"{field}: {message}" if field else message


def _validation_errors(document: _Document, data: Any, exc: ValidationError) -> Iterator[LoadError]:
    errors = exc.errors()
    for error in errors:
        loc = tuple(error["loc"])
        # A list whose entries all failed is also reported as "too short": that says nothing new.
        if error["type"] == "too_short" and any(
            other["loc"][: len(loc)] == loc != tuple(other["loc"]) for other in errors
        ):
            continue
        path = _data_path(data, loc)
        yield LoadError(
            document.file, document.line_for(path), _item_key_at(data, path), _pydantic_message(error, path)
        )


def _key_errors(document: _Document, data: Any) -> Iterator[LoadError]:
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
    if not text.strip():
        raise ChecklistError([LoadError(file, 1, None, "the file is empty")])
    try:
        root = yaml.compose(text, Loader=_StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        item = _item_key_before(text, line) if line else None
        raise ChecklistError([LoadError(file, line, item, _yaml_problem(exc))]) from None
    if root is None:
        raise ChecklistError([LoadError(file, 1, None, "the file holds no YAML document")])
    document = _Document(file)
    data = document.build(root)
    errors = [LoadError(file, line, _item_key_at(data, path), message) for path, line, message in document.problems]
    if not isinstance(data, dict):
        errors.append(LoadError(file, 1, None, "the top level must be a mapping (schema, key, version, …)"))
        raise ChecklistError(errors)
    errors.extend(_key_errors(document, data))
    checklist = None
    try:
        checklist = Checklist.model_validate(data)
    except ValidationError as exc:
        errors.extend(_validation_errors(document, data, exc))
    if errors or checklist is None:
        raise ChecklistError(sorted(errors, key=lambda error: (error.line or 0, error.message)))
    content = checklist.model_dump(mode="json", by_alias=True)
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return LoadedChecklist(file, checklist, content, hashlib.sha256(canonical.encode()).hexdigest())


def load_checklist(path: str | Path) -> LoadedChecklist:
    """Read and validate one checklist file."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ChecklistError([LoadError(name, None, None, f"cannot read the file: {exc.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ChecklistError([LoadError(name, None, None, "the file is larger than 2 MiB")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ChecklistError([LoadError(name, None, None, f"the file is not UTF-8 text ({exc.reason})")]) from None
    return parse_checklist(text, name)


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
