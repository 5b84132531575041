"""Keyboard use: a tab order that follows the screen, Enter opens a list's row, and shortcuts that
say themselves in tooltips. docs/accessibility.md lists every shortcut."""

from __future__ import annotations

from collections.abc import Callable
from itertools import pairwise

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QDialogButtonBox,
    QWidget,
)

_ENTER_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def tab_chain(*widgets: QWidget) -> None:
    """Tab goes from each widget to the next, in this order (read the screen top-left to
    bottom-right)."""
    for first, second in pairwise(widgets):
        QWidget.setTabOrder(first, second)


def visual_buttons(box: QDialogButtonBox) -> list[QAbstractButton]:
    """The box's buttons as the platform lays them out (the order differs between Windows, KDE,
    GNOME and macOS, and from the order they were added in)."""
    layout = box.layout()
    found: list[QAbstractButton] = []
    for i in range(layout.count() if layout is not None else 0):
        widget = layout.itemAt(i).widget()
        if isinstance(widget, QAbstractButton):
            found.append(widget)
    return found


def order_box(box: QDialogButtonBox) -> None:
    """Tab moves through the box's buttons in their on-screen order."""
    tab_chain(*visual_buttons(box))


def buttons_last(window: QWidget, *extra: QWidget, box: QDialogButtonBox | None = None) -> None:
    """Moves `extra` and then the box's buttons (in their on-screen order) to the end of the
    window's tab order: a button row at the bottom is reached after the fields above it, even
    when it was made first."""
    moved = [*extra, *(visual_buttons(box) if box is not None else [])]
    if not moved:
        return
    last = window.previousInFocusChain()
    while last is not window and (
        last.focusPolicy() == Qt.FocusPolicy.NoFocus  # setTabOrder ignores those
        or any(w is last or w.isAncestorOf(last) for w in moved)
    ):
        last = last.previousInFocusChain()
    tab_chain(*([last] if last is not window else []), *moved)


class _EnterOpens(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in _ENTER_KEYS
            and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            and isinstance(watched, QAbstractItemView)
        ):
            index = watched.currentIndex()
            if index.isValid():
                watched.doubleClicked.emit(index)
                return True  # not also the dialog's default button
        return False


def enter_opens(view: QAbstractItemView) -> None:
    """Enter (or Return) on the current row does what a double-click on it does."""
    handler = _EnterOpens(view)
    view.installEventFilter(handler)


def shortcut_text(keys: QKeySequence | QKeySequence.StandardKey | str) -> str:
    """The keys as this platform writes them ("Ctrl+F", "⌘F")."""
    return QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText)


def tip_with_shortcut(
    widget: QWidget, tip: str, keys: QKeySequence | QKeySequence.StandardKey | str
) -> None:
    """A tooltip that ends with the shortcut, as menus show it: "Print the day sheet (Ctrl+P)"."""
    widget.setToolTip(f"{tip} ({shortcut_text(keys)})")


# The period shown on the calendar and day-list screens (docs/accessibility.md).
PREVIOUS_PERIOD = "Ctrl+PgUp"
NEXT_PERIOD = "Ctrl+PgDown"
TODAY = "Ctrl+T"


def screen_shortcut(
    screen: QWidget, keys: str, slot: Callable[[], object], button: QAbstractButton | None = None
) -> QShortcut:
    """A shortcut that works while the focus is anywhere on `screen` (not on other screens);
    the button that does the same says it in its tooltip."""
    shortcut = QShortcut(QKeySequence(keys), screen)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    shortcut.activated.connect(slot)
    if button is not None:
        tip_with_shortcut(button, button.toolTip() or button.text().replace("&", ""), keys)
    return shortcut
