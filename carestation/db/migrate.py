"""Opens a database safely: recognises it, refuses what it must not touch, backs up, migrates."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import Enum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from carestation.db.base import UTCDateTime
from carestation.db.engine import make_engine, parse_url, sqlite_path
from carestation.db.models import SCHEMA_APPLICATION, EnumText
from carestation.domain.errors import (
    DatabaseUnavailable,
    NotACareStationDatabase,
    SchemaTooNew,
)
from carestation.i18n import _
from carestation.resources import migrations_path

if TYPE_CHECKING:
    from alembic.config import Config

# Alembic costs ~0.3 s to import. Opening a database that is already current needs only the
# revision ids, read from the files below; Alembic is imported when there is work to do.
_REVISION = re.compile(r"^revision(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", re.MULTILINE)
_DOWN = re.compile(r"^down_revision(?::[^=]*)?=\s*(.+)$", re.MULTILINE)


class SchemaState(Enum):
    EMPTY = "empty"
    CURRENT = "current"
    BEHIND = "behind"


@dataclass(frozen=True)
class OpenResult:
    state_before: SchemaState
    revision_before: str | None
    backup: Path | None


def render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Autogenerate hook: migrations must not import app code, so our column types are written
    as the plain SQLAlchemy types they store."""
    if type_ == "type" and isinstance(obj, EnumText):
        return f"sa.String(length={obj.impl.length})"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def alembic_config() -> Config:
    """Alembic's settings without an .ini file: the script folder is found like every other
    resource (a checkout, an installed wheel's carestation/_bundled, or the PyInstaller bundle),
    so `carestation migrate` and the app's start-up work wherever the program is installed."""
    from alembic.config import Config

    cfg = Config()
    # Config values go through configparser's interpolation: a literal "%" (possible in a
    # Windows user or folder name) must be doubled.
    cfg.set_main_option("script_location", str(migrations_path()).replace("%", "%%"))
    return cfg


@cache
def _revision_graph() -> dict[str, set[str]]:
    """Each revision in migrations/versions and the revisions it follows."""
    graph: dict[str, set[str]] = {}
    for path in sorted((migrations_path() / "versions").glob("*.py")):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        down = _DOWN.search(source)
        if found is None or down is None:
            raise RuntimeError(f"{path.name} is not an Alembic revision")
        graph[found.group(1)] = set(re.findall(r"['\"]([^'\"]+)['\"]", down.group(1)))
    return graph


def head_revision() -> str:
    graph = _revision_graph()
    followed = set().union(*graph.values()) if graph else set()
    heads = [rev for rev in graph if rev not in followed]
    if len(heads) != 1:
        raise RuntimeError(f"expected one head revision, found {heads}")
    return heads[0]


def _known_revisions() -> set[str]:
    return set(_revision_graph())


def _classify(
    tables: set[str], meta_app: str | None, revision: str | None, where: str
) -> SchemaState:
    if not tables:
        return SchemaState.EMPTY
    if "carestation_meta" not in tables or meta_app != SCHEMA_APPLICATION:
        raise NotACareStationDatabase(
            _(
                "{where} is not a CareStation database. It was left untouched; choose another "
                "file, or an empty one to start afresh."
            ).format(where=where)
        )
    if revision is None:
        raise NotACareStationDatabase(
            _("{where} has no schema version; it was left untouched.").format(where=where)
        )
    if revision not in _known_revisions():
        raise SchemaTooNew(
            _(
                "{where} was written by a newer version of CareStation (schema {revision}). Install "
                "the newer version; the database was left untouched."
            ).format(where=where, revision=revision)
        )
    return SchemaState.CURRENT if revision == head_revision() else SchemaState.BEHIND


