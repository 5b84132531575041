"""Twenty stations booking at once on one PostgreSQL server (issue 7). Usage:

    psql -h HOST -U postgres -c 'CREATE DATABASE bench_copy TEMPLATE demo_database'
    python benchmarks/network_booking.py --db postgresql+psycopg://postgres@HOST/bench_copy
        [--stations 20] [--bookings 30] [--think 1.0] [--burst-rounds 10] [--week-runs 20]

It WRITES to the database: run it on a copy of a `carestation demo --clients 100000 --months 60`
database, never on the one other people use. When the database has fewer stations than
--stations, the missing ones are added once (named "基准测试服务站 N", two counselling rooms, a
staff sign-in bench-staffNN with the demo staff password), and each shares the counsellors of a
demo station, with the same hours, so two stations' staff compete for the same counsellor's time.

One process per station signs in as that station's staff (another PC: the database's key comes
from the demo key, the clock is the real one), looks up free counselling slots in the next eight
weeks with the service's slot finder, and books them for random clients through
services.booking.book, in two phases:

- steady: every station books --bookings appointments, waiting a random pause (exponential, mean
  --think seconds) before each, so bookings of different stations overlap at random;
- burst: --burst-rounds rounds in which all stations book at the same instant (a barrier).

It prints the median and 99th percentile of the booking call (wall clock, the whole service
call: checks, insert, history, audit entry, commit) of the bookings that were accepted (target:
median < 20 ms, p99 < 100 ms); refused bookings (another station took the counsellor, room or
client first) are counted and timed apart, since a refusal also searches for alternatives.

Meanwhile this process opens the staff calendar's week view over and over, as a station PC does
while the others book: the service calls StationCalendarView.refresh makes (station_days,
availability, list_counsellors), and the real widget refreshed and painted offscreen, once with
nobody booking and once during the steady phase (target: < 150 ms).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from datetime import time as daytime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy import Engine, func, select

from carestation.db import models as m
from carestation.db.engine import Database, make_engine
from carestation.domain.roles import Role
from carestation.domain.values import OpeningHours, RoomInput, StationInput, UserInput
from carestation.domain.vocab import RoomKind

T = TypeVar("T")
SH = ZoneInfo("Asia/Shanghai")
BOOK_MEDIAN_MS, BOOK_P99_MS, WEEK_MS = 20.0, 100.0, 150.0
STAFF_PASSWORD = "demo-staff-2026"
ADMIN_PASSWORD = "demo-admin-2026"
EXTRA_NAME = "基准测试服务站 {n}"


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0..100), linear between the nearest ranks."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def _figures(samples: list[float]) -> str:
    if not samples:
        return "none"
    return (
        f"n={len(samples)}, median {statistics.median(samples):.1f} ms, "
        f"p99 {percentile(samples, 99):.1f} ms, max {max(samples):.1f} ms"
    )


def _services(url: str) -> Any:
    from carestation.security.secret_store import MemorySecretStore
    from carestation.services.container import build_services
    from carestation.services.keys import KeyVault

    db = Database(make_engine(url))
    vault = KeyVault(db, MemorySecretStore())
    if not vault.try_unlock():
        raise SystemExit("the database's protection key is not available (use a demo database)")
    return build_services(db, vault=vault)


# --- stations ----------------------------------------------------------------------------------
def _staff_of(engine: Engine) -> dict[int, str]:
    """Each active station's first staff sign-in."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(m.UserStation.station_id, func.min(m.UserAccount.username))
            .join(m.UserAccount, m.UserAccount.id == m.UserStation.user_id)
            .join(m.Station, m.Station.id == m.UserStation.station_id)
            .where(
                m.Station.active.is_(True),
                m.UserAccount.active.is_(True),
                m.UserAccount.roles.any(m.UserRole.role == Role.STAFF),
            )
            .group_by(m.UserStation.station_id)
            .order_by(m.UserStation.station_id)
        ).all()
    return {station_id: username for station_id, username in rows}


