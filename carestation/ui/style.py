"""The colours that carry a meaning (a problem, a warning, a success, a hint) and the
high-contrast look, in one place.

A widget says what it shows with `set_tone(widget, "error")`, which gives it the tone's
colours for the current look (light or dark system palette, or high contrast) and changes them
when the look changes, in every open window at once. Colour is never the only sign: the text says it too
("Problem: ...", a symbol, bold words), see docs/accessibility.md.

High contrast is on when the system asks for it (Windows high-contrast themes, the desktop's
"high contrast" setting) or when the user turns on View → High contrast, which is saved in this
PC's settings and applied at the next start, sign-in window included.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget

# alarm: the strongest, for the risk-alert bar (a filled bar, light text).
Tone = Literal["error", "warning", "success", "hint", "alarm"]

_HIGH_CONTRAST = "carestation_high_contrast"
_ORIGINAL_STYLE = "carestation_original_style"
_FOLLOWS_SYSTEM = "carestation_follows_system"


@dataclass(frozen=True)
class ToneColours:
    text: str
    background: str  # of a boxed message (a frame with its own background)
    border: str


# On a light window (the usual case): the colours the screens have always used; each text
# colour has a contrast of at least 4.5:1 on white and on its background.
_LIGHT: dict[Tone, ToneColours] = {
    "error": ToneColours("#b3261e", "#fdecea", "#b3261e"),
    "warning": ToneColours("#663c00", "#fff4e5", "#b26a00"),
    "success": ToneColours("#1b5e20", "#e8f5e9", "#2e7d32"),
    "hint": ToneColours("#555555", "#f2f2f2", "#8a8a8a"),
    "alarm": ToneColours("#ffffff", "#9b1c1c", "#5c0b0b"),
}
# On a dark window (a dark system theme).
_DARK: dict[Tone, ToneColours] = {
    "error": ToneColours("#ff8a80", "#3b1212", "#ff8a80"),
    "warning": ToneColours("#ffcc80", "#3a2800", "#ffb74d"),
    "success": ToneColours("#a5d6a7", "#10301a", "#81c784"),
    "hint": ToneColours("#c8c8c8", "#2a2a2a", "#9e9e9e"),
    "alarm": ToneColours("#ffffff", "#9b1c1c", "#ff8a80"),
}
# High contrast: white on black, what matters in yellow (success in bright green), with borders.
_CONTRAST: dict[Tone, ToneColours] = {
    "error": ToneColours("#ffff00", "#000000", "#ffff00"),
    "warning": ToneColours("#ffff00", "#000000", "#ffff00"),
    "success": ToneColours("#00ff00", "#000000", "#00ff00"),
    "hint": ToneColours("#ffffff", "#000000", "#ffffff"),
    "alarm": ToneColours("#ffff00", "#000000", "#ffff00"),
}
YELLOW = "#ffff00"


def _app() -> QApplication | None:
    app = QApplication.instance()
    return app if isinstance(app, QApplication) else None


def is_high_contrast() -> bool:
    app = _app()
    return bool(app is not None and app.property(_HIGH_CONTRAST))


def system_wants_high_contrast() -> bool:
    """The platform's accessibility setting (Windows high-contrast themes; where the platform
    does not say, no)."""
    # Here, not at the top: Qt's `Qt` namespace costs 20 ms to load, and the sign-in window
    # shows before this is asked (see app.run_gui).
    from PySide6.QtCore import Qt

    hints = QGuiApplication.styleHints()
    accessibility = getattr(hints, "accessibility", None)
    if accessibility is None:  # Qt before 6.10
        return False
    return bool(accessibility().contrastPreference() == Qt.ContrastPreference.HighContrast)


def _is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def is_dark() -> bool:
    """The application's palette is a dark one (a dark system theme)."""
    app = _app()
    return app is not None and _is_dark(app.palette())


def _tones(high_contrast: bool) -> dict[Tone, ToneColours]:
    if high_contrast:
        return _CONTRAST
    app = _app()
    return _DARK if app is not None and _is_dark(app.palette()) else _LIGHT


def tone_colours(tone: Tone) -> ToneColours:
    return _tones(is_high_contrast())[tone]


def tone_color(tone: Tone) -> QColor:
    """The text colour of a tone, for item models (ForegroundRole) and painting."""
    return QColor(tone_colours(tone).text)


