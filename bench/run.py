"""`make bench`: serve a fresh demo database under gunicorn and measure the app against the stack's own limit.

For each database (a new SQLite file; and a new PostgreSQL schema, dropped afterwards, when BENCH_DATABASE_URL or
TEST_DATABASE_URL is set) the bench runs `tryggahus init` and `tryggahus demo` in a temporary instance folder,
creates an API token for the demo inspector, and starts two servers on free loopback ports with the same gunicorn
settings (sync workers, `--workers`): the app, and the baseline — a minimal Flask app (`bench/hello.py`), the
stack's own limit on this machine. It drives them with wrk (`bench/wrk.py`; Debian's `wrk`, 8 connections over 2
threads by default), or with Python threads when wrk is not installed (`--generator python`, a fallback that
itself costs the server's CPU and so flatters the app):

1. baseline: GET / of the minimal Flask app
2. healthz: GET /healthz of the app (its hooks and, where it checks one, the database)
3. autosave: PUT /api/v1/inspections/<draft>/answers/<item> with a bearer token and a new Idempotency-Key each time
4. autosave in batches: POST /api/v1/inspections/<draft>/answers with 20 answers a request, each with its own key
   (what the offline outbox sends): its answers per second are reported besides, as a share of the baseline's
   requests per second
5. section page: GET /inspections/<draft>/sections/<key> with a logged-in session cookie
6. task list: GET /tasks/ (the manager's remediation list, a page of 50 sorted by severity) with 10,000 tasks
   added to the demo organisation

Baseline, autosave and the section page run in interleaved rounds (three by default): the machine's speed drifts
by several per cent within a minute, so each round's throughput share is taken against the baseline measured
beside it, and the median share is reported. Autosave and the section page are then measured once more with one
client per worker, which shows the latency the endpoint itself adds without waiting for a worker (with N clients
on a saturated server every request also waits for the others: latency ≈ N ÷ throughput).

Targets (from the scale issue): autosave ≥ 25 % of the baseline's throughput with p99 ≤ 25 ms at 8 connections,
the section page ≥ 30 %. It prints a markdown table and writes bench-results/results.json. Targets are reported as
PASS or MISS and never fail the run; the exit status is 1 only when the bench itself breaks (setup fails, a server
does not start, or more than 1 % of the requests of a scenario fail).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import math
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import wrk
from wrk import Load

ROOT = Path(__file__).resolve().parent.parent
#: The virtual environment's scripts: run this file with `.venv/bin/python`.
BIN = Path(sys.executable).parent
HOST = "127.0.0.1"
INSPECTOR_EMAIL = "inspector@demo.example"
INSPECTOR_PASSWORD = "trygga-inspector"  # noqa: S105  (the documented demo account)
MANAGER_EMAIL = "manager@demo.example"
MANAGER_PASSWORD = "trygga-manager"  # noqa: S105  (the documented demo account)
#: Remediation tasks the demo organisation gets on top of the demo's own, for the manager's task list scenario.
TASK_LOAD = 10_000
CHECKLIST_FILE = ROOT / "checklists" / "trygga-hus.yaml"
#: Largest error share a scenario may have before the run counts as broken.
MAX_ERROR_RATE = 0.01
#: Hard cap of requests per scenario, whatever the duration.
MAX_REQUESTS = 500_000
#: Per-request socket timeout, seconds.
REQUEST_TIMEOUT = 10.0
SETUP_TIMEOUT = 90.0


class BenchBroken(Exception):
    """The bench could not measure (as opposed to: it measured and a target was missed)."""


# --- targets ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    scenario: str
    #: "ratio" (throughput share of the baseline, the median of the rounds' shares) or "p99_ms" (latency at the
    #: bench's connections, `--clients`)
    metric: str
    bound: float
    text: str

    def check(self, result: dict[str, Any]) -> tuple[float, bool]:
        if self.metric == "ratio":
            value = result["ratio_to_baseline"]
            return value, value >= self.bound
        value = result["p99_ms"]
        return value, value <= self.bound


#: Answers in each request of the batched autosave scenario (what an outbox sends after a while offline).
BATCH_SIZE = 20
TARGETS = [
    Target("autosave", "ratio", 0.25, "autosave throughput ≥ 25% of baseline"),
    Target("autosave", "p99_ms", 25.0, "autosave p99 ≤ 25 ms at the bench's connections (8)"),
    Target("section_page", "ratio", 0.30, "section page throughput ≥ 30% of baseline"),
]
#: Measured in interleaved rounds (baseline, autosave, section page, baseline, …): the machine's speed drifts by
#: several per cent within a minute, and each round's share is taken against the baseline measured next to it.
ROUNDS_OF = ("baseline", "autosave", "section_page")
#: Scenarios measured a second time with one client per worker: their latency without queueing for a worker.
PACED = ("autosave", "section_page")


# --- a fresh database ---------------------------------------------------------------------------------------------


def database_kinds() -> list[tuple[str, str | None]]:
    kinds: list[tuple[str, str | None]] = [("sqlite", None)]
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if base:
        kinds.append(("postgresql", base))
    return kinds


def fresh_database(kind: str, base_url: str | None, folder: Path) -> contextlib.AbstractContextManager[str]:
    """An empty database: a new SQLite file, or a new PostgreSQL schema that is dropped afterwards."""
    from audit.database import scratch_database

    return scratch_database(folder, base_url if kind == "postgresql" else None, "bench")


# --- the app: commands and the server -----------------------------------------------------------------------------


def app_environment(folder: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRYGGAHUS_")}
    env.update(
        TRYGGAHUS_ENV="development",
        TRYGGAHUS_INSTANCE_PATH=str(folder),
        TRYGGAHUS_DATABASE_URL=database_url,
        TRYGGAHUS_SECRET_KEY=secrets.token_hex(32),
    )
    return env


def tryggahus(env: dict[str, str], *args: str, timeout: float = SETUP_TIMEOUT) -> str:
    result = subprocess.run(  # noqa: S603  (our own console script, fixed arguments)
        [str(BIN / "tryggahus"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        raise BenchBroken(f"tryggahus {' '.join(args)} failed ({result.returncode}): {result.stderr.strip()[-800:]}")
    return result.stdout


def api_token(env: dict[str, str]) -> str:
    """A bearer token for the demo inspector, from `tryggahus token create`."""
    output = tryggahus(env, "token", "create", "--email", INSPECTOR_EMAIL, "--name", "bench")
    token = output.strip().splitlines()[-1].strip() if output.strip() else ""
    if not token:
        raise BenchBroken("no API token was printed")
    return token


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


class Server:
    """gunicorn with sync workers on a loopback port; always stopped by `stop()` (also after errors)."""

    def __init__(
        self, env: dict[str, str], folder: Path, workers: int, app: str = "wsgi:app", ready_path: str = "/healthz"
    ) -> None:
        self.port = free_port()
        self.ready_path = ready_path
        self.log = folder / f"gunicorn-{app.partition(':')[0]}.log"
        # The same settings for the app and for the baseline (bench/hello.py, found through --pythonpath).
        command = [
            str(BIN / "gunicorn"),
            "-w",
            str(workers),
            "-b",
            f"{HOST}:{self.port}",
            "--pythonpath",
            str(ROOT / "bench"),
            app,
        ]
        with self.log.open("wb") as log:  # gunicorn logs errors to stderr: kept to explain a failed start
            self.process = subprocess.Popen(  # noqa: S603  (our own server, fixed arguments)
                command,
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchBroken(f"gunicorn exited with {self.process.returncode}:\n{self.log_tail()}")
            with contextlib.suppress(OSError, http.client.HTTPException):
                status, _headers, _body = request(HOST, self.port, "GET", self.ready_path)
                if status == 200:
                    return
            time.sleep(0.2)
        raise BenchBroken(f"gunicorn did not answer {self.ready_path} within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)  # the master stops its workers gracefully
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)  # our own session: the master and its workers
            self.process.wait(timeout=5)


# --- HTTP ---------------------------------------------------------------------------------------------------------


def request(
    host: str, port: int, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None
) -> tuple[int, http.client.HTTPMessage, bytes]:
    connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


def json_request(port: int, method: str, path: str, token: str, payload: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    body = None
    if payload is not None:
        body = json.dumps(payload).encode()
        headers["Content-Type"] = "application/json"
    if method != "GET":
        headers["Idempotency-Key"] = f"bench-setup-{uuid.uuid4()}"
    status, _headers, data = request(HOST, port, method, path, body, headers)
    return status, json.loads(data) if data else None


def session_cookie(headers: http.client.HTTPMessage) -> str | None:
    for value in headers.get_all("Set-Cookie") or []:
        name, _, rest = value.partition("=")
        if name.strip() == "session":
            return rest.split(";", 1)[0]
    return None


def log_in(port: int, email: str = INSPECTOR_EMAIL, password: str = INSPECTOR_PASSWORD) -> str:
    """Log in (as the demo inspector unless told otherwise) through the login form; the session cookie's value."""
    status, headers, page = request(HOST, port, "GET", "/login")
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    cookie = session_cookie(headers)
    if status != 200 or match is None or cookie is None:
        raise BenchBroken(f"the login form was not served as expected (status {status})")
    form = urlencode({"csrf_token": match.group(1).decode(), "email": email, "password": password}).encode()
    status, headers, _page = request(
        HOST,
        port,
        "POST",
        "/login",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"session={cookie}",
        },
    )
    cookie = session_cookie(headers)
    if status != 302 or cookie is None:
        raise BenchBroken(f"logging in as {email} failed (status {status})")
    return cookie


