"""`make bench`, fifth part: a tablet's offline queue of 100 answers and 20 camera photos synced to a local server.

For each database (as `bench/run.py`: a new SQLite file, and a new PostgreSQL schema when a URL is set) it runs
`tryggahus init` and `tryggahus demo`, adds a building with every feature to the demo organisation (so that 100
items apply) and serves the app with `tryggahus serve` (gunicorn, two sync workers, its access log kept). Debian's
Chromium, driven by Playwright with the browser tests' options, logs in as the demo inspector, starts an inspection
of that building and opens its walk. Then the browser goes offline (Chromium's offline mode: the page's requests
fail, and nothing here goes through the service worker) and the walk's outbox gets what an inspector leaves in it
in a basement: the 100 answers in the checklist's order, 20 of them failed, each failed one followed by its photo
(JPEGs of 4000 × 3000 pixels, 2 to 4 MB, as a tablet camera makes them: made by Pillow with a fixed seed, once,
and kept in a temporary folder for later runs). It checks that all 120 still wait, goes online and measures, in
the page, from the `online` event to the moment the outbox holds nothing (its `change` events and `counts()`).

It reports the seconds, the requests the sync made (from the server's access log, by kind, with the time the
server spent on each kind), whether the sync stayed within 5 s (PASS or MISS, never failing the run), and that the
server stored every answer once and every photo. It prints a markdown table and writes bench-results/sync.json.
"""

from __future__ import annotations

import argparse
import io
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import run

sys.path.insert(0, str(run.ROOT))
from tests.browser_support import CHROMIUM, CHROMIUM_ARGS  # the browser tests' launch options

ANSWERS = 100
PHOTOS = 20
TARGET_S = 5.0
PHOTO_SIZE = (4000, 3000)
PHOTO_QUALITY = 92
PHOTO_SEED = 12
#: Made once and kept for later runs (a photo takes Pillow about a second).
PHOTO_FOLDER = Path(tempfile.gettempdir()) / f"tryggahus-bench-photos-{PHOTO_SIZE[0]}x{PHOTO_SIZE[1]}-q{PHOTO_QUALITY}"
SYNC_TIMEOUT_S = 300
#: `"POST /api/v1/inspections/7/answers" 200 5120 48ms` (audit/gunicorn_logger.py ACCESS_LOG_FORMAT)
ACCESS_LINE = re.compile(r'"([A-Z]+) (\S+)" (\d{3}) \S+ (\d+)ms')


# --- camera photos -------------------------------------------------------------------------------------------------


def camera_photo(seed: int) -> bytes:
    """A JPEG that costs what a tablet camera's photo costs: large smooth areas of colour, edges, and sensor noise
    in every pixel (noise is what makes a camera's JPEG large)."""
    from PIL import Image, ImageChops, ImageDraw, ImageFilter

    rng = random.Random(seed)  # noqa: S311  (a fixed picture, not a secret)
    width, height = PHOTO_SIZE
    # Walls, floor and light: a few muted colours blown up smoothly.
    tones = bytes(40 + value % 170 for value in rng.randbytes(8 * 6 * 3))
    image = Image.frombytes("RGB", (8, 6), tones).resize(PHOTO_SIZE, Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(60):  # doors, pipes, signs
        left, top = rng.randrange(width), rng.randrange(height)
        box = (left, top, left + rng.randrange(50, 800), top + rng.randrange(50, 800))
        colour = tuple(rng.randrange(30, 220) for _ in range(3))
        draw.rectangle(box, fill=colour if rng.random() < 0.3 else None, outline=colour, width=rng.randrange(2, 14))
    image = image.filter(ImageFilter.GaussianBlur(2))
    amplitude = rng.randrange(14, 26)
    noise = [
        Image.frombytes("L", PHOTO_SIZE, rng.randbytes(width * height)).point(
            lambda value: 128 - amplitude // 2 + value * amplitude // 256
        )
        for _ in range(3)
    ]
    image = ImageChops.add(image, Image.merge("RGB", noise), scale=1.0, offset=-128)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=PHOTO_QUALITY)
    return buffer.getvalue()


def camera_photos(count: int) -> list[Path]:
    PHOTO_FOLDER.mkdir(exist_ok=True)
    paths = []
    for number in range(count):
        path = PHOTO_FOLDER / f"photo-{PHOTO_SEED + number}.jpg"
        if not path.exists():
            if number == 0:
                print(f"bench sync: making {count} camera photos once in {PHOTO_FOLDER} …", file=sys.stderr)
            partial = path.with_suffix(".part")
            partial.write_bytes(camera_photo(PHOTO_SEED + number))
            partial.replace(path)
        paths.append(path)
    return paths


