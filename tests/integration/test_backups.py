"""Backups and restore on a real SQLite file: WAL content, refusals that leave the database as
it was, the copy kept before a restore, and who may do it."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from carestation.db import backups
from carestation.db import models as m
from carestation.db.backups import BackupKind
from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.domain.errors import NotACareStationDatabase, PermissionDenied, SchemaTooNew
from carestation.services.container import Services, build_services
from tests.conftest import FakeClock
from tests.factories import World, build_world


@pytest.fixture
def live(tmp_path: Path) -> Path:
    return tmp_path / "carestation.db"


@pytest.fixture
def services(live: Path, clock: FakeClock) -> Iterator[Services]:
    engine, _r = open_database(f"sqlite:///{live.as_posix()}")
    yield build_services(Database(engine), clock)
    engine.dispose()


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


def _add_client(services: Services, code: str) -> None:
    with services.db.write() as session:
        session.add(
            m.Client(
                client_code=code,
                name="李四",
                phone="13900000000",
                work_unit="",
                created_at=datetime(2026, 2, 1, tzinfo=UTC),
            )
        )


def _codes(services: Services) -> list[str]:
    with services.db.read() as session:
        return sorted(session.scalars(select(m.Client.client_code)))


def _codes_in(path: Path) -> list[str]:
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return sorted(r[0] for r in conn.execute("SELECT client_code FROM client"))
    finally:
        conn.close()


def test_a_backup_holds_what_is_still_only_in_the_wal(
    services: Services, world: World, live: Path, tmp_path: Path
) -> None:
    # Keep a reader open so nothing checkpoints the WAL behind the test's back.
    holder = sqlite3.connect(live)
    holder.execute("BEGIN")
    holder.execute("SELECT count(*) FROM client").fetchone()
    try:
        _add_client(services, "WXYZ-2345-6")
        assert Path(f"{live}-wal").stat().st_size > 0
        assert "WXYZ-2345-6" not in _codes_in_main_file_only(live, tmp_path)
        info = backups.make_backup(
            live, tmp_path / "b", BackupKind.MANUAL, now=datetime(2026, 11, 24, 3, tzinfo=UTC)
        )
    finally:
        holder.close()
    assert info.path.name == "carestation-20261124-030000Z-manual.db"
    assert _codes_in(info.path) == ["ABCD-EFGH-1", "WXYZ-2345-6"]
    conn = sqlite3.connect(info.path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert not Path(f"{info.path}-wal").exists()
    assert [p.name for p in (tmp_path / "b").iterdir()] == [info.path.name]  # no temp file left


def _codes_in_main_file_only(live: Path, tmp_path: Path) -> list[str]:
    """The clients in the database file without its -wal (a plain copy would get this)."""
    copy = tmp_path / "plain-copy.db"
    copy.write_bytes(live.read_bytes())
    return _codes_in(copy)


def test_restore_brings_back_the_old_data_and_keeps_the_current_file_first(
    services: Services, world: World, live: Path, tmp_path: Path, clock: FakeClock
) -> None:
    folder = tmp_path / "backups"
    taken = services.backups.back_up_now(actor=world.admin, folder=folder)
    clock.advance(hours=2)
    # An idle connection (another window's, say) keeps the new row in the -wal: closing the
    # last connection would otherwise checkpoint it into the file.
    idle = sqlite3.connect(live, isolation_level=None)
    idle.execute("SELECT count(*) FROM client").fetchone()
    _add_client(services, "WXYZ-2345-6")
    assert _codes(services) == ["ABCD-EFGH-1", "WXYZ-2345-6"]
    assert Path(f"{live}-wal").stat().st_size > 0

    try:
        result = services.backups.restore(actor=world.admin, backup=taken.path, folder=folder)
        # That other connection sees the restored database too, not a mix of the two.
        assert [r[0] for r in idle.execute("SELECT client_code FROM client")] == ["ABCD-EFGH-1"]
    finally:
        idle.close()
    assert not result.needs_recovery_code
    saved = result.saved

    assert _codes(services) == ["ABCD-EFGH-1"]
    assert saved.kind is BackupKind.BEFORE_RESTORE
    assert _codes_in(saved.path) == ["ABCD-EFGH-1", "WXYZ-2345-6"]
    assert [b.kind for b in backups.list_backups(folder)] == [
        BackupKind.BEFORE_RESTORE,
        BackupKind.MANUAL,
    ]
    with services.db.read() as session:
        trail = list(
            session.execute(
                select(m.AuditEvent.action, m.AuditEvent.result, m.AuditEvent.object_ref).order_by(
                    m.AuditEvent.seq
                )
            )
        )
    # The restored trail ends with the restore. The backup's own entry was written after the
    # copy was taken, and the attempt's "started" entry went with the replaced database: both
    # are in the copy kept before the restore.
    assert trail[-1] == ("restore_database", "ok", taken.path.name)
    assert ("back_up_database", "ok", taken.path.name) not in trail
    conn = sqlite3.connect(f"{saved.path.resolve().as_uri()}?mode=ro", uri=True)
    kept_trail = conn.execute("SELECT action, result FROM audit_event ORDER BY seq").fetchall()
    conn.close()
    assert kept_trail[-2:] == [("back_up_database", "ok"), ("restore_database", "started")]
    assert services.audit.verify().ok
    # The app keeps working on the restored file.
    _add_client(services, "MNPQ-3456-7")
    assert _codes(services) == ["ABCD-EFGH-1", "MNPQ-3456-7"]


def _newer_schema(source: Path, target: Path) -> Path:
    backups.copy_into  # noqa: B018 - same API; a plain copy of a checkpointed file is enough
    conn = sqlite3.connect(target)
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    src.backup(conn)
    src.close()
    conn.execute("UPDATE alembic_version SET version_num='9999_from_the_future'")
    conn.commit()
    conn.close()
    return target


def _foreign(target: Path) -> Path:
    conn = sqlite3.connect(target)
    conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT)")
    conn.execute("INSERT INTO photos (name) VALUES ('holiday')")
    conn.commit()
    conn.close()
    return target


def _damaged(source: Path, target: Path) -> Path:
    data = bytearray(source.read_bytes())
    # Overwrite pages in the middle with noise: the header still says "SQLite format 3".
    for i in range(8192, min(len(data), 8192 + 20000)):
        data[i] = (i * 7919) % 251
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("newer", SchemaTooNew),
        ("foreign", NotACareStationDatabase),
        ("damaged", NotACareStationDatabase),
        ("not_sqlite", NotACareStationDatabase),
    ],
)
def test_a_refused_restore_leaves_the_live_database_untouched(
    services: Services, world: World, live: Path, tmp_path: Path, kind: str, error: type
) -> None:
    folder = tmp_path / "backups"
    good = services.backups.back_up_now(actor=world.admin, folder=folder)
    _add_client(services, "WXYZ-2345-6")
    target = tmp_path / f"{kind}.db"
    if kind == "newer":
        _newer_schema(good.path, target)
    elif kind == "foreign":
        _foreign(target)
    elif kind == "damaged":
        _damaged(good.path, target)
    else:
        target.write_bytes(b"these are not the pages you are looking for\n" * 200)
    before = target.read_bytes()
    with pytest.raises(error):
        services.backups.restore(actor=world.admin, backup=target, folder=folder)
    assert _codes(services) == ["ABCD-EFGH-1", "WXYZ-2345-6"]
    assert [b.kind for b in backups.list_backups(folder)] == [BackupKind.MANUAL]  # no copy made
    assert target.read_bytes() == before  # the chosen file is not changed either
    with services.db.read() as session:
        last = session.execute(
            select(m.AuditEvent.action, m.AuditEvent.result)
            .order_by(m.AuditEvent.seq.desc())
            .limit(1)
        ).one()
    assert tuple(last) == ("restore_database", "failed")


def test_only_an_administrator_backs_up_or_restores(
    services: Services, world: World, tmp_path: Path
) -> None:
    folder = tmp_path / "backups"
    good = services.backups.back_up_now(actor=world.admin, folder=folder)
    for role_actor in (world.staff, world.counsellor, world.manager):
        with pytest.raises(PermissionDenied):
            services.backups.back_up_now(actor=role_actor, folder=folder)
        with pytest.raises(PermissionDenied):
            services.backups.restore(actor=role_actor, backup=good.path, folder=folder)
    assert len(backups.list_backups(folder)) == 1


def test_the_daily_backup_runs_once_a_day_and_rotates(
    services: Services, world: World, tmp_path: Path, clock: FakeClock
) -> None:
    folder = tmp_path / "backups"
    assert services.backups.daily_if_due(folder=folder) is not None
    clock.advance(hours=5)
    assert services.backups.daily_if_due(folder=folder) is None
    for _day in range(10):
        clock.advance(days=1)
        assert services.backups.daily_if_due(folder=folder) is not None
    # 11 days (Mon 23 Nov to Thu 3 Dec): the last 7 days; their newest also stand for this
    # week, last week and both months, so nothing older is needed.
    assert [b.taken_at.date().isoformat() for b in backups.list_backups(folder)] == [
        f"2026-{d}" for d in ("12-03", "12-02", "12-01", "11-30", "11-29", "11-28", "11-27")
    ]


def test_the_backup_before_a_migration_goes_to_the_backups_folder(tmp_path: Path) -> None:
    from carestation.db.migrate import downgrade

    path = tmp_path / "station.db"
    engine, _ = open_database(f"sqlite:///{path}")
    downgrade(engine, "0001")
    engine.dispose()
    folder = tmp_path / "chosen"
    engine, result = open_database(f"sqlite:///{path}", backup_folder=folder)
    engine.dispose()
    assert result.backup is not None
    assert [(b.path, b.kind) for b in backups.list_backups(folder)] == [
        (result.backup, BackupKind.BEFORE_MIGRATE)
    ]
    check = sqlite3.connect(result.backup)
    assert check.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    check.close()


def test_a_backup_of_another_database_needs_its_recovery_code(
    services: Services, world: World, tmp_path: Path, clock: FakeClock
) -> None:
    other_path = tmp_path / "other-pc.db"
    engine, _r = open_database(f"sqlite:///{other_path.as_posix()}")
    other = build_services(Database(engine), clock)
    build_world(other)
    _add_client(other, "QRST-4567-8")
    other_code = other.vault.recovery_code()
    other_backup = backups.make_backup(
        other_path, tmp_path / "usb", BackupKind.MANUAL, now=clock.now()
    )
    engine.dispose()

    result = services.backups.restore(
        actor=world.admin, backup=other_backup.path, folder=tmp_path / "backups"
    )
    assert result.needs_recovery_code
    assert not services.vault.is_unlocked
    services.vault.unlock_with_recovery_code(other_code)
    assert _codes(services) == ["ABCD-EFGH-1", "QRST-4567-8"]
    assert services.audit.verify().ok