# --- the load generator -------------------------------------------------------------------------------------------

#: (method, path, body, headers) for one request of one client; the arguments are the client's number and its
#: request count so far.
RequestFactory = Callable[[int, int], tuple[str, str, bytes | None, dict[str, str]]]


@dataclass
class ClientLog:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0


def _client(
    port: int,
    number: int,
    make: RequestFactory,
    expect: int,
    measure_from: float,
    until: float,
    budget: threading.Semaphore,
    log: ClientLog,
) -> None:
    connection = http.client.HTTPConnection(HOST, port, timeout=REQUEST_TIMEOUT)
    sequence = 0
    try:
        while time.perf_counter() < until and budget.acquire(blocking=False):
            method, path, body, headers = make(number, sequence)
            sequence += 1
            started = time.perf_counter()
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = str(response.status)
                ok = response.status == expect
                if response.will_close:  # gunicorn's sync workers close every connection; reconnect next time
                    connection.close()
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                status, ok = type(exc).__name__, False
            finished = time.perf_counter()
            if started >= measure_from and finished <= until:
                log.latencies.append(finished - started)
                log.statuses[status] += 1
                log.errors += 0 if ok else 1
    finally:
        connection.close()


def percentile(sorted_values: list[float], share: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return math.nan
    return sorted_values[max(0, math.ceil(share * len(sorted_values)) - 1)]


def measure(
    port: int, make: RequestFactory, *, expect: int, clients: int, warmup: float, duration: float
) -> dict[str, Any]:
    """Run `clients` threads for warm-up + duration seconds; only requests wholly inside the duration count."""
    start = time.perf_counter()
    measure_from, until = start + warmup, start + warmup + duration
    budget = threading.Semaphore(MAX_REQUESTS)
    logs = [ClientLog() for _ in range(clients)]
    threads = [
        threading.Thread(
            target=_client, args=(port, n, make, expect, measure_from, until, budget, logs[n]), daemon=True
        )
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=warmup + duration + REQUEST_TIMEOUT + 5)
    if any(thread.is_alive() for thread in threads):
        raise BenchBroken("a load generator thread did not finish in time")
    latencies = sorted(latency for log in logs for latency in log.latencies)
    statuses: Counter[str] = Counter()
    for log in logs:
        statuses.update(log.statuses)
    return summary(latencies, statuses, sum(log.errors for log in logs), duration)


def summary(latencies: list[float], statuses: Counter[str], errors: int, duration: float) -> dict[str, Any]:
    """Throughput, percentiles and errors of one or more measured windows (`latencies` sorted, seconds)."""
    count = len(latencies)
    return {
        "requests": count,
        "duration_s": duration,
        "throughput_rps": round(count / duration, 1),
        "p50_ms": round(percentile(latencies, 0.50) * 1000, 2),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 2),
        "errors": errors,
        "error_rate": round(errors / count, 4) if count else 1.0,
        "statuses": dict(sorted(statuses.items())),
        "latencies": latencies,
    }


