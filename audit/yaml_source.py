"""YAML source files read strictly, remembering the line of every value: shared by every YAML format of the
project (the checklists, the deviation catalogue).

Pure module (PyYAML and pydantic only). A format module validates the plain data `compose_source()` returns with
its pydantic model and turns the model's errors into `LoadError`s with `validation_errors()`: every error names the
file, the line and, where the format has one, the key of the entry it is in.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

#: A place in a document: mapping keys (numbers are YAML keys too) and list indexes.
Path_ = tuple[str | int | float, ...]
#: The key of the entry (a checklist item, a catalogue category) a place in the data lies in, if any.
KeyAt = Callable[[Any, Path_], str | None]

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"


#: Deeper than any checklist nests (about ten levels). PyYAML's composer recurses once per level, so a file nested a
#: few hundred levels deep would otherwise end in a RecursionError instead of an error that names the line.
MAX_DEPTH = 32


class StrictLoader(yaml.SafeLoader):
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


StrictLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StrictLoader.add_implicit_resolver(
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


class Document:
    """A YAML document turned into plain Python values, remembering the line of every value."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.lines: dict[Path_, int] = {}
        #: Problems met while building, with the path they were met at, to name the item afterwards.
        self.problems: list[tuple[Path_, int, str]] = []
        self._constructor = StrictLoader("")
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
                self.problems.append((path, line, f"YAML tag {node.tag} is not allowed here"))
                return None
        if isinstance(node, yaml.MappingNode):
            return self._build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(child, (*path, index)) for index, child in enumerate(node.value)]
        try:
            return self._constructor.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            self.problems.append((path, line, yaml_problem(exc)))
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


def yaml_problem(exc: yaml.YAMLError) -> str:
    if isinstance(exc, yaml.MarkedYAMLError):
        parts = [exc.context, exc.problem]
        return "YAML syntax error: " + ", ".join(part for part in parts if part)
    return f"YAML syntax error: {exc}"


class SourceError(Exception):
    """A YAML source file is invalid; `errors` lists every problem found in it."""

    def __init__(self, errors: list[LoadError]) -> None:
        super().__init__("\n".join(str(error) for error in errors))
        self.errors = errors


def data_path(data: Any, loc: Iterable[str | int]) -> Path_:
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


def _pydantic_message(error: ErrorDetails, path: Path_, messages: dict[str, str]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown field (not part of the format, see checklists/README.md)"
    elif error["type"] == "missing":
        message = "required field is missing"
    message = messages.get(str(error["type"]), message)
    names = [part for part in path if isinstance(part, str)]
    field = ".".join(names[-2:]) if names and names[-1] in ("sv", "en") else (names[-1] if names else "")
    return f"{field}: {message}" if field else message


def validation_errors(
    document: Document, data: Any, exc: ValidationError, key_at: KeyAt, messages: dict[str, str] | None = None
) -> Iterator[LoadError]:
    """The model's errors, each with the file, the line and the entry's key; `messages` replaces the text of
    errors by pydantic's type (e.g. ``union_tag_invalid``)."""
    errors = exc.errors()
    for error in errors:
        loc = tuple(error["loc"])
        # A list whose entries all failed is also reported as "too short": that says nothing new.
        if error["type"] == "too_short" and any(
            other["loc"][: len(loc)] == loc != tuple(other["loc"]) for other in errors
        ):
            continue
        path = data_path(data, loc)
        yield LoadError(
            document.file, document.line_for(path), key_at(data, path), _pydantic_message(error, path, messages or {})
        )


def compose_source(
    text: str, file: str, error: type[SourceError], key_before: Callable[[str, int], str | None], top_level: str
) -> tuple[Document, dict[Any, Any], list[tuple[Path_, int, str]]]:
    """Parse YAML `text` into plain data with the line of every value; raise `error` when it holds no mapping.

    Returns the document (for lines), the data and the problems met while building it. `key_before(text, line)`
    names the entry a syntax error is in; `top_level` lists the expected top-level keys for the error message.
    """
    if not text.strip():
        raise error([LoadError(file, 1, None, "the file is empty")])
    try:
        root = yaml.compose(text, Loader=StrictLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        item = key_before(text, line) if line else None
        raise error([LoadError(file, line, item, yaml_problem(exc))]) from None
    if root is None:
        raise error([LoadError(file, 1, None, "the file holds no YAML document")])
    document = Document(file)
    data = document.build(root)
    if not isinstance(data, dict):
        problems = [LoadError(file, line, None, message) for _path, line, message in document.problems]
        problems.append(LoadError(file, 1, None, f"the top level must be a mapping ({top_level})"))
        raise error(problems)
    return document, data, document.problems


def key_before(pattern: re.Pattern[str]) -> Callable[[str, int], str | None]:
    """A finder of the entry key written nearest above a line (`pattern`'s first group), for syntax errors."""

    def find(text: str, line: int) -> str | None:
        for candidate in reversed(text.splitlines()[:line]):
            match = pattern.match(candidate)
            if match:
                return match.group(1)
        return None

    return find


def read_source(path: str | Path, error: type[SourceError]) -> str:
    """The text of a source file: at most MAX_FILE_BYTES of UTF-8, or `error` naming the file."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise error([LoadError(name, None, None, f"cannot read the file: {exc.strerror}")]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise error([LoadError(name, None, None, "the file is larger than 2 MiB")])
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error([LoadError(name, None, None, f"the file is not UTF-8 text ({exc.reason})")]) from None


def content_sha256(content: dict[str, Any]) -> str:
    """sha256 of the canonical JSON of validated content: formatting and comments in the YAML do not change it."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
