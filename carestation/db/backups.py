"""Backups of the embedded SQLite database: consistent copies, rotation, checks and restore."""

from __future__ import annotations

import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from carestation.db.migrate import SchemaState, inspect_sqlite_file
from carestation.domain.errors import NotACareStationDatabase
from carestation.i18n import N_, _


class BackupKind(StrEnum):
    DAILY = "daily"
    MANUAL = "manual"
    BEFORE_MIGRATE = "before-migrate"
    BEFORE_RESTORE = "before-restore"

    @property
    def label(self) -> str:
        return _(_KIND_TITLES[self])


_KIND_TITLES = {
    BackupKind.DAILY: N_("Daily"),
    BackupKind.MANUAL: N_("Manual"),
    BackupKind.BEFORE_MIGRATE: N_("Before an upgrade"),
    BackupKind.BEFORE_RESTORE: N_("Before a restore"),
}

# Rotation. Daily and manual backups share the grid; the safety copies taken before a
# migration or a restore are kept for a while whatever the grid says.
KEEP_DAILY = 7
KEEP_WEEKLY = 4
KEEP_MONTHLY = 12
KEEP_SAFETY_COPIES = timedelta(days=30)
DAILY_INTERVAL = timedelta(days=1)

PREFIX = "carestation-"
SUFFIX = ".db"
# carestation-20261124-051500Z-daily.db (UTC; no ":" so the names are valid on Windows). A
# counter follows the kind when two backups fall in the same second.
_NAME = re.compile(
    r"^carestation-(\d{8}-\d{6})Z-(" + "|".join(re.escape(k.value) for k in BackupKind) + r")"
    r"(?:-(\d+))?(?:-[A-Za-z0-9]+)?\.db$"
)


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    taken_at: datetime  # UTC
    kind: BackupKind
    size: int


def default_folder(database: Path) -> Path:
    """Where backups go when the administrator has not chosen a folder."""
    return database.parent / "backups"


def folder_for(database: Path, chosen: str) -> Path:
    """The folder the administrator chose (the `backup_folder` setting), else the default."""
    return Path(chosen).expanduser() if chosen else default_folder(database)


def parse_name(path: Path) -> tuple[datetime, BackupKind] | None:
    found = _NAME.match(path.name)
    if found is None:
        return None
    taken = datetime.strptime(found.group(1), "%Y%m%d-%H%M%S").replace(tzinfo=UTC)
    return taken, BackupKind(found.group(2))


def list_backups(folder: Path) -> list[BackupInfo]:
    """The backups in `folder`, newest first; other files are ignored."""
    if not folder.is_dir():
        return []
    found = []
    for path in folder.glob(f"{PREFIX}*{SUFFIX}"):
        parsed = parse_name(path)
        if parsed is None:
            continue
        try:
            size = path.stat().st_size
        except OSError:
            continue
        found.append(BackupInfo(path, parsed[0], parsed[1], size))
    return sorted(found, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def _integrity(conn: sqlite3.Connection) -> str:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    return "; ".join(str(r[0]) for r in rows[:5])


def _open_ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)


def make_backup(database: Path, folder: Path, kind: BackupKind, *, now: datetime) -> BackupInfo:
    """A consistent copy of `database` (its -wal included) through SQLite's online backup API.
    Written under a temporary name in the target folder, checked, then renamed, so the folder
    never holds half a backup under a backup's name."""
    folder.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(UTC).strftime("%Y%m%d-%H%M%S")
    target = folder / f"{PREFIX}{stamp}Z-{kind.value}{SUFFIX}"
    counter = 1
    while target.exists():
        counter += 1
        target = folder / f"{PREFIX}{stamp}Z-{kind.value}-{counter}{SUFFIX}"
    partial = folder / f".{target.name}.partial"
    src = _open_ro(database)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            # The copy is a plain rollback-journal file: one file that opens anywhere.
            dst.execute("PRAGMA journal_mode=DELETE")
            result = _integrity(dst)
        finally:
            dst.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        src.close()
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise NotACareStationDatabase(
            _("The backup copy failed its check ({reason}); nothing was kept.").format(
                reason=result
            )
        )
    os.replace(partial, target)
    return BackupInfo(target, parse_name(target)[0], kind, target.stat().st_size)  # type: ignore[index]


