"""Opening a database: refusing what is not ours or is too new, without touching it."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from carestation.db.migrate import SchemaState, backup_sqlite, open_database
from carestation.domain.errors import DatabaseUnavailable, NotACareStationDatabase, SchemaTooNew


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_fresh_file_is_created_at_head(tmp_path: Path) -> None:
    engine, result = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    engine.dispose()
    assert result.state_before is SchemaState.EMPTY
    engine, result = open_database(f"sqlite:///{tmp_path / 'new.db'}")
    engine.dispose()
    assert result.state_before is SchemaState.CURRENT


def test_sqlite_connections_are_configured(tmp_path: Path) -> None:
    engine, _ = open_database(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        values = {
            name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in (
                "journal_mode",
                "foreign_keys",
                "synchronous",
                "secure_delete",
                "temp_store",
                "busy_timeout",
            )
        }
    engine.dispose()
    # synchronous 2 = FULL, temp_store 2 = MEMORY
    assert values == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "synchronous": 2,
        "secure_delete": 1,
        "temp_store": 2,
        "busy_timeout": 10000,
    }


def test_a_file_that_is_not_a_database_is_left_untouched(tmp_path: Path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_bytes("这不是数据库 — not a database\n".encode() * 300)
    before = _digest(junk)
    with pytest.raises(NotACareStationDatabase) as exc:
        open_database(f"sqlite:///{junk}")
    assert "left untouched" in str(exc.value)
    assert _digest(junk) == before
    assert not Path(f"{junk}-wal").exists()


def test_another_apps_sqlite_database_is_left_untouched(tmp_path: Path) -> None:
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    conn.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    conn.commit()
    conn.close()
    before = _digest(other)
    with pytest.raises(NotACareStationDatabase):
        open_database(f"sqlite:///{other}")
    assert _digest(other) == before


def test_a_newer_schema_is_refused_and_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    engine, _ = open_database(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed9999'"))
    engine.dispose()
    before = _digest(path)
    with pytest.raises(SchemaTooNew) as exc:
        open_database(f"sqlite:///{path}")
    assert "newer version of CareStation" in str(exc.value)
    assert _digest(path) == before


def test_newer_schema_on_every_backend(db_url: str) -> None:
    engine, _ = open_database(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed9999'"))
    engine.dispose()
    with pytest.raises(SchemaTooNew):
        open_database(db_url)


def test_missing_folder_and_unreachable_server_give_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(DatabaseUnavailable) as missing:
        open_database(f"sqlite:///{tmp_path / 'nope' / 'x.db'}")
    assert "does not exist" in str(missing.value)
    with pytest.raises(DatabaseUnavailable) as unreachable:
        open_database("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert "Cannot open the database" in str(unreachable.value)
    with pytest.raises(DatabaseUnavailable):
        open_database("mysql://x@y/z")
    with pytest.raises(DatabaseUnavailable):
        open_database("not a url at all")


def test_backup_uses_the_online_api_and_keeps_committed_rows(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    engine, _ = open_database(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO carestation_meta (key, value) VALUES ('probe', 'committed')")
        )
    # Leave the row in the -wal (no checkpoint): a plain file copy could miss it.
    copy = backup_sqlite(path, "test")
    engine.dispose()
    check = sqlite3.connect(copy)
    assert check.execute("SELECT value FROM carestation_meta WHERE key='probe'").fetchone() == (
        "committed",
    )
    assert check.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    check.close()


def test_an_older_sqlite_database_is_backed_up_then_upgraded(tmp_path: Path) -> None:
    from carestation.db.migrate import downgrade, head_revision

    path = tmp_path / "station.db"
    engine, _ = open_database(f"sqlite:///{path}")
    downgrade(engine, "0001")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO carestation_meta (key, value) VALUES ('probe', 'kept')"))
    engine.dispose()
    engine, result = open_database(f"sqlite:///{path}")
    engine.dispose()
    assert result.state_before is SchemaState.BEHIND
    assert result.revision_before == "0001"
    assert result.backup is not None
    assert result.backup.name.startswith("station.")
    assert "before-migrate-0001" in result.backup.name
    check = sqlite3.connect(result.backup)
    assert check.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    assert check.execute("SELECT value FROM carestation_meta WHERE key='probe'").fetchone() == (
        "kept",
    )
    check.close()
    check = sqlite3.connect(path)
    assert check.execute("SELECT version_num FROM alembic_version").fetchone() == (head_revision(),)
    check.close()
