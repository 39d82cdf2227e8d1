"""What happens to the audit log itself (see `audit.events` for the arguments every event carries)."""

from audit.events import event

#: The log was exported for someone: it names people, so the export is itself an export of personal data.
audit_log_exported = event("audit_log.exported")
