"""Every kind of job by name: each domain keeps its job functions (`<domain>/jobs.py`), this only wires them.

A new kind (a report PDF on request, a notification) is a function
`run(context) -> JobOutcome` in its domain, a `JobKind` naming it, and a line here.
"""

from __future__ import annotations

from audit.jobs.context import JobKind


def kinds() -> dict[str, JobKind]:
    from audit.certificates.jobs import PRINT_SIGNS
    from audit.purge import CLEANUP
    from audit.remediation.jobs import EXPORT_TASKS

    return {kind.name: kind for kind in (PRINT_SIGNS, EXPORT_TASKS, CLEANUP)}