def to_prune(backups: list[BackupInfo], now: datetime) -> list[BackupInfo]:
    """The backups rotation removes: of the daily and manual ones, the newest of each of the
    last 7 days that have one, of the last 4 ISO weeks and of the last 12 months are kept;
    safety copies (before a migration or a restore) for 30 days, and always the newest one."""
    keep: set[Path] = set()
    grid = sorted(
        (b for b in backups if b.kind in (BackupKind.DAILY, BackupKind.MANUAL)),
        key=lambda b: (b.taken_at, b.path.name),
        reverse=True,
    )
    for count, bucket in (
        (KEEP_DAILY, lambda t: t.date()),
        (KEEP_WEEKLY, lambda t: tuple(t.isocalendar())[:2]),
        (KEEP_MONTHLY, lambda t: (t.year, t.month)),
    ):
        seen: set[object] = set()
        for backup in grid:
            key = bucket(backup.taken_at)
            if key in seen:
                continue
            if len(seen) == count:
                break
            seen.add(key)
            keep.add(backup.path)
    for backup in backups:
        grid_kind = backup.kind in (BackupKind.DAILY, BackupKind.MANUAL)
        if not grid_kind and now - backup.taken_at <= KEEP_SAFETY_COPIES:
            keep.add(backup.path)
    safety = sorted(
        (b for b in backups if b.kind not in (BackupKind.DAILY, BackupKind.MANUAL)),
        key=lambda b: (b.taken_at, b.path.name),
    )
    if safety:
        keep.add(safety[-1].path)
    return [b for b in backups if b.path not in keep]


def rotate(folder: Path, now: datetime) -> list[Path]:
    removed = []
    for backup in to_prune(list_backups(folder), now):
        backup.path.unlink(missing_ok=True)
        removed.append(backup.path)
    return removed


def daily_due(backups: list[BackupInfo], now: datetime) -> bool:
    """True when no daily or manual backup is younger than a day."""
    latest = max(
        (b.taken_at for b in backups if b.kind in (BackupKind.DAILY, BackupKind.MANUAL)),
        default=None,
    )
    return latest is None or now - latest >= DAILY_INTERVAL


def check_backup(path: Path) -> tuple[SchemaState, str | None]:
    """Refuses a file that is damaged, is not a CareStation database, or was written by a newer
    version; the file is opened read-only and never changed."""
    where = str(path)
    try:
        conn = _open_ro(path)
        try:
            result = _integrity(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise NotACareStationDatabase(
            _("{where} is damaged or not a database ({reason}); nothing was restored.").format(
                where=where, reason=exc
            )
        ) from exc
    if result != "ok":
        raise NotACareStationDatabase(
            _("{where} is damaged ({reason}); nothing was restored.").format(
                where=where, reason=result
            )
        )
    state, revision = inspect_sqlite_file(path)  # NotACareStationDatabase or SchemaTooNew
    if state is SchemaState.EMPTY:
        raise NotACareStationDatabase(
            _("{where} is empty; nothing was restored.").format(where=where)
        )
    return state, revision


def copy_into(source: Path, database: Path) -> None:
    """Replaces the content of the live `database` with `source` through the backup API, which
    takes the database's locks and rewrites its -wal consistently (renaming a file over a
    database whose -wal still holds frames would mix two databases). No other connection of
    this process may be open."""
    src = _open_ro(source)
    try:
        dst = sqlite3.connect(database, timeout=10)
        try:
            dst.execute("PRAGMA journal_mode=WAL")
            src.backup(dst)
            dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            result = _integrity(dst)
        finally:
            dst.close()
    finally:
        src.close()
    if result != "ok":  # pragma: no cover - the source passed the same check
        raise NotACareStationDatabase(
            _("The restored database failed its check ({reason}).").format(reason=result)
        )
