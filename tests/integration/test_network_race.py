"""Twenty station PCs race to book, move and cancel on one PostgreSQL server: no overlap survives,
every refusal is a clear conflict, and what each PC was told happened is what the database holds."""

from __future__ import annotations

import multiprocessing
import random
import time as clock_time
import traceback
from collections import Counter, defaultdict
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, insert, text

from carestation.db import models as m
from carestation.domain.roles import Role
from carestation.domain.values import Actor, StationInput, UserInput
from carestation.domain.vocab import CounsellorKind, RoomKind
from carestation.services.container import Services
from tests.factories import (
    HOURS,
    PASSWORD,
    add_counsellor,
    add_room,
    build_world,
    set_counsellor_hours,
)

SH = ZoneInfo("Asia/Shanghai")
# A Tuesday; the tests' FakeClock stands at 10:00 the day before.
DAY = datetime(2026, 11, 24, tzinfo=SH)
PROCESSES = 20
ROUNDS = 6
# Every start is on this 10-minute grid between 09:00 and 12:20, so the 50-minute sessions of
# twenty PCs pile onto the same few hours of the same few counsellors, rooms and clients.
STARTS = [DAY + timedelta(hours=9, minutes=10 * i) for i in range(21)]
# Two rounds are stampedes on one counsellor's time, the second outside the hours of the others.
STAMPEDES = {0: DAY + timedelta(hours=10), 3: DAY + timedelta(hours=14)}


def _actor_dict(actor: Actor, station_id: int) -> dict[str, Any]:
    return {
        "user_id": actor.user_id,
        "username": actor.username,
        "display_name": actor.display_name,
        "roles": actor.roles,
        "station_ids": actor.station_ids,
        "station_id": station_id,
    }


# --- one station PC --------------------------------------------------------------------------
def _station_pc(
    url: str,
    seed: int,
    recovery_code: str,
    staff: dict[str, Any],
    counsellors: list[int],
    everywhere: int,
    rooms: list[int],
    clients: list[int],
    barrier: Any,
    out: Any,
) -> None:
    """Books, moves and cancels at its own station; reports exactly what the services said."""
    report: dict[str, Any] = {
        "seed": seed,
        "station_id": staff["station_id"],
        "attempts": 0,
        "booked": [],  # appointment ids
        "moved": [],  # (appointment id, new start as ISO text)
        "cancelled": [],  # appointment ids
        "refused": Counter(),  # (operation, exception class) -> count
        "race_refusals": 0,  # refusals that came from the database's exclusion constraints
        "stampede_won": 0,
        "other": [],  # anything that is not a clear refusal: must stay empty
    }
    try:
        _race(
            url,
            seed,
            recovery_code,
            staff,
            counsellors,
            everywhere,
            rooms,
            clients,
            barrier,
            report,
        )
    except BaseException as exc:  # reported to the test, which fails on it
        report["other"].append(f"process: {type(exc).__name__}: {exc}\n{traceback.format_exc()}")
    report["refused"] = dict(report["refused"])
    out.put(report)


