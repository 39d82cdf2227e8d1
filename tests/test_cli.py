"""The `tryggahus` command: checklists, init, demo, organisations and users; bad input is one line and non-zero."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskCliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.accounts.models import Membership, Organisation, Role, User
from audit.buildings.models import Area, Building
from audit.checklists.models import ChecklistVersion
from audit.inspections.models import Inspection, InspectionStatus
from audit.settings import PROJECT_ROOT
from tests.conftest import CHECKLIST_FILE, fresh_database, make_test_app


def _count(session: Session, model: type) -> int:
    return session.scalar(select(func.count()).select_from(model))


def _one_line_error(output: str) -> str:
    lines = [line for line in output.strip().splitlines() if line]
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


@pytest.mark.parametrize("command", [["tryggahus"], ["flask", "--app", "wsgi"]])
def test_console_script_validates_the_shipped_checklist(command: list[str], tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / command[0]
    env = {**os.environ, "TRYGGAHUS_INSTANCE_PATH": str(tmp_path)}
    result = subprocess.run(
        [str(executable), *command[1:], "checklist", "validate", str(CHECKLIST_FILE)],
        capture_output=True,
        text=True,
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "trygga-hus version 2, 100 items" in result.stdout


def test_validate_reports_every_broken_file_and_exits_1(runner: FlaskCliRunner, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(CHECKLIST_FILE.read_text().replace("weight: 1\n", "weight: one\n", 1))
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    result = runner.invoke(args=["checklist", "validate", str(CHECKLIST_FILE), str(broken), str(empty)])
    assert result.exit_code == 1
    assert f"{empty}:1: the file is empty" in result.output
    assert any(line.startswith(f"{broken}:") and "weight" in line for line in result.output.splitlines())
    assert "Traceback" not in result.output


def test_load_stores_once_and_refuses_changed_content(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    original = CHECKLIST_FILE.read_text()
    copy = tmp_path / "copy.yaml"
    copy.write_text(original.replace("key: trygga-hus", "key: trygga-test", 1))
    first = runner.invoke(args=["checklist", "load", str(copy)])
    assert first.exit_code == 0, first.output
    assert "created" in first.output
    again = runner.invoke(args=["checklist", "load", str(copy)])
    assert "unchanged" in again.output
    copy.write_text("# a comment changes nothing\n" + copy.read_text())
    assert "unchanged" in runner.invoke(args=["checklist", "load", str(copy)]).output
    copy.write_text(copy.read_text().replace("weight: 1\n", "weight: 2\n", 1))
    changed = runner.invoke(args=["checklist", "load", str(copy)])
    assert changed.exit_code == 1
    assert "bump 'version' to 3" in _one_line_error(changed.output)
    stored = session.scalars(select(ChecklistVersion).where(ChecklistVersion.key == "trygga-test")).all()
    assert len(stored) == 1


def test_load_stores_nothing_when_one_file_is_invalid(runner: FlaskCliRunner, session: Session, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(CHECKLIST_FILE.read_text().replace("key: trygga-hus", "key: trygga-good", 1))
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema: 1\nkey: [unclosed\n")
    result = runner.invoke(args=["checklist", "load", str(good), str(bad)])
    assert result.exit_code == 1
    assert "nothing was stored" in result.output
    assert session.scalar(select(ChecklistVersion).where(ChecklistVersion.key == "trygga-good")) is None


def test_org_and_user_create(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(args=["org", "create", "--slug", "botkyrka", "--name", "Botkyrkabyggen"])
    assert result.exit_code == 0, result.output
    result = runner.invoke(
        args=["user", "create", "--org", "botkyrka", "--email", "Anna@Example.org", "--role", "inspector"],
        input="a long secret phrase\n",
    )
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "anna@example.org"))
    assert user is not None
    assert user.check_password("a long secret phrase")
    assert [m.role for m in user.memberships] == [Role.inspector]


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["org", "create", "--slug", "Not A Slug", "--name", "X"], None, "invalid slug"),
        (
            ["user", "create", "--org", "nowhere", "--email", "a@example.org", "--role", "admin"],
            "long enough pw\n",
            "no organisation with the slug 'nowhere'",
        ),
        (
            ["user", "create", "--org", "test", "--email", "not-an-email", "--role", "admin"],
            "long enough pw\n",
            "invalid e-mail",
        ),
        (
            ["user", "create", "--org", "test", "--email", "a@example.org", "--role", "admin"],
            "short\n",
            "at least 10 characters",
        ),
        (["user", "create", "--org", "test", "--email", "a@example.org", "--role", "admin"], "", "no password"),
    ],
)
def test_bad_input_is_one_line_and_non_zero(
    args: list[str], stdin: str | None, message: str, runner: FlaskCliRunner, org: Organisation, session: Session
) -> None:
    result = runner.invoke(args=args, input=stdin)
    assert result.exit_code == 1
    assert message in _one_line_error(result.output)
    assert _count(session, User) == 0


def test_duplicate_organisation_is_refused(runner: FlaskCliRunner, org: Organisation) -> None:
    result = runner.invoke(args=["org", "create", "--slug", org.slug, "--name", "Again"])
    assert result.exit_code == 1
    assert "already exists" in _one_line_error(result.output)


def test_unknown_role_is_a_usage_error(runner: FlaskCliRunner, org: Organisation) -> None:
    result = runner.invoke(args=["user", "create", "--org", "test", "--email", "a@example.org", "--role", "king"])
    assert result.exit_code == 2
    assert "king" in result.output


def test_password_is_never_an_argument(runner: FlaskCliRunner, org: Organisation) -> None:
    result = runner.invoke(
        args=[
            "user",
            "create",
            "--org",
            "test",
            "--email",
            "a@example.org",
            "--role",
            "admin",
            "--password",
            "on-the-command-line",
        ]
    )
    assert result.exit_code == 2
    assert "No such option" in result.output


def test_demo_creates_a_whole_organisation_once(runner: FlaskCliRunner, session: Session) -> None:
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    for role in Role:
        assert f"{role.value}@demo.example" in result.output
        assert f"trygga-{role.value}" in result.output
    demo = session.scalar(select(Organisation).where(Organisation.slug == "demo"))
    assert demo is not None
    roles = session.scalars(select(Membership.role).where(Membership.organisation_id == demo.id)).all()
    assert sorted(roles) == sorted(Role)
    assert len(session.scalars(select(Area).where(Area.organisation_id == demo.id)).all()) == 2
    assert _count(session, Building) == 10
    _assert_demo_est_group(session, result.output)
    assert len({frozenset(b.features) for b in session.scalars(select(Building))}) == 10
    statuses = set(session.scalars(select(Inspection.status)))
    assert statuses == set(InspectionStatus)
    approved = session.scalars(select(Inspection).where(Inspection.status == InspectionStatus.approved)).all()
    assert {i.score_passed for i in approved} == {True, False}
    again = runner.invoke(args=["demo"])
    assert again.exit_code == 0
    assert _count(session, Building) == 10


def _assert_demo_est_group(session: Session, output: str) -> None:
    """The demo's EST group: two landlords, the police and the municipality, and this week two hot spots."""
    from audit.certificates.status import today_in_sweden
    from audit.deviations.est.models import EstGroup
    from audit.deviations.est.services import situation
    from audit.deviations.est.weeks import week_of

    group = session.scalar(select(EstGroup))
    assert group is not None
    assert sorted((p.role.value, p.kind.value) for p in group.parties) == [
        ("member", "landlord"),
        ("member", "landlord"),
        ("partner", "municipality"),
        ("partner", "police"),
    ]
    assert "polis@demo.example" in output
    assert "kommun@demo.example" in output
    picture = situation(session, group, week_of(today_in_sweden()))
    assert sorted(h.state for h in picture.hot_spots) == ["continuing", "new"]
    assert picture.measures


def test_init_migrates_an_empty_database_and_loads_checklists(database_kind: str, tmp_path: Path) -> None:
    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        runner = app.test_cli_runner()
        first = runner.invoke(args=["init"])
        assert first.exit_code == 0, first.output
        assert "trygga-hus version 2 created" in first.output
        second = runner.invoke(args=["init"])
        assert "trygga-hus version 2 unchanged" in second.output
        demo = runner.invoke(args=["demo"])
        assert demo.exit_code == 0, demo.output
        app.extensions["tryggahus.database"].engine.dispose()


def test_demo_without_checklists_says_what_to_do(database_kind: str, tmp_path: Path) -> None:
    from audit.migrate import upgrade

    with fresh_database(database_kind, tmp_path) as url:
        app = make_test_app(url, tmp_path)
        engine = app.extensions["tryggahus.database"].engine
        upgrade(engine)
        result = app.test_cli_runner().invoke(args=["demo"])
        assert result.exit_code == 1
        assert "run 'tryggahus init' first" in _one_line_error(result.output)
        engine.dispose()
