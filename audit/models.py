"""Imports every domain's models so that `Base.metadata` knows all tables (for Alembic and the tests)."""

from audit.accounts.models import Membership, Organisation, Role, User
from audit.buildings.models import Area, Building, BuildingFeature
from audit.checklists.models import ChecklistVersion
from audit.database import Base
from audit.inspections.models import Answer, AnswerResult, Inspection, InspectionKind, InspectionStatus

__all__ = [
    "Answer",
    "AnswerResult",
    "Area",
    "Base",
    "Building",
    "BuildingFeature",
    "ChecklistVersion",
    "Inspection",
    "InspectionKind",
    "InspectionStatus",
    "Membership",
    "Organisation",
    "Role",
    "User",
]
