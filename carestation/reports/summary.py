"""The managers' summary report (职工情绪管理服务站汇总报告) as a PDF: a heading page, then for the
chosen stations together, block by block, tables and vector charts of appointments, use of hours
and rooms, waiting, lectures, topics, assessment bands, change in closed cases and crisis flags;
then the same tables, compact, per station. Drawn only from SummaryReportData: counts of people
are printed exactly as shown there ("37", "<10", "·"), never added up or derived; operational
counts (appointments, minutes) are printed and totalled in full."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from carestation.assessments import Instrument, load_instrument
from carestation.domain.assessment_values import BandCount
from carestation.domain.summary_values import (
    BlockFigures,
    PeopleGroup,
    Rate,
    SummaryReportData,
    Use,
)
from carestation.domain.suppression import HIDDEN_MARK, HIDDEN_MARK_NOTE, SMALL_MARK_NOTE
from carestation.domain.vocab import AppointmentStatus, AppointmentType, Modality, RoomKind, Topic
from carestation.reports import CREATOR, Translate, document_language, translator
from carestation.reports.fonts import chinese_line_rules, register_fonts
from carestation.reports.page_canvas import counted_pages_canvas
from carestation.reports.summary_charts import Series, band_colours, lines, stacked_bars

PAGE = landscape(A4)
MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 15 * mm, 14 * mm, 17 * mm
FRAME_WIDTH = PAGE[0] - 2 * MARGIN_X
INK = colors.Color(0.13, 0.16, 0.2)
SOFT = colors.Color(0.4, 0.4, 0.4)
RULE = colors.Color(0.78, 0.78, 0.78)
HEAD_FILL = colors.Color(0.92, 0.94, 0.97)
TOTAL_FILL = colors.Color(0.96, 0.96, 0.96)
NOTE_FILL = colors.Color(0.95, 0.97, 0.99)
ACCENT = colors.Color(0.12, 0.34, 0.55)
HIDDEN_INK = colors.Color(0.45, 0.45, 0.45)
NOTHING = "—"  # a rate or use with nothing to measure
BLOCK_COL = 22 * mm
COMPACT_BLOCK_COL = 19 * mm
PAIR_GAP = 8 * mm
MAX_COL = 34 * mm
CJK_ONE_LINE = 48.0  # a Chinese header up to this wide stays on one line
NUMBER_WIDTH = 24.0  # "12,345" or "100.0%" at the table's size
CHART_HEIGHT = 150.0
# Beyond this many blocks a chart and its table cannot share a page: the chart, alone on its
# page, may then be taller.
TALL_AFTER = 14
# A table of up to this many blocks fits on one page.
KEEP_ROWS = 30
MIN_CHART_BLOCKS = 2
LISTED_STATIONS = 30  # more are listed only in the overview table
STATUS_COLOURS = {
    AppointmentStatus.COMPLETED: colors.HexColor("#1f5788"),
    AppointmentStatus.CHECKED_IN: colors.HexColor("#56b4e9"),
    AppointmentStatus.BOOKED: colors.HexColor("#a9c8e0"),
    AppointmentStatus.NO_SHOW: colors.HexColor("#d55e00"),
    AppointmentStatus.CANCELLED: colors.HexColor("#bdbdbd"),
}
CHANGE_KEYS = ("improved", "deteriorated", "no_reliable_change")


def summary_report_title(report_number: str) -> str:
    """The PDF's metadata title: neutral, never a person's or a station's name."""
    return f"CareStation report {report_number}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- formatting


def _int(value: int) -> str:
    return f"{value:,}"


def _percent(value: float | None) -> str:
    return NOTHING if value is None else f"{value * 100:.1f}%"


def _rate(rate: Rate) -> str:
    return _percent(rate.value)


def _use(use: Use) -> str:
    return _percent(use.ratio)


def _hours(minutes: int) -> str:
    return f"{minutes / 60:,.0f}"


def _add_rates(rates: Sequence[Rate]) -> Rate:
    return Rate(sum(r.events for r in rates), sum(r.out_of for r in rates))


def _add_uses(uses: Sequence[Use]) -> Use:
    return Use(sum(u.used_minutes for u in uses), sum(u.available_minutes for u in uses))


# --------------------------------------------------------------------------- styles and context


class _Styles:
    def __init__(self, font: str, lang: str, compact: bool = False) -> None:
        wrap = {"wordWrap": "CJK"} if lang == "zh_CN" else {}

        def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
            kw.setdefault("leading", size * 1.35)
            kw.setdefault("textColor", INK)
            return ParagraphStyle(name, fontName=font, fontSize=size, allowWidows=0, **wrap, **kw)

        self.title = style("title", 22, leading=28, spaceAfter=4, textColor=ACCENT)
        self.subtitle = style("subtitle", 11, textColor=SOFT, spaceAfter=10)
        self.part = style("part", 16, leading=21, spaceBefore=4, spaceAfter=6, textColor=ACCENT)
        self.heading = style("heading", 12.5, spaceBefore=9, spaceAfter=4, keepWithNext=1)
        self.subheading = style("subheading", 10, spaceBefore=5, spaceAfter=3, keepWithNext=1)
        self.body = style("body", 9.5)
        self.small = style("small", 8, textColor=SOFT)
        self.label = style("label", 9.5, textColor=SOFT)
        self.note = style(
            "note", 8.5, leftIndent=10, bulletIndent=0, spaceAfter=2.5, bulletFontName=font
        )
        size = 7 if compact else 7.5
        self.head = style("head", size, leading=size * 1.2, alignment=2)
        self.head_left = style("head_left", size, leading=size * 1.2)
        self.group = style("group", size, leading=size * 1.2, alignment=1)


