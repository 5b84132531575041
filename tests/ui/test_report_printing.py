"""Previewing, printing and saving a PDF held in memory: real reportlab PDFs, real QtPdf
rendering onto a QPrinter writing to PDF; the pages printed are identified by the black mark
each source page carries; nothing goes through the temp folder."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import io
import tempfile
import threading
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPageLayout
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewWidget
from pytestqt.qtbot import QtBot
from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfgen import canvas

from carestation.ui.prompts import RecordingPrompter
from carestation.ui.report_printing import (
    BackgroundJob,
    PdfInMemory,
    PrintFailed,
    failure_text,
    make_pdf_printer,
    pages_to_print,
    pdf_preview_dialog,
    print_pdf,
    report_doc_name,
    report_file_name,
    with_pdf_suffix,
    write_pdf_file,
)

NAME = report_doc_name("R-000123")
MARK_PT = 60.0  # side of the square that identifies a page
TOP_PT = 80.0


def make_pdf(
    pages: int, *, title: str = NAME, size: tuple[float, float] = A4, text: str = ""
) -> bytes:
    """A real PDF whose page n (1-based) has a black square in column n at the top."""
    out = io.BytesIO()
    c = canvas.Canvas(out, pagesize=size)
    c.setTitle(title)
    c.setAuthor("CareStation")
    _width, height = size
    for n in range(1, pages + 1):
        c.rect(mark_x(n), height - TOP_PT - MARK_PT, MARK_PT, MARK_PT, stroke=0, fill=1)
        c.setFont("Helvetica", 14)
        c.drawString(72, height / 2, f"{text} page {n} of {pages}")
        c.showPage()
    c.save()
    return out.getvalue()


def mark_x(n: int) -> float:
    return 40.0 + (n - 1) * (MARK_PT + 20)


def marks_on(path: Path) -> list[int]:
    """For each page of the PDF at `path`, which column's square is black."""
    doc = QPdfDocument()
    assert doc.load(str(path)) == QPdfDocument.Error.None_
    found = []
    for page in range(doc.pageCount()):
        points = doc.pagePointSize(page)
        scale = 0.5  # 36 dpi is plenty to see a 60 pt square
        image = doc.render(page, (points * scale).toSize())
        y = round((TOP_PT + MARK_PT / 2) * scale)
        dark = [
            n
            for n in range(1, 7)
            if mark_x(n) + MARK_PT < points.width()
            and is_black(image.pixelColor(round((mark_x(n) + MARK_PT / 2) * scale), y))
        ]
        assert len(dark) == 1, (page, dark)
        found.append(dark[0])
    doc.close()
    return found


def is_black(colour: QColor) -> bool:
    """QtPdf leaves unpainted paper transparent (black with alpha 0)."""
    return colour.alpha() > 200 and colour.lightness() < 60


def page_sizes(path: Path) -> list[tuple[int, int]]:
    doc = QPdfDocument()
    doc.load(str(path))
    sizes = [
        (round(doc.pagePointSize(p).width()), round(doc.pagePointSize(p).height()))
        for p in range(doc.pageCount())
    ]
    doc.close()
    return sizes


