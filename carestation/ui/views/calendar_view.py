"""Calendar screens: a station's day or week by counsellor or room, and a counsellor's own."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from carestation.domain.booking import Appointment, BookingRefused
from carestation.domain.errors import CareStationError
from carestation.domain.periods import Period, normalise
from carestation.domain.values import Actor, Station
from carestation.domain.vocab import AppointmentStatus, AppointmentType
from carestation.i18n import N_, _, ngettext
from carestation.services.container import Services
from carestation.ui.calendar_grid import STEP, CalendarGrid, GridMode, Resource, legend_swatch
from carestation.ui.keyboard import (
    NEXT_PERIOD,
    PREVIOUS_PERIOD,
    TODAY,
    screen_shortcut,
)
from carestation.ui.prompts import Prompter
from carestation.ui.style import set_tone
from carestation.ui.views.base import View, attempt

MAX_ALTERNATIVES = 5
Days = dict[date, list[Period]]
DEFAULT_ZONE = "Asia/Shanghai"


def refusal_text(refused: BookingRefused) -> str:
    """The problems, then up to five times that would work."""
    text = "\n".join(refused.problems)
    options = refused.alternatives[:MAX_ALTERNATIVES]
    if options:
        lines = [
            _("{when} {counsellor} {room}")
            .format(
                when=f"{o.starts_at:%m-%d %H:%M}–{o.ends_at:%H:%M}",
                counsellor=o.counsellor_name,
                room=o.room_name,
            )
            .strip()
            for o in options
        ]
        text += "\n\n" + _("Free times that would work:") + "\n" + "\n".join(lines)
    return text


def _toggle(*labels: str) -> tuple[QButtonGroup, list[QPushButton]]:
    group = QButtonGroup()
    buttons = []
    for i, label in enumerate(labels):
        button = QPushButton(label)
        button.setCheckable(True)
        button.setChecked(i == 0)
        group.addButton(button, i)
        buttons.append(button)
    return group, buttons


def _spacer(width: int) -> QWidget:
    spacer = QWidget()
    spacer.setFixedWidth(width)
    return spacer


def _legend() -> QHBoxLayout:
    """Type colours and status patterns, each with its name: never colour alone."""
    row = QHBoxLayout()
    row.setSpacing(4)
    entries = [(t, AppointmentStatus.BOOKED, t.title) for t in AppointmentType]
    entries += [
        (AppointmentType.COUNSELLING, s, s.title)
        for s in (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
    ]
    for type_, status, text in entries:
        swatch = QLabel()
        # As tall as a line of text, so it grows with the system's font size.
        swatch.setPixmap(legend_swatch(type_, status, max(18, swatch.fontMetrics().height() + 4)))
        row.addWidget(swatch)
        row.addWidget(QLabel(text))
        row.addSpacing(10)
    row.addStretch(1)
    return row


class _CalendarBase(View):
    appointment_opened = Signal(int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        prompter: Prompter,
        parent: QWidget | None,
        *,
        leading: Sequence[QWidget] = (),
        trailing: Sequence[QWidget] = (),
    ) -> None:
        """`leading` and `trailing`: a screen's own controls at the ends of the toolbar (laid
        out here, so that the tab order follows the screen: Qt appends a widget added later to
        the end of it)."""
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._prompter = prompter
        self._shown: dict[int, Appointment] = {}
        self._shown_range: tuple[object, ...] = ()
        self.grid = CalendarGrid()
        self.grid.setObjectName("calendar_grid")
        self.grid.appointment_activated.connect(self.appointment_opened)
        self.grid.appointment_move_requested.connect(self._move)

        self._span_group, (self.day_button, self.week_button) = _toggle(
            _("Day view"), _("Week view")
        )
        self._span_group.setParent(self)
        self.week_button.setChecked(True)
        self.date_edit = QDateEdit()
        self.date_edit.setObjectName("calendar_date")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("yyyy-MM-dd ddd")
        self.date_edit.setAccessibleName(_("Date"))
        prev_btn = QPushButton(_("◀ Previous"))
        today_btn = QPushButton(_("Today"))
        next_btn = QPushButton(_("Next ▶"))
        prev_btn.clicked.connect(lambda: self._shift(-1))
        next_btn.clicked.connect(lambda: self._shift(1))
        today_btn.clicked.connect(self.go_to_today)
        screen_shortcut(self, PREVIOUS_PERIOD, lambda: self._shift(-1), prev_btn)
        screen_shortcut(self, NEXT_PERIOD, lambda: self._shift(1), next_btn)
        screen_shortcut(self, TODAY, self.go_to_today, today_btn)
        self.date_edit.dateChanged.connect(lambda _d: self.refresh())
        self._span_group.idClicked.connect(lambda _i: self.refresh())

        self.toolbar = QHBoxLayout()
        for w in (*leading, self.day_button, self.week_button, prev_btn, today_btn, next_btn):
            self.toolbar.addWidget(w)
        self.toolbar.addWidget(self.date_edit)
        for w in trailing:
            self.toolbar.addWidget(w)
        self.toolbar.addStretch(1)
        self.status_label = QLabel()
        self.status_label.setObjectName("calendar_status")
        hint = QLabel(
            _(
                "Double-click or Enter opens · drag or Ctrl+arrow keys move · arrow keys select"
                " · Shift+arrow keys and Enter book a free time"
            )
        )
        set_tone(hint, "hint")  # readable grey, not the faint one of a disabled label
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label)
        bottom.addStretch(1)
        bottom.addWidget(hint)
        layout = QVBoxLayout(self)
        layout.addLayout(self.toolbar)
        layout.addLayout(_legend())
        layout.addWidget(self.grid, 1)
        layout.addLayout(bottom)

    # ------------------------------------------------------------ the period shown
    def _zone(self) -> ZoneInfo:
        return ZoneInfo(DEFAULT_ZONE)

    def _today(self) -> date:
        return self._services.schedule.clock.now().astimezone(self._zone()).date()

    def week_view(self) -> bool:
        return self.week_button.isChecked()

    def set_week_view(self, week: bool) -> None:
        (self.week_button if week else self.day_button).setChecked(True)
        self.refresh()

    def set_date(self, day: date) -> None:
        self.date_edit.setDate(QDate(day.year, day.month, day.day))

    def go_to_today(self) -> None:
        self.set_date(self._today())

    def _start_today(self) -> None:
        """Shows today's week without loading yet (the main window calls refresh when shown)."""
        self.date_edit.blockSignals(True)
        self.go_to_today()
        self.date_edit.blockSignals(False)

    def _shift(self, direction: int) -> None:
        self.date_edit.setDate(
            self.date_edit.date().addDays(direction * (7 if self.week_view() else 1))
        )

    def shown_days(self) -> list[date]:
        d = self.date_edit.date()
        picked = date(d.year(), d.month(), d.day())
        if not self.week_view():
            return [picked]
        monday = picked - timedelta(days=picked.weekday())
        return [monday + timedelta(days=i) for i in range(7)]

    # ------------------------------------------------------------ showing
    def _show(
        self,
        appointments: list[Appointment],
        key: tuple[object, ...],
        *,
        days: list[date],
        mode: GridMode,
        resources: list[Resource] | None = None,
        open_periods: Days | None = None,
        working: dict[int, Days] | None = None,
        movable: Callable[[Appointment], bool] | None = None,
    ) -> None:
        self._shown = {a.id: a for a in appointments}
        self.grid.set_schedule(
            days=days,
            appointments=appointments,
            mode=mode,
            resources=resources or [],
            open_periods=open_periods,
            working=working,
            zone=self._zone(),
            today=self._today(),
            movable=movable,
        )
        if key != self._shown_range:
            # Another period or station: start at its first opening hour (or appointment).
            self._shown_range = key
            starts = [p.start for ps in (open_periods or {}).values() for p in ps]
            starts += [a.starts_at for a in appointments]
            first = min((t.hour * 60 + t.minute for t in starts), default=8 * 60)
            self.grid.scroll_to_minute(first - 2 * STEP)
        cancelled = sum(1 for a in appointments if a.status is AppointmentStatus.CANCELLED)
        self.status_label.setText(
            ngettext("{n} appointment shown", "{n} appointments shown", len(appointments)).format(
                n=len(appointments)
            )
            + "  ·  "
            + ngettext("{n} cancelled", "{n} cancelled", cancelled).format(n=cancelled)
        )

    def clear(self) -> None:
        self._shown = {}
        self._shown_range = ()
        self.grid.clear()
        self.status_label.clear()

    # ------------------------------------------------------------ moving
    def _move_changes(self, appt: Appointment, resource: Any) -> dict[str, Any]:
        """Keyword arguments for `move` when the block was dropped in another column."""
        return {}

    def _move(self, appointment_id: int, starts_at: datetime, resource: object) -> None:
        appt = self._shown.get(appointment_id)
        if appt is None:
            return
        try:
            self._services.booking.move(
                actor=self._actor,
                appointment_id=appointment_id,
                starts_at=starts_at,
                expected_version=appt.version,
                **self._move_changes(appt, resource),
            )
        except BookingRefused as refused:
            self._prompter.error(
                self, _("The appointment cannot be moved there"), refusal_text(refused)
            )
        except CareStationError as exc:  # stale version, not booked any more, not allowed
            self._prompter.error(self, _("The appointment was not moved"), str(exc))
        # Reloading puts a refused block back where it was and shows the moved one.
        self.refresh()


