"""Printed day sheets and slips (read back from real PDFs), and the reminders screen."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from PySide6.QtCore import QItemSelectionModel, Qt
from PySide6.QtPrintSupport import QPrintPreviewWidget
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from carestation.db import models as m
from carestation.domain.booking import Appointment, BookingDraft
from carestation.domain.values import StationInput
from carestation.domain.vocab import AppointmentStatus, AppointmentType, PodProgramme, Topic
from carestation.i18n import set_language
from carestation.services.container import Services
from carestation.ui.printing import (
    Printable,
    appointment_slip,
    day_sheet,
    preview_dialog,
    save_pdf,
)
from carestation.ui.prompts import Prompter, RecordingPrompter
from carestation.ui.views.reminders_view import CalendarExportDialog, RemindersView
from tests.factories import HOURS, World, add_appointment, build_world, set_counsellor_hours

SH = ZoneInfo("Asia/Shanghai")
STATION = "暨阳街道职工情绪管理服务站"
ADDRESS = "诸暨市暨阳街道艮塔西路 123 号"
PHONE = "0575-87001234"
TOMORROW = date(2026, 11, 24)  # the fake clock stands at 10:00 on Monday 23 November


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SH)


def pdf_text(path: Path, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    return subprocess.run(
        ["pdftotext", "-layout", *pages, str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {
        k.strip(): v.strip() for k, _sep, v in (line.partition(":") for line in out.splitlines())
    }


@dataclass
class Env:
    services: Services
    world: World
    booked: Appointment
    cancelled_id: int
    prompter: RecordingPrompter = field(default_factory=RecordingPrompter)


@pytest.fixture
def env(sqlite_services: Services) -> Env:
    set_language("en")
    services = sqlite_services
    world = build_world(services)
    services.admin.update_station(
        actor=world.admin,
        station_id=world.station_id,
        data=StationInput(name=STATION, address=ADDRESS, phone=PHONE, hours=HOURS),
    )
    set_counsellor_hours(
        services, world.counsellor.user_id, world.station_id, range(5), time(9), time(17)
    )
    booked = services.booking.book(
        actor=world.staff,
        draft=BookingDraft(
            type=AppointmentType.COUNSELLING,
            station_id=world.station_id,
            starts_at=at(24, 9),
            client_id=world.client_id,
            counsellor_id=world.counsellor.user_id,
            room_id=world.room_id,
            topic=Topic.WORK_STRESS,
        ),
    )
    cancelled = add_appointment(
        services, world, at(24, 11), at(24, 12), status=AppointmentStatus.CANCELLED
    )
    add_appointment(services, world, at(24, 14), at(24, 15), station_id=world.other_station_id)
    add_appointment(services, world, at(25, 9), at(25, 10))  # the day after
    return Env(services, world, booked, cancelled)


def station_day(env: Env) -> list[Appointment]:
    return env.services.schedule.station_days(
        actor=env.world.staff, station_id=env.world.station_id, first_day=TOMORROW, days=1
    )


def sheet(env: Env, appointments: list[Appointment] | None = None) -> Printable:
    return day_sheet(
        heading=STATION,
        day=TOMORROW,
        appointments=station_day(env) if appointments is None else appointments,
        printed_at=at(23, 10),
        printed_by="王芳",
    )


def slip(env: Env, appointment: Appointment | None = None) -> Printable:
    station = next(
        s
        for s in env.services.admin.list_stations(actor=env.world.staff)
        if s.id == env.world.station_id
    )
    return appointment_slip(
        appointment=appointment or env.booked,
        station=station,
        cancel_hours=24,
        printed_at=at(23, 10),
    )


# --- the documents ----------------------------------------------------------------------------
def test_day_sheet_pdf(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    path = tmp_path / "sheet.pdf"
    save_pdf(sheet(env), path, "CareStation day sheet 2026-11-24")
    text = pdf_text(path)
    for expected in (
        "Day sheet",
        STATION,
        "2026-11-24 (Tuesday)",
        "1 appointment · 1 cancelled",
        "09:00–09:50",
        "张三",
        "ABCD-EFGH-1",
        "陈静",
        "个人咨询室一",
        "Printed 2026-11-23 10:00 by 王芳",
        "Page 1 of 1",
    ):
        assert expected in text, expected
    # The cancelled one is listed, but under its own heading after the booked ones.
    assert text.index("09:00–09:50") < text.index("Cancelled") < text.index("11:00–12:00")
    assert "14:00" not in text  # another station's appointment
    info = pdf_info(path)
    assert info["Title"] == "CareStation day sheet 2026-11-24"
    assert info["Creator"] == "CareStation"
    assert info.get("Author", "") == ""
    # Not in the metadata, the XMP stream included, however it is encoded.
    raw = path.read_bytes()
    assert "张三".encode() not in raw
    assert "张三".encode("utf-16-be") not in raw
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True).stdout
    wqy = [line for line in fonts.splitlines() if "WenQuanYi" in line]
    assert wqy, fonts
    assert all(" yes " in line for line in wqy)  # embedded: Chinese prints on any PC


def test_day_sheet_in_chinese(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    appointments = station_day(env)
    set_language("zh_CN")
    path = tmp_path / "sheet.pdf"
    save_pdf(sheet(env, appointments), path, "CareStation day sheet 2026-11-24")
    text = pdf_text(path)
    assert STATION in text
    assert "星期二" in text
    assert "个体咨询" in text  # the type's title, as text rather than empty boxes
    assert "张三" in text


def test_slip_pdf_carries_the_code_but_not_the_name(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    path = tmp_path / "slip.pdf"
    save_pdf(slip(env), path, f"CareStation slip A-{env.booked.id:06d}")
    text = pdf_text(path)
    for expected in (
        STATION,
        ADDRESS,
        "Appointment slip",
        "2026-11-24 (Tuesday)",
        "09:00–09:50",
        "Individual counselling",
        "个人咨询室一",
        "陈静",
        "ABCD-EFGH-1",
        "please call the station at 0575-87001234 at least 24 hours before",
        "12351",
    ):
        assert expected in " ".join(text.split()), expected
    for secret in ("张三", "13800000000", "Work stress", "市水务集团"):
        assert secret not in text
    assert pdf_info(path)["Title"] == f"CareStation slip A-{env.booked.id:06d}"
    assert "Page 1" not in text


def test_a_crisis_session_prints_as_counselling_on_the_slip(qtbot: QtBot, env: Env) -> None:
    text = slip(env, replace(env.booked, type=AppointmentType.CRISIS)).plain_text()
    assert "Individual counselling" in text
    assert "Crisis" not in text


@pytest.mark.parametrize("taller", range(7))
def test_long_day_sheet_never_splits_a_row_across_pages(
    qtbot: QtBot, env: Env, tmp_path: Path, taller: int
) -> None:
    """Rows of two lines, the first `taller` of three, so page breaks fall at varied places
    (without the row-keeping pass Qt splits a row line by line for some of these)."""
    first = station_day(env)[0]
    many = [
        replace(
            first,
            id=100 + i,
            client_code=f"CODE-{i:03d}",
            starts_at=at(24, 8) + timedelta(minutes=10 * i),
            ends_at=at(24, 8, 50) + timedelta(minutes=10 * i),
            pod_programme=PodProgramme.BREATHING if i < taller else None,
        )
        for i in range(60)
    ]
    path = tmp_path / "long.pdf"
    save_pdf(sheet(env, many), path, "CareStation day sheet 2026-11-24")
    pages = int(pdf_info(path)["Pages"])
    assert pages >= 2
    seen = []
    for page in range(1, pages + 1):
        text = pdf_text(path, page)
        assert f"Page {page} of {pages}" in text
        assert "Time" in text  # the column headings on every page
        codes = [word for word in text.split() if word.startswith("CODE-")]
        times = [word for word in text.split() if word.count(":") == 2 and "–" in word]
        # Each row's time (first line) and code (last line of the client cell) on one page.
        assert len(codes) == len(times), (page, codes, times)
        seen += codes
    assert sorted(seen) == [f"CODE-{i:03d}" for i in range(60)]


def test_preview_names_the_job_neutrally(qtbot: QtBot, env: Env) -> None:
    dialog = preview_dialog(None, sheet(env), "CareStation day sheet 2026-11-24", env.prompter)
    qtbot.addWidget(dialog)
    dialog.show()
    preview = dialog.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: preview.pageCount() == 1)
    assert dialog.printer_.docName() == "CareStation day sheet 2026-11-24"
    assert dialog.printer_.creator() == "CareStation"
    assert "张三" not in dialog.windowTitle()
    assert env.prompter.shown == []


# --- the reminders screen ---------------------------------------------------------------------
@dataclass
class Seams:
    previews: list[tuple[str, Printable]] = field(default_factory=list)
    suggested: list[str] = field(default_factory=list)
    answer: Path | None = None

    def preview(self, parent: QWidget | None, doc: Printable, name: str, p: Prompter) -> None:
        self.previews.append((name, doc))

    def choose(self, suggested: str) -> str | None:
        self.suggested.append(suggested)
        return str(self.answer) if self.answer else None


@pytest.fixture
def seams(tmp_path: Path) -> Seams:
    return Seams(answer=tmp_path / "out")


@pytest.fixture
def view(qtbot: QtBot, env: Env, seams: Seams) -> RemindersView:
    v = RemindersView(
        env.services,
        env.world.staff,
        env.prompter,
        choose_save_path=seams.choose,
        show_preview=seams.preview,
    )
    qtbot.addWidget(v)
    v.refresh()
    return v


def cell(view: RemindersView, row: int, column: int) -> str:
    return view.table.model().index(row, column).data()


def select_row(view: RemindersView, row: int) -> None:
    view.table.selectionModel().select(
        view.table.model().index(row, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )


def test_lists_tomorrows_bookings_with_phone_numbers(view: RemindersView) -> None:
    assert view.day() == TOMORROW
    assert view.table.model().rowCount() == 1  # not the cancelled one, nor other days/stations
    assert [cell(view, 0, c) for c in range(7)] == [
        "09:00–09:50",
        "张三",
        "13800000000",
        "ABCD-EFGH-1",
        "Individual counselling",
        "陈静",
        "个人咨询室一",
    ]
    assert view.count_label.text() == "1 person to call"
    assert not view.print_slip_button.isEnabled()
    view.date_edit.setDate(view.date_edit.date().addDays(1))
    assert view.table.model().rowCount() == 1  # the 25th
    view.clear()
    assert view.table.model().rowCount() == 0
    assert view.count_label.text() == ""


def test_print_buttons_preview_with_neutral_names(
    qtbot: QtBot, view: RemindersView, env: Env, seams: Seams
) -> None:
    qtbot.mouseClick(view.print_day_button, Qt.MouseButton.LeftButton)
    name, doc = seams.previews[-1]
    assert name == "CareStation day sheet 2026-11-24"
    assert "张三" in doc.plain_text()
    assert STATION in doc.plain_text()

    select_row(view, 0)
    assert view.print_slip_button.isEnabled()
    qtbot.mouseClick(view.print_slip_button, Qt.MouseButton.LeftButton)
    name, doc = seams.previews[-1]
    assert name == f"CareStation slip A-{env.booked.id:06d}"
    assert "ABCD-EFGH-1" in doc.plain_text()
    assert "张三" not in doc.plain_text()

    qtbot.mouseClick(view.print_list_button, Qt.MouseButton.LeftButton)
    name, doc = seams.previews[-1]
    assert name == "CareStation reminder list 2026-11-24"
    assert "13800000000" in doc.plain_text()
    with env.services.db.read() as session:
        action, ref, detail = session.execute(
            select(m.AuditEvent.action, m.AuditEvent.object_ref, m.AuditEvent.detail)
            .order_by(m.AuditEvent.id.desc())
            .limit(1)
        ).one()
    assert (action, ref, detail) == ("view_reminders", str(env.world.station_id), "2026-11-24")
    with env.services.db.read() as session:
        printed = session.execute(
            select(m.AuditEvent.object_type, m.AuditEvent.object_ref)
            .where(m.AuditEvent.action == "print")
            .order_by(m.AuditEvent.id)
        ).all()
    # Every printout of personal data is in the trail, named by date or appointment, never a person.
    assert printed == [("day_sheet", "2026-11-24"), ("slip", str(env.booked.id))]


def test_save_day_sheet_as_pdf(
    qtbot: QtBot,
    view: RemindersView,
    env: Env,
    seams: Seams,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out, temp = tmp_path / "out", tmp_path / "temp"
    out.mkdir()
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))  # where Qt would put temporary files
    seams.answer = out / "today.pdf"
    qtbot.mouseClick(view.save_pdf_button, Qt.MouseButton.LeftButton)
    assert seams.suggested == ["carestation-day-sheet-2026-11-24.pdf"]
    assert seams.answer.read_bytes().startswith(b"%PDF")
    assert "张三" in pdf_text(seams.answer)
    assert pdf_info(seams.answer)["Title"] == "CareStation day sheet 2026-11-24"
    assert env.prompter.shown[-1][1] == "PDF saved"
    # Nothing but the chosen file was written: no copy in a temporary folder.
    assert [p.name for p in out.iterdir()] == ["today.pdf"]
    assert list(temp.iterdir()) == []

    seams.answer = None  # the user cancels the file dialog
    assert view.save_day_sheet_pdf() is None


def test_calendar_export_dialog_writes_the_chosen_file(
    qtbot: QtBot, view: RemindersView, env: Env, seams: Seams, tmp_path: Path
) -> None:
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(CalendarExportDialog)
    assert dialog is not None
    assert dialog.isVisible()
    assert dialog.counsellor_combo.currentText() == "陈静"
    assert not dialog.names_check.isVisibleTo(dialog)  # staff never export names
    assert "not who it is with" in dialog.note.text()
    seams.answer = tmp_path / "calendar.ics"
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert seams.suggested[-1] == (
        f"carestation-calendar-{env.world.counsellor.user_id}-2026-11-24.ics"
    )
    calendar = Calendar.from_ical(seams.answer.read_bytes())
    uids = sorted(str(e["uid"]) for e in calendar.walk("VEVENT"))
    # The booked ones at this staff member's station from the 24th on: not the cancelled one,
    # not the other station's.
    assert len(uids) == 2
    assert f"appointment-{env.booked.id}@carestation" in uids
    assert f"appointment-{env.cancelled_id}@carestation" not in uids
    assert "张三".encode() not in seams.answer.read_bytes()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert env.prompter.shown[-1] == (
        "info",
        "Calendar saved",
        f"2 appointments were saved to {seams.answer}.",
    )


def test_calendar_export_shows_a_bad_range_beside_the_field(
    qtbot: QtBot, view: RemindersView, seams: Seams
) -> None:
    dialog = view.open_calendar_export()
    assert dialog is not None
    dialog.last_edit.setDate(dialog.first_edit.date().addDays(-1))
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.errors.text("last_day") == "The last day must not be before the first."
    assert dialog.isVisible()
    assert seams.suggested == []  # no file asked for


def test_a_counsellors_day_across_stations(qtbot: QtBot, env: Env) -> None:
    appointments = env.services.schedule.counsellor_days(
        actor=env.world.counsellor,
        counsellor_id=env.world.counsellor.user_id,
        first_day=TOMORROW,
        days=1,
    )
    text = day_sheet(
        heading="陈静",
        day=TOMORROW,
        appointments=appointments,
        printed_at=at(23, 10),
        printed_by="陈静",
        across_stations=True,
    ).plain_text()
    assert "Station" in text
    assert "Counsellor" not in text
    assert text.index(STATION) < text.index("店口镇服务站")  # 09:00 here, 14:00 there
    assert "2 appointments" in text
