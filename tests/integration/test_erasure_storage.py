"""Reference test 15: after erasing a client with a canary, the canary is in neither the SQLite
file nor its -wal, and a backup taken before the erasure cannot decrypt the client's note with
the live key vault (the client's data key was destroyed)."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from carestation.db import models as m
from carestation.domain.errors import KeyUnavailable
from carestation.domain.vocab import AppointmentStatus, NoteStatus, NoteTemplate
from carestation.services.client_rights import ClientRightsService
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import add_appointment, build_world

CANARY_NAME = "甄鸾鸟"
CANARY_PHONE = "13987654321"
CANARY_WORK_UNIT = "金丝雀测试有限公司"
CANARY_NOTE = "CANARY-NOTE 甄鸾鸟说她最近睡不着"


def needles() -> dict[str, bytes]:
    return {
        "name utf-8": CANARY_NAME.encode("utf-8"),
        "name utf-16-le": CANARY_NAME.encode("utf-16-le"),
        "name utf-16-be": CANARY_NAME.encode("utf-16-be"),
        "phone": CANARY_PHONE.encode("ascii"),
        "phone utf-16-le": CANARY_PHONE.encode("utf-16-le"),
        "work unit": CANARY_WORK_UNIT.encode("utf-8"),
    }


def stored_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    wal = Path(f"{path}-wal")
    if wal.exists():
        data += wal.read_bytes()
    return data


def found(data: bytes) -> list[str]:
    return [label for label, needle in needles().items() if needle in data]


def test_erasure_leaves_no_canary_on_disk_and_shreds_old_backups(
    sqlite_services: Services, sqlite_url: str, clock: FakeClock, tmp_path: Path
) -> None:
    services = sqlite_services
    path = Path(sqlite_url.removeprefix("sqlite:///"))
    world = build_world(services)
    # Another connection stays open, as on a station PC where the app and a backup job run: then
    # SQLite keeps its -wal file instead of folding it in when the last connection closes.
    keeper = sqlite3.connect(path)
    keeper.execute("SELECT count(*) FROM client").fetchall()
    with services.db.write() as session:
        client = session.get(m.Client, world.client_id)
        client.name, client.phone, client.work_unit = CANARY_NAME, CANARY_PHONE, CANARY_WORK_UNIT
    appointment = add_appointment(
        services,
        world,
        datetime(2026, 11, 20, 2, 0, tzinfo=UTC),
        datetime(2026, 11, 20, 2, 50, tzinfo=UTC),
        status=AppointmentStatus.COMPLETED,
    )
    with services.db.write() as session:
        note = m.SessionNote(
            appointment_id=appointment,
            author_id=world.counsellor.user_id,
            template=NoteTemplate.FREE,
            body_ciphertext=b"",
            key_version=0,
            status=NoteStatus.FINAL,
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(note)
        session.flush()
        note.body_ciphertext, note.key_version = services.vault.seal(
            session,
            world.client_id,
            json.dumps({"text": CANARY_NOTE}, ensure_ascii=False),
            table="session_note",
            column="body",
            row_id=note.id,
        )
        note_id = note.id
    # The note text is encrypted: never on disk in plain text, even before the erasure.
    assert CANARY_NOTE.encode() not in stored_bytes(path)
    # The identity is, until erased, in the -wal too (so this test can fail).
    assert set(found(stored_bytes(path))) >= {"name utf-8", "phone", "work unit"}
    assert set(found(Path(f"{path}-wal").read_bytes())) >= {"name utf-8", "phone", "work unit"}

    backup_path = tmp_path / "before-erasure.db"
    with sqlite3.connect(path) as live, sqlite3.connect(backup_path) as backup:
        live.backup(backup)
    live.close()
    backup.close()

    rights = ClientRightsService(services.db, services.audit, clock, services.vault)
    report = rights.erase(world.admin, client_id=world.client_id, request_ref="2026-REQ-15")
    assert report.notes == 1
    assert report.keys == 1
    assert report.checkpointed

    assert found(stored_bytes(path)) == []
    assert found(path.read_bytes()) == []
    wal = Path(f"{path}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # folded in and truncated
    keeper.close()

    # The backup still holds the note's ciphertext (and the identity: backups must be kept
    # safe), but the live vault no longer has the client's key to open it.
    with sqlite3.connect(backup_path) as old:
        blob, version = old.execute(
            "SELECT body_ciphertext, key_version FROM session_note WHERE id = ?", (note_id,)
        ).fetchone()
    old.close()
    assert blob
    with services.db.read() as session, pytest.raises(KeyUnavailable):
        services.vault.open(
            session,
            world.client_id,
            blob,
            table="session_note",
            column="body",
            row_id=note_id,
            key_version=version,
        )
