"""Running one job in a worker: claim it, keep its lease alive, run its kind's function, record how it ended."""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import Engine

from audit.jobs import results, services
from audit.jobs.context import JobContext, JobOutcome, LeaseLost
from audit.jobs.kinds import kinds
from audit.jobs.services import Claim

logger = logging.getLogger(__name__)


def worker_name(name: str | None = None) -> str:
    """Who holds a job: the worker's name (the host by default), host, process and thread."""
    host = socket.gethostname()
    return f"{name or host}/{host}/{os.getpid()}/{threading.current_thread().name}"[:200]


class Heartbeat(threading.Thread):
    """Renews the lease every third of its length while the job runs (one render may take longer than a lease)."""

    def __init__(self, engine: Engine, context: JobContext) -> None:
        super().__init__(name=f"job-{context.job_id}-heartbeat", daemon=True)
        self.engine = engine
        self.context = context
        self.stopped = threading.Event()

    def run(self) -> None:
        interval = self.context.lease.total_seconds() / 3
        while not self.stopped.wait(interval):
            try:
                if not services.renew(self.engine, self.context.claim, self.context.lease):
                    self.context.lost.set()
                    return
            except Exception:  # a database hiccup: try again at the next beat, the lease has time left
                logger.exception("job %s: the lease could not be renewed", self.context.job_id)

    def stop(self) -> None:
        self.stopped.set()
        self.join(5)


def run_job(app: Flask, job_id: int, worker: str, lease: timedelta) -> None:
    """Run the job if it can be claimed (a job that is running elsewhere, finished or gone is left alone).

    An exception of the job fails it with the reason; a stop of the worker itself (KeyboardInterrupt, SystemExit:
    huey's shutdown) gives the job back, queued with an expired lease, so the next recovery (another worker's, or
    this one's when it starts again) sends it at once. Not sent from here: huey may go on taking messages in a
    worker that is being stopped, and it would take its own job again.
    """
    from audit.extensions import db

    with app.app_context():
        engine = db.engine
        claim = services.claim(engine, job_id, worker, lease)
        if claim is None:
            logger.info("job %s: not claimed (running elsewhere, finished or gone)", job_id)
            return
        logger.info("job %s (%s): attempt %s taken by %s", job_id, claim.kind, claim.attempt, worker)
        kind = kinds().get(claim.kind)
        if kind is None:
            services.fail(engine, claim, f"Unknown kind of job: {claim.kind!r}.")
            return
        context = JobContext(engine, db.session, claim, lease)
        heartbeat = Heartbeat(engine, context)
        heartbeat.start()
        try:
            outcome = kind.run(context)
        except LeaseLost:
            logger.warning("job %s: lost its lease to another worker; stopped", job_id)
        except Exception as exc:
            logger.exception("job %s (%s) failed", job_id, claim.kind)
            services.fail(engine, claim, f"{type(exc).__name__}: {exc}")
        except BaseException:
            _give_back(engine, claim)
            raise
        else:
            _finish(engine, claim, outcome)
        finally:
            heartbeat.stop()
            db.remove_session()


def _finish(engine: Engine, claim: Claim, outcome: JobOutcome) -> None:
    recorded = services.finish(
        engine, claim, result_name=outcome.result_name, errors=outcome.errors, summary=outcome.summary
    )
    if not recorded:  # another worker has it now and makes its own file
        logger.warning("job %s: finished after losing its lease; its result is discarded", claim.job_id)
        if outcome.result_name:
            results.remove_result(outcome.result_name)


def _give_back(engine: Engine, claim: Claim) -> None:
    try:
        if services.release(engine, claim):
            logger.warning("job %s: the worker is stopping; the job is queued again", claim.job_id)
    except Exception:  # the recovery queues it again once its lease has expired
        logger.exception("job %s could not be given back", claim.job_id)
