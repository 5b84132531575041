"""The managers' summary report as a spreadsheet: one long table (a row per figure) for CSV, and
for Excel that table, an "About" sheet and one wide sheet per section for the chosen stations
together. People are printed exactly as the report data shows them (suppressed cells as text)."""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TypeAlias
from zipfile import ZIP_DEFLATED, ZipFile

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.drawing.spreadsheet_drawing import SpreadsheetDrawing
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet._writer import WorksheetWriter
from openpyxl.writer.excel import ExcelWriter

from carestation.assessments import load_instrument
from carestation.domain.assessment_values import BandCount
from carestation.domain.summary_values import (
    BlockFigures,
    ChangeFigures,
    PeopleGroup,
    Rate,
    SummaryReportData,
    Use,
)
from carestation.domain.suppression import HIDDEN_MARK_NOTE, SMALL_MARK_NOTE
from carestation.domain.vocab import RoomKind, Topic
from carestation.reports import CREATOR, Translate, document_language, translator

Number = int | float
NO_RATE = "—"
# A spreadsheet reads a cell starting with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters an XLSX file cannot hold (openpyxl refuses them).
_ILLEGAL_XML = re.compile(r"[\000-\010\013\014\016-\037]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
HEAD_FILL = PatternFill("solid", fgColor="E8EDF2")
HOURS_FORMAT = "0.0"
PERCENT_FORMAT = "0.0%"
MAX_WIDTH = 60


@dataclass(frozen=True)
class _Figure:
    """One figure of a block: what it is, the text to print and, where a full number is
    printed, that number (for Excel)."""

    section: str
    measure: str
    category: str
    shown: str
    unit: str
    number: Number | None = None
    number_format: str = "0"


@dataclass(frozen=True)
class _Row:
    block: str
    station: str
    is_selection: bool
    figure: _Figure

    def texts(self) -> list[str]:
        f = self.figure
        return [self.block, self.station, f.section, f.measure, f.category, f.shown, f.unit]


# --------------------------------------------------------------------------- figures


def _count(section: str, measure: str, category: str, n: int, unit: str) -> _Figure:
    """An operational count: printed in full."""
    return _Figure(section, measure, category, str(n), unit, n)


def _people(section: str, measure: str, category: str, cell: BandCount, unit: str) -> _Figure:
    """A count of people exactly as the data shows it; a number only when it is shown in full."""
    number = cell.count if cell.count is not None and cell.shown == str(cell.count) else None
    return _Figure(section, measure, category, cell.shown, unit, number)


def _share(section: str, measure: str, category: str, value: float | None) -> _Figure:
    if value is None:
        return _Figure(section, measure, category, NO_RATE, "%")
    return _Figure(section, measure, category, f"{value * 100:.1f}%", "%", value, PERCENT_FORMAT)


def _hours(section: str, measure: str, category: str, minutes: int, unit: str) -> _Figure:
    hours = round(minutes / 60, 1)
    return _Figure(section, measure, category, f"{hours:.1f}", unit, hours, HOURS_FORMAT)


def _appointments(f: BlockFigures, _: Translate) -> list[_Figure]:
    section, unit = _("Appointments"), _("appointments")
    a = f.appointments
    out: list[_Figure] = []
    for measure, counts in (
        (_("By type"), a.by_type),
        (_("By modality"), a.by_modality),
        (_("By status"), a.by_status),
    ):
        out += [
            _count(section, measure, _(key.msgid), counts[key], unit) for key in _ordered(counts)
        ]
    out.append(_count(section, _("All appointments"), "", a.total, unit))
    out += _rate_rows(
        section,
        a.no_show,
        events=_("No-shows"),
        out_of=_("Appointments due (lectures left out)"),
        rate=_("No-show rate"),
        unit=unit,
    )
    out += _rate_rows(
        section,
        a.late_cancellation,
        events=_("Late cancellations"),
        out_of=_("Appointments (lectures left out)"),
        rate=_("Late-cancellation rate"),
        unit=unit,
    )
    return out


def _ordered(counts: Mapping[Any, int]) -> list[Any]:
    """The keys in their vocabulary's order, whatever order the dict was filled in."""
    if not counts:
        return []
    vocabulary = type(next(iter(counts)))
    return [key for key in vocabulary if key in counts]


def _rate_rows(
    section: str, figures: Rate, *, events: str, out_of: str, rate: str, unit: str
) -> list[_Figure]:
    return [
        _count(section, events, "", figures.events, unit),
        _count(section, out_of, "", figures.out_of, unit),
        _share(section, rate, "", figures.value),
    ]


def _use_rows(section: str, category: str, use: Use, _: Translate) -> list[_Figure]:
    unit = _("hours")
    return [
        _hours(section, _("Hours booked"), category, use.used_minutes, unit),
        _hours(section, _("Hours available"), category, use.available_minutes, unit),
        _share(section, _("Use"), category, use.ratio),
    ]


def _capacity(f: BlockFigures, _: Translate) -> list[_Figure]:
    out = _use_rows(_("Counsellors' hours"), "", f.counsellor_hours, _)
    section = _("Room use")
    for kind in RoomKind:
        if kind in f.rooms:
            out += _use_rows(section, _(kind.msgid), f.rooms[kind], _)
    return out


def _lectures(f: BlockFigures, _: Translate) -> list[_Figure]:
    section = _("Lectures")
    return [
        _count(section, _("Lectures held"), "", f.lectures_held, _("lectures")),
        _people(section, _("Attendance"), "", f.lecture_attendance, _("people")),
    ]


def _topics(f: BlockFigures, _: Translate) -> list[_Figure]:
    section, measure, unit = _("Topics"), _("People by topic"), _("people")
    titles = [_topic_title(c.band) for c in f.topics]
    return [
        _people(section, measure, _(title), c, unit)
        for title, c in zip(titles, f.topics, strict=True)
    ]


def _topic_title(key: str) -> str:
    try:
        return Topic(key).msgid
    except ValueError:
        return key


def _waiting(f: BlockFigures, _: Translate) -> list[_Figure]:
    section, days = _("Waiting time"), _("days")
    w = f.waiting
    return [
        _people(section, _("People who had their first session"), "", w.people, _("people")),
        _days(section, _("Median"), w.shown_median, w.median_days, days),
        _days(section, _("90th percentile"), w.shown_p90, w.p90_days, days),
    ]


def _days(section: str, measure: str, shown: str, days: int | None, unit: str) -> _Figure:
    number = days if days is not None and shown == str(days) else None
    return _Figure(section, measure, "", shown, unit, number)


def _bands(f: BlockFigures, lang: str, _: Translate) -> list[_Figure]:
    section, unit = _("Assessment bands"), _("people")
    out: list[_Figure] = []
    for group in f.bands:
        definition = load_instrument(group.key)
        measure = definition.short_title.text(lang)
        out += [
            _people(section, measure, definition.band(c.band).label.text(lang), c, unit)
            for c in group.cells
        ]
        out.append(_people(section, measure, _("All who answered"), group.total, unit))
    return out


def _outcome_title(key: str, _: Translate) -> str:
    titles = {
        "improved": _("Improved"),
        "deteriorated": _("Deteriorated"),
        "no_reliable_change": _("No reliable change"),
    }
    return titles.get(key, key)


def _change(change: ChangeFigures, lang: str, _: Translate) -> list[_Figure]:
    section, unit = _("Change in closed cases"), _("people")
    measure = load_instrument(change.instrument).short_title.text(lang)
    group: PeopleGroup = change.outcomes
    out = [_people(section, measure, _outcome_title(c.band, _), c, unit) for c in group.cells]
    out.append(_people(section, measure, _("Measured at least twice"), group.total, unit))
    if change.recovered is not None:
        out.append(_people(section, measure, _("Recovered"), change.recovered, unit))
    return out


def _crisis(f: BlockFigures, _: Translate) -> list[_Figure]:
    section, unit = _("Crisis flags"), _("people")
    return [
        _people(section, _("People with a flag raised"), "", f.crisis_raised, unit),
        _people(section, _("People with a flag cleared"), "", f.crisis_closed, unit),
    ]


def _figures(f: BlockFigures, lang: str, _: Translate) -> list[_Figure]:
    out = _appointments(f, _) + _capacity(f, _) + _lectures(f, _) + _topics(f, _)
    out += _waiting(f, _) + _bands(f, lang, _)
    for change in f.changes:
        out += _change(change, lang, _)
    return out + _crisis(f, _)


def _rows(data: SummaryReportData, lang: str) -> Iterator[_Row]:
    """Block by block: the chosen stations together, then each station (when there are
    several; with one station its figures are the selection's). A generator: a report of 120
    stations over 60 months has some 650,000 rows, written out as they come."""
    _ = translator(lang)
    everyone = _("All chosen stations")
    for block in data.blocks:
        for figure in _figures(block.selection, lang, _):
            yield _Row(block.label, everyone, True, figure)
        if len(block.stations) > 1:
            for station in block.stations:
                for figure in _figures(station.figures, lang, _):
                    yield _Row(block.label, station.station_name, False, figure)


def _headers(data: SummaryReportData, _: Translate) -> list[str]:
    block = _("Month") if data.grouping == "month" else _("Quarter")
    return [block, _("Station"), _("Section"), _("Measure"), _("Category"), _("Value"), _("Unit")]


def summary_table(data: SummaryReportData, lang: str) -> tuple[list[str], list[list[str]]]:
    """Headers and rows of the long table in `lang`, one row per figure: block, station,
    section, measure, category, value (the text to print: "37", "<10", "·", "12.5%", "—"),
    unit."""
    lang = document_language(lang)
    return _headers(data, translator(lang)), [row.texts() for row in _rows(data, lang)]


# --------------------------------------------------------------------------- CSV


def guard_formula(text: str) -> str:
    """A leading apostrophe on text a spreadsheet would read as a formula (station names are
    typed by users)."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def write_summary_csv(
    out: BinaryIO | Path, *, data: SummaryReportData, lang: str, report_number: str
) -> int:
    """The long table with the report number in every row, UTF-8 with a byte order mark (so
    that Excel reads Chinese), RFC 4180 quoting. Returns the number of data rows."""
    lang = document_language(lang)
    _ = translator(lang)
    headers = [_("Report number"), *_headers(data, _)]
    rows = ([report_number, *row.texts()] for row in _rows(data, lang))
    if isinstance(out, Path):
        with out.open("wb") as stream:
            return _write_csv(stream, headers, rows)
    return _write_csv(out, headers, rows)


def _write_csv(out: BinaryIO, headers: list[str], rows: Iterable[list[str]]) -> int:
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    try:
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(headers)
        count = 0
        for row in rows:
            writer.writerow([guard_formula(v) for v in row])
            count += 1
        text.flush()
    finally:
        text.detach()  # the caller's stream stays open
    return count


# --------------------------------------------------------------------------- XLSX
# The workbook is written row by row (openpyxl's write-only mode): a report of 120 stations
# over 60 months has some 650,000 rows, which a workbook held in memory cell by cell could not.

Value: TypeAlias = "str | Number | Cell | None"


class _Sheets:
    """Styles and cells of one workbook."""

    def __init__(self) -> None:
        self.wb = Workbook(write_only=True)
        self.bold = Font(bold=True)
        self.wrap = Alignment(vertical="top", wrap_text=True)
        self.right = Alignment(horizontal="right")

    def sheet(
        self, title: str, widths: dict[int, float], *, freeze: str = "", heights: Any = ()
    ) -> WriteOnlyWorksheet:
        """A new sheet; what goes before its rows (widths, frozen panes) is set here."""
        ws = self.wb.create_sheet(title)
        for column, width in widths.items():
            ws.column_dimensions[get_column_letter(column)].width = width
        for row, height in heights:
            ws.row_dimensions[row].height = height
        if freeze:
            ws.freeze_panes = freeze
        # openpyxl would stream the sheet through a temporary file; keep it in memory, so that
        # the report is written nowhere but where it was asked to go.
        ws._writer = WorksheetWriter(ws, out=io.BytesIO())
        ws._writer.write_top()
        return ws

    def text(self, ws: WriteOnlyWorksheet, text: str) -> Value:
        """Text stored as text: never a formula, and text a spreadsheet would take for one
        when edited keeps Excel's own leading apostrophe (the cell's quote prefix)."""
        text = _ILLEGAL_XML.sub("", text)
        if not text:
            return None
        if not text.startswith(FORMULA_STARTS):
            return text
        cell = WriteOnlyCell(ws, value=text)
        cell.data_type = "s"
        cell.quotePrefix = True
        return cell

    def figure(self, ws: WriteOnlyWorksheet, figure: _Figure) -> Cell:
        """A figure right-aligned: the number where it is shown in full, else the text."""
        cell = WriteOnlyCell(ws, value=figure.shown if figure.number is None else figure.number)
        if figure.number is None:
            cell.data_type = "s"
        else:
            cell.number_format = figure.number_format
        cell.alignment = self.right
        return cell

    def head(self, ws: WriteOnlyWorksheet, values: Iterable[str]) -> list[Value]:
        cells: list[Value] = []
        for value in values:
            cell = WriteOnlyCell(ws, value=_ILLEGAL_XML.sub("", value) or None)
            cell.data_type = "s"
            cell.font = self.bold
            cell.fill = HEAD_FILL
            cell.alignment = self.wrap
            cells.append(cell)
        return cells


def _text_width(text: str) -> int:
    """Columns Excel needs for `text`: CJK characters take two."""
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _figure_widths(headers: list[str], data: SummaryReportData, lang: str) -> dict[int, float]:
    """Every block and station has the same sections, measures, categories and units: the
    first block's selection and the station names give the widths."""
    widths = [_text_width(h) for h in headers]
    first = itertools.takewhile(lambda row: row.is_selection, _rows(data, lang))
    names = [s.name for s in data.stations] + [b.label for b in data.blocks]
    for row in first:
        for i, text in enumerate(row.texts()):
            widths[i] = max(widths[i], _text_width(text))
    widths[1] = max([widths[1], *(_text_width(n) for n in names)])
    return {i: min(max(w + 2, 10), MAX_WIDTH) for i, w in enumerate(widths, start=1)}


