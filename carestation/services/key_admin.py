"""The administrator's side of the key that protects confidential records: its state, the
recovery code, the passphrase, and verifying the audit trail. Unlocking at start-up happens
before anyone signs in and is done by the composition root on the vault itself."""

from __future__ import annotations

from dataclasses import dataclass

from carestation.db.engine import Database
from carestation.db.models import UserAccount
from carestation.domain.errors import ValidationError
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.security.passwords import verify_password
from carestation.services.audit import AuditLog, VerifyResult
from carestation.services.base import Service
from carestation.services.clock import Clock
from carestation.services.keys import KeyState, KeyVault


@dataclass(frozen=True)
class KeyStatus:
    state: KeyState
    secure_store: bool  # this PC keeps the key in a trusted OS keyring
    has_passphrase: bool  # the database can also be unlocked with a passphrase
    code_shown_at: str | None  # when a recovery code was last shown (ISO time), if ever


class KeyAdminService(Service):
    def __init__(self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault) -> None:
        super().__init__(db, audit, clock)
        self.vault = vault

    def status(self, *, actor: Actor) -> KeyStatus:
        self.require(actor, Permission.MANAGE_KEYS, action="view_key_status")
        return KeyStatus(
            state=self.vault.state(),
            secure_store=self.vault.has_secure_store(),
            has_passphrase=self.vault.has_passphrase(),
            code_shown_at=self.vault.code_shown_at(),
        )

    def _check_password(self, actor: Actor, password: str) -> None:
        with self.db.read() as session:
            user = session.get(UserAccount, actor.user_id)
            ok = user is not None and verify_password(user.password_hash, password)
        if not ok:
            raise ValidationError({"password": _("Your password is not right; type it again.")})

    def reveal_recovery_code(self, *, actor: Actor, password: str) -> str:
        """The recovery code, after the administrator types their own password again. Each
        showing is in the audit trail."""
        self.require(actor, Permission.MANAGE_KEYS, action="show_recovery_code")
        try:
            self._check_password(actor, password)
        except ValidationError:
            self.audit.record_now(actor=actor, action="show_recovery_code", result="failed")
            raise
        code = self.vault.recovery_code()
        with self.db.write() as session:
            self.vault.note_code_shown(session)
            self.audit.record(session, actor=actor, action="show_recovery_code")
        return code

    def set_passphrase(self, *, actor: Actor, password: str, passphrase: str) -> None:
        """Lets this database also be unlocked with a passphrase (on PCs without a keyring)."""
        self.require(actor, Permission.MANAGE_KEYS, action="set_key_passphrase")
        self._check_password(actor, password)
        self.vault.set_passphrase(passphrase)
        self.audit.record_now(actor=actor, action="set_key_passphrase")

    def verify_audit(self, *, actor: Actor) -> VerifyResult:
        self.require(actor, Permission.VIEW_AUDIT, action="verify_audit")
        result = self.audit.verify()
        detail = (
            f"{result.checked}"
            if result.ok
            else f"{result.checked}; first broken entry {result.broken_id}: {result.reason}"
        )
        self.audit.record_now(
            actor=actor,
            action="verify_audit",
            result="ok" if result.ok else "failed",
            detail=detail,
        )
        return result
