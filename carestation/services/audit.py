"""Writes, reads and verifies the audit trail. Entries name records by code or id, never by a
person's name, and never carry note text or answers.

The trail is append-only and tamper-evident: each entry carries an HMAC-SHA256 over its own
content and the previous entry's MAC, keyed by a key derived from the key-encryption key, which
is not in the database. Someone who can edit the database can change a row but cannot compute
the MAC that would hide the change. Entries are sealed as the transaction that wrote them
commits, after a lock on the chain's head row, so the chain has one order across all PCs and the
lock is always the last one a transaction takes (no lock cycles with the rows it changed).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from carestation.db.engine import Database
from carestation.db.models import AuditChain, AuditEvent, Station
from carestation.domain.values import Actor, AuditEntry
from carestation.i18n import _
from carestation.services.clock import Clock, SystemClock

if TYPE_CHECKING:
    from carestation.services.keys import KeyVault

_PENDING = "carestation_audit_pending"
AUDIT_KEY_PURPOSE = "carestation audit chain v1"


def entry_mac(key: bytes, event: AuditEvent, prev_mac: str) -> str:
    occurred = event.occurred_at.astimezone(UTC).replace(tzinfo=None)
    content = [
        event.seq,
        occurred.isoformat(timespec="microseconds"),
        event.user_id,
        event.username,
        event.role,
        event.station_id,
        event.action,
        event.object_type,
        event.object_ref,
        event.result,
        event.detail,
        prev_mac,
    ]
    data = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    # The first entry that does not fit the chain (its id), and why; None when all is well.
    broken_id: int | None = None
    broken_seq: int | None = None
    reason: str = ""


class AuditLog:
    def __init__(
        self, db: Database, clock: Clock | None = None, vault: KeyVault | None = None
    ) -> None:
        self.db = db
        self.clock = clock or SystemClock()
        self.vault = vault
        if vault is not None:
            for maker in (db._read, db._write):
                event.listen(maker, "before_commit", self._seal_pending)
            vault.on_set_up.append(self.seal_unsealed)

    def record(
        self,
        session: Session,
        *,
        actor: Actor | None,
        action: str,
        object_type: str = "",
        object_ref: str = "",
        result: str = "ok",
        detail: str = "",
        username: str | None = None,
    ) -> None:
        """Adds an entry inside the caller's transaction, so it commits or rolls back with it."""
        entry = AuditEvent(
            occurred_at=self.clock.now(),
            user_id=actor.user_id if actor else None,
            username=(actor.username if actor else (username or ""))[:32],
            role=actor.primary_role.value if actor else "",
            station_id=actor.station_id if actor else None,
            action=action,
            object_type=object_type,
            object_ref=object_ref[:64],
            result=result,
            detail=detail,
        )
        if self.vault is None:
            session.add(entry)
        else:
            session.info.setdefault(_PENDING, []).append(entry)

    def record_now(self, **kwargs: object) -> None:
        """An entry in a transaction of its own (refusals and failures, where nothing else commits)."""
        with self.db.write() as session:
            self.record(session, **kwargs)  # type: ignore[arg-type]

    # -- the chain ------------------------------------------------------------------------------

    def _seal_pending(self, session: Session) -> None:
        pending: list[AuditEvent] | None = session.info.pop(_PENDING, None)
        if pending:
            self._append(session, pending)

    def _key(self, session: Session) -> bytes:
        assert self.vault is not None
        return self.vault.derived_key(AUDIT_KEY_PURPOSE)

    def _head(self, session: Session) -> AuditChain:
        head = session.get(AuditChain, 1, with_for_update=True)
        if head is None:
            head = AuditChain(id=1, seq=0, mac="")
            session.add(head)
        return head

    def _append(self, session: Session, entries: Iterable[AuditEvent], *, add: bool = True) -> None:
        key = self._key(session)
        head = self._head(session)
        seq, mac = head.seq, head.mac
        for entry in entries:
            seq += 1
            entry.seq = seq
            entry.mac = entry_mac(key, entry, mac)
            mac = entry.mac
            if add:
                session.add(entry)
        head.seq, head.mac = seq, mac

    def seal_unsealed(self, session: Session) -> int:
        """Brings entries written before the chain existed (an older version) into it, in order.
        Run once, when the key-encryption key is first set up."""
        rows = list(
            session.scalars(
                select(AuditEvent).where(AuditEvent.seq.is_(None)).order_by(AuditEvent.id)
            )
        )
        if rows:
            self._append(session, rows, add=False)
        return len(rows)

    def verify(self, *, batch: int = 2000) -> VerifyResult:
        """Walks the whole chain; reports the first entry whose MAC, position or predecessor does
        not fit. An edited, deleted, inserted or reordered entry breaks it."""
        checked = 0
        with self.db.read() as session:
            key = self._key(session)
            unsealed = session.scalar(
                select(func.min(AuditEvent.id)).where(AuditEvent.seq.is_(None))
            )
            if unsealed is not None:
                return VerifyResult(
                    False, 0, unsealed, None, _("an entry without a seal (added outside the app)")
                )
            head = session.get(AuditChain, 1)
            prev_mac, expected_seq = "", 1
            last_id = 0
            rows = session.execute(
                select(AuditEvent).order_by(AuditEvent.seq).execution_options(yield_per=batch)
            ).scalars()
            for entry in rows:
                if entry.seq != expected_seq:
                    reason = _("an entry is missing before this one")
                    return VerifyResult(False, checked, entry.id, entry.seq, reason)
                if not hmac.compare_digest(entry_mac(key, entry, prev_mac), entry.mac):
                    reason = _("the entry was changed after it was written")
                    return VerifyResult(False, checked, entry.id, entry.seq, reason)
                if entry.id < last_id:
                    reason = _("the entry is out of order")
                    return VerifyResult(False, checked, entry.id, entry.seq, reason)
                prev_mac, last_id = entry.mac, entry.id
                expected_seq += 1
                checked += 1
            head_seq, head_mac = (head.seq, head.mac) if head else (0, "")
            if head_seq != checked or not hmac.compare_digest(head_mac, prev_mac):
                return VerifyResult(
                    False,
                    checked,
                    None,
                    head_seq,
                    _("entries were removed from the end of the trail"),
                )
        return VerifyResult(True, checked)

    # -- reading --------------------------------------------------------------------------------

    def entries(
        self,
        *,
        limit: int = 500,
        action: str | None = None,
        username: str | None = None,
        object_ref: str | None = None,
        result: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        with self.db.read() as session:
            query = (
                select(AuditEvent, Station.name)
                .outerjoin(Station, Station.id == AuditEvent.station_id)
                .order_by(AuditEvent.id.desc())
                .limit(limit)
            )
            filters: list[Any] = []
            if action:
                filters.append(AuditEvent.action == action)
            if username:
                filters.append(AuditEvent.username == username)
            if object_ref:
                filters.append(AuditEvent.object_ref == object_ref)
            if result:
                filters.append(AuditEvent.result == result)
            if since is not None:
                filters.append(AuditEvent.occurred_at >= since)
            if until is not None:
                filters.append(AuditEvent.occurred_at < until)
            if filters:
                query = query.where(*filters)
            return [
                AuditEntry(
                    id=e.id,
                    occurred_at=e.occurred_at,
                    username=e.username,
                    role=e.role,
                    station_name=station_name or "",
                    action=e.action,
                    object_type=e.object_type,
                    object_ref=e.object_ref,
                    result=e.result,
                    detail=e.detail,
                )
                for e, station_name in session.execute(query)
            ]