def _race(
    url: str,
    seed: int,
    recovery_code: str,
    staff: dict[str, Any],
    counsellors: list[int],
    everywhere: int,
    rooms: list[int],
    clients: list[int],
    barrier: Any,
    report: dict[str, Any],
) -> None:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from sqlalchemy.exc import DBAPIError

    from carestation.db.engine import Database, make_engine
    from carestation.domain.booking import BookingDraft, BookingRefused
    from carestation.domain.errors import CareStationError, Conflict
    from carestation.domain.vocab import AppointmentType, CancelReason
    from carestation.security.secret_store import MemorySecretStore
    from carestation.services.container import build_services
    from carestation.services.keys import KeyVault
    from tests.conftest import FakeClock

    # Another PC: it has the database's key only through the recovery code typed in once.
    db = Database(make_engine(url))
    vault = KeyVault(db, MemorySecretStore())
    vault.unlock_with_recovery_code(recovery_code)
    services = build_services(db, FakeClock(), vault=vault)
    booking = services.booking
    actor = Actor(**staff)
    station_id = staff["station_id"]
    rng = random.Random(seed)

    def open_appointments() -> list[tuple[int, int]]:
        """(id, version) of this station's booked appointments, as the calendar shows them."""
        with db.engine.connect() as conn:
            return [
                (row.id, row.version)
                for row in conn.execute(
                    text(
                        "SELECT id, version FROM appointment "
                        "WHERE station_id = :s AND status = 'booked' ORDER BY id"
                    ),
                    {"s": station_id},
                )
            ]

    barrier.wait(timeout=120)  # every PC is up: from here on they really race
    report["ready_at"] = clock_time.time()
    for round_ in range(ROUNDS):
        barrier.wait(timeout=120)  # and each round starts at the same moment on all of them
        mine = open_appointments()
        operation = rng.choice(("book", "book", "move", "move", "cancel")) if mine else "book"
        # In a stampede every PC books the counsellor all three stations share, at the same
        # time, each in a room of its own station.
        stampede = round_ in STAMPEDES
        if stampede:
            operation = "book"
        target, version = rng.choice(mine) if mine else (0, 0)
        # Sometimes the PC holds the version it showed the user (a stale one is refused).
        expected = version if rng.random() < 0.3 else None
        report["attempts"] += 1
        try:
            if operation == "book":
                done = booking.book(
                    actor=actor,
                    draft=BookingDraft(
                        type=AppointmentType.COUNSELLING,
                        station_id=station_id,
                        starts_at=STAMPEDES[round_] if stampede else rng.choice(STARTS),
                        client_id=rng.choice(clients),
                        counsellor_id=everywhere if stampede else rng.choice(counsellors),
                        room_id=rng.choice(rooms),
                        override_reason="race test",  # the weekly cap is not what is tested
                    ),
                )
                report["booked"].append(done.id)
                report["stampede_won"] += stampede
            elif operation == "move":
                change: dict[str, Any] = {}
                if rng.random() < 0.3:
                    change = {"keep_counsellor": False, "counsellor_id": rng.choice(counsellors)}
                elif rng.random() < 0.3:
                    change = {"keep_room": False, "room_id": rng.choice(rooms)}
                done = booking.move(
                    actor=actor,
                    appointment_id=target,
                    starts_at=rng.choice(STARTS),
                    expected_version=expected,
                    **change,
                )
                report["moved"].append((done.id, done.starts_at.isoformat()))
            else:
                done = booking.cancel(
                    actor=actor,
                    appointment_id=target,
                    reason=CancelReason.CLIENT,
                    expected_version=expected,
                )
                report["cancelled"].append(done.id)
        except (BookingRefused, Conflict) as refusal:
            message = str(refusal).strip()
            if not message or isinstance(refusal.__cause__, DBAPIError):
                report["other"].append(f"{operation}: unclear refusal {refusal!r}")
            report["refused"][(operation, type(refusal).__name__)] += 1
            # The service's own check passed and the database refused the write: another PC
            # got there between the check and the insert.
            report["race_refusals"] += type(refusal.__context__).__name__ == "_Overlap"
        except CareStationError as exc:
            report["other"].append(f"{operation}: {type(exc).__name__}: {exc}")
        except Exception as exc:  # a crash, reported to the test
            report["other"].append(f"{operation}: {type(exc).__name__}: {exc}")
    report["done_at"] = clock_time.time()
    db.dispose()


# --- the test --------------------------------------------------------------------------------
@pytest.fixture
def pg_only(db_url: str) -> str:
    if db_url.startswith("sqlite"):
        pytest.skip(
            "PostgreSQL only: on SQLite one write transaction runs at a time, and "
            "test_racing_processes_never_double_book covers that"
        )
    return db_url


