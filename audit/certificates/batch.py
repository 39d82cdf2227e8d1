"""Printing many signs at once, as one PDF or a ZIP of PDFs, from the command line or as a background job.

Every sign is rendered on its own: one that fails is reported (its number and the error) and the others are
still printed. In the browser, a job row (`BatchJob`) records the progress; on the embedded default the job runs
in a thread of the web process that started it, and the page polls its progress as JSON. (Scaled out, the same
`run_job` is what a job queue's worker would call.)
"""

from __future__ import annotations

import io
import re
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from flask import Flask, current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.certificates.documents import PaperSize, SignFacts, sign_document, sign_facts
from audit.certificates.models import BatchFormat, BatchJob, Certificate
from audit.pdf import join_pdf
from audit.storage.services import app_store

MEDIA_TYPES = {BatchFormat.pdf: "application/pdf", BatchFormat.zip: "application/zip"}


@dataclass
class BatchOutput:
    #: The PDF or ZIP; None when no sign could be made.
    data: bytes | None
    printed: int = 0
    #: (certificate number, error) for every sign that failed.
    errors: list[tuple[str, str]] = field(default_factory=list)


def _file_name(facts: SignFacts) -> str:
    ascii_text = unicodedata.normalize("NFKD", facts.street_address).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9]+", "-", ascii_text).strip("-").lower()[:60]
    return f"{facts.number}-{slug or 'sign'}.pdf"


def print_signs(
    signs: Sequence[SignFacts],
    output_format: BatchFormat,
    *,
    render: Callable[[SignFacts], Any],
    on_progress: Callable[[int], None] | None = None,
) -> BatchOutput:
    """Render every sign with `render` (which returns a laid-out document) and put them together."""
    documents: list[tuple[SignFacts, Any]] = []
    output = BatchOutput(data=None)
    for done, facts in enumerate(signs, start=1):
        try:
            documents.append((facts, render(facts)))
        except Exception as exc:  # any failure of one sign is reported; the others go on
            current_app.logger.exception("sign %s could not be printed", facts.number)
            output.errors.append((facts.number, f"{type(exc).__name__}: {exc}"[:300]))
        if on_progress is not None:
            on_progress(done)
    output.printed = len(documents)
    if not documents:
        return output
    if output_format is BatchFormat.pdf:
        output.data = join_pdf([document for _facts, document in documents])
        return output
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for facts, document in documents:
            archive.writestr(_file_name(facts), document.write_pdf())
        if output.errors:
            archive.writestr("errors.txt", "".join(f"{number}: {error}\n" for number, error in output.errors))
    output.data = buffer.getvalue()
    return output


def sign_renderer(size: PaperSize, language: str) -> Callable[[SignFacts], Any]:
    return partial(sign_document, size=size, language=language)


# --- background jobs --------------------------------------------------------------------------------------------

_threads: list[threading.Thread] = []


def save_output(data: bytes, output_format: BatchFormat) -> str:
    """Keep a job's PDF or ZIP in the batch outputs' store (`TRYGGAHUS_STORAGE`); its key is the job's result."""
    return app_store("batches").save(data, f".{output_format.value}")


def read_output(name: str) -> bytes:
    """A job's output; NotStored (a FileNotFoundError) when it is gone, ValueError for a name no store wrote."""
    return app_store("batches").read(name)


def create_job(
    session: Session,
    actor_id: int,
    organisation_id: int,
    certificates: Sequence[Certificate],
    output_format: BatchFormat,
    size: PaperSize,
    language: str,
) -> BatchJob:
    job = BatchJob(
        organisation_id=organisation_id,
        created_by_id=actor_id,
        format=output_format,
        params={"certificate_ids": [c.id for c in certificates], "size": size.value, "language": language},
        total=len(certificates),
        errors=[],
    )
    session.add(job)
    session.flush()
    return job


def start_after_commit(session: Session, job_id: int) -> None:
    """Run the job in a thread once the transaction that created it has committed (never for a rolled-back one)."""
    from sqlalchemy import event

    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def _start(_session: Session) -> None:
        thread = threading.Thread(target=run_job, args=(app, job_id), name=f"batch-job-{job_id}", daemon=True)
        _threads.append(thread)
        thread.start()

    event.listen(session, "after_commit", _start, once=True)


def wait_for_jobs(timeout: float = 60) -> None:
    """Wait for the jobs started in this process (tests, and a clean shutdown)."""
    while _threads:
        _threads.pop().join(timeout)


def _update(session: Session, job_id: int, change: Callable[[BatchJob], None]) -> None:
    """Change the job in one short write transaction (the rendering in between holds no lock)."""
    from audit.extensions import db

    session.rollback()
    db.begin_write()
    job = session.get(BatchJob, job_id, populate_existing=True)
    if job is not None:
        change(job)
    session.commit()


def _set_done(done: int) -> Callable[[BatchJob], None]:
    def change(job: BatchJob) -> None:
        job.done = done

    return change


def run_job(app: Flask, job_id: int) -> None:
    """Print a job's signs, recording progress as it goes; any error ends it as failed, with the reason."""
    from audit.logs import log_context

    with log_context(job_id=f"batch-{job_id}"):  # every line the job logs names it
        _run_job(app, job_id)


def _run_job(app: Flask, job_id: int) -> None:
    from audit.extensions import db

    with app.app_context():
        session = db.session
        try:
            job = session.get(BatchJob, job_id)
            if job is None:
                return
            ids = job.params["certificate_ids"]
            certificates = session.scalars(
                select(Certificate).where(Certificate.id.in_(ids), Certificate.organisation_id == job.organisation_id)
            ).all()
            order = {ident: position for position, ident in enumerate(ids)}
            signs = [sign_facts(c) for c in sorted(certificates, key=lambda c: order[c.id])]
            output_format, size, language = job.format, PaperSize(job.params["size"]), job.params["language"]
            _update(session, job_id, lambda job: job.start(len(signs)))
            output = print_signs(
                signs,
                output_format,
                render=sign_renderer(size, language),
                on_progress=lambda done: _update(session, job_id, _set_done(done)),
            )
            name = None if output.data is None else save_output(output.data, output_format)
            errors = [{"number": number, "error": error} for number, error in output.errors]
            _update(session, job_id, lambda job: job.finish(name, errors))
        except Exception as exc:
            app.logger.exception("batch job %s failed", job_id)
            reason = f"{type(exc).__name__}: {exc}"[:300]
            _update(session, job_id, lambda job: job.fail(reason))
        finally:
            db.remove_session()