def pooled(windows: list[dict[str, Any]]) -> dict[str, Any]:
    """Several measured windows of one scenario as one. With the Python generator the latencies are pooled; wrk
    reports percentiles per window, so its pooled p50 is the windows' median and its p99 their worst."""
    statuses: Counter[str] = Counter()
    for window in windows:
        statuses.update(window["statuses"])
    errors = sum(window["errors"] for window in windows)
    duration = sum(window["duration_s"] for window in windows)
    if all("latencies" in window for window in windows):
        latencies = sorted(latency for window in windows for latency in window["latencies"])
        return summary(latencies, statuses, errors, duration) | {"generator": "python"}
    requests = sum(window["requests"] for window in windows)
    return {
        "requests": requests,
        "duration_s": round(duration, 3),
        "throughput_rps": round(requests / duration, 1) if duration else 0.0,
        "p50_ms": round(statistics.median(window["p50_ms"] for window in windows), 2),
        "p99_ms": max(window["p99_ms"] for window in windows),
        "errors": errors,
        "error_rate": round(errors / requests, 4) if requests else 1.0,
        "statuses": dict(sorted(statuses.items())),
        "generator": "wrk",
    }


# --- the scenarios ------------------------------------------------------------------------------------------------


def pass_fail_items(features: list[str]) -> list[str]:
    """Keys of the checklist's pass/fail items that apply to a building with these features."""
    from audit.buildings.features import Feature
    from audit.checklists.loader import load_checklist
    from audit.checklists.schema import AnswerType, is_applicable

    have = {Feature(f) for f in features}
    checklist = load_checklist(CHECKLIST_FILE).checklist
    return [
        item.key
        for section, item in checklist.items()
        if is_applicable(section, item, have) and item.answer.type == AnswerType.pass_fail
    ]


