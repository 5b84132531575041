"""The painted calendar grid: days x counsellors (or rooms) against time, with drag to move."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from enum import Enum
from zoneinfo import ZoneInfo

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QFontMetrics,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QPixmap,
    QResizeEvent,
    QStaticText,
)
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QToolTip, QWidget

from carestation.domain.booking import Appointment
from carestation.domain.periods import Period
from carestation.domain.vocab import AppointmentStatus, AppointmentType
from carestation.i18n import N_, _
from carestation.ui import style

STEP = 15  # minutes: one row, the drag snap, and one keyboard move
FIRST_MINUTE, LAST_MINUTE = 7 * 60, 21 * 60
WEEKDAYS = (N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun"))
TEXT = QColor("#1b1b1b")  # dark text on light fills: legible whatever the type
CRISIS_RED = QColor("#c62828")
SHADE = QColor("#e9ecef")
# (fill, edge) per type; the legend shows the type's name beside each, never colour alone.
TYPE_COLOURS: dict[AppointmentType, tuple[QColor, QColor]] = {
    AppointmentType.COUNSELLING: (QColor("#d7e7fb"), QColor("#2f65b0")),
    AppointmentType.POD: (QColor("#d2f0e2"), QColor("#1f7f57")),
    AppointmentType.ONLINE: (QColor("#e7ddf7"), QColor("#6a4bb0")),
    AppointmentType.CRISIS: (QColor("#fde0dc"), CRISIS_RED),
    AppointmentType.LECTURE: (QColor("#fcebc2"), QColor("#a56f00")),
}


@dataclass(frozen=True)
class GridColours:
    """What the grid paints with. In high contrast every block is white text on black in a white
    frame (a crisis session in yellow): the type is read from the block's text, never from a
    fill colour, and the lines and shading are greys that show on black."""

    text: QColor
    today: QColor
    shade: QColor
    hour_line: QColor
    half_line: QColor
    day_edge: QColor
    crisis: QColor
    badge_text: QColor
    high_contrast: bool
    hatch: QColor | None = None  # a no-show's hatching; None: the block's edge colour
    cancelled_text: QColor | None = None  # on a faded block; None: `text`

    def block(self, type_: AppointmentType) -> tuple[QColor, QColor]:
        if not self.high_contrast:
            return TYPE_COLOURS[type_]
        return QColor("#000000"), self.crisis if type_ is AppointmentType.CRISIS else self.text


_NORMAL = GridColours(
    text=TEXT,
    today=QColor("#fffbea"),
    shade=SHADE,
    hour_line=QColor("#c4c8cc"),
    half_line=QColor("#e3e5e8"),
    day_edge=QColor("#8a9096"),
    crisis=CRISIS_RED,
    badge_text=QColor("white"),
    high_contrast=False,
)
_CONTRAST = GridColours(
    text=QColor("#ffffff"),
    today=QColor("#262600"),  # a dark yellow: today stands out, white text still reads
    shade=QColor("#303030"),
    hour_line=QColor("#a0a0a0"),
    half_line=QColor("#505050"),
    day_edge=QColor("#ffffff"),
    crisis=QColor(style.YELLOW),
    badge_text=QColor("#000000"),
    high_contrast=True,
    hatch=QColor("#6e6e6e"),  # grey, so the white text over it stays readable
)


# A dark system theme: the blocks keep their light fills and dark text (they read on dark too);
# what lies behind them turns dark, so closed hours stay darker than open ones, not lighter.
_DARK = replace(
    _NORMAL,
    today=QColor("#2e2b1c"),
    shade=QColor("#141414"),
    hour_line=QColor("#4d5156"),
    half_line=QColor("#33363a"),
    day_edge=QColor("#8a9096"),
    cancelled_text=QColor("#ffffff"),  # a faded block shows the dark window through it
)


def grid_colours() -> GridColours:
    if style.is_high_contrast():
        return _CONTRAST
    return _DARK if style.is_dark() else _NORMAL


_K = Qt.Key
_CTRL = Qt.KeyboardModifier.ControlModifier


class GridMode(Enum):
    BY_COUNSELLOR = "counsellor"
    BY_ROOM = "room"
    BY_DAY = "day"  # one column per day: a counsellor's own calendar across stations


@dataclass(frozen=True)
class Resource:
    """A column's counsellor or room; id None collects appointments without one."""

    id: int | None
    name: str


@dataclass(frozen=True)
class _Column:
    day: date
    resource: Resource | None
    free: tuple[tuple[int, int], ...] | None  # minutes of the day without shading; None: unknown


