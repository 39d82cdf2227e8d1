"""What happens to deviation reports (see `audit.events` for the arguments every event carries).

One event per step of a report's history (`DeviationAction`: reported, acknowledged, action_taken, closed,
commented, linked, task_created). The events carry statuses, the category and ids, never the description or a
comment: a sensitive report's words stay with the organisation's safety coordinators.
"""

from audit.deviations.workflow import DeviationAction
from audit.events import event

report_events = {action: event(f"deviation.{action.value}") for action in DeviationAction}
catalogue_loaded = event("deviation_catalogue.loaded")