@dataclass
class Fixture:
    """What the scenarios need: a draft inspection of the inspector's, its pass/fail items and a section key."""

    inspection_id: int
    items: list[str]
    section: str
    section_items: int
    token: str
    cookie: str
    #: The demo manager's session, for the task list.
    manager_cookie: str = ""


def add_task_load(database_url: str, count: int = TASK_LOAD) -> None:
    """Give the demo organisation `count` more remediation tasks (Core inserts, see audit.remediation.bulk)."""
    from sqlalchemy import select

    from audit.accounts.models import Organisation
    from audit.database import make_engine
    from audit.remediation.bulk import add_synthetic_tasks

    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            organisation = connection.scalar(select(Organisation.id).where(Organisation.slug == "demo"))
            add_synthetic_tasks(connection, organisation, count)
    finally:
        engine.dispose()


def prepare(port: int, token: str, search: str | None = None) -> Fixture:
    """A draft of the building with the most features (of those whose name or address contains `search`)."""
    query = f"?{urlencode({'q': search})}" if search else ""
    status, listing = json_request(port, "GET", f"/api/v1/buildings{query}", token)
    if status != 200 or not listing["buildings"]:
        raise BenchBroken(f"GET /api/v1/buildings answered {status}")
    building = max(listing["buildings"], key=lambda b: len(b["features"]))  # the building with the most to inspect
    status, inspection = json_request(port, "POST", "/api/v1/inspections", token, {"building_id": building["id"]})
    if status != 201:
        raise BenchBroken(f"starting an inspection answered {status}: {inspection}")
    items = pass_fail_items(building["features"])
    sections = [s for s in inspection["progress"]["sections"] if s["applicable"]]
    if not items or not sections:
        raise BenchBroken("the demo building has no applicable pass/fail items")
    path = f"/api/v1/inspections/{inspection['id']}/answers/{items[0]}"
    status, answer = json_request(port, "PUT", path, token, {"result": "pass"})
    if status != 200:
        raise BenchBroken(f"a first autosave answered {status}: {answer}")
    return Fixture(inspection["id"], items, sections[0]["key"], sections[0]["total"], token, log_in(port))


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    load: Load
    #: "app" or "baseline": which server it is sent to.
    server: str = "app"
    #: Answers each request saves (the batch endpoint's): its answers per second are reported besides.
    answers_per_request: int = 0