@dataclass(eq=False)
class _Block:
    appt: Appointment
    column: int
    start: int  # minutes since midnight, in the appointment's own time zone
    end: int
    lane: int = 0
    lanes: int = 1
    rect: QRectF = field(default_factory=QRectF)  # content coordinates
    # Elided lines as QStaticText (laid out once), for the block size they were made for.
    lines: tuple[tuple[float, float, bool], list[QStaticText]] = ((-1.0, -1.0, False), [])


def _minutes(moment: datetime, day: date) -> int:
    if moment.date() < day:
        return 0
    if moment.date() > day:
        return 24 * 60
    return moment.hour * 60 + moment.minute


def _free(periods: Sequence[Period] | None, day: date) -> list[tuple[int, int]] | None:
    if periods is None:
        return None
    return [(_minutes(p.start, day), _minutes(p.end, day)) for p in periods]


def _intersect(
    a: list[tuple[int, int]] | None, b: list[tuple[int, int]] | None
) -> list[tuple[int, int]] | None:
    if a is None or b is None:
        return a if b is None else b
    return [(max(s, t), min(e, f)) for s, e in a for t, f in b if max(s, t) < min(e, f)]


def _hm(moment: datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"  # strftime is slow on aware datetimes


def block_texts(
    appt: Appointment, mode: GridMode, *, name_type: bool = False
) -> tuple[str, str, str]:
    """Time (and status), who or what, and where or with whom: whatever the column is not.
    name_type: the type in words before who or what (high contrast, where every block has the
    same colours)."""
    when = f"{_hm(appt.starts_at)}–{_hm(appt.ends_at)}"
    if appt.status is not AppointmentStatus.BOOKED:
        when = _("{time} {status}").format(time=when, status=appt.status.title)
    if appt.type is AppointmentType.LECTURE:
        what = appt.title or appt.type.title
    else:
        what = appt.client_name or appt.client_code or appt.type.title
    if name_type and what != appt.type.title:
        what = _("{type}: {what}").format(type=appt.type.title, what=what)
    place = appt.room_name or appt.modality.title
    if mode is GridMode.BY_ROOM:
        extra = appt.counsellor_name or "—"
    elif mode is GridMode.BY_DAY:
        extra = _("{place} · {station}").format(place=place, station=appt.station_name)
    else:
        extra = place
    return when, what, extra


def describe(appt: Appointment) -> str:
    """The full text of a block, for its tooltip and for screen readers."""
    lines = [
        appt.type.title + (" (!)" if appt.type is AppointmentType.CRISIS else ""),
        f"{appt.starts_at:%Y-%m-%d %H:%M}–{appt.ends_at:%H:%M}",
        _("Status: {status}").format(status=appt.status.title),
    ]
    if appt.title:
        lines.append(appt.title)
    if appt.client_name or appt.client_code:
        lines.append(
            _("Client: {name} {code}").format(name=appt.client_name, code=appt.client_code).strip()
        )
    if appt.counsellor_name:
        lines.append(_("Counsellor: {name}").format(name=appt.counsellor_name))
    lines.append(_("Room: {room}").format(room=appt.room_name or appt.modality.title))
    lines.append(_("Station: {station}").format(station=appt.station_name))
    if appt.late_cancel:
        lines.append(_("Cancelled late"))
    return "\n".join(lines)


def paint_block(
    painter: QPainter,
    rect: QRectF,
    type_: AppointmentType,
    status: AppointmentStatus,
    colours: GridColours | None = None,
) -> None:
    """The block's shape: type colour, faded when cancelled, hatched for a no-show, and a red
    border and "!" badge for a crisis session. Shared with the legend. `colours`: the grid's,
    when the caller has them for the whole paint."""
    colours = colours or grid_colours()
    fill, edge = colours.block(type_)
    if status is AppointmentStatus.CANCELLED:
        painter.setOpacity(0.45)  # the caller sets it back after the text
        painter.setPen(QPen(edge, 1, Qt.PenStyle.DashLine))
    else:
        painter.setPen(edge)
    painter.setBrush(fill)
    painter.drawRoundedRect(rect, 4, 4)
    painter.fillRect(QRectF(rect.left() + 1, rect.top() + 1, 3, rect.height() - 1), edge)
    if status is AppointmentStatus.NO_SHOW:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QBrush(colours.hatch or edge, Qt.BrushStyle.BDiagPattern))
        painter.drawRoundedRect(rect, 4, 4)
    if type_ is AppointmentType.CRISIS:
        painter.setPen(QPen(colours.crisis, 2.5))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 4, 4)
        size = max(6.0, min(14.0, rect.height() - 5))
        badge = QRectF(rect.right() - size - 3, rect.top() + 2.5, size, size)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(colours.crisis)
        painter.drawEllipse(badge)
        painter.setPen(colours.badge_text)
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, "!")


