"""This PC's database connection: the saved URL never holds the password, the keyring does;
URLs are quoted; the connection test reports clearly and never shows the password; and the
least-privilege roles the README describes are enough to run the app."""

from __future__ import annotations

import json
import logging
import socket
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from carestation.app import start_url
from carestation.db import connection as conn
from carestation.db.engine import Database, make_engine
from carestation.db.migrate import head_revision, open_database
from carestation.domain.errors import DatabaseUnavailable
from carestation.security.secret_store import MemorySecretStore
from carestation.settings import Settings, default_database_url
from tests.conftest import IN_CI, PG_URL, _reset_postgres

SECRET = "S3cr#t:pw/ä@x"
ROLE_PASSWORD = "Role-pw#1"


def server(**kw: object) -> conn.ServerAddress:
    fields: dict[str, object] = {
        "host": "db.zhuji.example",
        "database": "carestation",
        "username": "station",
    }
    return conn.ServerAddress(**{**fields, **kw})  # type: ignore[arg-type]


# -- settings -------------------------------------------------------------------------------


def test_the_database_url_round_trips_without_a_password(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings(path)
    assert s.get("database_url") == ""  # empty: the embedded file
    url = conn.safe_text(conn.postgres_url(server(sslmode="verify-full", sslrootcert="/r.crt")))
    s.set("database_url", url)
    s.save()
    assert Settings(path).get("database_url") == url
    assert json.loads(path.read_text(encoding="utf-8"))["values"]["database_url"] == url


def test_a_url_with_a_password_is_refused_and_not_echoed(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    with_pw = conn.postgres_url(server(), SECRET).render_as_string(hide_password=False)
    with pytest.raises(ValueError, match="bad value for setting database_url") as exc:
        s.set("database_url", with_pw)
    assert SECRET not in str(exc.value)
    assert "S3cr" not in str(exc.value)
    with pytest.raises(ValueError, match="bad value"):
        s.set("database_url", "mysql://u@h/db")
    with pytest.raises(ValueError, match="bad value"):
        s.set("database_url", "not a url")
    with pytest.raises(ValueError, match="bad value"):
        s.set("database_url", "postgresql://u@h:port/db")


def test_a_hand_edited_password_is_dropped_on_load(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    with_pw = conn.postgres_url(server(), SECRET).render_as_string(hide_password=False)
    path.write_text(json.dumps({"version": 1, "values": {"database_url": with_pw}}), "utf-8")
    s = Settings(path)
    assert s.get("database_url") == "postgresql+psycopg://station@db.zhuji.example:5432/carestation"
    s.save()
    assert "S3cr" not in path.read_text(encoding="utf-8")


# -- URLs ------------------------------------------------------------------------------------


def test_special_characters_are_quoted_and_round_trip() -> None:
    address = server(username="站点@01:a", database="care station/zhuji%", host="DB.Example")
    url = conn.postgres_url(address, SECRET)
    rendered = url.render_as_string(hide_password=False)
    assert rendered == (
        "postgresql+psycopg://%E7%AB%99%E7%82%B9%4001%3Aa:S3cr%23t%3Apw%2F%C3%A4%40x"
        "@DB.Example:5432/care station/zhuji%25"
    )
    back = make_url(rendered)
    assert (back.username, back.password, back.database) == (
        "站点@01:a",
        SECRET,
        "care station/zhuji%",
    )
    assert conn.server_address(back) == address
    assert conn.safe_text(url) == rendered.replace("S3cr%23t%3Apw%2F%C3%A4%40x", "***")


def test_ipv6_hosts_are_bracketed() -> None:
    url = conn.postgres_url(server(host="[fd00::5]", port=6432))
    assert conn.safe_text(url) == "postgresql+psycopg://station@[fd00::5]:6432/carestation"
    assert make_url(conn.safe_text(url)).host == "fd00::5"
    assert conn.secret_name(url) == "database-password:station@[fd00::5]:6432/carestation"


def test_tls_settings_go_into_the_query() -> None:
    assert "sslmode" not in conn.safe_text(conn.postgres_url(server()))  # libpq's default
    url = conn.postgres_url(server(sslmode="verify-full", sslrootcert="C:/certs/city root.crt"))
    assert url.query == {"sslmode": "verify-full", "sslrootcert": "C:/certs/city root.crt"}
    assert conn.server_address(make_url(conn.safe_text(url))) == server(
        sslmode="verify-full", sslrootcert="C:/certs/city root.crt"
    )
    with pytest.raises(ValueError, match="unknown sslmode"):
        conn.postgres_url(server(sslmode="allow"))
    with pytest.raises(ValueError, match="required"):
        conn.postgres_url(server(host=" "))


@settings(max_examples=60, deadline=None)
@given(
    user=st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
    password=st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=16),
    database=st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=12),
)
def test_any_user_password_and_database_survive_the_url(
    user: str, password: str, database: str
) -> None:
    user, database = user.strip() or "u", database.strip() or "d"
    rendered = conn.postgres_url(server(username=user, database=database), password)
    back = make_url(rendered.render_as_string(hide_password=False))
    assert (back.username, back.password, back.database) == (user, password, database)


# -- the keyring -----------------------------------------------------------------------------


def test_the_password_is_kept_under_user_host_port_db_and_found_again() -> None:
    store = MemorySecretStore()
    url = conn.postgres_url(server(host="DB.Zhuji.Example"))
    conn.store_password(store, url, SECRET)
    assert store.get("database-password:station@db.zhuji.example:5432/carestation") == (
        SECRET.encode()
    )
    # --db without a port or with the host in another case finds the same entry.
    typed = conn.parse("postgresql://station@db.zhuji.example/carestation")
    assert typed.drivername == "postgresql+psycopg"
    assert conn.with_password(typed, store).password == SECRET
    # A password in the URL, or typed for this run, wins over the keyring.
    assert conn.with_password(typed, store, "typed-now").password == "typed-now"
    assert conn.with_password(typed.set(password="in-url"), store).password == "in-url"
    assert conn.with_password(typed.set(username="other"), store).password is None
    assert conn.with_password(typed, None).password is None
    conn.forget_password(store, url)
    conn.forget_password(store, url)  # nothing left: no error
    assert conn.stored_password(store, url) is None


def test_the_next_start_uses_the_saved_url_and_the_kept_password(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    store = MemorySecretStore()
    assert start_url(None, s, store) == make_url(default_database_url())
    url = conn.postgres_url(server())
    s.set("database_url", conn.safe_text(url))
    conn.store_password(store, url, SECRET)
    resolved = start_url(None, s, store)
    assert resolved.password == SECRET
    assert resolved.host == "db.zhuji.example"
    # --db wins over the setting; its password also comes from the keyring.
    other = conn.postgres_url(server(host="backup.example"))
    conn.store_password(store, other, "another one")
    assert start_url(conn.safe_text(other), s, store).password == "another one"


def test_a_malformed_address_is_not_echoed() -> None:
    with pytest.raises(DatabaseUnavailable, match="not a database address") as exc:
        conn.parse("postgresql+psycopg://station:" + SECRET + "@host:notaport/db")
    assert "S3cr" not in str(exc.value)


# -- the connection test ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _no_secret_logged(caplog: pytest.LogCaptureFixture, secret: str) -> None:
    for record in caplog.records:
        assert secret not in record.getMessage()
        assert secret not in str(record.args)


def test_testing_a_current_database_reports_its_schema(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine, _r = open_database(db_url)
    engine.dispose()
    caplog.set_level(logging.DEBUG)
    result = conn.probe(make_url(db_url))
    assert result.state is conn.ProbeState.CURRENT, result.message
    assert result.revision == head_revision()
    assert f"Schema version {head_revision()}: the same as this version" in result.message
    if make_url(db_url).get_backend_name() == "postgresql":
        assert result.message.startswith("Connected to PostgreSQL 1")
        engine = make_engine(db_url)
        with engine.connect() as c:
            server_ssl = c.exec_driver_sql("SHOW ssl").scalar() == "on"
        engine.dispose()
        assert result.tls is server_ssl  # sslmode=prefer: TLS exactly when the server offers it


def test_testing_a_missing_or_foreign_sqlite_file(tmp_path: Path) -> None:
    new = conn.probe(conn.sqlite_url(tmp_path / "new.db"))
    assert new.state is conn.ProbeState.EMPTY
    assert "does not exist yet; CareStation will create it" in new.message
    assert not (tmp_path / "new.db").exists()
    missing = conn.probe(conn.sqlite_url(tmp_path / "nowhere" / "x.db"))
    assert missing.state is conn.ProbeState.FAILED
    assert "does not exist" in missing.message
    (tmp_path / "notes.txt").write_text("hello", "utf-8")
    foreign = conn.probe(conn.sqlite_url(tmp_path / "notes.txt"))
    assert foreign.state is conn.ProbeState.FOREIGN


def test_a_schema_newer_than_the_app_is_reported(tmp_path: Path) -> None:
    url = conn.sqlite_url(tmp_path / "newer.db")
    engine, _r = open_database(conn.safe_text(url))
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    engine.dispose()
    result = conn.probe(url)
    assert result.state is conn.ProbeState.TOO_NEW
    assert result.reached
    assert "was written by a newer version of CareStation (schema 9999_future)" in result.message


@pytest.fixture
def pg_url() -> str:
    if not PG_URL:
        if IN_CI:
            pytest.fail("CI=true but CARESTATION_TEST_PG_URL is not set")
        pytest.skip("set CARESTATION_TEST_PG_URL to run against PostgreSQL")
    return PG_URL


@pytest.mark.postgres
def test_a_wrong_port_fails_clearly_without_the_password(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    url = make_url(pg_url).set(port=_free_port(), password=SECRET)
    result = conn.probe(url)
    assert result.state is conn.ProbeState.FAILED
    assert result.message.startswith(f"Could not connect to {conn.safe_text(url)}: ")
    assert "Connection refused" in result.message
    assert ":***@" in result.message
    assert SECRET not in result.message
    assert "S3cr" not in result.message
    _no_secret_logged(caplog, "S3cr")


@pytest.mark.postgres
def test_a_wrong_password_fails_clearly_without_the_password(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    base = make_url(pg_url)
    role = f"{base.database}_pwcheck"
    admin = make_engine(pg_url)
    with admin.begin() as c:
        c.execute(text(f"DROP ROLE IF EXISTS {role}"))
        c.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'the-right-one'"))
    admin.dispose()
    caplog.set_level(logging.DEBUG)
    wrong = base.set(username=role, password=SECRET)
    result = conn.probe(wrong)
    if result.reached:
        pytest.skip(
            "the test server trusts loopback connections (initdb -A trust), so it accepts any "
            f"password; add 'host all {role} 127.0.0.1/32 scram-sha-256' first in pg_hba.conf"
        )
    assert result.state is conn.ProbeState.FAILED
    assert f'password authentication failed for user "{role}"' in result.message
    assert SECRET not in result.message
    assert "S3cr" not in result.message
    _no_secret_logged(caplog, "S3cr")
    right = conn.probe(base.set(username=role, password="the-right-one"))
    assert right.reached, right.message


# -- the least-privilege roles of the README -------------------------------------------------


def _grant_sql(database: str, owner: str, station: str) -> list[str]:
    """The README's statements (section "Several stations on one PostgreSQL server")."""
    return [
        f"REVOKE ALL ON DATABASE {database} FROM PUBLIC",
        f"GRANT CONNECT ON DATABASE {database} TO {station}",
        f"GRANT USAGE ON SCHEMA public TO {station}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {station}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {station}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {station}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public "
        f"GRANT USAGE, SELECT ON SEQUENCES TO {station}",
    ]


@pytest.mark.postgres
def test_the_station_role_of_the_readme_can_start_sign_in_and_book(pg_url: str) -> None:
    from carestation.domain.booking import BookingDraft
    from carestation.domain.vocab import AppointmentType
    from carestation.services.container import build_services
    from carestation.services.keys import KeyVault
    from tests.conftest import FakeClock
    from tests.factories import PASSWORD, build_world, set_counsellor_hours

    base = make_url(pg_url)
    database = base.database
    owner, station = f"{database}_owner", f"{database}_station"
    _reset_postgres(pg_url)
    admin = make_engine(pg_url)
    with admin.begin() as c:
        for role in (owner, station):
            exists = c.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role})
            verb = "ALTER" if exists.scalar() else "CREATE"
            c.execute(text(f"{verb} ROLE {role} LOGIN PASSWORD '{ROLE_PASSWORD}'"))
        # What `createdb --owner` gives the owner role: the database and its public schema.
        c.execute(text(f"GRANT CREATE, CONNECT ON DATABASE {database} TO {owner}"))
        c.execute(text(f"ALTER SCHEMA public OWNER TO {owner}"))
        c.execute(text("REVOKE ALL ON SCHEMA public FROM PUBLIC"))
    admin.dispose()

    owner_url = base.set(username=owner, password=ROLE_PASSWORD)
    engine, _r = open_database(owner_url.render_as_string(hide_password=False))  # migrate
    with engine.begin() as c:
        for statement in _grant_sql(database, owner, station):
            c.execute(text(statement))
    engine.dispose()

    station_url = base.set(username=station, password=ROLE_PASSWORD)
    result = conn.probe(station_url)
    assert result.state is conn.ProbeState.CURRENT, result.message
    engine, _opened = open_database(station_url.render_as_string(hide_password=False))
    try:
        with engine.connect() as c:
            can_create = c.execute(
                text("SELECT has_schema_privilege(current_user, 'public', 'CREATE')")
            ).scalar()
        assert can_create is False
        db = Database(engine)
        store = MemorySecretStore()
        vault = KeyVault(db, store)
        vault.set_up()  # the first start on the server sets up the protection key
        services = build_services(db, FakeClock(), vault=vault)
        world = build_world(services)
        set_counsellor_hours(
            services, world.counsellor.user_id, world.station_id, range(5), time(9), time(17)
        )
        actor = services.auth.sign_in(
            username="staff01", password=PASSWORD, station_id=world.station_id
        )
        appt = services.booking.book(
            actor=actor,
            draft=BookingDraft(
                type=AppointmentType.COUNSELLING,
                station_id=world.station_id,
                starts_at=datetime(2026, 11, 24, 10, tzinfo=ZoneInfo("Asia/Shanghai")),
                client_id=world.client_id,
                counsellor_id=world.counsellor.user_id,
                room_id=world.room_id,
            ),
        )
        assert appt.id > 0
        assert services.audit.verify().ok
    finally:
        engine.dispose()
    _reset_postgres(pg_url)


def test_urls_are_urls() -> None:
    assert isinstance(conn.sqlite_url(Path("/tmp/x.db")), URL)
    assert conn.safe_text(conn.sqlite_url(Path("/tmp/x.db"))) == "sqlite:////tmp/x.db"
