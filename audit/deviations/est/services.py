"""EST groups: setting one up, who stands where in it, its reports as each party may see them, the weekly
situation picture, measures and hot-spot analyses.

Access is decided here, not in templates: `standing()` gives an organisation's party in a group (or None: the
group answers 404), and `group_reports()` gives each party only what the group's rules allow — members every
member's reports (another organisation's sensitive words and every photo and reporter name withheld), partners
only the reports a member shared with them, on the same terms. Every function takes the acting user, flushes and
never commits; every change is announced for the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from audit.access import INSPECTORS
from audit.accounts.models import Membership, Organisation, Role, User
from audit.buildings.models import Area, Building
from audit.certificates.status import TIMEZONE
from audit.checklists.models import ChecklistVersion
from audit.checklists.services import current_checklist
from audit.deviations import signals
from audit.deviations.est import picture as pure
from audit.deviations.est.hotspots import Period, hot_periods
from audit.deviations.est.models import (
    Cause,
    EstAreaLink,
    EstGroup,
    EstGroupArea,
    EstMeasure,
    EstParty,
    EstSpotCheck,
    HotSpotAnalysis,
    MeasureStatus,
    PartyKind,
    PartyRole,
)
from audit.deviations.est.weeks import week_start, week_text
from audit.deviations.models import DeviationCatalogueVersion, DeviationReport, Place
from audit.deviations.services import check_text, current_catalogue, is_coordinator
from audit.errors import N_, DomainError
from audit.events import announce
from audit.inspections.models import Inspection, InspectionKind
from audit.inspections.services import start_inspection
from audit.remediation.models import RemediationTask

#: How many weeks of history the hot-spot rule looks at: a hot spot that began earlier shows as beginning then.
HISTORY_WEEKS = 26


class EstRefused(DomainError):
    """A change the group's rules refuse; `field` names the form field at fault."""

    def __init__(self, field: str, message: str, **params: object) -> None:
        super().__init__(message, **params)
        self.field = field


# --- who stands where ------------------------------------------------------------------------------------------


def standing(session: Session, group_id: int, organisation_id: int) -> EstParty | None:
    """The organisation's party in the group; None for an outsider (the group does not exist for it)."""
    return session.scalar(
        select(EstParty).where(EstParty.group_id == group_id, EstParty.organisation_id == organisation_id)
    )


def groups_of(session: Session, organisation_id: int) -> list[EstParty]:
    """The organisation's parties in every group it belongs to, by group name."""
    return list(
        session.scalars(
            select(EstParty)
            .join(EstGroup)
            .where(EstParty.organisation_id == organisation_id)
            .options(joinedload(EstParty.group))
            .order_by(EstGroup.name)
        )
    )


def partner_only(session: Session, organisation_id: int) -> bool:
    """Whether the organisation takes part in EST groups only as a partner (the police, the municipality): a partner
    in a group, a member of none, and owner of no building. Such an organisation's users land on their EST groups
    and see only those in the menu; an organisation that is also a landlord keeps the whole app."""
    roles = set(session.scalars(select(EstParty.role).where(EstParty.organisation_id == organisation_id).distinct()))
    if roles != {PartyRole.partner}:
        return False
    owns = session.scalar(select(Building.id).where(Building.organisation_id == organisation_id).limit(1))
    return owns is None


def may_manage(party: EstParty, user: Any) -> bool:
    """A group is set up and changed by the admins of its members."""
    return party.role is PartyRole.member and user.role.value == "admin"


def may_record(party: EstParty, user: Any) -> bool:
    """Measures and analyses are recorded by the members' safety coordinators."""
    return party.role is PartyRole.member and is_coordinator(user.role)


def _acting_organisation(session: Session, group_id: int, actor: User | None) -> int | None:
    """The organisation the actor acts for in the group: its audit log records the change."""
    if actor is None:
        return None
    return session.scalar(
        select(EstParty.organisation_id)
        .join(Membership, Membership.organisation_id == EstParty.organisation_id)
        .where(EstParty.group_id == group_id, Membership.user_id == actor.id)
        .order_by(EstParty.id)
        .limit(1)
    )


def _changed(session: Session, actor: User | None, group: EstGroup, **after: Any) -> None:
    organisation_id = _acting_organisation(session, group.id, actor)
    announce(signals.group_changed, session, actor, organisation_id=organisation_id, object_id=group.id, after=after)


