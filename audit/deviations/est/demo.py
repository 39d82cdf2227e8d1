"""The demo's EST group: two landlords in Fittja (the demo organisation and a second one), the police and the
municipality as partners, a year of reports with the seasons in them, two hot spots and recorded meetings.

Reports go through `report_deviation` like any other, so the demo's audit log and history are real. The year is
about 250 reports: `tryggahus demo` stays within a few seconds of what it took before.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit.accounts.models import Organisation, Role, User
from audit.accounts.services import create_organisation, create_user
from audit.buildings.models import Area
from audit.buildings.services import create_area
from audit.certificates.status import TIMEZONE
from audit.deviations.est import services
from audit.deviations.est.models import Cause, EstGroup, MeasureStatus, PartyKind, PartyRole
from audit.deviations.est.weeks import monday, week_of
from audit.deviations.models import Place
from audit.deviations.services import ReportInput, report_deviation

WEEKS = 52


@dataclass(frozen=True, slots=True)
class EstAccount:
    role: str
    email: str
    password: str


#: (organisation slug, name, e-mail, role, what the account is): the second landlord and the partners.
PARTIES = (
    ("hyresbolaget", "Hyresbolaget Fittja AB", "hyresvard@demo.example", Role.manager, "landlord B"),
    ("polisen", "Polisen Botkyrka", "polis@demo.example", Role.manager, "police"),
    ("kommunen", "Botkyrka kommun", "kommun@demo.example", Role.manager, "municipality"),
)
PASSWORD = "trygga-est"

#: Weekly reports an area has on average, by category, and the months (1–12) when each is twice as common.
SEASONS = {
    "youth_gathering": (1.0, {5, 6, 7, 8}),
    "disturbance": (0.8, {6, 7, 8, 12}),
    "graffiti": (0.6, {4, 5, 9}),
    "vandalism": (0.5, {6, 7, 8}),
    "break_in": (0.4, {10, 11, 12, 1}),
    "broken_lighting": (0.4, {11, 12, 1, 2}),
    "littering": (0.5, {5, 6, 7}),
}


def est_accounts() -> list[EstAccount]:
    return [EstAccount(what, email, PASSWORD) for _, _, email, _, what in PARTIES]


def _count(rng: random.Random, mean: float) -> int:
    """A small random count around `mean` (a sum of coin tosses: no numpy in the demo)."""
    return sum(1 for _ in range(int(mean * 4)) if rng.random() < 0.25)


def create_est_demo(session: Session, demo: Organisation, users: dict[Role, User], fittja: Area) -> EstGroup:
    rng = random.Random(14)
    made = {}
    for slug, name, email, role, _ in PARTIES:
        organisation = create_organisation(session, slug, name)
        made[slug] = (organisation, create_user(session, organisation, email, role, PASSWORD, name.split()[0]))
    landlord, landlord_user = made["hyresbolaget"]
    other_fittja = create_area(session, landlord, "Fittja centrum")
    hosts = {fittja.id: users[Role.contractor], other_fittja.id: landlord_user}

    admin = users[Role.admin]
    group = services.create_group(session, admin, demo, "EST Fittja")
    services.add_party(session, admin, group, landlord, PartyRole.member, PartyKind.landlord)
    police = services.add_party(session, admin, group, made["polisen"][0], PartyRole.partner, PartyKind.police)
    municipality = services.add_party(
        session, admin, group, made["kommunen"][0], PartyRole.partner, PartyKind.municipality
    )
    group_area = services.add_group_area(session, admin, group, "Fittja")
    services.link_area(session, admin, group_area, fittja)
    services.link_area(session, None, group_area, other_fittja)

    now = datetime.now(TIMEZONE)
    this_week = week_of(now.date())

    def seen(week: int) -> datetime:
        """A moment in the week, evenings more likely; never after now."""
        day = monday(week) + timedelta(days=rng.randrange(7))
        moment = datetime(
            day.year, day.month, day.day, rng.choice((9, 14, 19, 21, 22, 23)), rng.randrange(60), tzinfo=TIMEZONE
        )
        return min(moment, now)  # within the week: a report made in its first minutes stays in it

    def report(area: Area, category: str, week: int, text: str, **where: object) -> None:
        data = ReportInput(category=category, area_id=area.id, description=text, seen_at=seen(week), **where)  # type: ignore[arg-type]
        report_deviation(session, hosts[area.id], area.organisation_id, data)

    for week in range(this_week - WEEKS + 1, this_week + 1):
        month = monday(week).month
        for area in (fittja, other_fittja):
            for category, (mean, peak) in SEASONS.items():
                for _ in range(_count(rng, mean * (2 if month in peak else 1) * 0.6)):
                    report(area, category, week, "Noterat vid rondering.")
    # Hot spot 1, continuing: the car park by Kyrkgatan 4, every week for six weeks, and last summer too.
    for weeks_ago in (*range(6), *range(15, 20)):
        report(
            fittja,
            "youth_gathering",
            this_week - weeks_ago,
            "Grupp samlas kvällstid vid bilarna.",
            place_name="Parkeringen vid Kyrkgatan 4",
        )
    # Hot spot 2, new this week: the underpass at Fittja centrum, three weeks in a row after the light broke.
    for weeks_ago, category in ((2, "broken_lighting"), (1, "disturbance"), (0, "disturbance")):
        report(
            other_fittja,
            category,
            this_week - weeks_ago,
            "Mörkt i tunneln, stök sent på kvällen.",
            place_name="Gångtunneln vid Fittja centrum",
        )
    # A place with reports now and then: never a hot spot.
    for weeks_ago in range(1, WEEKS, 5):
        report(
            other_fittja, "littering", this_week - weeks_ago, "Grovsopor vid återvinningen.", place_name="Fittja torg"
        )

    manager = users[Role.manager]
    car_park = session.scalar(
        select(Place).where(Place.area_id == fittja.id, Place.name_key == "parkeringen vid kyrkgatan 4")
    )
    if car_park is not None:
        analysis = services.save_analysis(
            session,
            manager,
            group,
            f"place:{car_park.id}",
            [Cause.poor_lighting.value, Cause.meeting_place_without_activity.value],
            "Bilarna skymmer sikten från husen; ingen verksamhet på kvällarna.",
        )
        services.record_measure(
            session,
            manager,
            group,
            this_week - 1,
            services.MeasureInput(
                what="Glesa ut buskarna mot gångvägen",
                party_id=group.parties[0].id,
                responsible="Demobostäder AB",
                follow_up_on=monday(this_week + 2),
            ),
            analysis,
        )
    for week_ago, place, what, party, status in (
        (
            2,
            "Parkeringen vid Kyrkgatan 4",
            "Byta trasig belysning på parkeringen",
            group.parties[0],
            MeasureStatus.done,
        ),
        (
            1,
            "Parkeringen vid Kyrkgatan 4",
            "Extra patrullering fredag och lördag kväll",
            police,
            MeasureStatus.under_way,
        ),
        (
            1,
            "Parkeringen vid Kyrkgatan 4",
            "Fältassistenter pratar med ungdomarna",
            municipality,
            MeasureStatus.planned,
        ),
        (
            1,
            "Gångtunneln vid Fittja centrum",
            "Felanmäla belysningen i tunneln",
            group.parties[1],
            MeasureStatus.planned,
        ),
    ):
        measure = services.record_measure(
            session,
            manager,
            group,
            this_week - week_ago,
            services.MeasureInput(
                what=what,
                party_id=party.id,
                place=place,
                responsible=party.organisation.name,
                follow_up_on=monday(this_week + 1),
            ),
        )
        if status is not MeasureStatus.planned:
            services.set_measure_status(session, manager, measure, status)
    # A measure of last autumn, so the evaluation's before and after (12 weeks each) are both over.
    lamps = services.record_measure(
        session,
        manager,
        group,
        this_week - 14,
        services.MeasureInput(
            what="Fler lampor vid parkeringens gångväg",
            party_id=group.parties[0].id,
            place="Parkeringen vid Kyrkgatan 4",
            responsible=group.parties[0].organisation.name,
            follow_up_on=monday(this_week - 10),
        ),
    )
    services.set_measure_status(session, manager, lamps, MeasureStatus.done)
    return group