def batch_body(items: list[str], start: int) -> bytes:
    """A batch of BATCH_SIZE pass answers, each with its own key (made new for every request by the generator)."""
    chosen = [items[(start + n) % len(items)] for n in range(BATCH_SIZE)]
    answers = [
        {"key": f"{wrk.KEY_PLACEHOLDER}-{n}", "item_key": item, "result": "pass"} for n, item in enumerate(chosen)
    ]
    return json.dumps({"answers": answers}).encode()


def scenarios(fixture: Fixture) -> list[Scenario]:
    inspection = fixture.inspection_id
    return [
        Scenario(
            "baseline",
            "GET / of a minimal Flask app (bench/hello.py), same gunicorn settings",
            Load("GET", ("/",), 200),
            server="baseline",
        ),
        Scenario("healthz", "GET /healthz of the app", Load("GET", ("/healthz",), 200)),
        Scenario(
            "autosave",
            "PUT /api/v1/inspections/<id>/answers/<item> (bearer, new Idempotency-Key)",
            Load(
                "PUT",
                tuple(f"/api/v1/inspections/{inspection}/answers/{item}" for item in fixture.items),
                200,
                {"Authorization": f"Bearer {fixture.token}", "Content-Type": "application/json"},
                tuple(json.dumps({"result": r, "comment": None}).encode() for r in ("pass", "fail")),
                new_key_each_time=True,
            ),
        ),
        Scenario(
            "autosave_batch",
            f"POST /api/v1/inspections/<id>/answers, {BATCH_SIZE} answers a request, each with its own key (bearer)",
            Load(
                "POST",
                (f"/api/v1/inspections/{inspection}/answers",),
                200,
                {"Authorization": f"Bearer {fixture.token}", "Content-Type": "application/json"},
                tuple(batch_body(fixture.items, start) for start in range(0, len(fixture.items), 7)),
                keyed_bodies=True,
            ),
            answers_per_request=BATCH_SIZE,
        ),
        Scenario(
            "section_page",
            f"GET /inspections/<id>/sections/{fixture.section} (session cookie)",
            Load(
                "GET",
                (f"/inspections/{inspection}/sections/{fixture.section}",),
                200,
                {"Cookie": f"session={fixture.cookie}"},
            ),
        ),
        Scenario(
            "task_list",
            f"GET /tasks/?sort=-severity&page=<1–20> ({TASK_LOAD:,} tasks more, manager)",
            Load(
                "GET",
                tuple(f"/tasks/?sort=-severity&page={n}" for n in range(1, 21)),
                200,
                {"Cookie": f"session={fixture.manager_cookie}"},
            ),
        ),
    ]


def python_requests(load: Load, clients: int) -> RequestFactory:
    """The Python fallback's requests for a load: each client its own share of the paths, as with wrk."""
    own = [load.paths[n::clients] or load.paths for n in range(clients)]

    def make(n: int, i: int) -> tuple[str, str, bytes | None, dict[str, str]]:
        headers, key = dict(load.headers), uuid.uuid4().hex
        if load.new_key_each_time:
            headers["Idempotency-Key"] = key
        body = load.bodies[i % len(load.bodies)] if load.bodies else None
        if body is not None and load.keyed_bodies:
            body = body.replace(wrk.KEY_PLACEHOLDER.encode(), key.encode())
        return load.method, own[n][i % len(own[n])], body, headers

    return make


def measure_window(port: int, load: Load, *, clients: int, args: argparse.Namespace) -> dict[str, Any]:
    """One measured window: a warm-up, then `args.duration` seconds, with wrk (or the Python threads)."""
    if args.generator == "wrk":
        common = {"clients": clients, "threads": args.wrk_threads, "run_id": uuid.uuid4().hex[:12]}
        if args.warmup > 0:
            wrk.run(port, load, duration=args.warmup, **common)
        return wrk.run(port, load, duration=args.duration, **common)
    window = measure(
        port,
        python_requests(load, clients),
        expect=load.expect,
        clients=clients,
        warmup=args.warmup,
        duration=args.duration,
    )
    window["generator"] = "python"
    return window


