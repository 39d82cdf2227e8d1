"""A line chart as SVG geometry, computed on the server: no chart library, no script, prints as it shows.

Pure module: `line_chart()` turns (label, value) points into coordinates that `templates/remediation/_chart.html`
draws, and `lines_chart()` does the same for several series over the same points, with vertical markers (the EST
evaluation's reports per category and the weeks of measures); the template only places them.
"""

from __future__ import annotations

from dataclasses import dataclass

WIDTH = 640
HEIGHT = 220
#: Room for the value axis on the left and the labels underneath.
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 12, 28


@dataclass(frozen=True, slots=True)
class ChartPoint:
    x: float
    y: float
    label: str
    value: int


def polyline(points: tuple[ChartPoint, ...]) -> str:
    """The points as an SVG `points` attribute."""
    return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in points)


@dataclass(frozen=True, slots=True)
class LineChart:
    points: tuple[ChartPoint, ...]
    #: (y, value) of the horizontal grid lines.
    ticks: tuple[tuple[float, int], ...]
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right_edge: int = WIDTH - RIGHT
    baseline: int = HEIGHT - BOTTOM

    @property
    def polyline(self) -> str:
        return polyline(self.points)

    @property
    def area(self) -> str:
        """The polygon under the line, for a light fill."""
        if not self.points:
            return ""
        first, last = self.points[0], self.points[-1]
        return f"{first.x:.1f},{self.baseline} {self.polyline} {last.x:.1f},{self.baseline}"


def nice_maximum(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n that is at least `value` (and at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return max(1, factor * step)
        step *= 10


def tick_count(top: int) -> int:
    """Grid lines that fall on whole, round numbers: 0–5 by ones, 20 by fives, 50 by tens, 100 by twenties."""
    if top <= 5:
        return top
    return 4 if str(top).startswith("2") else 5


@dataclass(frozen=True, slots=True)
class _Scale:
    top: int
    step: float
    width: int

    def x(self, index: int) -> float:
        return LEFT + index * self.step

    def y(self, value: float) -> float:
        return TOP + (HEIGHT - TOP - BOTTOM) * (1 - value / self.top)

    def ticks(self) -> tuple[tuple[float, int], ...]:
        count = tick_count(self.top)
        return tuple((self.y(self.top * n // count), self.top * n // count) for n in range(count + 1))


def _scale(largest: int, points: int, width: int = WIDTH) -> _Scale:
    plot_width = width - LEFT - RIGHT
    return _Scale(nice_maximum(largest), plot_width / (points - 1) if points > 1 else 0, width)


def line_chart(series: list[tuple[str, int]]) -> LineChart:
    scale = _scale(max((value for _label, value in series), default=0), len(series))
    points = tuple(
        ChartPoint(scale.x(index), scale.y(value), label, value) for index, (label, value) in enumerate(series)
    )
    return LineChart(points, scale.ticks())


@dataclass(frozen=True, slots=True)
class ChartLine:
    """One series of a chart with several lines; `key` names it (the template gives each key its class)."""

    key: str
    title: str
    points: tuple[ChartPoint, ...]

    @property
    def polyline(self) -> str:
        return polyline(self.points)


@dataclass(frozen=True, slots=True)
class ChartMark:
    """A vertical marker at a point of the x axis (measures taken that week), with the short text it carries (the
    measures' numbers in the legend) and its title."""

    x: float
    text: str
    title: str
    #: Where the text stands: its x, its y (a marker close to the one before writes its text a line lower), and
    #: its anchor ("end" near the right edge, so it stays inside the chart).
    text_x: float
    text_y: float
    anchor: str


@dataclass(frozen=True, slots=True)
class LinesChart:
    lines: tuple[ChartLine, ...]
    ticks: tuple[tuple[float, int], ...]
    #: (x, text) of the labels under the x axis: only every so many points, so they do not overlap.
    labels: tuple[tuple[float, str], ...]
    marks: tuple[ChartMark, ...]
    width: int
    height: int = HEIGHT
    left: int = LEFT
    top: int = TOP
    baseline: int = HEIGHT - BOTTOM

    @property
    def right_edge(self) -> int:
        return self.width - RIGHT


def lines_chart(
    labels: list[str],
    series: list[tuple[str, str, tuple[int, ...]]],
    marks: list[tuple[int, str, str]] = (),  # type: ignore[assignment]
    label_every: int = 1,
    width: int = WIDTH,
) -> LinesChart:
    """Several lines over the same points: `series` are (key, title, values) with one value per label; `marks`
    are (point index, short text, title) for vertical markers, at most one per point."""
    scale = _scale(max((max(values, default=0) for _k, _t, values in series), default=0), len(labels), width)
    lines = tuple(
        ChartLine(
            key,
            title,
            tuple(ChartPoint(scale.x(i), scale.y(value), labels[i], value) for i, value in enumerate(values)),
        )
        for key, title, values in series
    )
    shown = tuple((scale.x(i), text) for i, text in enumerate(labels) if i % label_every == 0)
    chart_marks: list[ChartMark] = []
    for index, text, title in sorted(marks):
        x = scale.x(index)
        near_end = x > width - RIGHT - 40
        crowded = bool(chart_marks) and x - chart_marks[-1].x < 40 and chart_marks[-1].text_y == TOP + 10
        chart_marks.append(
            ChartMark(
                x,
                text,
                title,
                x - 3 if near_end else x + 3,
                TOP + (22 if crowded else 10),
                "end" if near_end else "start",
            )
        )
    return LinesChart(lines, scale.ticks(), shown, tuple(chart_marks), width)
