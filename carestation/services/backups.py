"""Backing up and restoring the embedded database: the administrator's actions, audited."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from carestation.db import backups
from carestation.db.backups import BackupInfo, BackupKind
from carestation.db.engine import Database, sqlite_path
from carestation.db.migrate import SchemaState, inspect_sqlite_file, upgrade
from carestation.domain.errors import ValidationError
from carestation.domain.roles import Permission
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.services.audit import AuditLog
from carestation.services.base import Service
from carestation.services.clock import Clock
from carestation.services.keys import KeyVault


@dataclass(frozen=True)
class RestoreResult:
    saved: BackupInfo  # the copy of the database as it was before the restore
    # The backup's notes are under a key this PC does not hold (a backup of another PC's
    # database): its recovery code must be typed before anyone signs in.
    needs_recovery_code: bool


class BackupService(Service):
    """Only for an embedded (SQLite) database; on PostgreSQL backups are the server's job."""

    def __init__(self, db: Database, audit: AuditLog, clock: Clock, vault: KeyVault) -> None:
        super().__init__(db, audit, clock)
        self.vault = vault

    @property
    def available(self) -> bool:
        return self.db.is_sqlite and self.database_path is not None

    @property
    def database_path(self) -> Path | None:
        return sqlite_path(self.db.url)

    def folder(self, chosen: str) -> Path:
        """The folder the administrator chose, or the default beside the database file."""
        assert self.database_path is not None
        return backups.folder_for(self.database_path, chosen)

    def _live(self) -> Path:
        path = self.database_path
        if path is None:
            raise ValidationError(
                {"": _("Backups of a database server are made on the server (pg_dump).")}
            )
        return path

    def list(self, *, actor: Actor, folder: Path) -> list[BackupInfo]:
        self.require(actor, Permission.MANAGE_BACKUPS, action="list_backups")
        return backups.list_backups(folder)

    def back_up_now(self, *, actor: Actor, folder: Path) -> BackupInfo:
        self.require(actor, Permission.MANAGE_BACKUPS, action="back_up_database")
        info = self._back_up(folder, BackupKind.MANUAL)
        self.audit.record_now(
            actor=actor, action="back_up_database", object_type="backup", object_ref=info.path.name
        )
        return info

    def daily_if_due(self, *, folder: Path) -> BackupInfo | None:
        """The automatic daily backup (no one acts: run at start-up and every few hours)."""
        if not self.available or not backups.daily_due(
            backups.list_backups(folder), self.clock.now()
        ):
            return None
        info = self._back_up(folder, BackupKind.DAILY)
        self.audit.record_now(
            actor=None,
            action="back_up_database",
            object_type="backup",
            object_ref=info.path.name,
            username="",
        )
        return info

    def _back_up(self, folder: Path, kind: BackupKind) -> BackupInfo:
        info = backups.make_backup(self._live(), folder, kind, now=self.clock.now())
        backups.rotate(folder, self.clock.now())
        return info

    def check(self, *, actor: Actor, backup: Path) -> str | None:
        """The backup's schema revision, or a clear refusal (damaged, foreign, too new)."""
        self.require(actor, Permission.MANAGE_BACKUPS, action="restore_database")
        _state, revision = backups.check_backup(backup)
        return revision

    def restore(self, *, actor: Actor, backup: Path, folder: Path) -> RestoreResult:
        """Checks `backup`, copies the current database aside, then replaces it. Everyone must
        sign in again afterwards; returns the copy of the database as it was."""
        self.require(actor, Permission.MANAGE_BACKUPS, action="restore_database")
        live = self._live()
        try:
            backups.check_backup(backup)
        except Exception as exc:
            self.audit.record_now(
                actor=actor,
                action="restore_database",
                object_type="backup",
                object_ref=backup.name,
                result="failed",
                detail=type(exc).__name__,
            )
            raise
        # Recorded before the copy is taken, so the copy of the replaced database says why.
        self.audit.record_now(
            actor=actor,
            action="restore_database",
            object_type="backup",
            object_ref=backup.name,
            result="started",
        )
        saved = backups.make_backup(live, folder, BackupKind.BEFORE_RESTORE, now=self.clock.now())
        # No connection of ours may stay open while the file is replaced (NullPool: none
        # between units of work; dispose drops any the pool still holds).
        self.db.dispose()
        backups.copy_into(backup, live)
        state, _revision = inspect_sqlite_file(live)
        if state is SchemaState.BEHIND:
            upgrade(self.db.engine)
        # The restored database may be another one's (restoring on another PC): its key is
        # looked up again, from this PC's keyring; failing that, the recovery code is needed.
        self.vault.forget()
        if not self.vault.try_unlock():
            return RestoreResult(saved=saved, needs_recovery_code=True)
        # In the restored database's own trail, which did not know about this restore.
        self.audit.record_now(
            actor=actor,
            action="restore_database",
            object_type="backup",
            object_ref=backup.name,
            detail=saved.path.name,
        )
        return RestoreResult(saved=saved, needs_recovery_code=False)
