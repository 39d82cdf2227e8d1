"""The audit trail: an append-only, hash-chained log of every state change and security event."""