def _write_figures(
    sheets: _Sheets, title: str, headers: list[str], data: SummaryReportData, lang: str
) -> tuple[int, list[_Row]]:
    """The long table; returns its number of rows and the selection's rows (for the wide
    sheets)."""
    ws = sheets.sheet(title, _figure_widths(headers, data, lang), freeze="A2")
    ws.append(sheets.head(ws, headers))
    count, selection = 0, []
    for row in _rows(data, lang):
        texts = [sheets.text(ws, t) for t in row.texts()]
        texts[5] = sheets.figure(ws, row.figure)
        ws.append(texts)
        count += 1
        if row.is_selection:
            selection.append(row)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{count + 1}"
    return count, selection


def _about_lines(data: SummaryReportData, report_number: str, _: Translate) -> list[list[str]]:
    grouping = _("By month") if data.grouping == "month" else _("By quarter")
    period = _("{first} to {last}").format(
        first=f"{data.first_month:%Y-%m}", last=f"{data.last_month:%Y-%m}"
    )
    lines = [
        [_("Employee wellbeing stations: summary report")],
        [_("Report number"), report_number],
        [_("Period"), period],
        [_("Blocks"), grouping],
        [_("Numbers of people hidden below"), str(data.k)],
        [_("Generated"), f"{data.generated_at:%Y-%m-%d %H:%M}"],  # as the PDF prints it
        [_("Stations"), *([data.stations[0].name] if data.stations else [])],
    ]
    lines += [["", station.name] for station in data.stations[1:]]
    lines += [[], [_("How to read this report")]]
    lines += [["", note] for note in _notes(data.k, _)]
    return lines


