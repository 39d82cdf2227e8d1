"""Deviation reports: the catalogue's versions, reporting, places, the triage, comments, links and tasks.

Every function takes the acting user, flushes and never commits; every step is announced (the audit log records
who did what to which report). Text that people type is checked by `check_text` (one rule for the page form, the
API and comments): short, and without a Swedish personal identity number.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit.accounts.models import Role, User
from audit.buildings.models import Area, Building
from audit.certificates.status import today_in_sweden
from audit.checklists.models import ChecklistVersion
from audit.checklists.schema import Severity
from audit.checklists.services import current_checklist, stored_version
from audit.database import utcnow
from audit.deviations import signals
from audit.deviations.catalogue import LoadedCatalogue, Urgency, load_catalogue
from audit.deviations.identity import find_identity_numbers
from audit.deviations.models import (
    MAX_DESCRIPTION,
    MAX_PLACE_NAME,
    DeviationCatalogueVersion,
    DeviationLink,
    DeviationPhoto,
    DeviationReport,
    Place,
)
from audit.deviations.workflow import DeviationAction, DeviationStatus, next_status
from audit.errors import N_, DomainError
from audit.events import announce
from audit.photos.services import stored_photo_fields
from audit.remediation.models import RemediationTask
from audit.remediation.services import create_task as create_remediation_task

#: The catalogue's key (one catalogue per installation; its versions are stored like checklist versions).
CATALOGUE_KEY = "deviations"
#: The organisation's safety coordinators: they triage reports and see the details of sensitive ones.
COORDINATORS = frozenset({Role.admin, Role.manager})
#: A device's clock may run a little ahead of the server's: "seen" up to this far in the future is taken as now.
CLOCK_SKEW = timedelta(minutes=5)
#: The remediation task's severity and days to fix, by the report's urgency.
TASK_DEFAULTS = {
    Urgency.low: (Severity.low, 60),
    Urgency.normal: (Severity.medium, 30),
    Urgency.high: (Severity.high, 14),
    Urgency.urgent: (Severity.critical, 3),
}


class InvalidReport(DomainError):
    """A report (or a comment) the rules refuse; `field` names the form field at fault."""

    def __init__(self, field: str, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.field = field


# --- the catalogue ---------------------------------------------------------------------------------------------


def store_catalogue(session: Session, loaded: LoadedCatalogue) -> tuple[bool, DeviationCatalogueVersion]:
    """Store a validated catalogue; (False, the stored one) when this content is stored already."""
    catalogue = loaded.catalogue
    existing = stored_version(
        session, DeviationCatalogueVersion, catalogue.key, catalogue.version, loaded.sha256, loaded.path
    )
    if existing is not None:
        return False, existing
    version = DeviationCatalogueVersion(
        key=catalogue.key,
        version=catalogue.version,
        sha256=loaded.sha256,
        content=loaded.content,
        source_name=loaded.path.rsplit("/", 1)[-1],
        category_count=len(catalogue.categories),
    )
    session.add(version)
    session.flush()
    announce(
        signals.catalogue_loaded,
        session,
        None,
        organisation_id=None,
        object_id=version.id,
        after={"key": catalogue.key, "version": catalogue.version, "sha256": loaded.sha256},
    )
    return True, version


def checklist_sections(session: Session) -> dict[str, frozenset[str]]:
    """The section keys of the newest stored version of every checklist: what `related_section` may name."""
    keys = session.scalars(select(ChecklistVersion.key).distinct())
    found = {key: current_checklist(session, key) for key in keys}
    return {key: frozenset(s.key for s in v.checklist.sections) for key, v in found.items() if v is not None}


def load_catalogue_file(session: Session, path: Path) -> tuple[bool, DeviationCatalogueVersion]:
    """Validate the catalogue file against the stored checklists and store it (CatalogueError, VersionConflict)."""
    return store_catalogue(session, load_catalogue(path, checklist_sections(session)))


def current_catalogue(session: Session) -> DeviationCatalogueVersion | None:
    """The newest stored catalogue: what a new report chooses its category from."""
    return session.scalar(
        select(DeviationCatalogueVersion)
        .where(DeviationCatalogueVersion.key == CATALOGUE_KEY)
        .order_by(DeviationCatalogueVersion.version.desc())
        .limit(1)
    )


# --- who sees what ---------------------------------------------------------------------------------------------


def is_coordinator(role: Role) -> bool:
    return role in COORDINATORS


def shows_details(role: Role, user_id: int, report: DeviationReport) -> bool:
    """Whether the description, photos, comments and reporter are shown: to coordinators, to the reporter, and for
    a report that is not sensitive to everyone who may see it; otherwise only the category and the place."""
    return not report.sensitive or is_coordinator(role) or report.reported_by_id == user_id


def may_see(role: Role, user_id: int, report: DeviationReport, session: Session) -> bool:
    """Coordinators see every report of the organisation; others their own and those behind a task given to them."""
    if is_coordinator(role) or report.reported_by_id == user_id:
        return True
    return (
        session.scalar(
            select(RemediationTask.id).where(
                RemediationTask.deviation_id == report.id, RemediationTask.assignee_id == user_id
            )
        )
        is not None
    )


# --- what people type ------------------------------------------------------------------------------------------


def check_text(text: str | None, field: str = "description", *, required: bool = True) -> str:
    """Typed text cleaned, or InvalidReport: required, at most MAX_DESCRIPTION characters, and never a personal
    identity number (reports must not identify private persons)."""
    cleaned = (text or "").strip()
    if not cleaned and required:
        raise InvalidReport(field, N_("Describe briefly what you saw."))
    if len(cleaned) > MAX_DESCRIPTION:
        raise InvalidReport(field, N_("Keep it under %(count)d characters."), count=MAX_DESCRIPTION)
    if find_identity_numbers(cleaned):
        raise InvalidReport(
            field, N_("Remove the personal identity number: reports must not identify private persons.")
        )
    return cleaned


def place_key(name: str) -> str:
    """A place's name for comparison: lower case, single spaces."""
    return re.sub(r"\s+", " ", name).strip().lower()


