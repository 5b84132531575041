"""The key vault: unlocks the key-encryption key (KEK) and hands out clients' data keys.

The KEK is random, made once per database, and kept outside it:
- in the OS keyring of each station PC, under this database's install id, or
- on a PC without a trusted keyring, wrapped by a key derived from a passphrase the
  administrator types at start (the wrapped form is in the database; the passphrase is not).
A database holds only a keyed check value that recognises the right KEK. The recovery code is
the KEK itself, written down once, to restore it or enrol another PC.

A data key per client is stored wrapped by the KEK (`client_key`); erasing the client deletes
that row, so nothing encrypted under it can be read from this database again. A backup made
before the erasure still holds the wrapped key: it can be read only with the KEK (the recovery
code); the erasure is recorded in the audit trail by the client's old code, which finds the rows
to erase again in a restored copy (see docs/confidential-records.md).
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.db.engine import Database
from carestation.domain.errors import KeyUnavailable, ValidationError
from carestation.i18n import _
from carestation.security import crypto, keys
from carestation.security.secret_store import (
    PASSPHRASE_MIN,
    SecretStore,
    key_from_passphrase,
)
from carestation.services.clock import Clock, SystemClock

META_INSTALL_ID = "install_id"
META_CHECK = "kek_check"
META_PASSPHRASE = "kek_passphrase"
META_DEMO = "demo_kek"
META_CODE_SHOWN = "recovery_code_shown_at"


class KeyState(StrEnum):
    NOT_SET_UP = "not_set_up"  # no KEK yet: a new database, or one from before revision 0003
    LOCKED = "locked"  # a KEK exists but this PC does not have it (yet)
    UNLOCKED = "unlocked"


def _locked_message() -> str:
    return _(
        "Protected records are locked on this PC. Restart CareStation and unlock them with the "
        "passphrase or the recovery code."
    )


class KeyVault:
    def __init__(
        self,
        db: Database,
        secrets: SecretStore | None,
        *,
        clock: Clock | None = None,
        auto_create: bool = False,
    ) -> None:
        """`secrets` is the OS keyring (or None on a PC without a trusted one). `auto_create`
        makes a KEK on first use without asking: for tests and benchmarks only."""
        self.db = db
        self.secrets = secrets
        self.clock = clock or SystemClock()
        self.auto_create = auto_create
        self._kek: bytes | None = None
        self._install_id: str | None = None
        # Run in the set-up transaction once the KEK exists (the audit log seals older entries).
        self.on_set_up: list[Callable[[Session], None]] = []

    # -- state ----------------------------------------------------------------------------------

    def _meta(self, session: Session, key: str) -> str | None:
        row = session.get(m.Meta, key)
        return row.value if row else None

    def _set_meta(self, session: Session, key: str, value: str) -> None:
        row = session.get(m.Meta, key)
        if row is None:
            session.add(m.Meta(key=key, value=value))
        else:
            row.value = value

    def install_id(self, session: Session | None = None) -> str:
        if self._install_id is None:
            if session is None:
                with self.db.read() as s:
                    value = self._meta(s, META_INSTALL_ID)
            else:
                value = self._meta(session, META_INSTALL_ID)
            if not value:
                raise KeyUnavailable(_("This database has no install id; run the migrations."))
            self._install_id = value
        return self._install_id

    @property
    def _secret_name(self) -> str:
        return f"kek-{self.install_id()}"

    def state(self) -> KeyState:
        if self._kek is not None:
            return KeyState.UNLOCKED
        with self.db.read() as session:
            check = self._meta(session, META_CHECK)
        return KeyState.NOT_SET_UP if check is None else KeyState.LOCKED

    @property
    def is_unlocked(self) -> bool:
        return self._kek is not None

    def has_passphrase(self) -> bool:
        with self.db.read() as session:
            return self._meta(session, META_PASSPHRASE) is not None

    def has_secure_store(self) -> bool:
        return self.secrets is not None

    def needs_set_up(self, session: Session) -> bool:
        return self._meta(session, META_CHECK) is None

    def lock(self) -> None:
        self._kek = None

    def forget(self) -> None:
        """After the database was replaced (a restore): locked, and its install id read again."""
        self._kek = None
        self._install_id = None

    # -- unlocking ------------------------------------------------------------------------------

    def try_unlock(self) -> bool:
        """Unlocks from this PC's keyring (or a demo database's own key) when that is possible."""
        if self._kek is not None:
            return True
        with self.db.read() as session:
            check = self._meta(session, META_CHECK)
            demo = self._meta(session, META_DEMO)
            self.install_id(session)
        if check is None:
            return False
        candidates: list[bytes] = []
        if self.secrets is not None:
            stored = self.secrets.get(self._secret_name)
            if stored is not None:
                candidates.append(stored)
        demo_key = _decoded(demo) if demo else None
        if demo_key is not None:  # a damaged demo key opens nothing, and says nothing
            candidates.append(demo_key)
        for kek in candidates:
            if len(kek) == crypto.KEY_BYTES and keys.matches(kek, check):
                self._kek = kek
                return True
        return False

    def unlock_with_passphrase(self, passphrase: str) -> None:
        with self.db.read() as session:
            check = self._meta(session, META_CHECK)
            wrapped = self._meta(session, META_PASSPHRASE)
        if check is None or wrapped is None:
            raise KeyUnavailable(
                _("No passphrase is set for this database; use the recovery code instead.")
            )
        salt_text, _sep, wrapped_text = wrapped.partition(":")
        wrong = _("That passphrase does not open this database's protected records.")
        if len(passphrase) < PASSPHRASE_MIN:
            raise KeyUnavailable(wrong)
        salt, wrapped_key = _decoded(salt_text), _decoded(wrapped_text)
        if salt is None or wrapped_key is None:
            raise KeyUnavailable(
                _("This database's passphrase record is damaged; use the recovery code instead.")
            )
        pkey = key_from_passphrase(passphrase, salt)
        try:
            kek = crypto.unwrap(pkey, wrapped_key)
        except crypto.WrongKey as exc:
            raise KeyUnavailable(wrong) from exc
        if not keys.matches(kek, check):
            raise KeyUnavailable(wrong)
        self._kek = kek

    def unlock_with_recovery_code(self, code: str, *, remember: bool = True) -> None:
        """Restores the KEK from its recovery code (a replaced PC, or a second PC being enrolled),
        and keeps it in this PC's keyring when there is a trusted one."""
        kek = keys.key_from_recovery_code(code)
        with self.db.read() as session:
            check = self._meta(session, META_CHECK)
        if check is None:
            raise KeyUnavailable(_("This database has no protected records to unlock yet."))
        if not keys.matches(kek, check):
            raise KeyUnavailable(
                _(
                    "That recovery code belongs to another database. Find the code written down "
                    "when this database's key was set up."
                )
            )
        self._kek = kek
        if remember and self.secrets is not None:
            self.secrets.set(self._secret_name, kek)

    # -- setting up -----------------------------------------------------------------------------

    def set_up(self, *, passphrase: str | None = None, session: Session | None = None) -> None:
        """Makes this database's KEK (once). Kept in the keyring when there is a trusted one;
        a passphrase is required when there is not."""
        if session is None:
            with self.db.write() as s:
                self.set_up(passphrase=passphrase, session=s)
            return
        if self._meta(session, META_CHECK) is not None:
            raise KeyUnavailable(_("This database's key is already set up."))
        if passphrase is None and self.secrets is None:
            raise ValidationError(
                {
                    "passphrase": _(
                        "This PC has no secure key store: choose a passphrase of at least "
                        "{count} characters."
                    ).format(count=PASSPHRASE_MIN)
                }
            )
        self.install_id(session)
        kek = None
        if self.secrets is not None:
            # A KEK left by a set-up whose transaction rolled back is used again, not orphaned.
            kek = self.secrets.get(self._secret_name)
        if kek is None or len(kek) != crypto.KEY_BYTES:
            kek = crypto.new_key()
        self._set_meta(session, META_CHECK, keys.check_value(kek))
        if passphrase is not None:
            self._write_passphrase(session, kek, passphrase)
        if self.secrets is not None:
            self.secrets.set(self._secret_name, kek)
        self._kek = kek
        for hook in self.on_set_up:
            hook(session)

    def set_passphrase(self, passphrase: str) -> None:
        kek = self.kek
        with self.db.write() as session:
            self._write_passphrase(session, kek, passphrase)

    def _write_passphrase(self, session: Session, kek: bytes, passphrase: str) -> None:
        if len(passphrase) < PASSPHRASE_MIN:
            raise ValidationError(
                {
                    "passphrase": _("A passphrase has at least {count} characters.").format(
                        count=PASSPHRASE_MIN
                    )
                }
            )
        salt = os.urandom(16)
        wrapped = crypto.wrap(key_from_passphrase(passphrase, salt), kek)
        self._set_meta(
            session,
            META_PASSPHRASE,
            f"{base64.b64encode(salt).decode()}:{base64.b64encode(wrapped).decode()}",
        )

    # -- using ----------------------------------------------------------------------------------

    @property
    def kek(self) -> bytes:
        if self._kek is None:
            raise KeyUnavailable(_locked_message())
        return self._kek

    def prepare(self) -> None:
        """For an `auto_create` vault (tests, benchmarks): unlock, or make the key if the
        database has none yet. Done once, up front, never inside another transaction."""
        if not self.auto_create or self.try_unlock():
            return
        with self.db.write() as session:
            if self.needs_set_up(session):
                self.set_up(session=session)

    def recovery_code(self) -> str:
        return keys.recovery_code(self.kek)

    def note_code_shown(self, session: Session) -> None:
        self._set_meta(session, META_CODE_SHOWN, self.clock.now().isoformat())

    def code_shown_at(self) -> str | None:
        with self.db.read() as session:
            return self._meta(session, META_CODE_SHOWN)

    def derived_key(self, purpose: str) -> bytes:
        return keys.derive(self.kek, purpose)

    def data_key(
        self, session: Session, client_id: int, *, create: bool = True
    ) -> tuple[bytes, int]:
        """The client's current data key and its version, made on first use."""
        kek = self.kek
        row = session.scalars(
            select(m.ClientKey)
            .where(m.ClientKey.client_id == client_id)
            .order_by(m.ClientKey.version.desc())
            .limit(1)
        ).first()
        if row is not None:
            return crypto.unwrap(kek, row.wrapped_key), row.version
        if not create:
            raise KeyUnavailable(_("This client's protected records were erased."))
        key = crypto.new_key()
        session.add(
            m.ClientKey(
                client_id=client_id,
                version=1,
                wrapped_key=crypto.wrap(kek, key),
                created_at=self.clock.now(),
            )
        )
        session.flush()
        return key, 1

    def client_key(self, session: Session, client_id: int, version: int) -> bytes:
        row = session.get(m.ClientKey, (client_id, version))
        if row is None:
            raise KeyUnavailable(_("This client's protected records were erased."))
        return crypto.unwrap(self.kek, row.wrapped_key)

    def destroy_client_keys(self, session: Session, client_id: int) -> int:
        result = session.execute(delete(m.ClientKey).where(m.ClientKey.client_id == client_id))
        return int(result.rowcount or 0)

    def seal(
        self, session: Session, client_id: int, text: str, *, table: str, column: str, row_id: int
    ) -> tuple[bytes, int]:
        key, version = self.data_key(session, client_id)
        blob = crypto.encrypt(
            key, text, table=table, column=column, row_id=row_id, key_version=version
        )
        return blob, version

    def open(
        self,
        session: Session,
        client_id: int,
        blob: bytes,
        *,
        table: str,
        column: str,
        row_id: int,
        key_version: int,
    ) -> str:
        key = self.client_key(session, client_id, key_version)
        return crypto.decrypt(
            key, blob, table=table, column=column, row_id=row_id, key_version=key_version
        )


def _decoded(text: str) -> bytes | None:
    """Base64 from the database's meta table, or None when it was damaged."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
