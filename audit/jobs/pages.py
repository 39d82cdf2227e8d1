"""What every job's pages share: the job of a kind (or 404), its state as the page and `batch.js` show it, and its
file as a download. Each domain's views add their own addresses and texts."""

from __future__ import annotations

import io

from flask import Response, abort
from flask import send_file as flask_send_file

from audit.access import get_scoped_or_404
from audit.jobs.context import JobKind
from audit.jobs.models import Job, JobStatus
from audit.jobs.results import read_result


def job_of_kind_or_404(job_id: int, kind: JobKind) -> Job:
    """The job of the user's organisation with this id, if it is of `kind`; 404 for anything else."""
    job = get_scoped_or_404(Job, job_id)
    if job.kind != kind.name:
        abort(404)
    return job


def job_state(job: Job, download: str | None) -> dict[str, object]:
    """The job as its page and the page's script show it; any web server reads it from the row. `download` is the
    address of its file, shown once there is one."""
    return {
        "id": job.id,
        "status": job.status.value,
        "total": job.total,
        "done": job.done,
        "attempt": job.attempts,
        "max_attempts": job.max_attempts,
        "errors": job.errors,
        "failure": job.failure,
        "download": download if job.result_name else None,
    }


def result_download(job: Job, mimetype: str, download_name: str) -> Response:
    """The finished job's file as a private download; 404 while there is none (or once it has been removed)."""
    data = read_result(job.result_name or "") if job.status is JobStatus.finished else None
    if data is None:
        abort(404)
    response = flask_send_file(
        io.BytesIO(data), mimetype=mimetype, as_attachment=True, download_name=download_name, max_age=0
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