def measure_scenarios(
    ports: dict[str, int], planned: list[Scenario], args: argparse.Namespace, kind: str
) -> dict[str, Any]:
    """Every scenario's figures: ROUNDS_OF in interleaved rounds, the others once, PACED again unqueued."""
    windows: dict[str, list[dict[str, Any]]] = {scenario.name: [] for scenario in planned}

    def run(scenario: Scenario, clients: int) -> dict[str, Any]:
        return measure_window(ports[scenario.server], scenario.load, clients=clients, args=args)

    for round_number in range(1, args.rounds + 1):
        for scenario in planned:
            if scenario.name in ROUNDS_OF:
                print(f"  {kind}: {scenario.name}, round {round_number} …", file=sys.stderr, flush=True)
                windows[scenario.name].append(run(scenario, args.clients))
    results: dict[str, Any] = {}
    for scenario in planned:
        name = scenario.name
        if not windows[name]:
            print(f"  {kind}: {name} …", file=sys.stderr, flush=True)
            windows[name].append(run(scenario, args.clients))
        results[name] = {"request": scenario.description, **pooled(windows[name])}
        if len(windows[name]) == len(windows["baseline"]):  # each round against the baseline next to it
            pairs = zip(windows[name], windows["baseline"], strict=True)
            shares = [window["throughput_rps"] / baseline["throughput_rps"] for window, baseline in pairs]
        else:  # measured once: against all the baseline's rounds
            shares = [results[name]["throughput_rps"] / results["baseline"]["throughput_rps"]]
        results[name]["round_ratios"] = [round(share, 3) for share in shares]
        results[name]["ratio_to_baseline"] = round(statistics.median(shares), 3)
        if scenario.answers_per_request:
            per_second = results[name]["throughput_rps"] * scenario.answers_per_request
            results[name]["answers_per_request"] = scenario.answers_per_request
            results[name]["answers_per_s"] = round(per_second, 1)
            results[name]["answers_ratio_to_baseline"] = round(per_second / results["baseline"]["throughput_rps"], 3)
        if name in PACED:
            print(f"  {kind}: {name}, one client per worker …", file=sys.stderr, flush=True)
            paced = run(scenario, args.workers)
            results[name]["paced"] = {
                key: paced[key] for key in ("requests", "throughput_rps", "p50_ms", "p99_ms", "errors")
            } | {"clients": args.workers}
    for result in results.values():
        result.pop("latencies", None)
    return results


def bench_database(kind: str, base_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"tryggahus-bench-{kind}-"))
    try:
        with fresh_database(kind, base_url, folder) as url:
            env = app_environment(folder, url)
            began = time.monotonic()
            tryggahus(env, "init")
            tryggahus(env, "demo")
            add_task_load(url)
            token = api_token(env)
            setup_s = time.monotonic() - began
            server = Server(env, folder, args.workers)
            baseline = Server(env, folder, args.workers, app="hello:app", ready_path="/")
            try:
                server.wait_ready()
                baseline.wait_ready()
                fixture = prepare(server.port, token)
                fixture.manager_cookie = log_in(server.port, MANAGER_EMAIL, MANAGER_PASSWORD)
                ports = {"app": server.port, "baseline": baseline.port}
                results = measure_scenarios(ports, scenarios(fixture), args, kind)
            finally:
                server.stop()
                baseline.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    targets = []
    for target in TARGETS:
        value, met = target.check(results[target.scenario])
        targets.append(
            {
                "target": target.text,
                "scenario": target.scenario,
                "metric": target.metric,
                "bound": target.bound,
                "value": value,
                "met": met,
            }
        )
    return {
        "database": kind,
        "setup_s": round(setup_s, 1),
        "section": fixture.section,
        "section_items": fixture.section_items,
        "scenarios": results,
        "targets": targets,
    }


# --- the report ---------------------------------------------------------------------------------------------------


def rounds(shares: list[float]) -> str:
    """ " (24 / 27 / 31 %)": each round's share in the order measured, when there was more than one."""
    return f" ({' / '.join(f'{share:.0%}'.rstrip('%') for share in shares)} %)" if len(shares) > 1 else ""


