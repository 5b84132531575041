"""Printed day sheets, appointment slips and reminder lists: A4 documents drawn with Qt."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape
from pathlib import Path

from PySide6.QtCore import QMarginsF, QPointF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QPagedPaintDevice,
    QPageLayout,
    QPageSize,
    QPainter,
    QPen,
    QTextDocument,
    QTextTable,
)
from PySide6.QtPrintSupport import QPrinter, QPrintPreviewDialog
from PySide6.QtWidgets import QWidget

from carestation.domain.booking import Appointment, ReminderRow
from carestation.domain.errors import CareStationError
from carestation.domain.values import Station
from carestation.domain.vocab import AppointmentType, Modality
from carestation.i18n import _, ngettext
from carestation.ui.fonts import register_fonts
from carestation.ui.hours_editor import WEEKDAYS
from carestation.ui.prompts import Prompter

CREATOR = "CareStation"
UNION_HOTLINE = "12351"
BODY_POINTS = 10.0
FOOTER_POINTS = 7.5
MARGINS_MM = QMarginsF(15, 14, 15, 12)

# Qt's rich-text CSS subset: font sizes in points; margins only in px (Qt ignores pt there),
# which Qt scales from 96 dpi to the printer's resolution.
_CSS = """
h1 { font-size: 15pt; font-weight: bold; margin-top: 0px; margin-bottom: 3px; }
h2 { font-size: 12pt; font-weight: bold; margin-top: 14px; margin-bottom: 5px; }
p { margin-top: 0px; margin-bottom: 4px; }
.sub { font-size: 11pt; }
.note { font-size: 8pt; color: #555555; }
.small { font-size: 8pt; color: #444444; }
th { background-color: #e6e6e6; font-weight: bold; text-align: left; }
td.struck { color: #777777; text-decoration: line-through; }
td.label { font-size: 10pt; color: #444444; }
td.value { font-size: 12pt; }
p.slip { font-size: 13pt; font-weight: bold; margin-top: 14px; margin-bottom: 6px; }
p.how { font-size: 11pt; font-weight: bold; margin-top: 16px; }
"""
_GRID = 'width="100%" border="1" cellspacing="0" cellpadding="4" style="border-collapse: collapse; border-color: #999999;"'


class PrintFailed(CareStationError):
    """The printer or PDF file could not be written."""


@dataclass(frozen=True)
class Table:
    """A ruled table whose rows are never split across pages; cells are escaped HTML."""

    headers: tuple[tuple[str, int], ...]  # (title, width in percent of the page)
    rows: tuple[tuple[str, ...], ...]
    cell_class: str = ""

    def html(self, first: int = 0, last: int | None = None, *, new_page: bool = False) -> str:
        head = "".join(f'<th width="{w}%">{_e(t)}</th>' for t, w in self.headers)
        klass = f' class="{self.cell_class}"' if self.cell_class else ""
        body = "".join(
            "<tr>" + "".join(f"<td{klass}>{c}</td>" for c in row) + "</tr>"
            for row in self.rows[first:last]
        )
        brk = ' style="page-break-before: always"' if new_page else ""
        return f"<table {_GRID}{brk}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


Block = str | Table


@dataclass(frozen=True)
class Printable:
    """A document ready to print: HTML blocks and tables, and a line repeated at the foot of
    every page next to the page number."""

    blocks: tuple[Block, ...]
    footer: str = ""
    page_numbers: bool = True

    @property
    def html(self) -> str:
        return _compose(self.blocks, {})[0]

    def document(self) -> QTextDocument:
        """A fresh QTextDocument (each printer lays it out for its own resolution)."""
        return _document(self.html)

    def plain_text(self) -> str:
        return self.document().toPlainText()


def _document(html: str) -> QTextDocument:
    doc = QTextDocument()
    doc.setDefaultFont(print_font(BODY_POINTS))
    doc.setDefaultStyleSheet(_CSS)
    doc.setDocumentMargin(0)
    doc.setHtml(html)
    return doc


def _compose(
    blocks: Sequence[Block], cuts: dict[int, list[int]]
) -> tuple[str, list[tuple[int, int]]]:
    """The HTML with each table cut before the rows in `cuts[block index]`, each piece starting
    a page; and, per table in the result, (block index, its first row)."""
    parts: list[str] = []
    pieces: list[tuple[int, int]] = []
    for index, block in enumerate(blocks):
        if isinstance(block, str):
            parts.append(block)
            continue
        starts = sorted({0, *cuts.get(index, [])})
        ends = [*starts[1:], len(block.rows)]
        for first, last in zip(starts, ends, strict=True):
            if last > first or not block.rows:
                parts.append(block.html(first, last, new_page=first in cuts.get(index, [])))
                pieces.append((index, first))
    return "".join(parts), pieces


def _straddling_row(doc: QTextDocument, page_height: float) -> tuple[int, int] | None:
    """(table number, row) of the first body row that starts on one page and ends on the next."""
    layout = doc.documentLayout()
    tables = [f for f in doc.rootFrame().childFrames() if isinstance(f, QTextTable)]
    for number, table in enumerate(tables):
        for row in range(table.format().headerRowCount(), table.rows()):
            cells = [table.cellAt(row, c) for c in range(table.columns())]
            top = min(
                layout.blockBoundingRect(c.firstCursorPosition().block()).top() for c in cells
            )
            bottom = max(
                layout.blockBoundingRect(c.lastCursorPosition().block()).bottom() for c in cells
            )
            if int(top // page_height) != int((bottom - 1) // page_height):
                return number, row - table.format().headerRowCount()
    return None


def _paginate(printable: Printable, device: QPagedPaintDevice, body: QSizeF) -> QTextDocument:
    """Lays the document out in pages of `body`, moving any table row that would be split by
    a page break to the next page (Qt would split it line by line)."""
    cuts: dict[int, list[int]] = {}
    while True:
        html, pieces = _compose(printable.blocks, cuts)
        doc = _document(html)
        doc.documentLayout().setPaintDevice(device)
        doc.setPageSize(body)
        found = _straddling_row(doc, body.height())
        if found is None:
            return doc
        block_index, first = pieces[found[0]]
        row = first + found[1]
        if row == first and row in cuts.get(block_index, []):
            return doc  # a single row taller than a page: let Qt split it
        cuts.setdefault(block_index, []).append(row)


def print_font(points: float) -> QFont:
    """The app's font for Latin text with the bundled WenQuanYi Micro Hei behind it, so Chinese
    prints as text even on a PC with no Chinese fonts of its own."""
    bundled = register_fonts()
    base = QGuiApplication.font()
    system = [f for f in (base.families() or [base.family()]) if f]
    font = QFont()
    font.setFamilies([*system, *[f for f in bundled if f not in system]])
    font.setPointSizeF(points)
    return font


# --- what goes on the page -----------------------------------------------------------------
def _e(text: object) -> str:
    return escape(str(text))


def long_date(day: date) -> str:
    return _("{date} ({weekday})").format(date=day.isoformat(), weekday=_(WEEKDAYS[day.weekday()]))


def _span(a: Appointment) -> str:
    return f"{a.starts_at:%H:%M}–{a.ends_at:%H:%M}"


def _printed(printed_at: datetime, printed_by: str) -> str:
    return _("Printed {time} by {user}").format(
        time=f"{printed_at:%Y-%m-%d %H:%M}", user=printed_by
    )


def _what(a: Appointment) -> str:
    parts = [_e(a.type.title)]
    if a.type is AppointmentType.LECTURE:
        if a.title:
            parts.append(_e(a.title))
        if a.capacity:
            parts.append(
                _("{registered} of {capacity} places taken").format(
                    registered=a.registered, capacity=a.capacity
                )
            )
    elif a.pod_programme is not None:
        parts.append(_e(a.pod_programme.title))
    return "<br/>".join([parts[0], *[f'<span class="small">{p}</span>' for p in parts[1:]]])


def _who(a: Appointment) -> str:
    if a.client_id is None:
        return "—"
    name = _e(a.client_name) if a.client_name else ""
    code = f'<span class="small">{_e(a.client_code)}</span>'
    return f"{name}<br/>{code}" if name else code


def _place(a: Appointment) -> str:
    if a.modality is not Modality.IN_PERSON:
        return a.modality.title
    return a.address or a.room_name or "—"


def _note(text: str) -> str:
    return f'<p class="note">{_e(text)}</p>'


def day_sheet(
    *,
    heading: str,
    day: date,
    appointments: Sequence[Appointment],
    printed_at: datetime,
    printed_by: str,
    across_stations: bool = False,
) -> Printable:
    """A day by time, cancelled appointments in a section of their own. `heading` names the
    station; or, with `across_stations`, the counsellor whose day it is (the sheet then shows
    each appointment's station instead of its counsellor)."""
    ordered = sorted(appointments, key=lambda a: (a.starts_at, a.id))
    active = [a for a in ordered if a.active]
    cancelled = [a for a in ordered if not a.active]
    third = (_("Station"), 22) if across_stations else (_("Counsellor"), 13)

    def cells(a: Appointment) -> tuple[str, ...]:
        who = a.station_name if across_stations else (a.counsellor_name or "—")
        return (_span(a), _what(a), _who(a), _e(who))

    headers = (
        (_("Time"), 14),
        (_("Type"), 19),
        (_("Client"), 16 if across_stations else 18),
        third,
        (_("Room"), 17 if across_stations else 21),
        (_("Status"), 12 if across_stations else 15),
    )
    counts = ngettext("{n} appointment", "{n} appointments", len(active)).format(n=len(active))
    if cancelled:
        counts += "  ·  " + ngettext("{n} cancelled", "{n} cancelled", len(cancelled)).format(
            n=len(cancelled)
        )
    blocks: list[Block] = [
        "<h1>" + _e(_("Day sheet")) + "</h1>",
        f'<p class="sub"><b>{_e(heading)}</b></p>',
        f'<p class="sub">{_e(long_date(day))}</p>',
        _note(
            _(
                "Confidential: this sheet names the people who use the service. Keep it out of "
                "sight and shred it after use."
            )
        ),
        f"<p>{_e(counts)}</p>",
    ]
    if active:
        rows = tuple((*cells(a), _e(_place(a)), _e(a.status.title)) for a in active)
        blocks.append(Table(headers, rows))
    else:
        blocks.append("<p>" + _e(_("Nothing is booked on this day.")) + "</p>")
    if cancelled:
        blocks.append("<h2>" + _e(_("Cancelled")) + "</h2>")
        reason = (_("Reason"), headers[4][1] + headers[5][1])
        rows = tuple(
            (*cells(a), _e(a.cancel_reason.title if a.cancel_reason else a.status.title))
            for a in cancelled
        )
        blocks.append(Table((*headers[:4], reason), rows, cell_class="struck"))
    return Printable(tuple(blocks), footer=_printed(printed_at, printed_by))


def appointment_slip(
    *, appointment: Appointment, station: Station, cancel_hours: int, printed_at: datetime
) -> Printable:
    """The slip handed to the employee: where and when, with whom, and how to cancel.

    It carries the client code (so the desk can find the booking when they call) but never the
    client's name, phone or topic: a slip is left in pockets and on desks, and whoever finds it
    should not learn who is seeing a counsellor, or why. For the same reason a crisis session
    prints as individual counselling.
    """
    a = appointment
    kind = AppointmentType.COUNSELLING if a.type is AppointmentType.CRISIS else a.type
    what = kind.title
    if a.type is AppointmentType.LECTURE and a.title:
        what = _("{type}: {title}").format(type=what, title=a.title)
    elif a.pod_programme is not None:
        what = _("{type} ({programme})").format(type=what, programme=a.pod_programme.title)
    if a.modality is Modality.VIDEO:
        place = _("By video: the station will send you the link")
    elif a.modality is Modality.PHONE:
        place = _("By phone: your counsellor will call you")
    else:
        place = a.address or a.room_name or station.name
    rows = [
        (_("Date"), long_date(a.starts_at.date())),
        (_("Time"), _span(a)),
        (_("Appointment"), what),
        (_("Place"), place),
    ]
    if a.counsellor_name:
        rows.append((_("Counsellor"), a.counsellor_name))
    if a.client_code:
        rows.append((_("Your code"), a.client_code))
    if station.phone:
        how = ngettext(
            "To cancel or change, please call the station at {phone} at least {hours} hour before.",
            "To cancel or change, please call the station at {phone} at least {hours} hours before.",
            cancel_hours,
        ).format(phone=station.phone, hours=cancel_hours)
    else:
        how = ngettext(
            "To cancel or change, please tell the station at least {hours} hour before.",
            "To cancel or change, please tell the station at least {hours} hours before.",
            cancel_hours,
        ).format(hours=cancel_hours)
    contact = " · ".join(p for p in (station.address, station.phone) if p)
    table_rows = "".join(
        f'<tr><td class="label" width="22%" valign="middle">{_e(k)}</td>'
        f'<td class="value" valign="middle">{_e(v)}</td></tr>'
        for k, v in rows
    )
    hotline = _("Need to talk to someone before then? Call the union hotline {hotline}.").format(
        hotline=UNION_HOTLINE
    )
    printed = _("Printed {time}").format(time=f"{printed_at:%Y-%m-%d %H:%M}")
    inner = "".join(
        [
            f"<h1>{_e(station.name)}</h1>",
            f"<p>{_e(contact)}</p>" if contact else "",
            '<p class="slip">' + _e(_("Appointment slip")) + "</p>",
            f'<table width="100%" cellspacing="0" cellpadding="4">{table_rows}</table>',
            f'<p class="how">{_e(how)}</p>',
            f"<p>{_e(hotline)}</p>",
            _note(printed),
        ]
    )
    # A dashed frame to cut along: the slip takes the top of the A4 page.
    blocks = (
        f'<table width="100%" border="1" cellspacing="0" cellpadding="14" '
        f'style="border-collapse: collapse; border-style: dashed; border-color: #888888;">'
        f"<tr><td>{inner}</td></tr></table>",
    )
    return Printable(blocks, page_numbers=False)


def reminder_list(
    *,
    station_name: str,
    day: date,
    rows: Sequence[ReminderRow],
    printed_at: datetime,
    printed_by: str,
) -> Printable:
    """Who to phone about `day`'s appointments, with a column to tick off each call."""
    headers = (
        (_("Time"), 9),
        (_("Client"), 17),
        (_("Phone"), 16),
        (_("Type"), 17),
        (_("Counsellor"), 12),
        (_("Room"), 17),
        (_("Called"), 12),
    )
    cells = tuple(
        (
            f"{r.starts_at:%H:%M}",
            f'{_e(r.client_name)}<br/><span class="small">{_e(r.client_code)}</span>',
            _e(r.client_phone or "—"),
            _e(r.type.title),
            _e(r.counsellor_name or "—"),
            _e(r.room_name or "—"),
            "",
        )
        for r in sorted(rows, key=lambda r: r.starts_at)
    )
    blocks: tuple[Block, ...] = (
        "<h1>" + _e(_("Reminder calls")) + "</h1>",
        f'<p class="sub"><b>{_e(station_name)}</b></p>',
        '<p class="sub">{}</p>'.format(_e(_("Appointments on {day}").format(day=long_date(day)))),
        _note(
            _(
                "Confidential: names and phone numbers. On the phone say only the time and "
                "place, never why; shred the list after use."
            )
        ),
        Table(headers, cells)
        if cells
        else "<p>" + _e(_("No one to call: nothing is booked on this day.")) + "</p>",
    )
    return Printable(blocks, footer=_printed(printed_at, printed_by))


# --- putting it on paper --------------------------------------------------------------------
def make_printer(doc_name: str) -> QPrinter:
    """An A4 printer whose job (and PDF title) carries only `doc_name`, which must be neutral:
    spoolers log job names and PDF readers show the title."""
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setDocName(doc_name)
    printer.setCreator(CREATOR)
    printer.setPageSize(QPageSize(QPageSize.PageSizeId.A4))
    printer.setPageOrientation(QPageLayout.Orientation.Portrait)
    printer.setPageMargins(MARGINS_MM, QPageLayout.Unit.Millimeter)
    return printer


def render(printable: Printable, printer: QPrinter) -> None:
    """Lays the document out for `printer`'s page and paints it page by page, with the footer
    and page number at the bottom of each."""
    page = printer.pageRect(QPrinter.Unit.DevicePixel)
    footer_font = print_font(FOOTER_POINTS)
    metrics = QFontMetricsF(footer_font, printer)
    footer_height = metrics.height() * 2.2 if printable.footer or printable.page_numbers else 0
    body = QSizeF(page.width(), page.height() - footer_height)
    doc = _paginate(printable, printer, body)
    pages = doc.pageCount()
    painter = QPainter()
    if not painter.begin(printer):
        raise PrintFailed(_("The document could not be printed or saved."))
    try:
        for index in range(pages):
            if index and not printer.newPage():
                raise PrintFailed(_("The printer stopped before the last page."))
            painter.save()
            painter.translate(0, -index * body.height())
            doc.drawContents(painter, QRectF(0, index * body.height(), body.width(), body.height()))
            painter.restore()
            if footer_height:
                number = _("Page {page} of {pages}").format(page=index + 1, pages=pages)
                _draw_footer(
                    painter,
                    QRectF(0, body.height(), body.width(), footer_height),
                    footer_font,
                    printable.footer,
                    number if printable.page_numbers else "",
                )
    finally:
        painter.end()


def _draw_footer(painter: QPainter, box: QRectF, font: QFont, left: str, right: str) -> None:
    """A hairline across the page, then `left` and `right` beneath it."""
    line_y = box.top() + box.height() * 0.25
    painter.setPen(QPen(QColor("#999999"), 0))
    painter.drawLine(QPointF(box.left(), line_y), QPointF(box.right(), line_y))
    painter.setFont(font)
    painter.setPen(QColor("#444444"))
    text_box = QRectF(box.left(), line_y, box.width(), box.bottom() - line_y)
    vcenter = Qt.AlignmentFlag.AlignVCenter
    painter.drawText(text_box, int(Qt.AlignmentFlag.AlignLeft | vcenter), left)
    painter.drawText(text_box, int(Qt.AlignmentFlag.AlignRight | vcenter), right)


def save_pdf(printable: Printable, path: str | Path, doc_name: str) -> None:
    """Writes the PDF straight to `path` (no temporary copy anywhere); title `doc_name`,
    creator CareStation. Raises PrintFailed when the file cannot be written."""
    target = Path(path)
    printer = make_printer(doc_name)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(target))
    try:
        render(printable, printer)
    except PrintFailed:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)  # a half-written PDF is of no use to anyone
        raise PrintFailed(
            _("The PDF could not be saved to {path}. Choose another folder.").format(path=target)
        ) from None


def preview_dialog(
    parent: QWidget | None, printable: Printable, doc_name: str, prompter: Prompter
) -> QPrintPreviewDialog:
    """The print preview (the user prints from it); built apart from exec() so tests can look."""
    printer = make_printer(doc_name)
    dialog = QPrintPreviewDialog(printer, parent)
    dialog.setWindowTitle(_("Print preview"))
    dialog.printer_ = printer  # type: ignore[attr-defined]  # the dialog does not own it

    def paint(target: QPrinter) -> None:
        try:
            render(printable, target)
        except PrintFailed as exc:
            prompter.error(dialog, _("Printing failed"), str(exc))

    dialog.paintRequested.connect(paint)
    return dialog


def print_document(
    parent: QWidget | None, printable: Printable, doc_name: str, prompter: Prompter
) -> None:
    """Shows the print preview, from which the user prints."""
    dialog = preview_dialog(parent, printable, doc_name, prompter)
    dialog.exec()
    dialog.deleteLater()
