"""The personal wellbeing report (个人心理健康评估报告) an employee takes home: per questionnaire the
latest score in plain words, a chart over time with the bands shaded, what it means, self-care
suggestions and follow-up advice; then where to get help now, the screening disclaimer and the
counsellor's signature. Drawn only from PersonalReportData; the wording comes from
resources/text/report_{lang}.json."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any, BinaryIO

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
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
from carestation.domain.report_values import InstrumentSection, PersonalReportData
from carestation.reports import CREATOR, Translate, document_language, translator
from carestation.reports.fonts import FONT, chinese_line_rules, register_fonts
from carestation.reports.personal_chart import CHART_HEIGHT, LINE_COLOUR, SOFT, score_chart
from carestation.reports.report_texts import REPORT_INSTRUMENTS, ReportTexts, load_report_texts

MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 18 * mm, 15 * mm, 18 * mm
FRAME_WIDTH = A4[0] - 2 * MARGIN_X
INK = colors.Color(0.13, 0.16, 0.2)
RULE = colors.Color(0.75, 0.75, 0.75)
HEAD_FILL = colors.Color(0.93, 0.95, 0.97)
HELP_FILL = colors.Color(0.94, 0.97, 0.99)
FOLLOW_FILL = colors.Color(0.99, 0.96, 0.9)
MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)


def personal_report_title(report_number: str) -> str:
    """The PDF's metadata title: neutral, never a person's name."""
    return f"CareStation report {report_number}"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _long_date(day: date, lang: str) -> str:
    if lang == "zh_CN":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def _score(definition: Instrument, value: int) -> str:
    return f"{value} / {definition.band_values()[-1]}"


class _Styles:
    def __init__(self, font: str, lang: str) -> None:
        wrap = {"wordWrap": "CJK"} if lang == "zh_CN" else {}

        def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
            kw.setdefault("leading", size * 1.45)
            kw.setdefault("textColor", INK)
            return ParagraphStyle(name, fontName=font, fontSize=size, allowWidows=0, **wrap, **kw)

        self.station = style("station", 10.5, leading=13)
        self.contact = style("contact", 8.5, textColor=SOFT)
        self.title = style("title", 19, leading=24, spaceBefore=6, spaceAfter=6)
        self.heading = style("heading", 13.5, spaceBefore=10, spaceAfter=3, keepWithNext=1)
        self.subheading = style("subheading", 10.5, spaceBefore=5, spaceAfter=2, keepWithNext=1)
        self.body = style("body", 9.5)
        self.small = style("small", 8.5, textColor=SOFT)
        self.cell = style("cell", 9, leading=12)
        self.latest = style("latest", 10.5, spaceAfter=2)
        self.bullet = style(
            "bullet", 9.5, leftIndent=12, bulletIndent=2, spaceAfter=1.5, bulletFontName=font
        )
        self.help_number = style("help_number", 13, leading=15, textColor=LINE_COLOUR)


class _ReportMark(Flowable):
    """Zero-size marker at the top of each report: tells the canvas which report (and so which
    footer and page count) the following pages belong to."""

    def __init__(self, index: int) -> None:
        super().__init__()
        self.index = index

    def wrap(self, _aw: float, _ah: float) -> tuple[float, float]:
        return 0, 0

    def draw(self) -> None:
        self.canv._report_index = self.index


def _numbered_canvas(footers: Sequence[tuple[str, str]], font: str) -> type[Canvas]:
    """A canvas that writes each report's footer and "page X of Y" counted within that report."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            kwargs.setdefault("initialFontName", font)
            super().__init__(*args, **kwargs)
            self._report_index = 0
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            totals: dict[int, int] = {}
            for state in self._pages:
                totals[state["_report_index"]] = totals.get(state["_report_index"], 0) + 1
            seen: dict[int, int] = {}
            for state in self._pages:
                self.__dict__.update(state)
                index = state["_report_index"]
                seen[index] = seen.get(index, 0) + 1
                self._footer(index, seen[index], totals[index])
                super().showPage()
            super().save()

        def _footer(self, index: int, page: int, total: int) -> None:
            left, page_text = footers[index]
            width, _height = A4
            self.saveState()
            self.setFont(font, 7.5)
            self.setFillColor(SOFT)
            self.setStrokeColor(RULE)
            self.setLineWidth(0.4)
            self.line(MARGIN_X, 12 * mm, width - MARGIN_X, 12 * mm)
            self.drawString(MARGIN_X, 8.5 * mm, left)
            self.drawRightString(
                width - MARGIN_X, 8.5 * mm, page_text.format(page=page, pages=total)
            )
            self.restoreState()

    return NumberedCanvas


