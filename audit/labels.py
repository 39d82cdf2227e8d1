"""Translated names for the domain's enums, for templates and messages."""

from __future__ import annotations

from enum import Enum

from flask_babel import lazy_gettext as _l

from audit.accounts.models import Role
from audit.buildings.features import Feature
from audit.inspections.models import AnswerResult, InspectionKind, InspectionStatus

LABELS: dict[Enum, object] = {
    InspectionStatus.draft: _l("Draft"),
    InspectionStatus.submitted: _l("Submitted"),
    InspectionStatus.approved: _l("Approved"),
    InspectionStatus.returned: _l("Returned"),
    InspectionKind.certification: _l("Certification"),
    InspectionKind.follow_up: _l("Follow-up"),
    InspectionKind.spot_check: _l("Spot check"),
    AnswerResult.passed: _l("Pass"),
    AnswerResult.failed: _l("Fail"),
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
}


def label(value: Enum | str | None) -> str:
    """The translated name of an enum member (or of its value)."""
    if value is None:
        return ""
    if not isinstance(value, Enum):
        value = next((member for member in LABELS if member.value == value), None) or value  # type: ignore[assignment]
    return str(LABELS.get(value, value))  # type: ignore[arg-type]
