"""Remediation: tasks from failed checklist items, their workflow, the manager's follow-up and exports."""
