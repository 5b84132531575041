"""Shows validation messages next to the fields they concern."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtWidgets import QFormLayout, QLabel, QWidget

from carestation.ui.style import set_tone


class FieldErrors:
    """Keeps one hidden red label under each registered field; `show` fills those named."""

    def __init__(self) -> None:
        self._labels: dict[str, QLabel] = {}
        self._fields: dict[str, QWidget] = {}

    def add_row(self, form: QFormLayout, key: str, label: str, field: QWidget) -> QLabel:
        """Adds `field` to the form with an error label beneath it; returns the error label."""
        form.addRow(label, field)
        error = QLabel()
        error.setObjectName(f"error_{key}")
        error.setWordWrap(True)
        error.setProperty("role", "field-error")
        set_tone(error, "error")
        error.hide()
        form.addRow("", error)
        self.register(key, error, field)
        return error

    def register(self, key: str, label: QLabel, field: QWidget | None = None) -> None:
        self._labels[key] = label
        if field is not None:
            self._fields[key] = field

    def clear(self) -> None:
        for label in self._labels.values():
            label.clear()
            label.hide()

    def show(self, errors: Mapping[str, str]) -> list[str]:
        """Shows each message under its field (matching the longest known prefix); returns the
        messages that have no field, for the caller to show elsewhere."""
        self.clear()
        unplaced: list[str] = []
        first_field: QWidget | None = None
        for key, message in errors.items():
            target = self._match(key)
            if target is None:
                unplaced.append(message)
                continue
            label = self._labels[target]
            label.setText("\n".join(filter(None, [label.text(), message])))
            label.show()
            if first_field is None:
                first_field = self._fields.get(target)
        if first_field is not None:
            first_field.setFocus()
        return unplaced

    def _match(self, key: str) -> str | None:
        candidate = key
        while candidate:
            if candidate in self._labels:
                return candidate
            candidate = candidate.rpartition(".")[0]
        return None

    def text(self, key: str) -> str:
        label = self._labels.get(key)
        return label.text() if label is not None and label.isVisibleTo(label.parentWidget()) else ""