@dataclass(frozen=True)
class _Ctx:
    lang: str
    _: Translate
    font: str
    st: _Styles
    compact: _Styles
    k: int

    def t(self, member: Any) -> str:
        """A vocabulary member's title in the report's language."""
        return self._(member.msgid)


@dataclass(frozen=True)
class _Column:
    """A column of a block table: its header, the text of a block's cell, and the text of the
    whole-period row (None: no total, for counts of people)."""

    header: str
    cell: Callable[[BlockFigures], str]
    total: Callable[[Sequence[BlockFigures]], str] | None = None
    group: str = ""


# --------------------------------------------------------------------------- the page canvas


def _numbered_canvas(footer_left: str, page_text: str, font: str) -> type[Canvas]:
    """A canvas that writes the footer and "page X of Y" once the number of pages is known."""

    def footer(canvas: Canvas, total: int) -> None:
        width = PAGE[0]
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(SOFT)
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN_X, 11 * mm, width - MARGIN_X, 11 * mm)
        canvas.drawString(MARGIN_X, 7.5 * mm, footer_left)
        canvas.drawRightString(
            width - MARGIN_X, 7.5 * mm, page_text.format(page=canvas.getPageNumber(), pages=total)
        )
        canvas.restoreState()

    return counted_pages_canvas(font, footer)


# --------------------------------------------------------------------------- tables


def _is_people_mark(text: str, k: int) -> bool:
    return text == HIDDEN_MARK or text == f"<{k}"


def _block_table(
    ctx: _Ctx,
    columns: Sequence[_Column],
    blocks: Sequence[tuple[str, BlockFigures]],
    *,
    compact: bool = False,
    frame_width: float = FRAME_WIDTH,
) -> Table:
    """Blocks as rows, one column per figure, a whole-period row where any column has a total;
    the header repeats on every page the table runs over."""
    st = ctx.st if not compact else ctx.compact
    size = 7.0 if compact else 8.0
    block_col = COMPACT_BLOCK_COL if compact else BLOCK_COL
    widths, head_style = _column_widths(
        st.head, [c.header for c in columns], frame_width - block_col
    )
    head = [Paragraph(_escape(ctx._("Block")), st.head_left)]
    head += [Paragraph(_escape(c.header), head_style) for c in columns]
    rows: list[list[Any]] = []
    grouped = any(c.group for c in columns)
    if grouped:
        rows.append([""] + [Paragraph(_escape(c.group), st.group) for c in columns])
    rows.append(head)
    header_rows = len(rows)
    hidden: list[tuple[int, int]] = []
    dots: list[tuple[int, int]] = []
    for label, figures in blocks:
        row = [label]
        for c in columns:
            text = c.cell(figures)
            if _is_people_mark(text, ctx.k):
                hidden.append((len(row), len(rows)))
            if text == HIDDEN_MARK:
                dots.append((len(row), len(rows)))
            row.append(text)
        rows.append(row)
    has_total = len(blocks) > 1 and any(c.total is not None for c in columns)
    if has_total:
        all_figures = [f for _label, f in blocks]
        rows.append(
            [ctx._("Whole period")]
            + [c.total(all_figures) if c.total is not None else "" for c in columns]
        )
    table = Table(
        rows,
        colWidths=[block_col, *widths],
        repeatRows=header_rows,
        hAlign="LEFT",
    )
    pad = 1.3 if compact else 2.2
    style: list[Any] = [
        ("FONT", (0, 0), (-1, -1), ctx.font, size),
        ("TEXTCOLOR", (0, 0), (-1, -1), INK),
        ("ALIGN", (1, header_rows), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, header_rows - 1), "BOTTOM"),
        # BOTTOM: every cell on the same baseline, whatever its font size (see the mark below).
        ("VALIGN", (0, header_rows), (-1, -1), "BOTTOM"),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), HEAD_FILL),
        ("LINEBELOW", (0, header_rows - 1), (-1, header_rows - 1), 0.6, RULE),
        ("LINEBELOW", (0, header_rows), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), pad),
        ("BOTTOMPADDING", (0, 0), (-1, -1), pad),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if grouped:
        style += _group_spans(columns)
    if has_total:
        style += [
            ("BACKGROUND", (0, -1), (-1, -1), TOTAL_FILL),
            ("LINEABOVE", (0, -1), (-1, -1), 0.6, RULE),
        ]
    style += [("TEXTCOLOR", cell, cell, HIDDEN_INK) for cell in hidden]
    # The mark is a small middle dot: printed larger, so that it reads as a mark, not a speck.
    # With valign BOTTOM the baseline sits at padding + leading - size: the padding moved from
    # top to bottom keeps it on the row's baseline without changing the row's height.
    for cell in dots:
        style += [
            ("FONTSIZE", cell, cell, size + 5),
            ("BOTTOMPADDING", cell, cell, pad + 3),
            ("TOPPADDING", cell, cell, pad - 3),
        ]
    table.setStyle(TableStyle(style))
    return table


