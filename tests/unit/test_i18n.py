"""Choosing the interface language."""

from __future__ import annotations

import pytest

from carestation.i18n import normalise_language, system_language


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("zh_CN.UTF-8", "zh_CN"),
        ("zh-Hans", "zh_CN"),
        ("Chinese (Simplified)_China", "zh_CN"),
        ("en_US.UTF-8", "en"),
        ("English_United States", "en"),
        ("C", None),
        ("POSIX", None),
        ("de_DE", None),
        ("", None),
    ],
)
def test_normalise_language(value: str, expected: str | None) -> None:
    assert normalise_language(value) == expected


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"LANG": "C.UTF-8"}, "zh_CN"),
        ({"LANG": "en_GB.UTF-8"}, "en"),
        ({"LANG": "zh_CN.UTF-8"}, "zh_CN"),
        ({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}, "en"),
        ({"LANG": "fr_FR.UTF-8"}, "zh_CN"),
    ],
)
def test_system_language(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    for var in ("LC_ALL", "LC_MESSAGES", "LANG", "LANGUAGE"):
        monkeypatch.delenv(var, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr("locale.getlocale", lambda *a: ("fr_FR", "UTF-8"))
    assert system_language() == expected
