"""Registers the bundled Chinese font so text never renders as empty boxes on a bare PC."""

from __future__ import annotations

from PySide6.QtGui import QFont, QFontDatabase
from PySide6.QtWidgets import QApplication

from carestation.resources import resource_path

BUNDLED_FONT = "wqy-microhei.ttc"
_families: list[str] = []


def register_fonts() -> list[str]:
    """Adds the bundled font once and returns its family names."""
    if not _families:
        font_id = QFontDatabase.addApplicationFont(str(resource_path("fonts", BUNDLED_FONT)))
        if font_id >= 0:
            _families.extend(QFontDatabase.applicationFontFamilies(font_id))
    return list(_families)


def apply_app_font(app: QApplication) -> None:
    """Keep the system's UI font first (it matches the platform) and fall back to ours for CJK.
    The size stays the system's (a larger system font makes every window larger)."""
    families = register_fonts()
    font = QFont(app.font())
    system = font.families() or [font.family()]
    font.setFamilies([*system, *[f for f in families if f not in system]])
    app.setFont(font)
