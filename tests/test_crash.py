"""Crash test: writers save answers and upload photos through the API while gunicorn is SIGKILLed repeatedly.

The real app (`gunicorn wsgi:app`, two sync workers) runs on a copy of a database made by `tryggahus init` and
`demo`. Each writer thread owns a few items of one inspection and retries a write that met a connection error with
the same Idempotency-Key, as a client on a flaky network does, until it is acknowledged. Afterwards every
acknowledged write must be in the database exactly once, the database must be intact, and `tryggahus purge` must
leave no file that no row refers to. Run it alone with `pytest -m crash -s` (it prints what it did).
"""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import signal
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Connection, select, text

from audit.accounts.models import Role
from audit.checklists.loader import load_checklist
from audit.database import Base, make_engine
from audit.demo import demo_email
from audit.inspections.models import Answer
from audit.photos.models import Photo, StoredPhoto
from tests.conftest import CHECKLIST_FILE
from tests.served_support import BIN, HOST, DemoTemplates, app_environment, demo_copy, free_port, served, tryggahus

KILLS = 3
WRITERS = 4
ITEMS_PER_WRITER = 3
#: The app refuses more photos than this on one item (audit.photos.services.MAX_PHOTOS_PER_ITEM).
PHOTOS_PER_ITEM = 20
#: How long a writer keeps retrying one write before it counts as lost.
RETRY_FOR = 60.0
#: Statuses after which the same write is retried: the database asked for a retry.
RETRY_STATUSES = frozenset({503})


