"""Where this PC's database is: connection URLs built from the settings dialog's fields, the
server password kept in the OS keyring (never in the URL that is saved), and a connection test
that reports what it found without changing anything."""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Protocol

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError
from sqlalchemy.pool import NullPool

from carestation.domain.errors import (
    CareStationError,
    DatabaseUnavailable,
    NotACareStationDatabase,
    SchemaTooNew,
)
from carestation.i18n import _

POSTGRES_DRIVER = "postgresql+psycopg"
DEFAULT_PORT = 5432
# libpq's modes that the dialog offers; "prefer" is libpq's default and is left out of URLs.
SSL_MODES = ("disable", "prefer", "require", "verify-full")
DEFAULT_SSL_MODE = "prefer"
_SECRET_PREFIX = "database-password:"
TEST_TIMEOUT_SECONDS = 8


class PasswordStore(Protocol):
    """The part of security.secret_store.SecretStore used here (bytes in, bytes out)."""

    def get(self, name: str) -> bytes | None: ...
    def set(self, name: str, value: bytes) -> None: ...
    def delete(self, name: str) -> None: ...


@dataclass(frozen=True)
class ServerAddress:
    """The fields of the dialog's PostgreSQL page. No password: it never travels with these."""

    host: str
    database: str
    username: str
    port: int = DEFAULT_PORT
    sslmode: str = DEFAULT_SSL_MODE
    sslrootcert: str = ""


def postgres_url(address: ServerAddress, password: str | None = None) -> URL:
    """The SQLAlchemy URL for a server. URL.create quotes special characters in the user name,
    password and database when the URL is rendered, and brackets an IPv6 host."""
    host = address.host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host or not address.database.strip() or not address.username.strip():
        raise ValueError("host, database and user name are required")
    if address.sslmode not in SSL_MODES:
        raise ValueError(f"unknown sslmode {address.sslmode}")
    query: dict[str, str] = {}
    if address.sslmode != DEFAULT_SSL_MODE:
        query["sslmode"] = address.sslmode
    if address.sslrootcert.strip():
        query["sslrootcert"] = address.sslrootcert.strip()
    return URL.create(
        POSTGRES_DRIVER,
        username=address.username.strip(),
        password=password or None,
        host=host,
        port=address.port,
        database=address.database.strip(),
        query=query,
    )


def sqlite_url(path: Path) -> URL:
    return URL.create("sqlite", database=path.as_posix())


def parse(url: str) -> URL:
    """Like engine.parse_url, but a malformed address is never echoed back: it may hold a
    password."""
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise DatabaseUnavailable(
            _(
                "That is not a database address. Use sqlite:///path/to/file.db or "
                "postgresql+psycopg://user@host/dbname."
            )
        ) from exc
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername=POSTGRES_DRIVER)
    return parsed


def server_address(url: URL) -> ServerAddress | None:
    """The dialog's fields for a PostgreSQL URL; None for anything else."""
    if url.get_backend_name() != "postgresql":
        return None
    sslmode = str(url.query.get("sslmode", DEFAULT_SSL_MODE))
    return ServerAddress(
        host=url.host or "",
        database=url.database or "",
        username=url.username or "",
        port=url.port or DEFAULT_PORT,
        sslmode=sslmode if sslmode in SSL_MODES else DEFAULT_SSL_MODE,
        sslrootcert=str(url.query.get("sslrootcert", "")),
    )


def safe_text(url: URL | str) -> str:
    """The URL as it may be shown or logged: the password, if any, replaced by ***."""
    parsed = parse(url) if isinstance(url, str) else url
    return parsed.render_as_string(hide_password=True)


def without_password(url: URL) -> URL:
    return url._replace(password=None) if url.password is not None else url


def secret_name(url: URL) -> str:
    """The keyring entry for a server login: user@host:port/db. The host is lower-cased (host
    names are case-insensitive) and the port filled in, so `--db ...@Server/db` and the dialog's
    `server:5432` find the same entry."""
    host = (url.host or "localhost").lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{_SECRET_PREFIX}{url.username or ''}@{host}:{url.port or DEFAULT_PORT}/{url.database}"


def store_password(store: PasswordStore, url: URL, password: str) -> None:
    store.set(secret_name(url), password.encode("utf-8"))


def forget_password(store: PasswordStore, url: URL) -> None:
    # keyring raises when there is nothing to delete
    with contextlib.suppress(Exception):
        store.delete(secret_name(url))


def stored_password(store: PasswordStore | None, url: URL) -> str | None:
    if store is None or url.get_backend_name() != "postgresql":
        return None
    try:
        value = store.get(secret_name(url))
    except Exception:  # a keyring that fails to answer is the same as no entry
        return None
    return None if value is None else value.decode("utf-8")


