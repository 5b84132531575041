"""The writer process of the crash-safety test: books, cancels, writes and signs session notes and
records assessments through the real services, in a loop, until it is killed.

Before each transaction it appends an intent line to its log (what it is about to do); after the
service call returns it appends a commit line saying what was committed, and fsyncs it. The test
kills the process with SIGKILL at a random moment and compares the database with the log. Every
line is written with one os.write() on an O_APPEND descriptor: a killed process cannot leave half
a line behind (the kernel keeps what was written), and the fsync covers a power cut too.

It takes no Qt and no pytest: the test starts it from a forkserver that has imported this module,
so a new writer costs a fork rather than an interpreter start.
"""

from __future__ import annotations

import json
import os
import random
import string
import sys
import time as clock_time
import traceback
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from carestation.db import models as m
from carestation.db.engine import Database, make_engine
from carestation.domain.assessment_values import AnonymousProfile, FormAnswers
from carestation.domain.booking import BookingDraft, BookingRefused
from carestation.domain.scheduling import day_info
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AgeBand,
    AppointmentStatus,
    AppointmentType,
    CancelReason,
    NoteStatus,
    NoteTemplate,
)
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import Services, build_services
from carestation.services.keys import KeyVault

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)  # the writer's clock: 10:00 in Shanghai
FIRST_DAY = date(2026, 12, 1)
SLOT_HOURS = tuple(range(9, 17))  # 50-minute sessions on the hour, 09:00 to 16:50
SOAP = ("subjective", "objective", "assessment", "plan")
EXIT_FAILED = 3


@dataclass
class FixedClock:
    current: datetime = NOW

    def now(self) -> datetime:
        return self.current


class Log:
    """Appends JSON lines; commit lines are fsync'd before the writer goes on."""

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def write(self, record: dict[str, Any], *, sync: bool) -> None:
        line = json.dumps({**record, "at": round(clock_time.time(), 4)}, ensure_ascii=False)
        os.write(self.fd, (line + "\n").encode("utf-8"))
        if sync:
            os.fsync(self.fd)

    def intent(self, **record: Any) -> None:
        # Only a SIGKILL is simulated between this line and the commit: the page cache keeps it.
        self.write({"kind": "intent", **record}, sync=False)

    def committed(self, **record: Any) -> None:
        self.write({"kind": "commit", **record}, sync=True)


def working_days() -> list[date]:
    """Weekdays from FIRST_DAY on that are not public holidays, for three years."""
    days, day = [], FIRST_DAY
    while day < FIRST_DAY + timedelta(days=3 * 365):
        if day.weekday() < 5 and not day_info(day).is_day_off:
            days.append(day)
        day += timedelta(days=1)
    return days


WORKING_DAYS: list[date] = []