def places(session: Session, organisation_id: int) -> list[Place]:
    return list(session.scalars(select(Place).where(Place.organisation_id == organisation_id).order_by(Place.name)))


def _place(session: Session, actor: User, area: Area, place_id: int | None, name: str | None) -> Place | None:
    """The place chosen from the list, or the one typed (found again by name, or new)."""
    if place_id is not None:
        place = session.get(Place, place_id)
        if place is None or place.area_id != area.id:
            raise InvalidReport("place_id", N_("Choose a place in the chosen area."))
        return place
    typed = re.sub(r"\s+", " ", name or "").strip()
    if not typed:
        return None
    if len(typed) < 2 or len(typed) > MAX_PLACE_NAME:
        raise InvalidReport("place_name", N_("A place's name has 2 to %(count)d characters."), count=MAX_PLACE_NAME)
    check_text(typed, "place_name")
    found = session.scalar(select(Place).where(Place.area_id == area.id, Place.name_key == place_key(typed)))
    if found is not None:
        return found
    place = Place(
        organisation_id=area.organisation_id, area=area, name=typed, name_key=place_key(typed), created_by_id=actor.id
    )
    session.add(place)
    return place


# --- reporting -------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportInput:
    """A report as the page form or the API gives it."""

    category: str
    area_id: int
    description: str
    building_id: int | None = None
    place_id: int | None = None
    place_name: str | None = None
    #: Aware; None: now.
    seen_at: datetime | None = None
    #: None: the category's default.
    urgency: Urgency | None = None
    photo: bytes | None = None


def report_deviation(session: Session, actor: User, organisation_id: int, data: ReportInput) -> DeviationReport:
    """Record a report; raises InvalidReport naming the field at fault, PhotoRejected for an unusable photo."""
    version = current_catalogue(session)
    category = version.catalogue.category(data.category) if version else None
    if version is None or category is None:
        raise InvalidReport("category", N_("Choose a category."))
    area = session.get(Area, data.area_id)
    if area is None or area.organisation_id != organisation_id:
        raise InvalidReport("area_id", N_("Choose an area."))
    building = None
    if data.building_id is not None:
        building = session.get(Building, data.building_id)
        if building is None or building.organisation_id != organisation_id or building.area_id != area.id:
            raise InvalidReport("building_id", N_("Choose a building in the chosen area."))
    now = utcnow()
    seen_at = data.seen_at or now
    if seen_at > now + CLOCK_SKEW:
        raise InvalidReport("seen_at", N_("The time seen cannot be in the future."))
    description = check_text(data.description)
    place = _place(session, actor, area, data.place_id, data.place_name)
    report = DeviationReport(
        organisation_id=organisation_id,
        catalogue_version=version,
        category_key=category.key,
        sensitive=category.sensitive,
        police_tip=category.police_tip,
        area=area,
        building=building,
        place=place,
        seen_at=min(seen_at, now),
        reported_at=now,
        reported_by=actor,
        description=description,
        urgency=data.urgency or category.urgency,
        status=DeviationStatus.new,
    )
    report.record(actor, DeviationAction.reported, None)
    session.add(report)
    session.flush()
    if data.photo:
        session.add(DeviationPhoto(report=report, **stored_photo_fields(session, actor, data.photo, area.organisation)))
        session.flush()
    _announce(session, actor, report)
    return report


def _announce(session: Session, actor: User, report: DeviationReport) -> None:
    step = report.events[-1]
    details: dict[str, Any] = {"status": step.to_status, "category": report.category_key}
    if step.linked_report_id is not None:
        details["linked_report_id"] = step.linked_report_id
    if step.task_id is not None:
        details["task_id"] = step.task_id
    announce(
        signals.report_events[step.action],
        session,
        actor,
        organisation_id=report.organisation_id,
        object_id=report.id,
        before=None if step.from_status is None else {"status": step.from_status},
        after=details,
    )


