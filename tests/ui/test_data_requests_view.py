"""The administrator's screen for the person's rights (find, export, erase) and retention,
driven as a user would, on a real SQLite file with a client who has data of every kind."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QLineEdit, QTableView, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select, update

from carestation.db import models as m
from carestation.domain.rights import PurgeReport, StationPurge
from carestation.domain.values import StationInput
from carestation.services.container import Services
from carestation.ui.printing import Printable
from carestation.ui.prompts import RecordingPrompter
from carestation.ui.views.data_requests_view import (
    DataRequestsView,
    EraseDialog,
    export_document,
    purge_summary,
)
from tests.conftest import FakeClock
from tests.factories import HOURS
from tests.ui.typing import type_text
from tests.unit.test_client_rights import NOTE_TEXT, OTHER_NAME, Seeded, seed

NAME, CODE, PHONE = "张三", "ABCD-EFGH-1", "13800000000"
STATION = "暨阳街道职工情绪管理服务站"
HAVE_POPPLER = shutil.which("pdftotext") is not None and shutil.which("pdfinfo") is not None


@dataclass
class Env:
    services: Services
    clock: FakeClock
    seeded: Seeded
    view: DataRequestsView
    prompter: RecordingPrompter = field(default_factory=RecordingPrompter)


@pytest.fixture
def env(qtbot: QtBot, sqlite_services: Services, clock: FakeClock) -> Env:
    seeded = seed(sqlite_services, clock)
    world = seeded.world
    sqlite_services.admin.update_station(
        actor=world.admin,
        station_id=world.station_id,
        data=StationInput(name=STATION, phone="0575-87001234", hours=HOURS),
    )
    prompter = RecordingPrompter()
    view = DataRequestsView(sqlite_services, world.admin, prompter)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    view.refresh()
    return Env(sqlite_services, clock, seeded, view, prompter)


def search(qtbot: QtBot, view: DataRequestsView, text: str) -> list[str]:
    view.search_edit.clear()
    type_text(qtbot, view.search_edit, text)
    qtbot.mouseClick(view.find_button, Qt.MouseButton.LeftButton)
    model = view.panel.model
    return [model.row_value(r).client_code for r in range(model.rowCount())]


def cell(table: QTableView, row: int, column: int) -> str:
    return str(table.model().index(row, column).data())


def error_text(widget: QWidget, key: str) -> str:
    label = widget.findChild(QLabel, f"error_{key}")
    assert label is not None, key
    return label.text() if label.isVisibleTo(widget) else ""


def pdf_text(path: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def pdf_info(path: Path) -> dict[str, str]:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return {
        k.strip(): v.strip() for k, _sep, v in (line.partition(":") for line in out.splitlines())
    }


def audit_actions(services: Services) -> list[tuple[str, str, str]]:
    with services.db.read() as session:
        return [
            (e.action, e.object_ref, e.detail)
            for e in session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id))
        ]


# --- finding the person -------------------------------------------------------------------------
def test_nothing_is_listed_until_a_search_then_a_client_is_found_by_code(
    qtbot: QtBot, env: Env
) -> None:
    view = env.view
    assert view.panel.model.rowCount() == 0
    assert not view.export_button.isEnabled()
    assert not view.erase_button.isEnabled()

    assert search(qtbot, view, "abcd efgh 1") == [CODE]
    table = view.panel.table
    assert cell(table, 0, 1) == NAME
    assert cell(table, 0, 2) == "138****0000"  # the phone is masked on screen
    assert PHONE not in [cell(table, 0, c) for c in range(table.model().columnCount())]
    # A single match is selected, ready for export or erasure.
    assert view.export_button.isEnabled()
    assert view.erase_button.isEnabled()
    assert "1 record found" in view.message_label.text()

    assert search(qtbot, view, PHONE) == [CODE]
    assert search(qtbot, view, NAME) == [CODE]
    assert search(qtbot, view, "张") == []  # exact matches only: no browsing
    assert "No record matches" in view.message_label.text()
    assert not view.export_button.isEnabled()
    # The search is audited, without what was typed.
    finds = [a for a in audit_actions(env.services) if a[0] == "find_client_for_request"]
    assert len(finds) == 4
    assert all(NAME not in f"{ref} {detail}" for _a, ref, detail in finds)


def test_clear_drops_the_results_and_the_search_text(qtbot: QtBot, env: Env) -> None:
    view = env.view
    search(qtbot, view, NAME)
    assert view.panel.model.rowCount() == 1
    view.clear()
    assert view.search_edit.text() == ""
    assert view.panel.model.rowCount() == 0
    assert view.message_label.text() == ""
    # Retention counts hold nothing personal and stay.
    assert view.retention_model.rowCount() == 2


def test_a_failed_pdf_leaves_no_json_behind(
    qtbot: QtBot, env: Env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from carestation.ui.views import data_requests_view

    def fail(*_args: object) -> None:
        raise data_requests_view.PrintFailed("The PDF could not be saved.")

    monkeypatch.setattr(data_requests_view, "save_pdf", fail)
    view = env.view
    search(qtbot, view, CODE)
    folder = tmp_path / "export"
    folder.mkdir()
    view.choose_folder = lambda: str(folder)
    assert view.export() is None
    assert not list(folder.iterdir())
    assert env.prompter.shown[-1][:2] == ("error", "The export was not saved")


def test_clear_closes_an_open_erase_dialog(qtbot: QtBot, env: Env) -> None:
    view = env.view
    search(qtbot, view, CODE)
    dialog = view.erase()
    assert dialog is not None
    assert dialog.isVisible()
    view.clear()
    assert not dialog.isVisible()


def test_inputs_and_tables_have_accessible_names(env: Env) -> None:
    view = env.view
    assert all(e.accessibleName() for e in view.findChildren(QLineEdit) if e.isVisible())
    assert all(t.accessibleName() for t in view.findChildren(QTableView))
    chain = []
    widget: QWidget | None = view.search_edit
    for _step in range(500):
        assert widget is not None
        widget = widget.nextInFocusChain()
        if widget is view.search_edit:
            break
        if widget in (
            view.find_button,
            view.panel.table,
            view.export_button,
            view.erase_button,
            view.retention_table,
            view.check_button,
            view.purge_button,
        ):
            chain.append(widget.objectName())
    assert chain[:7] == [
        "find_button",
        "request_results",
        "export_client",
        "erase_client",
        "retention_table",
        "retention_check",
        "purge_now",
    ]


# --- export -------------------------------------------------------------------------------------
@pytest.mark.skipif(not HAVE_POPPLER, reason="needs pdftotext and pdfinfo (poppler-utils)")
def test_export_writes_json_and_a_readable_pdf_named_by_code(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    view = env.view
    search(qtbot, view, CODE)
    folder = tmp_path / "export"
    folder.mkdir()
    view.choose_folder = lambda: str(folder)
    qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)

    json_path, pdf_path = folder / f"{CODE}-export.json", folder / f"{CODE}-export.pdf"
    assert view.last_export == (json_path, pdf_path)
    assert sorted(p.name for p in folder.iterdir()) == sorted([json_path.name, pdf_path.name])
    assert all(NAME not in p.name for p in folder.iterdir())
    kind, title, text = env.prompter.shown[-1]
    assert (kind, title) == ("info", "Export saved")
    assert str(json_path) in text
    assert str(pdf_path) in text

    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["identity"]["client_code"] == CODE
    assert data["identity"]["name"] == NAME
    assert OTHER_NAME not in json_path.read_text(encoding="utf-8")

    raw = pdf_path.read_bytes()
    assert raw.startswith(b"%PDF")
    info = pdf_info(pdf_path)
    assert info["Title"] == f"CareStation export {CODE}"
    assert info["Creator"] == "CareStation"
    for key in ("Title", "Author", "Subject", "Keywords", "Creator", "Producer"):
        assert NAME not in info.get(key, "")
    for encoding in ("utf-8", "utf-16-be"):
        assert NAME.encode(encoding) not in raw

    text = pdf_text(pdf_path)
    assert "Personal data held by CareStation" in text
    assert STATION in text
    for heading in ("Registered details", "Consents", "Appointments", "Cases", "Session notes"):
        assert heading in text
    assert NAME in text  # it is the person's own copy
    assert "The counsellor who wrote them releases them" in " ".join(text.split())
    assert NOTE_TEXT not in text  # an administrator never gets note contents
    assert OTHER_NAME not in text  # nor who else came to a lecture

    exports = [a for a in audit_actions(env.services) if a[0] == "export_client"]
    assert [(ref, detail) for _a, ref, detail in exports] == [(CODE, "json"), (CODE, "")]


def test_export_asks_before_replacing_files_and_stops_when_cancelled(
    qtbot: QtBot, env: Env, tmp_path: Path
) -> None:
    view = env.view
    search(qtbot, view, CODE)
    folder = tmp_path / "export"
    folder.mkdir()
    view.choose_folder = lambda: None
    assert view.export() is None
    assert not list(folder.iterdir())

    (folder / f"{CODE}-export.json").write_text("old", encoding="utf-8")
    view.choose_folder = lambda: str(folder)
    env.prompter.answer = False
    assert view.export() is None
    assert env.prompter.shown[-1][:2] == ("confirm", "Replace the files?")
    assert (folder / f"{CODE}-export.json").read_text(encoding="utf-8") == "old"
    env.prompter.answer = True
    assert view.export() is not None
    assert json.loads((folder / f"{CODE}-export.json").read_text(encoding="utf-8"))


def test_export_document_has_each_section_as_a_heading_and_a_table(env: Env) -> None:
    export = env.services.rights.export(env.seeded.world.admin, env.seeded.world.client_id)
    printable = export_document(export, station_name=STATION)
    assert isinstance(printable, Printable)
    text = printable.plain_text()
    for section in export.sections():
        assert section.title in text
    assert "Information given to others" in text
    assert NAME not in printable.footer
    assert CODE in printable.footer


# --- erasure ------------------------------------------------------------------------------------
def test_erase_needs_the_reference_and_the_typed_code_then_erases(qtbot: QtBot, env: Env) -> None:
    view = env.view
    search(qtbot, view, NAME)
    qtbot.mouseClick(view.erase_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(EraseDialog)
    assert dialog is not None
    assert dialog.isVisible()
    label = dialog.findChild(QLabel, "erase_explanation")
    assert label is not None
    explanation = label.text()
    for words in ("session notes", "data key", "recovery code", "Kept, without identity"):
        assert words in explanation

    # Nothing typed: both fields complain and nothing is erased.
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "reference" in error_text(dialog, "request_ref")
    assert "client code" in error_text(dialog, "confirm_code")

    # A reference, but the wrong code.
    type_text(qtbot, dialog.ref_edit, "2026-REQ-07")
    type_text(qtbot, dialog.code_edit, "ABCD-EFGH-2")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert error_text(dialog, "request_ref") == ""
    assert "client code" in error_text(dialog, "confirm_code")

    # The right code but an empty reference.
    dialog.ref_edit.clear()
    dialog.code_edit.clear()
    type_text(qtbot, dialog.code_edit, "abcd efgh 1")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "reference" in error_text(dialog, "request_ref")
    assert env.services.rights.find_for_request(env.seeded.world.admin, NAME) != []

    # A reference naming the person is refused by the service, beside its field.
    type_text(qtbot, dialog.ref_edit, f"{NAME} 的申请")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible()
    assert "must not contain" in error_text(dialog, "request_ref")

    dialog.ref_edit.clear()
    type_text(qtbot, dialog.ref_edit, "2026-REQ-07")
    qtbot.mouseClick(dialog.ok_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible())

    report = view.last_erasure
    assert report is not None
    assert (report.notes, report.cases_kept) == (1, 1)
    assert report.keys >= 1
    kind, title, text = env.prompter.shown[-1]
    assert (kind, title) == ("info", "Erased")
    assert "Session notes deleted: 1" in text
    assert "Cases kept without identity: 1" in text
    assert view.panel.model.rowCount() == 0
    assert CODE in view.message_label.text()
    assert search(qtbot, view, NAME) == []
    assert search(qtbot, view, CODE) == []
    erasures = [a for a in audit_actions(env.services) if a[0] == "erase_client"]
    assert [ref for _a, ref, _d in erasures] == [CODE]
    assert "2026-REQ-07" in erasures[0][2]


def test_cancelling_the_erase_dialog_erases_nothing(qtbot: QtBot, env: Env) -> None:
    view = env.view
    search(qtbot, view, CODE)
    dialog = view.erase()
    assert dialog is not None
    dialog.reject()
    assert view.panel.model.rowCount() == 1
    assert env.services.rights.find_for_request(env.seeded.world.admin, CODE) != []


# --- retention ----------------------------------------------------------------------------------
def test_retention_preview_shows_counts_and_purge_now_deletes_them(qtbot: QtBot, env: Env) -> None:
    view = env.view
    # Nothing has expired under the default ten years.
    assert view.retention_model.rowCount() == 2
    assert view.retention_label.text() == "Nothing would be purged now."
    assert not view.purge_button.isEnabled()

    with env.services.db.write() as session:
        session.execute(update(m.Station).values(retention_months=1))
    env.clock.current = datetime(2027, 1, 15, 2, 0, tzinfo=UTC)
    qtbot.mouseClick(view.check_button, Qt.MouseButton.LeftButton)
    table = view.retention_table
    headers = [
        str(table.model().headerData(c, Qt.Orientation.Horizontal))
        for c in range(table.model().columnCount())
    ]
    row = {headers[c]: cell(table, 0, c) for c in range(len(headers))}
    assert row["Station"] == STATION
    assert row["Kept for"] == "1 month"
    assert row["Cases"] == "1"
    assert row["Session notes"] == "1"
    assert row["Addenda"] == "1"
    assert row["Summaries"] == "1"
    assert row["Crisis texts"] == "1"
    assert row["Follow-up notes"] == "1"
    assert "would delete 5 texts" in view.retention_label.text()
    assert view.purge_button.isEnabled()

    env.prompter.answer = False
    qtbot.mouseClick(view.purge_button, Qt.MouseButton.LeftButton)
    assert env.prompter.shown[-1][0] == "confirm"
    assert cell(table, 0, headers.index("Session notes")) == "1"

    env.prompter.answer = True
    qtbot.mouseClick(view.purge_button, Qt.MouseButton.LeftButton)
    kind, title, text = env.prompter.shown[-1]
    assert (kind, title) == ("info", "Purge done")
    assert text == "Deleted 5 texts, from 1 closed case."
    assert cell(table, 0, headers.index("Session notes")) == "0"
    assert view.retention_label.text() == "Nothing would be purged now."
    assert not view.purge_button.isEnabled()
    purges = [a for a in audit_actions(env.services) if a[0] == "purge_expired"]
    assert len(purges) == 1
    assert NAME not in purges[0][2]
    assert CODE not in purges[0][2]


def test_purge_summary_wording() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    one = PurgeReport(when, True, (StationPurge(1, "A", 12, when, cases=1, notes=1),))
    assert purge_summary(one, done=False) == "Purging now would delete 1 text, from 1 closed case."
    assert purge_summary(one, done=True) == "Deleted 1 text, from 1 closed case."
    assert purge_summary(PurgeReport(when, True, ()), done=False) == "Nothing would be purged now."
