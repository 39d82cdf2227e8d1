"""Demo data: the organisation `demo`, one user per role, two areas, ten buildings, inspections in every state."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.accounts.services import create_organisation, create_user
from audit.buildings.features import Feature
from audit.buildings.models import Area, Building
from audit.buildings.services import create_area, create_building
from audit.certificates.documents import issued_sign
from audit.certificates.services import issue_certificate, issue_problem
from audit.checklists.models import ChecklistVersion
from audit.checklists.schema import ChoiceAnswer, Item, MeasurementAnswer, ScaleAnswer, is_applicable
from audit.checklists.services import current_checklist
from audit.database import utcnow
from audit.deviations.catalogue import CATALOGUE_FILE
from audit.deviations.est.demo import create_est_demo, est_accounts
from audit.deviations.models import DeviationReport
from audit.deviations.services import (
    ReportInput,
    current_catalogue,
    link_reports,
    load_catalogue_file,
    report_deviation,
    triage,
)
from audit.deviations.workflow import DeviationAction
from audit.errors import DomainError
from audit.inspections.models import AnswerResult, Inspection, InspectionKind
from audit.inspections.services import (
    AnswerInput,
    approve_inspection,
    discard_draft,
    return_inspection,
    save_answer,
    start_inspection,
    submit_inspection,
)
from audit.photos.services import add_photo
from audit.remediation.models import RemediationTask
from audit.remediation.services import assign_tasks, record_work, start_task
from audit.settings import PROJECT_ROOT

DEMO_SLUG = "demo"
CHECKLIST_KEY = "trygga-hus"
#: Fixed so the README can name them; the demo is for trying the product, never for production data.
DEMO_PASSWORDS = {role: f"trygga-{role.value}" for role in Role}

F = Feature
BUILDINGS: list[dict] = [
    {
        "area": "Fittja",
        "name": "Fittja Gård 1",
        "street_address": "Fittjavägen 12",
        "postcode": "145 50",
        "city": "Norsborg",
        "property_designation": "Fittja 3:12",
        "year_built": 1972,
        "apartments": 48,
        "features": {
            F.garage,
            F.storage_rooms,
            F.basement,
            F.laundry_room,
            F.bike_room,
            F.refuse_room,
            F.courtyard,
            F.playground,
            F.access_system,
        },
    },
    {
        "area": "Fittja",
        "name": "Fittja Gård 2",
        "street_address": "Fittjavägen 14",
        "postcode": "145 50",
        "city": "Norsborg",
        "property_designation": "Fittja 3:13",
        "year_built": 1972,
        "apartments": 48,
        "features": {F.storage_rooms, F.basement, F.laundry_room, F.refuse_room, F.courtyard, F.access_system},
    },
    {
        "area": "Fittja",
        "name": "Krögarvägen 5",
        "street_address": "Krögarvägen 5",
        "postcode": "145 51",
        "city": "Norsborg",
        "property_designation": "Fittja 4:2",
        "year_built": 1973,
        "apartments": 96,
        "features": {
            F.garage,
            F.outdoor_parking,
            F.storage_rooms,
            F.basement,
            F.laundry_room,
            F.bike_room,
            F.pram_room,
            F.refuse_room,
            F.elevator,
            F.access_system,
        },
    },
    {
        "area": "Fittja",
        "name": "Värdshusvägen 20",
        "street_address": "Värdshusvägen 20",
        "postcode": "145 52",
        "city": "Norsborg",
        "property_designation": "Fittja 5:8",
        "year_built": 1971,
        "apartments": 32,
        "features": {F.outdoor_parking, F.storage_rooms, F.refuse_room, F.courtyard},
    },
    {
        "area": "Fittja",
        "name": "Fittja Terrass",
        "street_address": "Fittja Terrass 3",
        "postcode": "145 53",
        "city": "Norsborg",
        "property_designation": "Fittja 6:1",
        "year_built": 2019,
        "apartments": 60,
        "features": {
            F.garage,
            F.storage_rooms,
            F.bike_room,
            F.pram_room,
            F.refuse_room,
            F.elevator,
            F.access_system,
            F.playground,
        },
    },
    {
        "area": "Alby",
        "name": "Albyberget 8",
        "street_address": "Albyvägen 8",
        "postcode": "145 59",
        "city": "Norsborg",
        "property_designation": "Alby 1:44",
        "year_built": 1970,
        "apartments": 72,
        "features": {F.storage_rooms, F.basement, F.laundry_room, F.bike_room, F.refuse_room, F.elevator},
    },
    {
        "area": "Alby",
        "name": "Albyberget 10",
        "street_address": "Albyvägen 10",
        "postcode": "145 59",
        "city": "Norsborg",
        "property_designation": "Alby 1:45",
        "year_built": 1970,
        "apartments": 72,
        "features": {F.storage_rooms, F.basement, F.laundry_room, F.refuse_room, F.elevator, F.courtyard},
    },
    {
        "area": "Alby",
        "name": "Hallunda Torg 2",
        "street_address": "Hallunda torg 2",
        "postcode": "145 68",
        "city": "Norsborg",
        "property_designation": "Hallunda 2:10",
        "year_built": 1974,
        "apartments": 120,
        "features": {
            F.garage,
            F.outdoor_parking,
            F.storage_rooms,
            F.laundry_room,
            F.bike_room,
            F.pram_room,
            F.refuse_room,
            F.elevator,
            F.access_system,
        },
    },
    {
        "area": "Alby",
        "name": "Eriksbergsvägen 3",
        "street_address": "Eriksbergsvägen 3",
        "postcode": "145 60",
        "city": "Norsborg",
        "property_designation": "Eriksberg 1:3",
        "year_built": 1968,
        "apartments": 24,
        "features": {F.storage_rooms, F.refuse_room, F.courtyard, F.playground},
    },
    {
        "area": "Alby",
        "name": "Alby Park",
        "street_address": "Alby parkväg 1",
        "postcode": "145 61",
        "city": "Norsborg",
        "property_designation": "Alby 2:7",
        "year_built": 2021,
        "apartments": 40,
        "features": {F.outdoor_parking, F.bike_room, F.refuse_room, F.elevator, F.access_system},
    },
]


@dataclass(frozen=True, slots=True)
class DemoAccount:
    role: str
    email: str
    password: str


def demo_email(role: Role) -> str:
    return f"{role.value}@demo.example"


def _accounts() -> list[DemoAccount]:
    """The demo organisation's account per role, then the EST group's other landlord and partners."""
    own = [DemoAccount(role.value, demo_email(role), DEMO_PASSWORDS[role]) for role in Role]
    return own + [DemoAccount(a.role, a.email, a.password) for a in est_accounts()]


def answer_for(item: Item, passing: bool) -> AnswerInput:
    """A plausible answer that passes or fails `item`."""
    spec = item.answer
    if isinstance(spec, MeasurementAnswer):
        low, high = spec.threshold.min, spec.threshold.max
        if passing:
            value = low if low is not None else (high or 0)
        else:
            value = low * 0.6 if low is not None else (high or 0) * 1.5 + 1
        return AnswerInput(value=round(value, 2))
    if isinstance(spec, ScaleAnswer):
        return AnswerInput(value=spec.max if passing else spec.min)
    if isinstance(spec, ChoiceAnswer):
        ordered = sorted(spec.options, key=lambda option: option.score)
        return AnswerInput(choice=(ordered[-1] if passing else ordered[0]).key)
    if spec.type == "text":
        return AnswerInput(text="Inga särskilda iakttagelser vid trygghetsvandringen.")
    return AnswerInput(result=AnswerResult.passed if passing else AnswerResult.failed)


def _walk(
    session: Session,
    inspector: User,
    inspection: Inspection,
    fail_share: float,
    rng: random.Random,
    answered_share: float = 1.0,
) -> None:
    """Answer the inspection's applicable items: `fail_share` of the non-critical ones fail."""
    features = inspection.building.features
    for section, item in inspection.checklist_version.checklist.items():
        if not is_applicable(section, item, features) or rng.random() > answered_share:
            continue
        fails = not item.critical and rng.random() < fail_share
        given = answer_for(item, passing=not fails)
        if fails:
            given = AnswerInput(
                given.result, given.value, given.choice, given.text, comment="Brist noterad vid besiktningen; se foto."
            )
        save_answer(session, inspector, inspection, item.key, given)
        if fails and item.photo_required_on_fail:
            add_photo(session, inspector, inspection, item.key, demo_photo(item.key))


