"""Per-PC settings: declared once, validated on load and set, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carestation.settings import Settings


def test_defaults_and_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    s = Settings(path)
    assert s.get("idle_lock_minutes") == 5
    assert s.get("language") == ""
    s.set("idle_lock_minutes", 15)
    s.set("language", "en")
    s.save()
    again = Settings(path)
    assert again.get("idle_lock_minutes") == 15
    assert again.get("language") == "en"
    assert json.loads(path.read_text())["version"] == 1


@pytest.mark.parametrize("bad", [0, 500, "10", True, 2.5, None])
def test_bad_values_are_refused(tmp_path: Path, bad: object) -> None:
    s = Settings(tmp_path / "s.json")
    with pytest.raises(ValueError, match="bad value for setting idle_lock_minutes"):
        s.set("idle_lock_minutes", bad)


@pytest.mark.parametrize(
    "content", ["", "not json", "[1,2]", '{"values": {"idle_lock_minutes": "x", "zzz": 1}}']
)
def test_damaged_files_fall_back_to_defaults(tmp_path: Path, content: str) -> None:
    path = tmp_path / "s.json"
    path.write_text(content)
    assert Settings(path).get("idle_lock_minutes") == 5
