"""The `tryggahus` command: a Flask CLI group bound to the app factory (`flask --app wsgi …` has the same commands).

Every command reports bad input as a one-line error and exits non-zero.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, FlaskGroup, with_appcontext

from audit.accounts.models import Role
from audit.deviations.est.models import PartyKind, PartyRole
from audit.errors import DATABASE_UNAVAILABLE, DomainError
from audit.settings import SettingsError


@contextmanager
def _database_errors() -> Iterator[None]:
    """A database that cannot be reached (down, a wrong address, locked) is one line on the terminal."""
    from sqlalchemy.engine import make_url

    try:
        yield
    except DATABASE_UNAVAILABLE as exc:
        url = make_url(current_app.config["TRYGGAHUS"].sqlalchemy_url).render_as_string(hide_password=True)
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise click.ClickException(f"cannot use the database {url}: {reason}") from None


@contextmanager
def _unit_of_work() -> Iterator[Any]:
    """One transaction for a command: committed when it succeeds, rolled back with a one-line error otherwise."""
    from audit.extensions import db

    with _database_errors():
        db.begin_write()
        try:
            yield db.session
            db.session.commit()
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None


# --- checklists -------------------------------------------------------------------------------------------------


@click.group("checklist", cls=AppGroup, help="Validate and load checklist YAML files.")
def checklist_group() -> None:
    pass


def _checklist_paths(paths: tuple[str, ...]) -> list[Path]:
    if paths:
        return [Path(p) for p in paths]
    from audit.deviations.catalogue import CATALOGUE_FILE

    folder = current_app.config["TRYGGAHUS"].checklist_dir
    # The deviation catalogue lives beside the checklists but is not one (see `load_deviation_catalogue`).
    found = sorted(path for path in Path(folder).glob("*.yaml") if path.name != CATALOGUE_FILE)
    if not found:
        raise click.ClickException(f"no checklist files (*.yaml) in {folder}")
    return found


def _load_all(paths: list[Path]) -> tuple[list[Any], bool]:
    from audit.checklists.loader import ChecklistError, load_checklist

    loaded, failed = [], False
    for path in paths:
        try:
            loaded.append(load_checklist(path))
        except ChecklistError as exc:
            failed = True
            for error in exc.errors:
                click.echo(str(error), err=True)
    return loaded, failed


@checklist_group.command("validate", with_appcontext=False)
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False))
def checklist_validate(paths: tuple[str, ...]) -> None:
    """Check checklist files without touching the database."""
    loaded, failed = _load_all([Path(p) for p in paths])
    for item in loaded:
        click.echo(
            f"{item.path}: valid — {item.checklist.key} version {item.checklist.version}, "
            f"{len(item.checklist.items())} items, sha256 {item.sha256[:12]}"
        )
    if failed:
        sys.exit(1)


def load_checklists(paths: list[Path]) -> None:
    from audit.checklists.services import store_checklist

    loaded, failed = _load_all(paths)
    if failed:
        raise click.ClickException("nothing was stored: fix the errors above first")
    with _unit_of_work() as session:
        for item in loaded:
            result = store_checklist(session, item)
            click.echo(f"{item.path}: {item.checklist.key} version {item.checklist.version} {result.outcome}")


@checklist_group.command("load")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=False))
def checklist_load(paths: tuple[str, ...]) -> None:
    """Store new checklist versions (default: every file in the checklist folder)."""
    load_checklists(_checklist_paths(paths))


# --- database and demo ------------------------------------------------------------------------------------------


@click.command("init")
@with_appcontext
def init_command() -> None:
    """Migrate the database to the newest schema and load every checklist."""
    from audit.migrate import upgrade

    with _database_errors():
        upgrade(current_app.extensions["tryggahus.database"].engine)
    click.echo("database migrated to head")
    load_checklists(_checklist_paths(()))
    load_deviation_catalogue()


def load_deviation_catalogue() -> None:
    """Store the deviation catalogue of the checklist folder, checked against the stored checklists' sections."""
    from audit.deviations.catalogue import CATALOGUE_FILE, CatalogueError
    from audit.deviations.services import load_catalogue_file

    path = Path(current_app.config["TRYGGAHUS"].checklist_dir) / CATALOGUE_FILE
    if not path.exists():
        return
    with _unit_of_work() as session:
        try:
            created, version = load_catalogue_file(session, path)
        except CatalogueError as exc:
            for error in exc.errors:
                click.echo(str(error), err=True)
            raise click.ClickException("the deviation catalogue was not stored: fix the errors above first") from None
    click.echo(f"{path}: {version.key} version {version.version} {'created' if created else 'unchanged'}")


