"""Preview, print and save a PDF held in memory (a reportlab report): never through a temp file.

The PDF bytes are opened with QtPdf from a QBuffer; each page is rendered to an image at the
printer's resolution and painted onto the QPrinter, so the same code serves the print preview,
a real printer and Qt's "print to PDF". Saving writes the bytes unchanged (their metadata is
the writer's) only where the user chose. Writing the PDF itself runs in a worker thread.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QBuffer,
    QByteArray,
    QIODevice,
    QObject,
    QRectF,
    QRunnable,
    QSize,
    QSizeF,
    QStandardPaths,
    Qt,
    QThreadPool,
    Signal,
)
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPaintEngine, QPainter
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPrintSupport import (
    QAbstractPrintDialog,
    QPrintDialog,
    QPrinter,
    QPrintPreviewDialog,
)
from PySide6.QtWidgets import QDialog, QFileDialog, QHBoxLayout, QLabel, QProgressBar, QWidget

from carestation.domain.errors import CareStationError
from carestation.i18n import _
from carestation.reports import write_atomically
from carestation.ui.prompts import Prompter

log = logging.getLogger(__name__)

CREATOR = "CareStation"
POINTS_PER_INCH = 72.0
# A page image at 1200 dpi (Qt's PDF printer) would take over 500 MB; 300 dpi prints text and
# charts crisply. The preview keeps every page as a picture, so it gets screen quality.
PRINT_DPI_LIMIT = 300
PREVIEW_DPI = 150

ChooseSavePath = Callable[[str], str | None]  # suggested file name -> chosen path or None
ChoosePrinter = Callable[[QPrinter, int], bool]  # (printer, page count) -> go ahead?
ShowDialog = Callable[[QDialog], Any]  # runs a modal dialog; tests look at it instead


class PrintFailed(CareStationError):
    """The PDF could not be read, printed or saved."""


def report_doc_name(report_number: str) -> str:
    """The print job's name: the same neutral text as the PDF's title, never a person's name
    (spoolers log job names)."""
    return f"CareStation report {report_number}"


def report_file_name(report_number: str) -> str:
    return f"CareStation {report_number}.pdf"


def run_modal(dialog: QDialog) -> int:
    """The default ShowDialog: runs the dialog, then lets it go."""
    try:
        return dialog.exec()
    finally:
        dialog.deleteLater()


# --- the PDF in memory -----------------------------------------------------------------------
class PdfInMemory(QObject):
    """A PDF opened from bytes through a QBuffer: nothing is written anywhere."""

    def __init__(self, data: bytes, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.data = data
        # QPdfDocument reads from the device as it needs, so the buffer lives as long as it.
        self._buffer = QBuffer(self)
        self._buffer.setData(QByteArray(data))
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)
        if self.document.status() != QPdfDocument.Status.Ready or self.page_count < 1:
            raise PrintFailed(_("The report could not be opened for printing."))

    @property
    def page_count(self) -> int:
        return self.document.pageCount()

    def page_points(self, page: int) -> QSizeF:
        return self.document.pagePointSize(page)

    def title(self) -> str:
        return str(self.document.metaData(QPdfDocument.MetaDataField.Title) or "")


def page_size_of(pdf: PdfInMemory) -> tuple[QPageSize, QPageLayout.Orientation]:
    """The first page's paper (A4 recognised as A4, so printers pick the right tray)."""
    points = pdf.page_points(0)
    portrait = QSizeF(min(points.width(), points.height()), max(points.width(), points.height()))
    size = QPageSize(portrait, QPageSize.Unit.Point, "", QPageSize.SizeMatchPolicy.FuzzyMatch)
    landscape = points.width() > points.height()
    orientation = (
        QPageLayout.Orientation.Landscape if landscape else QPageLayout.Orientation.Portrait
    )
    return size, orientation


def make_pdf_printer(pdf: PdfInMemory, doc_name: str) -> QPrinter:
    """A printer set to the PDF's paper and orientation, printing the whole sheet (the PDF has
    its own margins), whose job carries only the neutral `doc_name`."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(doc_name)
    printer.setCreator(CREATOR)
    size, orientation = page_size_of(pdf)
    printer.setPageSize(size)
    printer.setPageOrientation(orientation)
    printer.setFullPage(True)
    printer.setPrintRange(QPrinter.PrintRange.AllPages)
    return printer


def pages_to_print(printer: QPrinter, page_count: int) -> list[int]:
    """0-based page indexes the printer asks for: all, a range, or the user's page list."""
    pages: list[int] = list(range(page_count))
    if printer.printRange() == QPrinter.PrintRange.PageRange:
        ranges = printer.pageRanges()
        if not ranges.isEmpty():
            pages = [p for p in pages if ranges.contains(p + 1)]
        elif printer.fromPage() > 0:
            last = printer.toPage() or page_count
            pages = [p for p in pages if printer.fromPage() <= p + 1 <= last]
    if printer.pageOrder() == QPrinter.PageOrder.LastPageFirst:
        pages.reverse()
    return pages


