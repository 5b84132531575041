"""The printed summary of a screening campaign for the employer's union: participation and, per
questionnaire, how many people fell in each band, small numbers suppressed. It is drawn only from
a CampaignSummary, which holds counts and never a single person's result."""

from __future__ import annotations

from pathlib import Path
from typing import Any, BinaryIO

from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from carestation.assessments import Instrument, load_instrument
from carestation.domain.assessment_values import BandDistribution, CampaignSummary
from carestation.domain.suppression import HIDDEN_MARK
from carestation.reports import CREATOR, Translate, document_language, report_title, translator
from carestation.reports.fonts import register_fonts
from carestation.reports.page_canvas import counted_pages_canvas
from carestation.services.campaign_notes import summary_notes

MARGIN_X, MARGIN_TOP, MARGIN_BOTTOM = 18 * mm, 16 * mm, 18 * mm
BAR_WIDTH = 62 * mm
BAR_HEIGHT = 9
BAR_COLOUR = colors.Color(0.2, 0.45, 0.6)
GRID_COLOUR = colors.Color(0.75, 0.75, 0.75)
HEAD_FILL = colors.Color(0.92, 0.94, 0.96)
SOFT = colors.Color(0.4, 0.4, 0.4)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _marked(text: str) -> str:
    """Escaped, with the hidden-cell mark drawn large enough to see."""
    return _escape(text).replace(HIDDEN_MARK, f'<font size="13">{HIDDEN_MARK}</font>')


class _Styles:
    def __init__(self, font: str, lang: str) -> None:
        wrap = {"wordWrap": "CJK"} if lang == "zh_CN" else {}

        def style(name: str, size: float, **kw: Any) -> ParagraphStyle:
            return ParagraphStyle(
                name, fontName=font, fontSize=size, leading=size * 1.35, **wrap, **kw
            )

        self.title = style("title", 18, spaceAfter=4)
        self.subtitle = style("subtitle", 10.5, textColor=SOFT, spaceAfter=8)
        self.heading = style("heading", 13, spaceBefore=10, spaceAfter=5)
        self.body = style("body", 9.5)
        self.cell = style("cell", 9)
        self.number = style("number", 9, alignment=2)
        self.note = style(
            "note", 8.5, leftIndent=10, bulletIndent=0, spaceAfter=3, bulletFontName=font
        )


def _numbered_canvas(footer_left: str, page_text: str, font: str) -> type[Canvas]:
    """A canvas that writes "page X of Y" once the number of pages is known."""

    def footer(canvas: Canvas, total: int) -> None:
        width, _height = A4
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(SOFT)
        canvas.setStrokeColor(GRID_COLOUR)
        canvas.setLineWidth(0.4)
        canvas.line(MARGIN_X, 12 * mm, width - MARGIN_X, 12 * mm)
        canvas.drawString(MARGIN_X, 8.5 * mm, footer_left)
        canvas.drawRightString(
            width - MARGIN_X, 8.5 * mm, page_text.format(page=canvas.getPageNumber(), pages=total)
        )
        canvas.restoreState()

    return counted_pages_canvas(font, footer)


def _bar(count: int | None, shown: str, scale: int, font: str) -> Drawing:
    """One row of the bar chart: a bar for a visible count, only the mark for a hidden one."""
    drawing = Drawing(BAR_WIDTH, BAR_HEIGHT + 2, initialFontName=font)
    drawing.add(Rect(0, 1, BAR_WIDTH - 12 * mm, BAR_HEIGHT, fillColor=None, strokeColor=None))
    if count is not None and scale > 0:
        length = (BAR_WIDTH - 12 * mm) * count / scale
        if length > 0:
            drawing.add(Rect(0, 1, length, BAR_HEIGHT, fillColor=BAR_COLOUR, strokeColor=None))
        drawing.add(String(length + 3, 3, shown, fontName=font, fontSize=8, fillColor=colors.black))
    return drawing


def _range(definition: Instrument, band_slug: str) -> str:
    band = definition.band(band_slug)
    unit = "%" if definition.band_basis == "percent" else ""
    return f"{band.min}–{band.max}{unit}"


