"""EST evaluation (issue 14, item 7): the pure year series and before/after on hand-made data (week 53, a window
across the new year), then the page's and the CSV's figures from the database, and who may see them."""

from __future__ import annotations

import csv
import io

from flask import Flask

from audit.deviations.est import evaluation_services, services
from audit.deviations.est.evaluation import (
    REST,
    Mark,
    WeekCount,
    chart_series,
    clamp_window,
    compare,
    marks_by_week,
    numbers_text,
    per_week,
    table_rows,
    year_of,
)
from audit.deviations.est.weeks import week_text
from audit.remediation.chart import lines_chart
from tests.test_est import World, _as, at, world  # noqa: F401  # the shared group fixture
from tests.test_est_pure import w


def test_a_year_of_weeks_across_week_53_with_zeros_where_nothing_was_reported() -> None:
    last = w("2027-W10")
    rows = [
        WeekCount(w("2026-W53"), "graffiti", 2),
        WeekCount(w("2027-W01"), "graffiti", 1),
        WeekCount(w("2027-W01"), "vandalism", 3),
        WeekCount(w("2027-W10"), "graffiti", 1),
        WeekCount(last - 52, "graffiti", 9),  # a week before the year: left out
        WeekCount(last + 1, "graffiti", 9),  # after it: left out
    ]
    marks = [Mark(7, w("2026-W53"), "Belysning", "Kyrkgatan 4", "done"), Mark(8, last + 1, "Senare", "", "planned")]
    year = year_of(rows, last, marks)
    assert len(year.weeks) == 52
    assert (week_text(year.weeks[0]), week_text(year.weeks[-1])) == ("2026-W12", "2027-W10")  # 2026 has week 53
    assert [(s.category, s.total) for s in year.series] == [("graffiti", 4), ("vandalism", 3)]
    graffiti = year.series[0].counts
    index = year.weeks.index(w("2026-W53"))
    assert (graffiti[index], graffiti[index + 1], year.totals[index + 1]) == (2, 1, 4)
    assert sum(1 for count in year.totals if count) == 3
    assert [m.id for m in year.marks] == [7]
    rows_by_week = {
        week: (counts, total, [m.id for m in ms])
        for week, counts, total, ms in table_rows(year, ["vandalism", "fire", "graffiti"])
    }
    assert rows_by_week[w("2027-W01")] == ([3, 0, 1], 4, [])
    assert rows_by_week[w("2026-W53")] == ([0, 0, 2], 2, [7])
    assert rows_by_week[w("2026-W20")] == ([0, 0, 0], 0, [])


def test_the_chart_keeps_five_categories_and_sums_the_rest() -> None:
    last = w("2026-W49")
    rows = [WeekCount(last, f"c{i}", 10 - i) for i in range(8)]
    shown = chart_series(year_of(rows, last))
    assert [s.category for s in shown] == ["c0", "c1", "c2", "c3", "c4", REST]
    assert shown[-1].counts[-1] == 5 + 4 + 3
    assert [s.category for s in chart_series(year_of(rows[:3], last))] == ["c0", "c1", "c2"]


def test_before_and_after_across_the_new_year_and_week_53() -> None:
    weekly = per_week(
        [
            WeekCount(w("2026-W50"), "graffiti", 5),  # before the window
            WeekCount(w("2026-W51"), "graffiti", 4),
            WeekCount(w("2026-W53"), "graffiti", 3),
            WeekCount(w("2026-W53"), "vandalism", 1),
            WeekCount(w("2027-W01"), "graffiti", 2),
            WeekCount(w("2027-W02"), "graffiti", 20),  # the measure's week: in neither period
            WeekCount(w("2027-W03"), "graffiti", 1),
            WeekCount(w("2027-W06"), "graffiti", 2),
            WeekCount(w("2027-W07"), "graffiti", 8),  # after the window
        ]
    )
    comparison = compare(weekly, w("2027-W02"), 4, until=w("2027-W20"))
    assert (week_text(comparison.before.first), week_text(comparison.before.last)) == ("2026-W51", "2027-W01")
    assert (week_text(comparison.after.first), week_text(comparison.after.last)) == ("2027-W03", "2027-W06")
    assert (comparison.before.count, comparison.after.count, comparison.change) == (10, 3, -7)
    assert comparison.percent == -70.0
    # Half the period after has passed: counted so far, but no per cent.
    early = compare(weekly, w("2027-W02"), 4, until=w("2027-W04"))
    assert (early.after.count, early.after.weeks_past, early.after.complete, early.percent) == (1, 2, False, None)
    # Nothing before: no per cent either.
    assert compare({w("2027-W03"): 2}, w("2027-W02"), 4, until=w("2027-W20")).percent is None
    assert compare({w("2027-W01"): 3, w("2027-W03"): 4}, w("2027-W02"), 4, until=w("2027-W20")).percent == 33.3
    assert [clamp_window(n) for n in (None, 1, 4, 12, 26, 99)] == [12, 4, 4, 12, 26, 26]


