"""The 0-10 distress rating before and after an emotion-pod session, kept with the booking."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractButton,
    QBoxLayout,
    QButtonGroup,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from carestation.assessments import load_instrument
from carestation.domain.assessment_values import PodRatings
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, AppointmentType, PodPhase
from carestation.i18n import _, current_language, ngettext
from carestation.ui.prompts import Prompter
from carestation.ui.views.base import attempt

VALUES = range(11)
SEGMENT_STYLE = (
    'QPushButton[segment="true"] { min-width: 30px; max-width: 40px; padding: 4px 0; }'
    # The chosen value: the selection colours of the palette (yellow in high contrast), in bold.
    ' QPushButton[segment="true"]:checked { background: palette(highlight);'
    " color: palette(highlighted-text); font-weight: bold; }"
)


class PodRatingService(Protocol):
    """The part of AssessmentService this box uses."""

    def record_pod_rating(
        self, actor: Actor, *, appointment_id: int, phase: PodPhase, value: int
    ) -> PodRatings: ...

    def pod_ratings(self, actor: Actor, *, appointment_id: int) -> PodRatings: ...


def phase_title(phase: PodPhase) -> str:
    return _("Before the session") if phase is PodPhase.BEFORE else _("After the session")


def change_text(ratings: PodRatings) -> str:
    """'Change: 7 → 3 (4 points less distress)'; empty until both ratings are saved."""
    before, after = ratings.before, ratings.after
    if before is None or after is None:
        return ""
    arrow = _("Change: {before} → {after}").format(before=before, after=after)
    if after != before:
        points = abs(after - before)
        template = (
            ngettext("{points} point less distress", "{points} points less distress", points)
            if after < before
            else ngettext("{points} point more distress", "{points} points more distress", points)
        )
        detail = template.format(points=points)
    else:
        detail = _("no change")
    return f"{arrow} ({detail})"


class PodRatingBox(QGroupBox):
    """Two rows of 0-10 buttons with a Save each; shows what is saved and the change."""

    rating_saved = Signal(object)  # PodRatings

    def __init__(
        self,
        service: PodRatingService,
        actor: Actor,
        prompter: Prompter,
        *,
        appointment_id: int,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(_("Distress rating (0–10)"), parent, objectName="pod_rating_box")
        self._service, self._actor, self._prompter = service, actor, prompter
        self.appointment_id = appointment_id
        self.ratings = PodRatings(appointment_id, None, None)
        self.setStyleSheet(SEGMENT_STYLE)
        mood = load_instrument("mood")
        lang = current_language()
        question = QLabel(mood.items[0].text.text(lang), objectName="pod_question", wordWrap=True)
        anchors = QLabel(mood.instructions.text(lang), objectName="pod_anchors", wordWrap=True)
        for label in (question, anchors):
            label.setTextFormat(Qt.TextFormat.PlainText)
        grid = QGridLayout(self)
        grid.addWidget(question, 0, 0, 1, 4)
        grid.addWidget(anchors, 1, 0, 1, 4)
        self.groups: dict[PodPhase, QButtonGroup] = {}
        self.save_buttons: dict[PodPhase, QPushButton] = {}
        self.saved_labels: dict[PodPhase, QLabel] = {}
        for row, phase in enumerate(PodPhase, start=2):
            title = QLabel(phase_title(phase))
            group = QButtonGroup(self)
            segments = QHBoxLayout()
            segments.setSpacing(2)
            for value in VALUES:
                button = QPushButton(str(value), self, objectName=f"{phase.value}_{value}")
                button.setProperty("segment", True)
                button.setCheckable(True)
                button.setAutoDefault(False)
                button.setAccessibleName(
                    _("{phase}: {value}").format(phase=phase_title(phase), value=value)
                )
                group.addButton(button, value)
                segments.addWidget(button)
            group.idToggled.connect(lambda _v, _c, p=phase: self._update_buttons(p))
            save = QPushButton(_("Save"), self, objectName=f"save_{phase.value}")
            save.setAutoDefault(False)
            save.setAccessibleName(_("Save the rating {phase}").format(phase=phase_title(phase)))
            save.clicked.connect(lambda _c=False, p=phase: self.save(p))
            saved = QLabel(objectName=f"saved_{phase.value}")
            title.setBuddy(group.button(0))
            grid.addWidget(title, row, 0)
            grid.addLayout(segments, row, 1)
            grid.addWidget(save, row, 2)
            grid.addWidget(saved, row, 3)
            self.groups[phase], self.save_buttons[phase] = group, save
            self.saved_labels[phase] = saved
        grid.setColumnStretch(3, 1)
        self.change_label = QLabel(objectName="pod_change")
        bold = self.change_label.font()
        bold.setBold(True)
        self.change_label.setFont(bold)
        grid.addWidget(self.change_label, 4, 0, 1, 4)
        self.reload()

    def reload(self) -> None:
        ratings = attempt(
            self,
            self._prompter,
            lambda: self._service.pod_ratings(self._actor, appointment_id=self.appointment_id),
        )
        if ratings is not None:
            self._show(ratings)

    def saved(self, phase: PodPhase) -> int | None:
        return self.ratings.before if phase is PodPhase.BEFORE else self.ratings.after

    def chosen(self, phase: PodPhase) -> int | None:
        group = self.groups[phase]
        return group.checkedId() if group.checkedButton() is not None else None

    def choose(self, phase: PodPhase, value: int) -> None:
        button: QAbstractButton = self.groups[phase].button(value)
        button.click()

    def save(self, phase: PodPhase) -> PodRatings | None:
        value = self.chosen(phase)
        if value is None:
            return None
        ratings = attempt(
            self,
            self._prompter,
            lambda: self._service.record_pod_rating(
                self._actor, appointment_id=self.appointment_id, phase=phase, value=value
            ),
            title=_("The rating was not saved"),
        )
        if ratings is not None:
            self._show(ratings)
            self.rating_saved.emit(ratings)
        return ratings

    def _show(self, ratings: PodRatings) -> None:
        self.ratings = ratings
        for phase in PodPhase:
            value = self.saved(phase)
            if value is not None:
                self.groups[phase].button(value).setChecked(True)
            self.saved_labels[phase].setText(
                _("Saved: {value}").format(value=value) if value is not None else _("No rating yet")
            )
            self._update_buttons(phase)
        self.change_label.setText(change_text(ratings))
        self.change_label.setVisible(bool(self.change_label.text()))

    def _update_buttons(self, phase: PodPhase) -> None:
        chosen = self.chosen(phase)
        self.save_buttons[phase].setEnabled(chosen is not None and chosen != self.saved(phase))


def may_rate_pods(actor: Actor) -> bool:
    """Who may record pod ratings: the station's staff and the people who run its kiosk."""
    return actor.can(Permission.RUN_KIOSK) or actor.can(Permission.BOOK_AT_STATION)


def add_pod_rating_box(
    dialog: QWidget,
    service: PodRatingService,
    actor: Actor,
    prompter: Prompter,
) -> PodRatingBox | None:
    """Puts the box into an AppointmentDialog showing a pod booking, under the details and above
    the action buttons; returns it, or None when it does not belong there."""
    appointment = getattr(dialog, "appointment", None)
    if (
        appointment is None
        or appointment.type is not AppointmentType.POD
        or appointment.status is AppointmentStatus.CANCELLED
        or not may_rate_pods(actor)
    ):
        return None
    box = PodRatingBox(service, actor, prompter, appointment_id=appointment.id, parent=dialog)
    layout = dialog.layout()
    assert isinstance(layout, QBoxLayout)
    layout.insertWidget(1, box)  # after the details form (index 0)
    return box