def add_stations(url: str, wanted: int) -> None:
    """Adds stations until there are `wanted`, each sharing a demo station's counsellors."""
    services = _services(url)
    engine = services.db.engine
    existing = _staff_of(engine)
    if len(existing) >= wanted:
        return
    admin = services.auth.sign_in(username="admin", password=ADMIN_PASSWORD)
    demo_ids = sorted(existing)
    hours = tuple(OpeningHours(d, daytime(8, 30), daytime(17)) for d in range(5))
    for n in range(len(existing) + 1, wanted + 1):
        partner = demo_ids[(n - 1) % len(demo_ids)]
        station = services.admin.create_station(
            actor=admin, data=StationInput(name=EXTRA_NAME.format(n=n), hours=hours)
        )
        for i in (1, 2):
            services.admin.create_room(
                actor=admin,
                data=RoomInput(
                    station_id=station.id, name=f"个人咨询室{i}", kind=RoomKind.COUNSELLING_ROOM
                ),
            )
        services.admin.create_user(
            actor=admin,
            data=UserInput(
                username=f"bench-staff{n:02d}",
                display_name=f"基准{n}",
                roles=frozenset({Role.STAFF}),
                station_ids=frozenset({station.id}),
            ),
            password=STAFF_PASSWORD,
        )
        with services.db.write() as session:
            for row in list(
                session.scalars(
                    select(m.CounsellorHours).where(m.CounsellorHours.station_id == partner)
                )
            ):
                session.add(
                    m.CounsellorHours(
                        counsellor_id=row.counsellor_id,
                        station_id=station.id,
                        weekday=row.weekday,
                        starts=row.starts,
                        ends=row.ends,
                    )
                )
            shared = set(
                session.scalars(
                    select(m.CounsellorHours.counsellor_id).where(
                        m.CounsellorHours.station_id == partner
                    )
                )
            )
            for counsellor_id in sorted(shared):
                session.add(m.UserStation(user_id=counsellor_id, station_id=station.id))
        print(
            f"  added station {station.id} ({station.name}), sharing station {partner}'s counsellors"
        )
    services.db.dispose()


# --- one station PC ----------------------------------------------------------------------------
def _free_slots(
    services: Any, actor: Any, station_id: int, want: int, rng: random.Random
) -> list[Any]:
    """Slots from the service's finder in random order, none sharing a counsellor's or room's
    time. Stations sharing counsellors see the same free times, so they sometimes collide."""
    from carestation.domain.booking import SlotRequest
    from carestation.domain.vocab import AppointmentType

    today = datetime.now(SH).date()
    found = services.booking.find_slots(
        actor=actor,
        request=SlotRequest(
            type=AppointmentType.COUNSELLING,
            station_id=station_id,
            first_day=today + timedelta(days=1),
            last_day=today + timedelta(days=56),
            limit=want * 12,
        ),
    )
    rng.shuffle(found)
    gap = timedelta(minutes=15)  # more than the break after a counselling session
    taken: dict[tuple[str, int], list[tuple[datetime, datetime]]] = {}
    chosen = []
    for slot in found:
        keys = [("c", slot.counsellor_id), ("r", slot.room_id)]
        if any(
            start < slot.ends_at + gap and slot.starts_at < end + gap
            for key in keys
            for start, end in taken.get(key, [])
        ):
            continue
        for key in keys:
            taken.setdefault(key, []).append((slot.starts_at, slot.ends_at))
        chosen.append(slot)
    return chosen[:want]