@click.command("demo")
@click.option(
    "--scale",
    type=click.IntRange(1, 100_000),
    default=None,
    help="Also add a portfolio of this many buildings (10,000: 50 areas, 50,000 inspections, 100,000 tasks).",
)
@with_appcontext
def demo_command(scale: int | None) -> None:
    """Create the demo organisation with users, areas, buildings and inspections."""
    from audit.demo import create_demo

    with _unit_of_work() as session:
        accounts = create_demo(session)
    click.echo("Demo organisation 'demo' created. Log in with:")
    for account in accounts:
        click.echo(f"  {account.role:<11} {account.email:<30} {account.password}")
    if scale is not None:
        _add_portfolio(scale)


def _add_portfolio(scale: int) -> None:
    """The portfolio in one transaction: all of it, or nothing."""
    import time

    from audit.extensions import db
    from audit.portfolio import add_to_demo

    began = time.monotonic()

    def progress(done: int) -> None:
        click.echo(f"  {done:,} of {scale:,} buildings ({time.monotonic() - began:.0f} s)", err=True)

    with _database_errors(), db.engine.begin() as connection:
        try:
            summary = add_to_demo(connection, scale, progress)
        except ValueError as exc:
            raise click.ClickException(str(exc)) from None
    areas = f"{summary.areas:,} area{'' if summary.areas == 1 else 's'}"
    click.echo(
        f"Portfolio added in {time.monotonic() - began:.0f} s: {summary.buildings:,} buildings in {areas}, "
        f"{summary.inspections:,} inspections with {summary.answers:,} answers, "
        f"{summary.tasks:,} tasks, {summary.certificates:,} certificates, {summary.photos:,} photos"
    )


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only list what would be removed.")
@click.option(
    "--grace-hours",
    default=24,
    show_default=True,
    type=click.IntRange(min=0),
    help="Leave alone files changed more recently: uploads in flight have no row yet (0 only with no server running).",
)
@with_appcontext
def purge_command(dry_run: bool, grace_hours: int) -> None:
    """Remove what crashes and time leave behind: photo files no row refers to, temporary upload files, and
    records past their retention (idempotency records, login throttles, ended login sessions, spent reset links)."""
    from flask import current_app

    from audit.database import utcnow
    from audit.extensions import db
    from audit.purge import cleanups, purge

    settings = current_app.config["TRYGGAHUS"]
    verb = "would remove" if dry_run else "removed"
    counts = {cleanup.name: 0 for cleanup in cleanups()}
    removals = purge(db.session, settings, now=utcnow(), grace=timedelta(hours=grace_hours), dry_run=dry_run)
    for cleanup, removed in removals:
        click.echo(f"{cleanup}: {verb} {removed.what}")
        counts[cleanup] += removed.count
    click.echo(", ".join(f"{name} {count}" for name, count in counts.items()))
    click.echo(
        f"{sum(counts.values())} {'to remove' if dry_run else 'removed'} (files older than {grace_hours} h, "
        f"idempotency records older than {settings.idempotency_retention_days} days, login records older than "
        f"{settings.login_record_retention_days} days, jobs ended over {settings.job_retention_days} days ago)"
    )


@click.group("org", cls=AppGroup, help="Manage organisations.")
def org_group() -> None:
    pass


@org_group.command("create")
@click.option("--slug", required=True, help="Short name used in URLs, e.g. 'botkyrka'.")
@click.option("--name", required=True, help="The company's name.")
def org_create(slug: str, name: str) -> None:
    from audit.accounts.services import create_organisation

    with _unit_of_work() as session:
        organisation = create_organisation(session, slug, name)
    click.echo(f"organisation '{organisation.slug}' created")


@click.group("est", cls=AppGroup, help="Set up EST groups (the same can be done on the group's page).")
def est_group() -> None:
    pass


def _est_group(session: Any, name: str) -> Any:
    from sqlalchemy import select

    from audit.deviations.est.models import EstGroup

    group = session.scalar(select(EstGroup).where(EstGroup.name == name))
    if group is None:
        raise click.ClickException(f"no EST group is named '{name}'")
    return group


