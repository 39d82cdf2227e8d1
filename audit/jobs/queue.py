"""The job queue: huey as the transport of job ids, on SQLite in the instance folder or on Redis.

Without `TRYGGAHUS_QUEUE_URL` the queue is huey's SQLite storage in `instance/queue.sqlite3`: nothing else to run,
web servers and workers on one machine. With a Redis URL, every web server and `tryggahus worker` on any machine
shares it. A message is only a job's id, signed with a key derived from the app's secret (huey pickles messages; a
forged one is refused), and the job row says everything else.

Three tasks: `run_job(id)`; `recover_jobs`, every minute and when a worker starts, which sends again the jobs whose
worker stopped (see `services.recover`); and `daily_cleanup`, which makes the day's clean-up job once, however many
workers' schedulers ask. The task functions run in the worker: each worker process builds its own app on its first
task, never one inherited through fork (as `tryggahus serve` does for gunicorn's workers).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from datetime import timedelta
from typing import Any

from flask import Flask, current_app
from huey import RedisHuey, SqliteHuey, crontab
from huey.api import Huey
from huey.serializer import SignedSerializer
from sqlalchemy import event
from sqlalchemy.orm import Session

from audit.settings import Settings

NAME = "tryggahus"
#: The daily clean-up runs at this time (UTC), when the fewest inspectors are out.
CLEANUP_AT = {"hour": "2", "minute": "30"}
#: What the daily clean-up leaves alone: files younger than this may belong to an upload in flight.
CLEANUP_GRACE_HOURS = 24


def queue_file(settings: Settings) -> str:
    return str(settings.instance_path / "queue.sqlite3")


def _serializer(settings: Settings) -> SignedSerializer:
    key = hmac.new(settings.resolve_secret_key().encode(), b"tryggahus job queue", hashlib.sha256).hexdigest()
    return SignedSerializer(secret=key, salt=NAME)


def _make_huey(settings: Settings) -> Huey:
    common: dict[str, Any] = {"results": False, "utc": True, "serializer": _serializer(settings)}
    if settings.queue_url:
        return RedisHuey(NAME, url=settings.queue_url, **common)
    settings.instance_path.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(NAME, filename=queue_file(settings), timeout=30, **common)


class JobQueue:
    """huey with this app's tasks; in a worker also the app its tasks run in (one per process)."""

    def __init__(self, settings: Settings, worker: str | None = None) -> None:
        self.settings = settings
        self.worker = worker
        self.lease = timedelta(seconds=settings.job_lease_seconds)
        self.huey = _make_huey(settings)
        self._run = self.huey.task(name="run_job")(self._run_job)
        self._recover = self.huey.periodic_task(crontab(), name="recover_jobs")(self._recover_jobs)
        self.huey.periodic_task(crontab(**CLEANUP_AT), name="daily_cleanup")(self._daily_cleanup)
        self._app: Flask | None = None
        self._app_pid = 0
        self._lock = threading.Lock()

    @property
    def embedded(self) -> bool:
        return not self.settings.queue_url

    # --- sending (any process) ------------------------------------------------------------------------------

    def send(self, job_id: int) -> None:
        self._run(job_id)

    def start_recovery(self) -> None:
        """When a worker starts: recover now, and once more when the leases of jobs held by a worker that stopped
        just before (a restart) have run out."""
        self._recover()
        self._recover.schedule(delay=self.lease.total_seconds() + 1)

    # --- the tasks (a worker) -------------------------------------------------------------------------------

    def app(self) -> Flask:
        """This process's app, built on first use in the process itself (never inherited through fork)."""
        with self._lock:
            if self._app is None or self._app_pid != os.getpid():
                from audit import create_app

                self._app, self._app_pid = create_app(self.settings), os.getpid()
            return self._app

    def _run_job(self, job_id: int) -> None:
        from audit.jobs.runner import run_job, worker_name

        run_job(self.app(), int(job_id), worker_name(self.worker), self.lease)

    def _recover_jobs(self) -> None:
        from audit.extensions import db
        from audit.jobs.services import recover

        # A message sent by a recovery can itself be lost (a worker that is being stopped may still take it): the
        # next one is sent after five leases, five minutes with the default lease of a minute.
        with self.app().app_context():
            to_send = recover(db.engine, resend_after=RESENDS_AFTER_LEASES * self.lease)
        for job_id in to_send:
            self.send(job_id)

    def _daily_cleanup(self) -> None:
        from audit.database import utcnow
        from audit.extensions import db
        from audit.jobs.services import create_unique_job
        from audit.purge import CLEANUP

        with self.app().app_context():
            day = utcnow().date().isoformat()
            job_id = create_unique_job(db.engine, CLEANUP, f"cleanup:{day}", {"grace_hours": CLEANUP_GRACE_HOURS})
        if job_id is not None:
            self.send(job_id)


#: How many leases a message sent again by a recovery has before the next recovery sends another.
RESENDS_AFTER_LEASES = 5


def queue_for(app: Flask) -> JobQueue:
    """The app's queue, set up on first use (an app that never sends a job never opens it)."""
    queue: JobQueue | None = app.extensions.get("tryggahus.queue")
    if queue is None:
        queue = app.extensions.setdefault("tryggahus.queue", JobQueue(app.config["TRYGGAHUS"]))
    return queue


def queue_answers(app: Flask) -> None:
    """Readiness: the queue's storage answers (Redis, or the embedded SQLite file), so a job sent now is kept."""
    queue_for(app).huey.pending_count()


def send_after_commit(session: Session, job_id: int) -> None:
    """Send the job's id once the transaction that created it has committed (never for a rolled-back one).

    If sending fails (Redis unreachable), the job stays queued and the recovery sends it later.
    """
    app: Flask = current_app._get_current_object()  # type: ignore[attr-defined]

    def _send(_session: Session) -> None:
        try:
            queue_for(app).send(job_id)
        except Exception:
            app.logger.exception("job %s could not be sent to the queue; the recovery sends it later", job_id)

    event.listen(session, "after_commit", _send, once=True)


def consume(queue: JobQueue, *, workers: int, worker_type: str, periodic: bool) -> None:
    """Run huey's consumer: `workers` processes (or threads) taking jobs, and its scheduler.

    Nothing here builds the app: process workers are forked from this process and each builds its own on its
    first task (`JobQueue.app`). The embedded SQLite queue is polled (at most a second between looks); Redis
    hands a message to a waiting worker at once.
    """
    import logging

    from audit.logs import configure_logging

    # The app's one handler (JSON in production), set up before huey forks its workers; each worker's app then
    # finds it and adds no second one, so every line is written once.
    configure_logging(queue.settings)
    logging.getLogger("huey").setLevel(logging.INFO)  # the consumer's start, stop and each task's time
    for chatty in ("weasyprint", "fontTools"):  # a line per step of every PDF
        logging.getLogger(chatty).setLevel(logging.WARNING)
    queue.start_recovery()
    consumer = queue.huey.create_consumer(
        workers=workers,
        worker_type=worker_type,
        periodic=periodic,
        initial_delay=0.1,
        max_delay=1.0 if queue.embedded else 10.0,
        check_worker_health=True,
    )
    consumer.run()