def test_twenty_station_pcs_race_without_overlaps_or_crashes(
    pg_only: str, engine: Engine, services: Services
) -> None:
    started = clock_time.time()
    world = build_world(services)
    a, b = world.station_id, world.other_station_id
    c = services.admin.create_station(
        actor=world.admin, data=StationInput(name="枫桥镇服务站", hours=HOURS)
    ).id
    services.admin.create_user(
        actor=world.admin,
        data=UserInput(
            username="staff03",
            display_name="周敏",
            roles=frozenset({Role.STAFF}),
            station_ids=frozenset({c}),
        ),
        password=PASSWORD,
    )
    staff = {
        a: world.staff,
        b: world.other_staff,
        c: services.auth.sign_in(username="staff03", password=PASSWORD, station_id=c),
    }
    # Counsellors shared between stations: c001 (A, B) from the world, two more across all three.
    everywhere = add_counsellor(
        services, world, "c002", "刘洋", CounsellorKind.REGULATOR, {a, b, c}
    )
    c003 = add_counsellor(services, world, "c003", "孙丽", CounsellorKind.EXPERT, {b, c})
    shared = {
        world.counsellor.user_id: {a, b},
        everywhere.user_id: {a, b, c},
        c003.user_id: {b, c},
    }
    for counsellor_id, stations in shared.items():
        for station_id in stations:
            set_counsellor_hours(services, counsellor_id, station_id, range(7), time(8), time(17))
    rooms = {
        a: [world.room_id, add_room(services, world, "咨询室A2", RoomKind.COUNSELLING_ROOM)],
        b: [
            add_room(services, world, f"咨询室B{i}", RoomKind.COUNSELLING_ROOM, station_id=b)
            for i in (1, 2)
        ],
        c: [
            add_room(services, world, f"咨询室C{i}", RoomKind.COUNSELLING_ROOM, station_id=c)
            for i in (1, 2)
        ],
    }
    with engine.begin() as conn:
        clients = [world.client_id] + [
            conn.execute(
                insert(m.Client).returning(m.Client.id),
                [
                    {
                        "client_code": f"RACE-{i:04d}-N",
                        "name": f"职工{i}",
                        "phone": "",
                        "work_unit": "",
                        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                    }
                ],
            ).scalar_one()
            for i in range(5)
        ]
        audit_before = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()

    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    barrier = ctx.Barrier(PROCESSES)
    stations = [a, b, c]
    processes = []
    for seed in range(PROCESSES):
        station_id = stations[seed % len(stations)]
        processes.append(
            ctx.Process(
                target=_station_pc,
                args=(
                    pg_only,
                    seed,
                    services.vault.recovery_code(),
                    _actor_dict(staff[station_id], station_id),
                    sorted(k for k, v in shared.items() if station_id in v),
                    everywhere.user_id,
                    rooms[station_id],
                    clients,
                    barrier,
                    out,
                ),
            )
        )
    for p in processes:
        p.start()
    try:
        reports = [out.get(timeout=180) for _ in processes]
    finally:
        for p in processes:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    finished = clock_time.time()
    print(
        f"\nset-up {min(r.get('ready_at', finished) for r in reports) - started:.1f} s "
        f"(start-up included), total {finished - started:.1f} s"
    )

    # 1. Only clear refusals: never a crash, a raw database error or an empty message.
    assert [r["other"] for r in reports] == [[] for _ in reports]
    for r in reports:
        done = len(r["booked"]) + len(r["moved"]) + len(r["cancelled"])
        assert done + sum(r["refused"].values()) == r["attempts"] == ROUNDS, r
    refused = Counter[tuple[str, str]]()
    for r in reports:
        refused.update(r["refused"])
    booked = [i for r in reports for i in r["booked"]]
    moved = [mv for r in reports for mv in r["moved"]]
    cancelled = [i for r in reports for i in r["cancelled"]]
    # The race was real: all three kinds of change got through and some attempts were refused.
    assert len(booked) >= 1
    assert len(moved) >= 1
    assert len(cancelled) >= 1
    assert sum(refused.values()) >= 1
    # Each stampede on one counsellor's time had exactly one winner among the twenty PCs.
    assert sum(r["stampede_won"] for r in reports) == len(STAMPEDES)
    # The service's own check now runs under advisory locks on PostgreSQL, so the database's
    # constraints are a second line that a race rarely reaches (counted, not required).
    race_refusals = sum(r["race_refusals"] for r in reports)
    assert set(refused) <= {
        ("book", "BookingRefused"),
        ("move", "BookingRefused"),
        ("move", "Conflict"),
        ("cancel", "Conflict"),
    }

    with engine.connect() as conn:
        # 2. No overlap per counsellor, room and client among appointments not cancelled.
        for column in ("counsellor_id", "room_id", "client_id"):
            clashes = conn.execute(
                text(
                    "SELECT count(*) FROM appointment x JOIN appointment y "
                    f"ON x.id < y.id AND x.{column} = y.{column} "
                    "AND x.status <> 'cancelled' AND y.status <> 'cancelled' "
                    "AND tstzrange(x.starts_at, x.ends_at) && tstzrange(y.starts_at, y.ends_at)"
                )
            ).scalar_one()
            assert clashes == 0, column
        # 2b. The break after a session holds too (counselling: 10 minutes), which only the
        # service checks: the advisory locks make concurrent bookings see each other.
        for column in ("counsellor_id", "room_id"):
            too_close = conn.execute(
                text(
                    "SELECT count(*) FROM appointment x JOIN appointment y "
                    f"ON x.id < y.id AND x.{column} = y.{column} "
                    "AND x.status <> 'cancelled' AND y.status <> 'cancelled' "
                    "AND x.starts_at < y.ends_at + interval '10 minutes' "
                    "AND y.starts_at < x.ends_at + interval '10 minutes'"
                )
            ).scalar_one()
            assert too_close == 0, f"two bookings of one {column} without the break between"
        rows = {
            row.id: row
            for row in conn.execute(
                text("SELECT id, station_id, status, starts_at, version FROM appointment")
            )
        }
        history: dict[int, list[Any]] = defaultdict(list)
        for change in conn.execute(
            text("SELECT appointment_id, kind, old_starts_at FROM appointment_change ORDER BY id")
        ):
            history[change.appointment_id].append(change)
        audit_after = conn.execute(text("SELECT count(*) FROM audit_event")).scalar_one()

    # 3. The counts add up: every booking reported is there and nothing else is.
    assert len(set(booked)) == len(booked)
    assert set(rows) == set(booked)
    station_of = {i: r["station_id"] for r in reports for i in r["booked"]}
    assert all(rows[i].station_id == station_of[i] for i in booked)
    # Every cancellation reported is cancelled, once; nothing else is.
    assert len(set(cancelled)) == len(cancelled)
    assert {i for i, row in rows.items() if row.status == "cancelled"} == set(cancelled)
    # Every move reported is in the history, and the history walks from the booked time through
    # each reported new time to where the appointment is now.
    moves_of: dict[int, list[datetime]] = defaultdict(list)
    for appointment_id, new_start in moved:
        moves_of[appointment_id].append(datetime.fromisoformat(new_start))
    for appointment_id, row in rows.items():
        changes = history[appointment_id]
        assert changes[0].kind == "created"
        move_rows = [ch for ch in changes if ch.kind == "moved"]
        positions_after = [ch.old_starts_at for ch in move_rows[1:]] + (
            [row.starts_at] if move_rows else []
        )
        assert sorted(positions_after) == sorted(moves_of[appointment_id]), appointment_id
        assert row.version == 1 + len(move_rows) + (row.status == "cancelled")
    # One audit entry per change that happened, and the chain of all twenty PCs still verifies.
    assert audit_after - audit_before == len(booked) + len(moved) + len(cancelled)
    assert services.audit.verify().ok

    print(
        f"{PROCESSES} PCs x {ROUNDS} rounds: "
        f"{len(booked)} booked, {len(moved)} moved, {len(cancelled)} cancelled; "
        f"refused {dict(refused)}, "
        f"{race_refusals} of them by the database's own constraints"
    )
