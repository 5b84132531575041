"""Engine set-up for SQLite and PostgreSQL, and the unit of work every service call runs in."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from carestation.domain.errors import DatabaseUnavailable
from carestation.i18n import _

# synchronous=FULL: in WAL mode NORMAL can lose the last commits on power loss, and a station
# PC is often switched off at the wall. FULL costs one fsync per commit, which a booking desk
# never notices. See docs/database.md.
SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=FULL",
    "PRAGMA secure_delete=ON",
    "PRAGMA temp_store=MEMORY",
)
_WRITE = "carestation_write"
CONNECT_TIMEOUT_S = 5
PG_CONNECT_ARGS = {
    "connect_timeout": CONNECT_TIMEOUT_S,
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 5,
    "keepalives_count": 3,
}


def parse_url(url: str) -> URL:
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        # The address is not repeated: a malformed one may still hold a password.
        raise DatabaseUnavailable(
            _(
                "That is not a database address. Use sqlite:///path/to/file.db or "
                "postgresql+psycopg://user@host/dbname."
            )
        ) from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseUnavailable(
            _("CareStation works with SQLite or PostgreSQL, not {backend}.").format(
                backend=parsed.get_backend_name()
            )
        )
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file behind an SQLite URL, or None for an in-memory database."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database).expanduser()


def make_engine(url: str | URL, **kwargs: Any) -> Engine:
    parsed = parse_url(url) if isinstance(url, str) else url
    # Parameters may hold names and phone numbers: keep them out of logs and tracebacks.
    kwargs.setdefault("hide_parameters", True)
    try:
        if parsed.get_backend_name() == "sqlite":
            path = sqlite_path(parsed)
            if path is not None and not path.parent.is_dir():
                raise DatabaseUnavailable(
                    _(
                        "The folder {folder} does not exist; create it or choose another file."
                    ).format(folder=path.parent)
                )
            # One connection per checkout: SQLite connections are cheap and this keeps every
            # transaction's BEGIN under our control.
            kwargs.setdefault("poolclass", NullPool)
            engine = create_engine(parsed, **kwargs)
            _configure_sqlite(engine)
        else:
            # A pooled connection the server dropped (restart, network cut, terminated backend) is
            # found by the ping on checkout and replaced, instead of failing the user's action.
            kwargs.setdefault("pool_pre_ping", True)
            # A server that is down or unreachable answers within seconds, not after the TCP
            # timeout of minutes, and a connection whose server vanished mid-query is noticed
            # by the keepalives rather than hanging the window. See docs/database.md.
            kwargs.setdefault("connect_args", dict(PG_CONNECT_ARGS))
            engine = create_engine(parsed, **kwargs)
    except NoSuchModuleError as exc:
        raise DatabaseUnavailable(_("No database driver for {url}.").format(url=parsed)) from exc
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event issue BEGIN itself (pysqlite's own is deferred).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # A write transaction takes the write lock before it reads, so a check-then-insert
        # cannot be overtaken by another process and never fails half-way with SQLITE_BUSY.
        if conn.get_execution_options().get(_WRITE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Database:
    """Owns the engine; hands out one short session per user action."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = sessionmaker(engine, expire_on_commit=False)
        self._write = sessionmaker(
            engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )

    @property
    def url(self) -> URL:
        return self.engine.url

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        with _translate_errors(), self._read() as session, session.begin():
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: committed when the block ends, rolled back on any exception."""
        with _translate_errors(), self._write() as session, session.begin():
            yield session

    def ping(self) -> None:
        """A cheap round trip to the server; raises DatabaseUnavailable when it cannot be
        reached (the connection monitor calls this from a worker thread)."""
        with self.read() as session:
            session.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


@contextmanager
def _translate_errors() -> Iterator[None]:
    try:
        yield
    except DBAPIError as exc:
        if exc.connection_invalidated or _is_connection_problem(exc):
            raise DatabaseUnavailable(
                _(
                    "The database cannot be reached. Check the network or the server, then try "
                    "again; nothing was saved."
                )
            ) from exc
        raise


# SQLSTATEs that mean "the server is not there for us": class 08 (connection exception),
# 57P01-57P03 (administrator or crash shutdown, cannot connect now), 53300 (too many
# connections). A deadlock, a lock or statement timeout, or a constraint is not one of them.
_UNAVAILABLE_STATES = ("57P01", "57P02", "57P03", "53300")


def _is_connection_problem(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    if not isinstance(exc, OperationalError | InterfaceError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    if state:
        return state.startswith("08") or state in _UNAVAILABLE_STATES
    # No SQLSTATE: the driver itself failed to connect or lost the socket.
    text = str(exc.orig).lower()
    return any(
        marker in text
        for marker in ("connection", "could not connect", "server closed", "timeout", "terminat")
    )