@dataclass
class Writer:
    """One client: its items, what the server acknowledged, and anything that went wrong."""

    number: int
    items: list[str]
    api: str
    token: str
    inspection_id: int
    #: item key → (revision, comment) of each acknowledged answer, in order.
    answers: dict[str, list[tuple[int, str]]] = field(default_factory=dict)
    #: photo id → item key of each acknowledged upload.
    photos: dict[int, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    retries: int = 0

    def run(self, stop: threading.Event) -> None:
        count = 0
        while not stop.is_set() and not self.problems:
            item = self.items[count % len(self.items)]
            uploaded = sum(1 for key in self.photos.values() if key == item)
            if count % 3 == 2 and uploaded < PHOTOS_PER_ITEM:
                self._upload(item, count)
            else:
                self._answer(item, f"writer {self.number}, write {count}")
            count += 1

    def _answer(self, item: str, comment: str) -> None:
        earlier = self.answers.setdefault(item, [])
        base = earlier[-1][0] if earlier else 0
        body = json.dumps({"result": "pass", "comment": comment, "base_revision": base}).encode()
        path = f"/inspections/{self.inspection_id}/answers/{item}"
        reply = self._write("PUT", path, lambda: (body, "application/json"))
        if reply is None:
            return
        answer = reply["answer"]
        if (answer["revision"], answer["comment"]) != (base + 1, comment):
            self.problems.append(f"{item}: acknowledged {answer['revision']} {answer['comment']!r}, sent {comment!r}")
        earlier.append((answer["revision"], comment))

    def _upload(self, item: str, count: int) -> None:
        image = io.BytesIO()
        Image.new("RGB", (24, 16), (self.number * 60 % 256, count % 256, 90)).save(image, "PNG")
        png = image.getvalue()

        def multipart() -> tuple[bytes, str]:
            # A new boundary on every try, as a client that rebuilds the body does.
            boundary = uuid.uuid4().hex
            body = (
                (
                    f'--{boundary}\r\nContent-Disposition: form-data; name="item_key"\r\n\r\n{item}\r\n'
                    f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.png"\r\n'
                    f"Content-Type: image/png\r\n\r\n"
                ).encode()
                + png
                + f"\r\n--{boundary}--\r\n".encode()
            )
            return body, f"multipart/form-data; boundary={boundary}"

        reply = self._write("POST", f"/inspections/{self.inspection_id}/photos", multipart)
        if reply is not None:
            self.photos[reply["id"]] = item

    def _write(self, method: str, path: str, body: Any) -> dict[str, Any] | None:
        """Send one write until the server acknowledges it, always with the same key; None if it never was."""
        key = uuid.uuid4().hex
        deadline = time.monotonic() + RETRY_FOR
        while time.monotonic() < deadline:
            data, content_type = body()
            request = urllib.request.Request(
                self.api + path,
                data=data,
                method=method,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Idempotency-Key": key,
                    "Content-Type": content_type,
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=15) as response:
                    acknowledged: dict[str, Any] = json.loads(response.read())
                    return acknowledged
            except urllib.error.HTTPError as error:
                if error.code not in RETRY_STATUSES:
                    self.problems.append(f"{method} {path}: {error.code} {error.read()[:300]!r}")
                    return None
            except (OSError, http.client.HTTPException):
                pass  # the server died under the request (or is not back yet): the same write again
            self.retries += 1
            time.sleep(0.05)
        self.problems.append(f"{method} {path}: never acknowledged within {RETRY_FOR:.0f} s")
        return None


def _items(count: int) -> list[str]:
    """Pass/fail items that every building has (no feature required)."""
    checklist = load_checklist(CHECKLIST_FILE).checklist
    keys = [
        item.key
        for section in checklist.sections
        if section.requires_feature is None
        for item in section.items
        if item.answer.type == "pass_fail" and item.requires_feature is None
    ]
    assert len(keys) >= count
    return keys[:count]


def _api_json(api: str, token: str, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        api + path,
        data=json.dumps(payload).encode() if payload is not None else None,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": uuid.uuid4().hex,
            "Content-Type": "application/json",
        },
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def _referenced(connection: Connection) -> set[str]:
    """The files every stored photo of any kind (of an inspection, the demo's, a task's) refers to."""
    kinds = [mapper.class_ for mapper in Base.registry.mappers if issubclass(mapper.class_, StoredPhoto)]
    return {
        path
        for kind in kinds
        for row in connection.execute(select(kind.file_path, kind.thumbnail_path))
        for path in (row.file_path, row.thumbnail_path)
    }


def _files(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()} if root.is_dir() else set()


@pytest.mark.crash
def test_no_acknowledged_write_is_lost_when_the_server_is_killed(
    database_kind: str, demo_templates: DemoTemplates, tmp_path: Path
) -> None:
    rng = random.Random(16)
    # A copy of the demo made by the commands `tryggahus init` and `demo`, with its photo files.
    with demo_copy(demo_templates.get(database_kind), tmp_path) as url:
        env = app_environment(url, tmp_path)
        token = tryggahus(env, "token", "create", "--email", demo_email(Role.inspector), "--name", "crash").strip()
        port = free_port()
        command = [str(BIN / "gunicorn"), "--workers", "2", "--bind", f"{HOST}:{port}", "wsgi:app"]
        api = f"http://{HOST}:{port}/api/v1"
        stop = threading.Event()
        writers: list[Writer] = []
        threads: list[threading.Thread] = []
        started = time.monotonic()

        try:
            for life in range(KILLS + 1):
                with served(command, env, tmp_path, port) as server:
                    if life == 0:
                        building = _api_json(api, token, "GET", "/buildings")["buildings"][0]["id"]
                        inspection = _api_json(
                            api, token, "POST", "/inspections", {"building_id": building, "kind": "spot_check"}
                        )["id"]
                        items = _items(WRITERS * ITEMS_PER_WRITER)
                        for number in range(WRITERS):
                            own = items[number * ITEMS_PER_WRITER : (number + 1) * ITEMS_PER_WRITER]
                            writers.append(Writer(number, own, api, token, inspection))
                        threads = [threading.Thread(target=writer.run, args=(stop,), daemon=True) for writer in writers]
                        for thread in threads:
                            thread.start()
                    if life < KILLS:
                        time.sleep(rng.uniform(0.4, 1.2))
                        # The master and both workers at once, mid-request: nothing gets to clean up.
                        os.killpg(server.process.pid, signal.SIGKILL)
                    else:
                        # The last life: let every write in flight be acknowledged, then stop the server cleanly.
                        time.sleep(0.5)
                        stop.set()
                        for thread in threads:
                            thread.join(timeout=RETRY_FOR + 20)
                        log = server.log_tail()
        finally:
            stop.set()  # the writers must not outlive a failed test
        elapsed = time.monotonic() - started

        problems = [problem for writer in writers for problem in writer.problems]
        assert not any(thread.is_alive() for thread in threads), "a writer did not finish"
        assert not problems, "\n".join(problems) + "\n" + log

        photo_root = tmp_path / "photos"
        engine = make_engine(url)
        try:
            with engine.connect() as connection:
                stored_answers = {
                    row.item_key: (row.revision, row.comment)
                    for row in connection.execute(
                        select(Answer.item_key, Answer.revision, Answer.comment).where(
                            Answer.inspection_id == inspection
                        )
                    )
                }
                stored_photos = {
                    row.id: row
                    for row in connection.execute(
                        select(Photo.id, Photo.item_key, Photo.file_path, Photo.thumbnail_path).where(
                            Photo.inspection_id == inspection
                        )
                    )
                }
                if database_kind == "sqlite":
                    assert connection.execute(text("PRAGMA integrity_check")).scalars().all() == ["ok"]
                referenced = _referenced(connection)
            leftovers_before_purge = len(_files(photo_root) - referenced)
        finally:
            engine.dispose()

        acknowledged_answers = {item: acks[-1] for writer in writers for item, acks in writer.answers.items() if acks}
        acknowledged_photos = {photo: item for writer in writers for photo, item in writer.photos.items()}
        # Every acknowledged answer is stored with exactly as many revisions as were acknowledged (one per write,
        # none applied twice), and no write that was not acknowledged is stored either.
        assert stored_answers == acknowledged_answers
        for writer in writers:
            for acks in writer.answers.values():
                assert [revision for revision, _comment in acks] == list(range(1, len(acks) + 1))
        # Every acknowledged photo is stored once, with its files, and no other photo is.
        assert {photo: row.item_key for photo, row in stored_photos.items()} == acknowledged_photos
        for row in stored_photos.values():
            assert (photo_root / row.file_path).is_file()
            assert (photo_root / row.thumbnail_path).is_file()

        tryggahus(env, "purge", "--grace-hours", "0")
        assert _files(photo_root) == referenced, "purge must leave exactly the files the photos refer to"

        answers = sum(len(acks) for writer in writers for acks in writer.answers.values())
        retries = sum(writer.retries for writer in writers)
        print(
            f"\ncrash test ({database_kind}): {KILLS} kills in {elapsed:.1f} s, {answers} answers and "
            f"{len(acknowledged_photos)} photos acknowledged, {retries} retries after connection errors, "
            f"0 lost; {leftovers_before_purge} orphan files before purge, 0 after"
        )
