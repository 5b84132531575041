"""The managers' summary report screen, driven with qtbot over a fake report service (and, at
the end, the real service and writers on SQLite): the controls make the right service call, the
figures come back from a worker, every output is numbered by the service and written only where
the user chose, the admin's threshold control, errors, and that no client code ever shows."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import io
import tempfile
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import BinaryIO

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrintPreviewDialog, QPrintPreviewWidget
from PySide6.QtWidgets import QAbstractItemView, QDialog, QLabel, QSpinBox
from pytestqt.qtbot import QtBot

from carestation.domain.assessment_values import BandCount
from carestation.domain.errors import PermissionDenied, ValidationError
from carestation.domain.roles import Role
from carestation.domain.summary_values import (
    AppointmentFigures,
    BlockFigures,
    Rate,
    StationFigures,
    StationRef,
    SummaryBlock,
    SummaryReportData,
    Use,
    WaitingFigures,
)
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, AppointmentType, Modality, RoomKind
from carestation.i18n import set_language
from carestation.services.container import Services
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.summary_report_widgets import block_axis
from carestation.ui.views.summary_report_view import (
    SummaryReportView,
    Writers,
    default_period,
    snap_to_quarters,
)
from tests.ui.test_report_printing import make_pdf

TODAY = date(2026, 11, 23)
MANAGER = Actor(
    user_id=5,
    username="lina",
    display_name="李娜兰",
    roles=frozenset({Role.MANAGER}),
    station_ids=frozenset(),
)
ADMIN = replace(MANAGER, user_id=1, username="admin", roles=frozenset({Role.ADMIN}))
K = 10


def people(count: int | None, shown: str | None = None) -> BandCount:
    return BandCount("all", count, shown if shown is not None else str(count))


HIDDEN = people(None, "<10")
DOT = people(None, "·")


def figures(
    *,
    completed: int = 0,
    no_show: int = 0,
    cancelled: int = 0,
    attendance: BandCount = HIDDEN,
    waiting: BandCount = HIDDEN,
    median: str = "<10",
    raised: BandCount = HIDDEN,
    closed: BandCount = HIDDEN,
    used: int = 0,
    available: int = 0,
    lectures: int = 0,
) -> BlockFigures:
    status = {s: 0 for s in AppointmentStatus}
    status.update(
        {
            AppointmentStatus.COMPLETED: completed,
            AppointmentStatus.NO_SHOW: no_show,
            AppointmentStatus.CANCELLED: cancelled,
        }
    )
    total = completed + no_show + cancelled
    return BlockFigures(
        appointments=AppointmentFigures(
            by_type={t: total if t is AppointmentType.COUNSELLING else 0 for t in AppointmentType},
            by_modality={m: total if m is Modality.IN_PERSON else 0 for m in Modality},
            by_status=status,
            no_show=Rate(no_show, completed + no_show),
            late_cancellation=Rate(0, total),
        ),
        counsellor_hours=Use(used, available),
        rooms={kind: Use(0, 0) for kind in RoomKind},
        lectures_held=lectures,
        lecture_attendance=attendance,
        topics=(),
        waiting=WaitingFigures(
            people=waiting,
            median_days=int(median) if median.isdigit() else None,
            p90_days=None,
            shown_median=median,
            shown_p90="<10",
        ),
        bands=(),
        changes=(),
        crisis_raised=raised,
        crisis_closed=closed,
    )


JIYANG = StationRef(1, "暨阳街道职工情绪管理服务站")
DIANKOU = StationRef(2, "店口镇服务站")


def block(
    label: str, month: date, selection: BlockFigures, *per_station: BlockFigures
) -> SummaryBlock:
    stations = (JIYANG, DIANKOU)[: len(per_station)]
    return SummaryBlock(
        first_month=month,
        last_month=month,
        label=label,
        stations=tuple(
            StationFigures(s.id, s.name, f) for s, f in zip(stations, per_station, strict=True)
        ),
        selection=selection,
    )


def report(*blocks: SummaryBlock, grouping: str = "month") -> SummaryReportData:
    return SummaryReportData(
        first_month=blocks[0].first_month,
        last_month=blocks[-1].last_month,
        grouping=grouping,  # type: ignore[arg-type]
        k=K,
        stations=(JIYANG, DIANKOU),
        blocks=tuple(blocks),
        generated_at=datetime(2026, 11, 23, 2, 0, tzinfo=UTC),
        hidden_mark_used=True,
    )


DATA = report(
    block(
        "2026-09",
        date(2026, 9, 1),
        figures(
            completed=120,
            no_show=10,
            cancelled=20,
            attendance=people(37),
            waiting=people(25),
            median="9",
            raised=HIDDEN,
            closed=DOT,
            used=3000,
            available=6000,
            lectures=3,
        ),
        figures(completed=100, no_show=8, attendance=people(30), waiting=people(20), median="8"),
        figures(
            completed=20, no_show=2, attendance=HIDDEN, waiting=HIDDEN, raised=people(4, "<10")
        ),
    ),
    block(
        "2026-10",
        date(2026, 10, 1),
        figures(completed=0, attendance=people(0), waiting=people(0), median="·"),
        figures(),
        figures(),
    ),
)


@dataclass
class Station:
    id: int
    name: str


@dataclass
class FakeReports:
    data: SummaryReportData = DATA
    refuse: Exception | None = None
    refuse_issue: Exception | None = None
    refuse_k: Exception | None = None
    k: int = K
    calls: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)
    hold: threading.Event | None = None
    next_number: int = 123

    def summary(self, actor: Actor, **kwargs: object) -> SummaryReportData:
        self.threads.append(threading.get_ident())
        self.calls.append(("summary", kwargs))
        if self.hold is not None:
            assert self.hold.wait(10)
        if self.refuse is not None:
            raise self.refuse
        return self.data

    def issue(self, actor: Actor, data: SummaryReportData, *, output: str) -> str:
        self.calls.append(("issue", {"output": output, "data": data}))
        if self.refuse_issue is not None:
            raise self.refuse_issue
        number = f"R-{self.next_number:06d}"
        self.next_number += 1
        return number

    def suppression_k(self, actor: Actor) -> int:
        return self.k

    def set_suppression_k(self, actor: Actor, *, k: int) -> int:
        self.calls.append(("set_suppression_k", {"k": k}))
        if self.refuse_k is not None:
            raise self.refuse_k
        self.k = k
        return k


@dataclass
class FakeStations:
    def list_stations(self, *, actor: Actor) -> list[Station]:
        return [Station(JIYANG.id, JIYANG.name), Station(DIANKOU.id, DIANKOU.name)]


@dataclass
class FakeWriters:
    """Writes small real outputs, recording what it was asked for and in which thread."""

    written: list[tuple[str, str, str, SummaryReportData]] = field(default_factory=list)
    threads: list[int] = field(default_factory=list)
    fail: Exception | None = None

    def _record(self, kind: str, data: SummaryReportData, lang: str, number: str) -> None:
        self.threads.append(threading.get_ident())
        if self.fail is not None:
            raise self.fail
        self.written.append((kind, number, lang, data))

    def pdf(self, out: BinaryIO, *, data: SummaryReportData, lang: str, report_number: str) -> int:
        self._record("pdf", data, lang, report_number)
        out.write(make_pdf(3, title=f"CareStation report {report_number}"))
        return 3

    def csv(self, out: BinaryIO, *, data: SummaryReportData, lang: str, report_number: str) -> int:
        self._record("csv", data, lang, report_number)
        out.write(f"report,block\r\n{report_number},2026-09\r\n".encode())
        return 1

    def xlsx(self, out: BinaryIO, *, data: SummaryReportData, lang: str, report_number: str) -> int:
        self._record("xlsx", data, lang, report_number)
        out.write(b"PK\x03\x04 workbook " + report_number.encode())
        return 1

    def bundle(self) -> Writers:
        return Writers(pdf=self.pdf, csv=self.csv, xlsx=self.xlsx)


@dataclass
class Seams:
    dialogs: list[QDialog] = field(default_factory=list)
    asked: list[tuple[str, str]] = field(default_factory=list)
    answer: str | None = None

    def show(self, dialog: QDialog) -> None:
        self.dialogs.append(dialog)

    def choose(self, suggested: str, output: str) -> str | None:
        self.asked.append((suggested, output))
        return self.answer


@dataclass
class Env:
    reports: FakeReports
    writers: FakeWriters
    seams: Seams
    prompter: RecordingPrompter
    temp: Path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Env:
    set_language("en")
    temp = tmp_path / "system-temp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return Env(FakeReports(), FakeWriters(), Seams(), RecordingPrompter(), temp)


def make_view(qtbot: QtBot, env: Env, actor: Actor = MANAGER) -> SummaryReportView:
    view = SummaryReportView(
        env.reports,
        actor,
        env.prompter,
        stations=FakeStations(),
        today=lambda: TODAY,
        writers=env.writers.bundle(),
        choose_path=env.seams.choose,
        show_dialog=env.seams.show,
    )
    qtbot.addWidget(view)
    view.resize(1100, 700)
    view.show()
    view.refresh()
    return view


def shown(qtbot: QtBot, view: SummaryReportView) -> SummaryReportView:
    assert view.compute() is True
    qtbot.waitUntil(lambda: not view.job.busy, timeout=5000)
    return view


def table_text(view: SummaryReportView, name: str) -> list[list[str]]:
    model = view.findChild(QAbstractItemView, name).model()  # type: ignore[union-attr]
    return [
        [str(model.index(r, c).data()) for c in range(model.columnCount())]
        for r in range(model.rowCount())
    ]


def headers(view: SummaryReportView, name: str) -> list[str]:
    model = view.findChild(QAbstractItemView, name).model()  # type: ignore[union-attr]
    return [str(model.headerData(c, Qt.Orientation.Horizontal)) for c in range(model.columnCount())]


def summary_calls(env: Env) -> list[dict[str, object]]:
    return [kw for name, kw in env.reports.calls if name == "summary"]


def issued(env: Env) -> list[str]:
    return [str(kw["output"]) for name, kw in env.reports.calls if name == "issue"]


# --- choosing ----------------------------------------------------------------------------------
def test_periods_default_to_the_last_twelve_whole_months_and_snap_to_quarters() -> None:
    assert default_period(date(2026, 11, 23)) == (date(2025, 11, 1), date(2026, 10, 1))
    assert default_period(date(2026, 1, 5)) == (date(2025, 1, 1), date(2025, 12, 1))
    assert default_period(date(2026, 2, 1)) == (date(2025, 2, 1), date(2026, 1, 1))
    assert snap_to_quarters(date(2026, 2, 1), date(2026, 8, 1)) == (
        date(2026, 1, 1),
        date(2026, 9, 1),
    )
    assert snap_to_quarters(date(2025, 10, 1), date(2026, 12, 1)) == (
        date(2025, 10, 1),
        date(2026, 12, 1),
    )


def test_opens_with_defaults_and_computes_nothing_until_asked(qtbot: QtBot, env: Env) -> None:
    view = make_view(qtbot, env)
    assert view.title() == "Summary report"
    assert view.period() == (date(2025, 11, 1), date(2026, 10, 1))
    assert view.first_edit.displayFormat() == "yyyy-MM"
    assert view.first_edit.text() == "2025-11"
    assert view.grouping() == "month"
    assert view.picker.all_check.isChecked()
    assert [view.picker.list.item(i).text() for i in range(view.picker.list.count())] == [
        JIYANG.name,
        DIANKOU.name,
    ]
    assert not view.picker.list.isEnabled()
    assert env.reports.calls == []
    assert view.data is None
    assert view.period_label.text() == (
        "Choose the period, the blocks and the stations, then press Show."
    )
    assert view.k_label.text().startswith(
        "Numbers of people from 1 to 9 are shown as \u201c<10\u201d"
    )
    for button in view._output_buttons():
        assert not button.isEnabled()
    assert view.threshold is None  # managers do not set the threshold
    assert view.findChild(QSpinBox, "threshold_k") is None


def test_show_sends_the_chosen_period_blocks_and_stations_from_a_worker(
    qtbot: QtBot, env: Env
) -> None:
    view = make_view(qtbot, env)
    view.set_period(date(2026, 9, 1), date(2026, 10, 1))
    view.picker.all_check.setChecked(False)
    assert view.picker.list.isEnabled()
    view.picker.list.item(1).setCheckState(Qt.CheckState.Checked)
    qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: view.data is not None, timeout=5000)
    assert summary_calls(env) == [
        {
            "first_month": date(2026, 9, 1),
            "last_month": date(2026, 10, 1),
            "station_ids": [DIANKOU.id],
            "grouping": "month",
        }
    ]
    assert env.reports.threads[0] != threading.get_ident()
    assert view.data is DATA
    for button in view._output_buttons():
        assert button.isEnabled()


def test_all_stations_is_no_list_and_the_period_line_says_so(qtbot: QtBot, env: Env) -> None:
    view = shown(qtbot, make_view(qtbot, env))
    assert summary_calls(env)[0]["station_ids"] is None
    assert view.period_label.text() == "2026-09 to 2026-10, by month; all active stations (2)"


def test_a_few_chosen_stations_are_named(qtbot: QtBot, env: Env) -> None:
    view = make_view(qtbot, env)
    view.picker.set_ticked([JIYANG.id, DIANKOU.id])
    shown(qtbot, view)
    assert summary_calls(env)[0]["station_ids"] == [JIYANG.id, DIANKOU.id]
    assert view.period_label.text() == (
        f"2026-09 to 2026-10, by month; {JIYANG.name}, {DIANKOU.name}"
    )


def test_quarters_snap_the_period_to_whole_quarters(qtbot: QtBot, env: Env) -> None:
    view = make_view(qtbot, env)
    view.set_period(date(2026, 2, 1), date(2026, 8, 1))
    view.set_grouping("quarter")
    assert view.period() == (date(2026, 1, 1), date(2026, 9, 1))
    view.set_period(date(2025, 11, 1), date(2026, 4, 1))  # changed after choosing quarters
    shown(qtbot, view)
    assert summary_calls(env) == [
        {
            "first_month": date(2025, 10, 1),
            "last_month": date(2026, 6, 1),
            "station_ids": None,
            "grouping": "quarter",
        }
    ]
    assert view.first_edit.text() == "2025-10"
    assert view.last_edit.text() == "2026-06"


def test_the_services_message_is_shown_when_it_refuses_the_period(qtbot: QtBot, env: Env) -> None:
    message = "A report covers at most 60 months; choose a shorter period."
    env.reports.refuse = ValidationError({"period": message})
    view = shown(qtbot, make_view(qtbot, env))
    assert env.prompter.shown == [("error", "Please check", message)]
    assert view.data is None
    assert view.show_button.isEnabled()
    assert not view.preview_button.isEnabled()


def test_other_failures_are_shown(qtbot: QtBot, env: Env) -> None:
    env.reports.refuse = PermissionDenied("You may not see the summary report.")
    shown(qtbot, make_view(qtbot, env))
    env.reports.refuse = RuntimeError("boom")
    view = shown(qtbot, make_view(qtbot, env))
    assert env.prompter.shown == [
        ("error", "The summary report failed", "You may not see the summary report."),
        (
            "error",
            "The summary report failed",
            "An unexpected error occurred (RuntimeError). The details are in the log file.",
        ),
    ]
    assert view.data is None


def test_the_controls_rest_while_the_report_is_computed(qtbot: QtBot, env: Env) -> None:
    env.reports.hold = threading.Event()
    view = make_view(qtbot, env)
    assert view.compute() is True
    qtbot.waitUntil(lambda: len(env.reports.threads) == 1)
    assert view.busy.isVisible()
    assert view.busy.label.text() == "Computing the summary report..."
    assert not view.show_button.isEnabled()
    assert not view.grouping_combo.isEnabled()
    assert view.compute() is False  # one at a time
    env.reports.hold.set()
    qtbot.waitUntil(lambda: view.data is not None, timeout=5000)
    assert not view.busy.isVisible()
    assert view.show_button.isEnabled()
    assert len(summary_calls(env)) == 1


# --- the figures -------------------------------------------------------------------------------
def test_the_tables_show_key_figures_and_people_exactly_as_the_report_does(
    qtbot: QtBot, env: Env
) -> None:
    view = shown(qtbot, make_view(qtbot, env))
    assert headers(view, "summary_blocks_table") == [
        "Month",
        "Appointments",
        "Completed",
        "No-show rate",
        "Late cancellation rate",
        "Counsellor hours use",
        "Lectures held",
        "Lecture attendance",
        "First sessions (people)",
        "Median wait (days)",
        "Crisis flags raised",
        "Crisis flags closed",
    ]
    assert table_text(view, "summary_blocks_table") == [
        ["2026-09", "150", "120", "7.7%", "0.0%", "50.0%", "3", "37", "25", "9", "<10", "·"],
        ["2026-10", "0", "0", "—", "—", "—", "0", "0", "0", "·", "<10", "<10"],
    ]
    # the latest block's stations first; then the one chosen
    assert view.block_combo.currentText() == "2026-10"
    view.block_combo.setCurrentIndex(0)
    assert headers(view, "summary_stations_table")[0] == "Station"
    assert table_text(view, "summary_stations_table") == [
        [JIYANG.name, "108", "100", "7.4%", "0.0%", "—", "0", "30", "20", "8", "<10", "<10"],
        [DIANKOU.name, "22", "20", "9.1%", "0.0%", "—", "0", "<10", "<10", "<10", "<10", "<10"],
    ]
    assert view.k_label.text().startswith("Numbers of people from 1 to 9 are shown as")


def test_the_chart_stacks_appointments_by_status_per_block(qtbot: QtBot, env: Env) -> None:
    view = shown(qtbot, make_view(qtbot, env))
    assert view.chart.series_values() == {
        "Completed": [120.0, 0.0],
        "Checked in": [0.0, 0.0],
        "Booked": [0.0, 0.0],
        "No-show": [10.0, 0.0],
        "Cancelled": [20.0, 0.0],
    }


def test_many_blocks_get_every_few_labelled() -> None:
    labels = [f"{2022 + i // 12}-{i % 12 + 1:02d}" for i in range(60)]
    axis = block_axis(labels)
    assert axis.categoriesLabels() == labels[::5]
    assert block_axis(labels[:12]).categoriesLabels() == labels[:12]


def test_quarter_blocks_title_the_first_column(qtbot: QtBot, env: Env) -> None:
    quarter = replace(
        DATA.blocks[0], label="2026 Q3", first_month=date(2026, 7, 1), last_month=date(2026, 9, 1)
    )
    env.reports.data = report(quarter, grouping="quarter")
    view = make_view(qtbot, env)
    view.set_grouping("quarter")
    shown(qtbot, view)
    assert headers(view, "summary_blocks_table")[0] == "Quarter"
    assert [row[0] for row in table_text(view, "summary_blocks_table")] == ["2026 Q3"]
    assert view.period_label.text() == "2026-07 to 2026-09, by quarter; all active stations (2)"


def test_clear_forgets_the_figures_and_a_result_still_coming(qtbot: QtBot, env: Env) -> None:
    view = shown(qtbot, make_view(qtbot, env))
    view.clear()
    assert view.data is None
    assert view.model.rowCount() == 0
    assert view.stations_model.rowCount() == 0
    assert view.chart.series_values() == {}
    env.reports.hold = threading.Event()
    view.compute()
    qtbot.waitUntil(lambda: len(env.reports.threads) == 2)
    view.clear()  # locked while computing
    env.reports.hold.set()
    qtbot.waitUntil(lambda: not view.job.busy, timeout=5000)
    assert view.data is None
    assert view.model.rowCount() == 0


# --- outputs -----------------------------------------------------------------------------------
def test_preview_numbers_a_printed_copy_and_previews_the_pdf(qtbot: QtBot, env: Env) -> None:
    view = shown(qtbot, make_view(qtbot, env))
    view.language_combo.setCurrentIndex(view.language_combo.findData("zh_CN"))
    qtbot.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: len(env.seams.dialogs) == 1, timeout=5000)
    assert issued(env) == ["print"]
    assert [(k, n, lang) for k, n, lang, _d in env.writers.written] == [
        ("pdf", "R-000123", "zh_CN")
    ]
    assert env.writers.written[0][3] is DATA
    assert env.writers.threads[0] != threading.get_ident()
    preview = env.seams.dialogs[0]
    assert isinstance(preview, QPrintPreviewDialog)
    assert preview.printer_.docName() == "CareStation report R-000123"  # type: ignore[attr-defined]
    preview.show()
    widget = preview.findChild(QPrintPreviewWidget)
    assert widget is not None
    qtbot.waitUntil(lambda: widget.pageCount() == 3)
    preview.close()
    assert env.seams.asked == []  # nothing saved
    assert list(env.temp.iterdir()) == []


@pytest.mark.parametrize(
    ("output", "button", "suffix"),
    [
        ("pdf", "save_pdf_button", ".pdf"),
        ("csv", "csv_button", ".csv"),
        ("xlsx", "xlsx_button", ".xlsx"),
    ],
)
def test_each_export_is_numbered_and_written_only_where_chosen(
    qtbot: QtBot, env: Env, tmp_path: Path, output: str, button: str, suffix: str
) -> None:
    folder = tmp_path / "chosen"
    folder.mkdir()
    env.seams.answer = str(folder / "for the union")  # no suffix typed
    view = shown(qtbot, make_view(qtbot, env))
    qtbot.mouseClick(getattr(view, button), Qt.MouseButton.LeftButton)
    target = folder / f"for the union{suffix}"
    qtbot.waitUntil(lambda: view.saved_path == target, timeout=5000)
    assert env.seams.asked == [(f"CareStation summary 2026-09_2026-10{suffix}", output)]
    assert issued(env) == [output]
    assert [(k, n, lang) for k, n, lang, _d in env.writers.written] == [(output, "R-000123", "en")]
    assert [p.name for p in folder.iterdir()] == [target.name]
    content = target.read_bytes()
    assert b"R-000123" in content or content.startswith(b"%PDF")
    assert env.prompter.shown == [
        ("info", "Report saved", f"Report R-000123 was saved to {target}.")
    ]
    assert list(env.temp.iterdir()) == []


def test_each_copy_gets_its_own_number(qtbot: QtBot, env: Env, tmp_path: Path) -> None:
    env.seams.answer = str(tmp_path / "figures.csv")
    view = shown(qtbot, make_view(qtbot, env))
    view.export("csv")
    qtbot.waitUntil(lambda: not view.job.busy, timeout=5000)
    view.export("csv")
    qtbot.waitUntil(lambda: not view.job.busy, timeout=5000)
    assert [n for _k, n, _l, _d in env.writers.written] == ["R-000123", "R-000124"]
    assert (tmp_path / "figures.csv").read_text().splitlines()[1] == "R-000124,2026-09"


def test_a_cancelled_save_numbers_nothing(qtbot: QtBot, env: Env) -> None:
    view = shown(qtbot, make_view(qtbot, env))
    assert view.export("xlsx") is False
    assert env.seams.asked == [("CareStation summary 2026-09_2026-10.xlsx", "xlsx")]
    assert issued(env) == []
    assert env.writers.written == []


def test_a_refused_number_is_explained_and_nothing_is_written(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    env.reports.refuse_issue = PermissionDenied("You may not print the summary report.")
    env.seams.answer = str(tmp_path / "r.pdf")
    view = shown(qtbot, make_view(qtbot, env))
    assert view.preview() is False
    assert view.export("pdf") is False
    assert (
        env.prompter.shown
        == [("error", "The report could not be prepared", "You may not print the summary report.")]
        * 2
    )
    assert env.writers.written == []
    assert list(tmp_path.glob("*.pdf")) == []


def test_saving_to_a_missing_folder_says_so_and_leaves_nothing(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    env.seams.answer = str(tmp_path / "missing" / "r.csv")
    view = shown(qtbot, make_view(qtbot, env))
    view.export("csv")
    qtbot.waitUntil(lambda: bool(env.prompter.shown), timeout=5000)
    kind, title, text = env.prompter.shown[0]
    assert (kind, title) == ("error", "The summary report failed")
    assert text.startswith(f"The file could not be saved to {tmp_path / 'missing' / 'r.csv'}:")
    assert view.saved_path is None
    assert not (tmp_path / "missing").exists()


def test_a_failing_writer_leaves_an_existing_file_untouched(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    target = tmp_path / "figures.xlsx"
    target.write_bytes(b"before")
    env.seams.answer = str(target)
    env.writers.fail = RuntimeError("boom")
    view = shown(qtbot, make_view(qtbot, env))
    view.export("xlsx")
    qtbot.waitUntil(lambda: bool(env.prompter.shown), timeout=5000)
    assert env.prompter.shown[0][1] == "The summary report failed"
    assert target.read_bytes() == b"before"
    assert [p.name for p in tmp_path.iterdir() if p.name != "system-temp"] == ["figures.xlsx"]


# --- the threshold -----------------------------------------------------------------------------
def test_the_admin_sets_the_threshold_and_old_figures_are_dropped(qtbot: QtBot, env: Env) -> None:
    view = shown(qtbot, make_view(qtbot, env, ADMIN))
    assert view.threshold is not None
    assert view.threshold.isVisible()
    assert view.threshold.spin.value() == 10
    view.threshold.spin.setValue(12)
    qtbot.mouseClick(view.threshold.save_button, Qt.MouseButton.LeftButton)
    assert ("set_suppression_k", {"k": 12}) in env.reports.calls
    assert env.prompter.shown == [
        ("info", "Threshold saved", "Reports now hide numbers of people below 12.")
    ]
    assert view.data is None  # figures under the old threshold are not exported
    assert not view.csv_button.isEnabled()
    assert view.k_label.text().startswith(
        "Numbers of people from 1 to 11 are shown as \u201c<12\u201d"
    )


def test_a_threshold_the_service_refuses_is_explained(qtbot: QtBot, env: Env) -> None:
    message = (
        "Numbers of people below the threshold are hidden; it must be a whole number from 5 to "
        "100 (never below 5)."
    )
    env.reports.refuse_k = ValidationError({"k": message})
    view = make_view(qtbot, env, ADMIN)
    assert view.threshold is not None
    view.threshold.spin.setValue(3)
    view.threshold.save_button.click()
    assert env.prompter.shown == [("error", "The threshold was not saved", message)]
    assert env.reports.k == K


def test_a_manager_cannot_save_a_threshold(qtbot: QtBot, env: Env) -> None:
    view = make_view(qtbot, env)
    assert view.save_threshold(12) is None
    assert [c for c in env.reports.calls if c[0] == "set_suppression_k"] == []


# --- with the real service and writers -------------------------------------------------------
@pytest.fixture
def crafted(sqlite_services: Services) -> tuple[Services, Actor, list[str]]:
    """Two stations; at one, 12 clients came in September 2026 (and one was flagged)."""
    from sqlalchemy import select

    from carestation.db import models as m
    from tests.factories import build_world
    from tests.unit.summary_data import add_appointment, add_clients, add_flag, local

    world = build_world(sqlite_services)
    ids = add_clients(sqlite_services, 12, created=local(2026, 8, 1), station_id=world.station_id)
    for n, client in enumerate(ids):
        add_appointment(
            sqlite_services,
            station_id=world.station_id,
            client_id=client,
            starts=local(2026, 9, 1 + n),
        )
    add_flag(
        sqlite_services, station_id=world.station_id, client_id=ids[0], raised=local(2026, 9, 3)
    )
    with sqlite_services.db.read() as session:
        codes = list(session.scalars(select(m.Client.client_code).where(m.Client.id.in_(ids))))
    return sqlite_services, world.manager, codes


def _all_text(view: SummaryReportView) -> str:
    parts = [label.text() for label in view.findChildren(QLabel)]
    for name in ("summary_blocks_table", "summary_stations_table"):
        parts += [cell for row in table_text(view, name) for cell in row]
        parts += headers(view, name)
    for i in range(view.block_combo.count()):
        parts.append(view.block_combo.itemText(i))
    return "\n".join(parts)


def test_real_figures_show_no_client_code_and_export_with_the_real_writer(
    qtbot: QtBot, env: Env, crafted: tuple[Services, Actor, list[str]], tmp_path: Path
) -> None:
    services, manager, codes = crafted
    view = SummaryReportView(
        services.summary_report,
        manager,
        env.prompter,
        stations=services.admin,
        today=lambda: TODAY,
        choose_path=env.seams.choose,
        show_dialog=env.seams.show,
    )
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    view.set_period(date(2026, 9, 1), date(2026, 9, 1))
    shown(qtbot, view)
    assert env.prompter.shown == []
    rows = table_text(view, "summary_blocks_table")
    assert rows[0][:3] == ["2026-09", "12", "12"]
    assert rows[0][8] == "12"  # 12 first sessions: shown
    assert rows[0][10] == "<10"  # one person flagged: hidden
    stations = {row[0]: row for row in table_text(view, "summary_stations_table")}
    assert stations["店口镇服务站"][1] == "0"
    text = _all_text(view)
    for code in codes:
        assert code not in text
    assert "测试" not in text  # the crafted clients' name

    env.seams.answer = str(tmp_path / "figures")
    view.export("csv")
    qtbot.waitUntil(lambda: view.saved_path is not None, timeout=10000)
    content = (tmp_path / "figures.csv").read_text(encoding="utf-8-sig")
    table = list(csv.reader(io.StringIO(content)))
    assert len(table) > 1
    assert "R-000001" in content
    for code in codes:
        assert code not in content
    assert "测试" not in content
    for output, number in (("pdf", "R-000002"), ("xlsx", "R-000003")):
        view.saved_path = None
        env.seams.answer = str(tmp_path / "figures")
        view.export(output)  # type: ignore[arg-type]
        qtbot.waitUntil(lambda: view.saved_path is not None, timeout=20000)
        assert env.prompter.shown[-1][2].startswith(f"Report {number} was saved to ")
    pdf = QPdfDocument()
    assert pdf.load(str(tmp_path / "figures.pdf")) == QPdfDocument.Error.None_
    assert pdf.metaData(QPdfDocument.MetaDataField.Title) == "CareStation report R-000002"
    workbook = load_workbook(tmp_path / "figures.xlsx")
    cells = [
        str(c) for ws in workbook.worksheets for row in ws.iter_rows(values_only=True) for c in row
    ]
    assert "R-000003" in "\n".join(cells)
    for code in codes:
        assert not [c for c in cells if code in c]
    with services.db.read() as session:
        from sqlalchemy import select

        from carestation.db import models as m

        details = list(
            session.scalars(
                select(m.AuditEvent.detail).where(m.AuditEvent.object_type == "summary_report")
            )
        )
    assert [d.split(";")[0] for d in details] == ["csv", "pdf", "xlsx"]


def test_the_models_pass_the_model_tester(qtbot: QtBot, env: Env, qtmodeltester: object) -> None:
    view = shown(qtbot, make_view(qtbot, env))
    qtmodeltester.check(view.model)  # type: ignore[attr-defined]
    qtmodeltester.check(view.stations_model)  # type: ignore[attr-defined]
    assert view.model.index(0, 0, QModelIndex()).data() == "2026-09"
