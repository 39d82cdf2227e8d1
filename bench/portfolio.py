"""`make bench`, third part: the manager's pages and the inspector's autosave at portfolio scale, on PostgreSQL.

Only with a PostgreSQL URL (BENCH_DATABASE_URL or TEST_DATABASE_URL): in a new schema (dropped afterwards) it runs
`tryggahus init` and `tryggahus demo --scale 10000` (10,000 buildings in 50 areas, 50,000 inspections with their
answers, about 100,000 tasks, 8,000 certificates, photos; `audit/portfolio.py`), then VACUUM ANALYZE, as autovacuum
would do some time after such a load. It serves the app and the baseline (`bench/hello.py`) with the same gunicorn
settings as `bench/run.py`, whose `Server`, `log_in`, `prepare` and rounds it reuses, and drives them with wrk
(`bench/wrk.py`).

For each page (the dashboard, the buildings list, the inspection list, the manager's task list; each cycling
through several filters and pages) it reports the latency with one connection (p50, p99: the server's time plus a
loopback round trip), the throughput with 8 connections, and the number of SQL statements of each of its
requests (counted in this process through the same app, against the same database). Autosave and the section page
of a draft of a demo building are measured as in `bench/run.py`: interleaved rounds against the baseline, and
reported as its shares. Targets (≤ 100 ms per page) are reported as PASS or MISS and never fail the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import run
import wrk
from wrk import Load

SCALE = 10_000
#: Generating the portfolio takes minutes on a 2-core machine; this is the bench's patience.
GENERATION_TIMEOUT = 1800.0
PAGE_TARGET_MS = 100.0
#: A demo building with every feature the walk has sections for; portfolio buildings may have drafts already.
DRAFT_BUILDING = "Krögarvägen 5"


def pages(area_id: int) -> dict[str, tuple[str, ...]]:
    """Each page's requests: its first page, filtered and paged, cycled by the load generator."""
    return {
        "dashboard": ("/tasks/dashboard", "/tasks/dashboard?page=2", "/tasks/dashboard?page=100"),
        "buildings": (
            "/buildings/",
            "/buildings/?page=7",
            "/buildings/?page=150",
            f"/buildings/?area={area_id}",
            "/buildings/?" + urlencode({"q": "gatan"}),
        ),
        "inspections": (
            "/inspections/",
            f"/inspections/?area={area_id}",
            "/inspections/?status=submitted",
            "/inspections/?page=20",
            f"/inspections/?area={area_id}&status=approved&page=2",
        ),
        "task_list": (
            "/tasks/",
            "/tasks/?sort=-severity&page=7",
            "/tasks/?page=20",
            f"/tasks/?area={area_id}&unverified=1",
            "/tasks/?overdue=1&sort=building",
        ),
    }


@contextmanager
def environment(env: dict[str, str]) -> Any:
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def statements_and_area(env: dict[str, str]) -> tuple[Any, int]:
    """An app on the bench's database (in this process) and the id of one of the portfolio's areas."""
    from sqlalchemy import select

    with environment(env):
        from audit import create_app
        from audit.buildings.models import Area

        app = create_app()
    with app.app_context():
        from audit.extensions import db

        area_id = db.session.scalar(select(Area.id).where(Area.name == "Rinkeby"))
    if area_id is None:
        raise run.BenchBroken("the portfolio's area Rinkeby is missing")
    return app, area_id


def count_statements(app: Any, paths: dict[str, tuple[str, ...]]) -> dict[str, dict[str, Any]]:
    """Per page, the SQL statements of each request and the in-process time (median of 5), as the manager."""
    from sqlalchemy import event

    engine = app.extensions["tryggahus.database"].engine
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    client = app.test_client()
    form = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    if token is None:
        raise run.BenchBroken("no login form")
    answer = client.post(
        "/login",
        data={"email": run.MANAGER_EMAIL, "password": run.MANAGER_PASSWORD, "csrf_token": token.group(1)},
    )
    if answer.status_code != 302:
        raise run.BenchBroken(f"the manager could not log in ({answer.status_code})")
    event.listen(engine, "before_cursor_execute", count)
    results: dict[str, dict[str, Any]] = {}
    try:
        for name, page_paths in paths.items():
            counts, times = [], []
            for path in page_paths:
                durations = []
                for _ in range(5):
                    seen.clear()
                    began = time.perf_counter()
                    response = client.get(path)
                    durations.append(time.perf_counter() - began)
                    if response.status_code != 200:
                        raise run.BenchBroken(f"{path} answered {response.status_code}")
                counts.append(len(seen))
                times.append(round(statistics.median(durations) * 1000, 1))
            results[name] = {"paths": list(page_paths), "statements": counts, "in_process_ms": times}
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return results


def vacuum(url: str) -> None:
    """VACUUM ANALYZE the new schema (outside a transaction): visibility maps and statistics, as autovacuum
    would leave them."""
    from sqlalchemy import text

    from audit.database import make_engine

    engine = make_engine(url)
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    finally:
        engine.dispose()


def measure_page(port: int, cookie: str, page_paths: tuple[str, ...], args: argparse.Namespace) -> dict[str, Any]:
    load = Load("GET", page_paths, 200, {"Cookie": f"session={cookie}"})
    one = run.measure_window(port, load, clients=1, args=args)
    many = run.measure_window(port, load, clients=args.clients, args=args)
    for window in (one, many):
        if window["errors"] > run.MAX_ERROR_RATE * max(window["requests"], 1):
            raise run.BenchBroken(f"{page_paths[0]}: {window['errors']} errors in {window['requests']} requests")
    return {
        "p50_ms": one["p50_ms"],
        "p99_ms": one["p99_ms"],
        "throughput_rps": many["throughput_rps"],
        "requests": one["requests"] + many["requests"],
    }