def slot_start(index: int) -> datetime:
    """The index-th slot: SLOT_HOURS on each working day from FIRST_DAY."""
    per_day = len(SLOT_HOURS)
    day = WORKING_DAYS[index // per_day]
    return datetime.combine(day, time(SLOT_HOURS[index % per_day]), tzinfo=SH)


def slot_index(start: datetime) -> int:
    local = start.astimezone(SH)
    return WORKING_DAYS.index(local.date()) * len(SLOT_HOURS) + SLOT_HOURS.index(local.hour)


def draft_text(rng: random.Random, run: int, step: int) -> dict[str, str]:
    """Sections of a draft: unique, mixed scripts, now and then long enough to span pages."""
    words = ["来访者", "情绪", "压力", "睡眠", "工作", "沟通", "计划", "呼吸练习", "复诊"]

    def section(name: str) -> str:
        size = rng.choice((1, 3, 8, 40)) if rng.random() < 0.9 else rng.randint(400, 2500)
        body = "".join(rng.choice(words) for _ in range(size))
        tag = "".join(rng.choice(string.ascii_letters) for _ in range(6))
        return f"{name} r{run}s{step} {tag} {body}"

    return {name: section(name) for name in SOAP if rng.random() < 0.85 or name == "subjective"}


class Writer:
    def __init__(self, config: dict[str, Any], services: Services, log: Log) -> None:
        self.c = config
        self.s = services
        self.log = log
        self.rng = random.Random(config["seed"])
        self.run = int(config["run"])
        self.staff: Actor = config["staff"]
        self.counsellor: Actor = config["counsellor"]
        self.step = 0

    # --- state from the database (the truth after a crash) ----------------------------------

    def _next_slot(self) -> int:
        with self.s.db.read() as session:
            last = session.scalar(
                select(m.Appointment.starts_at)
                .where(m.Appointment.counsellor_id == self.counsellor.user_id)
                .order_by(m.Appointment.starts_at.desc())
                .limit(1)
            )
        return 0 if last is None else slot_index(last) + 1

    def _open_draft(self) -> m.SessionNote | None:
        with self.s.db.read() as session:
            return session.scalars(
                select(m.SessionNote)
                .where(
                    m.SessionNote.author_id == self.counsellor.user_id,
                    m.SessionNote.status == NoteStatus.DRAFT,
                )
                .order_by(m.SessionNote.id)
                .limit(1)
            ).first()

    def _unnoted_appointment(self, *, oldest: bool = False) -> int | None:
        with self.s.db.read() as session:
            noted = select(m.SessionNote.appointment_id)
            return session.scalar(
                select(m.Appointment.id)
                .where(
                    m.Appointment.counsellor_id == self.counsellor.user_id,
                    m.Appointment.status == AppointmentStatus.BOOKED,
                    m.Appointment.id.not_in(noted),
                )
                .order_by(m.Appointment.id if oldest else m.Appointment.id.desc())
                .limit(1)
            )

    # --- the actions --------------------------------------------------------------------------

    def book(self) -> None:
        index = self._next_slot()
        for _attempt in range(40):  # a refusal is not expected: the slots avoid holidays
            start = slot_start(index)
            client = self.c["clients"][index % len(self.c["clients"])]
            self.log.intent(op="book", start=start.isoformat(), client=client)
            draft = BookingDraft(
                type=AppointmentType.COUNSELLING,
                station_id=self.c["station_id"],
                starts_at=start,
                client_id=client,
                counsellor_id=self.counsellor.user_id,
                room_id=self.c["room_id"],
                override_reason="crash test",
            )
            try:
                row = self.s.booking.book(actor=self.staff, draft=draft)
            except BookingRefused:
                self.log.committed(op="refused", start=start.isoformat())
                index += 1
                continue
            self.log.committed(
                op="book",
                id=row.id,
                start=start.isoformat(),
                client=client,
                status=row.status.value,
            )
            return
        raise RuntimeError(f"no free slot found from slot {index}")

    def cancel(self) -> None:
        appointment_id = self._unnoted_appointment(oldest=True)
        if appointment_id is None:
            self.book()
            return
        self.log.intent(op="cancel", id=appointment_id)
        self.s.booking.cancel(
            actor=self.staff, appointment_id=appointment_id, reason=CancelReason.CLIENT
        )
        self.log.committed(op="cancel", id=appointment_id)

    def note(self) -> None:
        self.step += 1
        draft = self._open_draft()
        if draft is None:
            appointment_id = self._unnoted_appointment()
            if appointment_id is None:
                self.book()
                return
            sections = draft_text(self.rng, self.run, self.step)
            self.log.intent(op="draft", appointment=appointment_id, note=None, sections=sections)
            note = self.s.notes.save_draft(
                self.counsellor,
                appointment_id=appointment_id,
                template=NoteTemplate.SOAP,
                sections=sections,
                expected_version=None,
            )
        else:
            # Reopened as the note editor does after a crash: the saved draft, then go on.
            saved = self.s.notes.get_note(self.counsellor, draft.id)
            if self.rng.random() < 0.3:
                self.log.intent(op="sign", note=saved.id, version=saved.version)
                signed = self.s.notes.sign(
                    self.counsellor, saved.id, expected_version=saved.version
                )
                self.log.committed(
                    op="sign", note=signed.id, version=signed.version, status=signed.status.value
                )
                return
            sections = draft_text(self.rng, self.run, self.step)
            self.log.intent(
                op="draft", appointment=saved.appointment_id, note=saved.id, sections=sections
            )
            note = self.s.notes.save_draft(
                self.counsellor,
                appointment_id=saved.appointment_id,
                template=NoteTemplate.SOAP,
                sections=sections,
                expected_version=saved.version,
            )
        self.log.committed(
            op="draft",
            appointment=note.appointment_id,
            note=note.id,
            version=note.version,
            sections={k: v for k, v in note.sections.items() if v},
        )

    def assess(self) -> None:
        client = self.rng.choice(self.c["clients"])
        answers = [self.rng.randint(0, 3) for _ in range(8)]
        # Now and then item 9 is answered: a risk alert and a crisis flag in the same commit.
        answers.append(1 if self.rng.random() < 0.1 else 0)
        self.log.intent(op="assess", client=client, answers=answers)
        recorded = self.s.assessments.record_in_session(
            self.counsellor,
            client_id=client,
            form=FormAnswers("phq9", tuple(answers), extra_answers=(("10", 1),)),
        )
        self.log.committed(
            op="assess",
            id=recorded.assessment_id,
            client=client,
            answers=answers,
            total=recorded.score.total,
        )

    def anonymous(self) -> None:
        answers = [self.rng.randint(0, 3) for _ in range(7)]
        self.log.intent(op="anonymous", answers=answers)
        self.s.assessments.record_anonymous(
            self.staff,
            forms=[FormAnswers("gad7", tuple(answers))],
            profile=AnonymousProfile(age_band=self.rng.choice(list(AgeBand))),
        )
        self.log.committed(op="anonymous", answers=answers)

    def loop(self) -> None:
        actions = (
            (0.30, self.book),
            (0.05, self.cancel),
            (0.40, self.note),
            (0.17, self.assess),
            (0.08, self.anonymous),
        )
        while True:
            roll = self.rng.random()
            for weight, action in actions:
                if roll < weight:
                    action()
                    break
                roll -= weight


def warm_up() -> None:
    """What every writer would otherwise load on its first booking (the holiday calendar costs a
    third of a second): done once, in the forkserver that imports this module."""
    WORKING_DAYS[:] = working_days()


warm_up()


def open_services(config: dict[str, Any]) -> Services:
    """Another process is another PC: it has the database's key only through the recovery code."""
    db = Database(make_engine(config["url"]))
    vault = KeyVault(db, MemorySecretStore())
    vault.unlock_with_recovery_code(config["recovery_code"])
    return build_services(db, FixedClock(), vault=vault)


def run(config: dict[str, Any], ready: Any = None) -> None:
    """The process's target: `ready` (a pipe end) is told when the loop starts."""
    log = Log(config["log"])
    try:
        services = open_services(config)
        writer = Writer(config, services, log)
        if ready is not None:
            ready.send(True)
        writer.loop()
    except BaseException:
        log.write({"kind": "error", "traceback": traceback.format_exc()}, sync=True)
        sys.stderr.write(traceback.format_exc())
        os._exit(EXIT_FAILED)
