"""Shared fixtures: offscreen Qt, isolated settings, and real databases (SQLite, PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
from sqlalchemy import Engine, text

from carestation.db.engine import Database, make_engine
from carestation.db.migrate import open_database
from carestation.i18n import set_language
from carestation.services.container import Services, build_services

PG_URL = os.environ.get("CARESTATION_TEST_PG_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """No test reads or writes the real per-user folders; text is English unless a test says."""
    base = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CARESTATION_CONFIG_DIR", str(base / "config"))
    monkeypatch.setenv("CARESTATION_DATA_DIR", str(base / "data"))
    set_language("en")
    yield
    set_language("en")


@pytest.fixture(autouse=True)
def _no_os_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never touch the machine's keychain: the 'OS key store' is a fresh in-memory one."""
    from carestation.security import secret_store

    store = secret_store.MemorySecretStore()
    monkeypatch.setattr(secret_store, "open_os_store", lambda: store)


@pytest.fixture(autouse=True)
def _fast_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2id at production strength costs ~0.1 s a hash; tests hash hundreds of times."""
    from argon2 import PasswordHasher

    from carestation.security import passwords

    monkeypatch.setattr(
        passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    )


@dataclass
class FakeClock:
    current: datetime = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai

    def now(self) -> datetime:
        return self.current

    def advance(self, **kwargs: float) -> None:
        self.current += timedelta(**kwargs)


def _reset_postgres(url: str) -> None:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def _backends() -> list:
    params = [pytest.param("sqlite", id="sqlite")]
    if PG_URL:
        params.append(pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres))
    elif IN_CI:
        # CI must exercise PostgreSQL: a missing server is an error there, not a skip.
        params.append(
            pytest.param("postgresql-missing", id="postgresql", marks=pytest.mark.postgres)
        )
    else:
        params.append(
            pytest.param(
                "postgresql",
                id="postgresql",
                marks=[
                    pytest.mark.postgres,
                    pytest.mark.skip(
                        reason="set CARESTATION_TEST_PG_URL to run against PostgreSQL"
                    ),
                ],
            )
        )
    return params


@pytest.fixture(params=_backends())
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend."""
    if request.param == "postgresql-missing":
        pytest.fail("CI=true but CARESTATION_TEST_PG_URL is not set: PostgreSQL tests cannot run")
    if request.param == "postgresql":
        _reset_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{(tmp_path / 'carestation.db').as_posix()}"


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{(tmp_path / 'carestation.db').as_posix()}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    eng, _result = open_database(db_url)
    yield eng
    eng.dispose()


@pytest.fixture
def services(engine: Engine, clock: FakeClock) -> Services:
    return build_services(Database(engine), clock)


@pytest.fixture
def sqlite_services(sqlite_url: str, clock: FakeClock) -> Iterator[Services]:
    eng, _result = open_database(sqlite_url)
    yield build_services(Database(eng), clock)
    eng.dispose()
