"""`make bench` (part 2): how long the app's PDFs take, in-process, against fixed targets.

For each database (a new SQLite file; and a new PostgreSQL schema, dropped afterwards, when BENCH_DATABASE_URL or
TEST_DATABASE_URL is set, as in bench/run.py) it loads the checklist, creates a building with every feature, an
approved certification inspection with all 100 items answered (no photos) and its certificate, then measures in
one process, warm (after a few unmeasured renders), the first two alternating so that drift hits both alike, each
render started after a garbage collection (see `_timed`):

1. minimal: a one-page WeasyPrint document with one line of text (`weasyprint.HTML(string=...).write_pdf()`)
2. certificate: the sign, A4 Swedish, exactly as the download makes it (`render_sign`: template, QR code, fonts)
3. report: the audit report of the 100-item inspection (`render_report`)
4. certificate (request) and report (request): the same inside a request, as the web pages make them: laid out in
   the time-bounded helper process (`audit.bounded`), so they add the trip of the HTML there and the PDF back

Targets: the certificate takes at most 1.5 times the minimal document; the report at most 1 s. They are reported
as PASS or MISS and never fail the run. It prints a markdown table per database and writes
bench-results/pdf.json.
"""

from __future__ import annotations

import argparse
import ctypes.util
import gc
import json
import os
import platform
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MINIMAL_HTML = "<!doctype html><html lang='sv'><title>Minimal</title><p>Trygga hus</p></html>"
CERTIFICATE_RATIO_TARGET = 1.5
REPORT_TARGET_MS = 1000.0


def _timed(render: Callable[[], Any]) -> tuple[float, float]:
    """(wall ms, CPU ms) of one call, started with no garbage left by the one before.

    Without the collection a short render would pay for the previous render's garbage, and which one paid would
    depend on the order of the loop.
    """
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    render()
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000


def _summary(samples: list[tuple[float, float]]) -> dict[str, float]:
    walls, cpus = [s[0] for s in samples], [s[1] for s in samples]
    return {
        "median_ms": round(statistics.median(walls), 2),
        "min_ms": round(min(walls), 2),
        "cpu_median_ms": round(statistics.median(cpus), 2),
        "samples": len(samples),
    }


def _setup(folder: Path, database_url: str) -> tuple[Any, int, int]:
    """One approved 100-item inspection and its certificate in the empty database at `database_url`:
    (app, inspection id, certificate id)."""
    from audit import create_app
    from audit.accounts.models import Role
    from audit.accounts.services import create_organisation, create_user
    from audit.buildings.features import Feature
    from audit.buildings.services import create_building
    from audit.certificates.documents import issued_sign
    from audit.certificates.services import issue_certificate
    from audit.checklists.loader import load_checklist
    from audit.checklists.schema import is_applicable
    from audit.checklists.services import store_checklist
    from audit.demo import answer_for
    from audit.extensions import db
    from audit.inspections.models import InspectionKind
    from audit.inspections.services import approve_inspection, save_answer, start_inspection, submit_inspection
    from audit.migrate import upgrade
    from audit.settings import Settings

    settings = Settings(instance_path=folder, database_url=database_url, secret_key=secrets.token_hex(32))
    app = create_app(settings)
    upgrade(app.extensions["tryggahus.database"].engine)
    with app.app_context():
        session = db.session
        version = store_checklist(session, load_checklist(ROOT / "checklists" / "trygga-hus.yaml")).version
        organisation = create_organisation(session, "bench", "Benchbostäder AB")
        inspector = create_user(session, organisation, "inspector@bench.example", Role.inspector, "bench-password")
        manager = create_user(session, organisation, "manager@bench.example", Role.manager, "bench-password")
        building = create_building(
            session,
            organisation,
            name="Benchhuset",
            street_address="Fittjavägen 12 B",
            postcode="145 51",
            city="Norsborg",
            features=set(Feature),
        )
        inspection = start_inspection(session, inspector, building, InspectionKind.certification, version)
        for section, item in version.checklist.items():
            if is_applicable(section, item, building.features):
                save_answer(session, inspector, inspection, item.key, answer_for(item, passing=True))
        submit_inspection(session, inspector, inspection)
        approve_inspection(session, manager, inspection)
        certificate = issue_certificate(session, manager, inspection, issued_sign)
        session.commit()
        answered = len(inspection.answers)
        if answered != 100:
            raise SystemExit(f"bench setup: expected 100 answered items, got {answered}")
        return app, inspection.id, certificate.id


