"""What a session note leaves on disk (SQLite): never its text, in the database file or in its
write-ahead log, before or after a checkpoint. A ciphertext moved to another row, or read with
another database's key, fails with a clear message and is left as it was."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from carestation.db import models as m
from carestation.db.engine import sqlite_path
from carestation.domain.errors import KeyUnavailable
from carestation.domain.vocab import CaseOutcome, CounsellorKind, NoteTemplate, RiskLevel, Topic
from carestation.security import crypto
from carestation.security import keys as key_codes
from carestation.security.secret_store import MemorySecretStore
from carestation.services.cases import CaseService
from carestation.services.container import Services
from carestation.services.keys import KeyVault
from carestation.services.notes import NoteService
from tests.conftest import FakeClock
from tests.factories import World, add_appointment, add_counsellor, build_world, give_consent

CANARY_ZH = "金丝雀测试文本-7Q4"
CANARY_ASCII = "CANARY-ascii-Zx81-note"
CANARY_ADDENDUM = "补充金丝雀-K9P2"
CONTROL = "对照明文-PLAIN-3M5"  # stored in clear on purpose: proves the scan can find text
T0 = datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def encodings(text: str) -> list[bytes]:
    return [text.encode(e) for e in ("utf-8", "utf-16-le", "utf-16-be")]


def found_in(data: bytes, text: str) -> bool:
    return any(needle in data for needle in encodings(text))


class Stage:
    def __init__(self, services: Services, clock: FakeClock, url: str) -> None:
        self.services = services
        self.clock = clock
        path = sqlite_path(make_url(url))
        assert path is not None
        self.path: Path = path
        self.world: World = build_world(services)
        self.author = add_counsellor(
            services, self.world, "c009", "欧阳专家", CounsellorKind.EXPERT
        )
        give_consent(services, self.world)
        self.cases = CaseService(services.db, services.audit, clock, services.vault)
        self.notes = NoteService(services.db, services.audit, clock, services.vault)
        self.case = self.cases.open_case(
            self.author,
            client_id=self.world.client_id,
            topics={Topic.WORK_STRESS},
            risk_level=RiskLevel.LOW,
        )

    def appointment(self, days: int) -> int:
        start = T0 + timedelta(days=days)
        return add_appointment(
            self.services,
            self.world,
            start,
            start + timedelta(minutes=50),
            counsellor_id=self.author.user_id,
        )

    def note(self, text: str, days: int = 0) -> int:
        note = self.notes.save_draft(
            self.author,
            appointment_id=self.appointment(days),
            template=NoteTemplate.SOAP,
            sections={"subjective": text, "plan": f"{text} / {CANARY_ASCII}"},
            expected_version=None,
        )
        return note.id

    def raw(self, note_id: int) -> m.SessionNote:
        with self.services.db.read() as session:
            return session.get_one(m.SessionNote, note_id)

    def files(self) -> dict[str, bytes]:
        wal = self.path.with_name(self.path.name + "-wal")
        return {
            "db": self.path.read_bytes(),
            "wal": wal.read_bytes() if wal.exists() else b"",
        }


@pytest.fixture
def stage(sqlite_services: Services, sqlite_url: str, clock: FakeClock) -> Stage:
    return Stage(sqlite_services, clock, sqlite_url)


@pytest.fixture
def wal_holder(stage: Stage) -> Iterator[sqlite3.Connection]:
    """Keeps one connection open, so the last service connection closing does not checkpoint
    and delete the write-ahead log before the test reads it."""
    conn = sqlite3.connect(stage.path)
    conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    yield conn
    conn.close()


def test_no_note_text_on_disk_before_or_after_a_checkpoint(
    stage: Stage, wal_holder: sqlite3.Connection
) -> None:
    note_id = stage.note(CANARY_ZH)
    for _ in range(3):  # autosaves rewrite the row: no plain copy in any old page either
        version = stage.raw(note_id).version
        with stage.services.db.read() as session:
            appointment_id = session.get_one(m.SessionNote, note_id).appointment_id
        stage.notes.save_draft(
            stage.author,
            appointment_id=appointment_id,
            template=NoteTemplate.SOAP,
            sections={"subjective": CANARY_ZH, "plan": f"{CANARY_ZH} / {CANARY_ASCII}"},
            expected_version=version,
        )
    stage.notes.sign(stage.author, note_id, expected_version=stage.raw(note_id).version)
    stage.notes.add_addendum(stage.author, note_id, f"{CANARY_ADDENDUM} {CANARY_ASCII}")
    stage.notes.save_draft(
        stage.author,
        appointment_id=stage.appointment(1),
        template=NoteTemplate.FREE,
        sections={"text": CANARY_ZH},
        expected_version=None,
    )
    stage.cases.close_case(
        stage.author,
        stage.case.id,
        outcome=CaseOutcome.IMPROVED,
        summary=f"结案 {CANARY_ZH}",
        expected_version=stage.case.version,
    )
    # The control: text the app does keep in clear (a client's work unit) is found by the scan.
    with stage.services.db.write() as session:
        session.execute(
            update(m.Client).where(m.Client.id == stage.world.client_id).values(work_unit=CONTROL)
        )
    # Reading them back works (and is audited), so they really were written.
    note = stage.notes.get_note(stage.author, note_id)
    assert note.sections["subjective"] == CANARY_ZH
    assert note.addenda[0].text.startswith(CANARY_ADDENDUM)

    before = stage.files()
    assert before["wal"], "the write-ahead log should still hold the recent transactions"
    assert found_in(before["db"] + before["wal"], CONTROL)
    for canary in (CANARY_ZH, CANARY_ASCII, CANARY_ADDENDUM):
        for name, data in before.items():
            assert not found_in(data, canary), f"{canary!r} found in the {name} file"

    busy, _log, _done = wal_holder.execute("PRAGMA wal_checkpoint(FULL)").fetchone()
    assert busy == 0
    after = stage.files()
    assert found_in(after["db"], CONTROL)  # the checkpoint copied the pages into the file
    for canary in (CANARY_ZH, CANARY_ASCII, CANARY_ADDENDUM):
        for name, data in after.items():
            assert not found_in(data, canary), f"{canary!r} found in the {name} file"


def test_a_ciphertext_moved_to_another_row_fails_clearly(stage: Stage) -> None:
    first = stage.note(CANARY_ZH, days=0)
    second = stage.note("第二次会谈", days=1)
    moved = stage.raw(first).body_ciphertext
    with stage.services.db.write() as session:
        session.execute(
            update(m.SessionNote).where(m.SessionNote.id == second).values(body_ciphertext=moved)
        )
    with pytest.raises(crypto.TamperedCiphertext) as exc:
        stage.notes.get_note(stage.author, second)
    message = str(exc.value)
    assert "failed its integrity check: it was changed or moved" in message
    assert CANARY_ZH not in message
    # The original still opens where it belongs, and nothing was rewritten.
    assert stage.notes.get_note(stage.author, first).sections["subjective"] == CANARY_ZH
    assert stage.raw(second).body_ciphertext == moved
    with stage.services.db.read() as session:
        failed = session.scalars(select(m.AuditEvent).where(m.AuditEvent.result == "failed")).all()
    assert [(e.action, e.username, e.object_ref) for e in failed] == [
        ("view_note", "c009", "ABCD-EFGH-1")
    ]
    # An addendum's ciphertext put in the note's place fails the same way.
    stage.notes.sign(stage.author, first, expected_version=stage.raw(first).version)
    stage.notes.add_addendum(stage.author, first, CANARY_ADDENDUM)
    with stage.services.db.write() as session:
        blob = session.scalars(select(m.NoteAddendum.body_ciphertext)).one()
        session.execute(
            update(m.SessionNote).where(m.SessionNote.id == second).values(body_ciphertext=blob)
        )
    with pytest.raises(crypto.TamperedCiphertext):
        stage.notes.get_note(stage.author, second)


def test_another_databases_key_fails_clearly_and_changes_nothing(
    stage: Stage, monkeypatch: pytest.MonkeyPatch
) -> None:
    note_id = stage.note(CANARY_ZH)
    stored = stage.raw(note_id)
    # A vault unlocked with some other database's recovery code (the check value, which would
    # normally refuse it, is bypassed: this is the PC that restored the wrong key).
    wrong = KeyVault(stage.services.db, MemorySecretStore(), auto_create=False)
    with monkeypatch.context() as patch:
        patch.setattr(key_codes, "matches", lambda kek, check: True)
        wrong.unlock_with_recovery_code(key_codes.recovery_code(crypto.new_key()), remember=False)
    notes = NoteService(stage.services.db, stage.services.audit, stage.clock, wrong)
    with pytest.raises(crypto.WrongKey) as exc:
        notes.get_note(stage.author, note_id)
    assert "recovery code" in str(exc.value)
    assert CANARY_ZH not in str(exc.value)
    with pytest.raises(crypto.WrongKey):
        notes.save_draft(
            stage.author,
            appointment_id=stored.appointment_id,
            template=NoteTemplate.SOAP,
            sections={"subjective": "用错误的钥匙覆盖"},
            expected_version=stored.version,
        )
    after = stage.raw(note_id)
    assert (after.body_ciphertext, after.key_version, after.version) == (
        stored.body_ciphertext,
        stored.key_version,
        stored.version,
    )
    stage.notes.sign(stage.author, note_id, expected_version=stored.version)
    signed = stage.raw(note_id)
    with pytest.raises(crypto.WrongKey):
        notes.add_addendum(stage.author, note_id, "错误钥匙的补充")
    with stage.services.db.read() as session:
        assert session.scalars(select(m.NoteAddendum)).all() == []
        failed = session.scalars(
            select(m.AuditEvent.action).where(m.AuditEvent.result == "failed")
        ).all()
    assert failed == ["view_note"]
    assert stage.raw(note_id).body_ciphertext == signed.body_ciphertext
    # The right key still reads it.
    assert stage.notes.get_note(stage.author, note_id).sections["subjective"] == CANARY_ZH
    # A locked vault says so, and also changes nothing.
    wrong.lock()
    with pytest.raises(KeyUnavailable, match="locked on this PC"):
        notes.get_note(stage.author, note_id)
