"""The job queue: claims, leases and recovery on a real database, and real `tryggahus worker` processes — on the
embedded SQLite queue, killed with SIGKILL mid-job, and two of them sharing a Redis queue of the test's own.

Every test runs on each test database (SQLite, and PostgreSQL with TEST_DATABASE_URL); the workers are the console
script in processes of their own, and jobs are started through the certificates page as a manager starts them.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from audit import create_app
from audit.database import utcnow
from audit.extensions import db
from audit.jobs.models import Job, JobStatus
from audit.jobs.services import (
    Claim,
    claim,
    create_job,
    create_unique_job,
    fail,
    finish,
    record_progress,
    recover,
    release,
    renew,
)
from audit.purge import CLEANUP
from audit.settings import Settings, SettingsError
from tests.conftest import fresh_database
from tests.jobs_support import (
    ended,
    job_worker,
    poll,
    print_setup,
    progress,
    redis_server,
    start_batch,
)
from tests.pdf_support import pdf_text
from tests.served_support import app_environment
from tests.web_support import login

LEASE = timedelta(seconds=30)


@pytest.fixture
def site(database_kind: str, tmp_path: Path) -> Iterator[tuple[Flask, dict[str, str]]]:
    """An app on an empty database of its own, and the environment a worker process needs to share it (the same
    database, instance folder, so the embedded queue, and secret, which signs the queue's messages)."""
    with fresh_database(database_kind, tmp_path) as url:
        env = app_environment(url, tmp_path)
        app = _app(env)
        try:
            yield app, env
        finally:
            app.extensions["tryggahus.database"].engine.dispose()


def _app(env: dict[str, str]) -> Flask:
    return create_app(Settings.from_env(env, overrides={"TESTING": True}))


def _job(app: Flask, job_id: int) -> Job:
    with app.app_context():
        job = db.session.get(Job, job_id)
        assert job is not None
        db.session.expunge(job)
        return job


def _new_cleanup_job(app: Flask) -> int:
    from audit.migrate import upgrade

    upgrade(app.extensions["tryggahus.database"].engine)
    with app.app_context():
        job = create_job(db.session, CLEANUP, params={"grace_hours": 24})
        db.session.commit()
        return job.id


# --- claims, leases, recovery ------------------------------------------------------------------------------------


def test_a_claim_holds_the_job_until_its_lease_expires_and_only_the_holder_writes(
    site: tuple[Flask, dict[str, str]],
) -> None:
    app, _env = site
    job_id = _new_cleanup_job(app)
    engine = app.extensions["tryggahus.database"].engine
    first = claim(engine, job_id, "a", LEASE)
    assert first is not None
    assert first.attempt == 1
    assert claim(engine, job_id, "b", LEASE) is None  # running under a live lease
    assert record_progress(engine, first, LEASE, 1, 4)
    assert renew(engine, first, LEASE)
    assert _job(app, job_id).done == 1

    # The holder stops renewing (paused, killed): once its lease has expired another worker takes the job over,
    # and the first one can no longer change it.
    assert renew(engine, first, timedelta(0))
    time.sleep(0.01)
    second = claim(engine, job_id, "b", LEASE)
    assert second is not None
    assert second.attempt == 2
    assert _job(app, job_id).done == 0  # every attempt counts from the start
    assert not record_progress(engine, first, LEASE, 3)
    assert not finish(engine, first, result_name=None, errors=[], summary=None)
    assert not fail(engine, first, "too late")
    assert finish(engine, second, result_name=None, errors=[], summary={"removed": 0})
    job = _job(app, job_id)
    assert (job.status, job.attempts, job.worker, job.lease_expires_at) == (JobStatus.finished, 2, "b", None)
    assert claim(engine, job_id, "c", LEASE) is None  # finished is final
    assert claim(engine, 2**31 - 1, "c", LEASE) is None  # and a job that is not there is nobody's


def test_recovery_queues_again_what_a_stopped_worker_held_and_fails_it_after_its_attempts(
    site: tuple[Flask, dict[str, str]],
) -> None:
    app, _env = site
    job_id = _new_cleanup_job(app)
    engine = app.extensions["tryggahus.database"].engine
    assert recover(engine) == []  # queued, its message is young: nothing to do
    for attempt in (1, 2):
        held = claim(engine, job_id, f"worker-{attempt}", timedelta(0))  # its worker dies at once
        assert held is not None
        assert held.attempt == attempt
        assert recover(engine, utcnow() + timedelta(seconds=1)) == [job_id]
        job = _job(app, job_id)
        assert (job.status, job.attempts) == (JobStatus.queued, attempt)
        assert recover(engine, utcnow() + timedelta(seconds=1)) == []  # sent once, not at every recovery
    last = claim(engine, job_id, "worker-3", timedelta(0))
    assert last is not None
    assert last.attempt == 3
    assert recover(engine, utcnow() + timedelta(seconds=1)) == []
    job = _job(app, job_id)
    assert job.status is JobStatus.failed
    assert job.failure is not None
    assert "stopped during each of its 3 attempts" in job.failure
    assert "worker-3" in job.failure
    assert claim(engine, job_id, "worker-4", LEASE) is None


def test_a_queued_job_whose_message_is_lost_is_sent_again_and_a_stopping_worker_gives_its_job_back(
    site: tuple[Flask, dict[str, str]],
) -> None:
    app, _env = site
    job_id = _new_cleanup_job(app)
    engine = app.extensions["tryggahus.database"].engine
    later = utcnow() + timedelta(minutes=6)  # no worker took it within five minutes
    assert recover(engine, later) == [job_id]
    assert recover(engine, later) == []
    held = claim(engine, job_id, "a", LEASE)
    assert held is not None
    assert release(engine, held)  # huey interrupts it at shutdown: queued again, the attempt not counted
    job = _job(app, job_id)
    assert (job.status, job.attempts) == (JobStatus.queued, 0)
    assert recover(engine, utcnow() + timedelta(seconds=1)) == [job_id]  # and sent by the next recovery


def test_one_claim_wins_when_workers_claim_at_once(site: tuple[Flask, dict[str, str]]) -> None:
    app, _env = site
    job_id = _new_cleanup_job(app)
    engine = app.extensions["tryggahus.database"].engine
    start = threading.Barrier(8)
    claims: list[Claim | None] = []
    errors: list[BaseException] = []

    def worker(name: str) -> None:
        try:
            start.wait()
            claims.append(claim(engine, job_id, name, LEASE))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    won = [c for c in claims if c is not None]
    assert len(claims) == 8
    assert len(won) == 1
    assert _job(app, job_id).worker == won[0].worker


def test_the_daily_cleanup_is_one_job_a_day_however_many_schedulers_ask(
    site: tuple[Flask, dict[str, str]], tmp_path: Path
) -> None:
    from audit.jobs.queue import JobQueue
    from audit.jobs.runner import run_job

    app, _env = site
    _new_cleanup_job(app)
    engine = app.extensions["tryggahus.database"].engine
    day = utcnow().date().isoformat()
    first = create_unique_job(engine, CLEANUP, f"cleanup:{day}", {"grace_hours": 24})
    assert first is not None
    assert create_unique_job(engine, CLEANUP, f"cleanup:{day}", {"grace_hours": 24}) is None
    # The periodic task of two workers' schedulers: the day's job exists, neither makes another.
    queue = JobQueue(app.config["TRYGGAHUS"])
    queue._daily_cleanup()
    queue._daily_cleanup()
    with app.app_context():
        assert db.session.scalars(select(Job.id).where(Job.unique_key.like("cleanup:%"))).all() == [first]

    orphan = app.config["TRYGGAHUS"].photo_root / "ab" / "cd" / f"{'a' * 32}.jpg"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"left behind by a crash")
    os.utime(orphan, (time.time() - 2 * 86400, time.time() - 2 * 86400))
    run_job(app, first, "in-process", LEASE)
    job = _job(app, first)
    assert job.status is JobStatus.finished, job.failure
    assert job.summary == {"removed": 1, "items": [f"photos: ab/cd/{'a' * 32}.jpg"]}
    assert (job.done, job.total) == (1, 1)
    assert not orphan.exists()