def with_password(url: URL, store: PasswordStore | None, password: str | None = None) -> URL:
    """The URL to connect with: a password already in the URL wins, then one typed for this
    run, then the keyring's."""
    if url.get_backend_name() != "postgresql" or url.password:
        return url
    found = password or stored_password(store, url)
    return url.set(password=found) if found else url


def scrub(text: str, *secrets: str | None) -> str:
    """Removes passwords from a message before it is shown or logged. (Driver messages do not
    normally contain them; this is the second lock.)"""
    for secret in secrets:
        if secret and len(secret) >= 3:
            text = text.replace(secret, "***")
    return text


class ProbeState(Enum):
    FAILED = "failed"
    EMPTY = "empty"
    CURRENT = "current"
    BEHIND = "behind"
    TOO_NEW = "too_new"
    FOREIGN = "foreign"


@dataclass(frozen=True)
class ProbeResult:
    state: ProbeState
    message: str
    where: str
    revision: str | None = None
    server: str = ""
    tls: bool | None = None
    seconds: float = 0.0
    details: tuple[str, ...] = field(default_factory=tuple)

    @property
    def reached(self) -> bool:
        return self.state is not ProbeState.FAILED


def probe(url: URL, *, timeout: int = TEST_TIMEOUT_SECONDS) -> ProbeResult:
    """Connects once, reads the schema version and changes nothing (no migration, no file
    created). The message never contains the password."""
    from carestation.db.engine import make_engine, sqlite_path
    from carestation.db.migrate import (
        SchemaState,
        head_revision,
        inspect_connection,
        inspect_sqlite_file,
    )

    started = time.perf_counter()
    where = safe_text(url)
    password = url.password if isinstance(url.password, str) else None

    def done(state: ProbeState, message: str, **kwargs: object) -> ProbeResult:
        return ProbeResult(
            state=state,
            message=scrub(message, password),
            where=where,
            seconds=time.perf_counter() - started,
            **kwargs,  # type: ignore[arg-type]
        )

    states = {
        SchemaState.EMPTY: ProbeState.EMPTY,
        SchemaState.CURRENT: ProbeState.CURRENT,
        SchemaState.BEHIND: ProbeState.BEHIND,
    }
    try:
        path = sqlite_path(url)
        if url.get_backend_name() == "sqlite":
            if path is None:
                return done(ProbeState.FAILED, _("Choose a file for the embedded database."))
            if not path.exists():
                if not path.parent.is_dir():
                    return done(
                        ProbeState.FAILED,
                        _("The folder {folder} does not exist.").format(folder=path.parent),
                    )
                return done(
                    ProbeState.EMPTY,
                    _("{path} does not exist yet; CareStation will create it.").format(path=path),
                )
            state, revision = inspect_sqlite_file(path)
            return done(
                states[state],
                _describe(states[state], revision, head_revision(), server=""),
                revision=revision,
            )
        engine = make_engine(
            url, poolclass=NullPool, connect_args={"connect_timeout": max(1, timeout)}
        )
        try:
            with engine.connect() as conn:
                server = str(conn.exec_driver_sql("SHOW server_version").scalar() or "")
                tls = bool(
                    conn.exec_driver_sql(
                        "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()"
                    ).scalar()
                )
                state, revision = inspect_connection(conn)
        finally:
            engine.dispose()
    except SchemaTooNew as exc:
        return done(ProbeState.TOO_NEW, str(exc))
    except DBAPIError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        return done(
            ProbeState.FAILED,
            _("Could not connect to {where}: {reason}").format(where=where, reason=reason),
        )
    except NotACareStationDatabase as exc:
        return done(ProbeState.FOREIGN, str(exc))
    except CareStationError as exc:
        return done(ProbeState.FAILED, str(exc))
    result_state = states[state]
    return done(
        result_state,
        _describe(result_state, revision, head_revision(), server=server),
        revision=revision,
        server=server,
        tls=tls,
    )


def _describe(state: ProbeState, revision: str | None, head: str, *, server: str) -> str:
    reached = (
        _("Connected to PostgreSQL {version}.").format(version=server)
        if server
        else _("The database file can be read.")
    )
    if state is ProbeState.CURRENT:
        detail = _("Schema version {revision}: the same as this version of CareStation.").format(
            revision=revision
        )
    elif state is ProbeState.BEHIND:
        detail = _(
            "Schema version {revision} is older than this version of CareStation ({head}). It "
            "is upgraded at start; on a server, run `carestation migrate` as the owner role "
            "first."
        ).format(revision=revision, head=head)
    else:
        detail = _(
            "The database is empty; CareStation creates its tables at the first start (on a "
            "server, run `carestation migrate` as the owner role)."
        )
    return f"{reached} {detail}"