def measure(
    app: Any, inspection_id: int, certificate_id: int, rounds: int, report_samples: int
) -> dict[str, dict[str, float]]:
    import weasyprint

    from audit.certificates.documents import render_sign, sign_facts
    from audit.certificates.models import Certificate
    from audit.certificates.report import render_report
    from audit.extensions import db
    from audit.inspections.models import Inspection

    with app.app_context():
        inspection = db.session.get(Inspection, inspection_id)
        facts = sign_facts(db.session.get(Certificate, certificate_id))
        def in_request(render: Callable[[], bytes]) -> Callable[[], bytes]:
            def made_for_a_request() -> bytes:
                with app.test_request_context():
                    return render()

            return made_for_a_request

        documents: dict[str, Callable[[], Any]] = {
            "minimal": lambda: weasyprint.HTML(string=MINIMAL_HTML).write_pdf(),
            "certificate": lambda: render_sign(facts),
            "report": lambda: render_report(inspection, "sv"),
            "certificate (request)": in_request(lambda: render_sign(facts)),
            "report (request)": in_request(lambda: render_report(inspection, "sv")),
        }
        for render in documents.values():  # warm: imports, fonts, parsed checklist, Jinja templates
            for _ in range(3):
                render()
        samples: dict[str, list[tuple[float, float]]] = {name: [] for name in documents}
        for _ in range(rounds):  # alternating, so that the machine's drift hits both alike
            samples["minimal"].append(_timed(documents["minimal"]))
            samples["certificate"].append(_timed(documents["certificate"]))
            samples["certificate (request)"].append(_timed(documents["certificate (request)"]))
        for _ in range(report_samples):
            samples["report"].append(_timed(documents["report"]))
            samples["report (request)"].append(_timed(documents["report (request)"]))
        return {name: _summary(values) for name, values in samples.items()}


def targets(timings: dict[str, dict[str, float]]) -> dict[str, dict[str, Any]]:
    ratio = timings["certificate"]["median_ms"] / timings["minimal"]["median_ms"]
    report_ms = timings["report"]["median_ms"]
    return {
        "certificate_ratio": {
            "value": round(ratio, 2),
            "target": CERTIFICATE_RATIO_TARGET,
            "verdict": "PASS" if ratio <= CERTIFICATE_RATIO_TARGET else "MISS",
        },
        "report_ms": {
            "value": round(report_ms, 1),
            "target": REPORT_TARGET_MS,
            "verdict": "PASS" if report_ms <= REPORT_TARGET_MS else "MISS",
        },
    }


def bench_database(kind: str, base_url: str | None, args: argparse.Namespace) -> dict[str, Any]:
    from audit.database import scratch_database

    print(f"bench pdf ({kind}): setting up …", file=sys.stderr, flush=True)
    with (
        tempfile.TemporaryDirectory(prefix="tryggahus-bench-pdf-") as folder,
        scratch_database(Path(folder), base_url, "benchpdf") as url,
    ):
        app, inspection_id, certificate_id = _setup(Path(folder), url)
        try:
            timings = measure(app, inspection_id, certificate_id, args.rounds, args.report_samples)
        finally:
            app.extensions["tryggahus.database"].engine.dispose()
    return {"database": kind, "timings": timings, "targets": targets(timings)}


def markdown(results: dict[str, Any]) -> str:
    lines = []
    for run in results["runs"]:
        timings, verdicts = run["timings"], run["targets"]
        lines += [
            f"### {run['database']}",
            "",
            "| document | median | min | CPU median | samples |",
            "|---|---:|---:|---:|---:|",
            *(
                f"| {name} | {t['median_ms']:.1f} ms | {t['min_ms']:.1f} ms | {t['cpu_median_ms']:.1f} ms "
                f"| {t['samples']} |"
                for name, t in timings.items()
            ),
            "",
            f"- certificate / minimal: {verdicts['certificate_ratio']['value']:.2f}× (target ≤ "
            f"{CERTIFICATE_RATIO_TARGET}×) — {verdicts['certificate_ratio']['verdict']}",
            f"- 100-item report: {verdicts['report_ms']['value']:.0f} ms (target ≤ {REPORT_TARGET_MS:.0f} ms) — "
            f"{verdicts['report_ms']['verdict']}",
            f"- in a request (time-bounded helper): certificate / minimal "
            f"{timings['certificate (request)']['median_ms'] / timings['minimal']['median_ms']:.2f}×, report "
            f"{timings['report (request)']['median_ms']:.0f} ms (reported, no target: the helper's trip and its "
            "time limit are the price of a worker that cannot be held past it)",
            "",
        ]
    lines.append(f"libharfbuzz-subset found: {results['harfbuzz_subset']}\n")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from run import database_kinds  # bench/run.py: SQLite, and PostgreSQL when a URL is set

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rounds", type=int, default=100, help="measured certificate renders (default 100)")
    parser.add_argument("--report-samples", type=int, default=10, help="measured reports (default 10)")
    parser.add_argument("--output", type=Path, default=ROOT / "bench-results" / "pdf.json")
    args = parser.parse_args(argv)
    if not 4 <= args.rounds <= 1000:
        parser.error("--rounds: 4–1000")
    if not 1 <= args.report_samples <= 100:
        parser.error("--report-samples: 1–100")
    results: dict[str, Any] = {
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count()},
        "harfbuzz_subset": ctypes.util.find_library("harfbuzz-subset") is not None,
        "runs": [bench_database(kind, base_url, args) for kind, base_url in database_kinds()],
    }
    print(markdown(results), flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results written to {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