def _longest_word(header: str, style: ParagraphStyle) -> float:
    """The width `header` needs to wrap well: its widest Latin word; for Chinese (which may
    break between any two characters) the whole text when short, else half of it, so that a
    lone character never ends up on a line of its own."""
    if header.isascii():
        return max(stringWidth(w, style.fontName, style.fontSize) for w in header.split())
    full = stringWidth(header, style.fontName, style.fontSize)
    return full if full <= CJK_ONE_LINE else full / 2 + style.fontSize


def _column_widths(
    style: ParagraphStyle, headers: Sequence[str], available: float
) -> tuple[list[float], ParagraphStyle]:
    """Widths that give each header room for its longest word and share out the rest (no
    column wider than MAX_COL unless it needs it); when even that does not fit, equal widths
    and a smaller header font (down to 6 points)."""
    pad = 7.0
    needs = [max(_longest_word(h, style), NUMBER_WIDTH) + pad for h in headers]
    if sum(needs) <= available:
        extra = (available - sum(needs)) / max(len(headers), 1)
        return [max(n, min(n + extra, MAX_COL)) for n in needs], style
    width = available / max(len(headers), 1)
    widest = max(needs) - pad
    size = max(6.0, style.fontSize * (width - pad) / widest)
    smaller = ParagraphStyle(
        f"{style.name}-{size:.1f}", parent=style, fontSize=size, leading=size * 1.2
    )
    return [width] * len(headers), smaller


def _group_spans(columns: Sequence[_Column]) -> list[Any]:
    """SPAN commands joining the group header over neighbouring columns of the same group, and
    a rule under each group's title."""
    commands: list[Any] = []
    start = 0
    for i in range(1, len(columns) + 1):
        if i == len(columns) or columns[i].group != columns[start].group:
            first, last = start + 1, i  # table columns (column 0 is the block)
            if last > first:
                commands.append(("SPAN", (first, 0), (last, 0)))
            if columns[start].group:
                commands.append(("LINEBELOW", (first, 0), (last, 0), 0.4, RULE))
            start = i
    return commands


# --------------------------------------------------------------------------- the columns


def _counted(header: str, get: Callable[[BlockFigures], int], group: str = "") -> _Column:
    """Operational counts: printed in full, added up over the period."""
    return _Column(header, lambda f: _int(get(f)), lambda fs: _int(sum(get(f) for f in fs)), group)


def _rated(header: str, get: Callable[[BlockFigures], Rate], group: str = "") -> _Column:
    return _Column(
        header, lambda f: _rate(get(f)), lambda fs: _rate(_add_rates([get(f) for f in fs])), group
    )


def _used(header: str, get: Callable[[BlockFigures], Use], group: str = "") -> _Column:
    return _Column(
        header, lambda f: _use(get(f)), lambda fs: _use(_add_uses([get(f) for f in fs])), group
    )


def _hours_column(header: str, get: Callable[[BlockFigures], int], group: str) -> _Column:
    return _Column(
        header, lambda f: _hours(get(f)), lambda fs: _hours(sum(get(f) for f in fs)), group
    )


def _people(header: str, get: Callable[[BlockFigures], str], group: str = "") -> _Column:
    """Counts of people (or what is derived from them): printed as shown, never added up."""
    return _Column(header, get, None, group)


def _of_type(kind: AppointmentType) -> Callable[[BlockFigures], int]:
    return lambda f: f.appointments.by_type[kind]


def _of_modality(mode: Modality) -> Callable[[BlockFigures], int]:
    return lambda f: f.appointments.by_modality[mode]


def _of_status(status: AppointmentStatus) -> Callable[[BlockFigures], int]:
    return lambda f: f.appointments.by_status[status]


def _of_room(kind: RoomKind) -> Callable[[BlockFigures], Use]:
    return lambda f: f.rooms[kind]


def _of_topic(key: str) -> Callable[[BlockFigures], str]:
    return lambda f: f.topic(key).shown


def _of_band(code: str, key: str | None) -> Callable[[BlockFigures], str]:
    """A band's cell of questionnaire `code`, or (key None) its total."""
    return lambda f: (
        (f.band_group(code).total if key is None else f.band_group(code).cell(key)).shown
    )


