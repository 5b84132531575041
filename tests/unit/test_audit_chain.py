"""The audit trail is tamper-evident: an HMAC chain keyed outside the database."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from carestation.cli import main
from carestation.db import models as m
from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.domain.errors import KeyUnavailable
from carestation.security import secret_store
from carestation.security.secret_store import MemorySecretStore
from carestation.services.audit import AuditLog
from carestation.services.container import Services, build_services
from carestation.services.keys import KeyVault
from tests.factories import build_world


def _some_entries(services: Services, count: int = 6) -> None:
    for n in range(count):
        services.audit.record_now(actor=None, action="sign_in", username=f"u{n}", result="failed")


def _rows(services: Services) -> list[m.AuditEvent]:
    with services.db.read() as session:
        return list(session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.seq)))


def test_every_entry_is_sealed_in_one_unbroken_order(services: Services) -> None:
    build_world(services)
    _some_entries(services)
    rows = _rows(services)
    assert rows, "the world's set-up writes audit entries"
    assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
    assert all(len(r.mac) == 64 for r in rows)
    assert len({r.mac for r in rows}) == len(rows)
    result = services.audit.verify()
    assert result.ok, result
    assert result.checked == len(rows)


@pytest.mark.parametrize(
    ("statement", "reason_part"),
    [
        ("UPDATE audit_event SET detail = 'edited' WHERE seq = 3", "changed"),
        ("UPDATE audit_event SET username = 'someone_else' WHERE seq = 3", "changed"),
        ("UPDATE audit_event SET result = 'ok' WHERE seq = 3", "changed"),
        ("DELETE FROM audit_event WHERE seq = 3", "missing"),
    ],
)
def test_a_row_changed_by_hand_breaks_the_chain_at_that_row(
    services: Services, statement: str, reason_part: str
) -> None:
    _some_entries(services)
    target = next(r for r in _rows(services) if r.seq == 3)
    with services.db.write() as session:
        session.execute(text(statement))
    result = services.audit.verify()
    assert not result.ok
    assert result.broken_seq in (3, 4)
    if reason_part == "changed":
        assert result.broken_id == target.id
    assert reason_part in result.reason
    assert result.checked == 2  # entries 1 and 2 are still known good


def test_swapping_two_entries_is_caught(services: Services) -> None:
    _some_entries(services)
    with services.db.write() as session:
        session.execute(text("UPDATE audit_event SET seq = -1 WHERE seq = 2"))
        session.execute(text("UPDATE audit_event SET seq = 2 WHERE seq = 4"))
        session.execute(text("UPDATE audit_event SET seq = 4 WHERE seq = -1"))
    assert not services.audit.verify().ok


def test_removing_the_newest_entries_is_caught(services: Services) -> None:
    _some_entries(services)
    with services.db.write() as session:
        last = session.scalar(select(m.AuditEvent.seq).order_by(m.AuditEvent.seq.desc()).limit(1))
        session.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": last})
    result = services.audit.verify()
    assert not result.ok
    assert "end" in result.reason


def test_an_entry_inserted_by_sql_is_caught(services: Services) -> None:
    _some_entries(services)
    with services.db.write() as session:
        session.execute(
            text(
                "INSERT INTO audit_event (occurred_at, username, role, action, object_type, "
                "object_ref, result, detail, mac) VALUES (CURRENT_TIMESTAMP, 'x', '', 'sign_in', "
                "'', '', 'ok', '', '')"
            )
        )
    result = services.audit.verify()
    assert not result.ok
    assert "seal" in result.reason


def test_recomputing_with_a_key_of_ones_own_does_not_hide_an_edit(services: Services) -> None:
    """The point of a keyed MAC: whoever can write the database but lacks the key cannot forge."""
    _some_entries(services)
    forger = AuditLog(services.db, vault=KeyVault(services.db, MemorySecretStore()))
    forger_key = b"\x01" * 32
    with services.db.write() as session:
        rows = list(session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.seq)))
        rows[2].detail = "edited"
        from carestation.services.audit import entry_mac

        prev = rows[1].mac
        for row in rows[2:]:
            row.mac = entry_mac(forger_key, row, prev)
            prev = row.mac
        head = session.get(m.AuditChain, 1)
        assert head is not None
        head.mac = prev
    del forger
    result = services.audit.verify()
    assert not result.ok
    assert result.broken_seq == 3


def test_entries_written_in_a_rolled_back_transaction_leave_no_gap(services: Services) -> None:
    _some_entries(services, 2)

    def failing_work() -> None:
        with services.db.write() as session:
            services.audit.record(session, actor=None, action="sign_in", username="gone")
            raise RuntimeError("the work failed")

    with pytest.raises(RuntimeError):
        failing_work()
    _some_entries(services, 2)
    assert services.audit.verify().ok
    assert "gone" not in {r.username for r in _rows(services)}


def test_nothing_is_written_while_the_key_is_locked(sqlite_url: str) -> None:
    engine, _r = open_database(sqlite_url)
    db = Database(engine)
    vault = KeyVault(db, MemorySecretStore())
    vault.set_up()
    vault.lock()
    services = build_services(db, vault=KeyVault(db, None))
    with pytest.raises(KeyUnavailable):
        services.audit.record_now(actor=None, action="sign_in", username="x")
    with db.read() as session:
        assert session.scalar(select(m.AuditEvent.id).limit(1)) is None
    engine.dispose()


def test_cli_audit_verify_passes_then_fails_after_an_edit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'a.db'}"
    engine, _r = open_database(url)
    db = Database(engine)
    store = MemorySecretStore()
    monkeypatch.setattr(secret_store, "open_os_store", lambda: store)
    services = build_services(db, vault=KeyVault(db, store))
    services.vault.set_up()
    build_world(services)
    engine.dispose()

    assert main(["--lang", "en", "audit", "verify", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "intact" in out

    engine, _r = open_database(url)
    with engine.begin() as conn:
        target = conn.execute(text("SELECT id FROM audit_event WHERE seq = 2")).scalar_one()
        conn.execute(text("UPDATE audit_event SET action = 'view_audit' WHERE seq = 2"))
    engine.dispose()
    assert main(["--lang", "en", "audit", "verify", "--db", url]) == 2
    err = capsys.readouterr().err
    assert f"entry id {target}" in err
    assert "changed" in err


def test_cli_audit_verify_without_the_key_says_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'b.db'}"
    engine, _r = open_database(url)
    db = Database(engine)
    KeyVault(db, MemorySecretStore()).set_up()  # a key this PC's store does not have
    engine.dispose()
    assert main(["--lang", "en", "audit", "verify", "--db", url]) == 1
    err = capsys.readouterr().err
    assert err.startswith("carestation: ")
    assert "recovery code" in err
