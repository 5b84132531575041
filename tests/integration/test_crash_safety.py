"""Power cuts and crashes: a writer process (bookings, cancellations, session notes, assessments)
is killed with SIGKILL at random moments, a hundred times in a row, on one SQLite file. After
every kill the file is intact, everything the writer reported committed is there exactly, nothing
is half written, the audit chain verifies, and the last draft of every note comes back through
the notes service.

The writer reports each commit in a log (tests/integration/crash_writer.py); the one transaction
that may have been in flight at the kill is allowed to be either wholly there or wholly absent.
Set CARESTATION_CRASH_SEED to replay a run, CARESTATION_CRASH_KILLS to change the count.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import sqlite3
import sys
import time as clock_time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.db.engine import sqlite_path
from carestation.domain.vocab import (
    AppointmentStatus,
    ChangeKind,
    ConsentPurpose,
    NoteStatus,
    RiskLevel,
    Topic,
)
from carestation.services.container import Services
from tests.factories import World, build_world, give_consent, set_counsellor_hours
from tests.integration import crash_writer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        sys.platform == "win32",
        reason="SIGKILL and the forkserver start method do not exist on Windows",
    ),
]

KILLS = int(os.environ.get("CARESTATION_CRASH_KILLS", "100"))
SEED = int(os.environ.get("CARESTATION_CRASH_SEED", str(random.randrange(2**32))))
# From the writer's "ready" (its services are built) to the kill; some kills instead land
# during its start-up, counted from the process start.
DELAY_S = (0.005, 0.3)
START_UP_KILLS = 0.15
# Every tenth writer lives longer, so that even on a slow machine drafts get signed and every
# kind of transaction is committed (and killed) many times.
LONG_RUN_S = (0.5, 1.0)


def _context() -> Any:
    """A forkserver that has imported the writer: each writer is a fork of a clean interpreter
    (never of this test process, which holds engines and threads), started in milliseconds
    rather than the second and a half a spawned interpreter needs to import the app."""
    ctx = multiprocessing.get_context("forkserver")
    ctx.set_forkserver_preload([crash_writer.__name__])
    return ctx


# --- what the log says ---------------------------------------------------------------------


@dataclass
class NoteState:
    appointment: int
    version: int
    status: str
    sections: dict[str, str]


@dataclass
class Expected:
    """The database as the writer's commit lines describe it."""

    appointments: dict[int, tuple[datetime, int | None, str]] = field(default_factory=dict)
    notes: dict[int, NoteState] = field(default_factory=dict)
    assessments: dict[int, tuple[int | None, list[int | None], int]] = field(default_factory=dict)
    risky_assessments: set[int] = field(default_factory=set)
    anonymous: int = 0
    commits: Counter[str] = field(default_factory=Counter)

    def apply(self, line: dict[str, Any]) -> None:
        op = line["op"]
        self.commits[op] += 1
        if op == "book":
            start = datetime.fromisoformat(line["start"])
            self.appointments[line["id"]] = (start, line["client"], line["status"])
        elif op == "cancel":
            start, client, _status = self.appointments[line["id"]]
            self.appointments[line["id"]] = (start, client, AppointmentStatus.CANCELLED.value)
        elif op == "draft":
            self.notes[line["note"]] = NoteState(
                line["appointment"], line["version"], NoteStatus.DRAFT.value, line["sections"]
            )
        elif op == "sign":
            note = self.notes[line["note"]]
            note.version, note.status = line["version"], line["status"]
        elif op == "assess":
            self.assessments[line["id"]] = (line["client"], line["answers"], line["total"])
            if line["answers"][8] > 0:
                self.risky_assessments.add(line["id"])
        elif op == "anonymous":
            self.anonymous += 1
        elif op != "refused":
            raise AssertionError(f"unknown commit line {line}")