@cache
def demo_photo(label: str) -> bytes:
    """A small generated picture standing in for the inspector's photo of a defect."""
    image = Image.new("RGB", (800, 600), (96, 104, 112))
    draw = ImageDraw.Draw(image)
    draw.rectangle((40, 40, 760, 560), outline=(230, 160, 40), width=12)
    draw.text((70, 70), f"Trygga hus demo {label}", fill=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def create_demo(session: Session) -> list[DemoAccount]:
    """Create the demo data once; when it exists already, only list the accounts."""
    if session.scalar(select(Organisation).where(Organisation.slug == DEMO_SLUG)):
        return _accounts()
    version = current_checklist(session, CHECKLIST_KEY)
    if version is None:
        raise DomainError(f"the checklist '{CHECKLIST_KEY}' is not loaded: run 'tryggahus init' first")
    organisation = create_organisation(session, DEMO_SLUG, "Demobostäder AB")
    users = {
        role: create_user(session, organisation, demo_email(role), role, DEMO_PASSWORDS[role], f"Demo {role.value}")
        for role in Role
    }
    areas = {name: create_area(session, organisation, name) for name in ("Fittja", "Alby")}
    buildings = [create_building(session, organisation, **{**spec, "area": areas[spec["area"]]}) for spec in BUILDINGS]
    _create_inspections(session, users, buildings, version, random.Random(2026))
    _create_deviations(session, users, areas, buildings)
    create_est_demo(session, organisation, users, areas["Fittja"])
    return _accounts()


def _create_inspections(
    session: Session,
    users: dict[Role, User],
    buildings: list[Building],
    version: ChecklistVersion,
    rng: random.Random,
) -> None:
    inspector, manager = users[Role.inspector], users[Role.manager]

    def walked(building: Building, fail_share: float, answered_share: float = 1.0) -> Inspection:
        inspection = start_inspection(session, inspector, building, InspectionKind.certification, version)
        _walk(session, inspector, inspection, fail_share, rng, answered_share)
        return inspection

    # Approved and passing: certified (the sign of each is ready to print).
    for building in buildings[:3]:
        approved = _submitted(session, inspector, walked(building, 0.03))
        approve_inspection(session, manager, approved)
        if issue_problem(approved) is None:
            issue_certificate(session, manager, approved, issued_sign)
    # Approved but failing: its failed points become remediation tasks (on approval); a few go to the contractor.
    failing = _submitted(session, inspector, walked(buildings[3], 0.3))
    approve_inspection(session, manager, failing)
    _assign_demo_tasks(session, manager, users[Role.contractor], failing)
    # Submitted, waiting for review.
    _submitted(session, inspector, walked(buildings[4], 0.05))
    # Returned to the inspector with a comment.
    returned = _submitted(session, inspector, walked(buildings[5], 0.1))
    return_inspection(session, manager, returned, "Foton saknas för punkterna i garaget; komplettera.")
    # Drafts: one half done, one just started.
    walked(buildings[6], 0.1, answered_share=0.5)
    start_inspection(session, inspector, buildings[7], InspectionKind.certification, version)
    # Discarded: started on the wrong building; kept with the reason.
    wrong = start_inspection(session, inspector, buildings[8], InspectionKind.certification, version)
    discard_draft(session, inspector, Role.inspector, wrong, "Startad på fel hus av misstag.")


def _create_deviations(
    session: Session, users: dict[Role, User], areas: dict[str, Area], buildings: list[Building]
) -> None:
    """A handful of deviation reports from the last week in every state of the triage; two of them, at the same
    place, linked as one event. The catalogue is loaded from the checklist folder when `init` has not stored it."""
    if current_catalogue(session) is None:
        load_catalogue_file(session, PROJECT_ROOT / "checklists" / CATALOGUE_FILE)
    host, manager = users[Role.contractor], users[Role.manager]
    now = utcnow()
    fittja, alby = areas["Fittja"], areas["Alby"]
    in_fittja = [b for b in buildings if b.area_id == fittja.id]
    in_alby = [b for b in buildings if b.area_id == alby.id]

    def report(category: str, area: Area, hours_ago: int, description: str, **values: Any) -> DeviationReport:
        data = ReportInput(
            category=category,
            area_id=area.id,
            description=description,
            seen_at=now - timedelta(hours=hours_ago),
            **values,
        )
        return report_deviation(session, host, area.organisation_id, data)

    report("broken_lighting", fittja, 3, "Belysningen vid entrén är släckt.", building_id=in_fittja[0].id)
    gathering = report(
        "youth_gathering",
        fittja,
        30,
        "Grupp samlas sent på kvällen vid bilarna.",
        place_name="Parkeringen vid Kyrkgatan 4",
    )
    again = report(
        "youth_gathering",
        fittja,
        28,
        "Samma grupp, högljudd, flaskor kvar på marken.",
        place_name="parkeringen vid Kyrkgatan 4",
    )
    graffiti = report("graffiti", alby, 50, "Nya taggar på gavelns fasad.", building_id=in_alby[0].id)
    syringe = report(
        "drug_find", alby, 75, "Spruta i rabatten vid lekplatsen. Inte rörd.", place_name="Lekplatsen vid Albyvägen"
    )
    door = report("damaged_lock", fittja, 120, "Källardörren går inte i lås.", building_id=in_fittja[-1].id)
    triage(session, manager, gathering, DeviationAction.acknowledged)
    link_reports(session, manager, gathering, again)
    triage(session, manager, graffiti, DeviationAction.acknowledged)
    triage(session, manager, syringe, DeviationAction.acknowledged)
    triage(session, manager, syringe, DeviationAction.action_taken, "Sprutan hämtad av saneringsfirma.")
    for step, comment in (
        (DeviationAction.acknowledged, None),
        (DeviationAction.action_taken, "Låset bytt."),
        (DeviationAction.closed, None),
    ):
        triage(session, manager, door, step, comment or "")


def _assign_demo_tasks(session: Session, manager: User, contractor: User, inspection: Inspection) -> None:
    """The most urgent four tasks go to the demo contractor, who has fixed the first (waiting for the manager's
    verification) and started on the second."""
    tasks = session.scalars(
        select(RemediationTask)
        .where(RemediationTask.inspection_id == inspection.id)
        .order_by(RemediationTask.due_date, RemediationTask.item_key)
        .limit(4)
    ).all()
    assign_tasks(session, manager, inspection.organisation_id, tasks, contractor)
    if len(tasks) >= 2:
        start_task(session, contractor, tasks[0])
        record_work(session, contractor, tasks[0], "Åtgärdat enligt anvisning.", demo_photo("efter"), done=True)
        start_task(session, contractor, tasks[1])


def _submitted(session: Session, inspector: User, inspection: Inspection) -> Inspection:
    submit_inspection(session, inspector, inspection)
    return inspection