def _notes(k: int, _: Translate) -> list[str]:
    return [
        _(SMALL_MARK_NOTE).format(k=k),
        _(HIDDEN_MARK_NOTE).format(k=k),
        _(
            "—: nothing to work it out from (no rate without appointments or hours, no "
            "waiting time without people)."
        ),
        _(
            "Appointments, hours and lectures describe the service and are counted in full; "
            "every other figure counts people and follows the rule above."
        ),
        _(
            "All chosen stations: the stations together; a number of people is shown there "
            "only where every station shows its own."
        ),
        _(
            "Use: hours booked out of hours available (counsellors' scheduled hours, or the "
            "opening hours of the rooms of that kind)."
        ),
        _(
            "Waiting time: days from first contact to the first completed session, for the "
            "people whose first session fell in the month or quarter."
        ),
        _(
            "Assessment bands: each person's latest questionnaire in the month or quarter. "
            "Change in closed cases: first against last questionnaire of the cases closed."
        ),
        _("No names, no client codes, no notes: this report holds counts only."),
    ]


def _write_about(sheets: _Sheets, title: str, lines: list[list[str]]) -> None:
    ws = sheets.sheet(title, {1: 30, 2: 100})
    for line in lines:
        cells: list[Value] = []
        for column, text in enumerate(line, start=1):
            cell = WriteOnlyCell(ws, value=_ILLEGAL_XML.sub("", text) or None)
            cell.data_type = "s"
            cell.alignment = sheets.wrap
            cell.quotePrefix = text.startswith(FORMULA_STARTS)
            if column == 1:
                cell.font = sheets.bold
            cells.append(cell)
        ws.append(cells)