def test_a_queue_url_must_be_redis() -> None:
    with pytest.raises(SettingsError, match="QUEUE_URL must be a Redis URL"):
        Settings.from_env({"TRYGGAHUS_QUEUE_URL": "postgresql://secret@db/queue"})
    with pytest.raises(SettingsError, match="JOB_LEASE_SECONDS"):
        Settings.from_env({"TRYGGAHUS_JOB_LEASE_SECONDS": "0"})
    assert Settings.from_env({"TRYGGAHUS_QUEUE_URL": "redis://127.0.0.1:6379/1"}).queue_url


# --- real workers ------------------------------------------------------------------------------------------------


def test_a_worker_process_prints_a_batch_started_on_the_page_before_it_ran(
    site: tuple[Flask, dict[str, str]], tmp_path: Path
) -> None:
    """The job is started while no worker runs, by a web app that then goes away (a restarted web worker); a
    worker started afterwards runs it, and another web app shows its progress to the end and serves the file."""
    app, env = site
    setup = print_setup(app, signs=3)
    starting = app.test_client()
    login(starting, setup.manager_email)
    job_id = start_batch(starting, setup.area_id)
    assert progress(starting, job_id)["status"] == "queued"
    assert (tmp_path / "queue.sqlite3").is_file()  # the message waits in the embedded queue, not in this process

    restarted = _app(env)
    client = restarted.test_client()
    login(client, setup.manager_email)
    with job_worker(env, tmp_path, "--workers", "1", "--name", "solo") as worker:
        state, seen = poll(client, job_id, ended, logs=worker.log_tail)
    assert state["status"] == "finished", worker.log_tail()
    assert (state["done"], state["total"], state["attempt"], state["errors"]) == (3, 3, 1, [])
    statuses = [s["status"] for s in seen]
    assert statuses[0] == "queued"
    assert set(statuses) <= {"queued", "running", "finished"}
    assert all(a["done"] <= b["done"] for a, b in itertools.pairwise(seen) if b["status"] == "running")
    assert _job(restarted, job_id).worker.startswith("solo/")  # type: ignore[union-attr]
    download = client.get(state["download"])
    assert download.mimetype == "application/pdf"
    text = pdf_text(download.data)
    assert all(number in text for number in setup.numbers)
    restarted.extensions["tryggahus.database"].engine.dispose()


