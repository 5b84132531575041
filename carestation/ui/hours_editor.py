"""Edits a station's weekly opening hours: one row per weekday, open or closed, from and to."""

from __future__ import annotations

from datetime import time

from PySide6.QtCore import QTime
from PySide6.QtWidgets import QCheckBox, QGridLayout, QLabel, QTimeEdit, QWidget

from carestation.domain.values import OpeningHours
from carestation.i18n import N_, _

WEEKDAYS = (
    N_("Monday"),
    N_("Tuesday"),
    N_("Wednesday"),
    N_("Thursday"),
    N_("Friday"),
    N_("Saturday"),
    N_("Sunday"),
)
DEFAULT_HOURS = tuple(OpeningHours(d, time(8, 30), time(17, 0)) for d in range(5))


def _qtime(t: time) -> QTime:
    return QTime(t.hour, t.minute)


class HoursEditor(QWidget):
    """One opening period per weekday, which covers how the stations in the seeds work."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.addWidget(QLabel(_("Open that day")), 0, 1)
        grid.addWidget(QLabel(_("Opens at")), 0, 2)
        grid.addWidget(QLabel(_("Closes at")), 0, 3)
        self._rows: list[tuple[QCheckBox, QTimeEdit, QTimeEdit]] = []
        for day, name in enumerate(WEEKDAYS):
            label = QLabel(_(name))
            open_box = QCheckBox()
            open_box.setAccessibleName(_("{day}: open").format(day=_(name)))
            opens, closes = QTimeEdit(), QTimeEdit()
            opens.setAccessibleName(_("{day}: opens at").format(day=_(name)))
            closes.setAccessibleName(_("{day}: closes at").format(day=_(name)))
            for edit in (opens, closes):
                edit.setDisplayFormat("HH:mm")
            open_box.toggled.connect(opens.setEnabled)
            open_box.toggled.connect(closes.setEnabled)
            grid.addWidget(label, day + 1, 0)
            grid.addWidget(open_box, day + 1, 1)
            grid.addWidget(opens, day + 1, 2)
            grid.addWidget(closes, day + 1, 3)
            self._rows.append((open_box, opens, closes))
        self.set_hours(DEFAULT_HOURS)

    def set_hours(self, hours: tuple[OpeningHours, ...]) -> None:
        by_day = {h.weekday: h for h in hours}
        for day, (open_box, opens, closes) in enumerate(self._rows):
            h = by_day.get(day)
            open_box.setChecked(h is not None)
            opens.setTime(_qtime(h.opens if h else time(8, 30)))
            closes.setTime(_qtime(h.closes if h else time(17, 0)))
            opens.setEnabled(h is not None)
            closes.setEnabled(h is not None)

    def hours(self) -> tuple[OpeningHours, ...]:
        result = []
        for day, (open_box, opens, closes) in enumerate(self._rows):
            if open_box.isChecked():
                o, c = opens.time(), closes.time()
                result.append(
                    OpeningHours(day, time(o.hour(), o.minute()), time(c.hour(), c.minute()))
                )
        return tuple(result)

    def row_widgets(self, weekday: int) -> tuple[QCheckBox, QTimeEdit, QTimeEdit]:
        return self._rows[weekday]