def _year_of_reports(w_: World) -> int:
    """Reports around a measure at Kyrkgatan 4 agreed in week 45 of 2026; returns the measure's id."""
    place = {"place_name": "Kyrkgatan 4"}
    w_.report("a_host", w_.area_a, "graffiti", "Taggar", at(13, 10, month=10), **place)  # week 42
    w_.report("a_host", w_.area_a, "graffiti", "Taggar", at(29, 10, month=10), **place)  # week 44
    w_.report("b_host", w_.area_b, "vandalism", "Ruta", at(28, 12, month=10))  # week 44, the other member
    w_.report("a_host", w_.area_a, "littering", "Sopor", at(1, 23, 30, month=11))  # Sunday 23:30: week 44
    w_.report("a_host", w_.area_a, "graffiti", "Taggar", at(4, 10, month=11), **place)  # week 45: the measure's
    w_.report("b_host", w_.area_b, "youth_gathering", "Samling", at(9, 0, 30, month=11))  # Monday 00:30: week 46
    w_.report("a_host", w_.area_a, "graffiti", "Taggar", at(18, 10, month=11), **place)  # week 47
    w_.report("b_host", w_.area_b, "disturbance", "Oväsen", at(1, 10))  # week 49
    w_.report("a_host", w_.elsewhere, "graffiti", "Alby", at(29, 10, month=10))  # not an area of the group
    measure = services.record_measure(
        w_.session,
        w_.users["a_manager"],
        w_.group,
        w("2026-W45"),
        services.MeasureInput(what="Ny belysning", party_id=w_.police_party.id, place="kyrkgatan  4"),
    )
    w_.session.flush()
    return measure.id


def test_the_evaluation_from_the_database(world: World) -> None:  # noqa: F811
    measure_id = _year_of_reports(world)
    result = evaluation_services.evaluate(world.session, world.group, w("2026-W49"), world.fittja.id, measure_id, 4)
    counts = {
        (week_text(week), s.category): s.counts[i]
        for s in result.year.series
        for i, week in enumerate(result.year.weeks)
        if s.counts[i]
    }
    assert counts == {
        ("2026-W42", "graffiti"): 1,
        ("2026-W44", "graffiti"): 1,
        ("2026-W44", "vandalism"): 1,
        ("2026-W44", "littering"): 1,
        ("2026-W45", "graffiti"): 1,
        ("2026-W46", "youth_gathering"): 1,
        ("2026-W47", "graffiti"): 1,
        ("2026-W49", "disturbance"): 1,
    }
    assert result.overall is not None
    assert result.at_place is not None
    assert (result.overall.before.count, result.overall.after.count, result.overall.percent) == (4, 3, -25.0)
    assert (result.at_place.before.count, result.at_place.after.count, result.at_place.percent) == (2, 1, -50.0)
    # A window reaching back before the year's first week reads those weeks from the database too.
    early = evaluation_services.evaluate(world.session, world.group, w("2027-W40"), None, measure_id, 26)
    assert early.overall is not None
    assert early.overall.before.count == 4