def _render_dpi(printer: QPrinter) -> int:
    engine = printer.paintEngine()
    previewing = engine is not None and engine.type() == QPaintEngine.Type.Picture
    limit = PREVIEW_DPI if previewing else PRINT_DPI_LIMIT
    return max(72, min(printer.resolution(), limit))


def _on_white(rendered: QImage) -> QImage:
    """QtPdf leaves the paper transparent; printed as is, every page would carry a soft mask."""
    if rendered.isNull():
        raise PrintFailed(_("A page of the report could not be drawn."))
    page = QImage(rendered.size(), QImage.Format.Format_RGB32)
    page.fill(Qt.GlobalColor.white)
    painter = QPainter(page)
    painter.drawImage(0, 0, rendered)
    painter.end()
    return page


def paint_pdf(pdf: PdfInMemory, printer: QPrinter) -> int:
    """Paints the pages the printer asks for, one sheet each; returns how many were painted.
    Each page keeps its proportions, centred on the sheet; raises PrintFailed."""
    pages = pages_to_print(printer, pdf.page_count)
    if not pages:
        raise PrintFailed(_("The chosen pages are not in this report."))
    dpi = _render_dpi(printer)
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintFailed(_("The report could not be printed."))
    try:
        sheet = printer.pageRect(QPrinter.Unit.DevicePixel)
        for n, page in enumerate(pages):
            if n and not printer.newPage():
                raise PrintFailed(_("The printer stopped before the last page."))
            points = pdf.page_points(page)
            pixels = QSize(
                round(points.width() * dpi / POINTS_PER_INCH),
                round(points.height() * dpi / POINTS_PER_INCH),
            )
            image = _on_white(pdf.document.render(page, pixels))
            scale = min(sheet.width() / points.width(), sheet.height() / points.height())
            width, height = points.width() * scale, points.height() * scale
            target = QRectF(
                (sheet.width() - width) / 2, (sheet.height() - height) / 2, width, height
            )
            painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            painter.drawImage(target, image)
    finally:
        painter.end()
    return len(pages)


# --- preview, print, save --------------------------------------------------------------------
def pdf_preview_dialog(
    parent: QWidget | None, data: bytes, doc_name: str, prompter: Prompter
) -> QPrintPreviewDialog:
    """The print preview of `data` (the user prints from it); built apart from exec() so tests
    can drive it. Raises PrintFailed when the bytes are not a PDF."""
    pdf = PdfInMemory(data)
    printer = make_pdf_printer(pdf, doc_name)
    dialog = QPrintPreviewDialog(printer, parent)
    pdf.setParent(dialog)
    dialog.setObjectName("report_preview")
    dialog.setWindowTitle(_("Print preview"))
    dialog.printer_ = printer  # type: ignore[attr-defined]  # the dialog does not own it
    dialog.pdf_ = pdf  # type: ignore[attr-defined]

    def paint(target: QPrinter) -> None:
        try:
            paint_pdf(pdf, target)
        except PrintFailed as exc:
            prompter.error(dialog, _("Printing failed"), str(exc))

    dialog.paintRequested.connect(paint)
    return dialog


def ask_printer(parent: QWidget | None) -> ChoosePrinter:
    """Qt's print dialog, with only what applies to a finished PDF (all pages or a range)."""

    def choose(printer: QPrinter, pages: int) -> bool:
        dialog = QPrintDialog(printer, parent)
        dialog.setWindowTitle(_("Print"))
        dialog.setMinMax(1, pages)
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintSelection, False)
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintCurrentPage, False)
        dialog.setOption(QAbstractPrintDialog.PrintDialogOption.PrintPageRange, True)
        accepted = dialog.exec() == QDialog.DialogCode.Accepted
        dialog.deleteLater()
        return accepted

    return choose