def _of_change(code: str, key: str) -> Callable[[BlockFigures], str]:
    """An outcome of questionnaire `code`; "total" for the people measured, "recovered"."""

    def get(f: BlockFigures) -> str:
        change = f.change(code)
        if key == "recovered":
            return _shown(change.recovered)
        return (change.outcomes.total if key == "total" else change.outcomes.cell(key)).shown

    return get


def _appointment_columns(ctx: _Ctx) -> list[_Column]:
    _ = ctx._
    by_type, by_modality = _("By type"), _("By modality")
    columns = [_counted(ctx.t(kind), _of_type(kind), by_type) for kind in AppointmentType]
    columns += [_counted(ctx.t(mode), _of_modality(mode), by_modality) for mode in Modality]
    columns.append(_counted(_("All appointments"), lambda f: f.appointments.total))
    return columns


def _status_columns(ctx: _Ctx) -> list[_Column]:
    _ = ctx._
    by_status, rates = _("By status"), _("Rates")
    columns = [_counted(ctx.t(s), _of_status(s), by_status) for s in AppointmentStatus]
    columns += [
        _rated(_("No-show rate"), lambda f: f.appointments.no_show, rates),
        _rated(_("Late-cancellation rate"), lambda f: f.appointments.late_cancellation, rates),
    ]
    return columns


def _use_columns(ctx: _Ctx) -> list[_Column]:
    _ = ctx._
    hours, rooms = _("Counsellors' hours"), _("Room use")
    columns = [
        _hours_column(_("Booked (h)"), lambda f: f.counsellor_hours.used_minutes, hours),
        _hours_column(_("Scheduled (h)"), lambda f: f.counsellor_hours.available_minutes, hours),
        _used(_("Use"), lambda f: f.counsellor_hours, hours),
    ]
    columns += [_used(ctx.t(kind), _of_room(kind), rooms) for kind in RoomKind]
    return columns


def _service_columns(ctx: _Ctx) -> list[_Column]:
    _ = ctx._
    waiting, lectures, crisis = _("Waiting time (days)"), _("Lectures"), _("Crisis flags (people)")
    return [
        _people(_("People"), lambda f: f.waiting.people.shown, waiting),
        _people(_("Median"), lambda f: f.waiting.shown_median, waiting),
        _people(_("90th percentile"), lambda f: f.waiting.shown_p90, waiting),
        _counted(_("Held"), lambda f: f.lectures_held, lectures),
        _people(_("Attended (people)"), lambda f: f.lecture_attendance.shown, lectures),
        _people(_("Raised"), lambda f: f.crisis_raised.shown, crisis),
        _people(_("Closed"), lambda f: f.crisis_closed.shown, crisis),
    ]


def _topic_columns(ctx: _Ctx, first: BlockFigures) -> list[_Column]:
    titles = {t.value: ctx.t(t) for t in Topic}
    return [_people(titles.get(c.band, c.band), _of_topic(c.band)) for c in first.topics]


def _band_columns(ctx: _Ctx, definition: Instrument, group: PeopleGroup) -> list[_Column]:
    code = definition.code
    columns = [
        _people(definition.band(c.band).label.text(ctx.lang), _of_band(code, c.band))
        for c in group.cells
    ]
    columns.append(_people(ctx._("All who answered"), _of_band(code, None)))
    return columns


def _change_label(ctx: _Ctx, key: str) -> str:
    _ = ctx._
    labels = {
        "improved": _("Improved"),
        "deteriorated": _("Deteriorated"),
        "no_reliable_change": _("No reliable change"),
    }
    return labels[key]


def _change_columns(ctx: _Ctx, first: BlockFigures) -> list[_Column]:
    columns: list[_Column] = []
    for change in first.changes:
        code = change.instrument
        group = load_instrument(code).short_title.text(ctx.lang)
        columns += [
            _people(_change_label(ctx, key), _of_change(code, key), group) for key in CHANGE_KEYS
        ]
        columns.append(_people(ctx._("Measured"), _of_change(code, "total"), group))
        if change.recovered is not None:
            columns.append(_people(ctx._("Recovered"), _of_change(code, "recovered"), group))
    return columns


def _shown(cell: BandCount | None) -> str:
    return NOTHING if cell is None else cell.shown


# --------------------------------------------------------------------------- charts


def _chart_height(blocks: int, share: float) -> float:
    return CHART_HEIGHT * share * (1.0 if blocks <= TALL_AFTER else 1.9)


def _status_chart(ctx: _Ctx, blocks: Sequence[tuple[str, BlockFigures]]) -> Flowable:
    order = (
        AppointmentStatus.COMPLETED,
        AppointmentStatus.CHECKED_IN,
        AppointmentStatus.BOOKED,
        AppointmentStatus.NO_SHOW,
        AppointmentStatus.CANCELLED,
    )
    series = [
        Series(
            ctx.t(status),
            tuple(float(f.appointments.by_status[status]) for _l, f in blocks),
            STATUS_COLOURS[status],
        )
        for status in order
    ]
    return stacked_bars(
        [label for label, _f in blocks],
        series,
        width=FRAME_WIDTH,
        height=_chart_height(len(blocks), 1.0),
        font=ctx.font,
    )


