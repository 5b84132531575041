"""Confidential records: the cost of the protection added in issue 4. Usage:

    python benchmarks/records.py [--entries 200000]

Measures, on a fresh SQLite file:
- appending audit entries (each sealed with its HMAC at commit), one per transaction;
- `audit verify` over the whole trail;
- saving a note draft (encrypt + write), as the editor's autosave does every few seconds;
- reading a note back (unwrap the client's key + decrypt), as opening the editor does;
- unlocking with a passphrase (argon2id, 64 MiB).
No targets are set in the issue; the figures go in its note.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.domain.vocab import ConsentPurpose, CounsellorKind, NoteTemplate
from carestation.security.secret_store import MemorySecretStore, key_from_passphrase
from carestation.services.audit import entry_mac
from carestation.services.container import build_services
from carestation.services.keys import KeyVault


def timed(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=200_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp, 'records.db').as_posix()}"
        engine, _r = open_database(url)
        db = Database(engine)
        services = build_services(db, vault=KeyVault(db, MemorySecretStore()))
        services.vault.set_up()

        median, p95 = timed(
            lambda: services.audit.record_now(actor=None, action="sign_in", username="bench"), 200
        )
        print(f"audit entry, own transaction: median {median:.2f} ms, p95 {p95:.2f} ms")

        # Bulk-fill a long trail the way the app would have sealed it, then verify it.
        key = services.vault.derived_key("carestation audit chain v1")
        with db.write() as session:
            head = session.get(m.AuditChain, 1)
            assert head is not None
            seq, mac = head.seq, head.mac
            start = datetime(2026, 1, 1, tzinfo=UTC)
            rows = []
            for n in range(args.entries):
                seq += 1
                event = m.AuditEvent(
                    occurred_at=start + timedelta(seconds=n),
                    user_id=None,
                    username=f"user{n % 50}",
                    role="counsellor",
                    station_id=None,
                    action="view_note",
                    object_type="note",
                    object_ref=f"CODE-{n % 9000:04d}",
                    result="ok",
                    detail="",
                    seq=seq,
                )
                event.mac = entry_mac(key, event, mac)
                mac = event.mac
                rows.append(
                    {
                        c.name: getattr(event, c.key)
                        for c in m.AuditEvent.__table__.columns
                        if c.name != "id"
                    }
                )
            session.execute(insert(m.AuditEvent), rows)
            head.seq, head.mac = seq, mac
        started = time.perf_counter()
        result = services.audit.verify()
        elapsed = time.perf_counter() - started
        print(
            f"audit verify: {result.checked:,} entries in {elapsed:.2f} s "
            f"({result.checked / elapsed:,.0f} entries/s), ok={result.ok}"
        )

        # A note: register a world with one client, consent and an appointment (the test
        # suite's world builder, from the repository root).
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
        from tests.factories import add_appointment, add_counsellor, build_world, give_consent

        world = build_world(services)
        give_consent(services, world, ConsentPurpose.COUNSELLING)
        counsellor = add_counsellor(services, world, "bench", "测试", CounsellorKind.EXPERT)
        t0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
        appointment = add_appointment(
            services, world, t0, t0 + timedelta(minutes=50), counsellor_id=counsellor.user_id
        )
        case = services.cases.open_case(
            counsellor,
            client_id=world.client_id,
            topics=frozenset({"work_stress"}),
            risk_level="low",
        )
        services.cases.attach_appointment(counsellor, case.id, appointment)
        text = "来访者诉工作压力大，睡眠差。" * 60  # about 800 characters per section
        note = services.notes.save_draft(
            counsellor,
            appointment_id=appointment,
            template=NoteTemplate.SOAP,
            sections={"subjective": text, "objective": text, "assessment": text, "plan": text},
            expected_version=None,
        )
        version = [note.version]

        def autosave() -> None:
            saved = services.notes.save_draft(
                counsellor,
                appointment_id=appointment,
                template=NoteTemplate.SOAP,
                sections={"subjective": text + str(version[0]), "plan": text},
                expected_version=version[0],
            )
            version[0] = saved.version

        median, p95 = timed(autosave, 100)
        print(
            f"note autosave (encrypt + write, ~3,200 chars): median {median:.2f} ms, p95 {p95:.2f} ms"
        )
        median, p95 = timed(lambda: services.notes.get_note(counsellor, note.id), 100)
        print(f"note open (unwrap key + decrypt + audit): median {median:.2f} ms, p95 {p95:.2f} ms")
        median, _p95 = timed(lambda: key_from_passphrase("a station passphrase", b"s" * 16), 5)
        print(f"passphrase unlock (argon2id 64 MiB, t=3): median {median:.0f} ms")
        engine.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
