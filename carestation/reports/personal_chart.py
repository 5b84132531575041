"""The chart of one questionnaire on the personal report: a vector drawing (reportlab.graphics)
of the scores on a date axis, the instrument's bands shaded across it from light green ("doing
well") to light rose ("needs care") and named on the right, every point labelled with its value
where the label fits. Handles one form, forms over years, and several forms on the same day."""

from __future__ import annotations

from datetime import date

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, Rect, String
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from carestation.assessments import Instrument
from carestation.domain.report_values import InstrumentSection

CHART_HEIGHT = 118
SOFT = colors.Color(0.4, 0.4, 0.4)
LINE_COLOUR = colors.Color(0.12, 0.34, 0.55)
# Light band shades from "doing well" to "needs care": calm, never alarming.
SHADES = ("#e3f1e6", "#eef4dc", "#fbf2d9", "#fbe6d4", "#f7dcdc")
# Date-axis steps from finest to coarsest: the first that gives one to six ticks is used.
TICK_STEPS = tuple(
    (unit, n)
    for unit, ns in (("d", (1, 2, 7, 14)), ("m", (1, 2, 3, 6)), ("y", (1, 2, 5, 10)))
    for n in ns
)


def date_ticks(first: date, last: date) -> list[tuple[date, str]]:
    """At most six readable ticks from `first` to `last`, at the finest step that fits: days,
    weeks (Mondays), months or years."""
    a, b = first.toordinal(), last.toordinal()
    ticks, unit = [first, last] if a != b else [first], "d"
    for unit_, step in TICK_STEPS:
        if unit_ == "d":  # ordinal 1 is a Monday
            found = [date.fromordinal(o) for o in range(a, b + 1) if (o - 1) % step == 0]
        elif unit_ == "m":
            months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
            found = [date(m // 12, m % 12 + 1, 1) for m in months if m % 12 % step == 0]
        else:
            found = [date(y, 1, 1) for y in range(first.year, last.year + 1) if y % step == 0]
        found = [t for t in found if first <= t <= last]
        if 1 <= len(found) <= 6:
            ticks, unit = found, unit_
            break
    labels = []
    for i, tick in enumerate(ticks):
        if unit == "y":
            labels.append((tick, str(tick.year)))
        elif unit == "m":
            labels.append((tick, f"{tick:%Y-%m}"))
        else:
            new_year = i == 0 or ticks[i - 1].year != tick.year
            labels.append((tick, tick.isoformat() if new_year else f"{tick:%m-%d}"))
    return labels


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width`: by words where there are spaces, else by characters."""
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


def score_chart(
    section: InstrumentSection, definition: Instrument, lang: str, font: str, *, width: float
) -> Drawing:
    """Scores over time on a date axis, the bands shaded and named on the right; a single form
    gets a lower chart."""
    height = CHART_HEIGHT if len(section.points) > 1 else CHART_HEIGHT - 22
    x0, label_w, y0, top = 26.0, 128.0, 16.0, height - 10
    x1 = width - label_w - 6
    values = definition.band_values()
    lo, hi = values[0], values[-1]
    drawing = Drawing(width, height, initialFontName=font)

    def y_of(value: float) -> float:
        return y0 + (value - lo) / (hi - lo) * (top - y0)

    bands = definition.bands
    order = list(reversed(bands)) if definition.higher_is_better else list(bands)
    step = (len(SHADES) - 1) / max(len(bands) - 1, 1)
    for band in bands:
        rank = order.index(band)
        shade = colors.HexColor(SHADES[round(rank * step)])
        i = bands.index(band)
        bottom = lo if i == 0 else (bands[i - 1].max + band.min) / 2
        upper = hi if i == len(bands) - 1 else (band.max + bands[i + 1].min) / 2
        yb, yt = y_of(bottom), y_of(upper)
        drawing.add(Rect(x0, yb, width - x0, yt - yb, fillColor=shade, strokeColor=None))
        drawing.add(Line(x1 + 3, yb, width, yb, strokeColor=colors.white, strokeWidth=0.8))
        size = 7.0
        lines = _wrap(band.label.text(lang), font, size, label_w - 6)
        while len(lines) * size * 1.2 > yt - yb - 2 and size > 6:
            size -= 0.5
            lines = _wrap(band.label.text(lang), font, size, label_w - 6)
        first_y = (yb + yt) / 2 + (len(lines) - 1) * size * 0.6 - size * 0.35
        for n, line in enumerate(lines):
            drawing.add(
                String(x1 + 8, first_y - n * size * 1.2, line, fontName=font, fontSize=size)
            )
    for value in [lo, *(b.min for b in bands[1:]), hi]:  # where each band starts, and the top
        drawing.add(
            String(
                x0 - 3, y_of(value) - 2.5, str(value), fontName=font, fontSize=7, textAnchor="end"
            )
        )
    axis = {"strokeColor": SOFT, "strokeWidth": 0.6}
    drawing.add(Line(x0, y0, x0, top, **axis))
    drawing.add(Line(x0, y0, x1, y0, **axis))

    points = sorted(section.points, key=lambda p: p.taken_on)
    first, last = points[0].taken_on, points[-1].taken_on
    span = (last - first).days
    pad = max(span * 0.06, 1.0) if span else 10.0
    d_lo, d_hi = first.toordinal() - pad, last.toordinal() + pad
    plot_l, plot_r = x0 + 10, x1 - 10

    def x_of(day: date) -> float:
        return plot_l + (day.toordinal() - d_lo) / (d_hi - d_lo) * (plot_r - plot_l)

    for day, text in date_ticks(first, last):
        x = x_of(day)
        drawing.add(Line(x, y0, x, y0 - 3, **axis))
        drawing.add(String(x, y0 - 11, text, fontName=font, fontSize=7, textAnchor="middle"))

    # Forms on the same day sit side by side instead of on top of each other.
    same_day: dict[date, int] = {}
    for p in points:
        same_day[p.taken_on] = same_day.get(p.taken_on, 0) + 1
    placed_day: dict[date, int] = {}
    xy: list[tuple[float, float]] = []
    for p in points:
        n, k = same_day[p.taken_on], placed_day.get(p.taken_on, 0)
        placed_day[p.taken_on] = k + 1
        xy.append((x_of(p.taken_on) + (k - (n - 1) / 2) * 8, y_of(p.value)))
    if len(xy) > 1:
        drawing.add(
            PolyLine([c for pt in xy for c in pt], strokeColor=LINE_COLOUR, strokeWidth=1.3)
        )
    taken: list[tuple[float, float, float, float]] = [(x - 3, y - 3, x + 3, y + 3) for x, y in xy]

    def free(box: tuple[float, float, float, float]) -> bool:
        inside = box[0] >= x0 and box[2] <= x1 and box[1] >= y0 and box[3] <= height
        return inside and not any(
            box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken
        )

    for i, ((x, y), p) in enumerate(zip(xy, points, strict=True)):
        latest = i == len(xy) - 1
        drawing.add(
            Circle(x, y, 3.4 if latest else 2.4, fillColor=LINE_COLOUR, strokeColor=colors.white)
        )
        text, size = str(p.value), 8.0 if latest else 7.0
        w = stringWidth(text, font, size)
        for ty in (y + 5, y - 5 - size, y + 5 + size):
            box = (x - w / 2 - 1, ty - 1, x + w / 2 + 1, ty + size)
            if free(box) or (latest and ty == y + 5 + size):
                taken.append(box)
                drawing.add(String(x, ty, text, fontName=font, fontSize=size, textAnchor="middle"))
                break
    return drawing