def legend_swatch(
    type_: AppointmentType, status: AppointmentStatus = AppointmentStatus.BOOKED, size: int = 18
) -> QPixmap:
    pixmap = QPixmap(QSize(size + 12, size))
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    font = painter.font()
    font.setBold(True)
    font.setPixelSize(size - 7)
    painter.setFont(font)
    paint_block(painter, QRectF(0.5, 0.5, size + 11, size - 1), type_, status)
    painter.end()
    return pixmap


class CalendarGrid(QAbstractScrollArea):
    """Columns are (day x counsellor or room), or one per day; rows are 15 minutes.

    Signals: appointment_activated(id); appointment_move_requested(id, new_start: datetime,
    new_resource_id) on a drop or Ctrl+arrow (the screen decides); slot_activated(start:
    datetime, resource_id) on a double-click on empty grid, or Enter on the free-time cursor
    (Shift+arrow keys move it, so a time can be booked from the keyboard).
    """

    appointment_activated = Signal(int)
    appointment_move_requested = Signal(int, object, object)
    slot_activated = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(_("Appointment calendar"))
        self.placeholder_text = ""
        self._mode = GridMode.BY_COUNSELLOR
        self._zone: tzinfo = ZoneInfo("Asia/Shanghai")
        self._today: date | None = None
        self._movable: Callable[[Appointment], bool] = lambda a: (
            a.status is AppointmentStatus.BOOKED
        )
        self._columns: list[_Column] = []
        self._blocks: list[_Block] = []
        self._by_column: list[list[_Block]] = []
        self._shades: list[list[tuple[float, float]]] = []
        self._by_id: dict[int, _Block] = {}
        self._selected: _Block | None = None
        self._cursor: tuple[int, int] | None = None  # column, minute: the free-time cursor
        self._press: tuple[_Block, QPointF, float] | None = None  # block, press point, grab dy
        self._ghost: tuple[_Block, int, int] | None = None  # dragged block, column, start minute
        self._first, self._last = FIRST_MINUTE, LAST_MINUTE
        self._col_w = self._row_h = 1.0
        self._gutter = self._header = self._line_h = self._ascent = 0
        self._fonts()

    # ------------------------------------------------------------------ data
    def set_schedule(
        self,
        *,
        days: Sequence[date],
        appointments: Sequence[Appointment],
        mode: GridMode,
        resources: Sequence[Resource] = (),
        open_periods: Mapping[date, Sequence[Period]] | None = None,
        working: Mapping[int, Mapping[date, Sequence[Period]]] | None = None,
        zone: tzinfo | None = None,
        today: date | None = None,
        movable: Callable[[Appointment], bool] | None = None,
    ) -> None:
        """Replaces what is shown; block geometry is worked out here, not while painting."""
        keep = self._selected.appt.id if self._selected else None
        # Unchanged appointments keep their laid-out text (a reload after a move, a scroll).
        cached = {b.appt: b.lines for b in self._blocks} if mode is self._mode else {}
        self._cancel_drag()
        self._mode, self._today = mode, today
        self._zone = zone or self._zone
        if movable is not None:
            self._movable = movable
        key = self._key
        cols: list[Resource | None] = [None]
        if mode is not GridMode.BY_DAY:
            known = {r.id for r in resources}
            cols = list(resources)
            for a in appointments:
                rid = key(a)
                if rid not in known:
                    known.add(rid)
                    name = a.counsellor_name if mode is GridMode.BY_COUNSELLOR else a.room_name
                    if rid is None:
                        name = (
                            _("No counsellor") if mode is GridMode.BY_COUNSELLOR else _("No room")
                        )
                    cols.append(Resource(rid, name))
        self._columns = []
        index: dict[tuple[date, int | None], int] = {}
        for day in days:
            shown = None if open_periods is None else _free(open_periods.get(day, []), day)
            for res in cols:
                free = shown
                if (
                    working is not None
                    and mode is GridMode.BY_COUNSELLOR
                    and res
                    and res.id is not None
                ):
                    free = _intersect(shown, _free(working.get(res.id, {}).get(day, []), day))
                index[(day, res.id if res else None)] = len(self._columns)
                self._columns.append(_Column(day, res, tuple(free) if free is not None else None))
        self._blocks = []
        for a in sorted(appointments, key=lambda a: (a.starts_at, a.id)):
            day = a.starts_at.date()
            col = index.get((day, key(a) if mode is not GridMode.BY_DAY else None))
            if col is not None:
                start = _minutes(a.starts_at, day)
                end = max(_minutes(a.ends_at, day), start + 5)
                block = _Block(a, col, start, end)
                block.lines = cached.get(a, block.lines)
                self._blocks.append(block)
        self._first = min([FIRST_MINUTE, *(b.start // 60 * 60 for b in self._blocks)])
        self._last = max([LAST_MINUTE, *(-(-b.end // 60) * 60 for b in self._blocks)])
        self._by_column = [[] for _c in self._columns]
        for b in self._blocks:
            self._by_column[b.column].append(b)
        for blocks in self._by_column:
            self._assign_lanes(blocks)
        self._by_id = {b.appt.id: b for b in self._blocks}
        self._selected = self._by_id.get(keep) if keep is not None else None
        if self._cursor is not None and self._cursor[0] >= len(self._columns):
            self._cursor = None
        self._relayout()
        self._describe_selection()

    def clear(self) -> None:
        """Forgets everything shown (no names left in memory or on screen)."""
        self.set_schedule(days=[], appointments=[], mode=self._mode)
        self._selected = None
        self._describe_selection()

    @staticmethod
    def _assign_lanes(blocks: list[_Block]) -> None:
        """Overlapping blocks of a column (possible only with cancelled ones) sit side by side."""
        group: list[_Block] = []
        lane_ends: list[int] = []
        group_end = -1
        for b in [*blocks, None]:
            if b is None or b.start >= group_end:
                for g in group:
                    g.lanes = len(lane_ends)
                if b is None:
                    return
                group, lane_ends, group_end = [], [], b.end
            lane = next((i for i, e in enumerate(lane_ends) if e <= b.start), len(lane_ends))
            if lane == len(lane_ends):
                lane_ends.append(b.end)
            lane_ends[lane] = b.end
            b.lane = lane
            group.append(b)
            group_end = max(group_end, b.end)

    def _key(self, a: Appointment) -> int | None:
        return a.room_id if self._mode is GridMode.BY_ROOM else a.counsellor_id

    # --------------------------------------------------------------- geometry
    def _fonts(self) -> None:
        self._small = QFont(self.font())
        self._small.setPointSizeF(max(7.0, self.font().pointSizeF() * 0.9))
        self._bold = QFont(self._small)
        self._bold.setBold(True)
        self._struck = QFont(self._small)
        self._struck.setStrikeOut(True)
        self._struck_bold = QFont(self._bold)
        self._struck_bold.setStrikeOut(True)

    def _relayout(self) -> None:
        fm = QFontMetrics(self.font())
        self._line_h = QFontMetrics(self._small).height()
        self._ascent = QFontMetrics(self._small).ascent()
        self._row_h = float(max(14, round(self._line_h * 1.25)))
        rows = 1 if self._mode is GridMode.BY_DAY else 2
        self._header = rows * (fm.height() + 8)
        self._gutter = fm.horizontalAdvance("00:00") + 14
        n = max(1, len(self._columns))
        least = 150 if self._mode is GridMode.BY_DAY else 104
        self._col_w = max(float(least), (self.viewport().width() - self._gutter) / n)
        self._shades = [self._shade(col) for col in self._columns]
        for b in self._blocks:
            width = (self._col_w - 6) / b.lanes
            top = (b.start - self._first) / STEP * self._row_h
            height = max(4.0, (b.end - b.start) / STEP * self._row_h - 2)
            b.rect = QRectF(b.column * self._col_w + 2 + b.lane * width, top + 1, width - 1, height)
        self._update_scrollbars()
        self.viewport().update()

    def _y(self, minute: int) -> float:
        return (minute - self._first) / STEP * self._row_h

    def _shade(self, col: _Column) -> list[tuple[float, float]]:
        """The (top, bottom) spans of a column outside its free time."""
        if col.free is None:
            return []
        inner = sorted(min(max(m, self._first), self._last) for f in col.free for m in f)
        edges = [self._first, *inner, self._last]
        return [
            (self._y(s), self._y(e)) for s, e in zip(edges[::2], edges[1::2], strict=True) if e > s
        ]

    def _update_scrollbars(self) -> None:
        body_w = self.viewport().width() - self._gutter
        body_h = self.viewport().height() - self._header
        content_w = round(len(self._columns) * self._col_w)
        content_h = round((self._last - self._first) / STEP * self._row_h)
        for bar, content, page in (
            (self.horizontalScrollBar(), content_w, body_w),
            (self.verticalScrollBar(), content_h, body_h),
        ):
            bar.setRange(0, max(0, content - page))
            bar.setPageStep(max(1, page))
            bar.setSingleStep(round(self._row_h))

    def _origin(self) -> QPointF:
        """Where content (0, 0) is in viewport coordinates."""
        return QPointF(
            self._gutter - self.horizontalScrollBar().value(),
            self._header - self.verticalScrollBar().value(),
        )

    def block_rect(self, appointment_id: int) -> QRect:
        """The block's rectangle in viewport coordinates (empty when not shown)."""
        b = self._by_id.get(appointment_id)
        return b.rect.translated(self._origin()).toRect() if b else QRect()

    def point_at(self, column: int, minute: int) -> QPointF:
        """Viewport point of a column's left edge at a minute of the day."""
        return self._origin() + QPointF(
            column * self._col_w, (minute - self._first) / STEP * self._row_h
        )

    def column_count(self) -> int:
        return len(self._columns)

    def column_of(self, appointment_id: int) -> int:
        return self._by_id[appointment_id].column

    def column_resource(self, column: int) -> int | None:
        res = self._columns[column].resource
        return res.id if res else None

    def appointments(self) -> list[Appointment]:
        return [b.appt for b in self._blocks]

    def scroll_to_minute(self, minute: int) -> None:
        self.verticalScrollBar().setValue(round((minute - self._first) / STEP * self._row_h))

    def _hit(self, pos: QPointF) -> tuple[int, int, _Block | None] | None:
        """Column, minute and block under a viewport point, or None outside the body."""
        if pos.x() < self._gutter or pos.y() < self._header or not self._columns:
            return None
        c = pos - self._origin()
        col = int(c.x() // self._col_w)
        if not 0 <= col < len(self._columns):
            return None
        minute = self._first + int(c.y() / self._row_h * STEP)
        hit = next((b for b in self._by_column[col] if b.rect.contains(c)), None)
        return col, minute, hit

    # ---------------------------------------------------------------- painting
    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._relayout()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self._fonts()
            self._relayout()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self.viewport())
        exposed = event.rect()
        pal = self.palette()
        p.fillRect(exposed, pal.base())
        if not self._columns:
            p.setPen(pal.placeholderText().color())
            p.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, self.placeholder_text)
            return
        origin = self._origin()
        body = QRect(self._gutter, self._header, self.viewport().width(), self.viewport().height())
        visible = QRectF(body.intersected(exposed)).translated(-origin)
        c0 = max(0, int(visible.left() // self._col_w))
        c1 = min(len(self._columns) - 1, int(visible.right() // self._col_w))
        p.save()
        p.setClipRect(body.intersected(exposed))
        p.translate(origin)
        self._paint_body(p, visible, c0, c1)
        p.restore()
        if exposed.top() < self._header:
            self._paint_header(p, origin.x(), c0, c1)
        if exposed.left() < self._gutter:
            self._paint_gutter(p, origin.y(), visible)

    def _paint_body(self, p: QPainter, visible: QRectF, c0: int, c1: int) -> None:
        w, rh, height = self._col_w, self._row_h, (self._last - self._first) / STEP * self._row_h
        colours = grid_colours()
        for c in range(c0, c1 + 1):
            col = self._columns[c]
            x = c * w
            if col.day == self._today:
                p.fillRect(QRectF(x, 0, w, height), colours.today)
            for y0, y1 in self._shades[c]:
                p.fillRect(QRectF(x, y0, w, y1 - y0), colours.shade)
        r0 = max(0, int(visible.top() // rh))
        r1 = min(int((self._last - self._first) / STEP), int(visible.bottom() // rh) + 1)
        hour, half = colours.hour_line, colours.half_line
        for r in range(r0, r1 + 1):
            minute = self._first + r * STEP
            if minute % 30 == 0:
                p.setPen(hour if minute % 60 == 0 else half)
                p.drawLine(QPointF(c0 * w, r * rh), QPointF((c1 + 1) * w, r * rh))
        for c in range(c0, c1 + 2):
            edge = c == len(self._columns) or self._columns[c].day != self._columns[c - 1].day
            p.setPen(QPen(colours.day_edge if edge else hour, 2 if edge and c else 1))
            p.drawLine(QPointF(c * w, 0), QPointF(c * w, height))
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        for c in range(c0, c1 + 1):
            for b in self._by_column[c]:
                if b.rect.bottom() >= visible.top() and b.rect.top() <= visible.bottom():
                    self._paint_block(p, b, colours)
        if self._ghost is not None:
            self._paint_ghost(p, *self._ghost)
        if self._cursor is not None and c0 <= self._cursor[0] <= c1:
            col, minute = self._cursor
            top = (minute - self._first) / STEP * rh
            p.setPen(QPen(self.palette().highlight().color(), 2.5, Qt.PenStyle.DashLine))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(QRectF(col * w + 2, top + 1, w - 4, rh - 2))

    def _paint_block(self, p: QPainter, b: _Block, colours: GridColours) -> None:
        a, r = b.appt, b.rect
        if a.type is AppointmentType.CRISIS:
            p.setFont(self._bold)  # for the badge
        paint_block(p, r, a.type, a.status, colours)
        key = (r.width(), r.height(), colours.high_contrast)
        if b.lines[0] != key:
            b.lines = (key, [QStaticText(t) for t in self._elide(b, colours.high_contrast)])
        cancelled = a.status is AppointmentStatus.CANCELLED
        p.setPen((cancelled and colours.cancelled_text) or colours.text)
        for i, line in enumerate(b.lines[1]):
            if i < 2:
                bold = i == 0
                p.setFont(
                    (self._struck_bold if bold else self._struck)
                    if cancelled
                    else (self._bold if bold else self._small)
                )
            at = QPointF(r.left() + 6, r.top() + 1 + i * self._line_h)
            if cancelled:  # QStaticText misplaces the strike-out line; these are few
                p.drawText(at + QPointF(0, self._ascent), line.text())
            else:
                p.drawStaticText(at, line)
        if cancelled:
            p.setOpacity(1.0)
        if b is self._selected:
            p.setPen(QPen(self.palette().highlight().color(), 2.5))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(r.adjusted(-1.5, -1.5, 1.5, 1.5), 5, 5)

    def _elide(self, b: _Block, name_type: bool) -> list[str]:
        room = int(b.rect.width()) - 9
        badge = 16 if b.appt.type is AppointmentType.CRISIS else 0
        lines = max(1, int((b.rect.height() - 2) // self._line_h))
        when, what, extra = block_texts(b.appt, self._mode, name_type=name_type)
        bold, small = QFontMetrics(self._bold), QFontMetrics(self._small)
        right, middle = Qt.TextElideMode.ElideRight, Qt.TextElideMode.ElideMiddle
        if lines == 1:
            return [bold.elidedText(f"{_hm(b.appt.starts_at)} {what}", right, room - badge)]
        if bold.horizontalAdvance(when) > room - badge:  # drop the end time before the status
            when = when.replace(f"–{_hm(b.appt.ends_at)}", "", 1)
        out = [bold.elidedText(when, right, room - badge), small.elidedText(what, right, room)]
        # Station names share a long prefix: keep both ends of "room · station".
        tail = middle if self._mode is GridMode.BY_DAY else right
        return out + ([small.elidedText(extra, tail, room)] if lines > 2 else [])

    def _paint_ghost(self, p: QPainter, b: _Block, col: int, start: int) -> None:
        length = b.end - b.start
        rect = QRectF(
            col * self._col_w + 2,
            (start - self._first) / STEP * self._row_h + 1,
            self._col_w - 7,
            max(4.0, length / STEP * self._row_h - 2),
        )
        p.setOpacity(0.75)
        p.setPen(QPen(self.palette().highlight().color(), 2, Qt.PenStyle.DashLine))
        colours = grid_colours()
        p.setBrush(colours.block(b.appt.type)[0])
        p.drawRoundedRect(rect, 4, 4)
        p.setOpacity(1.0)
        p.setPen(colours.text)
        p.setFont(self._bold)
        end = start + length
        label = f"{start // 60:02d}:{start % 60:02d}–{end // 60:02d}:{end % 60:02d}"
        p.drawText(rect.adjusted(6, 1, -2, 0), Qt.AlignmentFlag.AlignLeft, label)

    def _paint_header(self, p: QPainter, x0: float, c0: int, c1: int) -> None:
        pal, w = self.palette(), self._col_w
        p.save()
        p.fillRect(QRect(0, 0, self.viewport().width(), self._header), pal.window())
        p.setClipRect(QRect(self._gutter, 0, self.viewport().width(), self._header))
        p.setPen(pal.windowText().color())
        row = self._header if self._mode is GridMode.BY_DAY else self._header // 2
        fm = QFontMetrics(self.font())
        start = c0
        while start > 0 and self._columns[start - 1].day == self._columns[c0].day:
            start -= 1
        c = start
        while c <= c1:
            day = self._columns[c].day
            end = c
            while end + 1 < len(self._columns) and self._columns[end + 1].day == day:
                end += 1
            font = QFont(self.font())
            font.setBold(day == self._today)
            p.setFont(font)
            label = _("{weekday} {date}").format(
                weekday=_(WEEKDAYS[day.weekday()]), date=f"{day:%m-%d}"
            )
            span = QRectF(x0 + c * w, 0, (end - c + 1) * w, row)
            p.drawText(span, Qt.AlignmentFlag.AlignCenter, label)
            c = end + 1
        p.setFont(self.font())
        if self._mode is not GridMode.BY_DAY:
            for c in range(c0, c1 + 1):
                res = self._columns[c].resource
                text = fm.elidedText(
                    res.name if res else "", Qt.TextElideMode.ElideRight, int(w) - 6
                )
                p.drawText(QRectF(x0 + c * w, row, w, row), Qt.AlignmentFlag.AlignCenter, text)
        p.setPen(pal.mid().color())
        p.drawLine(0, self._header - 1, self.viewport().width(), self._header - 1)
        p.restore()

    def _paint_gutter(self, p: QPainter, y0: float, visible: QRectF) -> None:
        pal = self.palette()
        p.save()
        p.fillRect(QRect(0, self._header, self._gutter, self.viewport().height()), pal.window())
        p.setClipRect(QRect(0, self._header, self._gutter, self.viewport().height()))
        p.setPen(pal.windowText().color())
        p.setFont(self.font())
        for minute in range(self._first, self._last, 60):
            y = y0 + (minute - self._first) / STEP * self._row_h
            if visible.top() - 4 * self._row_h <= y - y0 <= visible.bottom():
                p.drawText(
                    QRectF(0, y + 1, self._gutter - 6, self._line_h + 4),
                    Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop,
                    f"{minute // 60:02d}:00",
                )
        p.restore()

    # --------------------------------------------------------------- selection
    def selected_id(self) -> int | None:
        return self._selected.appt.id if self._selected else None

    def select(self, appointment_id: int | None) -> bool:
        b = self._by_id.get(appointment_id) if appointment_id is not None else None
        self._set_selected(b)
        return b is not None

    def _set_selected(self, b: _Block | None) -> None:
        if b is not None:
            self._cursor = None  # an appointment or a free time, never both
        if b is not self._selected:
            self._selected = b
            self._describe_selection()
            self.viewport().update()
        if b is not None:
            self._ensure_visible(b)

    def cursor(self) -> tuple[datetime, int | None] | None:
        """The free-time cursor's start and its column's counsellor or room, or None."""
        if self._cursor is None:
            return None
        col, minute = self._cursor
        day = self._columns[col].day
        start = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self._zone)
        return start, self.column_resource(col)

    def _move_cursor(self, key: int) -> None:
        if not self._columns:
            return
        if self._cursor is None:
            b = self._selected
            # From the selected appointment's end, or the first opening of the first column.
            start = b.end if b is not None else self._first
            self._cursor = (b.column if b is not None else 0, start + (-start) % STEP)
        else:
            col, minute = self._cursor
            if key in (_K.Key_Up, _K.Key_Down):
                minute += STEP if key == _K.Key_Down else -STEP
            else:
                col += 1 if key == _K.Key_Right else -1
            last = self._last - STEP
            self._cursor = (
                min(max(col, 0), len(self._columns) - 1),
                min(max(minute, self._first), last),
            )
        self._selected = None
        self._describe_selection()
        col, minute = self._cursor
        top = (minute - self._first) / STEP * self._row_h
        self._ensure_rect_visible(QRectF(col * self._col_w, top, self._col_w, self._row_h))
        self.viewport().update()

    def _describe_selection(self) -> None:
        if self._selected:
            text = describe(self._selected.appt).replace("\n", "; ")
        elif self._cursor is not None:
            col, minute = self._cursor
            column = self._columns[col]
            text = _("{day} {time}, {column}: press Enter to book here").format(
                day=f"{column.day:%Y-%m-%d}",
                time=f"{minute // 60:02d}:{minute % 60:02d}",
                column=column.resource.name if column.resource else "",
            )
        else:
            text = ""
        self.setAccessibleDescription(text)

    def _ensure_visible(self, b: _Block) -> None:
        self._ensure_rect_visible(b.rect)

    def _ensure_rect_visible(self, rect: QRectF) -> None:
        port = self.viewport()
        for bar, lo, hi, page in (
            (self.horizontalScrollBar(), rect.left(), rect.right(), port.width() - self._gutter),
            (self.verticalScrollBar(), rect.top(), rect.bottom(), port.height() - self._header),
        ):
            if lo < bar.value():
                bar.setValue(int(lo) - 4)
            elif hi > bar.value() + page:
                bar.setValue(int(min(lo - 4, hi - page + 4)))

    # -------------------------------------------------------------- mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._press = None
        hit = self._hit(event.position())
        if event.button() != Qt.MouseButton.LeftButton or hit is None:
            return
        block = hit[2]
        self._set_selected(block)
        if block is not None:
            grab = event.position().y() - self._origin().y() - block.rect.top()
            self._press = (block, event.position(), grab)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._press is None:
            return
        block, pressed, grab = self._press
        if self._ghost is None:
            moved = (event.position() - pressed).manhattanLength()
            if moved < QApplication.startDragDistance() or not self._movable(block.appt):
                return
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
        pos = event.position()
        c = pos - self._origin()
        col = min(max(0, int(c.x() // self._col_w)), len(self._columns) - 1)
        length = block.end - block.start
        start = self._first + round((c.y() - grab) / self._row_h) * STEP
        start = min(max(self._first, start), self._last - length)
        self._ghost = (block, col, start)
        margin = 20
        if pos.y() < self._header + margin or pos.y() > self.viewport().height() - margin:
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + (-10 if pos.y() < self._header + margin else 10))
        self.viewport().update()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        ghost = self._ghost
        self._cancel_drag()
        if ghost is None:
            return
        block, col, start = ghost
        if col != block.column or start != block.start:
            self._request_move(block, col, start)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        hit = self._hit(event.position())
        if hit is None:
            return
        col, minute, block = hit
        if block is not None:
            self.appointment_activated.emit(block.appt.id)
        elif self._first <= minute < self._last:
            minute -= minute % STEP
            day = self._columns[col].day
            start = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=self._zone)
            self.slot_activated.emit(start, self.column_resource(col))

    def _cancel_drag(self) -> None:
        if self._ghost is not None:
            self.viewport().unsetCursor()
        self._press = None
        self._ghost = None
        self.viewport().update()

    def _request_move(self, block: _Block, col: int, start: int) -> None:
        day = self._columns[col].day
        when = datetime.combine(day, time(), tzinfo=block.appt.starts_at.tzinfo) + timedelta(
            minutes=start
        )
        self.appointment_move_requested.emit(block.appt.id, when, self.column_resource(col))

    def viewportEvent(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            hit = self._hit(QPointF(event.pos()))
            if hit and hit[2]:
                QToolTip.showText(event.globalPos(), describe(hit[2].appt), self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    # -------------------------------------------------------------- keyboard
    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, mods = event.key(), event.modifiers()
        b = self._selected
        moving = bool(mods & (_CTRL | Qt.KeyboardModifier.AltModifier))
        shift = bool(mods & Qt.KeyboardModifier.ShiftModifier)
        arrows = (_K.Key_Up, _K.Key_Down, _K.Key_Left, _K.Key_Right)
        if key == _K.Key_Escape and self._ghost is not None:
            self._cancel_drag()
        elif key == _K.Key_Escape and self._cursor is not None:
            self._cursor = None
            self._describe_selection()
            self.viewport().update()
        elif key in (_K.Key_Return, _K.Key_Enter) and b is not None:
            self.appointment_activated.emit(b.appt.id)
        elif key in (_K.Key_Return, _K.Key_Enter) and self._cursor is not None:
            place = self.cursor()
            if place is not None:
                self.slot_activated.emit(*place)
        elif key in arrows and shift and not moving:
            self._move_cursor(key)
        elif key in (_K.Key_Home, _K.Key_End) and self._blocks:
            pick = min if key == _K.Key_Home else max
            self._set_selected(pick(self._blocks, key=lambda x: (x.appt.starts_at, x.column)))
        elif key in (_K.Key_Up, _K.Key_Down, _K.Key_Left, _K.Key_Right) and self._blocks:
            if b is None:
                self._set_selected(min(self._blocks, key=lambda x: (x.appt.starts_at, x.column)))
            elif moving:  # the service explains when it cannot be moved
                self._keyboard_move(b, key)
            else:
                self._step_selection(b, key)
        else:
            super().keyPressEvent(event)
            return
        event.accept()

    def _keyboard_move(self, b: _Block, key: int) -> None:
        if key in (_K.Key_Up, _K.Key_Down):
            shift = STEP if key == _K.Key_Down else -STEP
            self._request_move(b, b.column, b.start + shift)
        else:
            col = b.column + (1 if key == _K.Key_Right else -1)
            if 0 <= col < len(self._columns):
                self._request_move(b, col, b.start)

    def _step_selection(self, b: _Block, key: int) -> None:
        if key in (_K.Key_Up, _K.Key_Down):
            column = self._by_column[b.column]
            i = column.index(b) + (1 if key == _K.Key_Down else -1)
            if 0 <= i < len(column):
                self._set_selected(column[i])
            return
        step = 1 if key == _K.Key_Right else -1
        col = b.column + step
        while 0 <= col < len(self._columns) and not self._by_column[col]:
            col += step
        if 0 <= col < len(self._columns):
            self._set_selected(min(self._by_column[col], key=lambda x: abs(x.start - b.start)))
