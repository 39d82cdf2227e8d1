"""Translated names for the domain's enums, for templates and messages."""

from __future__ import annotations

from enum import Enum

from flask_babel import lazy_gettext as _l

from audit.accounts.models import Role
from audit.buildings.features import Feature
from audit.checklists.schema import Severity
from audit.deviations.catalogue import Urgency
from audit.deviations.est.models import Cause, MeasureStatus, PartyKind, PartyRole
from audit.deviations.workflow import DeviationAction, DeviationStatus
from audit.inspections.filters import Verdict
from audit.inspections.models import AnswerResult, InspectionKind, InspectionStatus
from audit.remediation.workflow import TaskAction, TaskStatus

LABELS: dict[Enum, object] = {
    InspectionStatus.draft: _l("Draft"),
    InspectionStatus.submitted: _l("Submitted"),
    # The review's outcome, named so that it is never read as the building's verdict (Passes / Does not pass) or
    # an item's result (Met / Not met): a confirmed inspection may well find that the building does not pass.
    InspectionStatus.approved: _l("Confirmed"),
    InspectionStatus.returned: _l("Returned"),
    InspectionStatus.discarded: _l("Discarded"),
    Verdict.passes: _l("Passes"),
    Verdict.fails: _l("Does not pass"),
    InspectionKind.certification: _l("Certification"),
    InspectionKind.follow_up: _l("Follow-up"),
    InspectionKind.spot_check: _l("Spot check"),
    AnswerResult.passed: _l("Met"),
    AnswerResult.failed: _l("Not met"),
    AnswerResult.not_applicable: _l("N/A"),
    AnswerResult.noted: _l("Noted"),
    Role.admin: _l("Administrator"),
    Role.inspector: _l("Inspector"),
    Role.manager: _l("Property manager"),
    Role.contractor: _l("Contractor"),
    Role.viewer: _l("Viewer"),
    Feature.garage: _l("Garage"),
    Feature.outdoor_parking: _l("Outdoor parking"),
    Feature.storage_rooms: _l("Storage rooms"),
    Feature.basement: _l("Basement"),
    Feature.laundry_room: _l("Laundry room"),
    Feature.bike_room: _l("Bike room"),
    Feature.pram_room: _l("Pram room"),
    Feature.refuse_room: _l("Refuse room"),
    Feature.courtyard: _l("Courtyard"),
    Feature.playground: _l("Playground"),
    Feature.elevator: _l("Elevator"),
    Feature.access_system: _l("Electronic access system"),
    TaskStatus.open: _l("Open"),
    TaskStatus.in_progress: _l("In progress"),
    TaskStatus.done: _l("Done"),
    TaskStatus.verified: _l("Verified"),
    Severity.low: _l("Low"),
    Severity.medium: _l("Medium"),
    Severity.high: _l("High"),
    Severity.critical: _l("Critical"),
    TaskAction.created: _l("Created from the inspection"),
    TaskAction.assigned: _l("Assigned"),
    TaskAction.due_date_changed: _l("Due date changed"),
    TaskAction.started: _l("Started"),
    TaskAction.completed: _l("Marked done"),
    TaskAction.verified: _l("Verified"),
    TaskAction.reopened: _l("Reopened"),
    TaskAction.verified_by_inspection: _l("Verified by a follow-up inspection"),
    TaskAction.failed_again: _l("Not met again in a later inspection"),
    DeviationStatus.new: _l("New"),
    DeviationStatus.acknowledged: _l("Acknowledged"),
    DeviationStatus.action_taken: _l("Action taken"),
    DeviationStatus.closed: _l("Closed"),
    DeviationAction.reported: _l("Reported"),
    DeviationAction.acknowledged: _l("Acknowledged"),
    DeviationAction.action_taken: _l("Action taken"),
    DeviationAction.closed: _l("Closed"),
    DeviationAction.commented: _l("Commented"),
    DeviationAction.linked: _l("Linked to another report"),
    DeviationAction.task_created: _l("Turned into a task"),
    Urgency.low: _l("Low"),
    Urgency.normal: _l("Normal"),
    Urgency.high: _l("High"),
    Urgency.urgent: _l("Urgent"),
    PartyRole.member: _l("Member"),
    PartyRole.partner: _l("Partner"),
    PartyKind.landlord: _l("Landlord"),
    PartyKind.police: _l("Police"),
    PartyKind.municipality: _l("Municipality"),
    PartyKind.social_services: _l("Social services"),
    PartyKind.night_walkers: _l("Night walkers"),
    PartyKind.security_company: _l("Security company"),
    PartyKind.other: _l("Other"),
    MeasureStatus.planned: _l("Planned"),
    MeasureStatus.under_way: _l("Under way"),
    MeasureStatus.done: _l("Done"),
    MeasureStatus.cancelled: _l("Cancelled"),
    Cause.poor_lighting: _l("Poor lighting"),
    Cause.dense_vegetation: _l("Dense vegetation"),
    Cause.unlocked_doors: _l("Doors that do not lock"),
    Cause.meeting_place_without_activity: _l("A meeting place without activity"),
    Cause.hidden_corners: _l("Hidden corners, no overview"),
    Cause.litter_and_decay: _l("Litter and decay"),
    Cause.open_drug_scene: _l("Open drug dealing"),
}


def label(value: Enum | str | None) -> str:
    """The translated name of an enum member (or of its value)."""
    if value is None:
        return ""
    member = value if isinstance(value, Enum) else next((m for m in LABELS if m.value == value), None)
    return str(LABELS[member]) if member in LABELS else str(value)
