"""Helpers for the job queue's tests: certificates to print, starting a batch on the page, real worker processes
(`tryggahus worker`) and a Redis server of the test's own."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from audit.accounts.models import Role
from audit.settings import PROJECT_ROOT
from tests.served_support import BIN, free_port
from tests.web_support import csrf_token

#: How long a test waits for a job before it fails.
JOB_TIMEOUT = 90.0


@dataclass
class PrintSetup:
    manager_email: str
    area_id: int
    organisation_id: int
    manager_id: int
    numbers: list[str]


def print_setup(app: Flask, signs: int, slug: str = "batch", copies: int = 0) -> PrintSetup:
    """Migrate the app's (empty) database and give an organisation `signs` certified buildings in one area.

    `copies` more certificates (for a batch that takes a few seconds) are written directly as copies of the last
    one, each for a building and a started inspection of its own: walking and approving an inspection for each
    would take the test far longer than printing them, and what is tested is the printing and the queue.
    """
    from audit.accounts.services import create_organisation, create_user
    from audit.buildings.services import create_area, create_building
    from audit.certificates.documents import issued_sign
    from audit.certificates.services import issue_certificate
    from audit.checklists.loader import load_checklist
    from audit.checklists.services import current_checklist, store_checklist
    from audit.extensions import db
    from audit.migrate import upgrade
    from tests.conftest import CHECKLIST_FILE, TEST_PASSWORD
    from tests.remediation_support import approved_inspection

    upgrade(app.extensions["tryggahus.database"].engine)
    with app.app_context():
        session = db.session
        version = current_checklist(session, "trygga-hus") or store_checklist(
            session, load_checklist(CHECKLIST_FILE)
        ).version
        organisation = create_organisation(session, slug, "Batchbostäder AB")
        inspector = create_user(session, organisation, f"i@{slug}.example", Role.inspector, TEST_PASSWORD)
        manager = create_user(session, organisation, f"m@{slug}.example", Role.manager, TEST_PASSWORD)
        area = create_area(session, organisation, "Alby")
        numbers = []
        for number in range(1, signs + 1):
            street = f"Albyvägen {number}"
            building = create_building(
                session,
                organisation,
                name=street,
                street_address=street,
                postcode="145 59",
                city="Norsborg",
                area=area,
                features=set(),
            )
            inspection = approved_inspection(session, inspector, manager, building, version, ())
            numbers.append(issue_certificate(session, manager, inspection, issued_sign).number)
        numbers += _copies(session, inspector, area, version, copies)
        session.commit()
        return PrintSetup(manager.email, area.id, organisation.id, manager.id, numbers)


def _copies(session: Any, inspector: Any, area: Any, version: Any, count: int) -> list[str]:
    from sqlalchemy import func, inspect, select

    from audit.buildings.services import create_building
    from audit.certificates.addresses import new_token
    from audit.certificates.models import Certificate, CertificateCounter
    from audit.certificates.numbering import format_number
    from audit.inspections.models import InspectionKind
    from audit.inspections.services import start_inspection

    if not count:
        return []
    model = session.scalars(select(Certificate).order_by(Certificate.id.desc())).first()
    columns = {attr.key: getattr(model, attr.key) for attr in inspect(Certificate).column_attrs if attr.key != "id"}
    last = session.scalar(select(func.max(Certificate.sequence)).where(Certificate.year == model.year))
    numbers = []
    for offset in range(1, count + 1):
        street = f"Kopiavägen {offset}"
        building = create_building(
            session, model.organisation, name=street, street_address=street, postcode="145 59", city="Norsborg",
            area=area, features=set(),
        )
        inspection = start_inspection(session, inspector, building, InspectionKind.certification, version)
        sequence = last + offset
        number = format_number(model.year, sequence)
        session.add(
            Certificate(
                **{
                    **columns,
                    "number": number,
                    "sequence": sequence,
                    "building_id": building.id,
                    "inspection_id": inspection.id,
                    "street_address": street,
                    "public_token": new_token(),
                    "supersedes_id": None,
                }
            )
        )
        numbers.append(number)
    session.get(CertificateCounter, model.year).last_sequence = last + count
    session.flush()
    return numbers


def start_batch(client: FlaskClient, area_id: int, output_format: str = "pdf") -> int:
    """Start printing an area's signs on the certificates page, as a manager does; returns the job's id."""
    response = client.post(
        "/certificates/batch",
        data={
            "csrf_token": csrf_token(client, "/certificates/"),
            "area": str(area_id),
            "format": output_format,
            "size": "A4",
            "language": "sv",
        },
    )
    assert response.status_code == 303, response.get_data(as_text=True)[:300]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def progress(client: FlaskClient, job_id: int) -> dict[str, Any]:
    state: dict[str, Any] = client.get(f"/certificates/batch/{job_id}/progress").get_json()
    return state


def poll(
    client: FlaskClient,
    job_id: int,
    until: Callable[[dict[str, Any]], bool],
    timeout: float = JOB_TIMEOUT,
    interval: float = 0.05,
    logs: Callable[[], str] = str,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Poll the job's progress page until `until(state)`; returns the last state and every state seen."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = progress(client, job_id)
        seen.append(state)
        if until(state):
            return state, seen
        time.sleep(interval)
    raise AssertionError(f"job {job_id} did not get there within {timeout:.0f} s: {seen[-1:]}\n{logs()}")


def ended(state: dict[str, Any]) -> bool:
    return state["status"] in ("finished", "failed")


# --- processes ---------------------------------------------------------------------------------------------------


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log: Path

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def terminate(self) -> None:
        """SIGTERM, as a service manager stops it: huey interrupts the running job and the worker exits. Returns
        once every process of the group is gone (a worker process may outlive the consumer by a moment)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=15)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                os.killpg(self.process.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        raise AssertionError(f"the worker's processes did not stop:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL the worker and its worker processes at once: nothing of it runs any more, nothing is cleaned up."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


@contextlib.contextmanager
def job_worker(env: dict[str, str], folder: Path, *args: str) -> Iterator[Worker]:
    """`tryggahus worker ARGS` in a process group of its own, stopped (SIGTERM, then SIGKILL) at the end."""
    log = folder / f"worker-{time.monotonic_ns()}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(BIN / "tryggahus"), "worker", *args],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    worker = Worker(process, log)
    try:
        yield worker
    finally:
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.kill()
        with contextlib.suppress(ProcessLookupError):  # worker processes left behind by a SIGTERMed consumer
            os.killpg(process.pid, signal.SIGKILL)


def redis_server_binary() -> str | None:
    return shutil.which("redis-server")


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[str]:
    """A Redis server of this test's own on a free loopback port, without persistence; yields its URL."""
    import redis

    binary = redis_server_binary()
    assert binary, "redis-server is not installed (apt-get install -y redis-server)"
    port = free_port()
    log = folder / f"redis-{port}.log"
    command = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=folder, stdout=output, stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 15
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"redis-server did not start:\n{log.read_text()}") from None
                time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
