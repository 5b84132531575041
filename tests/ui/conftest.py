"""Fixtures shared by the GUI tests."""

from __future__ import annotations

import pytest

from carestation.ui.prompts import RecordingPrompter


@pytest.fixture
def start_gui(monkeypatch: pytest.MonkeyPatch, qapp) -> RecordingPrompter:  # type: ignore[no-untyped-def]
    """For tests that call app.run_gui: its messages go to a recording prompter (answering
    yes), and the log file, Qt's translations and the bundled font are left alone."""
    from carestation import app as app_module

    prompter = RecordingPrompter(answer=True)
    monkeypatch.setattr(app_module, "QtPrompter", lambda: prompter)
    monkeypatch.setattr(app_module, "_install_qt_translations", lambda app: None)
    monkeypatch.setattr(app_module, "apply_app_font", lambda app: None)
    monkeypatch.setattr("carestation.logs.configure", lambda path: None)
    return prompter