@est_group.command("create")
@click.option("--name", required=True, help="The group's name, e.g. 'EST Fittja'.")
@click.option("--member", "member_slug", required=True, help="The slug of its first member (a landlord).")
def est_create(name: str, member_slug: str) -> None:
    from audit.accounts.services import organisation_by_slug
    from audit.deviations.est.services import create_group

    with _unit_of_work() as session:
        group = create_group(session, None, organisation_by_slug(session, member_slug), name)
    click.echo(f"EST group '{group.name}' created with {member_slug} as its first member")


@est_group.command("add")
@click.option("--group", "group_name", required=True, help="The group's name.")
@click.option("--org", "org_slug", required=True, help="The organisation's slug.")
@click.option("--role", required=True, type=click.Choice([r.value for r in PartyRole]))
@click.option("--kind", default="landlord", show_default=True, type=click.Choice([k.value for k in PartyKind]))
def est_add(group_name: str, org_slug: str, role: str, kind: str) -> None:
    from audit.accounts.services import organisation_by_slug
    from audit.deviations.est.services import add_party

    with _unit_of_work() as session:
        group = _est_group(session, group_name)
        add_party(session, None, group, organisation_by_slug(session, org_slug), PartyRole(role), PartyKind(kind))
    click.echo(f"{org_slug} takes part in '{group_name}' as {role} ({kind})")


@est_group.command("area")
@click.option("--group", "group_name", required=True, help="The group's name.")
@click.option("--name", required=True, help="The group's name for the area, e.g. 'Fittja'.")
@click.option("--org", "org_slug", default=None, help="A member's slug: count its area (--area) in this one.")
@click.option("--area", "area_name", default=None, help="The member's own area's name (default: --name).")
def est_area(group_name: str, name: str, org_slug: str | None, area_name: str | None) -> None:
    """Add an area to the group (when it is not there yet) and, with --org, count a member's own area in it."""
    from sqlalchemy import select

    from audit.accounts.services import organisation_by_slug
    from audit.buildings.models import Area
    from audit.deviations.est.services import add_group_area, link_area

    with _unit_of_work() as session:
        group = _est_group(session, group_name)
        group_area = next((a for a in group.areas if a.name.lower() == name.strip().lower()), None)
        if group_area is None:
            group_area = add_group_area(session, None, group, name)
        if org_slug is not None:
            organisation = organisation_by_slug(session, org_slug)
            wanted = area_name or name
            area = session.scalar(select(Area).where(Area.organisation_id == organisation.id, Area.name == wanted))
            if area is None:
                raise click.ClickException(f"{org_slug} has no area named '{wanted}'")
            link_area(session, None, group_area, area)
    click.echo(
        f"'{group_name}' covers {group_area.name}" + (f" (with {org_slug}'s {area_name or name})" if org_slug else "")
    )


@click.group("user", cls=AppGroup, help="Manage users.")
def user_group() -> None:
    pass


@user_group.command("create")
@click.option("--org", "org_slug", required=True, help="The organisation's slug.")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice([r.value for r in Role]))
@click.option("--name", default=None, help="Display name (default: the e-mail's local part).")
def user_create(org_slug: str, email: str, role: str, name: str | None) -> None:
    """Create a user; the password is read from standard input or prompted, never from an argument."""
    from audit.accounts.services import create_user, organisation_by_slug

    password = _read_password()
    with _unit_of_work() as session:
        user = create_user(session, organisation_by_slug(session, org_slug), email, role, password, name)
    click.echo(f"user {user.email} created as {role} in {org_slug}")


def _read_password() -> str:
    if sys.stdin.isatty():
        return click.prompt("Password", hide_input=True, confirmation_prompt=True)
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise click.ClickException("no password on standard input")
    return password


@click.group("token", cls=AppGroup, help="Manage API tokens.")
def token_group() -> None:
    pass


@token_group.command("create")
@click.option("--email", required=True)
@click.option("--org", "org_slug", default=None, help="The organisation (default: the user's first).")
@click.option("--name", default="cli", show_default=True, help="A name to recognise the token by.")
def token_create(email: str, org_slug: str | None, name: str) -> None:
    """Create an API token; it is shown once and stored only as a hash."""
    from sqlalchemy import select

    from audit.accounts.auth import create_api_token
    from audit.accounts.models import User
    from audit.accounts.services import normalise_email, organisation_by_slug

    with _unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None or not user.memberships:
            raise DomainError(f"no user with the e-mail {email}")
        organisation = organisation_by_slug(session, org_slug) if org_slug else user.memberships[0].organisation
        token = create_api_token(session, user, organisation, name)
    click.echo(token)