def test_the_page_and_the_csv(app: Flask, world: World) -> None:  # noqa: F811
    measure_id = _year_of_reports(world)
    base = f"/est/{world.group.id}/areas/{world.fittja.id}/evaluation"
    for email in ("a-manager@test.example", "p-viewer@test.example"):  # a member and a partner
        page = _as(app, email).get(f"{base}?until=2026-W49&measure={measure_id}&n=4").get_data(as_text=True)
        for shown in ('data-comparison="overall"', 'data-comparison="place"', "<svg", "series-0", 'class="mark"'):
            assert shown in page, shown
        assert 'data-week="2026-W44"' in page
        for hidden in ("Sopor", "Taggar"):  # counts only, never what was written
            assert hidden not in page, hidden
        assert "−25" in page or "-25" in page
    client = _as(app, "a-manager@test.example")
    response = client.get(f"/est/{world.group.id}/evaluation.csv?until=2026-W49")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))
    header, rows = table[0], {row[0]: row for row in table[1:]}
    assert len(rows) == 52
    assert header[0] == "Vecka"
    assert header[-2:] == ["Totalt", "Överenskomna åtgärder"]
    assert rows["2026-W44"][1] == "2026-10-26"
    assert rows["2026-W44"][-2] == "3"
    assert rows["2026-W45"][-1] == "Ny belysning (kyrkgatan  4)"
    graffiti = header.index(next(h for h in header if h.lower().startswith("klotter")))
    assert [rows[week][graffiti] for week in ("2026-W42", "2026-W43", "2026-W44")] == ["1", "0", "1"]
    # Odd query strings fall back to this year and 12 weeks; none fails.
    for query in ("until=9999-W52", "until=0001-W01", "until=x", "n=abc", "n=-5", "measure=-1", "measure=1e99"):
        assert client.get(f"{base}?{query}").status_code == 200, query
        assert client.get(f"/est/{world.group.id}/evaluation.csv?{query}").status_code == 200, query
    # Another group's area, an unknown area, an outsider: 404.
    assert client.get(f"/est/{world.group.id}/areas/999999/evaluation").status_code == 404
    assert _as(app, "o-admin@test.example").get(f"/est/{world.group.id}/evaluation").status_code == 404
    assert _as(app, "o-admin@test.example").get(f"/est/{world.group.id}/evaluation.csv").status_code == 404


def test_measures_in_one_week_share_a_marker() -> None:
    last = w("2026-W49")
    marks = [Mark(1, w("2026-W36"), "A", "", "done"), *(Mark(i, last, f"M{i}", "", "planned") for i in (2, 3, 4))]
    grouped = marks_by_week(year_of([], last, marks))
    assert [(week_text(week), [n for n, _m in numbered]) for week, numbered in grouped] == [
        ("2026-W36", [1]),
        ("2026-W49", [2, 3, 4]),
    ]
    assert [numbers_text(n) for n in ([1], [2, 3, 4], [1, 2, 4], [])] == ["1", "2–4", "1–2, 4", ""]


def test_the_chart_of_several_lines() -> None:
    from audit.remediation.chart import LEFT, RIGHT, TOP

    labels = [f"W{i}" for i in range(52)]
    chart = lines_chart(
        labels,
        [("graffiti", "Klotter", (0,) * 51 + (7,)), (REST, "Övriga", (1,) * 52)],
        [(0, "1", "a"), (50, "2", "b"), (51, "3–6", "c")],
        label_every=4,
        width=960,
    )
    assert [t for _y, t in chart.ticks] == [0, 2, 4, 6, 8, 10]  # 7 rounds up to 10, by twos
    assert len(chart.labels) == 13
    first, last = chart.lines[0].points[0], chart.lines[0].points[-1]
    assert (first.x, last.x) == (LEFT, 960 - RIGHT)
    assert chart.lines[0].polyline.startswith(f"{LEFT:.1f},")
    # Marks a week apart at the right edge: the texts stand inside the chart, the second a line lower.
    assert [(m.anchor, m.text_y) for m in chart.marks] == [("start", TOP + 10), ("end", TOP + 10), ("end", TOP + 22)]
