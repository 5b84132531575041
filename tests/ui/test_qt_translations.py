"""Qt's stock dialogs follow the app's language."""

from __future__ import annotations

from PySide6.QtCore import QLocale
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from carestation.app import _install_qt_translations
from carestation.i18n import set_language


def test_stock_buttons_are_chinese_in_zh_cn(qapp: QApplication) -> None:
    set_language("zh_CN")
    before = QLocale()
    translator = _install_qt_translations(qapp)
    try:
        assert translator is not None
        box = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        assert sorted(b.text() for b in box.buttons()) == sorted(["确定", "取消"])
    finally:
        if translator is not None:
            qapp.removeTranslator(translator)
        QLocale.setDefault(before)
        set_language("en")


def test_nothing_installed_in_english(qapp: QApplication) -> None:
    set_language("en")
    assert _install_qt_translations(qapp) is None