@token_group.command("revoke")
@click.option("--email", required=True)
def token_revoke(email: str) -> None:
    """Revoke every API token of a user."""
    from sqlalchemy import select

    from audit.accounts.auth import revoke_api_tokens
    from audit.accounts.models import User
    from audit.accounts.services import normalise_email

    with _unit_of_work() as session:
        user = session.scalar(select(User).where(User.email == normalise_email(email)))
        if user is None:
            raise DomainError(f"no user with the e-mail {email}")
        count = revoke_api_tokens(session, user)
    click.echo(f"{count} token(s) revoked")


@click.group("certificates", cls=AppGroup, help="Print certificate signs.")
def certificates_group() -> None:
    pass


@certificates_group.command("print")
@click.option("--org", "org_slug", required=True, help="The organisation's slug.")
@click.option("--area", "area_name", default=None, help="Only this area (default: every area).")
@click.option("--building", "building_ids", multiple=True, type=int, help="Only these building ids (repeatable).")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The file to write (.pdf or .zip).")
@click.option("--size", type=click.Choice(["A4", "A3"]), default="A4", show_default=True)
@click.option("--lang", type=click.Choice(["sv", "en"]), default="sv", show_default=True)
def certificates_print(
    org_slug: str, area_name: str | None, building_ids: tuple[int, ...], out: str, size: str, lang: str
) -> None:
    """Print the signs of every valid certificate of an area (or of chosen buildings) as one PDF or a ZIP."""
    from sqlalchemy import select

    from audit.accounts.services import organisation_by_slug
    from audit.buildings.models import Area
    from audit.certificates.batch import print_signs, sign_renderer
    from audit.certificates.documents import PaperSize, sign_facts
    from audit.certificates.models import BatchFormat
    from audit.certificates.services import current_certificates
    from audit.extensions import db

    target = Path(out)
    if target.suffix.lower() not in (".pdf", ".zip"):
        raise click.ClickException("--out must end in .pdf or .zip")
    try:
        organisation = organisation_by_slug(db.session, org_slug)
    except DomainError as exc:
        raise click.ClickException(str(exc)) from None
    area_id = None
    if area_name is not None:
        area = db.session.scalar(select(Area).where(Area.organisation_id == organisation.id, Area.name == area_name))
        if area is None:
            raise click.ClickException(f"no area named {area_name!r} in {org_slug}")
        area_id = area.id
    certificates = current_certificates(db.session, organisation.id, area_id=area_id, building_ids=building_ids or None)
    if not certificates:
        raise click.ClickException("no valid certificates to print for that choice")
    signs = [sign_facts(certificate) for certificate in certificates]
    db.session.rollback()  # nothing to write: end the read transaction before the long rendering
    with click.progressbar(length=len(signs), label="Printing signs", file=sys.stderr) as bar:
        output = print_signs(
            signs,
            BatchFormat(target.suffix.lower().lstrip(".")),
            render=sign_renderer(PaperSize(size), lang),
            on_progress=lambda done: bar.update(done - bar.pos),
        )
    for number, error in output.errors:
        click.echo(f"{number}: not printed: {error}", err=True)
    if output.data is not None:
        target.write_bytes(output.data)
    click.echo(f"{output.printed} of {len(signs)} signs written to {target}")
    if output.errors:
        sys.exit(1)


@click.group("audit", cls=AppGroup, help="Check the audit log.")
def audit_group() -> None:
    pass


@audit_group.command("verify")
def audit_verify() -> None:
    """Walk every organisation's chain of audit entries; name the first broken link of each (exit 1 if any)."""
    from sqlalchemy import select

    from audit.accounts.models import Organisation
    from audit.auditlog.services import verify_chains
    from audit.extensions import db

    reports = verify_chains(db.session)
    names = {row.id: row.slug for row in db.session.execute(select(Organisation.id, Organisation.slug))}
    for report in reports:
        chain = f"organisation {names.get(report.chain, report.chain)}" if report.chain else "outside organisations"
        if report.broken is None:
            click.echo(f"{chain}: {report.entries} entries, intact, last hash {report.last_hash}")
        else:
            entry = "" if report.broken.entry_id is None else f" (entry id {report.broken.entry_id})"
            click.echo(f"{chain}: broken at sequence {report.broken.sequence}{entry}: {report.broken.reason}", err=True)
    if not reports:
        click.echo("the audit log is empty")
    if any(report.broken for report in reports):
        sys.exit(1)


