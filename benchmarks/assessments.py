"""Assessments at scale (issue 5). Usage:

    python benchmarks/assessments.py [--db URL] [--clients 100000] [--months 60] [--runs 10]

On `carestation demo --clients 100000 --months 60` data (generated into a temporary SQLite file
when --db is not given, or used as it is when the database already holds data) it measures:
- the band distribution by station, month, instrument and band over every stored assessment,
  computed in SQL (target: under 2 s);
- opening one client's trends: the service call plus building the panel and painting the chart
  of the client with the most assessments (target: under 100 ms).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from typing import TypeVar

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from demo_database import demo_engine
from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication
from sqlalchemy import Engine, func, select

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import build_services
from carestation.services.keys import KeyVault
from carestation.ui.assessment_trends import AssessmentsPanel
from carestation.ui.fonts import apply_app_font

T = TypeVar("T")
DISTRIBUTION_TARGET_MS = 2000.0
TREND_TARGET_MS = 100.0


def _timed(runs: int, action: Callable[[], T]) -> tuple[float, float, T]:
    """Median and worst wall-clock milliseconds over `runs`, and the last result."""
    samples: list[float] = []
    result: T
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples), result


def _quiet(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    # The offscreen platform cannot resize native windows; that says nothing about the timing.
    if "propagateSizeHints" not in message:
        print(message, file=sys.stderr)


def _database(args: argparse.Namespace) -> Engine:
    return demo_engine(
        args.db,
        clients=args.clients,
        months=args.months,
        seed=args.seed,
        prefix="carestation-assessments-",
    )


def _busiest_client(engine: Engine) -> tuple[int, int, int]:
    """(client id, assessments, a counsellor with a case) for the most-assessed client."""
    count = func.count().label("n")
    with engine.connect() as conn:
        client_id, n = conn.execute(
            select(m.Assessment.client_id, count)
            .where(m.Assessment.client_id.is_not(None), m.Assessment.instrument != "mood")
            .group_by(m.Assessment.client_id)
            .order_by(count.desc())
            .limit(1)
        ).one()
        counsellor = conn.execute(
            select(m.Case.counsellor_id).where(m.Case.client_id == client_id).limit(1)
        ).scalar_one()
    return client_id, n, counsellor


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=None, help="database URL; generated when empty or absent")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    engine = _database(args)
    db = Database(engine)
    vault = KeyVault(db, MemorySecretStore())
    if not vault.try_unlock():
        print("the database's protection key is not available (use a demo database)")
        return 1
    services = build_services(db, vault=vault)
    with engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(m.Assessment)).scalar_one()
        first, last = conn.execute(
            select(func.min(m.Assessment.taken_at), func.max(m.Assessment.taken_at))
        ).one()
        station_ids = frozenset(conn.execute(select(m.Station.id)).scalars())
        manager_id = conn.execute(
            select(m.UserRole.user_id).where(m.UserRole.role == Role.MANAGER).limit(1)
        ).scalar_one()
    print(f"assessments stored: {stored:,} ({first} .. {last})")

    manager = Actor(
        user_id=manager_id,
        username="benchmark",
        display_name="benchmark",
        roles=frozenset({Role.MANAGER}),
        station_ids=frozenset(),
    )
    first_month = date(2000, 1, 1)
    last_month = date(2100, 12, 1)
    median, worst, rows = _timed(
        args.runs,
        lambda: services.assessments.band_distribution(
            manager, first_month=first_month, last_month=last_month
        ),
    )
    counted = sum(r.count for r in rows)
    verdict = "within" if median < DISTRIBUTION_TARGET_MS else "OVER"
    print(
        f"band distribution, every station and month: {len(rows):,} groups over {counted:,} "
        f"forms; median {median:.0f} ms, worst {worst:.0f} ms ({verdict} the "
        f"{DISTRIBUTION_TARGET_MS:.0f} ms target)"
    )
    assert counted == stored, (counted, stored)

    client_id, n, counsellor_id = _busiest_client(engine)
    counsellor = Actor(
        user_id=counsellor_id,
        username="benchmark",
        display_name="benchmark",
        roles=frozenset({Role.COUNSELLOR}),
        station_ids=station_ids,
    )
    qInstallMessageHandler(_quiet)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    apply_app_font(app)

    def load() -> object:
        return services.assessments.client_assessments(counsellor, client_id=client_id)

    load_ms, _w, data = _timed(args.runs, load)

    def open_panel() -> bool:
        panel = AssessmentsPanel(
            services.assessments.client_assessments(counsellor, client_id=client_id)
        )
        panel.resize(900, 600)
        panel.show()
        painted = not panel.grab().isNull()
        panel.close()
        panel.deleteLater()
        return painted

    open_panel()  # the first paint of a process loads fonts and the chart module
    panel_ms, panel_worst, painted = _timed(args.runs, open_panel)
    assert painted
    trends = getattr(data, "trends", ())
    verdict = "within" if panel_ms < TREND_TARGET_MS else "OVER"
    print(
        f"one client's trends (client {client_id}, {n} forms, {len(trends)} instruments): "
        f"service {load_ms:.1f} ms; service + panel + chart painted: median {panel_ms:.1f} ms, "
        f"worst {panel_worst:.1f} ms ({verdict} the {TREND_TARGET_MS:.0f} ms target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