def bench(base_url: str, args: argparse.Namespace) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="tryggahus-bench-portfolio-"))
    try:
        with run.fresh_database("postgresql", base_url, folder) as url:
            env = run.app_environment(folder, url)
            began = time.monotonic()
            run.tryggahus(env, "init")
            generated = run.tryggahus(env, "demo", "--scale", str(args.scale), timeout=GENERATION_TIMEOUT)
            generation_s = time.monotonic() - began
            print(f"  {generated.strip().splitlines()[-1]}", file=sys.stderr, flush=True)
            began = time.monotonic()
            vacuum(url)
            vacuum_s = time.monotonic() - began
            token = run.api_token(env)
            app, area_id = statements_and_area(env)
            paths = pages(area_id)
            counted = count_statements(app, paths)
            app.extensions["tryggahus.database"].engine.dispose()
            server = run.Server(env, folder, args.workers)
            baseline = run.Server(env, folder, args.workers, app="hello:app", ready_path="/")
            try:
                server.wait_ready()
                baseline.wait_ready()
                fixture = run.prepare(server.port, token, DRAFT_BUILDING)
                fixture.manager_cookie = run.log_in(server.port, run.MANAGER_EMAIL, run.MANAGER_PASSWORD)
                ports = {"app": server.port, "baseline": baseline.port}
                planned = [s for s in run.scenarios(fixture) if s.name in run.ROUNDS_OF]
                shares = run.measure_scenarios(ports, planned, args, "postgresql, portfolio")
                measured = {}
                for name, page_paths in paths.items():
                    print(f"  postgresql, portfolio: {name} …", file=sys.stderr, flush=True)
                    measured[name] = measure_page(server.port, fixture.manager_cookie, page_paths, args) | counted[name]
            finally:
                server.stop()
                baseline.stop()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return {
        "scale": args.scale,
        "generation_s": round(generation_s, 1),
        "generated": generated.strip().splitlines()[-1],
        "vacuum_s": round(vacuum_s, 1),
        "pages": measured,
        "shares": {name: shares[name] for name in ("baseline", "autosave", "section_page")},
    }


def markdown(result: dict[str, Any]) -> str:
    lines = [
        f"### PostgreSQL, {result['scale']:,} buildings (generated in {result['generation_s']:.0f} s)",
        "",
        "| page | p50 ms, 1 connection | p99 ms, 1 connection | req/s, 8 connections "
        "| SQL statements per request | in-process ms per request |",
        "|---|---:|---:|---:|---|---|",
    ]
    for name, page in result["pages"].items():
        lines.append(
            f"| {name} | {page['p50_ms']:.1f} | {page['p99_ms']:.1f} | {page['throughput_rps']:.1f} | "
            f"{' / '.join(str(n) for n in page['statements'])} | "
            f"{' / '.join(f'{ms:.0f}' for ms in page['in_process_ms'])} |"
        )
    lines += ["", "| scenario | req/s | p50 ms | p99 ms | vs baseline (rounds) |", "|---|---:|---:|---:|---:|"]
    for name, r in result["shares"].items():
        lines.append(
            f"| {name} | {r['throughput_rps']:.1f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
            f"{r['ratio_to_baseline']:.0%}{run.rounds(r['round_ratios'])} |"
        )
    lines.append("")
    for name, page in result["pages"].items():
        met = page["p50_ms"] <= PAGE_TARGET_MS
        lines.append(
            f"- {'PASS' if met else 'MISS'} — {name} ≤ {PAGE_TARGET_MS:.0f} ms with one connection "
            f"(p50 {page['p50_ms']:.1f} ms)"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--scale", type=int, default=SCALE, help=f"buildings (default {SCALE:,})")
    parser.add_argument("--clients", type=int, default=8, help="connections for throughput (default 8)")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per window (default 1)")
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per window (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds of autosave and section page")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--output", type=Path, default=run.ROOT / "bench-results" / "portfolio.json")
    args = parser.parse_args(argv)
    if not 1 <= args.scale <= 100_000:
        parser.error("--scale takes 1 to 100,000 buildings")
    args.generator = "wrk"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, run._interrupted)  # unwinds like Ctrl-C, so the servers are stopped
    base_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    if not base_url:
        print("portfolio bench skipped: it needs PostgreSQL (BENCH_DATABASE_URL or TEST_DATABASE_URL)", file=sys.stderr)
        return 0
    if not wrk.available():
        print("portfolio bench skipped: wrk is not installed (apt-get install -y wrk)", file=sys.stderr)
        return 0
    print(f"portfolio bench on postgresql: {args.scale:,} buildings …", file=sys.stderr, flush=True)
    report: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "commit": run.git_commit(),
        "run_id": uuid.uuid4().hex[:12],
    }
    try:
        report["result"] = bench(base_url, args)
    except run.BenchBroken as exc:
        print(f"bench broken — {exc}", file=sys.stderr)
        return 1
    print(markdown(report["result"]) + "\n", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"results written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("bench interrupted", file=sys.stderr)
        sys.exit(130)