class CrashCheck:
    """Reads each run's new log lines, settles the transaction in flight, and checks the file."""

    def __init__(self, services: Services, world: World, db_path: Path, log_path: Path) -> None:
        self.services = services
        self.world = world
        self.db_path = db_path
        self.log_path = log_path
        self.offset = 0
        self.expected = Expected()
        self.in_flight: Counter[str] = Counter()
        self.adopted: Counter[str] = Counter()
        self.notes_read = 0
        self.seconds = 0.0  # spent checking

    # --- the log ------------------------------------------------------------------------------

    def new_lines(self) -> list[dict[str, Any]]:
        data = self.log_path.read_bytes()[self.offset :]
        complete = data[: data.rfind(b"\n") + 1]
        if len(complete) != len(data):
            # A line cut by the kill: never a commit that counts. Cut it off so the next run's
            # lines start on a line of their own.
            with self.log_path.open("r+b") as f:
                f.truncate(self.offset + len(complete))
        self.offset += len(complete)
        lines = [json.loads(raw) for raw in complete.splitlines()]
        for line in lines:
            if line["kind"] == "error":
                pytest.fail(f"the writer failed (seed {SEED}):\n{line['traceback']}")
        return lines

    # --- after a kill -------------------------------------------------------------------------

    def after_kill(self, run: int) -> None:
        started = clock_time.monotonic()
        self._after_kill(run)
        self.seconds += clock_time.monotonic() - started

    def _after_kill(self, run: int) -> None:
        lines = self.new_lines()
        pending: dict[str, Any] | None = None
        touched: set[int] = set()
        for line in lines:
            if line["kind"] == "intent":
                pending = line
            else:
                self.expected.apply(line)
                if line["op"] in ("draft", "sign"):
                    touched.add(line["note"])
                pending = None
        context = f"after kill {run} (seed {SEED}); in flight: {pending}"
        self.check_file(context)
        if pending is not None:
            self.in_flight[pending["op"]] += 1
            touched |= self.settle(pending, context)
        self.check_rows(context)
        self.check_complete(context)
        for note_id in sorted(touched):
            self.check_draft(note_id, context)

    def check_file(self, context: str) -> None:
        conn = sqlite3.connect(self.db_path)
        try:
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)], context
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == [], context
        finally:
            conn.close()

    def settle(self, pending: dict[str, Any], context: str) -> set[int]:
        """The transaction in flight at the kill is wholly there or wholly absent: if it is
        there, it becomes expected (the writer just did not live to report it). Returns the
        notes it may have touched."""
        settle = {
            "book": self._settle_book,
            "cancel": self._settle_cancel,
            "draft": self._settle_draft,
            "sign": self._settle_sign,
            "assess": self._settle_assess,
            "anonymous": self._settle_anonymous,
        }[pending["op"]]
        with self.services.db.read() as session:
            return settle(session, pending, context)

    def _settle_book(self, session: Session, pending: dict[str, Any], context: str) -> set[int]:
        exp = self.expected
        extra = session.scalars(
            select(m.Appointment).where(m.Appointment.id.not_in(list(exp.appointments)))
        ).all()
        if extra:
            assert len(extra) == 1, context
            row = extra[0]
            start = datetime.fromisoformat(pending["start"])
            assert (row.starts_at, row.client_id) == (start, pending["client"]), context
            exp.appointments[row.id] = (start, row.client_id, row.status.value)
            self.adopted["book"] += 1
        return set()

    def _settle_cancel(self, session: Session, pending: dict[str, Any], context: str) -> set[int]:
        row = session.get_one(m.Appointment, pending["id"])
        if row.status is AppointmentStatus.CANCELLED:
            start, client, _old = self.expected.appointments[row.id]
            self.expected.appointments[row.id] = (start, client, row.status.value)
            self.adopted["cancel"] += 1
        return set()

    def _settle_draft(self, session: Session, pending: dict[str, Any], context: str) -> set[int]:
        row = session.scalars(
            select(m.SessionNote).where(m.SessionNote.appointment_id == pending["appointment"])
        ).first()
        if row is None:  # the note's first save, not committed
            assert pending["note"] is None, context
            return set()
        known = self.expected.notes.get(row.id)
        if known is None:  # the note's first save, committed
            assert pending["note"] is None, context
            assert row.version == 1, context
            known = self.expected.notes[row.id] = NoteState(
                pending["appointment"], 0, NoteStatus.DRAFT.value, {}
            )
        assert row.id == pending["note"] or pending["note"] is None, context
        assert row.version in (known.version, known.version + 1), context
        if row.version == known.version + 1:
            known.version = row.version
            known.sections = {k: v for k, v in pending["sections"].items() if v}
            self.adopted["draft"] += 1
        return {row.id}

    def _settle_sign(self, session: Session, pending: dict[str, Any], context: str) -> set[int]:
        row = session.get_one(m.SessionNote, pending["note"])
        known = self.expected.notes[row.id]
        assert row.version in (known.version, known.version + 1), context
        if row.version == known.version + 1:
            known.version, known.status = row.version, row.status.value
            self.adopted["sign"] += 1
        return {row.id}

    def _settle_assess(self, session: Session, pending: dict[str, Any], context: str) -> set[int]:
        exp = self.expected
        extra = session.scalars(
            select(m.Assessment).where(
                m.Assessment.client_id.is_not(None),
                m.Assessment.id.not_in(list(exp.assessments)),
            )
        ).all()
        if extra:
            assert len(extra) == 1, context
            row = extra[0]
            assert (row.client_id, row.answers) == (pending["client"], pending["answers"]), context
            exp.assessments[row.id] = (row.client_id, row.answers, sum(pending["answers"]))
            if pending["answers"][8] > 0:
                exp.risky_assessments.add(row.id)
            self.adopted["assess"] += 1
        return set()

    def _settle_anonymous(
        self, session: Session, pending: dict[str, Any], context: str
    ) -> set[int]:
        exp = self.expected
        count = session.scalar(select(func.count()).where(m.Assessment.client_id.is_(None)))
        assert count in (exp.anonymous, exp.anonymous + 1), context
        if count == exp.anonymous + 1:
            exp.anonymous += 1
            self.adopted["anonymous"] += 1
        return set()

    def check_rows(self, context: str) -> None:
        """Every committed row is there exactly as logged, and nothing else is."""
        exp = self.expected
        with self.services.db.read() as session:
            appointments = {
                row.id: (row.starts_at, row.client_id, row.status.value)
                for row in session.scalars(select(m.Appointment))
            }
            assert appointments == exp.appointments, context
            notes = {
                row.id: (row.appointment_id, row.version, row.status.value)
                for row in session.scalars(select(m.SessionNote))
            }
            assert notes == {
                k: (n.appointment, n.version, n.status) for k, n in exp.notes.items()
            }, context
            assessments = {
                row.id: (row.client_id, row.answers, row.total)
                for row in session.scalars(
                    select(m.Assessment).where(m.Assessment.client_id.is_not(None))
                )
            }
            assert assessments == {k: (c, a, t) for k, (c, a, t) in exp.assessments.items()}, (
                context
            )
            anonymous = session.scalar(select(func.count()).where(m.Assessment.client_id.is_(None)))
            assert anonymous == exp.anonymous, context

    def check_complete(self, context: str) -> None:
        """No half-written transaction: each row has the rows and audit entries written with it,
        and the audit chain verifies to its head."""
        exp = self.expected
        with self.services.db.read() as session:
            changes = Counter(
                tuple(row)
                for row in session.execute(
                    select(m.AppointmentChange.appointment_id, m.AppointmentChange.kind)
                )
            )
            audit = Counter(
                tuple(row)
                for row in session.execute(
                    select(m.AuditEvent.action, m.AuditEvent.object_ref).where(
                        m.AuditEvent.action.in_(("book", "cancel"))
                    )
                )
            )
            actions = Counter(
                dict(
                    session.execute(
                        select(m.AuditEvent.action, func.count()).group_by(m.AuditEvent.action)
                    ).all()
                )
            )
            unsealed = session.scalar(
                select(func.count()).where(
                    (m.SessionNote.key_version == 0) | (m.SessionNote.body_ciphertext == b"")
                )
            )
            alerts = set(
                session.scalars(
                    select(m.RiskAlert.assessment_id).where(m.RiskAlert.assessment_id.is_not(None))
                )
            )
        cancelled = {k for k, (_s, _c, status) in exp.appointments.items() if status == "cancelled"}
        want_changes = Counter({(k, ChangeKind.CREATED): 1 for k in exp.appointments})
        want_changes.update({(k, ChangeKind.CANCELLED): 1 for k in cancelled})
        assert changes == want_changes, context
        want_audit = Counter({("book", str(k)): 1 for k in exp.appointments})
        want_audit.update({("cancel", str(k)): 1 for k in cancelled})
        assert audit == want_audit, context
        signed = sum(1 for n in exp.notes.values() if n.status != NoteStatus.DRAFT.value)
        assert actions["create_note"] == len(exp.notes), context
        assert actions["sign_note"] == signed, context
        assert actions["record_assessment"] == len(exp.assessments) + exp.anonymous, context
        assert alerts == exp.risky_assessments, context
        assert unsealed == 0, f"{context}: a note row without its sealed text"
        result = self.services.audit.verify()
        assert result.ok, f"{context}: audit chain broken: {result}"

    def check_draft(self, note_id: int, context: str) -> None:
        """The note's latest saved text comes back through the notes service, exactly."""
        known = self.expected.notes[note_id]
        note = self.services.notes.get_note(self.world.counsellor, note_id)
        self.notes_read += 1
        assert (note.version, note.status.value) == (known.version, known.status), context
        assert {k: v for k, v in note.sections.items() if v} == known.sections, (
            f"{context}: note {note_id} does not read back as last saved"
        )