def create_group(session: Session, actor: User | None, organisation: Organisation, name: str) -> EstGroup:
    """A new group with `organisation` as its first member."""
    cleaned = " ".join((name or "").split())
    if not 2 <= len(cleaned) <= 120:
        raise EstRefused("name", N_("A group's name has 2 to %(count)d characters."), count=120)
    if session.scalar(select(EstGroup.id).where(EstGroup.name == cleaned)) is not None:
        raise EstRefused("name", N_("A group with this name exists already."))
    group = EstGroup(name=cleaned, created_by_id=actor.id if actor else None)
    group.parties.append(EstParty(organisation=organisation, role=PartyRole.member, kind=PartyKind.landlord))
    session.add(group)
    session.flush()
    announce(
        signals.group_created,
        session,
        actor,
        organisation_id=organisation.id,
        object_id=group.id,
        after={"name": cleaned, "member": organisation.slug},
    )
    return group


def add_party(
    session: Session, actor: User | None, group: EstGroup, organisation: Organisation, role: PartyRole, kind: PartyKind
) -> EstParty:
    if role is PartyRole.member and kind is not PartyKind.landlord:
        raise EstRefused("kind", N_("Members are landlords; add the others as partners."))
    if standing(session, group.id, organisation.id) is not None:
        raise EstRefused("organisation", N_("The organisation is in the group already."))
    party = EstParty(group=group, organisation=organisation, role=role, kind=kind)
    session.add(party)
    session.flush()
    _changed(session, actor, group, party=organisation.slug, role=role.value, kind=kind.value)
    return party


def add_group_area(session: Session, actor: User | None, group: EstGroup, name: str) -> EstGroupArea:
    cleaned = " ".join((name or "").split())
    if not 2 <= len(cleaned) <= 120:
        raise EstRefused("name", N_("An area's name has 2 to %(count)d characters."), count=120)
    if any(existing.name.lower() == cleaned.lower() for existing in group.areas):
        raise EstRefused("name", N_("The group covers this area already."))
    group_area = EstGroupArea(group=group, name=cleaned)
    session.add(group_area)
    session.flush()
    _changed(session, actor, group, area=cleaned)
    return group_area


def link_area(session: Session, actor: User | None, group_area: EstGroupArea, area: Area) -> EstAreaLink:
    """Count a member's own area in the group area (each member maps only its own areas)."""
    party = standing(session, group_area.group_id, area.organisation_id)
    if party is None or party.role is not PartyRole.member:
        raise EstRefused("area_id", N_("Only a member's own areas can be counted in the group."))
    taken = session.scalar(
        select(EstAreaLink).where(EstAreaLink.group_id == group_area.group_id, EstAreaLink.area_id == area.id)
    )
    if taken is not None:
        raise EstRefused("area_id", N_("This area is counted in the group already."))
    link = EstAreaLink(
        group_id=group_area.group_id, group_area=group_area, area=area, organisation_id=area.organisation_id
    )
    session.add(link)
    session.flush()
    _changed(session, actor, group_area.group, area=group_area.name, linked_area_id=area.id)
    return link


def set_rule(session: Session, actor: User | None, group: EstGroup, n: int, m: int) -> None:
    if not 1 <= n <= m <= 12:
        raise EstRefused("hot_n", N_("The rule needs 1 ≤ N ≤ M ≤ 12."))
    before = {"hot_n": group.hot_n, "hot_m": group.hot_m}
    group.hot_n, group.hot_m = n, m
    session.flush()
    announce(
        signals.group_changed,
        session,
        actor,
        organisation_id=_acting_organisation(session, group.id, actor),
        object_id=group.id,
        before=before,
        after={"hot_n": n, "hot_m": m},
    )


# --- sharing ---------------------------------------------------------------------------------------------------


def share_report(session: Session, actor: User, report: DeviationReport, shared: bool) -> None:
    """Share a report with the partners of the groups covering its area, or take it back (coordinators only)."""
    before = report.shared_with_partners
    report.shared_with_partners = shared
    session.flush()
    announce(
        signals.report_shared,
        session,
        actor,
        organisation_id=report.organisation_id,
        object_id=report.id,
        before={"shared_with_partners": before},
        after={"shared_with_partners": shared},
    )


# --- the group's reports ---------------------------------------------------------------------------------------


def _members(group_id: int) -> Any:
    return select(EstParty.organisation_id).where(EstParty.group_id == group_id, EstParty.role == PartyRole.member)