# --- follow-up -------------------------------------------------------------------------------------------------


def triage(session: Session, actor: User, report: DeviationReport, action: DeviationAction, comment: str = "") -> None:
    """Acknowledge, mark as acted on or close a report; a report closed without action needs a comment."""
    next_status(action, report.status)  # a refused move is refused as such, before the comment is looked at
    text = check_text(comment, "comment", required=False) or None
    if action is DeviationAction.closed and report.status is DeviationStatus.acknowledged and text is None:
        raise InvalidReport("comment", N_("Say why the report is closed without action."))
    report.move(actor, action, text)
    session.flush()
    _announce(session, actor, report)


def add_comment(session: Session, actor: User, report: DeviationReport, comment: str) -> None:
    text = check_text(comment, "comment")
    report.move(actor, DeviationAction.commented, text)
    session.flush()
    _announce(session, actor, report)


def link_reports(session: Session, actor: User, report: DeviationReport, other: DeviationReport) -> None:
    """Mark two reports of the organisation as the same event (each history records it)."""
    if other.organisation_id != report.organisation_id or other.id == report.id:
        raise InvalidReport("other", N_("Choose another report of the organisation."))
    first, second = sorted((report.id, other.id))
    if session.get(DeviationLink, (first, second)) is not None:
        raise InvalidReport("other", N_("The reports are linked already."))
    report.move(actor, DeviationAction.linked, linked_report_id=other.id)
    session.add(DeviationLink(first_id=first, second_id=second, linked_by_id=actor.id))
    other.record(actor, DeviationAction.linked, other.status, linked_report_id=report.id)
    session.flush()
    _announce(session, actor, report)
    _announce(session, actor, other)


def linked_reports(session: Session, report: DeviationReport) -> list[DeviationReport]:
    ids = (
        select(DeviationLink.second_id)
        .where(DeviationLink.first_id == report.id)
        .union(select(DeviationLink.first_id).where(DeviationLink.second_id == report.id))
    )
    return list(
        session.scalars(select(DeviationReport).where(DeviationReport.id.in_(ids)).order_by(DeviationReport.id))
    )


def create_task(session: Session, actor: User, report: DeviationReport, building: Building) -> RemediationTask:
    """Turn a report into a remediation task on a building of its area (something physical must be fixed)."""
    next_status(DeviationAction.task_created, report.status)
    if building.organisation_id != report.organisation_id or building.area_id != report.area_id:
        raise InvalidReport("building_id", N_("Choose a building in the chosen area."))
    existing = task_of(session, report)
    if existing is not None:
        raise InvalidReport("building_id", N_("This report is already a task."))
    category = report.category
    severity, days = TASK_DEFAULTS[report.urgency]
    titles = (category.title.sv, category.title.en) if category else (report.category_key, report.category_key)
    task = create_remediation_task(
        session,
        actor,
        building,
        item_key=f"AVV-{report.id}",
        section_key=(category.related_section if category else None) or "AVV",
        text_sv=f"{titles[0]}: {report.place_label()}",
        text_en=f"{titles[1]}: {report.place_label()}",
        severity=severity,
        due_date=today_in_sweden() + timedelta(days=days),
        # A sensitive report's words stay with the coordinators; the task says what and where.
        finding=None if report.sensitive else report.description,
        deviation_id=report.id,
    )
    report.move(actor, DeviationAction.task_created, task_id=task.id)
    session.flush()
    _announce(session, actor, report)
    return task


def task_of(session: Session, report: DeviationReport) -> RemediationTask | None:
    return session.scalar(select(RemediationTask).where(RemediationTask.deviation_id == report.id).limit(1))


# --- lists -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReportFilter:
    status: DeviationStatus | None = None
    category: str | None = None
    area_id: int | None = None
    #: Only this reporter's reports (everyone but coordinators sees only their own).
    reporter_id: int | None = None


def report_query(organisation_id: int, chosen: ReportFilter) -> Any:
    query = select(DeviationReport).where(DeviationReport.organisation_id == organisation_id)
    if chosen.status is not None:
        query = query.where(DeviationReport.status == chosen.status)
    if chosen.category:
        query = query.where(DeviationReport.category_key == chosen.category)
    if chosen.area_id is not None:
        query = query.where(DeviationReport.area_id == chosen.area_id)
    if chosen.reporter_id is not None:
        query = query.where(DeviationReport.reported_by_id == chosen.reporter_id)
    return query


def count_reports(session: Session, organisation_id: int, chosen: ReportFilter) -> int:
    subquery = report_query(organisation_id, chosen).with_only_columns(DeviationReport.id).subquery()
    return session.scalar(select(func.count()).select_from(subquery)) or 0