def test_a_stopped_worker_gives_its_job_back_and_a_killed_one_loses_it_to_the_next(
    site: tuple[Flask, dict[str, str]], tmp_path: Path
) -> None:
    """A worker stopped with SIGTERM (a deploy) gives its job back, the attempt not counted. A worker
    SIGKILLed with its whole process group once the job shows progress cannot clean up: the next worker's recovery
    finds the expired lease and runs the job again, to the last sign, every sign once."""
    app, env = site
    env = {**env, "TRYGGAHUS_JOB_LEASE_SECONDS": "3"}  # the killed worker's lease expires soon after the kill
    setup = print_setup(app, signs=1, copies=60)
    client = app.test_client()
    login(client, setup.manager_email)
    job_id = start_batch(client, setup.area_id)
    started = lambda state: state["done"] >= 1 or ended(state)  # noqa: E731

    with job_worker(env, tmp_path, "--workers", "1", "--name", "stopped") as stopped:
        assert poll(client, job_id, started, interval=0.02, logs=stopped.log_tail)[0]["status"] == "running"
        stopped.terminate()
    given_back = progress(client, job_id)
    assert (given_back["status"], given_back["attempt"], given_back["done"]) == ("queued", 0, 0), stopped.log_tail()

    with job_worker(env, tmp_path, "--workers", "1", "--name", "killed") as killed:
        # Usually this worker's recovery at its start sends the job at once. But the stopped worker's own recovery
        # (scheduled one lease after its start) may have sent it just before it died, into a worker that took the
        # message with it: then the job is sent again five leases later, by the next minute's recovery.
        state, _seen = poll(client, job_id, started, timeout=150, interval=0.02, logs=killed.log_tail)
        killed.kill()
    assert state["status"] == "running", killed.log_tail()
    assert state["attempt"] == 1  # sent again by this worker's recovery at its start, the SIGTERMed attempt not counted
    killed_at = progress(client, job_id)
    assert killed_at["status"] == "running"
    assert 1 <= killed_at["done"] < killed_at["total"] == len(setup.numbers)

    with job_worker(env, tmp_path, "--workers", "1", "--name", "next") as following:
        state, seen = poll(client, job_id, ended, logs=following.log_tail)
    assert state["status"] == "finished", following.log_tail()
    assert state["attempt"] == 2
    assert state["done"] == state["total"] == len(setup.numbers)
    assert any(s["status"] == "running" and s["attempt"] == 2 for s in seen)
    job = _job(app, job_id)
    assert job.worker is not None
    assert job.worker.startswith("next/")
    text = pdf_text(client.get(state["download"]).data)
    assert all(number in text for number in setup.numbers)
    assert text.count("\f") == len(setup.numbers)  # every sign once: nothing of the killed attempt is in it


def test_two_workers_share_one_redis_queue_and_run_each_job_once(
    site: tuple[Flask, dict[str, str]], tmp_path: Path
) -> None:
    """Two web apps send jobs to one Redis queue; two worker processes (as on two machines) both take jobs from
    it, and every job is run exactly once."""
    app, env = site
    setup = print_setup(app, signs=3)
    with redis_server(tmp_path) as url:
        env = {**env, "TRYGGAHUS_QUEUE_URL": url}
        webs = [_app(env), _app(env)]
        clients = [web.test_client() for web in webs]
        for client in clients:
            login(client, setup.manager_email)
        with (
            job_worker(env, tmp_path, "--workers", "1", "--name", "a") as a,
            job_worker(env, tmp_path, "--workers", "1", "--name", "b") as b,
        ):
            time.sleep(1.5)  # both waiting on the queue, so the first jobs go one to each
            jobs = [start_batch(clients[n % 2], setup.area_id, "zip") for n in range(8)]
            states = [poll(clients[0], job_id, ended, logs=lambda: a.log_tail() + b.log_tail())[0] for job_id in jobs]
            logs = a.log.read_text() + b.log.read_text()
        for web in webs:
            web.extensions["tryggahus.database"].engine.dispose()
    assert not (tmp_path / "queue.sqlite3").exists()  # Redis carried every message
    assert [s["status"] for s in states] == ["finished"] * len(jobs)
    assert {s["attempt"] for s in states} == {1}
    workers = {_job(app, job_id).worker.split("/")[0] for job_id in jobs}  # type: ignore[union-attr]
    assert workers == {"a", "b"}
    for job_id in jobs:
        assert logs.count(f"job {job_id} (certificates.print_signs): attempt 1 taken by") == 1
    assert all(s["done"] == s["total"] == 3 for s in states)
