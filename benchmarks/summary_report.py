"""The managers' summary report at scale (issue 6). Usage:

    python benchmarks/summary_report.py [--db URL] [--clients 100000] [--months 60] [--runs 5]
                                        [--read-only]

On `carestation demo --clients 100000 --months 60` data (generated into a temporary SQLite file
when --db is not given, or used as it is when the database already holds data) it measures the
whole service call (every figure of every station, suppression included) for the last 12 whole
months of data, all stations, by month and by quarter (target: under 3 s each), then writing
that month-by-month report as a PDF (Chinese and English), a CSV and an Excel workbook, in memory.

--read-only: nothing is written (the audit entry of each report is skipped; on PostgreSQL every
transaction is read-only), for a shared benchmark database.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from demo_database import demo_engine
from sqlalchemy import Engine, func, select

from carestation.db import models as m
from carestation.db.engine import Database, make_engine
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.services.assessment_stats import next_month
from carestation.services.audit import AuditLog
from carestation.services.clock import SystemClock
from carestation.services.summary_report import SummaryReportService

T = TypeVar("T")
TARGET_MS = 3000.0


class _NoAudit(AuditLog):
    """Records nothing: the benchmark must not write to a shared database."""

    def record(self, session: Any, **kwargs: Any) -> None:
        return None

    def record_now(self, **kwargs: object) -> None:
        return None


def _timed(runs: int, action: Callable[[], T]) -> tuple[float, float, T]:
    """Median and worst wall-clock milliseconds over `runs`, and the last result."""
    samples: list[float] = []
    result: T
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples), result


def _database(args: argparse.Namespace) -> Engine:
    url = args.db
    if args.read_only:
        if url is None:
            raise SystemExit("--read-only needs --db")
        kwargs: dict[str, Any] = {}
        if url.startswith("postgresql"):
            kwargs["connect_args"] = {
                "connect_timeout": 10,
                "options": "-c default_transaction_read_only=on",
            }
        print(f"database: {url} (existing, read only)")
        return make_engine(url, **kwargs)
    return demo_engine(
        url, clients=args.clients, months=args.months, seed=args.seed, prefix="carestation-summary-"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=None, help="database URL; generated when empty or absent")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--read-only", action="store_true", help="write nothing (see above)")
    args = parser.parse_args(argv)
    engine = _database(args)
    db = Database(engine)
    audit = _NoAudit(db) if args.read_only else AuditLog(db)
    service = SummaryReportService(db, audit, SystemClock())
    with engine.connect() as conn:
        appointments = conn.execute(select(func.count()).select_from(m.Appointment)).scalar_one()
        forms = conn.execute(select(func.count()).select_from(m.Assessment)).scalar_one()
        latest = conn.execute(select(func.max(m.Appointment.starts_at))).scalar_one()
        stations = conn.execute(
            select(func.count()).select_from(m.Station).where(m.Station.active)
        ).scalar_one()
        manager_id = conn.execute(
            select(m.UserRole.user_id).where(m.UserRole.role == Role.MANAGER).limit(1)
        ).scalar_one()
    # Four whole quarters: the last quarter that ended before the latest appointment's month.
    last = date(latest.year, latest.month, 1)
    while True:
        last = date(last.year - (last.month == 1), (last.month - 2) % 12 + 1, 1)
        if last.month % 3 == 0:
            break
    first = date(last.year - 1, last.month, 1)
    first = next_month(first)
    print(
        f"{appointments:,} appointments, {forms:,} questionnaires, {stations} active stations; "
        f"report {first:%Y-%m}..{last:%Y-%m}"
    )
    manager = Actor(
        user_id=manager_id,
        username="benchmark",
        display_name="benchmark",
        roles=frozenset({Role.MANAGER}),
        station_ids=frozenset(),
    )
    service.summary(  # the first call of a process imports the holiday calendar
        manager, first_month=first, last_month=first, station_ids=None, grouping="month"
    )
    for grouping in ("month", "quarter"):
        median, worst, data = _timed(
            args.runs,
            lambda g=grouping: service.summary(  # type: ignore[misc]
                manager, first_month=first, last_month=last, station_ids=None, grouping=g
            ),
        )
        counted = sum(b.selection.appointments.total for b in data.blocks)
        verdict = "within" if median < TARGET_MS else "OVER"
        print(
            f"all stations x 12 months by {grouping}: {len(data.blocks)} blocks, "
            f"{counted:,} appointments; median {median:.0f} ms, worst {worst:.0f} ms "
            f"({verdict} the {TARGET_MS:.0f} ms target)"
        )
        if grouping == "month":
            _outputs(args.runs, data)
    return 0


def _outputs(runs: int, data: Any) -> None:
    """Writing the report's files (no database work): PDF in both languages, CSV, XLSX."""
    from carestation.reports.summary import write_summary_report
    from carestation.reports.summary_export import write_summary_csv, write_summary_xlsx

    writers: list[tuple[str, Callable[..., int]]] = [
        ("PDF zh_CN", lambda out: write_summary_report(out, data=data, lang="zh_CN", **number)),
        ("PDF en", lambda out: write_summary_report(out, data=data, lang="en", **number)),
        ("CSV", lambda out: write_summary_csv(out, data=data, lang="zh_CN", **number)),
        ("XLSX", lambda out: write_summary_xlsx(out, data=data, lang="zh_CN", **number)),
    ]
    for label, write in writers:
        median, worst, (count, size) = _timed(runs, lambda w=write: _write_once(w))
        unit = "pages" if label.startswith("PDF") else "rows"
        print(
            f"  {label}: {count} {unit}, {size / 1024:.0f} KiB; "
            f"median {median:.0f} ms, worst {worst:.0f} ms"
        )


def _write_once(write: Callable[..., int]) -> tuple[int, int]:
    buffer = io.BytesIO()
    count = write(buffer)
    return count, len(buffer.getvalue())


number = {"report_number": "R-000000"}


if __name__ == "__main__":
    sys.exit(main())