def _rate_chart(ctx: _Ctx, blocks: Sequence[tuple[str, BlockFigures]]) -> Flowable:
    _ = ctx._
    series = [
        Series(_("No-show rate"), tuple(f.appointments.no_show.value for _l, f in blocks)),
        Series(
            _("Late-cancellation rate"),
            tuple(f.appointments.late_cancellation.value for _l, f in blocks),
        ),
    ]
    return lines(
        [label for label, _f in blocks],
        series,
        width=FRAME_WIDTH,
        height=_chart_height(len(blocks), 0.8),
        font=ctx.font,
    )


def _use_chart(ctx: _Ctx, blocks: Sequence[tuple[str, BlockFigures]]) -> Flowable:
    _ = ctx._
    series = [Series(_("Counsellors' hours"), tuple(f.counsellor_hours.ratio for _l, f in blocks))]
    series += [
        Series(ctx.t(kind), tuple(f.rooms[kind].ratio for _l, f in blocks)) for kind in RoomKind
    ]
    return lines(
        [label for label, _f in blocks],
        series,
        width=FRAME_WIDTH,
        height=_chart_height(len(blocks), 0.8),
        font=ctx.font,
    )


def _band_chart(
    ctx: _Ctx, definition: Instrument, blocks: Sequence[tuple[str, BlockFigures]]
) -> Flowable | None:
    """Shown counts per band, stacked; None when nothing at all may be drawn."""
    code = definition.code
    groups = [f.band_group(code) for _l, f in blocks]
    if not any(c.count for g in groups for c in g.cells):
        return None
    shades = band_colours(len(definition.bands), higher_is_better=definition.higher_is_better)
    series = [
        Series(
            band.label.text(ctx.lang),
            tuple(
                None if g.cell(band.slug).count is None else float(g.cell(band.slug).count or 0)
                for g in groups
            ),
            shade,
        )
        for band, shade in zip(definition.bands, shades, strict=True)
    ]
    note = ctx._("hidden number of people (<{k} or ·), not drawn").format(k=ctx.k)
    return stacked_bars(
        [label for label, _f in blocks],
        series,
        width=FRAME_WIDTH,
        height=_chart_height(len(blocks), 0.85),
        font=ctx.font,
        hidden_note=note,
    )


# --------------------------------------------------------------------------- sections


def _table_section(
    ctx: _Ctx,
    title: str,
    columns: Sequence[_Column],
    blocks: Sequence[tuple[str, BlockFigures]],
    *,
    compact: bool,
    note: str | None = None,
    chart: Flowable | None = None,
    lead: Sequence[Flowable] = (),
    level: ParagraphStyle | None = None,
) -> list[Any]:
    st = ctx.compact if compact else ctx.st
    style = level or (st.subheading if compact else st.heading)
    head: list[Any] = [*lead, Paragraph(_escape(title), style)]
    if note:
        head.append(Paragraph(_escape(note), st.small))
        head.append(Spacer(0, 2))
    if chart is not None:
        head += [chart, Spacer(0, 4)]
    table = _block_table(ctx, columns, blocks, compact=compact)
    # A table that fits on a page starts on a new one rather than being split; the heading
    # (and chart) never stand alone at the foot of a page.
    if compact:
        return [CondPageBreak(80), *head, table]
    if chart is None:
        return [CondPageBreak(110), KeepTogether([*head, table])]
    # A chart and a table too long to share a page: the table starts on the next page rather
    # than leaving a few of its rows (or only its total) to run over.
    # (A table longer than a page runs on straight after its chart: it is split anyway.)
    kept = KeepTogether([table]) if len(blocks) <= KEEP_ROWS else table
    return [CondPageBreak(110), KeepTogether(head), kept]


def _band_sections(
    ctx: _Ctx, blocks: Sequence[tuple[str, BlockFigures]], *, compact: bool
) -> list[Any]:
    _ = ctx._
    st = ctx.compact if compact else ctx.st
    first = blocks[0][1]
    lead: list[Flowable] = [
        Paragraph(_escape(_("Assessment bands")), st.subheading if compact else st.heading),
        Paragraph(
            _escape(
                _(
                    "People by band of their latest questionnaire in the block (each anonymous "
                    "form counts as a person)."
                )
            ),
            st.small,
        ),
    ]
    story: list[Any] = []
    for group in first.bands:
        definition = load_instrument(group.key)
        title = definition.title.text(ctx.lang)
        charted = not compact and len(blocks) >= MIN_CHART_BLOCKS
        chart = _band_chart(ctx, definition, blocks) if charted else None
        note = None
        if charted and chart is None:
            note = _("No band can be drawn: every number of people here is below {k} or hidden.")
            note = note.format(k=ctx.k)
        story += _table_section(
            ctx,
            title,
            _band_columns(ctx, definition, group),
            blocks,
            compact=compact,
            note=note,
            chart=chart,
            lead=lead,
            level=st.subheading,
        )
        lead = []  # the part's heading goes with its first questionnaire only
    return story