class StationCalendarView(_CalendarBase):
    """Staff: a station's day or week, one column per counsellor (or room) and day."""

    TITLE = N_("Calendar")
    booking_requested = Signal(object, object)  # start (aware datetime), counsellor or room id

    def __init__(
        self, services: Services, actor: Actor, prompter: Prompter, parent: QWidget | None = None
    ) -> None:
        station_combo = QComboBox(objectName="calendar_station", accessibleName=_("Station"))
        resource_group, (counsellor_button, room_button) = _toggle(_("By counsellor"), _("By room"))
        super().__init__(
            services,
            actor,
            prompter,
            parent,
            leading=[QLabel(_("Station")), station_combo, _spacer(12)],
            trailing=[counsellor_button, room_button],
        )
        self._stations: dict[int, Station] = {}
        self.station_combo = station_combo
        self._resource_group = resource_group
        self.counsellor_button, self.room_button = counsellor_button, room_button
        self.grid.slot_activated.connect(self.booking_requested)
        for s in services.admin.list_stations(actor=actor):
            if s.id in actor.station_ids:
                self._stations[s.id] = s
                self.station_combo.addItem(s.name, s.id)
        if actor.station_id is not None and self.station_combo.findData(actor.station_id) >= 0:
            self.station_combo.setCurrentIndex(self.station_combo.findData(actor.station_id))
        self.station_combo.currentIndexChanged.connect(lambda _i: self.refresh())
        self._resource_group.setParent(self)
        self._resource_group.idClicked.connect(lambda _i: self.refresh())
        self.grid.placeholder_text = _("Choose a station to see its calendar.")
        self._start_today()

    def station_id(self) -> int | None:
        return self.station_combo.currentData()

    def by_room(self) -> bool:
        return self.room_button.isChecked()

    def set_by_room(self, by_room: bool) -> None:
        (self.room_button if by_room else self.counsellor_button).setChecked(True)
        self.refresh()

    def _zone(self) -> ZoneInfo:
        station = self._stations.get(self.station_id() or -1)
        return ZoneInfo(station.time_zone if station else DEFAULT_ZONE)

    def refresh(self) -> None:
        station_id = self.station_id()
        if station_id is None:
            self.clear()
            return
        days = self.shown_days()
        s = self._services

        def load() -> tuple[list[Appointment], Days, dict[int, Days], list[Resource]]:
            who, first, n = self._actor, days[0], len(days)
            appts = s.schedule.station_days(
                actor=who, station_id=station_id, first_day=first, days=n
            )
            open_periods, working = s.schedule.availability(
                actor=who, station_id=station_id, first_day=first, days=n
            )
            if self.by_room():
                rooms = s.admin.list_rooms(actor=who, station_id=station_id)
                return appts, open_periods, working, [Resource(r.id, r.name) for r in rooms]
            people = s.admin.list_counsellors(actor=who, station_id=station_id)
            return appts, open_periods, working, [Resource(c.id, c.display_name) for c in people]

        loaded = attempt(self, self._prompter, load)
        if loaded is None:
            self.clear()
            return
        appts, open_periods, working, resources = loaded
        mode = GridMode.BY_ROOM if self.by_room() else GridMode.BY_COUNSELLOR
        self._show(
            appts,
            (station_id, days[0], len(days)),
            days=days,
            mode=mode,
            resources=resources,
            open_periods=open_periods,
            working=working,
        )

    def _move_changes(self, appt: Appointment, resource: Any) -> dict[str, Any]:
        if self.by_room():
            return {} if resource == appt.room_id else {"keep_room": False, "room_id": resource}
        if resource == appt.counsellor_id:
            return {}
        return {"keep_counsellor": False, "counsellor_id": resource}


