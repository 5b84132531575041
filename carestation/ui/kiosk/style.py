"""The self-service screen's look: a calm palette with high-contrast text and large type.

Contrast (WCAG 2.1): body text #1F2A30 on the background #F3F0E8 is 12.9:1, muted text #4A5A62
6.3:1, white on the primary green #2F6B5E 6.2:1, the error red #8C1D18 on its box 8.0:1. A chosen
answer is marked by a tick and a thick border as well as its colour, never by colour alone.
"""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QWidget

from carestation.ui.fonts import register_fonts

BACKGROUND = "#F3F0E8"
TEXT = "#1F2A30"
MUTED = "#4A5A62"
PRIMARY = "#2F6B5E"
PRIMARY_PRESSED = "#24564B"
CARD = "#FFFFFF"
CHOSEN = "#DCEBE5"
ERROR = "#8C1D18"
ERROR_BOX = "#FBEDEB"
BORDER = "#8FA39C"

# Point sizes: the question at 24 pt and the answers at 20 pt (the brief asks >= 22 and >= 18).
QUESTION_PT = 24
OPTION_PT = 20
TITLE_PT = 30
BODY_PT = 19
SMALL_PT = 14
OPTION_MIN_HEIGHT = 64  # touch targets: an answer is at least 64 px tall (68 with its margins)
CONTENT_WIDTH = 960  # reading width; the rest of a wide screen stays calm background

