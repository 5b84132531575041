"""A sheet of cut-out slips for a screening campaign: ten to an A4 page, each with one one-time
code (large, and as a QR code), how to use it, and where to get help now. Nothing on a slip says
who it is for."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

from reportlab.graphics import renderPDF
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph

from carestation.domain import campaign_codes
from carestation.domain.assessment_values import CampaignInfo
from carestation.reports import CREATOR, document_language, report_title, translator
from carestation.reports.fonts import register_fonts

COLUMNS, ROWS = 2, 5
PER_PAGE = COLUMNS * ROWS
MARGIN = 8 * mm
PAD = 4 * mm
QR_SIZE = 24 * mm
CUT_COLOUR = colors.Color(0.6, 0.6, 0.6)
TEXT_COLOUR = colors.Color(0.1, 0.1, 0.1)
SOFT_COLOUR = colors.Color(0.35, 0.35, 0.35)
ACCENT_COLOUR = colors.Color(0.05, 0.3, 0.45)
HELP_LINES = ("12356", "12351", "120")


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fit(text: str, font: str, size: float, width: float) -> str:
    """`text` cut with an ellipsis to fit on one line of `width` points."""
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


class _Slip:
    """The texts of every slip of the sheet (they differ only in the code)."""

    def __init__(
        self, campaign: CampaignInfo, station_name: str, station_phone: str, lang: str
    ) -> None:
        _ = translator(lang)
        self.font = register_fonts()
        self.wrap = "CJK" if lang == "zh_CN" else None
        self.name = campaign.name
        self.work_unit = campaign.work_unit
        self.invitation = _("You are invited to a confidential wellbeing check-up.")
        self.how = _(
            'At the station\'s self-service screen, choose "{button}" and type this code. It '
            "works once, from {first} to {last}."
        ).format(
            button=_("I have a screening code"),
            first=campaign.starts_on.isoformat(),
            last=campaign.ends_on.isoformat(),
        )
        self.anonymous = _("Your answers are anonymous: nobody can link this code to you.")
        self.help = _(
            "Need to talk now? National psychological assistance hotline {assist} · union "
            "hotline {union} · emergency {emergency}"
        ).format(assist=HELP_LINES[0], union=HELP_LINES[1], emergency=HELP_LINES[2])
        where = station_name if not station_phone else f"{station_name}  {station_phone}"
        self.station = where
        self.cut_hint = _("Cut along the dashed lines.")

    def style(self, size: float, colour: colors.Color = TEXT_COLOUR) -> ParagraphStyle:
        extra = {"wordWrap": self.wrap} if self.wrap else {}
        return ParagraphStyle(
            f"slip{size}",
            fontName=self.font,
            fontSize=size,
            leading=size * 1.3,
            textColor=colour,
            **extra,
        )


def _paragraph(
    canvas: Canvas,
    slip: _Slip,
    text: str,
    x: float,
    top: float,
    width: float,
    size: float,
    colour: colors.Color = TEXT_COLOUR,
) -> float:
    """Draws a wrapped paragraph whose top is at `top`; returns its bottom."""
    para = Paragraph(_escape(text), slip.style(size, colour))
    _w, height = para.wrapOn(canvas, width, 1000)
    para.drawOn(canvas, x, top - height)
    return top - height


def _draw_slip(
    canvas: Canvas, slip: _Slip, code: str, x: float, y: float, w: float, h: float
) -> None:
    """One slip in the box with lower-left corner (x, y)."""
    font = slip.font
    left, top = x + PAD, y + h - PAD
    inner = w - 2 * PAD
    text_width = inner - QR_SIZE - 3 * mm
    shown = campaign_codes.display(code)

    drawing = Drawing(QR_SIZE, QR_SIZE, initialFontName=font)
    drawing.add(QrCodeWidget(shown, barLevel="M", barWidth=QR_SIZE, barHeight=QR_SIZE, barBorder=0))
    renderPDF.draw(drawing, canvas, x + w - PAD - QR_SIZE, top - QR_SIZE)

    canvas.setFillColor(TEXT_COLOUR)
    canvas.setFont(font, 10.5)
    canvas.drawString(left, top - 10, _fit(slip.name, font, 10.5, text_width))
    canvas.setFillColor(SOFT_COLOUR)
    canvas.setFont(font, 8)
    canvas.drawString(left, top - 21, _fit(slip.work_unit, font, 8, text_width))
    bottom = _paragraph(canvas, slip, slip.invitation, left, top - 25, text_width, 8)

    size = 19.0
    while stringWidth(shown, font, size) > text_width and size > 12:
        size -= 0.5
    canvas.setFillColor(ACCENT_COLOUR)
    canvas.setFont(font, size)
    code_base = min(bottom - size - 2, top - QR_SIZE + 2)
    canvas.drawString(left, code_base, shown)

    below = min(code_base - 7, top - QR_SIZE - 3)
    below = _paragraph(canvas, slip, slip.how, left, below, inner, 7.2)
    below = _paragraph(
        canvas, slip, slip.anonymous, left, below - 1.5, inner, 7.2, colour=ACCENT_COLOUR
    )
    below = _paragraph(canvas, slip, slip.help, left, below - 1.5, inner, 6.6, colour=SOFT_COLOUR)
    canvas.setFillColor(SOFT_COLOUR)
    canvas.setFont(font, 6.6)
    canvas.drawString(left, y + PAD - 1, _fit(slip.station, font, 6.6, inner))


def _cut_lines(canvas: Canvas, x: float, y: float, w: float, h: float) -> None:
    canvas.saveState()
    canvas.setStrokeColor(CUT_COLOUR)
    canvas.setLineWidth(0.4)
    canvas.setDash(3, 3)
    for col in range(COLUMNS + 1):
        canvas.line(x + col * w, y, x + col * w, y + ROWS * h)
    for row in range(ROWS + 1):
        canvas.line(x, y + row * h, x + COLUMNS * w, y + row * h)
    canvas.restoreState()


def write_code_slips(
    out: BinaryIO | Path,
    *,
    campaign: CampaignInfo,
    codes: Sequence[str],
    station_name: str,
    station_phone: str,
    lang: str,
) -> int:
    """Writes the sheets of slips for `codes` (as stored or as printed) and returns the number of
    pages. ValueError when there is no code to print or a code is not a valid one."""
    lang = document_language(lang)
    parsed = [campaign_codes.normalise(c) for c in codes]
    if not parsed:
        raise ValueError("no codes to print")
    bad = [c for c in parsed if not campaign_codes.is_valid(c)]
    if bad:
        raise ValueError(f"{len(bad)} of the codes are not valid codes")
    font = register_fonts()
    slip = _Slip(campaign, station_name, station_phone, lang)
    target = str(out) if isinstance(out, Path) else out
    canvas = Canvas(target, pagesize=A4, initialFontName=font, initialFontSize=10)
    canvas.setTitle(report_title(campaign.id))
    canvas.setAuthor(CREATOR)
    canvas.setCreator(CREATOR)
    canvas.setSubject("")
    page_w, page_h = A4
    w = (page_w - 2 * MARGIN) / COLUMNS
    h = (page_h - 2 * MARGIN) / ROWS
    pages = 0
    for start in range(0, len(parsed), PER_PAGE):
        pages += 1
        canvas.setFont(font, 6.5)
        canvas.setFillColor(SOFT_COLOUR)
        canvas.drawString(MARGIN, page_h - MARGIN + 2.5 * mm, slip.cut_hint)
        canvas.drawRightString(
            page_w - MARGIN, page_h - MARGIN + 2.5 * mm, f"C-{campaign.id:06d} · {pages}"
        )
        for i, code in enumerate(parsed[start : start + PER_PAGE]):
            col, row = i % COLUMNS, i // COLUMNS
            x = MARGIN + col * w
            y = page_h - MARGIN - (row + 1) * h
            _draw_slip(canvas, slip, code, x, y, w, h)
        _cut_lines(canvas, MARGIN, MARGIN, w, h)
        canvas.showPage()
    canvas.save()
    return pages
