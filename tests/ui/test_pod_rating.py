"""The before/after distress rating of a pod booking."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import dataclass

from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout
from pytestqt.qtbot import QtBot

from carestation.domain.assessment_values import PodRatings
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, AppointmentType, PodPhase
from carestation.ui.pod_rating import PodRatingBox, add_pod_rating_box, change_text
from carestation.ui.prompts import RecordingPrompter
from tests.ui.assessment_fakes import FakeAssessments

STAFF = Actor(
    user_id=2,
    username="wang",
    display_name="王芳",
    roles=frozenset({Role.STAFF}),
    station_ids=frozenset({1}),
    station_id=1,
)
MANAGER = Actor(
    user_id=4,
    username="li",
    display_name="李强",
    roles=frozenset({Role.MANAGER}),
    station_ids=frozenset({1}),
)


def make(
    qtbot: QtBot, service: FakeAssessments, prompter: RecordingPrompter | None = None
) -> PodRatingBox:
    box = PodRatingBox(service, STAFF, prompter or RecordingPrompter(), appointment_id=3)
    qtbot.addWidget(box)
    box.show()
    return box


def label(box: PodRatingBox, name: str) -> str:
    found = box.findChild(QLabel, name)
    assert found is not None, name
    return found.text() if found.isVisibleTo(box) else ""


def test_shows_the_saved_ratings(qtbot: QtBot) -> None:
    box = make(qtbot, FakeAssessments(ratings={3: PodRatings(3, 7, None)}))
    assert box.chosen(PodPhase.BEFORE) == 7
    assert box.chosen(PodPhase.AFTER) is None
    assert label(box, "saved_before") == "Saved: 7"
    assert label(box, "saved_after") == "No rating yet"
    assert label(box, "pod_change") == ""
    assert not box.save_buttons[PodPhase.BEFORE].isEnabled()
    assert not box.save_buttons[PodPhase.AFTER].isEnabled()
    assert label(box, "pod_question") == "How distressed or upset do you feel right now?"


def test_saving_after_shows_the_change(qtbot: QtBot) -> None:
    service = FakeAssessments(ratings={3: PodRatings(3, 7, None)})
    box = make(qtbot, service)
    box.choose(PodPhase.AFTER, 3)
    assert box.save_buttons[PodPhase.AFTER].isEnabled()
    with qtbot.waitSignal(box.rating_saved) as saved:
        box.save_buttons[PodPhase.AFTER].click()
    assert service.calls == [{"appointment_id": 3, "phase": PodPhase.AFTER, "value": 3}]
    assert saved.args == [PodRatings(3, 7, 3)]
    assert label(box, "saved_after") == "Saved: 3"
    assert label(box, "pod_change") == "Change: 7 → 3 (4 points less distress)"
    assert not box.save_buttons[PodPhase.AFTER].isEnabled()


def test_a_new_rating_replaces_the_phase(qtbot: QtBot) -> None:
    service = FakeAssessments(ratings={3: PodRatings(3, 4, 5)})
    box = make(qtbot, service)
    assert label(box, "pod_change") == "Change: 4 → 5 (1 point more distress)"
    box.choose(PodPhase.BEFORE, 5)
    box.save_buttons[PodPhase.BEFORE].click()
    assert service.ratings[3] == PodRatings(3, 5, 5)
    assert label(box, "pod_change") == "Change: 5 → 5 (no change)"


def test_refusal_is_reported_and_nothing_changes(qtbot: QtBot) -> None:
    prompter = RecordingPrompter()
    service = FakeAssessments(refuse="The client has not consented to assessments.")
    box = make(qtbot, service, prompter)
    box.choose(PodPhase.BEFORE, 8)
    assert box.save(PodPhase.BEFORE) is None
    assert prompter.shown == [
        ("error", "The rating was not saved", "The client has not consented to assessments.")
    ]
    assert label(box, "saved_before") == "No rating yet"


def test_change_text() -> None:
    assert change_text(PodRatings(1, None, 3)) == ""
    assert change_text(PodRatings(1, 9, 2)) == "Change: 9 → 2 (7 points less distress)"


@dataclass
class _Appointment:
    id: int
    type: AppointmentType
    status: AppointmentStatus = AppointmentStatus.CHECKED_IN


class _AppointmentDialogStandIn(QDialog):
    """What the hook relies on in AppointmentDialog: `appointment` and a box layout whose first
    item is the details form."""

    def __init__(self, appointment: _Appointment) -> None:
        super().__init__()
        self.appointment = appointment
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("details"))
        layout.addWidget(QLabel("buttons"))


def test_hook_adds_the_box_to_pod_bookings_only(qtbot: QtBot) -> None:
    service = FakeAssessments()
    pod = _AppointmentDialogStandIn(_Appointment(3, AppointmentType.POD))
    qtbot.addWidget(pod)
    box = add_pod_rating_box(pod, service, STAFF, RecordingPrompter())
    assert box is not None
    assert pod.layout().itemAt(1).widget() is box
    talk = _AppointmentDialogStandIn(_Appointment(4, AppointmentType.COUNSELLING))
    qtbot.addWidget(talk)
    assert add_pod_rating_box(talk, service, STAFF, RecordingPrompter()) is None
    cancelled = _AppointmentDialogStandIn(
        _Appointment(5, AppointmentType.POD, AppointmentStatus.CANCELLED)
    )
    qtbot.addWidget(cancelled)
    assert add_pod_rating_box(cancelled, service, STAFF, RecordingPrompter()) is None
    assert add_pod_rating_box(pod, service, MANAGER, RecordingPrompter()) is None
