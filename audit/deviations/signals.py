"""What happens to deviation reports (see `audit.events` for the arguments every event carries).

One event per step of a report's history (`DeviationAction`: reported, acknowledged, action_taken, closed,
commented, linked, task_created). The events carry statuses, the category and ids, never the description or a
comment: a sensitive report's words stay with the organisation's safety coordinators.
"""

from audit.deviations.workflow import DeviationAction
from audit.events import event

report_events = {action: event(f"deviation.{action.value}") for action in DeviationAction}
catalogue_loaded = event("deviation_catalogue.loaded")
#: A coordinator shared a report with the partners of the EST groups covering its area (or took it back).
report_shared = event("deviation.shared")
#: EST groups: set up, a party added, an area mapped, the hot-spot rule changed, a measure or an analysis saved.
group_created = event("est_group.created")
group_changed = event("est_group.changed")
measure_recorded = event("est_measure.recorded")
measure_status_changed = event("est_measure.status_changed")
analysis_saved = event("est_hot_spot_analysis.saved")
spot_check_started = event("est_spot_check.started")
