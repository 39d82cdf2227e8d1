"""Security events of accounts (see `audit.events` for the arguments every event carries)."""

from audit.events import event

logged_in = event("user.logged_in")
login_failed = event("user.login_failed")
logged_out = event("user.logged_out")
role_granted = event("membership.role_granted")
api_token_created = event("api_token.created")
api_token_revoked = event("api_token.revoked")