# Widgets say what they are with the `role` property; the sheet styles by role.
STYLE_SHEET = f"""
QWidget#kiosk_window {{ background: {BACKGROUND}; }}
QLabel, QLineEdit {{ color: {TEXT}; }}
QLabel[role="title"] {{ font-size: {TITLE_PT}pt; font-weight: 600; }}
QLabel[role="subtitle"] {{ font-size: {BODY_PT + 3}pt; color: {MUTED}; }}
QLabel[role="body"] {{ font-size: {BODY_PT}pt; }}
QLabel[role="muted"] {{ font-size: {SMALL_PT + 2}pt; color: {MUTED}; }}
QLabel[role="question"] {{ font-size: {QUESTION_PT}pt; font-weight: 600; }}
QLabel[role="phone"] {{ font-size: {TITLE_PT}pt; font-weight: 700; }}
QLabel[role="error"] {{
    font-size: {BODY_PT}pt; color: {ERROR}; background: {ERROR_BOX};
    border: 2px solid {ERROR}; border-radius: 10px; padding: 12px 16px;
}}
QLabel[role="code"] {{
    font-size: {TITLE_PT}pt; font-weight: 700;
    background: {CARD}; border: 2px dashed {BORDER}; border-radius: 10px; padding: 8px 20px;
}}
QPushButton {{
    color: {TEXT}; font-size: {BODY_PT}pt; min-height: 56px; padding: 8px 28px; border-radius: 12px;
    background: {CARD}; border: 2px solid {BORDER};
}}
QPushButton:focus {{ border: 3px solid {PRIMARY}; }}
QPushButton:disabled {{ color: {MUTED}; background: #E4E1DA; border-color: #C9C5BC; }}
QPushButton[role="primary"] {{
    background: {PRIMARY}; color: #FFFFFF; border: 2px solid {PRIMARY}; font-weight: 600;
}}
QPushButton[role="primary"]:pressed {{ background: {PRIMARY_PRESSED}; }}
QPushButton[role="primary"]:disabled {{ background: #9DB5AE; border-color: #9DB5AE; }}
QPushButton[role="big"] {{
    font-size: {OPTION_PT + 4}pt; min-height: 110px; background: {PRIMARY}; color: #FFFFFF;
    border: 2px solid {PRIMARY}; font-weight: 600;
}}
QPushButton[role="big"]:pressed {{ background: {PRIMARY_PRESSED}; }}
QPushButton[role="option"] {{
    min-height: {OPTION_MIN_HEIGHT}px; padding: 0px; background: {CARD};
    border: 2px solid {BORDER};
}}
QPushButton[role="option"]:checked {{ background: {CHOSEN}; border: 5px solid {PRIMARY}; }}
QLabel[role="option_text"] {{ font-size: {OPTION_PT}pt; background: transparent; }}
QLabel[role="option_text"][chosen="true"] {{ font-weight: 700; }}
QLabel[role="option_mark"] {{
    font-size: {OPTION_PT}pt; font-weight: 700; color: {PRIMARY_PRESSED}; background: transparent;
}}
QLabel[role="option_number"] {{ font-size: {SMALL_PT + 2}pt; color: {MUTED}; background: transparent; }}
QLabel[role="stem"] {{ font-size: {BODY_PT - 1}pt; color: {MUTED}; }}
QPushButton[role="toggle"] {{
    font-size: {BODY_PT - 2}pt; min-height: 60px; min-width: 96px; padding: 2px 18px;
}}
QPushButton[role="toggle"]:checked {{
    background: {CHOSEN}; border: 4px solid {PRIMARY}; font-weight: 700;
}}
QPushButton[role="key"] {{
    font-size: {OPTION_PT}pt; font-weight: 600; min-height: 60px; min-width: 60px; padding: 0;
}}
QPushButton[role="staff"] {{
    font-size: {SMALL_PT}pt; min-height: 36px; padding: 2px 14px; color: {MUTED};
    background: transparent; border: 1px solid #B9B4AA;
}}
QPushButton[role="tile"] {{ min-height: 0px; padding: 0px; }}
QPushButton[role="tile"]:pressed {{ background: {CHOSEN}; }}
QLabel[role="tile_title"] {{ font-size: {OPTION_PT + 2}pt; font-weight: 600; background: transparent; }}
QLabel[role="tile_detail"] {{ font-size: {SMALL_PT + 2}pt; color: {MUTED}; background: transparent; }}
QLabel[role="group"] {{ font-size: {BODY_PT}pt; font-weight: 600; color: {MUTED}; }}
QLabel[role="answer"] {{ font-size: {BODY_PT}pt; font-weight: 700; }}
QLineEdit[role="code"] {{
    font-size: {TITLE_PT}pt; min-height: 72px; padding: 4px 16px; border-radius: 10px;
    border: 3px solid {BORDER}; background: {CARD};
}}
QLineEdit[role="code"]:focus {{ border-color: {PRIMARY}; }}
QProgressBar {{
    min-height: 14px; max-height: 14px; border: 1px solid {BORDER}; border-radius: 7px;
    background: {CARD};
}}
QProgressBar::chunk {{ background: {PRIMARY}; border-radius: 6px; }}
QFrame[role="row"] {{ background: {CARD}; border: 2px solid {BORDER}; border-radius: 12px; }}
QFrame[role="row"]:focus {{ border: 3px solid {PRIMARY}; }}
QFrame[role="row"] QLabel {{ background: transparent; border: none; }}
QDialog#kiosk_exit_dialog {{ background: {CARD}; border: 3px solid {PRIMARY}; border-radius: 6px; }}
QDialog#kiosk_exit_dialog QLineEdit {{
    font-size: {BODY_PT}pt; min-height: 48px; padding: 2px 10px; border-radius: 8px;
    border: 2px solid {BORDER}; background: {CARD};
}}
QDialog#kiosk_exit_dialog QLineEdit:focus {{ border-color: {PRIMARY}; }}
QFrame[role="card"] {{ background: {CARD}; border: 2px solid {BORDER}; border-radius: 14px; }}
QFrame[role="card"] QLabel {{ background: transparent; border: none; }}
QScrollArea {{ background: transparent; border: none; }}
QScrollBar:vertical {{ width: 22px; background: #E4E1DA; border-radius: 11px; margin: 0; }}
QScrollBar::handle:vertical {{ background: {BORDER}; border-radius: 11px; min-height: 60px; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0px; }}
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical {{ background: transparent; }}
QScrollArea > QWidget > QWidget {{ background: transparent; }}
"""

TICK = "\u2713"  # the chosen answer's mark, so the choice does not rest on colour alone


def set_role(widget: QWidget, role: str) -> None:
    widget.setProperty("role", role)


def kiosk_font(widget: QWidget) -> QFont:
    """The widget's font with the bundled Chinese font as a fallback, so nothing shows as boxes."""
    font = QFont(widget.font())
    families = font.families() or [font.family()]
    bundled = register_fonts()
    font.setFamilies([*families, *[f for f in bundled if f not in families]])
    return font


def refresh_style(widget: QWidget) -> None:
    """Re-applies the sheet after a dynamic property change (Qt caches the matched rules)."""
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)