def _in_group(query: Select[Any], group_id: int) -> Select[Any]:
    """Reports of the group's members in the areas mapped to the group (one join, one subquery)."""
    return query.join(
        EstAreaLink,
        and_(
            EstAreaLink.area_id == DeviationReport.area_id,
            EstAreaLink.group_id == group_id,
            EstAreaLink.organisation_id == DeviationReport.organisation_id,
        ),
    ).where(DeviationReport.organisation_id.in_(_members(group_id)))


@dataclass(frozen=True, slots=True)
class GroupReport:
    """A report as a party of the group sees it: no reporter, no photos; `description` None where withheld."""

    id: int
    organisation: str
    category: str
    place: str
    seen_at: datetime
    status: str
    description: str | None
    shared: bool
    #: A tip to the police: its category passes its reports on to the group's police partners, description included.
    tip: bool
    #: The viewer's own organisation's report: its page (under the organisation's own rules) is linked.
    own: bool


def group_reports(
    session: Session, group: EstGroup, party: EstParty, language: str, limit: int = 200
) -> list[GroupReport]:
    query = _in_group(select(DeviationReport), group.id)
    police = party.role is PartyRole.partner and party.kind is PartyKind.police
    if party.role is PartyRole.partner:
        # What a member shared with every partner; the police also get the tips its categories route to them.
        seen = DeviationReport.shared_with_partners.is_(True)
        query = query.where(or_(seen, DeviationReport.police_tip.is_(True)) if police else seen)
    query = query.options(
        joinedload(DeviationReport.area), joinedload(DeviationReport.building), joinedload(DeviationReport.place)
    ).order_by(DeviationReport.seen_at.desc(), DeviationReport.id.desc())
    names = dict(
        session.execute(select(Organisation.id, Organisation.name).where(Organisation.id.in_(_members(group.id)))).all()
    )
    rows = []
    for report in session.scalars(query.limit(limit)).unique():
        own = report.organisation_id == party.organisation_id and party.role is PartyRole.member
        tip = police and report.police_tip
        rows.append(
            GroupReport(
                id=report.id,
                organisation=names.get(report.organisation_id, ""),
                category=report.category_title(language),
                place=report.place_label(),
                seen_at=report.seen_at,
                status=report.status.value,
                # Another organisation's sensitive report: its category and place only (unless it is a tip to
                # the police, who get it to act on it).
                description=report.description if own or not report.sensitive or tip else None,
                shared=report.shared_with_partners,
                tip=tip,
                own=own,
            )
        )
    return rows


# --- the situation picture -------------------------------------------------------------------------------------


def _bucket(first: int, last: int) -> Any:
    """The report's week as the number of weeks before `last` (0 for `last`), bounded by each week's start in
    Swedish time, so a report on Monday 00:30 counts in the week it was seen in, in SQL on every database."""
    whens = [(DeviationReport.seen_at < week_start(week + 1, TIMEZONE), last - week) for week in range(first, last + 1)]
    return case(*whens, else_=-1)


def picture_rows(session: Session, group: EstGroup, week: int) -> tuple[list[pure.CountRow], list[pure.SpotWeek]]:
    """The grouped counts the picture is made of: two queries, grouped in SQL (a group may have 50,000 reports)."""
    area_names = dict(
        session.execute(select(EstGroupArea.id, EstGroupArea.name).where(EstGroupArea.group_id == group.id)).all()
    )
    first = week - pure.COMPARED_WEEKS
    bucket = _bucket(first, week).label("weeks_ago")
    counts = _in_group(
        select(EstAreaLink.group_area_id, DeviationReport.category_key, bucket, func.count()), group.id
    ).where(
        DeviationReport.seen_at >= week_start(first, TIMEZONE),
        DeviationReport.seen_at < week_start(week + 1, TIMEZONE),
    )
    count_rows = [
        pure.CountRow(area_names[area_id], category, int(ago), n)
        for area_id, category, ago, n in session.execute(
            counts.group_by(EstAreaLink.group_area_id, DeviationReport.category_key, bucket)
        )
    ]
    first = week - HISTORY_WEEKS
    bucket = _bucket(first, week).label("weeks_ago")
    spots = _in_group(
        select(EstAreaLink.group_area_id, DeviationReport.place_id, DeviationReport.building_id, bucket, func.count()),
        group.id,
    ).where(
        DeviationReport.seen_at >= week_start(first, TIMEZONE),
        DeviationReport.seen_at < week_start(week + 1, TIMEZONE),
        (DeviationReport.place_id.is_not(None)) | (DeviationReport.building_id.is_not(None)),
    )
    raw = session.execute(
        spots.group_by(EstAreaLink.group_area_id, DeviationReport.place_id, DeviationReport.building_id, bucket)
    )
    rows = list(raw)
    place_names = _names(session, Place, {r[1] for r in rows if r[1] is not None})
    building_names = _names(session, Building, {r[2] for r in rows if r[1] is None and r[2] is not None})
    spot_rows = []
    for area_id, place_id, building_id, ago, n in rows:
        spot, label = (
            (f"place:{place_id}", place_names[place_id])
            if place_id is not None
            else (f"building:{building_id}", building_names[building_id])
        )
        spot_rows.append(pure.SpotWeek(spot, label, area_names[area_id], week - int(ago), n))
    return count_rows, spot_rows


