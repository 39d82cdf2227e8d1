"""The evaluation pages of an EST group (issue 14, item 7): per group area (or all areas), reports per category per
week over a year with the measures marked, a before/after comparison for a chosen measure, and the same figures as
CSV. Whoever sees the situation picture sees these (members and partners); an outsider gets 404.

Routes on the EST blueprint, in a module of their own; `audit/__init__.py` imports it before registering.
"""

from __future__ import annotations

from flask import render_template, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from audit.access import STAFF, allow
from audit.certificates.status import today_in_sweden
from audit.deviations.est import evaluation as pure
from audit.deviations.est import evaluation_services as services
from audit.deviations.est.models import EstGroupArea, EstParty, MeasureStatus
from audit.deviations.est.views import _category_titles, bp, of_group_or_404, party_or_404
from audit.deviations.est.weeks import monday, parse_week, week_of, week_text
from audit.downloads import private_file
from audit.extensions import db
from audit.labels import label
from audit.remediation import export
from audit.remediation.chart import lines_chart

#: The chart's width in SVG units: 52 weeks need more room than the task trend's 640.
CHART_WIDTH = 960


def _scope(group_id: int, group_area_id: int | None) -> tuple[EstParty, EstGroupArea | None]:
    party = party_or_404(group_id)
    if group_area_id is None:
        return party, None
    return party, of_group_or_404(EstGroupArea, group_area_id, party)


def _last_week() -> int:
    """The chart's last week: `?until=YYYY-Www` (years 2000 to 2100: the calendar's ends would overflow) or the
    current week."""
    chosen = parse_week(request.args.get("until", ""))
    if chosen is None or not 2000 <= monday(chosen).year <= 2100:
        return week_of(today_in_sweden())
    return chosen


def _keys(year: pure.Year, titles: dict[str, str]) -> list[str]:
    """The catalogue's categories in its order, then any key with reports that the catalogue no longer has."""
    return [*titles, *sorted(s.category for s in year.series if s.category not in titles)]


@bp.get("/<int:group_id>/evaluation", defaults={"group_area_id": None})
@bp.get("/<int:group_id>/areas/<int:group_area_id>/evaluation")
@allow(STAFF)
def evaluation(group_id: int, group_area_id: int | None) -> ResponseReturnValue:
    party, group_area = _scope(group_id, group_area_id)
    last = _last_week()
    n = pure.clamp_window(request.args.get("n", type=int))
    result = services.evaluate(db.session, party.group, last, group_area_id, request.args.get("measure", type=int), n)
    titles = _category_titles()
    year = result.year
    shown = pure.chart_series(year)
    names = {**titles, pure.REST: _("Other categories")}
    chart = lines_chart(
        [week_text(w) for w in year.weeks],
        [(s.category, names.get(s.category, s.category), s.counts) for s in shown],
        [
            (
                week - year.weeks[0],
                pure.numbers_text([number for number, _mark in numbered]),
                "; ".join(f"{number}. {week_text(week)}: {mark.what}" for number, mark in numbered),
            )
            for week, numbered in pure.marks_by_week(year)
        ],
        label_every=4,
        width=CHART_WIDTH,
    )
    columns = [s.category for s in year.series]
    return render_template(
        "est/evaluation.html",
        group=party.group,
        party=party,
        group_area=group_area,
        result=result,
        year=year,
        chart=chart,
        shown=shown,
        names=names,
        columns=columns,
        rows=pure.table_rows(year, columns),
        numbers={m.id: number for number, m in enumerate(year.marks, 1)},
        n=n,
        window=(pure.MIN_WINDOW, pure.MAX_WINDOW),
        until=week_text(last),
        week_text=week_text,
        monday=monday,
        status_label=lambda value: label(MeasureStatus(value)),
    )


@bp.get("/<int:group_id>/evaluation.csv", defaults={"group_area_id": None})
@bp.get("/<int:group_id>/areas/<int:group_area_id>/evaluation.csv")
@allow(STAFF)
def evaluation_csv(group_id: int, group_area_id: int | None) -> ResponseReturnValue:
    party, group_area = _scope(group_id, group_area_id)
    last = _last_week()
    year = services.evaluate(db.session, party.group, last, group_area_id).year
    titles = _category_titles()
    keys = _keys(year, titles)
    header = [_("Week"), _("Monday"), *(titles.get(key, key) for key in keys), _("Total"), _("Measures agreed")]
    rows: list[list[export.Cell]] = [
        [
            week_text(week),
            monday(week),
            *counts,
            total,
            " | ".join(f"{m.what} ({m.place})" if m.place else m.what for m in marks),
        ]
        for week, counts, total, marks in pure.table_rows(year, keys)
    ]
    scope = f"area-{group_area.id}" if group_area else "all"
    filename = f"est-{party.group_id}-{scope}-{week_text(last)}.csv"
    return private_file(export.to_csv(header, rows), "text/csv; charset=utf-8", filename)