def set_tone(
    widget: QWidget,
    tone: Tone | None,
    *,
    boxed: bool = False,
    bold: bool = False,
    extra: str = "",
) -> None:
    """Shows `widget` (a label, or a frame whose labels take its colour) in a tone's colours.
    boxed: with the tone's background and border, as a message box; bold: in bold letters (a
    sign that is not a colour); extra: more of the widget's own style sheet (padding, corners).
    None: back to the ordinary colours. The widget follows a later switch to or from high
    contrast."""
    widget.setProperty("tone", tone or "")
    widget.setProperty("boxed", bool(tone and boxed))
    widget.setProperty("tone_bold", bold)
    widget.setProperty("tone_extra", extra)
    _toned.add(widget)
    _restyle(widget, is_high_contrast())


def tone_of(widget: QWidget) -> str:
    return str(widget.property("tone") or "")


# Widgets with a tone, restyled when the look changes (a style sheet per widget: an application
# style sheet would slow every window down, and only high contrast needs one).
_toned: weakref.WeakSet[QWidget] = weakref.WeakSet()


def _restyle(widget: QWidget, high_contrast: bool) -> None:
    tone = str(widget.property("tone") or "")
    rules = [str(widget.property("tone_extra") or "")]
    if widget.property("tone_bold"):
        rules.append("font-weight: 700;")
    if tone:
        c = _tones(high_contrast)[tone]  # type: ignore[index]
        width = "2px" if high_contrast else "1px"
        if not widget.property("boxed"):
            rules.append(f"color: {c.text};")
        elif isinstance(widget, QLabel):
            rules.append(
                f"color: {c.text}; background: {c.background}; border: {width} solid {c.border};"
                " padding: 6px;"
            )
        else:  # a frame: its background and border, its labels in the tone's colour
            name = widget.metaObject().className()
            rules = [
                f"{name}[tone] {{ background: {c.background}; border: 2px solid {c.border};"
                f" border-radius: 4px; {' '.join(rules)} }}",
                f"QLabel {{ color: {c.text}; background: transparent; border: none; }}",
            ]
            if tone == "alarm" and not high_contrast:
                rules += [
                    f"QPushButton {{ background: #ffffff; color: {c.background}; font-weight: 700;"
                    " border: 3px solid #ffffff; border-radius: 3px; padding: 4px 14px; }",
                    "QPushButton:focus { border-color: #ffd54f; }",
                ]
    widget.setStyleSheet(" ".join(r for r in rules if r))


def _restyle_all(high_contrast: bool) -> None:
    for widget in list(_toned):
        try:
            _restyle(widget, high_contrast)
        except RuntimeError:  # its Qt object is gone
            _toned.discard(widget)


def _contrast_rules() -> list[str]:
    """Strong frames round every control, and a thick yellow one round the one with the focus
    (the padding shrinks by as much as the frame grows: nothing moves or gets cut when the
    focus arrives)."""
    inputs = "QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QTextEdit, QAbstractItemView"
    focused = ", ".join(f"{w.strip()}:focus" for w in inputs.split(","))
    return [
        "QPushButton { color: #ffffff; background: #000000; border: 2px solid #ffffff;"
        " border-radius: 3px; padding: 5px 11px; }",
        f"QPushButton:checked, QPushButton:pressed {{ color: #000000; background: {YELLOW}; }}",
        "QPushButton:disabled { color: #a0a0a0; border: 2px dashed #a0a0a0; }",
        f"QPushButton:focus {{ border: 3px solid {YELLOW}; padding: 4px 10px; }}",
        f"{inputs} {{ border: 2px solid #ffffff; padding: 1px; }}",
        f"{focused} {{ border: 3px solid {YELLOW}; padding: 0px; }}",
        "QCheckBox, QRadioButton { border: 2px solid #000000; }",
        f"QCheckBox:focus, QRadioButton:focus {{ border: 2px solid {YELLOW}; }}",
        # Fusion outlines boxes in a darker window colour: nothing on black. Drawn here instead,
        # chosen ones filled.
        "QCheckBox::indicator, QRadioButton::indicator { width: 13px; height: 13px;"
        " border: 2px solid #ffffff; background: #000000; }",
        "QRadioButton::indicator { border-radius: 8px; }",
        f"QCheckBox::indicator:checked, QRadioButton::indicator:checked {{ background: {YELLOW};"
        " border-color: #ffffff; }",
        "QCheckBox::indicator:disabled, QRadioButton::indicator:disabled {"
        " border: 2px dashed #a0a0a0; }",
        "QAbstractSpinBox::up-button { subcontrol-origin: border; subcontrol-position: top right;"
        " width: 16px; border: none; border-left: 1px solid #ffffff; background: #000000; }",
        "QAbstractSpinBox::down-button { subcontrol-origin: border;"
        " subcontrol-position: bottom right; width: 16px; border: none;"
        " border-left: 1px solid #ffffff; background: #000000; }",
        "QAbstractSpinBox::up-arrow { width: 0px; height: 0px; border-left: 5px solid #000000;"
        " border-right: 5px solid #000000; border-bottom: 6px solid #ffffff; }",
        "QAbstractSpinBox::down-arrow { width: 0px; height: 0px; border-left: 5px solid #000000;"
        " border-right: 5px solid #000000; border-top: 6px solid #ffffff; }",
        "QTabBar::tab { color: #ffffff; background: #000000; border: 2px solid #ffffff;"
        " padding: 4px 10px; }",
        f"QTabBar::tab:selected {{ color: #000000; background: {YELLOW}; }}",
        f"QTabBar::tab:focus {{ border: 3px solid {YELLOW}; padding: 3px 9px; }}",
        "QToolTip { color: #ffffff; background: #000000; border: 2px solid #ffffff; }",
        f"QMenu::item:selected, QMenuBar::item:selected {{ color: #000000; background: {YELLOW}; }}",
    ]


