"""Small things a careful client or operator notices (issue 16, item 10): `Allow` on a 405, the documented 409 of
starting an inspection, and one clear line from the command line for an unreachable database or a checklist nested
without end. (The CSV's Content-Type and the XLSX's quote prefix are checked in test_exports.py.)"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import MapAdapter

from audit.accounts.models import Role, User
from audit.api.openapi import openapi_document
from audit.buildings.models import Building
from audit.settings import PROJECT_ROOT
from tests.web_support import api_headers, login

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _allowed(header: str) -> set[str]:
    return {method.strip() for method in header.split(",") if method.strip()}


def _valid_methods(adapter: MapAdapter, path: str, method: str) -> set[str] | None:
    """The methods the router allows on `path` when it refuses `method` (None when it does not refuse it)."""
    try:
        adapter.match(path, method=method)
    except MethodNotAllowed as refused:
        return set(refused.valid_methods or [])
    except HTTPException:  # no route for the path, or a redirect to its canonical form
        return None
    return None


def test_every_405_says_which_methods_are_allowed(app: Flask, client: FlaskClient) -> None:
    adapter = app.url_map.bind("localhost")
    checked = 0
    for rule in app.url_map.iter_rules():
        path = re.sub(r"<int:\w+>", "1", re.sub(r"<(?:(?!int:)[\w]+:)?\w+>", "x", rule.rule))
        for method in METHODS:
            valid = _valid_methods(adapter, path, method)
            if valid is None:
                continue
            response = client.open(path, method=method)
            assert response.status_code == 405, (path, method)
            assert _allowed(response.headers.get("Allow", "")) == valid, (path, method)
            checked += 1
    assert checked > 100


def test_a_405_from_the_api_is_json_with_allow(client: FlaskClient) -> None:
    response = client.delete("/api/v1/buildings")
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"
    assert _allowed(response.headers["Allow"]) == {"GET", "HEAD", "OPTIONS"}


def test_the_409_of_starting_an_inspection_is_what_the_document_says(
    client: FlaskClient, create_member: Callable[..., User], create_test_building: Callable[..., Building]
) -> None:
    inspector = create_member(Role.inspector)
    building = create_test_building()
    login(client, inspector.email)
    first = client.post("/api/v1/inspections", json={"building_id": building.id}, headers=api_headers(client))
    assert first.status_code == 201
    again = client.post("/api/v1/inspections", json={"building_id": building.id}, headers=api_headers(client))
    assert again.status_code == 409
    body = again.get_json()
    assert body["error"] == "draft_exists"
    assert body["draft"] == first.get_json()["id"]
    documented = openapi_document()["paths"]["/api/v1/inspections"]["post"]["responses"]["409"]
    schema = documented["content"]["application/json"]["schema"]
    shapes = {choice["$ref"].rsplit("/", 1)[-1] for choice in schema.get("anyOf", [schema])}
    assert "DraftExistsError" in shapes
    assert "draft_exists" in documented["description"]


def _one_line(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


def test_init_against_an_unreachable_database_is_one_line(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TRYGGAHUS_INSTANCE_PATH": str(tmp_path),
        # Nothing listens on port 1; the password must not be printed.
        "TRYGGAHUS_DATABASE_URL": "postgresql+psycopg://tryggahus:hemligt@127.0.0.1:1/tryggahus?connect_timeout=3",
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "tryggahus"), "init"],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    line = _one_line(result.stderr)
    assert line.startswith("Error: cannot use the database postgresql+psycopg://tryggahus:***@127.0.0.1:1/tryggahus")
    assert "Connection refused" in line
    assert "hemligt" not in result.stderr


def test_a_checklist_nested_500_levels_deep_is_one_line(runner: FlaskCliRunner, tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("schema: 1\nkey: deep\nsections:\n" + "".join("  " * level + "-\n" for level in range(1, 500)))
    result = runner.invoke(args=["checklist", "validate", str(deep)])
    assert result.exit_code == 1
    assert _one_line(result.output) == f"{deep}:35: YAML syntax error: nested more than 32 levels deep"
    flow = tmp_path / "flow.yaml"
    flow.write_text("schema: 1\nkey: deep\nsections: " + "[" * 5000 + "]" * 5000 + "\n")
    result = runner.invoke(args=["checklist", "validate", str(flow)])
    assert _one_line(result.output) == f"{flow}:3: YAML syntax error: nested more than 32 levels deep"
