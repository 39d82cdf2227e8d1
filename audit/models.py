"""Imports every domain's models so that `Base.metadata` knows all tables (for Alembic and the tests)."""

from audit.accounts.models import ApiToken, LoginFailure, LoginSession, Membership, Organisation, Role, User
from audit.api.models import IdempotencyRecord
from audit.buildings.models import Area, Building, BuildingFeature
from audit.checklists.models import ChecklistVersion
from audit.database import Base
from audit.inspections.models import Answer, AnswerResult, Inspection, InspectionKind, InspectionStatus
from audit.photos.models import Photo

__all__ = [
    "Answer",
    "AnswerResult",
    "ApiToken",
    "Area",
    "Base",
    "Building",
    "BuildingFeature",
    "ChecklistVersion",
    "IdempotencyRecord",
    "Inspection",
    "InspectionKind",
    "InspectionStatus",
    "LoginFailure",
    "LoginSession",
    "Membership",
    "Organisation",
    "Photo",
    "Role",
    "User",
]
