"""The database itself refuses overlapping appointments, and racing processes never create one."""

from __future__ import annotations

import multiprocessing
import random
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, inspect, text, update
from sqlalchemy.exc import IntegrityError

from carestation.db import models as m
from carestation.domain.vocab import AppointmentStatus, AppointmentType, RoomKind
from carestation.services.container import Services
from tests.factories import World, build_world, set_counsellor_hours

SH = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=SH)


def _insert(engine: Engine, world: World, start: datetime, minutes: int = 50, **kw: object) -> int:
    values = {
        "station_id": world.station_id,
        "client_id": world.client_id,
        "counsellor_id": world.counsellor.user_id,
        "room_id": world.room_id,
        "type": AppointmentType.COUNSELLING,
        "status": AppointmentStatus.BOOKED,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=minutes),
        "created_at": start,
        **kw,
    }
    with engine.begin() as conn:
        return conn.execute(
            insert(m.Appointment).returning(m.Appointment.id), [values]
        ).scalar_one()


def test_guards_exist_at_head(engine: Engine) -> None:
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            triggers = set(
                conn.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type='trigger'"
                ).scalars()
            )
        assert {
            f"appointment_{r}_overlap_{e}"
            for r in ("counsellor", "room", "client")
            for e in ("insert", "update")
        } <= triggers
    else:
        with engine.connect() as conn:
            names = set(
                conn.execute(
                    text(
                        "SELECT conname FROM pg_constraint WHERE conrelid = 'appointment'::regclass AND contype = 'x'"
                    )
                ).scalars()
            )
        assert names == {f"ex_appointment_{r}_overlap" for r in ("counsellor", "room", "client")}
        assert "ck_appointment_max_duration" in {
            c["name"] for c in inspect(engine).get_check_constraints("appointment")
        }


@pytest.mark.parametrize("resource", ["counsellor", "room", "client"])
def test_an_overlap_written_directly_is_refused(
    engine: Engine, services: Services, resource: str
) -> None:
    world = build_world(services)
    _insert(engine, world, T0)
    # Change only the other two resources, so only `resource` clashes.
    others = {
        "counsellor": {"room_id": None, "client_id": None},
        "room": {"counsellor_id": None, "client_id": None},
        "client": {"counsellor_id": None, "room_id": None},
    }
    with pytest.raises(IntegrityError) as exc:
        _insert(engine, world, T0 + timedelta(minutes=30), **others[resource])
    assert resource in str(exc.value.orig)


def test_back_to_back_cancelled_and_updates(engine: Engine, services: Services) -> None:
    world = build_world(services)
    first = _insert(engine, world, T0)
    second = _insert(engine, world, T0 + timedelta(minutes=50))  # back to back: fine
    _insert(
        engine, world, T0 + timedelta(minutes=10), status=AppointmentStatus.CANCELLED
    )  # cancelled: ignored
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            update(m.Appointment)
            .where(m.Appointment.id == second)
            .values(starts_at=T0 + timedelta(minutes=40))
        )
    with engine.begin() as conn:  # cancelling the first frees its time for the second
        conn.execute(
            update(m.Appointment)
            .where(m.Appointment.id == first)
            .values(status=AppointmentStatus.CANCELLED)
        )
        conn.execute(
            update(m.Appointment)
            .where(m.Appointment.id == second)
            .values(starts_at=T0 + timedelta(minutes=40))
        )
    # Reviving the cancelled one would overlap now.
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(
            update(m.Appointment)
            .where(m.Appointment.id == first)
            .values(status=AppointmentStatus.BOOKED)
        )


def test_longer_than_twelve_hours_is_refused(engine: Engine, services: Services) -> None:
    world = build_world(services)
    with pytest.raises(IntegrityError):
        _insert(engine, world, T0, minutes=13 * 60, counsellor_id=None, client_id=None)