def _sheet_name(name: str, taken: set[str]) -> str:
    base = _SHEET_NAME_FORBIDDEN.sub(" ", name).strip()[:31] or "-"
    candidate, n = base, 2
    while candidate.lower() in taken:
        suffix = f" {n}"
        candidate, n = base[: 31 - len(suffix)] + suffix, n + 1
    taken.add(candidate.lower())
    return candidate


def _by_section(rows: list[_Row]) -> dict[str, list[_Row]]:
    sections: dict[str, list[_Row]] = {}
    for row in rows:
        sections.setdefault(row.figure.section, []).append(row)
    return sections


def _write_wide(sheets: _Sheets, title: str, first_header: str, rows: list[_Row]) -> None:
    """The selection's figures of one section: a row per block, a column per figure (headed
    by its measure over its category)."""
    columns: dict[tuple[str, str], int] = {}
    blocks: dict[str, dict[int, _Figure]] = {}
    for row in rows:
        column = columns.setdefault((row.figure.measure, row.figure.category), len(columns) + 1)
        blocks.setdefault(row.block, {})[column] = row.figure
    widths = {1: 12.0, **{column + 1: 16.0 for column in columns.values()}}
    two_rows = any(category for _m, category in columns)  # else a row of empty headers
    ws = sheets.sheet(
        title,
        widths,
        freeze="B3" if two_rows else "B2",
        heights=((1, 30), (2, 45)) if two_rows else ((1, 45),),
    )
    ws.append(sheets.head(ws, [first_header, *(m for m, _c in columns)]))
    if two_rows:
        ws.append(sheets.head(ws, ["", *(c for _m, c in columns)]))
    for block, figures in blocks.items():
        cells: list[Value] = [sheets.text(ws, block)]
        cells += [
            sheets.figure(ws, figures[c]) if c in figures else None
            for c in range(1, len(columns) + 1)
        ]
        ws.append(cells)


