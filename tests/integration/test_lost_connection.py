"""The database server going away, on a real PostgreSQL server: a clear error, nothing written by
halves, and the app carrying on when the server is back.

The server itself is not stopped (other databases on it may be in use): the test database is
made unreachable, which is what the app sees of a stopped server. `Outage` terminates every
connection to it and refuses new ones (ALTER DATABASE ... ALLOW_CONNECTIONS false), from a
connection to the maintenance database "postgres"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from carestation.db import models as m
from carestation.db.engine import CONNECT_TIMEOUT_S, PG_CONNECT_ARGS, Database, make_engine
from carestation.db.migrate import open_database
from carestation.domain.booking import Appointment, BookingDraft
from carestation.domain.errors import DatabaseUnavailable
from carestation.domain.vocab import AppointmentType
from carestation.services.container import Services, build_services
from tests.conftest import IN_CI, PG_URL, FakeClock, _reset_postgres
from tests.factories import World, build_world, set_counsellor_hours

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.postgres


def require_postgres() -> str:
    if not PG_URL:
        if IN_CI:
            pytest.fail(
                "CI=true but CARESTATION_TEST_PG_URL is not set: PostgreSQL tests cannot run"
            )
        pytest.skip("set CARESTATION_TEST_PG_URL: this test needs a real PostgreSQL server")
    return PG_URL


class Outage:
    """Makes one database unreachable and reachable again, leaving the server and its other
    databases alone."""

    def __init__(self, url: str) -> None:
        parsed = make_url(url)
        self.database = parsed.database
        self.admin: Engine = make_engine(
            parsed.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
        )
        self.down = False

    def _run(self, sql: str, **params: object) -> None:
        with self.admin.connect() as conn:
            conn.execute(text(sql), params)

    def start(self) -> None:
        self.down = True
        self._run(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false')
        self.terminate_all()

    def terminate_all(self) -> None:
        # The timeout (PostgreSQL 14+) waits until the backends are really gone.
        self._run(
            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
            "WHERE datname = :db AND pid <> pg_backend_pid()",
            db=self.database,
        )

    def terminate(self, pid: int) -> None:
        self._run("SELECT pg_terminate_backend(:pid, 5000)", pid=pid)

    def end(self) -> None:
        self._run(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true')
        self.down = False

    def close(self) -> None:
        if self.down:
            self.end()
        self.admin.dispose()


@pytest.fixture
def pg_services(clock: FakeClock) -> Iterator[Services]:
    url = require_postgres()
    _reset_postgres(url)
    engine, _result = open_database(url)
    yield build_services(Database(engine), clock)
    engine.dispose()


@pytest.fixture
def outage() -> Iterator[Outage]:
    cut = Outage(require_postgres())
    yield cut
    cut.close()


@pytest.fixture
def world(pg_services: Services) -> World:
    world = build_world(pg_services)
    set_counsellor_hours(
        pg_services, world.counsellor.user_id, world.station_id, range(5), time(9), time(17)
    )
    return world


def draft(world: World, day: int = 25, month: int = 11) -> BookingDraft:
    return BookingDraft(
        type=AppointmentType.COUNSELLING,
        station_id=world.station_id,
        starts_at=datetime(2026, month, day, 10, tzinfo=SH),
        client_id=world.client_id,
        counsellor_id=world.counsellor.user_id,
        room_id=world.room_id,
    )


def written(services: Services) -> tuple[int, int, int]:
    """Appointments, their history rows, and "book" audit entries: a booking writes one of each."""
    with services.db.read() as session:
        return (
            session.scalar(select(func.count()).select_from(m.Appointment)) or 0,
            session.scalar(select(func.count()).select_from(m.AppointmentChange)) or 0,
            session.scalar(
                select(func.count()).select_from(m.AuditEvent).where(m.AuditEvent.action == "book")
            )
            or 0,
        )


def backend_pid(session: Session) -> int:
    return int(session.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_the_engine_pings_pooled_connections_and_gives_up_connecting_in_seconds(
    pg_services: Services,
) -> None:
    engine = pg_services.db.engine
    assert engine.pool._pre_ping
    seen: list[dict[str, object]] = []
    event.listen(engine, "do_connect", lambda _d, _r, _a, params: seen.append(dict(params)))
    engine.dispose()
    pg_services.db.ping()
    assert seen
    assert seen[0]["connect_timeout"] == CONNECT_TIMEOUT_S <= 5
    # Keepalives notice a server that vanished without closing the connection (a cut cable).
    assert {k: seen[0][k] for k in PG_CONNECT_ARGS} == PG_CONNECT_ARGS


def test_a_booking_while_offline_gets_a_clear_error_writes_nothing_and_works_afterwards(
    pg_services: Services, world: World, outage: Outage
) -> None:
    before = written(pg_services)
    pg_services.db.ping()  # a pooled connection exists, and the outage kills it
    outage.start()
    with pytest.raises(DatabaseUnavailable) as lost:
        pg_services.booking.book(actor=world.staff, draft=draft(world))
    assert str(lost.value) == (
        "The database cannot be reached. Check the network or the server, then try again; "
        "nothing was saved."
    )
    with pytest.raises(DatabaseUnavailable):
        pg_services.db.ping()
    outage.end()
    assert written(pg_services) == before
    # The dead pooled connection is replaced without the user doing anything.
    booked = pg_services.booking.book(actor=world.staff, draft=draft(world))
    assert written(pg_services) == (before[0] + 1, before[1] + 1, before[2] + 1)
    assert booked.starts_at == datetime(2026, 11, 25, 10, tzinfo=SH)


def test_a_pooled_connection_killed_while_idle_is_replaced_silently(
    pg_services: Services, world: World, outage: Outage
) -> None:
    pg_services.db.ping()
    outage.terminate_all()  # a server restart between two clicks
    booked = pg_services.booking.book(actor=world.staff, draft=draft(world))
    assert booked.id > 0


Undo = Callable[[], None]


def _kill_after_insert(services: Services, outage: Outage, mp: pytest.MonkeyPatch) -> Undo:
    """Kills the connection after the appointment row and its audit entry were sent."""
    record = services.booking.audit.record

    def record_then_die(session: Session, **kwargs: object) -> None:
        record(session, **kwargs)  # type: ignore[arg-type]
        session.flush()
        outage.terminate(backend_pid(session))

    mp.setattr(services.booking.audit, "record", record_then_die)
    return lambda: None


def _kill_before_commit(services: Services, outage: Outage, mp: pytest.MonkeyPatch) -> Undo:
    """Kills the connection when everything is flushed and COMMIT is about to be sent."""

    def die(session: Session) -> None:
        session.flush()
        outage.terminate(backend_pid(session))

    target = services.db._write  # the sessionmaker behind Database.write()
    event.listen(target, "before_commit", die)
    return lambda: event.remove(target, "before_commit", die)


def _kill_after_commit(services: Services, outage: Outage, mp: pytest.MonkeyPatch) -> Undo:
    """Kills the connection just after COMMIT: the booking is complete, and the app goes on."""
    pids: list[int] = []

    def note_pid(session: Session) -> None:
        pids.append(backend_pid(session))

    def die(_session: Session) -> None:
        outage.terminate(pids[-1])

    target = services.db._write
    event.listen(target, "before_commit", note_pid)
    event.listen(target, "after_commit", die)

    def undo() -> None:
        event.remove(target, "before_commit", note_pid)
        event.remove(target, "after_commit", die)

    return undo


@pytest.mark.parametrize(
    ("kill", "complete"),
    [
        pytest.param(_kill_after_insert, False, id="after-insert"),
        pytest.param(_kill_before_commit, False, id="before-commit"),
        pytest.param(_kill_after_commit, True, id="after-commit"),
    ],
)
def test_a_connection_dropped_during_a_booking_leaves_all_of_it_or_none(
    pg_services: Services,
    world: World,
    outage: Outage,
    monkeypatch: pytest.MonkeyPatch,
    kill: Callable[[Services, Outage, pytest.MonkeyPatch], Undo],
    complete: bool,
) -> None:
    before = written(pg_services)
    with monkeypatch.context() as mp:
        undo = kill(pg_services, outage, mp)
        try:
            result: Appointment | None = pg_services.booking.book(
                actor=world.staff, draft=draft(world)
            )
        except DatabaseUnavailable:
            result = None
        finally:
            undo()
    after = written(pg_services)  # a new connection: the pool replaced the dead one
    if complete:
        assert result is not None
        assert after == (before[0] + 1, before[1] + 1, before[2] + 1)
    else:
        assert result is None
        assert after == before
    assert pg_services.audit.verify().ok
    # And the next booking (a week later: one session a week) goes through on a new connection.
    pg_services.booking.book(actor=world.staff, draft=draft(world, day=2, month=12))
    assert written(pg_services)[0] == after[0] + 1
