"""Tests of `audit.checklists.loader`: strict, pure loading of checklist YAML (no app, no database)."""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings

from audit.checklists.loader import (
    ChecklistError,
    LoadError,
    checklist_from_content,
    load_checklist,
    parse_checklist,
)
from audit.checklists.schema import AnswerType, Checklist, MeasurementAnswer, Unit
from tests.checklist_strategies import checklist_dicts

ROOT = Path(__file__).resolve().parent.parent
REAL_FILE = ROOT / "checklists" / "trygga-hus.yaml"

VALID = """\
# A small checklist for the loader tests.
schema: 1
key: demo-checklist
version: 2
title: {sv: Demo, en: Demo}
description: {sv: En liten lista, en: A small checklist}
pass_rule:
  min_total_percent: 85
  critical_items_must_pass: true
  min_section_percent: 60
  validity_months: 36
sections:
  - key: GAR
    title: {sv: Garage, en: Garage}
    requires_feature: garage
    min_percent: 70
    items:
      - key: GAR-01
        text: {sv: Belysningen räcker, en: The lighting is sufficient}
        guidance: {sv: Mät vid golvet, en: Measure at floor level}
        answer: {type: measurement, unit: lux, threshold: {min: 30}}
        weight: 3
        critical: true
        remediation: {severity: critical, fix_days: 14}
      - key: GAR-02
        text: {sv: Dörren går i lås, en: The door locks}
        guidance: {sv: Prova dörren, en: Try the door}
        answer: {type: pass_fail}
        weight: 2
        photo_required_on_fail: true
        remediation: {severity: high, fix_days: 30}
  - key: ENT
    title: {sv: Entré, en: Entrance}
    items:
      - key: ENT-01
        text: {sv: Entrén är överblickbar, en: The entrance is easy to overview}
        guidance: {sv: Bedöm från 1 till 5, en: Judge from 1 to 5}
        answer: {type: scale, min: 1, max: 5, pass_min: 3}
        weight: 2
        na_allowed: true
        remediation: {severity: medium, fix_days: 60}
      - key: ENT-02
        text: {sv: Porttelefon, en: Door phone}
        guidance: {sv: Välj det som finns, en: Choose what is there}
        answer:
          type: choice
          pass_min: 0.5
          options:
            - {key: none, label: {sv: Ingen, en: None}, score: 0}
            - {key: basic, label: {sv: Enkel, en: Basic}, score: 0.5}
            - {key: video, label: {sv: Video, en: Video}, score: 1}
        weight: 1
        requires_feature: access_system
        remediation: {severity: low, fix_days: 90}
      - key: ENT-03
        text: {sv: Övrigt, en: Other notes}
        guidance: {sv: Skriv fritt, en: Free text}
        answer: {type: text}
        weight: 0
"""


def _edit(text: str, *replacements: tuple[str, str]) -> str:
    """`text` with each (old, new) replaced once; every `old` must be there."""
    for old, new in replacements:
        assert old in text, f"test setup: {old!r} not found"
        text = text.replace(old, new, 1)
    return text


