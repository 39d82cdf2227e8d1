"""The certificates' background job: printing the signs of many certificates as one PDF or a ZIP.

A manager starts it on `/certificates/` (`create_print_job`, then the view sends it after the commit); a worker runs
`print_signs_job` and the page polls the job row's progress. `tryggahus certificates print` prints in its own
process instead, with the same `print_signs`.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.certificates.batch import print_signs, sign_renderer
from audit.certificates.documents import PaperSize, sign_facts
from audit.certificates.models import BatchFormat, Certificate
from audit.jobs.context import JobContext, JobKind, JobOutcome
from audit.jobs.models import Job
from audit.jobs.results import store_result
from audit.jobs.services import create_job


def create_print_job(
    session: Session,
    actor_id: int,
    organisation_id: int,
    certificates: Sequence[Certificate],
    output_format: BatchFormat,
    size: PaperSize,
    language: str,
) -> Job:
    return create_job(
        session,
        PRINT_SIGNS,
        organisation_id=organisation_id,
        created_by_id=actor_id,
        params={
            "certificate_ids": [c.id for c in certificates],
            "format": output_format.value,
            "size": size.value,
            "language": language,
        },
        total=len(certificates),
    )


def print_signs_job(context: JobContext) -> JobOutcome:
    """Print the job's signs in the order chosen, recording progress after each; one that fails is reported."""
    params = context.params
    ids = params["certificate_ids"]
    certificates = context.session.scalars(
        select(Certificate).where(Certificate.id.in_(ids), Certificate.organisation_id == context.organisation_id)
    ).all()
    order = {ident: position for position, ident in enumerate(ids)}
    signs = [sign_facts(c) for c in sorted(certificates, key=lambda c: order[c.id])]
    context.session.rollback()  # the facts are read: end the read transaction before the long rendering
    output_format = BatchFormat(params["format"])
    context.progress(0, len(signs))
    output = print_signs(
        signs,
        output_format,
        render=sign_renderer(PaperSize(params["size"]), params["language"]),
        on_progress=context.progress,
    )
    name = store_result(output.data, output_format.value) if output.data is not None else None
    errors = [{"number": number, "error": error} for number, error in output.errors]
    return JobOutcome(result_name=name, errors=errors)


PRINT_SIGNS = JobKind("certificates.print_signs", print_signs_job)
