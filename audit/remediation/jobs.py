"""The remediation domain's background job: exporting a long task list as CSV or Excel.

The list page's CSV and Excel buttons export at once, in the request; for a list too long to wait for, "Export in
the background" makes a job (`create_export_job`), a worker writes the file (`export_tasks_job`) and the job's page
shows the progress and offers the file. The export is recorded in the audit log when the worker makes it.
"""

from __future__ import annotations

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from audit.accounts.models import User
from audit.jobs.context import JobContext, JobKind, JobOutcome
from audit.jobs.models import Job
from audit.jobs.results import store_result
from audit.jobs.services import create_job
from audit.remediation import export, queries
from audit.remediation.filters import TaskFilter, parse_filter
from audit.remediation.presentation import header, task_row
from audit.remediation.services import record_export, today

FORMATS = ("csv", "xlsx")
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Progress is recorded after this many rows (one write per row would cost more than the row).
PROGRESS_EVERY = 500


def create_export_job(
    session: Session, actor: User, organisation_id: int, chosen: TaskFilter, output_format: str, language: str
) -> Job:
    return create_job(
        session,
        EXPORT_TASKS,
        organisation_id=organisation_id,
        created_by_id=actor.id,
        params={"filter": chosen.to_args(page=1), "format": output_format, "language": language},
    )


def export_tasks_job(context: JobContext) -> JobOutcome:
    """The tasks the filter chose, as the list showed them when the export was asked for, in the asker's language."""
    params, session = context.params, context.session
    organisation_id = context.organisation_id
    actor = session.get(User, context.claim.created_by_id) if context.claim.created_by_id else None
    if organisation_id is None or actor is None:
        raise ValueError("an export belongs to an organisation and a person")
    day = today()
    tasks = queries.all_tasks(session, organisation_id, parse_filter(params["filter"]), day)
    context.progress(0, len(tasks))
    with force_locale(params["language"]):
        rows = []
        for done, task in enumerate(tasks, start=1):
            rows.append(task_row(task, day, params["language"]))
            if done % PROGRESS_EVERY == 0:
                context.progress(done)
        titles = header()
        data = (
            export.to_csv(titles, rows)
            if params["format"] == "csv"
            else export.to_xlsx(_("Tasks"), titles, rows)
        )
    name = store_result(data, params["format"])
    # It names assignees: recorded as an export of personal data, in the worker's own short transaction.
    record_export(session, actor, organisation_id, params["format"], len(tasks))
    session.commit()
    return JobOutcome(result_name=name, summary={"rows": len(tasks)})


EXPORT_TASKS = JobKind("remediation.export_tasks", export_tasks_job)