def _compact_part(
    ctx: _Ctx,
    title: str,
    columns: Sequence[_Column],
    blocks: Sequence[tuple[str, BlockFigures]],
    width: float,
) -> list[Flowable]:
    table = _block_table(ctx, columns, blocks, compact=True, frame_width=width)
    return [Paragraph(_escape(title), ctx.compact.subheading), table]


def _compact_sections(
    ctx: _Ctx, blocks: Sequence[tuple[str, BlockFigures]], lead: Sequence[Flowable]
) -> list[Any]:
    """One station's tables without charts or notes, narrow ones side by side in pairs (when
    they are short enough to stay on one page)."""
    _ = ctx._
    first = blocks[0][1]
    bands = [
        (load_instrument(g.key).title.text(ctx.lang), _band_columns(ctx, load_instrument(g.key), g))
        for g in first.bands
    ]
    parts: list[list[tuple[str, list[_Column]]]] = [
        [(_("Appointments by type and modality"), _appointment_columns(ctx))],
        [
            (_("Appointments by status, no-shows and late cancellations"), _status_columns(ctx)),
            (_("Use of counsellors' hours and rooms"), _use_columns(ctx)),
        ],
        [(_("Waiting, lectures and crisis flags"), _service_columns(ctx))],
        [(_("Topics (people)"), _topic_columns(ctx, first))],
        *[bands[i : i + 2] for i in range(0, len(bands), 2)],
    ]
    if first.changes:
        parts.append([(_("Change in closed cases (people)"), _change_columns(ctx, first))])
    paired = len(blocks) <= KEEP_ROWS
    half = (FRAME_WIDTH - PAIR_GAP) / 2
    story: list[Any] = [CondPageBreak(160), *lead]
    for row in parts:
        if not paired or len(row) == 1:
            for title, columns in row:
                story += [
                    CondPageBreak(80),
                    *_compact_part(ctx, title, columns, blocks, FRAME_WIDTH),
                ]
            continue
        cells = [_compact_part(ctx, title, columns, blocks, half) for title, columns in row]
        pair = Table([cells], colWidths=[half + PAIR_GAP, half], hAlign="LEFT")
        pair.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), ctx.font, 7),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 0),
                    ("RIGHTPADDING", (0, 0), (0, -1), PAIR_GAP),
                    ("RIGHTPADDING", (1, 0), (1, -1), 0),
                    ("TOPPADDING", (0, 0), (-1, -1), 0),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
                ]
            )
        )
        story += [Spacer(0, 4), pair]
    return story


def _sections(
    ctx: _Ctx,
    blocks: Sequence[tuple[str, BlockFigures]],
    *,
    compact: bool,
    lead: Sequence[Flowable] = (),
) -> list[Any]:
    """Every table (and, for the selection, every chart) for one list of block rows; `lead`
    (the part's title) stays on the page of the first table."""
    _ = ctx._
    # A chart of one block says nothing its one-row table does not.
    charts = not compact and len(blocks) >= MIN_CHART_BLOCKS
    first = blocks[0][1]
    story: list[Any] = []
    story += _table_section(
        ctx,
        _("Appointments by type and modality"),
        _appointment_columns(ctx),
        blocks,
        compact=compact,
        lead=lead,
        note=None if compact else _("Every appointment that starts in the block, counted in full."),
        chart=_status_chart(ctx, blocks) if charts else None,
    )
    story += _table_section(
        ctx,
        _("Appointments by status, no-shows and late cancellations"),
        _status_columns(ctx),
        blocks,
        compact=compact,
        note=None
        if compact
        else _(
            "No-show rate: no-shows out of appointments that were due; late-cancellation rate: "
            "late cancellations out of all appointments (lectures left out of both)."
        ),
        chart=_rate_chart(ctx, blocks) if charts else None,
    )
    story += _table_section(
        ctx,
        _("Use of counsellors' hours and rooms"),
        _use_columns(ctx),
        blocks,
        compact=compact,
        note=None
        if compact
        else _(
            "Booked minutes out of the counsellors' scheduled minutes, and out of the opening "
            "minutes of the rooms of each kind."
        ),
        chart=_use_chart(ctx, blocks) if charts else None,
    )
    story += _table_section(
        ctx,
        _("Waiting, lectures and crisis flags"),
        _service_columns(ctx),
        blocks,
        compact=compact,
        note=None
        if compact
        else _(
            "Waiting: days from first contact to the first completed session, for the people "
            "whose first session fell in the block."
        ),
    )
    story += _table_section(
        ctx,
        _("Topics (people)"),
        _topic_columns(ctx, first),
        blocks,
        compact=compact,
        note=None
        if compact
        else _("A person may have several topics, so the topics have no total."),
    )
    story += _band_sections(ctx, blocks, compact=compact)
    if first.changes:
        story += _table_section(
            ctx,
            _("Change in closed cases (people)"),
            _change_columns(ctx, first),
            blocks,
            compact=compact,
            note=None
            if compact
            else _(
                "First against last questionnaire of the cases closed in the block; recovered: "
                "from above the clinical cut-off to below it."
            ),
        )
    return story


