"""Building blocks shared by the kiosk's screens: a page in a reading column, tiles, review rows
and the language toggle."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLayoutItem,
    QPushButton,
    QScrollArea,
    QScroller,
    QVBoxLayout,
    QWidget,
)

from carestation.ui.kiosk.style import CONTENT_WIDTH, TICK, refresh_style, set_role

# The languages offered, each named in its own language (so never translated).
LANGUAGE_NAMES = (("zh_CN", "中文"), ("en", "English"))


def label(role: str, text: str = "", *, name: str = "", wrap: bool = True) -> QLabel:
    widget = QLabel(text)
    set_role(widget, role)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)  # visitor-facing text is never markup
    if name:
        widget.setObjectName(name)
    return widget


def button(role: str, name: str, text: str = "") -> QPushButton:
    widget = QPushButton(text)
    set_role(widget, role)
    widget.setObjectName(name)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    widget.setAutoDefault(False)
    return widget


class Page(QWidget):
    """One screen: its content in a centred column of comfortable reading width."""

    def __init__(
        self, name: str, parent: QWidget | None = None, *, width: int = CONTENT_WIDTH
    ) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        # The page takes the focus when shown, so no button starts out looking selected.
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        column = QWidget()
        column.setMaximumWidth(width)
        self.body = QVBoxLayout(column)
        self.body.setContentsMargins(24, 22, 24, 18)
        self.body.setSpacing(16)
        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addStretch(1)
        outer.addWidget(column, 100)
        outer.addStretch(1)

    def retranslate(self) -> None:
        """Sets every fixed text again in the current language."""

    def clear(self) -> None:
        """Forgets whatever a visitor entered or was shown (no answers left in widgets)."""


def scroll_area(content: QWidget, name: str) -> QScrollArea:
    area = QScrollArea()
    area.setObjectName(name)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(content)
    # A finger drags the list; taps still reach the buttons. (Mouse drags are left alone.)
    QScroller.grabGesture(area.viewport(), QScroller.ScrollerGestureType.TouchGesture)
    return area


def clear_layout(layout: QLayout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item is None:
            break
        widget = item.widget()
        inner = item.layout()
        if widget is not None:
            widget.hide()
            widget.setParent(None)
            widget.deleteLater()
        elif inner is not None:
            clear_layout(inner)


class TileButton(QPushButton):
    """A large button with a title and a line of description, both wrapping."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        set_role(self, "tile")
        self.setObjectName(name)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAutoDefault(False)
        self.title = label("tile_title")
        self.detail = label("tile_detail")
        box = QVBoxLayout(self)
        box.setContentsMargins(24, 14, 24, 14)
        box.setSpacing(4)
        for part in (self.title, self.detail):
            # Clicks go through to the button.
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            box.addWidget(part)

    def set_texts(self, title: str, detail: str) -> None:
        self.title.setText(title)
        self.detail.setText(detail)
        self.setAccessibleName(title)
        self.setAccessibleDescription(detail)
        self.updateGeometry()

    def sizeHint(self) -> QSize:
        layout = self.layout()
        return layout.totalSizeHint() if layout is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        layout = self.layout()
        return layout.totalMinimumSize() if layout is not None else super().minimumSizeHint()


class OptionButton(QPushButton):
    """An answer: a tick when chosen, the wording (wrapping if long), and the number the paper
    form prints in that column, if any (WHO-5's instructions refer to those numbers)."""

    def __init__(self, name: str, text: str, number: str = "") -> None:
        super().__init__()
        set_role(self, "option")
        self.setObjectName(name)
        self.setCheckable(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAutoDefault(False)
        self.setAccessibleName(text)
        self.tick = label("option_mark", wrap=False)
        self.tick.setFixedWidth(34)
        self.text_label = label("option_text", text)
        self.number = label("option_number", number, wrap=False)
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 8, 24, 8)
        row.setSpacing(8)
        row.addWidget(self.tick)
        row.addWidget(self.text_label, 1)
        row.addWidget(self.number)
        for part in (self.tick, self.text_label, self.number):
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.toggled.connect(self._mark)
        self._mark(False)

    @property
    def label_text(self) -> str:
        return self.text_label.text()

    def _mark(self, checked: bool) -> None:
        self.tick.setText(TICK if checked else "")
        for part in (self.tick, self.text_label, self.number):
            part.setProperty("chosen", checked)
            refresh_style(part)

    def sizeHint(self) -> QSize:
        layout = self.layout()
        hint = layout.totalSizeHint() if layout is not None else super().sizeHint()
        return hint.expandedTo(QSize(0, 68))

    def minimumSizeHint(self) -> QSize:
        layout = self.layout()
        hint = layout.totalMinimumSize() if layout is not None else super().minimumSizeHint()
        return hint.expandedTo(QSize(0, 68))


class ReviewRow(QFrame):
    """One question and its answer on the review page; tapping it asks to change the answer."""

    clicked = Signal()

    def __init__(self, name: str, question: str, answer: str, action: str) -> None:
        super().__init__()
        set_role(self, "row")
        self.setObjectName(name)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.question = label("body", question)
        self.answer = label("answer", answer, name="review_answer")
        self.action = label("muted", action, wrap=False)
        self.setAccessibleName(f"{question} {answer}")
        text = QVBoxLayout()
        text.setSpacing(4)
        text.addWidget(self.question)
        text.addWidget(self.answer)
        row = QHBoxLayout(self)
        row.setContentsMargins(18, 10, 18, 10)
        row.addLayout(text, 1)
        row.addWidget(self.action, 0, Qt.AlignmentFlag.AlignVCenter)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(
            event.position().toPoint()
        ):
            self.clicked.emit()
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Space, Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.clicked.emit()
            return
        super().keyPressEvent(event)


class LanguageToggle(QWidget):
    """中文 / English: switches the kiosk's language for this visitor."""

    language_chosen = Signal(str)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(8)
        self.buttons: dict[str, QPushButton] = {}
        for lang, title in LANGUAGE_NAMES:
            widget = button("toggle", f"{name}_{lang}", title)
            widget.setCheckable(True)
            widget.clicked.connect(lambda _checked=False, lang=lang: self._chosen(lang))
            row.addWidget(widget)
            self.buttons[lang] = widget

    def set_language(self, lang: str) -> None:
        for code, widget in self.buttons.items():
            widget.setChecked(code == lang)

    def _chosen(self, lang: str) -> None:
        self.set_language(lang)
        self.language_chosen.emit(lang)


class FlowLayout(QLayout):
    """Lays buttons out left to right and wraps to the next row, each as wide as its text (for
    choices whose labels differ a lot in length, in either language)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, *, move: bool) -> int:
        x, y, row_height = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and row_height > 0:
                x = rect.x()
                y += row_height + self._spacing
                row_height = 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            row_height = max(row_height, hint.height())
        return y + row_height - rect.y()