def inspect_sqlite_file(path: Path) -> tuple[SchemaState, str | None]:
    """Reads the file strictly read-only, so a foreign or damaged file is never modified."""
    if not path.exists() or path.stat().st_size == 0:
        return SchemaState.EMPTY, None
    where = str(path)
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DatabaseUnavailable(
            _("{where} cannot be opened: {reason}").format(where=where, reason=exc)
        ) from exc
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        meta_app = revision = None
        if "carestation_meta" in tables:
            row = conn.execute(
                "SELECT value FROM carestation_meta WHERE key='application'"
            ).fetchone()
            meta_app = row[0] if row else None
        if "alembic_version" in tables:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
    except sqlite3.DatabaseError as exc:
        raise NotACareStationDatabase(
            _(
                "{where} is not a database CareStation can read ({reason}). It was left untouched."
            ).format(where=where, reason=exc)
        ) from exc
    finally:
        conn.close()
    tables.discard("alembic_version")
    return _classify(tables, meta_app, revision, where), revision


def inspect_connection(conn: Connection) -> tuple[SchemaState, str | None]:
    where = conn.engine.url.render_as_string(hide_password=True)
    tables = set(inspect(conn).get_table_names())
    meta_app = None
    if "carestation_meta" in tables:
        meta_app = conn.execute(
            text("SELECT value FROM carestation_meta WHERE key='application'")
        ).scalar()
    revision = (
        conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        if "alembic_version" in tables
        else None
    )
    tables.discard("alembic_version")
    return _classify(tables, meta_app, revision, where), revision


def backup_sqlite(path: Path, label: str) -> Path:
    """A consistent copy through SQLite's online backup API (a plain copy can miss the -wal)."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.{stamp}.{label}{path.suffix or '.db'}")
    src = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()
    return target


def open_database(url: str, *, backup_folder: Path | None = None) -> tuple[Engine, OpenResult]:
    """Checks, backs up (SQLite) and upgrades the database to head; returns a ready engine.
    The backup before a migration goes to `backup_folder` (the app's backups folder, where
    rotation keeps it for a while), else beside the database file."""
    parsed = parse_url(url)
    path = sqlite_path(parsed)
    backup: Path | None = None
    if path is not None:
        state, revision = inspect_sqlite_file(path)
        if state is SchemaState.BEHIND:
            if backup_folder is None:
                backup = backup_sqlite(path, f"before-migrate-{revision}")
            else:
                from carestation.db.backups import BackupKind, make_backup

                backup = make_backup(
                    path, backup_folder, BackupKind.BEFORE_MIGRATE, now=datetime.now(UTC)
                ).path
    engine = make_engine(parsed)
    try:
        with engine.connect() as conn:
            state, revision = inspect_connection(conn)
        if state is not SchemaState.CURRENT:
            upgrade(engine)
    except DBAPIError as exc:
        engine.dispose()
        raise DatabaseUnavailable(
            _("Cannot open the database {url}: {reason}").format(
                url=parsed.render_as_string(hide_password=True),
                reason=str(exc.orig).strip().splitlines()[0] if exc.orig else exc,
            )
        ) from exc
    except Exception:
        engine.dispose()
        raise
    return engine, OpenResult(state_before=state, revision_before=revision, backup=backup)


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    _run(engine, lambda cfg: command.upgrade(cfg, revision))


def _run(engine: Engine, step: Callable[[Config], None]) -> None:
    """Runs migrations in one transaction. On SQLite, foreign keys are off meanwhile (as Alembic
    advises for batch mode: recreating a table would otherwise check every referencing row) and
    the whole database is checked for broken references before the transaction commits."""
    cfg = alembic_config()
    with engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        raw = conn.connection.driver_connection if sqlite else None
        if raw is not None:
            raw.execute("PRAGMA foreign_keys=OFF")  # only takes effect outside a transaction
        try:
            with conn.begin():
                cfg.attributes["connection"] = conn
                step(cfg)
                if sqlite:
                    broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(
                            f"migration left {len(broken)} broken references; rolled back"
                        )
        finally:
            if raw is not None:
                raw.execute("PRAGMA foreign_keys=ON")


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    _run(engine, lambda cfg: command.downgrade(cfg, revision))
