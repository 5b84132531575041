"""The personal wellbeing report (issue 6): data from the service plus the PDF, in memory. Usage:

    python benchmarks/reports.py [--db URL] [--clients 100000] [--months 60] [--runs 20]

On `carestation demo --clients 100000 --months 60` data (generated into a temporary SQLite file
when --db is not given) it takes the client with the most questionnaires, makes sure a
report-printing consent is in force for them (the benchmark's only write besides the report
numbers and audit entries the reports themselves take), and times one whole report: the
service call (access check, scores recomputed from raw answers, report number, audit entry) and
writing the PDF into memory. Target: under 300 ms.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from datetime import UTC, datetime

from demo_database import demo_engine
from sqlalchemy import Engine, func, insert, select

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.domain.vocab import ConsentPurpose
from carestation.reports.personal import write_personal_report
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import build_services
from carestation.services.keys import KeyVault

TARGET_MS = 300.0


def _database(args: argparse.Namespace) -> Engine:
    return demo_engine(
        args.db,
        clients=args.clients,
        months=args.months,
        seed=args.seed,
        prefix="carestation-reports-",
    )


def _subject(engine: Engine) -> tuple[int, int, int, int]:
    """(client, forms, the counsellor of one of their cases, that case's station)."""
    count = func.count().label("n")
    with engine.begin() as conn:
        client_id, n = conn.execute(
            select(m.Assessment.client_id, count)
            .where(m.Assessment.client_id.is_not(None), m.Assessment.instrument != "mood")
            .group_by(m.Assessment.client_id)
            .order_by(count.desc())
            .limit(1)
        ).one()
        counsellor_id, station_id = conn.execute(
            select(m.Case.counsellor_id, m.Case.station_id).where(m.Case.client_id == client_id)
        ).first()
        consented = conn.execute(
            select(func.count()).where(
                m.Consent.client_id == client_id,
                m.Consent.purpose == ConsentPurpose.REPORT_PRINTING,
                m.Consent.withdrawn_at.is_(None),
            )
        ).scalar_one()
        if not consented:
            conn.execute(
                insert(m.Consent).values(
                    client_id=client_id,
                    purpose=ConsentPurpose.REPORT_PRINTING,
                    wording_version="2026-11",
                    language="zh_CN",
                    station_id=station_id,
                    given_at=datetime.now(UTC),
                )
            )
    return client_id, n, counsellor_id, station_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=None, help="database URL; generated when empty or absent")
    parser.add_argument("--clients", type=int, default=100_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args(argv)
    engine = _database(args)
    db = Database(engine)
    vault = KeyVault(db, MemorySecretStore())
    if not vault.try_unlock():
        print("the database's protection key is not available (use a demo database)")
        return 1
    services = build_services(db, vault=vault)
    client_id, forms, counsellor_id, station_id = _subject(engine)
    with engine.connect() as conn:
        stations = frozenset(
            conn.execute(
                select(m.UserStation.station_id).where(m.UserStation.user_id == counsellor_id)
            ).scalars()
        )
    counsellor = Actor(
        user_id=counsellor_id,
        username="benchmark",
        display_name="benchmark",
        roles=frozenset({Role.COUNSELLOR}),
        station_ids=stations | {station_id},
        station_id=station_id,
    )

    def one(lang: str) -> tuple[int, int]:
        data = services.reports.personal_report(
            counsellor, client_id=client_id, include_name=False, lang=lang
        )
        out = io.BytesIO()
        pages = write_personal_report(out, data=data)
        return pages, len(out.getvalue())

    one("zh_CN")  # the first report of a process loads reportlab and the font once
    for lang in ("zh_CN", "en"):
        samples = []
        for _ in range(args.runs):
            started = time.perf_counter()
            pages, size = one(lang)
            samples.append((time.perf_counter() - started) * 1000)
        median = statistics.median(samples)
        verdict = "within" if median < TARGET_MS else "OVER"
        print(
            f"personal report ({lang}), client {client_id} with {forms} forms: {pages} pages, "
            f"{size // 1024} KiB; median {median:.0f} ms, worst {max(samples):.0f} ms "
            f"({verdict} the {TARGET_MS:.0f} ms target)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
