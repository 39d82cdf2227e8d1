"""What happens to certificates (see `audit.events` for the arguments every event carries)."""

from audit.events import event

certificate_issued = event("certificate.issued")
certificate_revoked = event("certificate.revoked")
certificate_sign_regenerated = event("certificate.sign_regenerated")
#: An inspection's report was made for someone: it names the inspector and the reviewer (personal data).
inspection_report_exported = event("inspection_report.exported")
