"""The charts of the managers' summary report: vector drawings (reportlab.graphics) of figures per
block, stacked bars of counts and lines of rates, readable from one block to sixty (axis labels
thinned out). A count that is hidden (None) is never drawn, not even as zero: its bar carries a
hollow marker instead, explained in the legend."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

SOFT = colors.Color(0.4, 0.4, 0.4)
GRID = colors.Color(0.86, 0.86, 0.86)
AXIS = colors.Color(0.55, 0.55, 0.55)
# Calm, distinguishable in print and for most colour-blind readers (Okabe-Ito inspired).
PALETTE = (
    colors.HexColor("#1f5788"),
    colors.HexColor("#e69f00"),
    colors.HexColor("#56b4e9"),
    colors.HexColor("#009e73"),
    colors.HexColor("#cc79a7"),
    colors.HexColor("#d55e00"),
    colors.HexColor("#999999"),
    colors.HexColor("#f0e442"),
    colors.HexColor("#0072b2"),
)
# Band shades from "doing well" to "needs care", strong enough to tell apart in a bar.
BAND_SHADES = ("#7fb98a", "#c3d77f", "#f2cf6b", "#eb9a5b", "#d0605e")
TICK_SIZE = 7.0
LEGEND_SIZE = 7.5
LEFT, RIGHT, BOTTOM = 34.0, 8.0, 16.0


@dataclass(frozen=True)
class Series:
    """One named row of values, one per block (None: hidden or not applicable, never drawn)."""

    name: str
    values: tuple[float | None, ...]
    colour: colors.Color | None = None


def band_colours(count: int, *, higher_is_better: bool) -> list[colors.Color]:
    """`count` shades from the calmest to the most concerning band, in band order."""
    step = (len(BAND_SHADES) - 1) / max(count - 1, 1)
    shades = [colors.HexColor(BAND_SHADES[round(i * step)]) for i in range(count)]
    return shades[::-1] if higher_is_better else shades


def nice_top(value: float) -> tuple[float, float]:
    """An axis top at or above `value` and its tick step: 1, 2, 2.5 or 5 times a power of ten,
    about four steps."""
    if value <= 0:
        return 1.0, 1.0
    raw = value / 4
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        step = factor * power
        if step >= raw:
            break
    return step * math.ceil(value / step - 1e-9), step


def label_step(labels: Sequence[str], font: str, slot: float) -> int:
    """Every how many blocks a label is written so that neighbours never overlap."""
    widest = max((stringWidth(t, font, TICK_SIZE) for t in labels), default=0) + 6
    return max(1, math.ceil(widest / max(slot, 1e-6)))


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    words = text.split(" ") if " " in text else list(text)
    joiner = " " if " " in text else ""
    lines: list[str] = []
    for word in words:
        trial = f"{lines[-1]}{joiner}{word}" if lines else word
        if lines and stringWidth(trial, font, size) <= width:
            lines[-1] = trial
        else:
            lines.append(word)
    return lines


def _legend_entries(
    entries: Sequence[tuple[str, Callable[[Drawing, float, float], None]]],
    font: str,
    width: float,
) -> list[tuple[float, float, str, Callable[[Drawing, float, float], None]]]:
    """(x, row, text, draw-key) for each entry, flowing left to right over as many rows as
    needed; an entry too wide for a row is cut to fit."""
    placed: list[tuple[float, float, str, Callable[[Drawing, float, float], None]]] = []
    x, row = LEFT, 0
    for text, key in entries:
        label = text
        while stringWidth(label, font, LEGEND_SIZE) > width - LEFT - 16 and len(label) > 2:
            label = label[:-2] + "…"
        w = 12 + stringWidth(label, font, LEGEND_SIZE) + 12
        if x > LEFT and x + w > width:
            x, row = LEFT, row + 1
        placed.append((x, row, label, key))
        x += w
    return placed


def _swatch(colour: colors.Color) -> Callable[[Drawing, float, float], None]:
    def draw(d: Drawing, x: float, y: float) -> None:
        d.add(Rect(x, y, 8, 7, fillColor=colour, strokeColor=None))

    return draw


def _line_key(colour: colors.Color) -> Callable[[Drawing, float, float], None]:
    def draw(d: Drawing, x: float, y: float) -> None:
        d.add(Line(x, y + 3.5, x + 9, y + 3.5, strokeColor=colour, strokeWidth=1.4))
        d.add(Circle(x + 4.5, y + 3.5, 1.8, fillColor=colour, strokeColor=None))

    return draw


def _hidden_key(d: Drawing, x: float, y: float) -> None:
    d.add(Circle(x + 4, y + 3.5, 2.4, fillColor=colors.white, strokeColor=SOFT, strokeWidth=0.8))


class _Frame:
    """The plot area of one chart: a y axis from 0 to `top`, one slot per block."""

    def __init__(
        self, drawing: Drawing, *, height: float, width: float, blocks: int, top: float
    ) -> None:
        self.d, self.top = drawing, top
        self.x0, self.x1 = LEFT, width - RIGHT
        self.y0, self.y1 = BOTTOM, height
        self.slot = (self.x1 - self.x0) / max(blocks, 1)

    def y(self, value: float) -> float:
        return self.y0 + value / self.top * (self.y1 - self.y0)

    def centre(self, index: int) -> float:
        return self.x0 + (index + 0.5) * self.slot

    def axes(self, step: float, font: str, fmt: Callable[[float], str]) -> None:
        n = 0
        while n * step <= self.top + 1e-9:
            y = self.y(n * step)
            self.d.add(Line(self.x0, y, self.x1, y, strokeColor=GRID, strokeWidth=0.4))
            self.d.add(
                String(
                    self.x0 - 3,
                    y - 2.5,
                    fmt(n * step),
                    fontName=font,
                    fontSize=TICK_SIZE,
                    fillColor=SOFT,
                    textAnchor="end",
                )
            )
            n += 1
        self.d.add(Line(self.x0, self.y0, self.x1, self.y0, strokeColor=AXIS, strokeWidth=0.6))

    def block_labels(self, labels: Sequence[str], font: str) -> None:
        step = label_step(labels, font, self.slot)
        for i, text in enumerate(labels):
            x = self.centre(i)
            if i % step:
                continue
            self.d.add(Line(x, self.y0, x, self.y0 - 2.5, strokeColor=AXIS, strokeWidth=0.5))
            self.d.add(
                String(
                    x,
                    self.y0 - 10,
                    text,
                    fontName=font,
                    fontSize=TICK_SIZE,
                    fillColor=SOFT,
                    textAnchor="middle",
                )
            )


def _with_legend(
    width: float,
    plot_height: float,
    font: str,
    entries: Sequence[tuple[str, Callable[[Drawing, float, float], None]]],
) -> tuple[Drawing, float]:
    """A drawing with the legend rows on top; returns it and the height left for the plot."""
    placed = _legend_entries(entries, font, width)
    rows = (max(r for _x, r, _t, _k in placed) + 1) if placed else 0
    legend_h = rows * 11 + (6 if rows else 0)
    drawing = Drawing(width, plot_height + legend_h, initialFontName=font)
    for x, row, text, key in placed:
        y = plot_height + legend_h - 9 - row * 11
        key(drawing, x, y)
        drawing.add(
            String(x + 12, y + 0.5, text, fontName=font, fontSize=LEGEND_SIZE, fillColor=SOFT)
        )
    return drawing, plot_height - 4


def _integer(value: float) -> str:
    return f"{value:,.0f}" if value == int(value) else f"{value:,.1f}"


def stacked_bars(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: float,
    height: float,
    font: str,
    hidden_note: str | None = None,
) -> Drawing:
    """Bars per block, the series stacked in order. A hidden value (None) is left out and its
    bar gets a hollow marker on top; `hidden_note` names the marker in the legend (when any)."""
    colours = [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]
    any_hidden = any(v is None for s in series for v in s.values)
    entries = [(s.name, _swatch(c)) for s, c in zip(series, colours, strict=True)]
    if any_hidden and hidden_note:
        entries.append((hidden_note, _hidden_key))
    drawing, plot_h = _with_legend(width, height, font, entries)
    totals = [
        sum(s.values[i] or 0 for s in series) for i in range(len(labels))
    ]  # the drawn (shown) part only
    top, step = nice_top(max(totals, default=0) * (1.08 if any_hidden else 1.0))
    frame = _Frame(drawing, height=plot_h, width=width, blocks=len(labels), top=top)
    frame.axes(step, font, _integer)
    bar_w = min(frame.slot * 0.7, 28)
    for i in range(len(labels)):
        x, base = frame.centre(i) - bar_w / 2, 0.0
        for s, colour in zip(series, colours, strict=True):
            value = s.values[i]
            if value:
                drawing.add(
                    Rect(
                        x,
                        frame.y(base),
                        bar_w,
                        frame.y(base + value) - frame.y(base),
                        fillColor=colour,
                        strokeColor=colors.white,
                        strokeWidth=0.3 if bar_w > 4 else 0,
                    )
                )
                base += value
        if any(s.values[i] is None for s in series):
            r = max(min(bar_w / 2 - 0.5, 2.4), 1.2)
            drawing.add(
                Circle(
                    frame.centre(i),
                    frame.y(base) + r + 1.5,
                    r,
                    fillColor=colors.white,
                    strokeColor=SOFT,
                    strokeWidth=0.8,
                )
            )
    frame.block_labels(labels, font)
    return drawing


def lines(
    labels: Sequence[str],
    series: Sequence[Series],
    *,
    width: float,
    height: float,
    font: str,
) -> Drawing:
    """Rates (0..1, shown as percent) per block, one line per series, broken where a value is
    None (nothing to measure)."""
    colours = [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]
    entries = [(s.name, _line_key(c)) for s, c in zip(series, colours, strict=True)]
    drawing, plot_h = _with_legend(width, height, font, entries)
    highest = max((v for s in series for v in s.values if v is not None), default=0.0)
    top, step = nice_top(max(highest * 100, 10.0))
    frame = _Frame(drawing, height=plot_h, width=width, blocks=len(labels), top=top / 100)
    frame.axes(step / 100, font, lambda v: f"{v * 100:.0f}%")
    dot = 1.9 if frame.slot > 6 else 1.2
    for s, colour in zip(series, colours, strict=True):
        run: list[float] = []
        for i, value in enumerate([*s.values, None]):
            if value is None:
                if len(run) > 2:
                    drawing.add(PolyLine(run, strokeColor=colour, strokeWidth=1.3))
                run = []
                continue
            x, y = frame.centre(i), frame.y(value)
            run += [x, y]
            drawing.add(Circle(x, y, dot, fillColor=colour, strokeColor=None))
    frame.block_labels(labels, font)
    return drawing


__all__ = ["Series", "band_colours", "label_step", "lines", "nice_top", "stacked_bars"]