def _names(session: Session, model: Any, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(session.execute(select(model.id, model.name).where(model.id.in_(ids))).all())


def last_meeting_measures(session: Session, group: EstGroup, week: int) -> tuple[int | None, list[EstMeasure]]:
    """The measures agreed at the group's last meeting before `week` (the meeting is the week they were recorded)."""
    from audit.deviations.est.weeks import parse_week

    last = session.scalar(
        select(func.max(EstMeasure.week)).where(
            EstMeasure.group_id == group.id, EstMeasure.analysis_id.is_(None), EstMeasure.week < week_text(week)
        )
    )
    if last is None:
        return None, []
    return parse_week(last), measures_of(session, group, last)


def measures_of(session: Session, group: EstGroup, week: str) -> list[EstMeasure]:
    return list(
        session.scalars(
            select(EstMeasure)
            .where(EstMeasure.group_id == group.id, EstMeasure.week == week, EstMeasure.analysis_id.is_(None))
            .options(joinedload(EstMeasure.party).joinedload(EstParty.organisation))
            .order_by(EstMeasure.id)
        )
    )


def measure_row(measure: EstMeasure) -> pure.MeasureRow:
    return pure.MeasureRow(
        measure.what,
        measure.place,
        measure.party.organisation.name,
        measure.party.kind.value,
        measure.responsible,
        measure.follow_up_on,
        measure.status.value,
    )


def situation(session: Session, group: EstGroup, week: int) -> pure.Picture:
    counts, spots = picture_rows(session, group, week)
    measures_week, measures = last_meeting_measures(session, group, week)
    return pure.situation_picture(
        week, counts, spots, group.hot_n, group.hot_m, [measure_row(m) for m in measures], measures_week
    )


# --- measures and analyses -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MeasureInput:
    what: str
    party_id: int
    place: str = ""
    responsible: str = ""
    follow_up_on: date | None = None


def record_measure(
    session: Session,
    actor: User,
    group: EstGroup,
    week: int,
    data: MeasureInput,
    analysis: HotSpotAnalysis | None = None,
) -> EstMeasure:
    """A decision of the meeting in `week` (or a hot spot's measure): what, where, which party, who, when."""
    what = check_text(data.what, "what")
    party = session.get(EstParty, data.party_id)
    if party is None or party.group_id != group.id:
        raise EstRefused("party_id", N_("Choose a party of the group."))
    measure = EstMeasure(
        group_id=group.id,
        week=week_text(week),
        analysis_id=analysis.id if analysis else None,
        place=check_text(data.place, "place", required=False),
        what=what,
        party=party,
        responsible=check_text(data.responsible, "responsible", required=False)[:200],
        follow_up_on=data.follow_up_on,
        created_by_id=actor.id,
    )
    session.add(measure)
    session.flush()
    announce(
        signals.measure_recorded,
        session,
        actor,
        organisation_id=_acting_organisation(session, group.id, actor),
        object_id=measure.id,
        after={"group_id": group.id, "week": measure.week, "party_id": party.id, "analysis_id": measure.analysis_id},
    )
    return measure


def set_measure_status(session: Session, actor: User, measure: EstMeasure, status: MeasureStatus) -> None:
    before = measure.status
    measure.status = status
    session.flush()
    announce(
        signals.measure_status_changed,
        session,
        actor,
        organisation_id=_acting_organisation(session, measure.group_id, actor),
        object_id=measure.id,
        before={"status": before.value},
        after={"status": status.value},
    )


def spot_target(session: Session, group: EstGroup, spot: str) -> Place | Building | None:
    """The place or building a spot key names, when it lies in an area of the group (else None: 404)."""
    kind, _, ident = spot.partition(":")
    if not ident.isdigit() or kind not in ("place", "building"):
        return None
    target: Place | Building | None = (
        session.get(Place, int(ident)) if kind == "place" else session.get(Building, int(ident))
    )
    if target is None or target.area_id is None:
        return None
    linked = session.scalar(
        select(EstAreaLink.id).where(EstAreaLink.group_id == group.id, EstAreaLink.area_id == target.area_id)
    )
    return target if linked is not None else None


def analysis_of(session: Session, group: EstGroup, spot: str) -> HotSpotAnalysis | None:
    return session.scalar(
        select(HotSpotAnalysis).where(HotSpotAnalysis.group_id == group.id, HotSpotAnalysis.spot == spot)
    )


def save_analysis(
    session: Session, actor: User, group: EstGroup, spot: str, causes: list[str], notes: str
) -> HotSpotAnalysis:
    target = spot_target(session, group, spot)
    if target is None:
        raise EstRefused("spot", N_("Choose a place of the group."))
    chosen: list[str] = [str(cause.value) for cause in Cause if cause.value in causes]
    text = check_text(notes, "notes", required=False)
    analysis = analysis_of(session, group, spot)
    if analysis is None:
        analysis = HotSpotAnalysis(
            group_id=group.id,
            spot=spot,
            place_id=target.id if isinstance(target, Place) else None,
            building_id=target.id if isinstance(target, Building) else None,
        )
        session.add(analysis)
    analysis.causes, analysis.notes, analysis.updated_by_id = chosen, text, actor.id
    try:
        session.flush()
    except IntegrityError as exc:  # pragma: no cover - two coordinators saving the first analysis at once
        raise EstRefused("spot", N_("Someone saved this analysis at the same time; try again.")) from exc
    announce(
        signals.analysis_saved,
        session,
        actor,
        organisation_id=_acting_organisation(session, group.id, actor),
        object_id=analysis.id,
        after={"group_id": group.id, "spot": spot, "causes": chosen},
    )
    return analysis


def analysis_measures(session: Session, analysis: HotSpotAnalysis) -> list[EstMeasure]:
    return list(
        session.scalars(
            select(EstMeasure)
            .where(EstMeasure.analysis_id == analysis.id)
            .options(joinedload(EstMeasure.party).joinedload(EstParty.organisation))
            .order_by(EstMeasure.id)
        )
    )


def spot_weeks(session: Session, group: EstGroup, spot: str, week: int) -> list[int]:
    """The weeks (of the history the rule looks at) in which the spot had reports."""
    _, rows = picture_rows(session, group, week)
    return sorted({row.week for row in rows if row.spot == spot})


def spot_periods(group: EstGroup, weeks: list[int], until: int) -> list[Period]:
    return hot_periods(weeks, until, group.hot_n, group.hot_m)


# --- spot checks and tasks from a hot spot ----------------------------------------------------------------------


def _at_spot(query: Select[Any], target: Place | Building) -> Select[Any]:
    """Reports counted for the spot: a place's reports, or a building's reports that name no place."""
    if isinstance(target, Place):
        return query.where(DeviationReport.place_id == target.id)
    return query.where(DeviationReport.place_id.is_(None), DeviationReport.building_id == target.id)


def spot_sections(session: Session, group: EstGroup, target: Place | Building) -> list[str]:
    """The checklist sections related to the categories of the spot's reports (the catalogue's `related_section`)."""
    columns: Select[Any] = select(DeviationReport.catalogue_id, DeviationReport.category_key)  # type: ignore[assignment]
    query = _in_group(columns, group.id)
    pairs = session.execute(_at_spot(query, target).distinct()).all()
    wanted = select(DeviationCatalogueVersion).where(DeviationCatalogueVersion.id.in_({p[0] for p in pairs}))
    versions = {v.id: v.catalogue for v in session.scalars(wanted)}
    found = set()
    for version_id, key in pairs:
        category = versions[version_id].category(key) if version_id in versions else None
        if category is not None and category.related_section is not None:
            found.add(category.related_section)
    return sorted(found)


def spot_check_buildings(session: Session, target: Place | Building, organisation_id: int) -> list[Building]:
    """The buildings the organisation may spot-check from the spot: a building spot if it is the organisation's
    own; for a place, the organisation's own buildings in the place's area."""
    if isinstance(target, Building):
        return [target] if target.organisation_id == organisation_id else []
    return list(
        session.scalars(
            select(Building)
            .where(Building.organisation_id == organisation_id, Building.area_id == target.area_id)
            .order_by(Building.name, Building.id)
        )
    )


def spot_checklist(session: Session) -> ChecklistVersion | None:
    """The checklist version a spot check pins: the newest of the checklist the catalogue's sections name."""
    catalogue = current_catalogue(session)
    return current_checklist(session, catalogue.catalogue.checklist) if catalogue is not None else None


def _role_in(session: Session, user_id: int, organisation_id: int) -> Role | None:
    return session.scalar(
        select(Membership.role).where(Membership.user_id == user_id, Membership.organisation_id == organisation_id)
    )


def spot_check_inspectors(session: Session, organisation_id: int) -> list[User]:
    """Who may walk a spot check the organisation starts: its inspectors and admins."""
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.organisation_id == organisation_id, Membership.role.in_(INSPECTORS))
            .order_by(User.name, User.id)
        )
    )


