"""`make bench`, fourth part: printing 1,000 signs as one batch on the job queue, with two worker processes.

For each database (as `bench/run.py`: a new SQLite file, and a new PostgreSQL schema when a URL is set) it runs
`tryggahus init` and `tryggahus demo --scale 1250` (about 1,000 certificates; `audit/portfolio.py`), makes one
print job of 1,000 certificates as the certificates page does (`create_print_job`, one PDF, A4, Swedish), starts
`tryggahus worker --workers 2` on the embedded queue and sends the job's id. It reports the time from sending to
the finished row (the worker's start included, as after a deploy), the time per sign, and that per-sign time
against a minimal WeasyPrint document made in this process (one page, one line). Target: ≤ 60 s for the batch,
reported as PASS or MISS, never failing the run.

One batch is one job, so one of the two worker processes prints it (a sign after the other, joined into one PDF at
the end); the other stays free for the queue's other jobs. The figure is what a manager waits for.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import run

SIGNS = 1000
#: Buildings to generate: the portfolio certifies about 80 % of them.
SCALE = 1250
TARGET_S = 60.0
MINIMAL_HTML = "<!doctype html><html lang='sv'><title>Minimal</title><p>Trygga hus</p></html>"


def make_job(env: dict[str, str], signs: int) -> tuple[int, int]:
    """A queued print job of `signs` certificates of the demo organisation: (job id, certificates in it)."""
    from sqlalchemy import select

    from audit import create_app
    from audit.accounts.models import Organisation, User
    from audit.certificates.documents import PaperSize
    from audit.certificates.jobs import create_print_job
    from audit.certificates.models import BatchFormat, Certificate
    from audit.extensions import db
    from audit.settings import Settings

    app = create_app(Settings.from_env(env))
    try:
        with app.app_context():
            session = db.session
            organisation = session.scalar(select(Organisation).where(Organisation.slug == "demo"))
            manager = session.scalar(select(User).where(User.email == run.MANAGER_EMAIL))
            assert organisation is not None
            assert manager is not None
            certificates = session.scalars(
                select(Certificate).where(Certificate.organisation_id == organisation.id).order_by(Certificate.id)
            ).all()[:signs]
            job = create_print_job(
                session, manager.id, organisation.id, certificates, BatchFormat.pdf, PaperSize.a4, "sv"
            )
            session.commit()
            return job.id, len(certificates)
    finally:
        app.extensions["tryggahus.database"].engine.dispose()


def send_and_wait(env: dict[str, str], job_id: int, folder: Path, timeout: float) -> dict[str, Any]:
    """Start two worker processes, send the job, and wait for its row to end: the seconds it took, and the row."""
    from audit import create_app
    from audit.extensions import db
    from audit.jobs.models import Job
    from audit.jobs.queue import queue_for
    from audit.settings import Settings

    app = create_app(Settings.from_env(env))
    log = folder / "worker.log"
    with log.open("wb") as output:
        worker = subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
            [str(run.BIN / "tryggahus"), "worker", "--workers", "2", "--no-periodic"],
            env=env,
            cwd=run.ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        began = time.monotonic()
        queue_for(app).send(job_id)
        while time.monotonic() - began < timeout:
            with app.app_context():
                job = db.session.get(Job, job_id)
                assert job is not None
                if job.finished:
                    return {
                        "seconds": round(time.monotonic() - began, 1),
                        "status": job.status.value,
                        "done": job.done,
                        "errors": len(job.errors),
                    }
                db.session.rollback()
            time.sleep(0.2)
        raise run.BenchBroken(f"the batch did not finish within {timeout:.0f} s:\n{log.read_text()[-2000:]}")
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
        app.extensions["tryggahus.database"].engine.dispose()


def minimal_document_ms(samples: int = 30) -> float:
    import weasyprint

    for _ in range(3):
        weasyprint.HTML(string=MINIMAL_HTML).write_pdf()
    times = []
    for _ in range(samples):
        began = time.perf_counter()
        weasyprint.HTML(string=MINIMAL_HTML).write_pdf()
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)


def bench_database(kind: str, base_url: str | None, signs: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"tryggahus-bench-batch-{kind}-"))
    try:
        with run.fresh_database(kind, base_url, folder) as url:
            env = run.app_environment(folder, url)
            print(f"bench batch ({kind}): generating certificates …", file=sys.stderr, flush=True)
            run.tryggahus(env, "init")
            run.tryggahus(env, "demo", "--scale", str(SCALE), timeout=1200)
            job_id, count = make_job(env, signs)
            print(f"bench batch ({kind}): printing {count} signs …", file=sys.stderr, flush=True)
            result = send_and_wait(env, job_id, folder, timeout=900)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    minimal = minimal_document_ms()
    per_sign = result["seconds"] * 1000 / max(count, 1)
    return {
        "database": kind,
        "signs": count,
        **result,
        "per_sign_ms": round(per_sign, 1),
        "minimal_document_ms": round(minimal, 1),
        "per_sign_vs_minimal": round(per_sign / minimal, 2),
        "verdict": "PASS" if result["status"] == "finished" and result["seconds"] <= TARGET_S else "MISS",
    }


def markdown(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| database | signs | batch | per sign | minimal document | per sign / minimal | errors | target ≤ 60 s |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r['database']} | {r['signs']} | {r['seconds']:.1f} s | {r['per_sign_ms']:.1f} ms "
            f"| {r['minimal_document_ms']:.1f} ms | {r['per_sign_vs_minimal']:.2f}× | {r['errors']} | {r['verdict']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--signs", type=int, default=SIGNS, help=f"signs in the batch (default {SIGNS})")
    parser.add_argument("--output", type=Path, default=run.ROOT / "bench-results" / "batch.json")
    args = parser.parse_args(argv)
    if not 1 <= args.signs <= 1000:
        parser.error("--signs: 1–1000 (the generated portfolio has about 1,000 certificates)")
    runs = [bench_database(kind, base_url, args.signs) for kind, base_url in run.database_kinds()]
    print(markdown(runs), flush=True)
    run.write_report(args.output, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