# --- storage ----------------------------------------------------------------------------------------------------


@click.group("storage", cls=AppGroup, help="Check the file stores and move files between them.")
def storage_group() -> None:
    pass


@contextmanager
def _storage_errors() -> Iterator[None]:
    """A store out of reach (no such bucket, refused credentials, no connection) is one line on the terminal."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError, OSError, ValueError) as exc:
        raise click.ClickException(f"storage: {str(exc).strip().splitlines()[0] if str(exc) else exc!r}") from None


def _store_of(area: str, backend: str) -> Any:
    from audit.storage.services import app_store

    settings = current_app.config["TRYGGAHUS"]
    if backend == "s3":
        if not settings.s3_bucket:
            raise click.ClickException("storage: set TRYGGAHUS_S3_BUCKET (and the other TRYGGAHUS_S3_* settings)")
        try:
            settings.check_s3_options()
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
    return app_store(area, backend)


@storage_group.command("check")
def storage_check() -> None:
    """Check that every store of the configured backend can be used (exit 1 if one cannot)."""
    from audit.storage.config import AREAS

    failed = False
    for area in AREAS:
        store = _store_of(area, current_app.config["TRYGGAHUS"].storage)
        try:
            with _storage_errors():
                store.check()
            click.echo(f"{area}: {store.location}: ok")
        except click.ClickException as exc:
            click.echo(f"{area}: {store.location}: {exc.message}", err=True)
            failed = True
    if failed:
        sys.exit(1)


@storage_group.command("migrate")
@click.option("--to", "target", required=True, type=click.Choice(["local", "s3"]), help="The backend to copy to.")
@click.option(
    "--from", "source", default=None, type=click.Choice(["local", "s3"]), help="The backend to copy from (the other)."
)
@click.option(
    "--area",
    "areas",
    multiple=True,
    type=click.Choice(["photos", "batches"]),
    help="Only this kind of file (repeatable; default: all).",
)
@click.option("--replace-mismatched", is_flag=True, help="Copy again over target files whose SHA-256 differs.")
def storage_migrate(target: str, source: str | None, areas: tuple[str, ...], replace_mismatched: bool) -> None:
    """Copy every stored file to the other backend and verify each copy's SHA-256; a second run copies nothing.

    Files already in the target with the same SHA-256 are left alone; one that differs is a mismatch, reported
    (exit 1) and left unless --replace-mismatched. Switch TRYGGAHUS_STORAGE over once a run reports no mismatch.
    """
    from audit.storage.config import AREAS
    from audit.storage.migrate import Outcome, copy_all

    source = source or ("local" if target == "s3" else "s3")
    if source == target:
        raise click.ClickException("storage: --from and --to name the same backend")
    mismatched = 0
    for area in areas or AREAS:
        source_store, target_store = _store_of(area, source), _store_of(area, target)
        counts = dict.fromkeys(Outcome, 0)
        with _storage_errors():
            target_store.check()
            for copied in copy_all(source_store, target_store, replace=replace_mismatched):
                counts[copied.outcome] += 1
                if copied.outcome is Outcome.mismatch:
                    click.echo(f"{area}: SHA-256 mismatch {copied.key} in {target_store.location}", err=True)
        mismatched += counts[Outcome.mismatch]
        summary = ", ".join(f"{count} {outcome.value}" for outcome, count in counts.items())
        click.echo(f"{area}: {source_store.location} → {target_store.location}: {summary}")
    if mismatched:
        hint = "" if replace_mismatched else "; --replace-mismatched copies them again"
        click.echo(f"{mismatched} mismatched{hint}", err=True)
        sys.exit(1)


def _settings() -> Any:
    """The settings for a command that builds no app itself (serve, worker): a missing production secret stops it
    here, not in every worker."""
    from audit.settings import Settings

    try:
        settings = Settings.from_env()
        settings.resolve_secret_key()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    return settings


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--job-worker/--no-job-worker",
    default=True,
    show_default=True,
    help="On the embedded queue (no TRYGGAHUS_QUEUE_URL), also run one job worker beside the server, stopped with it.",
)
def serve_command(host: str, port: int, workers: int, job_worker: bool) -> None:
    """Serve the app with gunicorn (and, on the embedded queue, a job worker beside it).

    The command loads no app itself: every gunicorn worker builds its own in `load()`, outside any application
    context, so each request pushes its own context and `flask.g` (exactly as under `gunicorn wsgi:app`). An app
    built here, in the command's context, would be forked into the workers with that context still pushed, and
    every request of a worker would share one `g`.
    """
    from gunicorn.app.base import BaseApplication

    from audit.gunicorn_logger import ACCESS_LOG_FORMAT, GunicornLogger

    settings = _settings()

    class _Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            # gunicorn's lines through the app's handler (JSON in production), each access line with its request id.
            self.cfg.set("logger_class", GunicornLogger)
            self.cfg.set("accesslog", "-")
            self.cfg.set("access_log_format", ACCESS_LOG_FORMAT)

        # gunicorn's stubs spell a WSGI app's start_response narrower than typeshed's WSGI types, which Flask uses.
        def load(self) -> Flask:  # type: ignore[override]
            from audit import create_app

            return create_app(settings)

    # With Redis the workers are `tryggahus worker` processes of their own, on any machine.
    worker = _start_job_worker() if job_worker and not settings.queue_url else None
    click.echo(f"Trygga hus on http://{host}:{port}/")
    try:
        _Server().run()
    finally:
        if worker is not None:
            _stop_job_worker(worker)


def _die_with_parent() -> None:
    """In the job worker before it runs (Linux): SIGTERM when the serving process dies, even by SIGKILL."""
    import contextlib
    import ctypes
    import signal

    # Not Linux: the worker is stopped in serve's `finally` only.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


def _start_job_worker() -> Any:
    import subprocess

    command = [sys.executable, "-m", "audit", "worker", "--workers", "1"]
    return subprocess.Popen(command, preexec_fn=_die_with_parent)  # noqa: S603 (our own command)


def _stop_job_worker(worker: Any) -> None:
    """SIGTERM: huey interrupts a running job, which is queued again and runs at the next start."""
    import subprocess

    worker.terminate()
    try:
        worker.wait(timeout=15)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait(timeout=5)


@click.command("worker")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Jobs run at once.")
@click.option(
    "--worker-type",
    type=click.Choice(["process", "thread"]),
    default="process",
    show_default=True,
    help="Processes (one job cannot slow another, each builds its own app) or threads in this process.",
)
@click.option("--name", default=None, help="Recorded on the jobs this worker runs (default: the host's name).")
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also schedule the periodic tasks: recovering jobs whose worker stopped (every minute), the daily clean-up.",
)
def worker_command(workers: int, worker_type: str, name: str | None, periodic: bool) -> None:
    """Run jobs from the queue (the embedded SQLite queue, or Redis with TRYGGAHUS_QUEUE_URL).

    Like `serve`, the command builds no app itself: each worker process builds its own on its first job. Run any
    number of these on any machines that share the database and the Redis queue. SIGINT waits for running jobs;
    SIGTERM interrupts them: a process worker's job is queued again at once, a thread worker's once its lease has
    expired.
    """
    from audit.jobs.queue import JobQueue, consume

    consume(JobQueue(_settings(), worker=name), workers=workers, worker_type=worker_type, periodic=periodic)


COMMANDS: list[click.Command] = [
    checklist_group,
    init_command,
    demo_command,
    purge_command,
    org_group,
    user_group,
    est_group,
    token_group,
    certificates_group,
    audit_group,
    storage_group,
]


def register(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)


def _create_app() -> Flask:
    from audit import create_app

    try:
        return create_app()
    except SettingsError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # the instance folder or the SQLite file's folder cannot be made
        raise click.ClickException(f"cannot create {exc.filename}: {exc.strerror}") from None


@click.group(
    cls=FlaskGroup,
    create_app=_create_app,
    add_default_commands=False,
    add_version_option=False,
    load_dotenv=False,
    set_debug_flag=False,
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Trygga hus: checklist-driven building safety audits."""
    from audit.logs import log_context

    # Every line a command logs carries the id of this run of it (the server's lines carry their requests' ids).
    if ctx.invoked_subcommand != "serve":
        ctx.with_resource(log_context(command_id=uuid.uuid4().hex))


# Not app commands: the app must be built in each gunicorn or job worker, never in this process (see serve_command).
cli.add_command(serve_command)
cli.add_command(worker_command)