class _InMemoryWriter(ExcelWriter):
    """Zips the sheets from memory (see _Sheets.sheet) instead of from temporary files."""

    def write_worksheet(self, ws: WriteOnlyWorksheet) -> None:
        ws._drawing = SpreadsheetDrawing()
        ws._drawing.charts = ws._charts
        ws._drawing.images = ws._images
        if not ws.closed:
            ws.close()
        writer = ws._writer
        ws._rels = writer._rels
        with writer.out.getbuffer() as xml:  # no copy of a sheet that may be 200 MB
            self._archive.writestr(ws.path[1:], xml)
        self.manifest.append(ws)


def _properties(wb: Workbook, report_number: str, generated_at: datetime) -> None:
    """Neutral metadata: the report number, never a person's name."""
    props = wb.properties
    props.title = f"CareStation report {report_number}"
    props.creator = CREATOR
    props.lastModifiedBy = CREATOR
    props.subject = props.description = props.keywords = None
    when = generated_at.astimezone(UTC) if generated_at.tzinfo else generated_at
    props.created = props.modified = when.replace(tzinfo=None)  # openpyxl wants naive UTC


def _save(wb: Workbook, out: BinaryIO | Path) -> None:
    target: Any = str(out) if isinstance(out, Path) else out
    with ZipFile(target, "w", ZIP_DEFLATED, allowZip64=True) as archive:
        _InMemoryWriter(wb, archive).write_data()


def write_summary_xlsx(
    out: BinaryIO | Path, *, data: SummaryReportData, lang: str, report_number: str
) -> int:
    """Sheets "Figures" (the long table), "About" (what the report covers and how to read it)
    and one per section with the chosen stations' figures block by block. Returns the number
    of data rows of the long table."""
    lang = document_language(lang)
    _ = translator(lang)
    headers = _headers(data, _)
    sheets = _Sheets()
    taken: set[str] = set()
    count, selection = _write_figures(sheets, _sheet_name(_("Figures"), taken), headers, data, lang)
    _write_about(sheets, _sheet_name(_("About"), taken), _about_lines(data, report_number, _))
    for section, section_rows in _by_section(selection).items():
        _write_wide(sheets, _sheet_name(section, taken), headers[0], section_rows)
    _properties(sheets.wb, report_number, data.generated_at)
    _save(sheets.wb, out)
    return count