def start_spot_check(
    session: Session, actor: User, party: EstParty, spot: str, building: Building, inspector: User
) -> Inspection:
    """A spot-check inspection of the building, limited to the sections related to the spot's reports, linked to
    the hot spot. Ordered by a member's coordinator, of a building of their own organisation, for one of its
    inspectors to walk."""
    group = party.group
    target = spot_target(session, group, spot)
    if target is None:
        raise EstRefused("spot", N_("Choose a place of the group."))
    role = _role_in(session, actor.id, party.organisation_id)
    if party.role is not PartyRole.member or role is None or not is_coordinator(role):
        raise EstRefused("building_id", N_("Only a member's safety coordinators start spot checks."))
    if _role_in(session, inspector.id, party.organisation_id) not in INSPECTORS:
        raise EstRefused("inspector_id", N_("Choose an inspector of your organisation."))
    if building.id not in {b.id for b in spot_check_buildings(session, target, party.organisation_id)}:
        raise EstRefused("building_id", N_("Choose a building of your own at this place."))
    version = spot_checklist(session)
    if version is None:
        raise EstRefused("building_id", N_("No checklist is loaded."))
    sections = spot_sections(session, group, target)
    if not sections:
        raise EstRefused("building_id", N_("The reports at this place relate to no checklist section."))
    inspection = start_inspection(
        session, actor, building, InspectionKind.spot_check, version, sections, inspector=inspector
    )
    session.add(EstSpotCheck(inspection_id=inspection.id, group_id=group.id, spot=spot, created_by_id=actor.id))
    session.flush()
    announce(
        signals.spot_check_started,
        session,
        actor,
        organisation_id=party.organisation_id,
        object_id=inspection.id,
        after={"group_id": group.id, "spot": spot, "building_id": building.id, "inspector_id": inspector.id},
    )
    return inspection