# --------------------------------------------------------------------------- the document


def _check(data: PersonalReportData) -> None:
    if not data.sections:
        raise ValueError(f"report {data.report_number} has no questionnaire results")
    for section in data.sections:
        if section.instrument not in REPORT_INSTRUMENTS:
            raise ValueError(f"{section.instrument!r} does not belong on a personal report")
        load_instrument(section.instrument).band(section.latest_band)
        if not section.points:
            raise ValueError(f"{section.instrument}: no points to chart")


def _table(rows: list[list[Any]], widths: list[Any], style: list[Any], **kw: Any) -> Table:
    table = Table(rows, colWidths=widths, hAlign="LEFT", **kw)
    # FONT for every cell: an empty cell would otherwise select unembedded Helvetica.
    common = [("FONT", (0, 0), (-1, -1), FONT, 9), ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]
    table.setStyle(TableStyle([*common, *style]))
    return table


def _header(data: PersonalReportData, texts: ReportTexts, _: Translate, st: _Styles) -> list[Any]:
    sep, g = ("：" if data.lang == "zh_CN" else ": "), texts.general
    contact = [
        f"{_escape(label)}{sep}{_escape(value)}"
        for label, value in ((_("Address"), data.station_address), (_("Phone"), data.station_phone))
        if value
    ]
    facts = [(g["label_code"], data.client_code)]
    if data.client_name:
        facts.append((g["label_name"], data.client_name))
    facts += [
        (g["label_report_number"], data.report_number),
        (g["label_issued"], _long_date(data.issued_on, data.lang)),
        (g["label_counsellor"], data.counsellor_name),
    ]
    facts += [("", "")] * (len(facts) % 2)
    cells = [
        [Paragraph(_escape(label), st.small), Paragraph(_escape(value), st.body)]
        for label, value in facts
    ]
    table = _table(
        [a + b for a, b in zip(cells[::2], cells[1::2], strict=True)],
        [26 * mm, 60 * mm, 26 * mm, None],
        [
            ("LEFTPADDING", (0, 0), (0, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 1.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
            ("LINEBELOW", (0, -1), (-1, -1), 0.6, RULE),
        ],
    )
    return [
        Paragraph(_escape(data.station_name), st.station),
        Paragraph("　　".join(contact), st.contact),
        Paragraph(_escape(g["title"]), st.title),
        table,
        Spacer(0, 6),
        Paragraph(_escape(texts.text("intro", station_name=data.station_name)), st.body),
    ]


def _overview(data: PersonalReportData, texts: ReportTexts, st: _Styles) -> list[Any]:
    """The latest result of every questionnaire in one table (left out for a single one)."""
    if len(data.sections) < 2:
        return []
    keys = ("col_questionnaire", "col_date", "col_score", "col_result")
    rows = [[Paragraph(_escape(texts.general[k]), st.cell) for k in keys]]
    for s in data.sections:
        definition = load_instrument(s.instrument)
        cells = (
            definition.short_title.text(data.lang),
            s.latest_on.isoformat(),
            _score(definition, s.latest_value),
            definition.band(s.latest_band).label.text(data.lang),
        )
        rows.append([Paragraph(_escape(c), st.cell) for c in cells])
    table = _table(
        rows,
        [30 * mm, 28 * mm, 24 * mm, None],
        [
            ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
            ("LINEBELOW", (0, 0), (-1, -1), 0.3, RULE),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ],
        repeatRows=1,
    )
    return [Paragraph(_escape(texts.general["results_heading"]), st.heading), table]


def _lead(label: str, text: str, lang: str, style: ParagraphStyle) -> Paragraph:
    """A paragraph that starts with a coloured label ("Our suggestion: ...")."""
    sep = "：" if lang == "zh_CN" else ": "
    return Paragraph(f"<font color='#1f5788'>{_escape(label)}{sep}</font>{_escape(text)}", style)


def _boxed(flowables: list[Any], fill: colors.Color) -> Table:
    return _table(
        [[flowables]],
        [FRAME_WIDTH],
        [
            ("BACKGROUND", (0, 0), (-1, -1), fill),
            ("LEFTPADDING", (0, 0), (-1, -1), 8),
            ("RIGHTPADDING", (0, 0), (-1, -1), 8),
            ("TOPPADDING", (0, 0), (-1, -1), 5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
        ],
    )


def _section(
    s: InstrumentSection, data: PersonalReportData, texts: ReportTexts, st: _Styles, font: str
) -> list[Any]:
    lang, g = data.lang, texts.general
    definition = load_instrument(s.instrument)
    words = texts.instruments[s.instrument]
    band = words.bands[s.latest_band]
    sep, gap = ("：", "　　") if lang == "zh_CN" else (": ", "  ·  ")
    label = definition.band(s.latest_band).label.text(lang)
    latest = gap.join(
        [
            f"{_escape(g['label_latest'])}{sep}{_escape(_long_date(s.latest_on, lang))}",
            f"{_escape(g['label_score'])}{sep}<font size='14'>{s.latest_value}</font>"
            f" / {definition.band_values()[-1]}",
            f"<font color='#1f5788'>{_escape(label)}</font>",
        ]
    )
    end = "。" if lang == "zh_CN" else "."
    about = f"{words.about}{'' if lang == 'zh_CN' else ' '}{words.chart_note}{end}"
    top = [
        Paragraph(_escape(definition.title.text(lang)), st.heading),
        Paragraph(latest, st.latest),
        Paragraph(_escape(about), st.small),
        Spacer(0, 3),
        score_chart(s, definition, lang, font, width=FRAME_WIDTH),
    ]
    if s.change is not None and len(s.points) > 1:
        first = _long_date(min(p.taken_on for p in s.points), lang)
        change = texts.text(f"change_{s.change}", first_date=first)
        top += [Spacer(0, 3), Paragraph(_escape(change), st.body)]
    meaning = [
        Paragraph(_escape(g["heading_meaning"]), st.subheading),
        Paragraph(_escape(band.interpretation), st.body),
    ]
    # Suggestions and the follow-up advice stay together: never a lone line over a page break.
    care = [Paragraph(_escape(g["heading_self_care"]), st.subheading)]
    care += [Paragraph(_escape(t), st.bullet, bulletText="•") for t in band.suggestions]
    if s.follow_up_advised or band.follow_up:
        # The band's own advice, or (a flag such as PHQ-9 question 9) the general sentence.
        sentence = words.follow_up if band.follow_up and words.follow_up else None
        box = [_lead(g["label_follow_up"], sentence or g["follow_up_answers"], lang, st.body)]
        care += [Spacer(0, 4), _boxed(box, FOLLOW_FILL)]
    if s.instrument == "pss10":
        care += [Spacer(0, 4), Paragraph(_escape(g["pss10_note"]), st.small)]
    return [
        CondPageBreak(CHART_HEIGHT + 90),
        KeepTogether(top),
        KeepTogether(meaning),
        KeepTogether(care),
    ]


def _closing(data: PersonalReportData, texts: ReportTexts, st: _Styles) -> list[Any]:
    g = texts.general
    lines = [(h.number, h.text) for h in texts.help_lines]
    if data.station_phone:
        station = texts.text("help_station", station_name=data.station_name)
        lines.append((data.station_phone, station))
    numbers = _table(
        [[Paragraph(_escape(n), st.help_number), Paragraph(_escape(t), st.body)] for n, t in lines],
        [40 * mm, None],
        [
            ("LEFTPADDING", (0, 0), (0, -1), 0),
            ("TOPPADDING", (0, 0), (-1, -1), 0.5),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 0.5),
        ],
    )
    intro = [
        Paragraph(_escape(g[k]), s)
        for k, s in (("help_title", st.subheading), ("help_intro", st.body))
    ]
    help_box = _boxed([*intro, Spacer(0, 3), numbers], HELP_FILL)
    # Signature and date lines with a gap between them; the stamp needs no line.
    labels = [
        Paragraph(_escape(g[k]), st.small) for k in ("sign_counsellor", "sign_date", "sign_stamp")
    ]
    sign = _table(
        [
            [labels[0], "", labels[1], "", labels[2]],
            [""] * 5,
            [Paragraph(_escape(data.counsellor_name), st.small), "", "", "", ""],
        ],
        [62 * mm, 10 * mm, 40 * mm, 12 * mm, None],
        [
            ("LINEBELOW", (0, 1), (0, 1), 0.6, INK),
            ("LINEBELOW", (2, 1), (2, 1), 0.6, INK),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
        ],
        rowHeights=[None, 22, None],
    )
    disclaimer = [
        _lead(g["screening_title"], g["screening"], data.lang, st.body),
        Spacer(0, 3),
        Paragraph(_escape(g["closing"]), st.body),
        Spacer(0, 8),
        sign,
    ]
    return [Spacer(0, 8), KeepTogether([help_box]), Spacer(0, 6), KeepTogether(disclaimer)]


def _story(data: PersonalReportData, lang: str, font: str) -> tuple[list[Any], tuple[str, str]]:
    _check(data)
    _ = translator(lang)
    texts = load_report_texts(lang)
    data_in_lang = data if data.lang == lang else replace(data, lang=lang)
    st = _Styles(font, lang)
    story = _header(data_in_lang, texts, _, st) + _overview(data_in_lang, texts, st)
    for section in data.sections:
        story += _section(section, data_in_lang, texts, st, font)
    story += _closing(data_in_lang, texts, st)
    footer = texts.text("footer", report_number=data.report_number)
    return story, (footer, _("Page {page} of {pages}"))


def _build(
    out: BinaryIO | Path, reports: Sequence[tuple[PersonalReportData, str]], title: str
) -> int:
    font = register_fonts()
    chinese_line_rules()
    story: list[Any] = []
    footers: list[tuple[str, str]] = []
    for index, (data, lang) in enumerate(reports):
        part, footer = _story(data, lang, font)
        if index:
            story.append(PageBreak())
        story += [_ReportMark(index), *part]
        footers.append(footer)
    doc = SimpleDocTemplate(
        str(out) if isinstance(out, Path) else out,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=title,
        author=CREATOR,
        creator=CREATOR,
        subject="",
        initialFontName=font,
    )
    doc.build(story, canvasmaker=_numbered_canvas(footers, font))
    return int(doc.page)


def write_personal_report(
    out: BinaryIO | Path, *, data: PersonalReportData, lang: str | None = None
) -> int:
    """Writes one report in `lang` (default data.lang: "zh_CN" or "en"); returns the page count."""
    lang = document_language(lang or data.lang)
    return _build(out, [(data, lang)], personal_report_title(data.report_number))


def write_personal_reports(out: BinaryIO | Path, *, reports: Sequence[PersonalReportData]) -> int:
    """Writes several reports into one PDF, each starting on a new page with its own page
    numbers, each in its own language; returns the total page count."""
    if not reports:
        raise ValueError("no reports to write")
    numbers = [r.report_number for r in reports]
    title = personal_report_title(numbers[0])
    if len(numbers) > 1:
        title = f"CareStation reports {numbers[0]} to {numbers[-1]}"
    return _build(out, [(r, document_language(r.lang)) for r in reports], title)


__all__ = ["personal_report_title", "write_personal_report", "write_personal_reports"]