def station_pc(
    url: str,
    station_id: int,
    username: str,
    bookings: int,
    burst_rounds: int,
    think: float,
    seed: int,
    client_ids: tuple[int, int],
    barrier: Any,
    out: Any,
) -> None:
    """Signs in as the station's staff, then books in the steady phase and the burst phase."""
    report: dict[str, Any] = {"station_id": station_id, "error": ""}
    try:
        report.update(
            _station_pc(
                url, station_id, username, bookings, burst_rounds, think, seed, client_ids, barrier
            )
        )
    except BaseException as exc:  # the parent prints it
        import traceback

        report["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
        barrier.abort()
    out.put(report)


def _station_pc(
    url: str,
    station_id: int,
    username: str,
    bookings: int,
    burst_rounds: int,
    think: float,
    seed: int,
    client_ids: tuple[int, int],
    barrier: Any,
) -> dict[str, Any]:
    from carestation.domain.booking import BookingDraft, BookingRefused
    from carestation.domain.errors import CareStationError
    from carestation.domain.vocab import AppointmentType

    services = _services(url)
    actor = services.auth.sign_in(username=username, password=STAFF_PASSWORD, station_id=station_id)
    rng = random.Random(seed)
    slots = _free_slots(services, actor, station_id, bookings + burst_rounds, rng)
    result: dict[str, Any] = {
        "slots": len(slots),
        "cpu_ok": [],
        "steady_ok": [],
        "steady_refused": [],
        "burst_ok": [],
        "burst_refused": [],
        "errors": [],
        "refusals": {},
    }

    def book(phase: str) -> None:
        if not slots:
            return
        slot = slots.pop(0)
        draft = BookingDraft(
            type=AppointmentType.COUNSELLING,
            station_id=station_id,
            starts_at=slot.starts_at,
            client_id=rng.randint(*client_ids),
            counsellor_id=slot.counsellor_id,
            room_id=slot.room_id,
        )
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            services.booking.book(actor=actor, draft=draft)
            result[f"{phase}_ok"].append((time.perf_counter() - started) * 1000)
            result["cpu_ok"].append((time.process_time() - started_cpu) * 1000)
        except BookingRefused as refused:
            result[f"{phase}_refused"].append((time.perf_counter() - started) * 1000)
            # The reason without its time, so that refusals of one kind count together.
            first = re.split(r"\d", refused.problems[0] if refused.problems else "?")[0]
            result["refusals"][first] = result["refusals"].get(first, 0) + 1
        except CareStationError as exc:
            result["errors"].append(f"{type(exc).__name__}: {exc}")
        except Exception as exc:  # a crash: reported, never hidden in the figures
            result["errors"].append(f"{type(exc).__name__}: {str(exc)[:300]}")

    barrier.wait(timeout=600)  # every PC is signed in and has its slots
    for _ in range(bookings):
        time.sleep(rng.expovariate(1 / think) if think > 0 else 0)
        book("steady")
    barrier.wait(timeout=600)  # the steady phase is over on every PC
    for _ in range(burst_rounds):
        barrier.wait(timeout=600)
        book("burst")
        time.sleep(0.2)
    services.db.dispose()
    return result


# --- the week view ----------------------------------------------------------------------------
def _timed(action: Callable[[], T]) -> tuple[float, T]:
    started = time.perf_counter()
    result = action()
    return (time.perf_counter() - started) * 1000, result


def _quiet(_kind: object, _context: object, message: str) -> None:
    # The offscreen platform cannot resize native windows; that says nothing about the timing.
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


class _WeekView:
    """The staff calendar of one station, opened alternately on this week and the next."""

    def __init__(self, url: str, station_id: int, username: str) -> None:
        from PySide6.QtCore import qInstallMessageHandler
        from PySide6.QtWidgets import QApplication

        from carestation.ui.fonts import apply_app_font
        from carestation.ui.views.calendar_view import StationCalendarView

        qInstallMessageHandler(_quiet)
        self.app = QApplication.instance() or QApplication(sys.argv[:1])
        apply_app_font(self.app)  # type: ignore[arg-type]
        self.services = _services(url)
        self.station_id = station_id
        self.actor = self.services.auth.sign_in(
            username=username, password=STAFF_PASSWORD, station_id=station_id
        )

        class _Prompter:
            def info(self, *args: object) -> None:
                print("calendar message:", args[1:])

            error = info

            def confirm(self, *args: object) -> bool:
                return False

        self.view = StationCalendarView(self.services, self.actor, _Prompter())
        self.view.resize(1600, 1000)
        self.view.show()
        today = datetime.now(SH).date()
        self.mondays = [today - timedelta(days=today.weekday() - 7 * k) for k in (0, 1)]
        self.turns = {"calls": 0, "widget": 0}
        self.open_widget()  # the first paint of a process loads fonts and glyph caches

    def calls(self) -> float:
        """The service calls the week view makes, by counsellor."""
        s, who, monday = self.services, self.actor, self._next_monday("calls")

        def load() -> object:
            appts = s.schedule.station_days(
                actor=who, station_id=self.station_id, first_day=monday, days=7
            )
            hours = s.schedule.availability(
                actor=who, station_id=self.station_id, first_day=monday, days=7
            )
            people = s.admin.list_counsellors(actor=who, station_id=self.station_id)
            return appts, hours, people

        ms, _result = _timed(load)
        return ms

    def open_widget(self) -> float:
        """Picking another week in the real widget: its refresh (the same calls), then a paint."""
        monday = self._next_monday("widget")

        def show() -> bool:
            self.view.set_date(monday)  # dateChanged -> refresh()
            return not self.view.grab().isNull()

        ms, painted = _timed(show)
        assert painted
        self.app.processEvents()
        return ms

    def _next_monday(self, which: str) -> date:
        """This week and the next in turn: the widget reloads only when the date changes."""
        self.turns[which] += 1
        return self.mondays[self.turns[which] % 2]


# --- the run -----------------------------------------------------------------------------------
def _verdict(samples: list[float]) -> str:
    if not samples:
        return ""
    ok = statistics.median(samples) < BOOK_MEDIAN_MS and percentile(samples, 99) < BOOK_P99_MS
    return (
        f" ({'within' if ok else 'OVER'} the {BOOK_MEDIAN_MS:.0f} / {BOOK_P99_MS:.0f} ms targets)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a PostgreSQL copy of a demo database")
    parser.add_argument("--stations", type=int, default=20)
    parser.add_argument("--bookings", type=int, default=30, help="per station, steady phase")
    parser.add_argument("--think", type=float, default=1.0, help="mean pause before a booking, s")
    parser.add_argument("--burst-rounds", type=int, default=10)
    parser.add_argument("--week-runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not args.db.startswith("postgresql"):
        raise SystemExit(
            "this benchmark is about a PostgreSQL server: give --db postgresql+psycopg://..."
        )

    engine = make_engine(args.db)
    with engine.connect() as conn:
        clients = conn.execute(select(func.count()).select_from(m.Client)).scalar_one()
        appointments = conn.execute(select(func.count()).select_from(m.Appointment)).scalar_one()
        low, high = conn.execute(select(func.min(m.Client.id), func.max(m.Client.id))).one()
    print(f"database: {args.db}: {clients:,} clients, {appointments:,} appointments")
    add_stations(args.db, args.stations)
    staff = list(_staff_of(engine).items())[: args.stations]
    engine.dispose()
    print(f"{len(staff)} stations, one booking process each; load average {os.getloadavg()[0]:.1f}")

    week = _WeekView(args.db, staff[0][0], staff[0][1])
    idle_calls = [week.calls() for _ in range(args.week_runs)]
    idle_widget = [week.open_widget() for _ in range(args.week_runs)]

    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(len(staff) + 1)
    out = ctx.Queue()
    processes = [
        ctx.Process(
            target=station_pc,
            args=(
                args.db,
                station_id,
                username,
                args.bookings,
                args.burst_rounds,
                args.think,
                args.seed * 1000 + i,
                (low, high),
                barrier,
                out,
            ),
        )
        for i, (station_id, username) in enumerate(staff)
    ]
    started = time.perf_counter()
    for p in processes:
        p.start()
    barrier.wait(timeout=600)
    print(f"processes signed in and found their slots in {time.perf_counter() - started:.1f} s")
    # The week view while the stations book; spread over the steady phase.
    steady_started = time.perf_counter()
    busy_calls: list[float] = []
    busy_widget: list[float] = []
    gap = max(0.05, args.bookings * args.think / (2 * args.week_runs + 1))
    for _ in range(args.week_runs):
        time.sleep(gap)
        busy_calls.append(week.calls())
        time.sleep(gap)
        busy_widget.append(week.open_widget())
    barrier.wait(timeout=600)
    steady_s = time.perf_counter() - steady_started
    for _ in range(args.burst_rounds):
        barrier.wait(timeout=600)
    reports = [out.get(timeout=600) for _ in processes]
    for p in processes:
        p.join(timeout=60)

    failed = [r for r in reports if r["error"]]
    for r in failed:
        print(f"station {r['station_id']} failed: {r['error']}")
    steady_ok = [x for r in reports for x in r.get("steady_ok", [])]
    burst_ok = [x for r in reports for x in r.get("burst_ok", [])]
    steady_refused = [x for r in reports for x in r.get("steady_refused", [])]
    burst_refused = [x for r in reports for x in r.get("burst_refused", [])]
    errors = [e for r in reports for e in r.get("errors", [])]
    refusals: dict[str, int] = {}
    for r in reports:
        for text, n in r.get("refusals", {}).items():
            refusals[text] = refusals.get(text, 0) + n

    print()
    print(
        f"steady phase: {len(staff)} stations x {args.bookings} bookings, mean pause "
        f"{args.think:.1f} s, {steady_s:.1f} s, {len(steady_ok) / steady_s:.1f} bookings/s accepted"
    )
    print(f"  accepted bookings: {_figures(steady_ok)}{_verdict(steady_ok)}")
    print(f"  refused bookings (alternatives searched): {_figures(steady_refused)}")
    print(
        f"burst phase: {args.burst_rounds} rounds of {len(staff)} stations booking at one instant"
    )
    print(f"  accepted bookings: {_figures(burst_ok)}{_verdict(burst_ok)}")
    print(f"  refused bookings (alternatives searched): {_figures(burst_refused)}")
    for text, n in sorted(refusals.items(), key=lambda kv: -kv[1]):
        print(f"  refused {n:4d} x {text}...")
    cpu = [x for r in reports for x in r.get("cpu_ok", [])]
    print(f"CPU time of the booking process per accepted booking: {_figures(cpu)}")
    if errors:
        print(f"ERRORS (neither a booking nor a clear refusal): {len(errors)}")
        for e in sorted(set(errors))[:10]:
            print(f"  {e}")
    print()
    print(f"week view of station {week.station_id} (median, max of {args.week_runs} opens):")
    for name, samples in (
        ("service calls, nobody booking", idle_calls),
        ("widget refresh + paint, nobody booking", idle_widget),
        (f"service calls, {len(staff)} stations booking", busy_calls),
        (f"widget refresh + paint, {len(staff)} stations booking", busy_widget),
    ):
        med = statistics.median(samples)
        verdict = "within" if med < WEEK_MS else "OVER"
        print(
            f"  {name:<46} {med:7.1f} ms  max {max(samples):7.1f} ms  ({verdict} {WEEK_MS:.0f} ms)"
        )
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    return 1 if failed or errors else 0


if __name__ == "__main__":
    sys.exit(main())