class CounsellorCalendarView(_CalendarBase):
    """Counsellors: their own appointments at every station, one column per day."""

    TITLE = N_("My calendar")

    def __init__(
        self, services: Services, actor: Actor, prompter: Prompter, parent: QWidget | None = None
    ) -> None:
        super().__init__(services, actor, prompter, parent)
        self.grid.placeholder_text = _("Nothing to show.")
        self._start_today()

    def refresh(self) -> None:
        days = self.shown_days()
        s, actor = self._services, self._actor

        def load() -> tuple[list[Appointment], Days]:
            appts = s.schedule.counsellor_days(
                actor=actor, counsellor_id=actor.user_id, first_day=days[0], days=len(days)
            )
            # Shade the hours the counsellor does not work at any of their stations.
            working: Days = {d: [] for d in days}
            for station_id in sorted(actor.station_ids):
                _open, per_counsellor = s.schedule.availability(
                    actor=actor, station_id=station_id, first_day=days[0], days=len(days)
                )
                for day, periods in per_counsellor.get(actor.user_id, {}).items():
                    working[day] = normalise([*working.get(day, []), *periods])
            return appts, working

        loaded = attempt(self, self._prompter, load)
        if loaded is None:
            self.clear()
            return
        appts, working = loaded
        self._show(
            appts,
            (days[0], len(days)),
            days=days,
            mode=GridMode.BY_DAY,
            open_periods=working,
            movable=lambda a: (
                a.status is AppointmentStatus.BOOKED and a.counsellor_id == actor.user_id
            ),
        )