def markdown(run: dict[str, Any]) -> str:
    lines = [
        f"### {run['database']}",
        "",
        "| scenario | requests | req/s | p50 ms | p99 ms | errors | vs baseline (rounds) "
        "| p50 / p99 ms, 1 client per worker |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in run["scenarios"].items():
        paced = r.get("paced")
        unqueued = f"{paced['p50_ms']:.2f} / {paced['p99_ms']:.2f}" if paced else "–"
        lines.append(
            f"| {name} | {r['requests']} | {r['throughput_rps']:.1f} | {r['p50_ms']:.2f} | "
            f"{r['p99_ms']:.2f} | {r['errors']} | {r['ratio_to_baseline']:.0%}{rounds(r['round_ratios'])} "
            f"| {unqueued} |"
        )
    lines.append("")
    for name, r in run["scenarios"].items():
        if "answers_per_s" in r:
            lines.append(
                f"- {name}: {r['answers_per_s']:.0f} answers/s ({r['answers_per_request']} a request), "
                f"{r['answers_ratio_to_baseline']:.0%} of the baseline's requests/s as answers/s"
            )
    for t in run["targets"]:
        shown = f"{t['value']:.0%}" if t["metric"] == "ratio" else f"{t['value']:.1f} ms"
        lines.append(f"- {'PASS' if t['met'] else 'MISS'} — {t['target']} (measured {shown})")
    return "\n".join(lines)


def write_report(output: Path, runs: list[dict[str, Any]]) -> None:
    """A later part's figures as JSON in bench-results/, stamped with the time."""
    output.parent.mkdir(parents=True, exist_ok=True)
    report = {"generated_at": datetime.now(UTC).isoformat(timespec="seconds"), "runs": runs}
    output.write_text(json.dumps(report, indent=2) + "\n")


def git_commit() -> str | None:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],  # noqa: S607 (git from PATH, fixed arguments)
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        return result.stdout.strip() or None
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per scenario (default 1)")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per scenario (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of the targets' scenarios (3)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench-results" / "results.json")
    parser.add_argument(
        "--generator",
        choices=("wrk", "python"),
        default="wrk" if wrk.available() else "python",
        help="load generator: wrk (native, the default when installed) or Python threads (the fallback)",
    )
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2, one per core)")
    args = parser.parse_args(argv)
    if args.generator == "wrk" and not wrk.available():
        parser.error("wrk is not installed (apt-get install -y wrk), use --generator python")
    if not (
        1 <= args.clients <= 64
        and 0 <= args.warmup <= 10
        and 0.5 <= args.duration <= 30
        and 1 <= args.workers <= 16
        and 1 <= args.rounds <= 9
    ):
        parser.error("keep it small: 1–64 clients, 0–10 s warm-up, 0.5–30 s duration, 1–16 workers, 1–9 rounds")
    return args


def _interrupted(_signal: int, _frame: object) -> None:
    """A TERM (from make, CI or a timeout) unwinds like Ctrl-C, so the server is always stopped."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupted)
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": git_commit(),
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "settings": {
            "clients": args.clients,
            "warmup_s": args.warmup,
            "duration_s": args.duration,
            "gunicorn_workers": args.workers,
            "rounds": args.rounds,
            "generator": args.generator,
            "max_error_rate": MAX_ERROR_RATE,
        },
        "runs": [],
    }
    broken: list[str] = []
    for kind, base_url in database_kinds():
        print(f"bench on {kind}: setting up …", file=sys.stderr, flush=True)
        try:
            run = bench_database(kind, base_url, args)
        except Exception as exc:  # whatever broke the bench (setup, database, server) is reported, not measured
            if not isinstance(exc, BenchBroken):
                exc = BenchBroken(f"{type(exc).__name__}: {exc}")
            broken.append(f"{kind}: {exc}")
            report["runs"].append({"database": kind, "broken": str(exc)})
            continue
        for name, result in run["scenarios"].items():
            if result["error_rate"] > MAX_ERROR_RATE:
                broken.append(
                    f"{kind}: {name} had {result['errors']} errors in {result['requests']} requests "
                    f"({result['statuses']})"
                )
            paced = result.get("paced")
            if paced and paced["errors"] > MAX_ERROR_RATE * max(paced["requests"], 1):
                broken.append(f"{kind}: {name} had {paced['errors']} errors in {paced['requests']} paced requests")
        report["runs"].append(run)
        print(markdown(run) + "\n", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {args.output}", file=sys.stderr)
    for problem in broken:
        print(f"bench broken — {problem}", file=sys.stderr)
    return 1 if broken else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench interrupted", file=sys.stderr)
        sys.exit(130)