# --- racing processes ----------------------------------------------------------------------
def _racer(
    url: str,
    seed: int,
    staff: dict,
    station_id: int,
    counsellor_id: int,
    clients: list[int],
    rooms: list[int],
    out: multiprocessing.Queue,
    recovery_code: str,
) -> None:  # type: ignore[type-arg]
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from carestation.db.engine import Database, make_engine
    from carestation.domain.booking import BookingDraft, BookingRefused
    from carestation.domain.errors import CareStationError
    from carestation.domain.values import Actor
    from carestation.security.secret_store import MemorySecretStore
    from carestation.services.container import build_services
    from carestation.services.keys import KeyVault
    from tests.conftest import FakeClock

    # Another process is another PC: it has the database's key only through its recovery code.
    db = Database(make_engine(url))
    vault = KeyVault(db, MemorySecretStore())
    vault.unlock_with_recovery_code(recovery_code)
    services = build_services(db, FakeClock(), vault=vault)
    actor = Actor(**staff)
    rng = random.Random(seed)
    outcome = {"booked": 0, "refused": 0, "other": []}
    for _ in range(12):
        start = T0 + timedelta(minutes=rng.choice(range(0, 240, 10)))
        draft = BookingDraft(
            type=AppointmentType.COUNSELLING,
            station_id=station_id,
            starts_at=start,
            client_id=rng.choice(clients),
            counsellor_id=counsellor_id,
            room_id=rng.choice(rooms),
            override_reason="race",
        )
        try:
            services.booking.book(actor=actor, draft=draft)
            outcome["booked"] += 1  # type: ignore[operator]
        except BookingRefused:
            outcome["refused"] += 1  # type: ignore[operator]
        except CareStationError as exc:
            outcome["other"].append(f"{type(exc).__name__}: {exc}")  # type: ignore[union-attr]
        except Exception as exc:
            outcome["other"].append(f"{type(exc).__name__}: {exc}")  # type: ignore[union-attr]
    out.put(outcome)


def test_racing_processes_never_double_book(
    db_url: str, engine: Engine, services: Services
) -> None:
    world = build_world(services)
    set_counsellor_hours(
        services, world.counsellor.user_id, world.station_id, range(7), time(8, 30), time(17)
    )
    from tests.factories import add_room

    rooms = [world.room_id, add_room(services, world, "个人咨询室二", RoomKind.COUNSELLING_ROOM)]
    with engine.begin() as conn:
        clients = [
            conn.execute(
                insert(m.Client).returning(m.Client.id),
                [
                    {
                        "client_code": f"RACE-{i:04d}-X",
                        "name": f"客户{i}",
                        "phone": "",
                        "work_unit": "",
                        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                    }
                ],
            ).scalar_one()
            for i in range(4)
        ]
    staff = {
        "user_id": world.staff.user_id,
        "username": world.staff.username,
        "display_name": world.staff.display_name,
        "roles": world.staff.roles,
        "station_ids": world.staff.station_ids,
        "station_id": world.station_id,
    }
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    processes = [
        ctx.Process(
            target=_racer,
            args=(
                db_url,
                seed,
                staff,
                world.station_id,
                world.counsellor.user_id,
                clients,
                rooms,
                out,
                services.vault.recovery_code(),
            ),
        )
        for seed in range(6)
    ]
    for p in processes:
        p.start()
    results = [out.get(timeout=240) for _ in processes]
    for p in processes:
        p.join(timeout=60)
    assert [r["other"] for r in results] == [[] for _ in results], (
        "only clear refusals, never a crash or SQLITE_BUSY"
    )
    booked = sum(r["booked"] for r in results)
    assert booked >= 1
    assert sum(r["refused"] for r in results) >= 1
    with engine.connect() as conn:
        clashes = conn.execute(
            text(
                "SELECT count(*) FROM appointment a JOIN appointment b ON a.id < b.id "
                "AND a.status <> 'cancelled' AND b.status <> 'cancelled' "
                "AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at "
                "AND (a.counsellor_id = b.counsellor_id OR a.room_id = b.room_id OR a.client_id = b.client_id)"
            )
        ).scalar()
        total = conn.execute(text("SELECT count(*) FROM appointment")).scalar()
    assert clashes == 0
    assert total == booked
