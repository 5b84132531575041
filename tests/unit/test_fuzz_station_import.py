"""Fuzzed station imports (issue 8, "Bad input"): a station's SQLite file that is random bytes,
cut short, damaged at random bytes, or a valid file with one field mangled, is either imported
whole or refused with a clear error; a refusal leaves the target exactly as it was, and the
source file is never written. The target is a SQLite file here; the same transaction on
PostgreSQL is covered by tests/integration/test_station_import.py."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from carestation.db.base import Base
from carestation.db.demo import generate_demo
from carestation.db.migrate import open_database
from carestation.domain.errors import CareStationError
from carestation.services.station_import import ImportReport, import_station
from tests.fuzzing import event

FUZZ = settings(
    max_examples=int(os.environ.get("CARESTATION_FUZZ_EXAMPLES", "20")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TODAY = date(2026, 11, 23)
# Tables and columns worth mangling: people, bookings, notes, keys, the audit chain.
MANGLED_TABLES = (
    "station",
    "user_account",
    "client",
    "appointment",
    "session_note",
    "client_key",
    "audit_event",
    "assessment",
    "consent",
    "campaign_code",
    "carestation_meta",
    "alembic_version",
)


@dataclass(frozen=True)
class Files:
    source: Path  # a demo station's file: valid, carries its key
    station: str
    target: Path  # a copy of this is the target of each import
    folder: Path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Files:
    folder = tmp_path_factory.mktemp("fuzz-import")
    source, target = folder / "station.db", folder / "target.db"
    engine, _result = open_database(f"sqlite:///{source.as_posix()}")
    generate_demo(engine, stations=1, clients=8, months=1, seed=1, today=TODAY)
    with engine.connect() as conn:
        station = conn.execute(text("SELECT name FROM station")).scalar_one()
    engine.dispose()
    engine, _result = open_database(f"sqlite:///{target.as_posix()}")
    generate_demo(engine, stations=1, clients=3, months=1, seed=2, today=TODAY)
    with engine.begin() as conn:  # another station, other accounts
        conn.execute(text("UPDATE station SET name = 'Zhuji headquarters'"))
        conn.execute(text("UPDATE user_account SET username = 't' || username"))
    engine.dispose()
    for path in (source, target):  # one file each, no -wal beside it
        con = sqlite3.connect(path)
        con.execute("PRAGMA journal_mode=DELETE")
        con.close()
    return Files(source, station, target, folder)


def fingerprint(path: Path) -> str:
    """Every row of every table of the target."""
    con = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    digest = hashlib.sha256()
    try:
        for table in Base.metadata.sorted_tables:
            rows = sorted(repr(r) for r in con.execute(f'SELECT * FROM "{table.name}"'))
            digest.update(f"{table.name}:{len(rows)}:{rows}".encode())
    finally:
        con.close()
    return digest.hexdigest()


class Case:
    """One import of a damaged file into a fresh copy of the target."""

    def __init__(self, files: Files, tmp: Path) -> None:
        self.files = files
        self.source = tmp / "damaged.db"
        self.target = tmp / "target.db"
        shutil.copyfile(files.target, self.target)
        self.target_before = fingerprint(self.target)

    def run(self, content: bytes | None = None) -> None:
        if content is not None:
            self.source.write_bytes(content)
        source_before = self.source.read_bytes()
        try:
            report = import_station(
                source=self.source,
                target_url=f"sqlite:///{self.target.as_posix()}",
                station=self.files.station,
            )
        except CareStationError as exc:
            event(f"refused: {type(exc).__name__}")
            assert str(exc).strip()
            assert "Traceback" not in str(exc)
            assert fingerprint(self.target) == self.target_before, "a refused import wrote"
        else:
            event("imported")
            assert isinstance(report, ImportReport)
            assert report.rows_copied > 0
            assert fingerprint(self.target) != self.target_before
            con = sqlite3.connect(self.target)
            try:
                assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
                assert con.execute("PRAGMA foreign_key_check").fetchall() == []
            finally:
                con.close()
        assert self.source.read_bytes() == source_before, "the source file was written"


@pytest.fixture
def case(files: Files, tmp_path: Path) -> Any:
    def make() -> Case:
        folder = tmp_path / f"case{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        return Case(files, folder)

    return make


# --- damaged bytes -----------------------------------------------------------------------------
@FUZZ
@given(content=st.binary(max_size=2048))
@example(content=b"")
@example(content=b"SQLite format 3\x00")
def test_random_bytes(case: Any, content: bytes) -> None:
    case().run(content)


@FUZZ
@given(fraction=st.floats(0, 1, exclude_max=True))
def test_a_file_cut_short(case: Any, files: Files, fraction: float) -> None:
    valid = files.source.read_bytes()
    case().run(valid[: int(len(valid) * fraction)])


@FUZZ
@given(
    damage=st.lists(
        st.tuples(
            st.one_of(st.integers(0, 99), st.integers(0, 10**9)), st.binary(min_size=1, max_size=16)
        ),
        min_size=1,
        max_size=6,
    )
)
def test_damaged_bytes(case: Any, files: Files, damage: list[tuple[int, bytes]]) -> None:
    content = bytearray(files.source.read_bytes())
    for position, junk in damage:
        at = position % len(content)
        content[at : at + len(junk)] = junk
    case().run(bytes(content[: len(files.source.read_bytes())]))


# --- one field mangled -------------------------------------------------------------------------

FIELD_VALUES = st.one_of(
    st.none(),
    st.integers(-(2**63), 2**63 - 1),
    st.integers(-3, 10),
    st.floats(allow_nan=True),
    st.text(st.characters(exclude_categories=("Cs",)), max_size=30),
    st.binary(max_size=40),
    st.sampled_from(["", "2026-13-45 25:61:00", "not a date", "0", "phq9", "booked", "admin"]),
)


@FUZZ
@given(
    table=st.sampled_from(MANGLED_TABLES),
    column_pick=st.integers(0, 100),
    row_pick=st.integers(0, 10**6),
    value=FIELD_VALUES,
)
# Found by this test: a damaged demo key (not base64) and a damaged key check (non-ASCII text)
# in the source's meta table escaped as raw errors instead of a refusal.
@example(table="carestation_meta", column_pick=1, row_pick=1, value=0)
@example(table="carestation_meta", column_pick=1, row_pick=3, value="\x80")
def test_a_valid_file_with_one_field_mangled(
    case: Any, files: Files, table: str, column_pick: int, row_pick: int, value: Any
) -> None:
    this = case()
    shutil.copyfile(files.source, this.source)
    con = sqlite3.connect(this.source)
    try:
        columns = [r[1] for r in con.execute(f'PRAGMA table_info("{table}")')]
        rowids = [r[0] for r in con.execute(f'SELECT rowid FROM "{table}"')]
        if rowids:
            column = columns[column_pick % len(columns)]
            con.execute(
                f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = ?',
                (value, rowids[row_pick % len(rowids)]),
            )
            con.commit()
            event(f"mangled {table}.{column}")
    except sqlite3.IntegrityError:  # the file's own constraints refused the value
        con.rollback()
    finally:
        con.close()
    this.run()


def test_the_valid_file_imports(case: Any) -> None:
    this = case()
    shutil.copyfile(this.files.source, this.source)
    this.run()
    assert fingerprint(this.target) != this.target_before


# --- bugs found by the properties above, fixed: kept as plain regression tests ----------------


@pytest.mark.parametrize(
    ("table", "column", "value"),
    [
        ("", "", b"\x13" * 4096),  # not a database at all
        ("", "", b"cut"),  # the first third of a valid file
        ("appointment", "created_at", "not a date"),
        ("appointment", "status", "0"),
        ("assessment", "answers", b"\x80"),
        ("station", "name", b"\xff\xfe"),
        ("user_account", "username", b"\xff"),
    ],
    ids=[
        "not-a-database",
        "cut-short",
        "bad-date",
        "unknown-status",
        "answers-not-json",
        "name-not-utf8",
        "username-bytes",
    ],
)
def test_fixed_raw_errors_escape_the_import(
    case: Any, files: Files, table: str, column: str, value: Any
) -> None:
    this = case()
    valid = files.source.read_bytes()
    if not table:
        this.run(valid[: len(valid) // 3] if value == b"cut" else value)
        return
    shutil.copyfile(files.source, this.source)
    con = sqlite3.connect(this.source)
    try:  # a failure here is the test's own, not the bug's
        con.execute(
            f'UPDATE "{table}" SET "{column}" = ? WHERE rowid = (SELECT MIN(rowid) FROM "{table}")',
            (value,),
        )
        con.commit()
    except sqlite3.Error as exc:
        pytest.fail(f"could not mangle {table}.{column}: {exc}")
    finally:
        con.close()
    this.run()
