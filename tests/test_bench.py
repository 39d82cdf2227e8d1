"""`make bench`'s PDF half runs from a clean checkout on every database the suite uses (no timing is asserted:
the verdicts are the bench's to print, see bench/README.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_pdf_bench_measures_every_database_and_finds_the_font_subsetter(tmp_path: Path) -> None:
    output = tmp_path / "pdf.json"
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pdf.py"), "--rounds", "4", "--report-samples", "1", "--output", output],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    results = json.loads(output.read_text())
    postgresql = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL")
    expected = ["sqlite"] + (["postgresql"] if postgresql else [])
    assert [run["database"] for run in results["runs"]] == expected
    for run in results["runs"]:
        assert set(run["timings"]) == {
            "minimal",
            "certificate",
            "report",
            "certificate (request)",
            "report (request)",
        }
        assert all(timing["median_ms"] > 0 for timing in run["timings"].values())
        assert {target["verdict"] for target in run["targets"].values()} <= {"PASS", "MISS"}
        assert f"### {run['database']}" in completed.stdout
    # Without HarfBuzz's subsetter WeasyPrint embeds fonts through a fallback about ten times slower: the system
    # packages (.ci/run, README) must bring it.
    assert results["harfbuzz_subset"] is True