# --------------------------------------------------------------------------- the heading page


def _period_text(data: SummaryReportData, _: Translate) -> str:
    first, last = f"{data.first_month:%Y-%m}", f"{data.last_month:%Y-%m}"
    return first if first == last else _("{first} to {last}").format(first=first, last=last)


def _station_list(data: SummaryReportData, ctx: _Ctx) -> str | Flowable:
    """The chosen stations: the name of one; a grid of names (never a run-on line) for up to
    LISTED_STATIONS; beyond that, a pointer to the overview table that lists them all."""
    _ = ctx._
    count = len(data.stations)
    if count == 1:
        return data.stations[0].name
    if count > LISTED_STATIONS:
        return _("{count} stations, each listed in “Stations at a glance” below.").format(
            count=count
        )
    columns = 3
    names = [Paragraph(_escape(s.name), ctx.st.body) for s in data.stations]
    names += [""] * (-count % columns)
    width = (FRAME_WIDTH - 40 * mm - 6) / columns
    grid = Table(
        [names[i : i + columns] for i in range(0, len(names), columns)],
        colWidths=[width] * columns,
        hAlign="LEFT",
    )
    grid.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), ctx.font, 9.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    return grid


def _facts(data: SummaryReportData, ctx: _Ctx, report_number: str) -> Table:
    _ = ctx._
    grouping = _("By month") if data.grouping == "month" else _("By quarter")
    blocks = _("{grouping}, {count} blocks").format(grouping=grouping, count=len(data.blocks))
    facts: list[tuple[str, str | Flowable]] = [
        (_("Period"), _period_text(data, _)),
        (_("Blocks"), blocks),
        (_("Stations"), _station_list(data, ctx)),
        (
            _("Small numbers"),
            _("Numbers of people below {k} are shown as “<{k}”.").format(k=data.k),
        ),
        (_("Report number"), report_number),
        (_("Generated"), f"{data.generated_at:%Y-%m-%d %H:%M}"),
    ]
    table = Table(
        [
            [
                Paragraph(_escape(k), ctx.st.label),
                Paragraph(_escape(v), ctx.st.body) if isinstance(v, str) else v,
            ]
            for k, v in facts
        ],
        colWidths=[40 * mm, FRAME_WIDTH - 40 * mm],
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), ctx.font, 9.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
            ]
        )
    )
    return table


def _notes(data: SummaryReportData, ctx: _Ctx) -> Table:
    _ = ctx._
    notes = [
        _("No names, no client codes, no notes: this report holds counts only."),
        _(
            "Appointments, hours and room use describe the service and are shown in full; "
            "numbers of people are hidden below {k}."
        ).format(k=data.k),
        _(SMALL_MARK_NOTE).format(k=data.k),
    ]
    if data.hidden_mark_used:
        notes.append(_(HIDDEN_MARK_NOTE).format(k=data.k))
    notes += [
        _("—: nothing to measure (no appointments due, or no hours or rooms available)."),
        _(
            "The chosen stations together show a number of people only where every station "
            "shows its own; a quarter only where each of its months does."
        ),
    ]
    flow: list[Any] = [Paragraph(_escape(_("How to read this report")), ctx.st.subheading)]
    flow += [Paragraph(_escape(n), ctx.st.note, bulletText="•") for n in notes]
    box = Table([[flow]], colWidths=[FRAME_WIDTH], hAlign="LEFT")
    box.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), ctx.font, 9),
                ("BACKGROUND", (0, 0), (-1, -1), NOTE_FILL),
                ("LEFTPADDING", (0, 0), (-1, -1), 9),
                ("RIGHTPADDING", (0, 0), (-1, -1), 9),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ]
        )
    )
    return box


def _glance(data: SummaryReportData, ctx: _Ctx) -> list[Any]:
    """Each station over the whole period: operational figures only (they may be added up)."""
    _ = ctx._
    st = ctx.compact
    headers = [
        _("Station"),
        _("All appointments"),
        ctx.t(AppointmentStatus.COMPLETED),
        _("No-show rate"),
        _("Late-cancellation rate"),
        _("Counsellors' hours use"),
        _("Lectures held"),
    ]
    rows: list[list[Any]] = [
        [Paragraph(_escape(headers[0]), st.head_left)]
        + [Paragraph(_escape(h), st.head) for h in headers[1:]]
    ]
    for ref in data.stations:
        figures = [b.station(ref.id) for b in data.blocks]
        rows.append(
            [
                Paragraph(_escape(ref.name), st.head_left),
                _int(sum(f.appointments.total for f in figures)),
                _int(sum(f.appointments.by_status[AppointmentStatus.COMPLETED] for f in figures)),
                _rate(_add_rates([f.appointments.no_show for f in figures])),
                _rate(_add_rates([f.appointments.late_cancellation for f in figures])),
                _use(_add_uses([f.counsellor_hours for f in figures])),
                _int(sum(f.lectures_held for f in figures)),
            ]
        )
    name_w = 95 * mm
    table = Table(
        rows,
        colWidths=[name_w] + [28 * mm] * (len(headers) - 1),
        repeatRows=1,
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), ctx.font, 8),
                ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, RULE),
                ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    heading = Paragraph(_escape(_("Stations at a glance, whole period")), ctx.st.heading)
    note = Paragraph(
        _escape(_("Appointments, rates and hours of each station over the whole period.")),
        ctx.st.small,
    )
    return [KeepTogether([heading, note, Spacer(0, 3), table])]


