"""`make bench`, EST part: the weekly situation picture of an EST group with 50,000 reports.

For each database (a new SQLite file; a new PostgreSQL schema, dropped afterwards, when BENCH_DATABASE_URL or
TEST_DATABASE_URL is set) it runs `tryggahus init` and `tryggahus demo`, fills the demo's EST group with reports
up to 50,000 (Core inserts, `audit/deviations/est/bulk.py`), and measures the picture of the current week:

- the server's time: `services.situation()` (its grouped queries and the pure picture) in this process, 20 runs;
- the page: `GET /est/<group>/weeks/<week>` as the demo manager, one connection, 20 requests, against gunicorn
  started as in `bench/run.py` (the server's time plus a loopback round trip and the template);
- the evaluation's server time: `evaluation_services.evaluate()` of the year up to this week with the before/after
  of the group's first measure, 20 runs (reported, no target).

It reports the median and the slowest run; the target (≤ 200 ms server time on PostgreSQL, issue 14) is reported as
PASS or MISS and never fails the run.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import run
from sqlalchemy import func, select

REPORTS = 50_000
RUNS = 20
TARGET_MS = 200.0


def _fill(database_url: str) -> tuple[int, int]:
    """Fill the demo group up to REPORTS; (the group's id, the number of reports)."""
    import audit.models  # noqa: F401  (every mapper known before the first query)
    from audit.database import make_engine
    from audit.deviations.est.bulk import add_synthetic_reports
    from audit.deviations.est.models import EstGroup
    from audit.deviations.models import DeviationReport

    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            group_id = connection.scalar(select(EstGroup.id).order_by(EstGroup.id).limit(1))
            have = connection.scalar(select(func.count()).select_from(DeviationReport.__table__)) or 0
            add_synthetic_reports(connection, group_id, max(0, REPORTS - have))
            total = connection.scalar(select(func.count()).select_from(DeviationReport.__table__)) or 0
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.exec_driver_sql("ANALYZE deviation_reports")
        return group_id, total
    finally:
        engine.dispose()


def _in_process(env: dict[str, str], group_id: int, evaluation: bool = False) -> list[float]:
    """`services.situation()` of this week, or with `evaluation` the year's evaluation up to this week with the
    before/after of the group's first measure (`evaluation_services.evaluate()`)."""
    from audit import create_app
    from audit.certificates.status import today_in_sweden
    from audit.deviations.est import evaluation_services, services
    from audit.deviations.est.models import EstGroup, EstMeasure
    from audit.deviations.est.weeks import week_of
    from audit.extensions import db
    from audit.settings import Settings

    app = create_app(Settings.from_env(env))
    times = []
    with app.app_context():
        group = db.session.get(EstGroup, group_id)
        assert group is not None
        week = week_of(today_in_sweden())
        measure_id = db.session.scalar(select(EstMeasure.id).where(EstMeasure.group_id == group_id).limit(1))
        for _ in range(RUNS):
            began = time.perf_counter()
            if evaluation:
                evaluation_services.evaluate(db.session, group, week, measure_id=measure_id)
            else:
                services.situation(db.session, group, week)
            times.append((time.perf_counter() - began) * 1000)
        db.session.rollback()
    return times


def _page(env: dict[str, str], folder: Path, group_id: int) -> list[float]:
    from audit.certificates.status import today_in_sweden
    from audit.deviations.est.weeks import week_of, week_text

    server = run.Server(env, folder, workers=2)
    try:
        server.wait_ready()
        cookie = run.log_in(server.port, "manager@demo.example", "trygga-manager")
        path = f"/est/{group_id}/weeks/{week_text(week_of(today_in_sweden()))}"
        times = []
        for _ in range(RUNS + 2):
            began = time.perf_counter()
            status, _headers, _body = run.request(
                run.HOST, server.port, "GET", path, None, {"Cookie": f"session={cookie}"}
            )
            times.append((time.perf_counter() - began) * 1000)
            if status != 200:
                raise run.BenchBroken(f"{path} answered {status}")
        return times[2:]  # the first requests warm the worker up
    finally:
        server.stop()


def _line(kind: str, what: str, times: list[float], target: bool) -> str:
    median, slowest = statistics.median(times), max(times)
    verdict = ("PASS" if median <= TARGET_MS else "MISS") if target else ""
    return f"| {kind} | {what} | {median:.1f} | {slowest:.1f} | {verdict} |"


def main() -> int:
    lines = ["| database | measured | median ms | slowest ms | ≤ 200 ms |", "|---|---|---|---|---|"]
    for kind, base in run.database_kinds():
        with tempfile.TemporaryDirectory(prefix="bench-est-") as tmp:
            folder = Path(tmp)
            with run.fresh_database(kind, base, folder) as url:
                env = run.app_environment(folder, url)
                run.tryggahus(env, "init")
                run.tryggahus(env, "demo")
                group_id, total = _fill(url)
                print(f"{kind}: {total:,} reports", file=sys.stderr)
                lines.append(_line(kind, "situation() in process", _in_process(env, group_id), kind == "postgresql"))
                lines.append(_line(kind, "the week's page over HTTP", _page(env, folder, group_id), False))
                lines.append(_line(kind, "evaluate(): a year, before/after", _in_process(env, group_id, True), False))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
