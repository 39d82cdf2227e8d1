"""What happens to inspections (see `audit.events` for the arguments every event carries)."""

from audit.events import event

inspection_started = event("inspection.started")
inspection_submitted = event("inspection.submitted")
inspection_approved = event("inspection.approved")
inspection_returned = event("inspection.returned")
inspection_discarded = event("inspection.discarded")
