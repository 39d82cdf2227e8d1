"""What happens to remediation tasks (see `audit.events` for the arguments every event carries).

One event per step of a task's history (`TaskAction`: created, assigned, started, completed, verified, …), and one
for every export of task lists, which name people (assignees) and so are exports of personal data.
"""

from audit.events import event
from audit.remediation.workflow import TaskAction

task_events = {action: event(f"task.{action.value}") for action in TaskAction}
tasks_exported = event("task_list.exported")
