"""EST's pure core: ISO weeks, the hot-spot rule at its boundaries, and the situation picture's figures."""

from __future__ import annotations

from datetime import date

import pytest

from audit.deviations.est.hotspots import Period, hot_periods, state_at
from audit.deviations.est.picture import CountRow, MeasureRow, SpotWeek, situation_picture
from audit.deviations.est.weeks import monday, parse_week, week_of, week_text


def w(text: str) -> int:
    week = parse_week(text)
    assert week is not None, text
    return week


def test_iso_weeks_cross_week_53_and_the_turn_of_the_year() -> None:
    assert week_text(w("2026-W53") + 1) == "2027-W01"
    assert w("2027-W01") - w("2026-W52") == 2
    assert week_text(w("2026-W01") - 1) == "2025-W52"
    assert parse_week("2025-W53") is None  # 2025 has 52 ISO weeks
    assert parse_week("2026-W54") is None
    assert parse_week("2026-W1") is None
    assert parse_week("") is None
    assert monday(w("2026-W53")) == date(2026, 12, 28)
    assert week_of(date(2027, 1, 3)) == w("2026-W53")  # a Sunday still in week 53
    assert week_of(date(2027, 1, 4)) == w("2027-W01")


def weeks(*texts: str) -> list[int]:
    return [w(text) for text in texts]


def test_n_minus_one_weeks_is_no_hot_spot() -> None:
    assert hot_periods(weeks("2026-W10", "2026-W11"), w("2026-W12")) == []


def test_n_weeks_in_a_row_make_a_new_hot_spot_then_a_continuing_one() -> None:
    found = hot_periods(weeks("2026-W10", "2026-W11", "2026-W12"), w("2026-W13"))
    assert found == [Period(w("2026-W12"), None)]
    assert state_at(found, w("2026-W11")) is None
    assert state_at(found, w("2026-W12")) == "new"
    assert state_at(found, w("2026-W13")) == "continuing"


def test_a_gap_within_m_weeks_still_counts_and_a_wider_one_does_not() -> None:
    assert hot_periods(weeks("2026-W10", "2026-W12", "2026-W13"), w("2026-W13")) == [Period(w("2026-W13"), None)]
    # 10, 11 and 14: week 14's last four weeks (11–14) hold only two weeks with reports.
    assert hot_periods(weeks("2026-W10", "2026-W11", "2026-W14"), w("2026-W16")) == []


def test_the_flag_clears_after_m_quiet_weeks_and_history_keeps_the_period() -> None:
    found = hot_periods(weeks("2026-W10", "2026-W11", "2026-W12"), w("2026-W20"))
    # Quiet weeks 13, 14, 15, 16: cleared in week 16.
    assert found == [Period(w("2026-W12"), w("2026-W16"))]
    assert state_at(found, w("2026-W15")) == "continuing"
    assert state_at(found, w("2026-W16")) is None
    # Three quiet weeks and a report: still the same hot spot.
    again = hot_periods(weeks("2026-W10", "2026-W11", "2026-W12", "2026-W16"), w("2026-W18"))
    assert again == [Period(w("2026-W12"), None)]
    # A second period later is a second row of the history.
    twice = hot_periods(weeks("2026-W10", "2026-W11", "2026-W12", "2026-W30", "2026-W31", "2026-W32"), w("2026-W32"))
    assert twice == [Period(w("2026-W12"), w("2026-W16")), Period(w("2026-W32"), None)]
    assert state_at(twice, w("2026-W32")) == "new"


