"""Fuzzed settings files (issue 8, "Bad input"): whatever bytes or JSON the settings file holds
- damaged, truncated, hand-edited with wrong types, huge numbers, odd text, database URLs with
passwords - loading never fails, every value read is one the setting accepts (or its default),
no password survives, and what is saved loads back the same."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from carestation.settings import SPECS, Settings

FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
KEYS = [s.key for s in SPECS]
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
URLS = st.one_of(
    st.sampled_from(
        [
            "",
            "sqlite:///C:/CareStation/carestation.db",
            "postgresql+psycopg://carestation@db.example:5432/carestation",
            "postgresql+psycopg://carestation:secret@db.example:5432/carestation",
            "postgresql://u:p%40ss@h/db",
            "postgresql://u@h:notaport/db",
            "postgresql://u@h:99999999999999999999/db",
            "mysql://u@h/db",
            "://",
            "sqlite://",
        ]
    ),
    st.builds(
        "postgresql+psycopg://{}:{}@{}/{}".format,
        ANY_TEXT,
        ANY_TEXT,
        st.from_regex(r"[a-z0-9.-]{1,20}(:[0-9]{1,6})?", fullmatch=True),
        ANY_TEXT,
    ),
    ANY_TEXT,
)
JSON_VALUES = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.integers(-5, 200),
        st.floats(),
        ANY_TEXT,
        URLS,
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(ANY_TEXT, inner, max_size=3)
    ),
    max_leaves=8,
)
VALUES = st.dictionaries(st.one_of(st.sampled_from(KEYS), ANY_TEXT), JSON_VALUES, max_size=6)
DOCUMENTS = st.one_of(
    st.fixed_dictionaries(
        {"values": VALUES},
        optional={"version": st.one_of(st.integers(), JSON_VALUES)},
    ),
    JSON_VALUES,
    st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=3),
)


def assert_every_value_is_acceptable(loaded: Settings, tmp_path: Path) -> None:
    """Each value read is accepted by set() (or is the default), never holds a password, and
    survives a save and a load unchanged."""
    fresh = Settings(tmp_path / "defaults.json")
    for spec in SPECS:
        value = loaded.get(spec.key)
        assert isinstance(value, spec.type), (spec.key, value)
        assert not isinstance(value, bool), (spec.key, value)
        if value != spec.default:
            fresh.set(spec.key, value)  # raises ValueError if the value is not acceptable
    url = loaded.get("database_url")
    if url:
        from sqlalchemy.engine import make_url

        assert make_url(url).password is None
    out = tmp_path / "saved.json"
    loaded.path = out
    loaded.save()
    again = Settings(out)
    assert {k: again.get(k) for k in KEYS} == {k: loaded.get(k) for k in KEYS}


def load_bytes(tmp_path: Path, content: bytes) -> Settings:
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    return Settings(path)


@FUZZ
@given(content=st.binary(max_size=300))
@example(content=b"")
@example(content=b"\xef\xbb\xbf{}")  # a byte-order mark from Notepad
@example(content=b"\xff\xfe{\x00}\x00")  # saved as UTF-16
@example(content=b'{"values": {"idle_lock_minutes": 15')  # cut off by a power cut
def test_any_bytes_load_as_defaults_or_valid_values(tmp_path: Path, content: bytes) -> None:
    assert_every_value_is_acceptable(load_bytes(tmp_path, content), tmp_path)


@FUZZ
@given(document=DOCUMENTS)
@example(document={"values": {"idle_lock_minutes": 1e309}})
@example(document={"values": {"idle_lock_minutes": True, "station_id": -1}})
@example(document={"version": 0, "values": {"language": "zh_CN"}})
@example(document={"version": "1", "values": []})
@example(
    document={"values": {"database_url": "postgresql+psycopg://cs:pw@db.example:5432/carestation"}}
)
def test_any_json_loads_as_defaults_or_valid_values(tmp_path: Path, document: Any) -> None:
    content = json.dumps(document, ensure_ascii=False).encode("utf-8")
    assert_every_value_is_acceptable(load_bytes(tmp_path, content), tmp_path)


@FUZZ
@given(document=DOCUMENTS, cut=st.integers(0, 400))
def test_a_truncated_file_loads(tmp_path: Path, document: Any, cut: int) -> None:
    content = json.dumps({"version": 1, "values": document}).encode("utf-8")[:cut]
    assert_every_value_is_acceptable(load_bytes(tmp_path, content), tmp_path)


@FUZZ
@given(key=st.sampled_from(KEYS), value=JSON_VALUES)
def test_set_accepts_a_valid_value_or_raises_value_error(
    tmp_path: Path, key: str, value: Any
) -> None:
    s = Settings(tmp_path / "s.json")
    try:
        s.set(key, value)
    except ValueError as exc:
        assert "bad value for setting" in str(exc)
        assert s.get(key) == Settings(tmp_path / "s.json").get(key)
        return
    assert s.get(key) == value
    assert_every_value_is_acceptable(s, tmp_path)


def test_fixed_a_deeply_nested_file(tmp_path: Path) -> None:
    assert_every_value_is_acceptable(load_bytes(tmp_path, b"[" * 100_000), tmp_path)
