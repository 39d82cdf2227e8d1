"""A line chart as SVG geometry, computed on the server: no chart library, no script, prints as it shows.

Pure module: `line_chart()` turns (label, value) points into coordinates that `templates/remediation/_chart.html`
draws; the template only places them.
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
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

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


def line_chart(series: list[tuple[str, int]]) -> LineChart:
    top = nice_maximum(max((value for _label, value in series), default=0))
    ticks = tick_count(top)
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    step = plot_width / (len(series) - 1) if len(series) > 1 else 0

    def y_of(value: float) -> float:
        return TOP + plot_height * (1 - value / top)

    points = tuple(
        ChartPoint(LEFT + index * step, y_of(value), label, value) for index, (label, value) in enumerate(series)
    )
    return LineChart(points, tuple((y_of(top * n // ticks), top * n // ticks) for n in range(ticks + 1)))
