"""The key-encryption key: where it lives, how it is unlocked, and per-client data keys."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.domain.errors import KeyUnavailable, ValidationError
from carestation.security import crypto
from carestation.security.keys import BadRecoveryCode, key_from_recovery_code, recovery_code
from carestation.security.secret_store import MemorySecretStore
from carestation.services.keys import KeyState, KeyVault

PASSPHRASE = "zhuji station key 2026"


@pytest.fixture
def db(sqlite_url: str) -> Iterator[Database]:
    engine, _r = open_database(sqlite_url)
    yield Database(engine)
    engine.dispose()


def _client(db: Database) -> int:
    from datetime import UTC, datetime

    with db.write() as session:
        row = m.Client(client_code="TEST-0001", name="x", created_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        return row.id


def test_a_new_database_has_no_key_until_set_up(db: Database) -> None:
    vault = KeyVault(db, MemorySecretStore())
    assert vault.state() is KeyState.NOT_SET_UP
    with pytest.raises(KeyUnavailable):
        _ = vault.kek
    vault.set_up()
    assert vault.state() is KeyState.UNLOCKED


def test_the_key_is_kept_in_the_store_and_never_in_the_database(
    db: Database, sqlite_url: str
) -> None:
    store = MemorySecretStore()
    vault = KeyVault(db, store)
    vault.set_up()
    kek = vault.kek
    install = vault.install_id()
    assert store.get(f"kek-{install}") == kek
    with db.read() as session:
        values = [v for (v,) in session.execute(select(m.Meta.value))]
    assert not any(kek.hex() in v or kek in v.encode() for v in values)
    raw = Path(sqlite_url.removeprefix("sqlite:///")).read_bytes()
    assert kek not in raw
    # Another start of the app on this PC unlocks from the store without asking.
    again = KeyVault(db, store)
    assert again.state() is KeyState.LOCKED
    assert again.try_unlock()
    assert again.kek == kek


def test_without_a_secure_store_a_passphrase_is_required(db: Database) -> None:
    vault = KeyVault(db, None)
    with pytest.raises(ValidationError) as exc:
        vault.set_up()
    assert "passphrase" in exc.value.errors
    with pytest.raises(ValidationError):
        vault.set_up(passphrase="too short")
    vault.set_up(passphrase=PASSPHRASE)
    kek = vault.kek

    later = KeyVault(db, None)
    assert later.state() is KeyState.LOCKED
    assert not later.try_unlock()
    with pytest.raises(KeyUnavailable) as wrong:
        later.unlock_with_passphrase("not the passphrase at all")
    assert "passphrase" in str(wrong.value)
    later.unlock_with_passphrase(PASSPHRASE)
    assert later.kek == kek


def test_the_recovery_code_restores_the_key_on_another_pc(db: Database) -> None:
    first = KeyVault(db, MemorySecretStore())
    first.set_up()
    code = first.recovery_code()
    assert len(code.split("-")) == 11

    second_pc_store = MemorySecretStore()
    second = KeyVault(db, second_pc_store)
    assert not second.try_unlock()
    # Typed with lower case, spaces instead of dashes: still accepted.
    second.unlock_with_recovery_code(code.lower().replace("-", " "))
    assert second.kek == first.kek
    assert second_pc_store.get(f"kek-{second.install_id()}") == first.kek
    third = KeyVault(db, second_pc_store)
    assert third.try_unlock()


def test_a_mistyped_or_foreign_recovery_code_is_refused(db: Database) -> None:
    vault = KeyVault(db, MemorySecretStore())
    vault.set_up()
    code = vault.recovery_code()
    typo = ("B" if code[0] != "B" else "C") + code[1:]
    with pytest.raises(BadRecoveryCode):
        key_from_recovery_code(typo)
    foreign = recovery_code(crypto.new_key())
    other = KeyVault(db, MemorySecretStore())
    with pytest.raises(KeyUnavailable) as exc:
        other.unlock_with_recovery_code(foreign)
    assert "another database" in str(exc.value)
    assert not other.is_unlocked


def test_recovery_code_round_trip() -> None:
    key = crypto.new_key()
    assert key_from_recovery_code(recovery_code(key)) == key


def test_data_keys_are_per_client_wrapped_and_destroyed_on_erasure(db: Database) -> None:
    vault = KeyVault(db, MemorySecretStore())
    vault.set_up()
    client = _client(db)
    with db.write() as session:
        blob, version = vault.seal(
            session, client, "会谈记录", table="session_note", column="body", row_id=7
        )
    with db.read() as session:
        row = session.get(m.ClientKey, (client, version))
        assert row is not None
        assert len(row.wrapped_key) == 40  # AES key wrap of 32 bytes
        assert (
            vault.open(
                session,
                client,
                blob,
                table="session_note",
                column="body",
                row_id=7,
                key_version=version,
            )
            == "会谈记录"
        )
        with pytest.raises(crypto.TamperedCiphertext):
            vault.open(
                session,
                client,
                blob,
                table="session_note",
                column="body",
                row_id=8,
                key_version=version,
            )
    with db.write() as session:
        assert vault.destroy_client_keys(session, client) == 1
    with db.read() as session, pytest.raises(KeyUnavailable):
        vault.open(
            session, client, blob, table="session_note", column="body", row_id=7, key_version=1
        )


def test_a_wrong_key_encryption_key_never_opens_a_data_key(db: Database) -> None:
    vault = KeyVault(db, MemorySecretStore())
    vault.set_up()
    client = _client(db)
    with db.write() as session:
        vault.data_key(session, client)
    with db.read() as session:
        wrapped = session.get(m.ClientKey, (client, 1))
        assert wrapped is not None
        with pytest.raises(crypto.WrongKey):
            crypto.unwrap(crypto.new_key(), wrapped.wrapped_key)


def test_audit_entries_from_before_the_key_are_sealed_when_it_is_set_up(db: Database) -> None:
    from datetime import UTC, datetime

    from carestation.services.audit import AuditLog

    with db.write() as session:
        for n in range(3):
            session.add(
                m.AuditEvent(
                    occurred_at=datetime.now(UTC),
                    username=f"old{n}",
                    action="sign_in",
                    result="ok",
                )
            )
    vault = KeyVault(db, MemorySecretStore())
    audit = AuditLog(db, vault=vault)
    vault.set_up()
    audit.record_now(actor=None, action="sign_in", username="new")
    result = audit.verify()
    assert result.ok
    assert result.checked == 4