# --- the server and the inspection ---------------------------------------------------------------------------------


class ServedApp(run.Server):
    """`tryggahus serve` (gunicorn, sync workers) with its access log: one line per request, with its time."""

    def __init__(self, env: dict[str, str], folder: Path, workers: int) -> None:
        self.port = run.free_port()
        self.ready_path = "/healthz"
        self.log = folder / "serve.log"
        command = [str(run.BIN / "tryggahus"), "serve", "--no-job-worker", "--host", run.HOST, "--port", str(self.port)]
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(  # noqa: S603  (our own console script, fixed arguments)
                [*command, "--workers", str(workers)],
                env=env,
                cwd=run.ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )


def add_buildings(env: dict[str, str], count: int) -> list[int]:
    """Buildings with every feature in the demo organisation (so that every item of the checklist applies), one for
    each round's inspection."""
    from sqlalchemy import select

    from audit import create_app
    from audit.accounts.models import Organisation
    from audit.buildings.features import Feature
    from audit.buildings.services import create_building
    from audit.extensions import db
    from audit.settings import Settings

    app = create_app(Settings.from_env(env))
    try:
        with app.app_context():
            organisation = db.session.scalar(select(Organisation).where(Organisation.slug == "demo"))
            assert organisation is not None
            buildings = [
                create_building(
                    db.session,
                    organisation,
                    name=f"Synkhuset {number}",
                    street_address=f"Fittjavägen {40 + number}",
                    postcode="145 51",
                    city="Norsborg",
                    features=set(Feature),
                )
                for number in range(1, count + 1)
            ]
            db.session.commit()
            return [building.id for building in buildings]
    finally:
        app.extensions["tryggahus.database"].engine.dispose()


def walk_queue() -> list[dict[str, Any]]:
    """The outbox's answers in the checklist's order (as the walk's page makes them), with `photo` on the first
    PHOTOS items whose rule wants a photo when failed: those fail."""
    from audit.checklists.loader import load_checklist
    from audit.demo import answer_for

    queue = []
    photos = 0
    for _section, item in load_checklist(run.CHECKLIST_FILE).checklist.items():
        failed = item.photo_required_on_fail and photos < PHOTOS
        photos += failed
        given = answer_for(item, passing=not failed)
        body = {
            "result": None if given.result is None else {"passed": "pass", "failed": "fail"}[given.result.name],
            "value": None if given.value is None else str(given.value),
            "choice": given.choice,
            "text": given.text,
            "comment": "Trasig, se foto." if failed else None,
        }
        queue.append({"item": item.key, "body": {k: v for k, v in body.items() if v is not None}, "photo": failed})
    return queue[:ANSWERS]


#: A file input the photos are handed to the page through, as the camera hands them to the walk's own inputs.
PHOTO_INPUT = """() => {
  const input = Object.assign(document.createElement("input"), { type: "file", multiple: true, id: "bench-photos" });
  document.body.append(input);
}"""
FILL = """async ({ inspection, queue }) => {
  const files = document.getElementById("bench-photos").files;
  let photo = 0;
  for (const answer of queue) {
    await TryggaOutbox.putAnswer(inspection, answer.item, answer.body, 0);
    if (answer.photo) {
      const file = files[photo++];
      await TryggaOutbox.addPhoto(inspection, answer.item, file, file.name);
    }
  }
  return TryggaOutbox.counts();
}"""

#: From the `online` event to an empty outbox, timed in the page.
WATCH = """() => {
  const bench = (window.benchSync = { online: null, empty: null, left: null });
  window.addEventListener("online", () => { bench.online = performance.now(); });
  TryggaOutbox.events.addEventListener("change", async () => {
    if (bench.online === null || bench.empty !== null) return;
    const counts = await TryggaOutbox.counts();
    if (counts.answers + counts.photos === 0 && bench.empty === null) {
      bench.empty = performance.now();
      bench.left = counts;
      // The sync's requests as the browser saw them (from sending the first byte to receiving the last).
      bench.requests = performance.getEntriesByType("resource")
        .filter((entry) => entry.startTime >= bench.online && entry.startTime <= bench.empty)
        .map((entry) => ({ path: new URL(entry.name).pathname, ms: entry.duration }));
    }
  });
  performance.setResourceTimingBufferSize(10000);
}"""