def pdf_printer_to(printer: QPrinter, path: Path) -> QPrinter:
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(path))
    return printer


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Python's and Qt's temp folder, redirected to an empty folder that must stay empty."""
    folder = tmp_path / "system-temp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    assert tempfile.gettempdir() == str(folder)
    return folder


# --- preview ---------------------------------------------------------------------------------
def test_preview_shows_every_page_and_prints_them_in_order_without_temp_files(
    qtbot: QtBot, tmp_path: Path, temp_dir: Path
) -> None:
    prompter = RecordingPrompter()
    dialog = pdf_preview_dialog(None, make_pdf(3), NAME, prompter)
    qtbot.addWidget(dialog)
    dialog.show()
    preview = dialog.findChild(QPrintPreviewWidget)
    qtbot.waitUntil(lambda: preview.pageCount() == 3)

    out = tmp_path / "printed.pdf"
    dialog.paintRequested.emit(pdf_printer_to(dialog.printer_, out))

    assert marks_on(out) == [1, 2, 3]
    assert page_sizes(out) == [(595, 842)] * 3  # A4 portrait, like the source
    assert dialog.printer_.docName() == "CareStation report R-000123"
    assert dialog.printer_.creator() == "CareStation"
    assert prompter.shown == []
    assert list(temp_dir.iterdir()) == []


def test_preview_keeps_a_landscape_pdf_landscape(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = pdf_preview_dialog(None, make_pdf(2, size=landscape(A4)), NAME, RecordingPrompter())
    qtbot.addWidget(dialog)
    assert dialog.printer_.pageLayout().orientation() == QPageLayout.Orientation.Landscape
    out = tmp_path / "wide.pdf"
    dialog.paintRequested.emit(pdf_printer_to(dialog.printer_, out))
    assert page_sizes(out) == [(842, 595)] * 2
    assert marks_on(out) == [1, 2]


def test_the_printers_page_range_is_respected(qtbot: QtBot, tmp_path: Path) -> None:
    dialog = pdf_preview_dialog(None, make_pdf(4), NAME, RecordingPrompter())
    qtbot.addWidget(dialog)
    printer = pdf_printer_to(dialog.printer_, tmp_path / "range.pdf")
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(2, 3)
    dialog.paintRequested.emit(printer)
    assert marks_on(tmp_path / "range.pdf") == [2, 3]


def test_last_page_first_and_ranges_beyond_the_end(qtbot: QtBot) -> None:
    pdf = PdfInMemory(make_pdf(3))
    printer = make_pdf_printer(pdf, NAME)
    assert pages_to_print(printer, 3) == [0, 1, 2]
    printer.setPageOrder(QPrinter.PageOrder.LastPageFirst)
    assert pages_to_print(printer, 3) == [2, 1, 0]
    printer.setPageOrder(QPrinter.PageOrder.FirstPageFirst)
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(5, 9)
    assert pages_to_print(printer, 3) == []


def test_a_range_with_no_pages_of_the_report_is_refused(qtbot: QtBot, tmp_path: Path) -> None:
    prompter = RecordingPrompter()
    dialog = pdf_preview_dialog(None, make_pdf(2), NAME, prompter)
    qtbot.addWidget(dialog)
    printer = pdf_printer_to(dialog.printer_, tmp_path / "none.pdf")
    printer.setPrintRange(QPrinter.PrintRange.PageRange)
    printer.setFromTo(3, 4)
    dialog.paintRequested.emit(printer)
    assert prompter.shown == [
        ("error", "Printing failed", "The chosen pages are not in this report.")
    ]


def test_bytes_that_are_not_a_pdf_are_refused_plainly(qtbot: QtBot) -> None:
    with pytest.raises(PrintFailed, match="could not be opened"):
        pdf_preview_dialog(None, b"not a pdf", NAME, RecordingPrompter())


# --- printing straight away ------------------------------------------------------------------
def test_print_asks_for_the_printer_then_prints_every_page(
    qtbot: QtBot, tmp_path: Path, temp_dir: Path
) -> None:
    asked: list[tuple[str, int]] = []
    out = tmp_path / "direct.pdf"

    def choose(printer: QPrinter, pages: int) -> bool:
        asked.append((printer.docName(), pages))
        pdf_printer_to(printer, out)
        return True

    prompter = RecordingPrompter()
    assert print_pdf(None, make_pdf(2), NAME, prompter, choose_printer=choose) == 2
    assert asked == [("CareStation report R-000123", 2)]
    assert marks_on(out) == [1, 2]
    assert prompter.shown == []
    assert list(temp_dir.iterdir()) == []


def test_cancelled_print_prints_nothing(qtbot: QtBot, tmp_path: Path) -> None:
    prompter = RecordingPrompter()
    assert print_pdf(None, make_pdf(2), NAME, prompter, choose_printer=lambda p, n: False) == 0
    assert prompter.shown == []


def test_print_of_a_broken_pdf_tells_the_user(qtbot: QtBot) -> None:
    prompter = RecordingPrompter()
    assert (
        print_pdf(None, b"%PDF-1.4 broken", NAME, prompter, choose_printer=lambda p, n: True) == 0
    )
    assert prompter.shown == [
        ("error", "Printing failed", "The report could not be opened for printing.")
    ]


# --- saving ----------------------------------------------------------------------------------
def test_save_writes_the_bytes_unchanged_and_leaves_nothing_else(tmp_path: Path) -> None:
    data = make_pdf(2)
    target = write_pdf_file(data, tmp_path / "CareStation R-000123.pdf")
    assert target.read_bytes() == data  # metadata and all, exactly as written
    assert [p.name for p in tmp_path.iterdir()] == ["CareStation R-000123.pdf"]
    doc = QPdfDocument()
    doc.load(str(target))
    assert doc.metaData(QPdfDocument.MetaDataField.Title) == "CareStation report R-000123"
    doc.close()


def test_a_failed_save_keeps_the_old_file_and_removes_the_part(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.pdf"
    target.write_bytes(b"the old one")

    def refuse(src: str, dst: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PrintFailed) as caught:
        write_pdf_file(make_pdf(1), target)
    assert str(caught.value) == (
        f"The PDF could not be saved to {target}: Permission denied. Choose another folder."
    )
    assert target.read_bytes() == b"the old one"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_save_into_a_missing_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PrintFailed, match="No such file or directory"):
        write_pdf_file(make_pdf(1), tmp_path / "gone" / "report.pdf")
    assert list(tmp_path.iterdir()) == []


def test_neutral_names() -> None:
    assert report_doc_name("R-000123") == "CareStation report R-000123"
    assert report_file_name("R-000123") == "CareStation R-000123.pdf"
    assert with_pdf_suffix("/x/report") == Path("/x/report.pdf")
    assert with_pdf_suffix("/x/report.PDF") == Path("/x/report.PDF")


# --- the worker ------------------------------------------------------------------------------
def test_background_job_runs_off_the_gui_thread_and_reports_back(qtbot: QtBot) -> None:
    job = BackgroundJob()
    ran_in: list[int] = []
    got: list[object] = []

    def work() -> str:
        ran_in.append(threading.get_ident())
        return "done"

    with qtbot.waitSignal(job.succeeded, timeout=5000) as signal:
        assert job.start(work, got.append)
        assert job.busy
        assert not job.start(work)  # one at a time
    assert signal.args == ["done"]
    assert got == ["done"]
    assert ran_in
    assert ran_in[0] != threading.get_ident()
    assert not job.busy


def test_background_job_reports_failures(qtbot: QtBot) -> None:
    job = BackgroundJob()

    def work() -> None:
        raise PrintFailed("The report could not be written.")

    with qtbot.waitSignal(job.failed, timeout=5000) as signal:
        job.start(work)
    assert failure_text(signal.args[0]) == "The report could not be written."
    assert failure_text(OSError(28, "No space left on device")) == "No space left on device"
    assert failure_text(KeyError("x")) == (
        "An unexpected error occurred (KeyError). The details are in the log file."
    )