def _distribution(
    dist: BandDistribution, lang: str, _: Translate, styles: _Styles, font: str
) -> list[Any]:
    definition = load_instrument(dist.instrument)
    title = definition.title.text(lang)
    short = definition.short_title.text(lang)
    heading = title if short in title else f"{title} ({short})"
    scale = dist.total.count or 0
    rows: list[list[Any]] = [
        [
            Paragraph(_escape(_("Band")), styles.cell),
            Paragraph(_escape(_("Scores")), styles.cell),
            Paragraph(_escape(_("People")), styles.number),
            "",
        ]
    ]
    for cell in dist.cells:
        rows.append(
            [
                Paragraph(_escape(definition.band(cell.band).label.text(lang)), styles.cell),
                _range(definition, cell.band),
                Paragraph(_marked(cell.shown), styles.number),
                _bar(cell.count, cell.shown, scale, font),
            ]
        )
    rows.append(
        [
            Paragraph(_escape(_("All who answered")), styles.cell),
            "",
            Paragraph(_escape(dist.total.shown), styles.number),
            "",
        ]
    )
    table = Table(
        rows,
        colWidths=[52 * mm, 24 * mm, 20 * mm, BAR_WIDTH + 4 * mm],
        repeatRows=1,
        hAlign="LEFT",
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 9),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("BACKGROUND", (0, 0), (-1, 0), HEAD_FILL),
                ("LINEBELOW", (0, 0), (-1, 0), 0.6, GRID_COLOUR),
                ("LINEABOVE", (0, -1), (-1, -1), 0.6, GRID_COLOUR),
                ("LINEBELOW", (0, 1), (-1, -2), 0.25, GRID_COLOUR),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return [KeepTogether([Paragraph(_escape(heading), styles.heading), table])]


def write_campaign_summary(
    out: BinaryIO | Path, *, summary: CampaignSummary, station_name: str, lang: str
) -> int:
    """Writes the summary in `lang` ("zh_CN" or "en") and returns the number of pages."""
    lang = document_language(lang)
    _ = translator(lang)
    font = register_fonts()
    styles = _Styles(font, lang)
    campaign = summary.campaign
    generated = summary.generated_at.strftime("%Y-%m-%d %H:%M")
    footer = _(
        "CareStation · report C-{id} · generated {when} · counts only, no individual results"
    )
    canvas_class = _numbered_canvas(
        footer.format(id=f"{campaign.id:06d}", when=generated),
        _("Page {page} of {pages}"),
        font,
    )
    doc = SimpleDocTemplate(
        str(out) if isinstance(out, Path) else out,
        pagesize=A4,
        leftMargin=MARGIN_X,
        rightMargin=MARGIN_X,
        topMargin=MARGIN_TOP,
        bottomMargin=MARGIN_BOTTOM,
        title=report_title(campaign.id),
        author=CREATOR,
        creator=CREATOR,
        subject="",
        initialFontName=font,
    )
    dates = _("{first} to {last}").format(
        first=campaign.starts_on.isoformat(), last=campaign.ends_on.isoformat()
    )
    if campaign.closed_at is not None:
        dates += " · " + _("closed on {date}").format(date=f"{campaign.closed_at:%Y-%m-%d}")
    participation = _("{used} of {issued} codes used").format(
        used=summary.participants.shown, issued=campaign.issued
    )
    facts = [
        (_("Campaign"), campaign.name),
        (_("Employer or work unit"), campaign.work_unit),
        (_("Run by"), station_name),
        (_("Dates"), dates),
        (_("Participants"), participation),
    ]
    fact_table = Table(
        [
            [Paragraph(_escape(k), styles.body), Paragraph(_escape(v), styles.body)]
            for k, v in facts
        ],
        colWidths=[42 * mm, None],
        hAlign="LEFT",
    )
    fact_table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), font, 9.5),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TEXTCOLOR", (0, 0), (0, -1), SOFT),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
            ]
        )
    )
    story: list[Any] = [
        Paragraph(_escape(_("Screening summary")), styles.title),
        Paragraph(
            _escape(_("Anonymous questionnaires at the station's self-service screen")),
            styles.subtitle,
        ),
        fact_table,
        Spacer(0, 4),
    ]
    if summary.participants.count is None:
        story.append(
            Paragraph(
                _escape(
                    _(
                        "Fewer than {k} people took part, so no figures can be shown without "
                        "the risk of identifying someone."
                    ).format(k=summary.k)
                ),
                styles.body,
            )
        )
    else:
        for dist in summary.distributions:
            story += _distribution(dist, lang, _, styles, font)
    hidden_used = any(c.shown == HIDDEN_MARK for d in summary.distributions for c in d.cells)
    notes = summary_notes(
        instruments=campaign.instruments, k=summary.k, hidden_mark_used=hidden_used, gettext=_
    )
    story.append(Paragraph(_escape(_("Notes")), styles.heading))
    story += [Paragraph(_marked(n), styles.note, bulletText="•") for n in notes]
    doc.build(story, canvasmaker=canvas_class)
    return int(doc.page)