def spot_inspections(session: Session, group: EstGroup, spot: str, organisation_id: int) -> list[Inspection]:
    """The organisation's spot checks started from the hot spot, newest first (another organisation's stay its own)."""
    return list(
        session.scalars(
            select(Inspection)
            .join(EstSpotCheck, EstSpotCheck.inspection_id == Inspection.id)
            .where(
                EstSpotCheck.group_id == group.id,
                EstSpotCheck.spot == spot,
                Inspection.organisation_id == organisation_id,
            )
            .options(joinedload(Inspection.building))
            .order_by(Inspection.id.desc())
        )
    )


def spot_tasks(
    session: Session, group: EstGroup, target: Place | Building, organisation_id: int
) -> list[RemediationTask]:
    """The organisation's remediation tasks made from the spot's reports, newest first."""
    reports = _at_spot(_in_group(select(DeviationReport.id), group.id), target).where(
        DeviationReport.organisation_id == organisation_id
    )
    return list(
        session.scalars(
            select(RemediationTask)
            .where(RemediationTask.organisation_id == organisation_id, RemediationTask.deviation_id.in_(reports))
            .order_by(RemediationTask.id.desc())
        )
    )


def spot_check_origin(session: Session, inspection: Inspection) -> tuple[EstSpotCheck, str] | None:
    """The hot spot a spot check was started from and the spot's name; None for other inspections."""
    if inspection.kind is not InspectionKind.spot_check:
        return None
    link = session.get(EstSpotCheck, inspection.id)
    if link is None:
        return None
    target = spot_target(session, link.group, link.spot)
    return link, target.name if target is not None else link.spot
