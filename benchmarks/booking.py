"""Booking speed on a large database: the rule check for one booking (overlaps included), "find a
time" for the next 10 slots over four weeks, booking one appointment, and client search per
keystroke. Usage:

    python benchmarks/booking.py --db sqlite:///big.db        # an existing demo database
    python benchmarks/booking.py --clients 100000 --months 60 # generate one first (about a minute)

Targets (issue 3): overlap check < 5 ms, find a time < 200 ms, search < 50 ms per keystroke.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.domain.booking import BookingDraft, BookingRefused, SlotRequest
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentType, RoomKind
from carestation.services import schedule_data as data
from carestation.services.container import build_services

SH = ZoneInfo("Asia/Shanghai")


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    url = args.db or f"sqlite:///{Path(tmp.name, 'bench.db').as_posix()}"
    t0 = time.perf_counter()
    engine, opened = open_database(url)
    print(
        f"open (and migrate from {opened.revision_before or 'empty'}): {time.perf_counter() - t0:.1f} s"
    )
    if args.db is None:
        from carestation.db.demo import generate_demo

        t0 = time.perf_counter()
        generate_demo(engine, clients=args.clients, months=args.months, seed=1)
        print(f"demo data: {time.perf_counter() - t0:.1f} s")
    services = build_services(Database(engine))
    with services.db.read() as session:
        station_id, count = session.execute(
            select(m.Appointment.station_id, func.count())
            .group_by(m.Appointment.station_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
        staff_id = session.scalar(
            select(m.UserAccount.id)
            .join(m.UserStation, m.UserStation.user_id == m.UserAccount.id)
            .where(
                m.UserStation.station_id == station_id,
                m.UserAccount.roles.any(m.UserRole.role == Role.STAFF),
            )
        )
        counsellor_id = session.scalar(
            select(m.CounsellorHours.counsellor_id)
            .where(m.CounsellorHours.station_id == station_id)
            .limit(1)
        )
        room_id = session.scalar(
            select(m.Room.id).where(
                m.Room.station_id == station_id, m.Room.kind == RoomKind.COUNSELLING_ROOM
            )
        )
        client_ids = list(session.scalars(select(m.Client.id).limit(2000)))
        names = list(session.scalars(select(m.Client.name).limit(200)))
        phones = list(session.scalars(select(m.Client.phone).limit(200)))
        codes = list(session.scalars(select(m.Client.client_code).limit(200)))
        total = session.scalar(select(func.count()).select_from(m.Appointment))
        clients_total = session.scalar(select(func.count()).select_from(m.Client))
    print(
        f"database: {clients_total:,} clients, {total:,} appointments; busiest station {station_id} ({count:,})"
    )
    staff = Actor(
        user_id=staff_id,
        username="bench",
        display_name="bench",
        roles=frozenset({Role.STAFF}),
        station_ids=frozenset({station_id}),
        station_id=station_id,
    )
    rng = random.Random(7)
    now = datetime.now(SH).replace(minute=0, second=0, microsecond=0)

    def draft() -> BookingDraft:
        start = now + timedelta(days=rng.randint(1, 20), hours=rng.randint(-3, 3))
        return BookingDraft(
            type=AppointmentType.COUNSELLING,
            station_id=station_id,
            starts_at=start.replace(hour=rng.randint(9, 15)),
            client_id=rng.choice(client_ids),
            counsellor_id=counsellor_id,
            room_id=room_id,
        )

    def overlap_query() -> None:
        d = draft()
        with services.db.read() as session:
            data.busy(
                session,
                d.starts_at - timedelta(hours=1),
                d.starts_at + timedelta(hours=1),
                counsellor_ids=[counsellor_id],
                room_ids=[room_id],
                client_id=d.client_id,
            )

    def full_check() -> None:
        with services.db.read() as session:
            services.booking._check(session, staff, draft())

    med, p95 = timed(overlap_query, args.runs)
    print(
        f"overlap query (counsellor, room, client) for one booking: median {med:6.2f} ms, p95 {p95:6.2f} ms"
    )
    med, p95 = timed(full_check, args.runs)
    print(
        f"all booking rules for one booking (hours, holidays, overlaps, cap): median {med:6.2f} ms, p95 {p95:6.2f} ms"
    )

    def find() -> None:
        first = (now + timedelta(days=rng.randint(0, 3))).date()
        services.booking.find_slots(
            actor=staff,
            request=SlotRequest(
                type=AppointmentType.COUNSELLING,
                station_id=station_id,
                first_day=first,
                last_day=first + timedelta(days=27),
                client_id=rng.choice(client_ids),
                limit=10,
            ),
        )

    med, p95 = timed(find, max(10, args.runs // 2))
    print(
        f"find a time, next 10 slots over 4 weeks (any counsellor): median {med:6.1f} ms, p95 {p95:6.1f} ms"
    )

    def find_one() -> None:
        first = (now + timedelta(days=rng.randint(0, 3))).date()
        services.booking.find_slots(
            actor=staff,
            request=SlotRequest(
                type=AppointmentType.COUNSELLING,
                station_id=station_id,
                first_day=first,
                last_day=first + timedelta(days=27),
                counsellor_id=counsellor_id,
                client_id=rng.choice(client_ids),
                limit=10,
            ),
        )

    med, p95 = timed(find_one, max(10, args.runs // 2))
    print(
        f"find a time, next 10 slots over 4 weeks (one counsellor):  median {med:6.1f} ms, p95 {p95:6.1f} ms"
    )

    booked = []

    def book() -> None:
        with contextlib.suppress(BookingRefused):
            booked.append(services.booking.book(actor=staff, draft=draft()))

    med, p95 = timed(book, 20)
    print(
        f"book one appointment (checks + insert + history + audit, committed): median {med:6.1f} ms, p95 {p95:6.1f} ms ({len(booked)} of 20 accepted)"
    )

    keystrokes = []
    for name in names[:20]:
        keystrokes += [name[:1], name[:2], name]
    for phone in phones[:20]:
        keystrokes += [phone[:3], phone[:5], phone[:8]]
    for code in codes[:20]:
        keystrokes += [code[:4], code[:6], code]
    samples = []
    for text in keystrokes:
        t0 = time.perf_counter()
        services.clients.search(actor=staff, text=text)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    print(
        f"client search per keystroke ({len(samples)} keystrokes: names, phones, codes): median {statistics.median(samples):5.1f} ms, p95 {samples[int(len(samples) * 0.95) - 1]:5.1f} ms, max {samples[-1]:5.1f} ms"
    )
    engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