def test_week_53_and_the_turn_of_the_year() -> None:
    found = hot_periods(weeks("2026-W52", "2026-W53", "2027-W01"), w("2027-W01"))
    assert found == [Period(w("2027-W01"), None)]
    assert state_at(found, w("2027-W01")) == "new"
    # Week 2's last four weeks are 2025-W51, W52, 2026-W01, W02: week 50 is outside them, week 51 inside.
    assert hot_periods(weeks("2025-W50", "2026-W01", "2026-W02"), w("2026-W02")) == []
    assert hot_periods(weeks("2025-W51", "2026-W01", "2026-W02"), w("2026-W02")) == [Period(w("2026-W02"), None)]
    assert hot_periods(weeks("2025-W52", "2026-W01", "2026-W02"), w("2026-W02")) == [Period(w("2026-W02"), None)]
    cleared = hot_periods(weeks("2026-W50", "2026-W51", "2026-W52"), w("2027-W05"))
    assert cleared == [Period(w("2026-W52"), w("2027-W03"))]  # quiet 53, 01, 02, 03


def test_the_rule_is_set_per_group() -> None:
    assert hot_periods(weeks("2026-W10", "2026-W12"), w("2026-W12"), n=2, m=3) == [Period(w("2026-W12"), None)]
    assert hot_periods(weeks("2026-W10", "2026-W13"), w("2026-W13"), n=2, m=3) == []
    with pytest.raises(ValueError, match="N <= M"):
        hot_periods([1], 1, n=4, m=3)


def test_the_situation_picture_on_a_small_hand_made_set() -> None:
    week = w("2026-W49")
    counts = [
        CountRow("Fittja", "graffiti", 0, 5),
        CountRow("Fittja", "graffiti", 1, 2),
        CountRow("Fittja", "graffiti", 2, 2),
        CountRow("Fittja", "graffiti", 4, 1),
        CountRow("Fittja", "vandalism", 3, 4),
        CountRow("Alby", "break_in", 0, 1),
        CountRow("Alby", "break_in", 5, 9),  # older than the four weeks compared: ignored
    ]
    spots = [
        SpotWeek("place:1", "Parkeringen vid Kyrkgatan 4", "Fittja", week - 2, 1),
        SpotWeek("place:1", "Parkeringen vid Kyrkgatan 4", "Fittja", week - 1, 2),
        SpotWeek("place:1", "Parkeringen vid Kyrkgatan 4", "Fittja", week, 3),
        SpotWeek("building:7", "Hus 7", "Alby", week - 6, 1),
        SpotWeek("building:7", "Hus 7", "Alby", week - 5, 1),
        SpotWeek("building:7", "Hus 7", "Alby", week - 4, 1),
        SpotWeek("building:7", "Hus 7", "Alby", week, 1),
        SpotWeek("place:2", "Lekplatsen", "Alby", week, 1),
    ]
    measure = MeasureRow("Belysning lagad", "Kyrkgatan 4", "Polisen", "police", "Anna", date(2026, 12, 14), "planned")
    picture = situation_picture(week, counts, spots, 3, 4, [measure], week - 1)
    by_line = {(line.area, line.category): (line.count, line.average, line.change) for line in picture.lines}
    assert by_line == {
        ("Alby", "break_in"): (1, 0.0, 1.0),
        ("Fittja", "graffiti"): (5, 1.25, 3.75),
        ("Fittja", "vandalism"): (0, 1.0, -1.0),
    }
    assert [(t.area, t.count, t.average) for t in picture.totals] == [("Alby", 1, 0.0), ("Fittja", 5, 2.25)]
    assert picture.total == 6
    assert [(p.label, p.count) for p in picture.places] == [
        ("Parkeringen vid Kyrkgatan 4", 3),
        ("Hus 7", 1),
        ("Lekplatsen", 1),
    ]
    hot = [(h.spot, h.state, week_text(h.since), h.weeks_with_reports) for h in picture.hot_spots]
    # Kyrkgatan: three weeks in a row, new this week. Hus 7: hot since week 45, three quiet weeks, a report now.
    assert hot == [("place:1", "new", "2026-W49", 3), ("building:7", "continuing", "2026-W45", 1)]
    assert picture.measures == [measure]
    assert picture.measures_week == week - 1
