"""The personal report dialog and the day batch, driven with qtbot over a fake report service;
the PDF writer is a fake that writes a small real PDF (reportlab) in the worker thread, and
the preview and save dialogs go through their seams."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import BinaryIO

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtPrintSupport import QPrintPreviewDialog, QPrintPreviewWidget
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from carestation.domain.report_values import InstrumentSection, PersonalReportData, ReportPoint
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.domain.vocab import ConsentPurpose
from carestation.i18n import set_language
from carestation.services.consent_rules import ConsentMissing
from carestation.ui.personal_report_dialog import DayReportsDialog, PersonalReportDialog
from carestation.ui.prompts import RecordingPrompter
from tests.ui.test_report_printing import make_pdf, marks_on, pdf_printer_to

TODAY = date(2026, 11, 23)
COUNSELLOR = Actor(
    user_id=2,
    username="wangfang",
    display_name="王芳",
    roles=frozenset({Role.COUNSELLOR}),
    station_ids=frozenset({1}),
    station_id=1,
)
SECTION = InstrumentSection(
    instrument="phq9",
    latest_total=7,
    latest_value=7,
    latest_band="mild",
    latest_on=date(2026, 11, 20),
    points=(ReportPoint(date(2026, 10, 2), 14), ReportPoint(date(2026, 11, 20), 7)),
    change="improved",
    follow_up_advised=False,
)
REPORT = PersonalReportData(
    report_number="R-000123",
    lang="zh_CN",
    station_name="暨阳街道职工情绪管理服务站",
    station_address="诸暨市暨阳街道艮塔西路 123 号",
    station_phone="0575-87001234",
    client_code="C-7Q4K2M",
    client_name=None,
    counsellor_name="王芳",
    issued_on=TODAY,
    sections=(SECTION,),
)


@dataclass
class FakeReports:
    refuse: Exception | None = None
    seen: dict[date, list[tuple[int, str]]] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    next_number: int = 123

    def _number(self) -> str:
        number = f"R-{self.next_number:06d}"
        self.next_number += 1
        return number

    def personal_report(
        self, actor: Actor, *, client_id: int, include_name: bool, lang: str
    ) -> PersonalReportData:
        self.calls.append(
            (
                "personal_report",
                {"client_id": client_id, "include_name": include_name, "lang": lang},
            )
        )
        if self.refuse is not None:
            raise self.refuse
        return replace(
            REPORT,
            report_number=self._number(),
            lang=lang,
            client_name="张三" if include_name else None,
        )

    def clients_seen_on(self, actor: Actor, *, day: date) -> list[tuple[int, str]]:
        self.calls.append(("clients_seen_on", {"day": day}))
        return list(self.seen.get(day, []))

    def personal_reports_for_day(
        self, actor: Actor, *, day: date, lang: str
    ) -> list[PersonalReportData]:
        self.calls.append(("personal_reports_for_day", {"day": day, "lang": lang}))
        if self.refuse is not None:
            raise self.refuse
        return [
            replace(REPORT, report_number=self._number(), client_code=code, lang=lang)
            for _id, code in self.seen.get(day, [])
        ]


@dataclass
class FakeWriter:
    """Writes a real PDF: two pages per report; can be held to show the GUI stays free."""

    pages_per_report: int = 2
    hold: threading.Event | None = None
    fail: Exception | None = None
    written: list[tuple[list[str], str | None]] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)

    def one(self, out: BinaryIO, *, data: PersonalReportData, lang: str | None = None) -> int:
        return self._write(out, [data], lang)

    def many(self, out: BinaryIO, *, reports: Sequence[PersonalReportData]) -> int:
        return self._write(out, list(reports), None)

    def _write(self, out: BinaryIO, reports: list[PersonalReportData], lang: str | None) -> int:
        self.threads.append(threading.get_ident())
        if self.hold is not None:
            assert self.hold.wait(10)
        if self.fail is not None:
            raise self.fail
        self.written.append(([r.report_number for r in reports], lang))
        pages = self.pages_per_report * len(reports)
        out.write(make_pdf(pages, title=f"CareStation report {reports[0].report_number}"))
        return pages


@dataclass
class Seams:
    dialogs: list[QDialog] = field(default_factory=list)
    suggested: list[str] = field(default_factory=list)
    answer: str | None = None

    def show(self, dialog: QDialog) -> None:
        self.dialogs.append(dialog)

    def choose(self, suggested: str) -> str | None:
        self.suggested.append(suggested)
        return self.answer


@dataclass
class Env:
    reports: FakeReports
    writer: FakeWriter
    seams: Seams
    prompter: RecordingPrompter


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    temp = tmp_path / "system-temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return Env(FakeReports(), FakeWriter(), Seams(), RecordingPrompter())


def personal(qtbot: QtBot, env: Env) -> PersonalReportDialog:
    dialog = PersonalReportDialog(
        env.reports,
        COUNSELLOR,
        env.prompter,
        client_id=42,
        client_code="C-7Q4K2M",
        writer=env.writer.one,
        choose_save_path=env.seams.choose,
        show_dialog=env.seams.show,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def day_dialog(qtbot: QtBot, env: Env) -> DayReportsDialog:
    dialog = DayReportsDialog(
        env.reports,
        COUNSELLOR,
        env.prompter,
        writer_many=env.writer.many,
        today=TODAY,
        choose_save_path=env.seams.choose,
        show_dialog=env.seams.show,
    )
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def shown_preview(qtbot: QtBot, env: Env, pages: int) -> QPrintPreviewDialog:
    qtbot.waitUntil(lambda: len(env.seams.dialogs) == 1, timeout=5000)
    preview = env.seams.dialogs[0]
    assert isinstance(preview, QPrintPreviewDialog)
    preview.show()
    widget = preview.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: widget.pageCount() == pages)
    return preview


# --- one client ------------------------------------------------------------------------------
def test_defaults_code_only_and_the_screens_language(qtbot: QtBot, env: Env) -> None:
    set_language("zh_CN")
    dialog = personal(qtbot, env)
    assert dialog.language_combo.currentText() == "中文"
    assert dialog.language() == "zh_CN"
    assert not dialog.name_check.isChecked()
    set_language("en")
    dialog = personal(qtbot, env)
    assert dialog.language() == "en"
    assert dialog.name_check.text() == (
        "Print the client's &name on this report (only on this printout)"
    )
    assert dialog.findChild(type(dialog.busy)).isHidden()
    assert env.reports.calls == []  # opening the dialog numbers nothing


def test_preview_numbers_the_report_writes_it_in_a_worker_and_previews_its_pages(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    dialog = personal(qtbot, env)
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)

    preview = shown_preview(qtbot, env, pages=2)
    assert env.reports.calls == [
        ("personal_report", {"client_id": 42, "include_name": False, "lang": "en"})
    ]
    assert env.writer.written == [(["R-000123"], "en")]
    assert env.writer.threads[0] != threading.get_ident()
    assert preview.printer_.docName() == "CareStation report R-000123"
    out = tmp_path / "printed.pdf"
    preview.paintRequested.emit(pdf_printer_to(preview.printer_, out))
    assert marks_on(out) == [1, 2]
    assert env.prompter.shown == []
    assert list((tmp_path / "system-temp").iterdir()) == []


def test_name_and_language_go_to_the_service_and_the_writer(qtbot: QtBot, env: Env) -> None:
    set_language("zh_CN")
    dialog = personal(qtbot, env)
    dialog.set_language("en")
    dialog.name_check.setChecked(True)
    dialog.preview()
    shown_preview(qtbot, env, pages=2)
    assert env.reports.calls == [
        ("personal_report", {"client_id": 42, "include_name": True, "lang": "en"})
    ]
    assert env.writer.written == [(["R-000123"], "en")]
    assert dialog.last_report is not None
    assert dialog.last_report.client_name == "张三"


def test_each_click_is_a_new_numbered_report(qtbot: QtBot, env: Env) -> None:
    dialog = personal(qtbot, env)
    dialog.preview()
    qtbot.waitUntil(lambda: len(env.seams.dialogs) == 1)
    dialog.preview()
    qtbot.waitUntil(lambda: len(env.seams.dialogs) == 2)
    assert [d.printer_.docName() for d in env.seams.dialogs] == [
        "CareStation report R-000123",
        "CareStation report R-000124",
    ]
    assert len(env.reports.calls) == 2


def test_missing_consent_is_explained_and_nothing_is_written(qtbot: QtBot, env: Env) -> None:
    env.reports.refuse = ConsentMissing(ConsentPurpose.REPORT_PRINTING)
    dialog = personal(qtbot, env)
    assert dialog.preview() is False
    assert dialog.save() is False
    assert (
        env.prompter.shown
        == [("error", "The report could not be prepared", str(env.reports.refuse))] * 2
    )
    assert "consent" in env.prompter.shown[0][2]
    assert env.writer.written == []
    assert env.seams.dialogs == []
    assert env.seams.suggested == []


def test_the_gui_stays_free_while_the_pdf_is_written(qtbot: QtBot, env: Env) -> None:
    env.writer.hold = threading.Event()
    dialog = personal(qtbot, env)
    assert dialog.preview() is True
    qtbot.waitUntil(lambda: len(env.writer.threads) == 1)
    assert dialog.busy.isVisible()
    assert dialog.busy.label.text() == "Preparing report R-000123..."
    assert not dialog.preview_button.isEnabled()
    assert not dialog.save_button.isEnabled()
    assert not dialog.name_check.isEnabled()
    assert dialog.preview() is False  # a second click while busy does not number another
    assert len(env.reports.calls) == 1
    env.writer.hold.set()
    shown_preview(qtbot, env, pages=2)
    assert not dialog.busy.isVisible()
    assert dialog.preview_button.isEnabled()
    assert dialog.save_button.isEnabled()
    assert dialog.name_check.isEnabled()


def test_a_failing_writer_is_reported_and_the_dialog_recovers(qtbot: QtBot, env: Env) -> None:
    env.writer.fail = RuntimeError("boom")
    dialog = personal(qtbot, env)
    dialog.preview()
    qtbot.waitUntil(lambda: bool(env.prompter.shown))
    assert env.prompter.shown == [
        (
            "error",
            "The report could not be prepared",
            "An unexpected error occurred (RuntimeError). The details are in the log file.",
        )
    ]
    assert env.seams.dialogs == []
    assert dialog.preview_button.isEnabled()


def test_closing_the_dialog_drops_a_report_still_being_written(qtbot: QtBot, env: Env) -> None:
    env.writer.hold = threading.Event()
    dialog = personal(qtbot, env)
    dialog.preview()
    qtbot.waitUntil(lambda: len(env.writer.threads) == 1)
    dialog.reject()
    env.writer.hold.set()
    qtbot.waitUntil(lambda: not dialog.job.busy)
    assert env.seams.dialogs == []


def test_save_suggests_a_neutral_name_and_writes_only_there(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    folder = tmp_path / "chosen"
    folder.mkdir()
    env.seams.answer = str(folder / "for the client")  # no suffix typed
    dialog = personal(qtbot, env)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    target = folder / "for the client.pdf"
    qtbot.waitUntil(lambda: dialog.saved_path == target, timeout=5000)
    assert env.seams.suggested == ["CareStation R-000123.pdf"]
    assert [p.name for p in folder.iterdir()] == ["for the client.pdf"]
    assert target.read_bytes().startswith(b"%PDF")
    assert marks_on(target) == [1, 2]
    assert env.prompter.shown == [("info", "PDF saved", f"The PDF was saved to {target}.")]
    assert list((tmp_path / "system-temp").iterdir()) == []


def test_cancelled_save_writes_nothing(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    dialog = personal(qtbot, env)
    assert dialog.save() is False
    assert env.writer.written == []
    assert env.seams.suggested == ["CareStation R-000123.pdf"]
    assert env.prompter.shown == []


def test_save_to_an_unwritable_place_says_so(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    env.seams.answer = str(tmp_path / "missing" / "r.pdf")
    dialog = personal(qtbot, env)
    dialog.save()
    qtbot.waitUntil(lambda: bool(env.prompter.shown))
    kind, title, text = env.prompter.shown[0]
    assert (kind, title) == ("error", "The report could not be prepared")
    assert text.startswith(f"The PDF could not be saved to {tmp_path / 'missing' / 'r.pdf'}:")
    assert dialog.saved_path is None
    assert not (tmp_path / "missing").exists()


# --- a day's reports -------------------------------------------------------------------------
def test_day_lists_the_clients_seen_and_follows_the_date(qtbot: QtBot, env: Env) -> None:
    env.reports.seen = {TODAY: [(42, "C-7Q4K2M"), (43, "C-9X2B5N")], date(2026, 11, 20): []}
    dialog = day_dialog(qtbot, env)
    assert dialog.day() == TODAY
    assert [dialog.client_list.item(i).text() for i in range(dialog.client_list.count())] == [
        "C-7Q4K2M",
        "C-9X2B5N",
    ]
    assert dialog.found_label.text() == "2 clients seen on 2026-11-23:"
    assert dialog.preview_button.isEnabled()
    assert dialog.save_button.isEnabled()
    assert dialog.date_edit.maximumDate() == QDate(2026, 11, 23)

    dialog.set_day(date(2026, 11, 20))
    assert dialog.client_list.count() == 0
    assert dialog.found_label.text() == (
        "No one seen on 2026-11-20 has questionnaires and consent to printed reports."
    )
    assert not dialog.preview_button.isEnabled()
    assert not dialog.save_button.isEnabled()
    assert env.reports.calls == [
        ("clients_seen_on", {"day": TODAY}),
        ("clients_seen_on", {"day": date(2026, 11, 20)}),
    ]


def test_day_preview_puts_every_report_in_one_preview(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    env.reports.seen = {TODAY: [(42, "C-7Q4K2M"), (43, "C-9X2B5N"), (44, "C-3H8D1P")]}
    dialog = day_dialog(qtbot, env)
    dialog.set_language("zh_CN")
    qtbot.mouseClick(dialog.preview_button, Qt.MouseButton.LeftButton)
    preview = shown_preview(qtbot, env, pages=6)
    assert env.reports.calls[-1] == ("personal_reports_for_day", {"day": TODAY, "lang": "zh_CN"})
    assert env.writer.written == [(["R-000123", "R-000124", "R-000125"], None)]
    assert [r.client_code for r in dialog.last_reports] == ["C-7Q4K2M", "C-9X2B5N", "C-3H8D1P"]
    assert preview.printer_.docName() == "CareStation report R-000123_R-000125"
    assert env.writer.threads[0] != threading.get_ident()
    out = tmp_path / "all.pdf"
    preview.paintRequested.emit(pdf_printer_to(preview.printer_, out))
    assert marks_on(out) == [1, 2, 3, 4, 5, 6]
    assert list((tmp_path / "system-temp").iterdir()) == []


def test_day_save_writes_one_pdf(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    env.reports.seen = {TODAY: [(42, "C-7Q4K2M"), (43, "C-9X2B5N")]}
    env.seams.answer = str(tmp_path / "day.pdf")
    dialog = day_dialog(qtbot, env)
    dialog.save()
    qtbot.waitUntil(lambda: dialog.saved_path is not None, timeout=5000)
    assert env.seams.suggested == ["CareStation R-000123_R-000124.pdf"]
    assert marks_on(tmp_path / "day.pdf") == [1, 2, 3, 4]


def test_day_with_nothing_left_to_print_says_so(qtbot: QtBot, env: Env) -> None:
    env.reports.seen = {TODAY: [(42, "C-7Q4K2M")]}
    dialog = day_dialog(qtbot, env)
    env.reports.seen = {}  # consent withdrawn meanwhile
    assert dialog.preview() is False
    assert env.prompter.shown == [
        ("info", "Personal reports for a day", "There is no report to print for 2026-11-23.")
    ]
    assert env.writer.written == []


def test_day_errors_are_shown(qtbot: QtBot, env: Env) -> None:
    env.reports.seen = {TODAY: [(42, "C-7Q4K2M")]}
    dialog = day_dialog(qtbot, env)
    env.reports.refuse = ConsentMissing(ConsentPurpose.REPORT_PRINTING)
    assert dialog.save() is False
    assert env.prompter.shown[0][:2] == ("error", "The reports could not be prepared")
    assert env.seams.suggested == []


def test_the_default_writers_are_the_report_module(qtbot: QtBot, env: Env) -> None:
    env.reports.seen = {TODAY: [(42, "C-7Q4K2M"), (43, "C-9X2B5N")]}
    one = PersonalReportDialog(
        env.reports,
        COUNSELLOR,
        env.prompter,
        client_id=42,
        client_code="C-7Q4K2M",
        choose_save_path=env.seams.choose,
        show_dialog=env.seams.show,
    )
    qtbot.addWidget(one)
    one.show()
    one.preview()
    qtbot.waitUntil(lambda: len(env.seams.dialogs) == 1, timeout=10_000)
    single = env.seams.dialogs[0].pdf_.page_count
    assert single >= 1
    assert env.seams.dialogs[0].pdf_.title() == "CareStation report R-000123"
    many = DayReportsDialog(
        env.reports,
        COUNSELLOR,
        env.prompter,
        today=TODAY,
        choose_save_path=env.seams.choose,
        show_dialog=env.seams.show,
    )
    qtbot.addWidget(many)
    many.show()
    many.preview()
    qtbot.waitUntil(lambda: len(env.seams.dialogs) == 2, timeout=10_000)
    assert env.seams.dialogs[1].pdf_.page_count == 2 * single
    assert env.prompter.shown == []


def test_ctrl_p_previews_and_ctrl_s_saves_from_anywhere_in_the_dialog(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    dialog = personal(qtbot, env)
    dialog.activateWindow()  # shortcuts go to the active window
    qtbot.waitActive(dialog)
    dialog.language_combo.setFocus()
    # Through the window, as a real key press arrives (the shortcut map only sees those).
    QTest.keyClick(dialog.windowHandle(), Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    shown_preview(qtbot, env, pages=2)
    assert env.writer.written == [(["R-000123"], "en")]
    assert "Ctrl+P" in dialog.preview_button.toolTip()

    env.seams.answer = str(tmp_path / "report.pdf")
    dialog.activateWindow()  # back from the preview
    qtbot.waitActive(dialog)
    dialog.language_combo.setFocus()
    QTest.keyClick(dialog.windowHandle(), Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.saved_path == tmp_path / "report.pdf", timeout=5000)
    assert "Ctrl+S" in dialog.save_button.toolTip()