def contrast_palette() -> QPalette:
    """White text on black, yellow for the selection and links."""
    palette = QPalette()
    black, white, yellow = QColor("#000000"), QColor("#ffffff"), QColor(YELLOW)
    grey = QColor("#a0a0a0")  # disabled text: 8:1 on black, still readable
    role = QPalette.ColorRole
    for r in (role.Window, role.Base, role.Button, role.ToolTipBase, role.Shadow):
        palette.setColor(r, black)
    palette.setColor(role.AlternateBase, QColor("#1c1c1c"))
    for r in (role.WindowText, role.Text, role.ButtonText, role.ToolTipText, role.BrightText):
        palette.setColor(r, white)
    for r in (role.Light, role.Midlight, role.Mid, role.Dark):
        palette.setColor(r, white)
    palette.setColor(role.Highlight, yellow)
    palette.setColor(role.HighlightedText, black)
    palette.setColor(role.Link, yellow)
    palette.setColor(role.LinkVisited, yellow)
    palette.setColor(role.PlaceholderText, QColor("#d0d0d0"))
    disabled = QPalette.ColorGroup.Disabled
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(disabled, r, grey)
    return palette


def apply_look(app: QApplication, *, high_contrast: bool) -> bool:
    """High contrast when asked for here or by the system, the ordinary look otherwise;
    returns whether high contrast is on. Every open window changes at once."""
    on = high_contrast or system_wants_high_contrast()
    if app.property(_ORIGINAL_STYLE) is None:
        app.setProperty(_ORIGINAL_STYLE, app.style().name())
    if on:
        app.setStyle("Fusion")  # the native Windows styles ignore much of the palette
        app.setPalette(contrast_palette())
    elif app.property(_HIGH_CONTRAST):
        app.setStyle(str(app.property(_ORIGINAL_STYLE)))
        app.setPalette(QPalette())  # an empty palette: the system's again, following its changes
    app.setProperty(_HIGH_CONTRAST, on)
    # Only high contrast needs an application style sheet (strong frames, the focus in yellow).
    app.setStyleSheet("\n".join(_contrast_rules()) if on else "")
    _restyle_all(on)
    return on


def start_look(app: QApplication, wanted: Callable[[], bool]) -> bool:
    """At start (app.run_gui, once the sign-in window is up): the look this PC's settings ask
    for, or the system's high contrast, then following the system's later changes."""
    on = apply_look(app, high_contrast=wanted())
    follow_system(app, wanted)
    return on


def follow_system(app: QApplication, wanted: object) -> None:
    """Re-applies the look when the system's contrast or colour scheme changes; `wanted` gives
    the user's own choice at that moment."""
    if app.property(_FOLLOWS_SYSTEM):
        return
    app.setProperty(_FOLLOWS_SYSTEM, True)
    hints = QGuiApplication.styleHints()

    def again() -> None:
        apply_look(app, high_contrast=bool(wanted() if callable(wanted) else wanted))

    accessibility = getattr(hints, "accessibility", None)
    if accessibility is not None:
        accessibility().contrastPreferenceChanged.connect(again)
    hints.colorSchemeChanged.connect(again)


def heading(label: QWidget, scale: float = 1.4) -> None:
    """A bold heading `scale` times the application's font size: it grows with the system's
    font size instead of staying at a fixed size."""
    font = label.font()
    app = _app()
    base = app.font().pointSizeF() if app is not None else font.pointSizeF()
    if base > 0:
        font.setPointSizeF(base * scale)
    font.setBold(True)
    label.setFont(font)