def _line(text: str, needle: str, occurrence: int = 1) -> int:
    """The 1-based number of the line holding the `occurrence`-th `needle`."""
    found = [number for number, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(found) >= occurrence, f"test setup: {needle!r} not found {occurrence} times"
    return found[occurrence - 1]


def _item_line(text: str, key: str, occurrence: int = 1) -> int:
    return _line(text, f"- key: {key}", occurrence)


@dataclass(frozen=True)
class Broken:
    """A broken checklist file and the error it must give: lines that are acceptable, the item key."""

    name: str
    content: str | bytes | None  # None: the file does not exist
    lines: frozenset[int | None]
    item: str | None
    #: Words the message must contain (case-insensitive), to be sure it is this error and not another.
    words: tuple[str, ...] = ()


def _broken(name: str, text: str, lines: set[int | None] | int | None, item: str | None, *words: str) -> Broken:
    accepted = frozenset(lines) if isinstance(lines, set) else frozenset({lines})
    return Broken(name, text, accepted, item, words)


def _variants() -> list[Broken]:
    v = VALID
    variants: list[Broken] = []

    text = _edit(
        v, ("        photo_required_on_fail: true\n", "        photo_required_on_fail: true\n        weight: 5\n")
    )
    variants.append(_broken("duplicate_mapping_key", text, _line(text, "weight: 5"), "GAR-02", "duplicate", "weight"))

    text = _edit(v, ("- key: GAR-02", "- key: GAR-01"))
    variants.append(_broken("duplicate_item_key", text, _item_line(text, "GAR-01", 2), "GAR-01", "GAR-01", "twice"))

    text = _edit(v, ("- key: ENT-03", "- key: GAR-03"))
    variants.append(_broken("item_key_outside_section", text, _item_line(text, "GAR-03"), "GAR-03", "ENT-"))

    text = _edit(v, ("        weight: 3\n", "        weight: heavy\n"))
    variants.append(_broken("weight_not_a_number", text, _line(text, "weight: heavy"), "GAR-01", "weight"))

    text = _edit(v, ("critical: true", 'critical: "yes"'))
    variants.append(_broken("critical_quoted", text, _line(text, 'critical: "yes"'), "GAR-01", "critical"))

    text = _edit(v, ("version: 2", 'version: "2"'))
    variants.append(_broken("version_quoted", text, _line(text, "version:"), None, "version"))

    text = _edit(v, ("        weight: 2\n        photo", "        wieght: 2\n        photo"))
    variants.append(_broken("unknown_field", text, _line(text, "wieght"), "GAR-02", "wieght", "unknown field"))

    text = _edit(v, ("        guidance: {sv: Prova dörren", "       guidance: {sv: Prova dörren"))
    variants.append(_broken("broken_indentation", text, _line(text, "Prova dörren"), "GAR-02", "yaml"))

    variants.append(_broken("empty_file", "", 1, None, "empty"))
    variants.append(_broken("only_a_comment", "# nothing here yet\n", 1, None))
    variants.append(_broken("top_level_list", "- schema: 1\n- key: demo\n", 1, None, "mapping"))

    text = _edit(v, ("requires_feature: access_system", "requires_feature: jacuzzi"))
    variants.append(_broken("unknown_feature", text, _line(text, "jacuzzi"), "ENT-02", "requires_feature"))

    text = _edit(v, ("text: {sv: Dörren går i lås, en: The door locks}", "text: {sv: Dörren går i lås}"))
    variants.append(_broken("missing_en", text, _line(text, "Dörren går i lås"), "GAR-02", "en"))

    text = _edit(v, ("answer: {type: pass_fail}", "answer: {type: pass_fail, threshold: {min: 1}}"))
    variants.append(_broken("threshold_on_pass_fail", text, _line(text, "type: pass_fail"), "GAR-02", "threshold"))

    text = _edit(v, ("threshold: {min: 30}", "threshold: {min: 30, max: 10}"))
    variants.append(_broken("threshold_min_above_max", text, _line(text, "max: 10"), "GAR-01", "min", "max"))

    text = _edit(
        v, ("answer: {type: measurement, unit: lux, threshold: {min: 30}}", "answer: {type: measurement, unit: lux}")
    )
    variants.append(
        _broken("measurement_without_threshold", text, _line(text, "type: measurement"), "GAR-01", "threshold")
    )

    text = _edit(v, ("pass_min: 3}", "pass_min: 7}"))
    variants.append(_broken("scale_pass_min_outside", text, _line(text, "pass_min: 7"), "ENT-01", "pass_min"))

    text = _edit(v, ("{key: video,", "{key: basic,"))
    answer_line = _line(text, "type: choice") - 1  # the block-style `answer:` just above
    assert text.splitlines()[answer_line - 1] == "        answer:"
    variants.append(
        _broken("choice_duplicate_options", text, {answer_line, _line(text, "key: basic", 2)}, "ENT-02", "basic")
    )

    text = _edit(v, ("pass_min: 0.5", "pass_min: 0.9"), ("score: 1}", "score: 0.8}"))
    answer_line = _line(text, "type: choice") - 1
    variants.append(
        _broken("choice_no_option_passes", text, {answer_line, _line(text, "pass_min: 0.9")}, "ENT-02", "pass_min")
    )

    text = _edit(v, ("        weight: 0\n", "        weight: 1\n"))
    variants.append(
        _broken(
            "text_item_with_weight", text, {_item_line(text, "ENT-03"), _line(text, "weight: 1")}, "ENT-03", "weight"
        )
    )

    text = _edit(v, ("{severity: critical, fix_days: 14}", "{severity: high, fix_days: 14}"))
    variants.append(
        _broken(
            "critical_item_not_critical_severity",
            text,
            {_item_line(text, "GAR-01"), _line(text, "severity: high, fix_days: 14")},
            "GAR-01",
            "critical",
        )
    )

    text = _edit(v, ("        remediation: {severity: high, fix_days: 30}\n", ""))
    variants.append(
        _broken("scored_item_without_remediation", text, _item_line(text, "GAR-02"), "GAR-02", "remediation")
    )

    variants.append(
        Broken("not_utf8", VALID.encode("latin-1"), frozenset({None, _line(v, "räcker")}), None, ("utf-8",))
    )
    variants.append(Broken("missing_file", None, frozenset({None}), None, ("cannot read",)))

    text = _edit(
        v, ("title: {sv: Demo, en: Demo}", "title: !!python/object:audit.checklists.schema.Text {sv: Demo, en: Demo}")
    )
    variants.append(_broken("python_object_tag", text, _line(text, "!!python/object"), None))
    return variants


VARIANTS = _variants()


def _write(tmp_path: Path, variant: Broken) -> Path:
    path = tmp_path / f"{variant.name}.yaml"
    if isinstance(variant.content, bytes):
        path.write_bytes(variant.content)
    elif isinstance(variant.content, str):
        path.write_text(variant.content, encoding="utf-8")
    return path


def _errors(path: Path | str) -> list[LoadError]:
    with pytest.raises(ChecklistError) as caught:
        load_checklist(path)
    assert caught.value.errors, "ChecklistError without errors"
    return caught.value.errors


def _describe(errors: list[LoadError]) -> str:
    return "\n".join(str(error) for error in errors)


def _run_cli(*paths: Path | str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run(
        [sys.executable, "-m", "audit.checklists.loader", *map(str, paths)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


# --- the valid file -------------------------------------------------------------------------------------------


def test_valid_checklist_parses() -> None:
    loaded = parse_checklist(VALID, "demo.yaml")
    checklist = loaded.checklist
    assert (loaded.path, checklist.key, checklist.version) == ("demo.yaml", "demo-checklist", 2)
    assert [item.key for _, item in checklist.items()] == ["GAR-01", "GAR-02", "ENT-01", "ENT-02", "ENT-03"]
    assert [item.answer.type for _, item in checklist.items()] == [
        AnswerType.measurement,
        AnswerType.pass_fail,
        AnswerType.scale,
        AnswerType.choice,
        AnswerType.text,
    ]
    gar_01 = checklist.items()[0][1]
    assert isinstance(gar_01.answer, MeasurementAnswer)
    assert (gar_01.answer.unit, gar_01.answer.threshold.min, gar_01.answer.threshold.max) == (Unit.lux, 30, None)
    assert gar_01.critical
    assert checklist.section_minimum(checklist.sections[0]) == pytest.approx(0.7)
    assert re.fullmatch(r"[0-9a-f]{64}", loaded.sha256)


def test_load_checklist_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(VALID, encoding="utf-8")
    loaded = load_checklist(path)
    assert loaded.path == str(path)
    assert loaded.sha256 == parse_checklist(VALID, "elsewhere.yaml").sha256


SAME_CONTENT = {
    "comments and blank lines": _edit(
        VALID, ("schema: 1\n", "schema: 1  # the format\n\n"), ("  - key: ENT\n", "\n  # Entrance\n  - key: ENT\n")
    ),
    "indentation and flow style": _edit(
        VALID,
        ("title: {sv: Demo, en: Demo}", "title:\n    sv: Demo\n    en:   Demo"),
        (
            "pass_rule:\n  min_total_percent: 85\n  critical_items_must_pass: true\n  min_section_percent: 60\n"
            "  validity_months: 36\n",
            "pass_rule: {min_total_percent: 85, critical_items_must_pass: true,\n"
            "            min_section_percent: 60, validity_months: 36}\n",
        ),
    ),
    "key order": _edit(
        VALID,
        ("        weight: 3\n        critical: true\n", "        critical: true\n        weight: 3\n"),
        ("schema: 1\nkey: demo-checklist\nversion: 2\n", "version: 2\nkey: demo-checklist\nschema: 1\n"),
        ("{sv: Porttelefon, en: Door phone}", "{en: Door phone, sv: Porttelefon}"),
    ),
    "defaults written out": _edit(
        VALID, ("        weight: 2\n        photo", "        weight: 2\n        critical: false\n        photo")
    ),
    "windows line endings": VALID.replace("\n", "\r\n"),
}

CHANGED_CONTENT = {
    "weight": _edit(VALID, ("        weight: 3\n", "        weight: 4\n")),
    "text": _edit(VALID, ("en: The door locks", "en: The door is locked")),
    "threshold": _edit(VALID, ("threshold: {min: 30}", "threshold: {min: 31}")),
    "default made explicit with another value": _edit(
        VALID, ("weight: 2\n        photo", "weight: 2\n        na_allowed: true\n        photo")
    ),
    "version": _edit(VALID, ("version: 2", "version: 3")),
    "option order": _edit(
        VALID,
        ("            - {key: none, label: {sv: Ingen, en: None}, score: 0}\n", ""),
        ("score: 1}\n", "score: 1}\n            - {key: none, label: {sv: Ingen, en: None}, score: 0}\n"),
    ),
}


@pytest.mark.parametrize("variant", SAME_CONTENT.values(), ids=SAME_CONTENT.keys())
def test_sha256_ignores_formatting(variant: str) -> None:
    assert variant != VALID
    assert parse_checklist(variant, "other.yaml").sha256 == parse_checklist(VALID, "demo.yaml").sha256


@pytest.mark.parametrize("variant", CHANGED_CONTENT.values(), ids=CHANGED_CONTENT.keys())
def test_sha256_changes_with_content(variant: str) -> None:
    assert parse_checklist(variant, "demo.yaml").sha256 != parse_checklist(VALID, "demo.yaml").sha256


def test_content_round_trips() -> None:
    loaded = parse_checklist(VALID, "demo.yaml")
    stored = json.loads(json.dumps(loaded.content))  # as a JSON column would give it back
    assert stored == loaded.content
    rebuilt = checklist_from_content(stored)
    assert rebuilt == loaded.checklist
    assert rebuilt.model_dump(mode="json", by_alias=True) == loaded.content
    assert loaded.content["schema"] == 1
    assert loaded.content["sections"][1]["items"][2]["critical"] is False  # defaults are filled in


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(checklist_dicts())
def test_any_valid_checklist_survives_yaml_and_content(data: dict[str, object]) -> None:
    """A random valid checklist written as YAML loads to the same model, and its content rebuilds it."""
    checklist = Checklist.model_validate(data)
    loaded = parse_checklist(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "random.yaml")
    assert loaded.checklist == checklist
    assert checklist_from_content(json.loads(json.dumps(loaded.content))) == checklist
    reordered = parse_checklist(yaml.safe_dump(data, allow_unicode=True, sort_keys=True), "random.yaml")
    assert reordered.sha256 == loaded.sha256


# --- broken files -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.name for variant in VARIANTS])
def test_broken_file_names_file_line_and_item(tmp_path: Path, variant: Broken) -> None:
    path = _write(tmp_path, variant)
    errors = _errors(path)
    assert all(error.file == str(path) for error in errors), _describe(errors)
    matching = [
        error
        for error in errors
        if error.line in variant.lines
        and error.item == variant.item
        and all(word.lower() in error.message.lower() for word in variant.words)
    ]
    expected = f"line in {sorted(variant.lines, key=str)}, item {variant.item}, words {variant.words}"
    assert matching, f"no error with {expected}; got:\n{_describe(errors)}"


def test_syntax_error_in_a_section_header_names_that_section(tmp_path: Path) -> None:
    """The nearest `key:` line above a broken section title is the section's own key, not an item above it."""
    text = _edit(VALID, ("    title: {sv: Entré, en: Entrance}", "   title: {sv: Entré, en: Entrance}"))
    path = tmp_path / "section.yaml"
    path.write_text(text, encoding="utf-8")
    errors = _errors(path)
    line = _line(text, "title: {sv: Entré")
    assert any(error.line == line for error in errors), _describe(errors)
    assert all(error.item in ("ENT", None) for error in errors), _describe(errors)


def test_tags_on_mappings_are_not_ignored(tmp_path: Path) -> None:
    """An unknown local tag on an otherwise valid mapping is an error, like on a scalar."""
    text = _edit(VALID, ("title: {sv: Demo, en: Demo}", "title: !localtag {sv: Demo, en: Demo}"))
    path = tmp_path / "tagged.yaml"
    path.write_text(text, encoding="utf-8")
    errors = _errors(path)
    assert any(error.line == _line(text, "!localtag") for error in errors), _describe(errors)


def test_python_tags_are_never_executed(tmp_path: Path) -> None:
    """Python tags on a scalar, a sequence or a mapping are errors and construct nothing.

    The mapping here is not a valid remediation anyway; a python tag on an otherwise valid mapping is the
    `python_object_tag` variant above.
    """
    marker = tmp_path / "executed"
    tagged = {
        "scalar": ("version: 2", "version: !!python/object/apply:os.getpid ''"),
        "sequence": ("version: 2", f"version: !!python/object/apply:builtins.open ['{marker}', 'w']"),
        "name": ("version: 2", "version: !!python/name:os.system ''"),
        "mapping": (
            "remediation: {severity: high, fix_days: 30}",
            f"remediation: !!python/object/new:builtins.open {{args: ['{marker}', 'w']}}",
        ),
    }
    for name, replacement in tagged.items():
        text = _edit(VALID, replacement)
        path = tmp_path / f"{name}.yaml"
        path.write_text(text, encoding="utf-8")
        errors = _errors(path)
        assert any(error.line == _line(text, "!!python") for error in errors), f"{name}: {_describe(errors)}"
    assert not marker.exists()


def test_recursive_alias_is_an_error_not_a_crash(tmp_path: Path) -> None:
    """A self-referencing YAML alias must give a ChecklistError, not a RecursionError."""
    path = tmp_path / "recursive.yaml"
    path.write_text(_edit(VALID, ("title: {sv: Demo, en: Demo}", "title: &loop [*loop]")), encoding="utf-8")
    errors = _errors(path)
    assert any(error.line == _line(path.read_text(encoding="utf-8"), "&loop") for error in errors), _describe(errors)


def test_all_errors_are_reported_at_once_sorted_by_line(tmp_path: Path) -> None:
    text = _edit(
        VALID,
        ("version: 2", 'version: "2"'),
        ("        weight: 3\n", "        weight: heavy\n"),
        ("        na_allowed: true\n", "        na_allowed: true\n        colour: red\n"),
        ("requires_feature: access_system", "requires_feature: jacuzzi"),
    )
    path = tmp_path / "four.yaml"
    path.write_text(text, encoding="utf-8")
    errors = _errors(path)
    assert len(errors) >= 4, _describe(errors)
    lines = [error.line for error in errors]
    assert all(line is not None for line in lines)
    assert lines == sorted(lines, key=lambda line: line or 0)
    expected = {
        (_line(text, "version:"), None),
        (_line(text, "weight: heavy"), "GAR-01"),
        (_line(text, "colour: red"), "ENT-01"),
        (_line(text, "jacuzzi"), "ENT-02"),
    }
    assert expected <= {(error.line, error.item) for error in errors}, _describe(errors)


def test_load_error_reads_path_line_key_message() -> None:
    text = _edit(VALID, ("        weight: 3\n", "        weight: heavy\n"))
    with pytest.raises(ChecklistError) as caught:
        parse_checklist(text, "checklists/demo.yaml")
    [error] = caught.value.errors
    line = _line(text, "weight: heavy")
    assert re.fullmatch(rf"checklists/demo\.yaml:{line}: GAR-01: \S.*", str(error)), str(error)
    assert str(caught.value) == str(error)
    assert str(LoadError("a.yaml", 3, None, "boom")) == "a.yaml:3: boom"
    assert str(LoadError("a.yaml", None, None, "boom")) == "a.yaml: boom"


@pytest.mark.parametrize("variant", VARIANTS, ids=[variant.name for variant in VARIANTS])
def test_cli_reports_broken_file_without_traceback(tmp_path: Path, variant: Broken) -> None:
    path = _write(tmp_path, variant)
    result = _run_cli(path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    assert path.name in result.stderr


def test_cli_accepts_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(VALID, encoding="utf-8")
    result = _run_cli(path)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout
    assert result.stderr == ""


def test_cli_recursive_alias_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "recursive.yaml"
    path.write_text(_edit(VALID, ("title: {sv: Demo, en: Demo}", "title: &loop [*loop]")), encoding="utf-8")
    result = _run_cli(path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr, result.stderr[-2000:]
    assert path.name in result.stderr


def test_loader_and_scoring_are_pure() -> None:
    """Importing the loader and scoring modules pulls in neither Flask nor SQLAlchemy."""
    code = (
        "import json, sys\n"
        "import audit.checklists.loader, audit.inspections.scoring\n"
        "print(json.dumps(sorted(name for name in sys.modules\n"
        "                        if name.split('.')[0] in ('flask', 'sqlalchemy'))))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True
    )
    assert json.loads(result.stdout) == []


# --- the real checklist -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def real_text() -> str:
    return REAL_FILE.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def real(real_text: str) -> Checklist:
    return parse_checklist(real_text, str(REAL_FILE)).checklist


def test_real_checklist_loads(real: Checklist) -> None:
    loaded = load_checklist(REAL_FILE)
    assert loaded.checklist == real
    items = [item for _, item in real.items()]
    assert len(items) == 100
    assert len(real.sections) >= 10
    item_keys = [item.key for item in items]
    section_keys = [section.key for section in real.sections]
    assert len(set(item_keys)) == len(item_keys)
    assert len(set(section_keys)) == len(section_keys)
    for section, item in real.items():
        assert item.key.startswith(f"{section.key}-")
    units = {item.answer.unit for item in items if isinstance(item.answer, MeasurementAnswer)}
    assert {Unit.lux, Unit.m} <= units
    assert any(item.critical for item in items)
    for section in real.sections:
        assert section.title.sv.strip()
        assert section.title.en.strip()
    for item in items:
        for text in (item.text, item.guidance):
            assert text.sv.strip()
            assert text.en.strip()


@dataclass(frozen=True)
class _ItemPlace:
    """Where an item of the real file is written: 1-based lines and the column of its fields."""

    key: str
    key_line: int
    column: int
    fields: dict[str, int]


def _item_places(text: str) -> list[_ItemPlace]:
    """Every item's place in the file, read from the YAML node tree (independent of formatting)."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    assert isinstance(root, yaml.MappingNode)
    places = []
    sections = next(value for key, value in root.value if key.value == "sections")
    for section in sections.value:
        items = next(value for key, value in section.value if key.value == "items")
        for item in items.value:
            fields = {key.value: key.start_mark.line + 1 for key, _ in item.value}
            key_node, key_value = next((key, value) for key, value in item.value if key.value == "key")
            places.append(_ItemPlace(key_value.value, key_node.start_mark.line + 1, key_node.start_mark.column, fields))
    return places


def _replace_line(text: str, line: int, new: str) -> str:
    lines = text.splitlines(keepends=True)
    lines[line - 1] = new
    return "".join(lines)


def _real_broken_copies(text: str) -> dict[str, tuple[str, int | None, str | None]]:
    """Broken copies of the real file: name → (text, expected line, expected item key)."""
    places = _item_places(text)
    lines = text.splitlines(keepends=True)
    copies: dict[str, tuple[str, int | None, str | None]] = {}

    # Two items of one section: the second takes the first one's key.
    first, second = next((a, b) for a, b in itertools.pairwise(places) if a.key[:-3] == b.key[:-3])
    original = lines[second.key_line - 1]
    assert second.key in original
    copies["duplicate item key"] = (
        _replace_line(text, second.key_line, original.replace(second.key, first.key)),
        second.key_line,
        first.key,
    )

    item = places[2]
    weight_line = item.fields["weight"]
    original = lines[weight_line - 1]
    changed = re.sub(r"weight:\s*(\d+)", r'weight: "\1"', original)
    assert changed != original
    copies["weight as a string"] = (_replace_line(text, weight_line, changed), weight_line, item.key)

    item = places[len(places) // 2]
    extra = " " * item.column + "wieght: 2\n"
    copies["unknown field"] = (
        "".join([*lines[: item.key_line], extra, *lines[item.key_line :]]),
        item.key_line + 1,
        item.key,
    )

    item = places[-5]
    text_line = item.fields["text"]
    original = lines[text_line - 1]
    assert original.startswith(" " * item.column + "text:")
    copies["broken indentation"] = (_replace_line(text, text_line, original[1:]), text_line, item.key)

    copies["empty"] = ("", 1, None)
    return copies


@pytest.mark.parametrize(
    "breakage", ["duplicate item key", "weight as a string", "unknown field", "broken indentation", "empty"]
)
def test_broken_copies_of_real_checklist(tmp_path: Path, real_text: str, breakage: str) -> None:
    text, line, item = _real_broken_copies(real_text)[breakage]
    path = tmp_path / "trygga-hus.yaml"
    path.write_text(text, encoding="utf-8")
    errors = _errors(path)
    assert all(error.file == str(path) for error in errors)
    assert any(error.line == line and error.item == item for error in errors), (
        f"expected line {line}, item {item}; got:\n{_describe(errors)}"
    )


def test_broken_copies_of_real_checklist_via_cli(tmp_path: Path, real_text: str) -> None:
    """One subprocess for all broken copies: each is reported with its file name and no traceback."""
    paths = []
    for number, (text, _, _) in enumerate(_real_broken_copies(real_text).values()):
        path = tmp_path / f"broken-{number}.yaml"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    result = _run_cli(*paths)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for path in paths:
        assert f"{path}:" in result.stderr


def test_real_checklist_cli_is_valid() -> None:
    result = _run_cli(REAL_FILE)
    assert result.returncode == 0, result.stderr
    assert "100 items" in result.stdout
