"""Imports every domain's models so that `Base.metadata` knows all tables (for Alembic and the tests)."""

from audit.accounts.models import (
    ApiToken,
    LoginSession,
    LoginThrottle,
    Membership,
    Organisation,
    PasswordReset,
    Role,
    User,
)
from audit.api.models import IdempotencyRecord
from audit.auditlog.models import AuditChainHead, AuditEntry
from audit.buildings.models import Area, Building, BuildingFeature
from audit.certificates.models import Certificate, CertificateCounter, CertificateRevocation
from audit.checklists.models import ChecklistVersion
from audit.database import Base
from audit.deviations.est.models import EstAreaLink, EstGroup, EstGroupArea, EstMeasure, EstParty, HotSpotAnalysis
from audit.deviations.models import (
    DeviationCatalogueVersion,
    DeviationEvent,
    DeviationLink,
    DeviationPhoto,
    DeviationReport,
    Place,
)
from audit.inspections.models import Answer, AnswerResult, Inspection, InspectionKind, InspectionStatus
from audit.jobs.models import Job
from audit.photos.models import Photo
from audit.remediation.models import FollowUp, RemediationTask, TaskEvent, TaskPhoto

__all__ = [
    "Answer",
    "AnswerResult",
    "ApiToken",
    "Area",
    "AuditChainHead",
    "AuditEntry",
    "Base",
    "Building",
    "BuildingFeature",
    "Certificate",
    "CertificateCounter",
    "CertificateRevocation",
    "ChecklistVersion",
    "DeviationCatalogueVersion",
    "DeviationEvent",
    "DeviationLink",
    "DeviationPhoto",
    "DeviationReport",
    "EstAreaLink",
    "EstGroup",
    "EstGroupArea",
    "EstMeasure",
    "EstParty",
    "FollowUp",
    "HotSpotAnalysis",
    "IdempotencyRecord",
    "Inspection",
    "InspectionKind",
    "InspectionStatus",
    "Job",
    "LoginSession",
    "LoginThrottle",
    "Membership",
    "Organisation",
    "PasswordReset",
    "Photo",
    "Place",
    "RemediationTask",
    "Role",
    "TaskEvent",
    "TaskPhoto",
    "User",
]
