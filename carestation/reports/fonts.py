"""The one font every report uses: the bundled WenQuanYi Micro Hei (Chinese and Latin), embedded
as a TrueType subset so a printout shows Chinese on any PC, never boxes."""

from __future__ import annotations

import threading

from reportlab.lib import textsplit as rl_textsplit
from reportlab.lib.fonts import addMapping
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import paragraph as rl_paragraph

from carestation.resources import resource_path

FONT = "WenQuanYiMicroHei"
BUNDLED_FILE = "wqy-microhei.ttc"
_lock = threading.Lock()


def register_fonts() -> str:
    """Registers the font once (thread-safe) and returns its name for setFont / styles."""
    with _lock:
        if FONT not in pdfmetrics.getRegisteredFontNames():
            # subfontIndex 0: the collection's first face (Micro Hei, not the Mono variant).
            font = TTFont(FONT, str(resource_path("fonts", BUNDLED_FILE)), subfontIndex=0)
            pdfmetrics.registerFont(font)
            # No bold or italic face ships: map them to the regular one, so a <b> in a
            # paragraph can never fall back to an unembedded standard font.
            for bold in (0, 1):
                for italic in (0, 1):
                    addMapping(FONT, bold, italic, FONT)
    return FONT


# Chinese punctuation that must not begin a line. ReportLab's CJK wrapping (both its paths) lets
# the character that would start the next line hang in the margin only if it is in
# ALL_CANNOT_START, a Japanese-centred list without the full-width comma, semicolon, colon ...
NO_LINE_START = "，；：！？）》〉」』】〕”’…％"


def chinese_line_rules() -> None:
    """Adds NO_LINE_START to reportlab's list of characters that may not begin a line (once)."""
    with _lock:
        for module in (rl_textsplit, rl_paragraph):
            missing = "".join(c for c in NO_LINE_START if c not in module.ALL_CANNOT_START)
            if missing:
                module.ALL_CANNOT_START += missing