def print_pdf(
    parent: QWidget | None,
    data: bytes,
    doc_name: str,
    prompter: Prompter,
    *,
    choose_printer: ChoosePrinter | None = None,
) -> int:
    """Prints straight away after the print dialog; returns the pages sent (0: cancelled or
    failed, and the user has been told why)."""
    try:
        pdf = PdfInMemory(data)
    except PrintFailed as exc:
        prompter.error(parent, _("Printing failed"), str(exc))
        return 0
    try:
        printer = make_pdf_printer(pdf, doc_name)
        if not (choose_printer or ask_printer(parent))(printer, pdf.page_count):
            return 0
        return paint_pdf(pdf, printer)
    except PrintFailed as exc:
        prompter.error(parent, _("Printing failed"), str(exc))
        return 0
    finally:
        pdf.deleteLater()


def ask_save_path(parent: QWidget | None) -> ChooseSavePath:
    """The save dialog, starting in Documents with the suggested (neutral) file name."""

    def choose(suggested: str) -> str | None:
        folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
        path, _chosen = QFileDialog.getSaveFileName(
            parent, _("Save as PDF"), str(Path(folder) / suggested), _("PDF files (*.pdf)")
        )
        return path or None

    return choose


def with_pdf_suffix(path: str | Path) -> Path:
    target = Path(path)
    return target if target.suffix.lower() == ".pdf" else target.with_name(target.name + ".pdf")


def write_pdf_file(data: bytes, path: str | Path) -> Path:
    """Writes the bytes to a new file beside `path`, then moves it into place: a failure leaves
    nothing behind and an existing file untouched. Raises PrintFailed."""
    target = Path(path)
    try:
        write_atomically(target, data)
    except OSError as exc:
        raise PrintFailed(
            _("The PDF could not be saved to {path}: {reason}. Choose another folder.").format(
                path=target, reason=exc.strerror or type(exc).__name__
            )
        ) from None
    return target


# --- writing the PDF off the GUI thread ------------------------------------------------------
class _Signals(QObject):
    finished = Signal(object)  # the job's result, or the exception it raised


class _Job(QRunnable):
    def __init__(self, work: Callable[[], object], signals: _Signals) -> None:
        super().__init__()
        self._work, self._signals = work, signals

    def run(self) -> None:
        result: object
        try:
            result = self._work()
        except Exception as exc:  # reported on the GUI thread, never raised in a worker
            result = exc
        with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
            self._signals.finished.emit(result)


class BackgroundJob(QObject):
    """Runs one job at a time (such as writing a PDF) in a worker thread; the outcome comes back
    on the GUI thread through `succeeded(result)` or `failed(exception)`. Jobs must not touch
    widgets."""

    busy_changed = Signal(bool)
    succeeded = Signal(object)
    failed = Signal(object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        # Created first, so destroyed first: its destructor waits for a running job.
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals = _Signals(self)
        self._signals.finished.connect(self._finished)
        self._busy = False
        self._then: Callable[[Any], None] | None = None

    @property
    def busy(self) -> bool:
        return self._busy

    def start(self, work: Callable[[], object], then: Callable[[Any], None] | None = None) -> bool:
        """Runs `work` in the worker; `then(result)` is called on the GUI thread when it
        succeeds. False when a job is already running."""
        if self._busy:
            return False
        self._busy, self._then = True, then
        self.busy_changed.emit(True)
        self._pool.start(_Job(work, self._signals))
        return True

    def wait(self, msecs: int = 30_000) -> bool:
        """Blocks until the worker is idle (closing a window mid-job)."""
        return self._pool.waitForDone(msecs)

    def _finished(self, outcome: object) -> None:
        then, self._then = self._then, None
        self._busy = False
        self.busy_changed.emit(False)
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, CareStationError | OSError):
                log.error("writing a report failed", exc_info=outcome)
            self.failed.emit(outcome)
        else:
            self.succeeded.emit(outcome)
            if then is not None:
                then(outcome)


def failure_text(exc: BaseException) -> str:
    if isinstance(exc, CareStationError):
        return str(exc)
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    return _("An unexpected error occurred ({error}). The details are in the log file.").format(
        error=type(exc).__name__
    )


class BusyIndicator(QWidget):
    """A line of text and a moving bar, shown while a job runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent, objectName="busy_indicator")
        self.label = QLabel(objectName="busy_text")
        self.label.setTextFormat(Qt.TextFormat.PlainText)
        self.bar = QProgressBar(objectName="busy_bar")
        self.bar.setRange(0, 0)
        self.bar.setTextVisible(False)
        self.bar.setMaximumWidth(160)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.bar)
        self.hide()

    def start(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def stop(self) -> None:
        self.hide()