# --- the world the writer works in ----------------------------------------------------------


def _prepare(services: Services) -> tuple[World, list[int]]:
    world = build_world(services)
    set_counsellor_hours(
        services, world.counsellor.user_id, world.station_id, range(5), time(8, 30), time(17)
    )
    with services.db.write() as session:
        more = [
            session.execute(
                insert(m.Client).returning(m.Client.id),
                [
                    {
                        "client_code": f"CRSH-{i:04d}-K",
                        "name": f"来访者{i}",
                        "phone": "",
                        "work_unit": "",
                        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
                    }
                ],
            ).scalar_one()
            for i in range(3)
        ]
    clients = [world.client_id, *more]
    for client in clients:
        give_consent(services, world, ConsentPurpose.COUNSELLING, client_id=client)
        give_consent(services, world, ConsentPurpose.ASSESSMENT, client_id=client)
        services.cases.open_case(
            world.counsellor,
            client_id=client,
            topics={Topic.WORK_STRESS},
            risk_level=RiskLevel.LOW,
        )
    return world, clients


def test_sigkill_never_loses_or_half_writes_a_commit(
    sqlite_services: Services, sqlite_url: str, tmp_path: Path
) -> None:
    services = sqlite_services
    world, clients = _prepare(services)
    db_path = sqlite_path(make_url(sqlite_url))
    assert db_path is not None
    log_path = tmp_path / "writer.log"
    log_path.touch()
    check = CrashCheck(services, world, db_path, log_path)
    check.check_file("before the first run")
    rng = random.Random(SEED)
    ctx = _context()
    base = {
        "url": sqlite_url,
        "log": str(log_path),
        "recovery_code": services.vault.recovery_code(),
        "staff": world.staff,
        "counsellor": world.counsellor,
        "station_id": world.station_id,
        "room_id": world.room_id,
        "clients": clients,
    }
    started = clock_time.monotonic()
    for run in range(KILLS):
        receiver, sender = ctx.Pipe(duplex=False)
        writer = ctx.Process(
            target=crash_writer.run,
            args=({**base, "run": run, "seed": rng.randrange(2**32)}, sender),
            daemon=True,
        )
        writer.start()
        sender.close()
        try:
            if rng.random() >= START_UP_KILLS:
                assert receiver.poll(60), f"run {run}: the writer did not start (seed {SEED})"
                try:
                    receiver.recv()
                except EOFError:
                    check.new_lines()  # fails with the writer's traceback
                    pytest.fail(f"run {run}: the writer died at start-up (seed {SEED})")
            clock_time.sleep(rng.uniform(*(LONG_RUN_S if run % 10 == 9 else DELAY_S)))
            if not writer.is_alive():
                check.new_lines()
                pytest.fail(f"run {run}: the writer stopped by itself (seed {SEED})")
            writer.kill()
            writer.join(30)
            assert writer.exitcode == -signal.SIGKILL, f"run {run}: exit code {writer.exitcode}"
        finally:
            receiver.close()
            if writer.is_alive():
                writer.kill()
                writer.join(30)
        check.after_kill(run)
    elapsed = clock_time.monotonic() - started

    for note_id in sorted(check.expected.notes):  # every draft and signed note, once more
        check.check_draft(note_id, f"at the end (seed {SEED})")
    commits = check.expected.commits
    print(
        f"\ncrash test: {KILLS} kills in {elapsed:.1f} s, seed {SEED}; commits {dict(commits)}; "
        f"kills with a transaction in flight {dict(check.in_flight)}, of which committed "
        f"{dict(check.adopted)}; note texts read back {check.notes_read}; checks took "
        f"{check.seconds:.1f} s"
    )
    # The test means something only if the writer got real work done between the kills, and
    # kills landed in the middle of transactions.
    for op in ("book", "draft", "sign", "assess", "anonymous"):
        assert commits[op] >= 3, f"too few {op} commits: {dict(commits)}"
    assert sum(check.in_flight.values()) >= KILLS // 4, dict(check.in_flight)