def sync_in_browser(
    server: ServedApp, photos: list[Path], queue: list[dict[str, Any]], building_ids: list[int]
) -> list[tuple[dict[str, Any], list[str]]]:
    """Each round's figures, and the server's access log lines of its sync's requests."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(base_url=f"http://{run.HOST}:{server.port}", locale="sv-SE")
            context.set_default_timeout(60_000)
            page = context.new_page()
            page.goto("/login")
            page.locator('input[name="email"]').fill(run.INSPECTOR_EMAIL)
            page.locator('input[name="password"]').fill(run.INSPECTOR_PASSWORD)
            page.locator("main form button[type=submit]").click()
            page.wait_for_url(re.compile(r"/buildings/?$"))
            return [one_sync(context, page, server, photos, queue, building_id) for building_id in building_ids]
        finally:
            browser.close()


def one_sync(
    context: Any, page: Any, server: ServedApp, photos: list[Path], queue: list[dict[str, Any]], building_id: int
) -> tuple[dict[str, Any], list[str]]:
    """A new inspection of the building; its queue filled offline, then sent."""
    token = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    started = page.request.post(
        "/api/v1/inspections",
        data={"building_id": building_id},
        headers={"X-CSRFToken": token, "Idempotency-Key": f"bench-sync-{time.time_ns()}"},
    )
    if started.status != 201:
        raise run.BenchBroken(f"starting the inspection answered {started.status}: {started.text()[:300]}")
    inspection = started.json()
    first = next(s["key"] for s in inspection["progress"]["sections"] if s["applicable"])
    page.goto(f"/inspections/{inspection['id']}/sections/{first}")
    page.wait_for_function("() => window.TryggaOutbox !== undefined")

    context.set_offline(True)
    page.evaluate(PHOTO_INPUT)
    page.locator("#bench-photos").set_input_files([str(path) for path in photos])
    waiting = page.evaluate(FILL, {"inspection": inspection["id"], "queue": queue})
    if (waiting["answers"], waiting["photos"]) != (len(queue), len(photos)):
        raise run.BenchBroken(f"the outbox did not keep everything while offline: {waiting}")
    page.evaluate(WATCH)
    logged = server.log.stat().st_size
    context.set_offline(False)
    page.wait_for_function("() => window.benchSync.empty !== null", timeout=SYNC_TIMEOUT_S * 1000)
    timing = page.evaluate("() => window.benchSync")
    time.sleep(0.5)  # the last request's log line
    with server.log.open("rb") as log:
        log.seek(logged)
        lines = log.read().decode(errors="replace").splitlines()
    stored = page.request.get(f"/api/v1/inspections/{inspection['id']}").json()
    in_flight: dict[str, float] = defaultdict(float)
    for request in timing["requests"]:
        in_flight[request_kind("", request["path"])] += request["ms"] / 1000
    return {
        "seconds": round((timing["empty"] - timing["online"]) / 1000, 2),
        "left": timing["left"],
        "in_flight_s": {kind: round(seconds, 2) for kind, seconds in in_flight.items()},
        "stored_answers": len(stored["answers"]),
        "answers_stored_once": all(answer["revision"] == 1 for answer in stored["answers"].values()),
        "stored_photos": len(stored["photos"]),
    }, lines


ANSWER_KINDS = ("answer batches", "single answers")


def request_kind(method: str, path: str) -> str:
    if path.endswith("/answers"):
        return "answer batches"
    if path.endswith("/photos"):
        return "photos"
    if "/answers/" in path:
        return "single answers"
    return f"{method} {re.sub(r'/[0-9]+', '/<id>', path)}".strip()


def requests_by_kind(lines: list[str]) -> dict[str, dict[str, int]]:
    """The access log's requests by kind: how many, their statuses and the server's milliseconds."""
    kinds: dict[str, dict[str, int]] = defaultdict(lambda: {"requests": 0, "server_ms": 0, "errors": 0})
    for line in lines:
        match = ACCESS_LINE.search(line)
        if not match:
            continue
        method, path, status, ms = match.group(1), match.group(2), int(match.group(3)), int(match.group(4))
        kind = request_kind(method, path)
        kinds[kind]["requests"] += 1
        kinds[kind]["server_ms"] += ms
        kinds[kind]["errors"] += status >= 400
    return dict(kinds)


def bench_database(kind: str, base_url: str | None, photos: list[Path], workers: int, rounds: int) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix=f"tryggahus-bench-sync-{kind}-"))
    server = None
    try:
        with run.fresh_database(kind, base_url, folder) as url:
            env = run.app_environment(folder, url)
            print(f"bench sync ({kind}): making the demo …", file=sys.stderr, flush=True)
            run.tryggahus(env, "init")
            run.tryggahus(env, "demo")
            building_ids = add_buildings(env, rounds)
            server = ServedApp(env, folder, workers)
            server.wait_ready()
            queue = walk_queue()
            print(f"bench sync ({kind}): {rounds} × {len(queue)} answers and {len(photos)} photos …", file=sys.stderr)
            synced = sync_in_browser(server, photos, queue, building_ids)
            server.stop()
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    runs = [summary(result, lines, len(queue), len(photos)) for result, lines in synced]
    median = sorted(runs, key=lambda r: r["seconds"])[len(runs) // 2]
    complete = all(r["complete"] for r in runs)
    return {
        "database": kind,
        "photo_megabytes": round(sum(p.stat().st_size for p in photos) / 1e6, 1),
        **median,
        "rounds_s": [r["seconds"] for r in runs],
        "complete": complete,
        "verdict": "PASS" if complete and median["seconds"] <= TARGET_S else "MISS",
        "rounds": runs,
    }


def summary(result: dict[str, Any], lines: list[str], answers: int, photos: int) -> dict[str, Any]:
    kinds = requests_by_kind(lines)
    return {
        "answers": answers,
        "photos": photos,
        **result,
        "requests": sum(k["requests"] for k in kinds.values()),
        "by_kind": kinds,
        "server_s": round(sum(k["server_ms"] for k in kinds.values()) / 1000, 2),
        # Between the requests: the outbox's own work (IndexedDB, the page's handlers), no request in flight.
        "between_requests_s": round(result["seconds"] - sum(result["in_flight_s"].values()), 2),
        "complete": result["stored_answers"] == answers
        and result["stored_photos"] == photos
        and result["answers_stored_once"]
        and not result["left"]["conflicts"]
        and not result["left"]["refused"],
    }


def markdown(runs: list[dict[str, Any]]) -> str:
    lines = [
        "| database | queue | sync: median (rounds) | requests | answers: in flight / on the server "
        "| photos: in flight / on the server | between requests | stored | target ≤ 5 s |",
        "|---|---|---:|---|---:|---:|---:|---|---|",
    ]
    for r in runs:
        kinds, flight = r["by_kind"], r["in_flight_s"]
        counted = {kind: kinds.get(kind, {}).get("requests", 0) for kind in (*ANSWER_KINDS, "photos")}
        counted["other"] = r["requests"] - sum(counted.values())
        requests = ", ".join(f"{count} {kind}" for kind, count in counted.items() if count)
        answers_server = sum(kinds.get(kind, {}).get("server_ms", 0) for kind in ANSWER_KINDS) / 1000
        answers_flight = sum(flight.get(kind, 0) for kind in ANSWER_KINDS)
        photos_server = kinds.get("photos", {}).get("server_ms", 0) / 1000
        stored = f"{r['stored_answers']} answers, {r['stored_photos']} photos" + ("" if r["complete"] else " (!)")
        lines.append(
            f"| {r['database']} | {r['answers']} answers, {r['photos']} photos ({r['photo_megabytes']} MB) "
            f"| {r['seconds']:.2f} s ({' / '.join(f'{x:.2f}' for x in r['rounds_s'])}) | {r['requests']} ({requests}) "
            f"| {answers_flight:.2f} / {answers_server:.2f} s | {flight.get('photos', 0):.2f} / {photos_server:.2f} s "
            f"| {r['between_requests_s']:.2f} s | {stored} | {r['verdict']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2, as `tryggahus serve`)")
    parser.add_argument("--rounds", type=int, default=3, help="syncs per database, the median reported (default 3)")
    parser.add_argument("--output", type=Path, default=run.ROOT / "bench-results" / "sync.json")
    args = parser.parse_args(argv)
    photos = camera_photos(PHOTOS)
    runs = [
        bench_database(kind, base_url, photos, args.workers, args.rounds) for kind, base_url in run.database_kinds()
    ]
    print(markdown(runs), flush=True)
    run.write_report(args.output, runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