def _key_figures(data: SummaryReportData, ctx: _Ctx) -> Table:
    """The service of the chosen stations over the whole period in a few large figures
    (operational counts only, so they may be added up)."""
    _ = ctx._
    figures = [b.selection for b in data.blocks]
    items = [
        (_("All appointments"), _int(sum(f.appointments.total for f in figures))),
        (
            ctx.t(AppointmentStatus.COMPLETED),
            _int(sum(f.appointments.by_status[AppointmentStatus.COMPLETED] for f in figures)),
        ),
        (_("No-show rate"), _rate(_add_rates([f.appointments.no_show for f in figures]))),
        (
            _("Late-cancellation rate"),
            _rate(_add_rates([f.appointments.late_cancellation for f in figures])),
        ),
        (_("Counsellors' hours use"), _use(_add_uses([f.counsellor_hours for f in figures]))),
        (_("Lectures held"), _int(sum(f.lectures_held for f in figures))),
    ]
    big = ParagraphStyle("big", parent=ctx.st.body, fontSize=17, leading=21, textColor=ACCENT)
    cells = [
        [Paragraph(_escape(value), big), Paragraph(_escape(label), ctx.st.small)]
        for label, value in items
    ]
    table = Table(
        [[c[0] for c in cells], [c[1] for c in cells]],
        colWidths=[FRAME_WIDTH / len(items)] * len(items),
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), ctx.font, 9),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 6),
            ]
        )
    )
    return table


def _heading_page(data: SummaryReportData, ctx: _Ctx, report_number: str) -> list[Any]:
    _ = ctx._
    return [
        Paragraph(_escape(_("Employee wellbeing stations: summary report")), ctx.st.title),
        Paragraph(
            _escape(
                _("Appointments, use, waiting, lectures, assessments and crisis flags, {period}")
            ).format(period=_escape(_period_text(data, _))),
            ctx.st.subtitle,
        ),
        _facts(data, ctx, report_number),
        Spacer(0, 8),
        _key_figures(data, ctx),
        Spacer(0, 8),
        _notes(data, ctx),
    ]


# --------------------------------------------------------------------------- the document


def _story(data: SummaryReportData, ctx: _Ctx, report_number: str) -> list[Any]:
    _ = ctx._
    story = _heading_page(data, ctx, report_number)
    if len(data.stations) > 1:
        story += _glance(data, ctx)
    selection = [(b.label, b.selection) for b in data.blocks]
    title = _("All chosen stations together") if len(data.stations) > 1 else data.stations[0].name
    part = Paragraph(_escape(title), ctx.st.part)
    story += [PageBreak(), *_sections(ctx, selection, compact=False, lead=[part])]
    if len(data.stations) > 1:
        for ref in data.stations:
            rows = [(b.label, b.station(ref.id)) for b in data.blocks]
            part = Paragraph(_escape(ref.name), ctx.st.part)
            story += [PageBreak(), *_compact_sections(ctx, rows, [part])]
    return story


def write_summary_report(
    out: BinaryIO | Path, *, data: SummaryReportData, lang: str, report_number: str
) -> int:
    """Writes the report in `lang` ("zh_CN" or "en") and returns the number of pages."""
    if not data.blocks or not data.stations:
        raise ValueError("a summary report needs at least one block and one station")
    lang = document_language(lang)
    _ = translator(lang)
    font = register_fonts()
    chinese_line_rules()
    ctx = _Ctx(
        lang=lang,
        _=_,
        font=font,
        st=_Styles(font, lang),
        compact=_Styles(font, lang, compact=True),
        k=data.k,
    )
    footer = _("CareStation · summary report {number} · generated {when} · counts only, no names")
    canvas_class = _numbered_canvas(
        footer.format(number=report_number, when=f"{data.generated_at:%Y-%m-%d %H:%M}"),
        _("Page {page} of {pages}"),
        font,
    )
    doc = SimpleDocTemplate(
        str(out) if isinstance(out, Path) else out,
        pagesize=PAGE,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=summary_report_title(report_number),
        author=CREATOR,
        creator=CREATOR,
        subject="",
        initialFontName=font,
    )
    doc.build(_story(data, ctx, report_number), canvasmaker=canvas_class)
    return int(doc.page)


__all__ = ["summary_report_title", "write_summary_report"]
