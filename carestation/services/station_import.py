"""Moves one station's SQLite database into another CareStation database (the city's PostgreSQL
server, or any database the app opens), in one transaction on the target, or not at all.

The rules (docs/database.md, "Moving a station onto the network"):
- The source file is never written: a snapshot is taken with SQLite's backup API, migrated to
  this version's schema if it is behind, and read from there. The target must be current.
- The source holds exactly one station, named NAME. In the target it is the station of that
  name: created if missing, or an existing one that holds no records yet (set up on the server
  ahead); a target station of that name with records is refused (imported already?).
- Every imported row gets the target's next identifier; every foreign key follows it.
- People: an account whose user name exists in the target is the same person when the display
  name matches and the target account already has every role (and the counsellor profile) it
  has at the station; otherwise the import is refused, naming the accounts. A client whose code
  exists in the target is the same person when the name matches too (neither erased); otherwise
  the client gets a new code, listed in the report and in the audit trail.
- Keys: a new client's data keys travel with them, unwrapped with the source's key and wrapped
  with the target's; a merged client's texts move to the target client's current key. Every
  ciphertext is decrypted with the source's keys and encrypted again, because the associated
  data names its row id; texts of clients erased at the station cannot be read and are carried
  as they are. A text that fails its integrity check stops the import.
- The audit trail: the source's chain is verified with the source's key, then its entries are
  appended to the target's chain (re-sealed, user and station ids mapped, "imported #seq" in
  front of the detail), followed by one entry per changed client code and one `import_station`
  entry recording the source file's SHA-256 and the source chain's last MAC.
- Counts are taken before and after, every new ciphertext is decrypted again with the target's
  key, and the appended chain is checked before the transaction commits.
"""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, func, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError, StatementError
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.db import station_import as copy
from carestation.db.base import Base
from carestation.db.engine import Database, make_engine, parse_url, sqlite_path
from carestation.db.migrate import (
    SchemaState,
    head_revision,
    inspect_connection,
    inspect_sqlite_file,
    open_database,
)
from carestation.domain.client_code import new_client_code
from carestation.domain.errors import CareStationError, KeyUnavailable, NotACareStationDatabase
from carestation.i18n import _
from carestation.security import crypto
from carestation.security.secret_store import SecretStore
from carestation.services.audit import AUDIT_KEY_PURPOSE, AuditLog, entry_mac
from carestation.services.clock import Clock, SystemClock
from carestation.services.keys import KeyState, KeyVault
from carestation.services.risk_alerts import ANONYMOUS_NOTE_PURPOSE

ENV_SOURCE_CODE = "CARESTATION_SOURCE_RECOVERY_CODE"
ENV_TARGET_CODE = "CARESTATION_TARGET_RECOVERY_CODE"

# Ciphertext columns: table -> (column, the column name in the associated data). All of a row's
# texts share its `key_version`.
ENCRYPTED: dict[str, tuple[tuple[str, str], ...]] = {
    "session_note": (("body_ciphertext", "body"),),
    "note_addendum": (("body_ciphertext", "body"),),
    "care_case": (("summary_ciphertext", "summary"),),
    "crisis_flag": (("reason_ciphertext", "reason"), ("actions_ciphertext", "actions")),
    "crisis_followup": (("note_ciphertext", "note"),),
    "disclosure": (("detail_ciphertext", "detail"),),
    "risk_alert": (("note_ciphertext", "note"),),
}
WRAPPED_KEYS = ("client_key", "wrapped_key")
# Unique keys the import resolves itself; any other must include a reference to rows that are
# always new in the target (the station's own rooms, appointments ...).
RESOLVED_UNIQUE = {
    ("station", ("name",)),
    ("user_account", ("username",)),
    ("client", ("client_code",)),
    ("campaign_code", ("code",)),
    ("audit_event", ("seq",)),
}
# Tables whose rows may be matched to rows the target already has.
MATCHABLE = ("user_account", "client")
IMPORTED_PREFIX = "imported #{seq}: "
_SOURCE_ID = "_source_id"


class ImportRefused(CareStationError):
    """A check failed; nothing was written to the target."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(
            _("Nothing was imported; the target database is unchanged.")
            + "\n  "
            + "\n  ".join(problems)
        )


@dataclass(frozen=True)
class TableReport:
    table: str
    source_rows: int
    copied: int  # new rows in the target
    matched: int  # rows that were already in the target (the same person, account, role ...)
    ids_changed: int  # copied rows whose id differs from the source's


@dataclass(frozen=True)
class ImportReport:
    station: str
    station_id: int  # in the target
    station_created: bool
    source_revision: str  # the source's schema before the import
    source_migrated: bool  # the snapshot was brought up to this version's schema first
    tables: list[TableReport]
    users_matched: list[str]  # user names that are the same account in both
    clients_merged: list[str]  # client codes that were the same person in both
    codes_changed: list[tuple[str, str]]  # (code at the station, new code)
    texts_reencrypted: int
    texts_unreadable: int  # of clients erased at the station: carried as they were
    audit_imported: int
    audit_checked: int  # entries of the target's chain verified after the import
    source_sha256: str = ""

    @property
    def rows_copied(self) -> int:
        return sum(t.copied for t in self.tables)


@dataclass
class _KeyInput:
    source_code: str | None
    target_code: str | None
    ask: Callable[[str], str] | None


def import_station(
    *,
    source: Path,
    target_url: str,
    station: str,
    source_code: str | None = None,
    target_code: str | None = None,
    ask: Callable[[str], str] | None = None,
    target_secrets: SecretStore | None = None,
    clock: Clock | None = None,
) -> ImportReport:
    """Copies the station database at `source` into `target_url`. Recovery codes come from the
    caller (an environment variable or a prompt, never the command line); `ask(kind)` is called
    for a missing one with kind "source_code", "target_code" or "target_passphrase" and returns
    what was typed. `target_secrets` is the OS keyring holding the target's key, as in the app."""
    clock = clock or SystemClock()
    keys = _KeyInput(source_code, target_code, ask)
    source = Path(source)
    if not source.is_file():
        raise ImportRefused([_("{path} is not a file.").format(path=source)])
    target = parse_url(target_url)
    target_path = sqlite_path(target)
    if target_path is not None and target_path.resolve() == source.resolve():
        raise ImportRefused([_("The source and the target are the same file.")])
    _check_schema_handled()
    digest = _sha256(source)
    with tempfile.TemporaryDirectory(prefix="carestation-import-") as tmp:
        try:
            snapshot = copy.snapshot_sqlite(source, Path(tmp) / "source.db")
        except sqlite3.DatabaseError as exc:  # not a database, or damaged
            raise NotACareStationDatabase(
                _(
                    "{where} is not a database CareStation can read ({reason}). It was left "
                    "untouched."
                ).format(where=source, reason=exc)
            ) from exc
        state, revision = inspect_sqlite_file(snapshot)
        if state is SchemaState.EMPTY or revision is None:
            raise ImportRefused([_("{path} holds no CareStation data.").format(path=source)])
        src_engine, _opened = open_database(f"sqlite:///{snapshot.as_posix()}")
        tgt_engine = make_engine(target)
        try:
            with tgt_engine.connect() as conn:
                tgt_state, _revision = inspect_connection(conn)
            if tgt_state is not SchemaState.CURRENT:
                raise ImportRefused(
                    [
                        _(
                            "The target database is not at this version's schema ({head}); run "
                            "`carestation migrate --db URL` on it first."
                        ).format(head=head_revision())
                    ]
                )
            src_db, tgt_db = Database(src_engine), Database(tgt_engine)
            src_vault = _unlock_source(src_db, keys)
            tgt_vault = _unlock_target(tgt_db, target_secrets, keys, clock)
            # A broken chain on the target is refused too: entries appended to it would look
            # as trustworthy as the rest.
            target_audit = AuditLog(tgt_db, clock, tgt_vault)
            verified = target_audit.verify()
            if not verified.ok:
                raise ImportRefused(
                    [
                        _(
                            "The target's audit trail does not verify (entry {id}: {reason}); "
                            "have it looked into before importing."
                        ).format(id=verified.broken_id, reason=verified.reason)
                    ]
                )
            mover = _Mover(src_db, tgt_db, src_vault, tgt_vault, station, clock, digest)
            report = mover.run(source_revision=revision, migrated=state is SchemaState.BEHIND)
            verified = target_audit.verify()
            if not verified.ok:
                # Only a station PC writing meanwhile could cause this: say so, do not hide it.
                raise CareStationError(
                    _(
                        "The station was imported, but the target's audit trail then failed to "
                        "verify: {reason}. Run `carestation audit verify`."
                    ).format(reason=verified.reason)
                )
            return _with(report, audit_checked=verified.checked)
        finally:
            src_engine.dispose()
            tgt_engine.dispose()


def _with(report: ImportReport, **changes: Any) -> ImportReport:
    return replace(report, **changes)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_schema_handled() -> None:
    """Refuses to run when the schema has a byte column or a unique key this module does not
    know: moving it blindly could leave a text unreadable or a duplicate refused half-way."""
    problems = []
    known = {(t, c) for t, cols in ENCRYPTED.items() for c, _aad in cols} | {WRAPPED_KEYS}
    for name, column in copy.binary_columns():
        if (name, column) not in known:
            problems.append(f"{name}.{column}: unknown protected column")
    for table in copy.copy_order():
        refs = dict(copy.foreign_keys(table))
        for key in copy.unique_keys(table):
            if (table.name, key) in RESOLVED_UNIQUE:
                continue
            if any(col in refs and refs[col] not in MATCHABLE for col in key):
                continue
            problems.append(f"{table.name}{key}: unique key the import does not resolve")
    if problems:
        raise ImportRefused(problems)


# -- keys --------------------------------------------------------------------------------------


def _unlock_source(db: Database, keys: _KeyInput) -> KeyVault:
    vault = KeyVault(db, None)
    if vault.state() is KeyState.NOT_SET_UP:
        raise ImportRefused(
            [_("The source database has no protection key; open it once in CareStation first.")]
        )
    code = keys.source_code
    # Only a demo database opens without its code (it carries its key in the clear).
    if code is None and not vault.try_unlock():
        if keys.ask is None:
            raise ImportRefused(
                [
                    _(
                        "The source's recovery code is needed: set {env} or run the command at "
                        "a terminal to type it."
                    ).format(env=ENV_SOURCE_CODE)
                ]
            )
        code = keys.ask("source_code")
    if code is not None:
        try:
            vault.unlock_with_recovery_code(code, remember=False)
        except CareStationError as exc:
            raise ImportRefused([_("Source database: {reason}").format(reason=exc)]) from exc
    return vault


def _unlock_target(
    db: Database, secrets: SecretStore | None, keys: _KeyInput, clock: Clock
) -> KeyVault:
    vault = KeyVault(db, secrets, clock=clock)
    if vault.state() is KeyState.NOT_SET_UP:
        raise ImportRefused(
            [
                _(
                    "The target database has no protection key yet; start CareStation on it "
                    "once to set it up, then import."
                )
            ]
        )
    try:
        if keys.target_code is not None:
            vault.unlock_with_recovery_code(keys.target_code, remember=False)
        elif not vault.try_unlock():
            if keys.ask is None:
                raise KeyUnavailable(
                    _(
                        "its key is not in this PC's key store: set {env} or run the command at "
                        "a terminal."
                    ).format(env=ENV_TARGET_CODE)
                )
            if vault.has_passphrase():
                vault.unlock_with_passphrase(keys.ask("target_passphrase"))
            else:
                vault.unlock_with_recovery_code(keys.ask("target_code"), remember=False)
    except CareStationError as exc:
        raise ImportRefused([_("Target database: {reason}").format(reason=exc)]) from exc
    return vault


class _Keys:
    """Source keys to read with, target keys to write with."""

    def __init__(
        self,
        session: Session,
        src_vault: KeyVault,
        tgt_vault: KeyVault,
        wrapped: Mapping[tuple[int, int], bytes],
        client_map: Mapping[int, int],
        merged: set[int],
    ) -> None:
        self.session = session
        self.src_kek = src_vault.kek
        self.tgt_vault = tgt_vault
        self.wrapped = wrapped
        self.client_map = client_map
        self.merged = merged
        self.src_anonymous = src_vault.derived_key(ANONYMOUS_NOTE_PURPOSE)
        self.tgt_anonymous = tgt_vault.derived_key(ANONYMOUS_NOTE_PURPOSE)
        self._source: dict[tuple[int, int], bytes] = {}
        self._merged: dict[int, tuple[bytes, int]] = {}
        self.keys_created = 0

    def source(self, client_id: int, version: int) -> bytes | None:
        """The source's data key, or None when the client was erased at the station."""
        found = self._source.get((client_id, version))
        if found is None:
            blob = self.wrapped.get((client_id, version))
            if blob is None:
                return None
            found = self._source[(client_id, version)] = crypto.unwrap(self.src_kek, blob)
        return found

    def target(self, client_id: int, version: int) -> tuple[bytes, int]:
        """The key (and version) to write with: the same data key for a client who is new in
        the target; the target client's current key for a merged one."""
        if client_id not in self.merged:
            key = self.source(client_id, version)
            assert key is not None
            return key, version
        found = self._merged.get(client_id)
        if found is None:
            target_id = self.client_map[client_id]
            had = self.session.scalar(
                select(func.count())
                .select_from(m.ClientKey)
                .where(m.ClientKey.client_id == target_id)
            )
            found = self._merged[client_id] = self.tgt_vault.data_key(self.session, target_id)
            if not had:
                self.keys_created += 1
        return found

    def rewrap(self, wrapped: bytes) -> bytes:
        return crypto.wrap(self.tgt_vault.kek, crypto.unwrap(self.src_kek, wrapped))


# -- the move ----------------------------------------------------------------------------------


@dataclass
class _Plan:
    station_id: int = 0
    station_created: bool = True
    users: dict[int, int] = field(default_factory=dict)  # matched: source id -> target id
    users_matched: list[str] = field(default_factory=list)
    clients: dict[int, int] = field(default_factory=dict)  # merged: source id -> target id
    clients_merged: list[str] = field(default_factory=list)
    codes: dict[int, str] = field(default_factory=dict)  # source client id -> new code
    codes_changed: list[tuple[str, str]] = field(default_factory=list)


class _Mover:
    def __init__(
        self,
        src_db: Database,
        tgt_db: Database,
        src_vault: KeyVault,
        tgt_vault: KeyVault,
        station: str,
        clock: Clock,
        digest: str,
    ) -> None:
        self.src_db, self.tgt_db = src_db, tgt_db
        self.src_vault, self.tgt_vault = src_vault, tgt_vault
        self.station = station
        self.clock = clock
        self.digest = digest
        self.tables = copy.copy_order()
        self.rows: dict[str, list[dict[str, Any]]] = {}
        self.problems: list[str] = []
        self._index: dict[str, dict[int, dict[str, Any]]] = {}
        # (table, column, aad column, row id, target client, key version, SHA-256 of the text)
        self.digests: list[tuple[str, str, str, int, int | None, int, bytes]] = []
        self.reencrypted = self.unreadable = 0

    # The source, read once.
    def _read_source(self) -> None:
        verified = AuditLog(self.src_db, self.clock, self.src_vault).verify()
        if not verified.ok:
            raise ImportRefused(
                [
                    _(
                        "The source's audit trail does not verify (entry {id}: {reason}); it "
                        "cannot be carried into the target's chain."
                    ).format(id=verified.broken_id, reason=verified.reason)
                ]
            )
        with self.src_db.read() as session:
            conn = session.connection()
            for table in self.tables:
                self.rows[table.name] = copy.read_rows(conn, table)
            head = session.get(m.AuditChain, 1)
            self.src_head = (head.seq, head.mac) if head else (0, "")
        stations = self.rows["station"]
        if len(stations) != 1 or stations[0]["name"] != self.station:
            names = ", ".join(sorted(s["name"] for s in stations)) or "-"
            if not any(s["name"] == self.station for s in stations):
                message = _("The source has no station named {name} (it has: {names}).")
            else:
                message = _(
                    "The source holds {count} stations ({names}); import-sqlite moves one "
                    "station's database."
                )
            raise ImportRefused(
                [message.format(name=self.station, names=names, count=len(stations))]
            )

    def run(self, *, source_revision: str, migrated: bool) -> ImportReport:
        try:
            self._read_source()
            with self.tgt_db.write() as session:
                report = self._write(session, source_revision, migrated)
                if self.problems:
                    raise ImportRefused(self.problems)
        except IntegrityError as exc:
            raise ImportRefused(
                [
                    _("The target refused a row: {reason}").format(
                        reason=str(exc.orig).strip().splitlines()[0]
                    )
                ]
            ) from exc
        except copy.BrokenReference as exc:
            raise ImportRefused(
                [_("The source has a broken reference: {where}.").format(where=exc)]
            ) from exc
        except (StatementError, sqlite3.Error, ValueError, TypeError) as exc:
            # A value the schema does not allow (a damaged or hand-edited file): the column
            # types cannot read it. The target's transaction was rolled back.
            if isinstance(exc, DBAPIError) and not isinstance(exc.orig, sqlite3.Error):
                raise  # the target's own failure, not the source's
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise ImportRefused(
                [
                    _(
                        "The source holds a value this version cannot read ({reason}); the "
                        "file may be damaged."
                    ).format(reason=reason)
                ]
            ) from exc
        return report

    # -- planning: who is who in the target --------------------------------------------------

    def _plan(self, conn: Connection) -> _Plan:
        plan = _Plan()
        src_station = self.rows["station"][0]
        existing = conn.execute(
            select(m.Station.id).where(m.Station.name == src_station["name"])
        ).scalar()
        if existing is not None:
            used = self._station_records(conn, existing)
            if used:
                self.problems.append(
                    _(
                        "The target already has a station named {name} with records ({tables}); "
                        "was this file imported before?"
                    ).format(name=src_station["name"], tables=", ".join(used))
                )
            plan.station_id, plan.station_created = existing, False
        self._plan_users(conn, plan)
        self._plan_clients(conn, plan)
        codes = [r["code"] for r in self.rows["campaign_code"]]
        clash = _existing(conn, m.CampaignCode.__table__.c.code, codes)
        if clash:
            self.problems.append(
                _(
                    "{count} screening-campaign codes of this station are already used by "
                    "another campaign on the target: {codes}."
                ).format(count=len(clash), codes=", ".join(sorted(clash)[:10]))
            )
        return plan

    def _station_records(self, conn: Connection, station_id: int) -> list[str]:
        used = []
        for table in self.tables:
            for column, referred in copy.foreign_keys(table):
                # Its audit entries and staff links may exist already: set up on the server.
                if referred == "station" and table.name not in ("audit_event", "user_station"):
                    hit = conn.execute(
                        select(table.c[column]).where(table.c[column] == station_id).limit(1)
                    ).first()
                    if hit is not None:
                        used.append(table.name)
                        break
        return used

    def _plan_users(self, conn: Connection, plan: _Plan) -> None:
        roles: dict[int, set[str]] = {}
        for r in self.rows["user_role"]:
            roles.setdefault(r["user_id"], set()).add(str(r["role"]))
        counsellors = {r["user_id"] for r in self.rows["counsellor_profile"]}
        users = self.rows["user_account"]
        found = {
            row.username: row
            for row in conn.execute(
                select(m.UserAccount.id, m.UserAccount.username, m.UserAccount.display_name).where(
                    m.UserAccount.username.in_([u["username"] for u in users])
                )
            )
        }
        for user in users:
            target = found.get(user["username"])
            if target is None:
                continue
            target_roles = {
                str(r)
                for r in conn.execute(
                    select(m.UserRole.role).where(m.UserRole.user_id == target.id)
                ).scalars()
            }
            target_counsellor = conn.execute(
                select(m.CounsellorProfile.user_id).where(m.CounsellorProfile.user_id == target.id)
            ).first()
            if target.display_name.strip() != user["display_name"].strip():
                self.problems.append(
                    _(
                        "The user name {username} belongs to someone else on the target (a "
                        "different display name). Rename the account at the station or on the "
                        "target, then import again."
                    ).format(username=user["username"])
                )
            elif not roles.get(user["id"], set()) <= target_roles or (
                user["id"] in counsellors and target_counsellor is None
            ):
                self.problems.append(
                    _(
                        "The account {username} has roles at the station that it does not have "
                        "on the target ({roles}); give them on the target first."
                    ).format(
                        username=user["username"],
                        roles=", ".join(sorted(roles.get(user["id"], set()) - target_roles))
                        or "counsellor",
                    )
                )
            else:
                plan.users[user["id"]] = target.id
                plan.users_matched.append(user["username"])

    def _plan_clients(self, conn: Connection, plan: _Plan) -> None:
        clients = self.rows["client"]
        table = m.Client.__table__
        found: dict[str, Any] = {}
        codes = [c["client_code"] for c in clients]
        for start in range(0, len(codes), copy.BATCH):
            for row in conn.execute(
                select(table.c.id, table.c.client_code, table.c.name, table.c.erased_at).where(
                    table.c.client_code.in_(codes[start : start + copy.BATCH])
                )
            ):
                found[row.client_code] = row
        taken = set(codes)
        for client in clients:
            target = found.get(client["client_code"])
            if target is None:
                continue
            same = (
                target.erased_at is None
                and client["erased_at"] is None
                and target.name.strip() == client["name"].strip()
            )
            if same:
                plan.clients[client["id"]] = target.id
                plan.clients_merged.append(client["client_code"])
                continue
            while True:
                code = new_client_code()
                if code in taken:
                    continue
                if conn.execute(select(table.c.id).where(table.c.client_code == code)).first():
                    continue
                break
            taken.add(code)
            plan.codes[client["id"]] = code
            plan.codes_changed.append((client["client_code"], code))

    # -- writing -------------------------------------------------------------------------------

    def _write(self, session: Session, source_revision: str, migrated: bool) -> ImportReport:
        conn = session.connection()
        plan = self._plan(conn)
        if self.problems:
            raise ImportRefused(self.problems)
        before = copy.count_rows(conn, self.tables)
        source_counts = {t.name: len(self.rows[t.name]) for t in self.tables}
        wrapped = {
            (r["client_id"], r["version"]): r["wrapped_key"] for r in self.rows["client_key"]
        }
        keys = _Keys(session, self.src_vault, self.tgt_vault, wrapped, {}, set(plan.clients))
        maps: dict[str, dict[int, int]] = {}
        copied: dict[str, int] = {}
        matched: dict[str, int] = {}
        resolve = self._client_resolver()
        for table in self.tables:
            if table.name == "audit_event":
                continue
            rows, skipped, id_map = self._prepare(conn, table, plan, maps)
            maps[table.name] = id_map
            if table.name == "client":
                keys.client_map = id_map
            if table.name in ENCRYPTED:
                rows = [self._reseal(table.name, r, keys, resolve) for r in rows]
            if table.name == "client_key":
                rows = [dict(r, wrapped_key=keys.rewrap(r["wrapped_key"])) for r in rows]
            if table.name == "station" and not plan.station_created:
                values = {k: v for k, v in rows[0].items() if k not in ("id", "name", "created_at")}
                conn.execute(update(table).where(table.c.id == plan.station_id).values(**values))
                rows = []
                skipped = 1
            copy.insert_rows(conn, table, rows)
            copied[table.name] = len(rows)
            matched[table.name] = skipped
        changed = self._ids_changed(maps, plan)
        copied["audit_event"], changed["audit_event"] = self._append_audit(session, maps, plan)
        matched["audit_event"] = 0
        session.flush()
        self._check(conn, session, before, copied, keys, plan)
        tables = [
            TableReport(
                table=t.name,
                source_rows=source_counts[t.name],
                copied=source_counts[t.name] if t.name == "audit_event" else copied[t.name],
                matched=matched[t.name],
                ids_changed=changed.get(t.name, 0),
            )
            for t in self.tables
        ]
        return ImportReport(
            station=self.station,
            station_id=plan.station_id,
            station_created=plan.station_created,
            source_revision=source_revision,
            source_migrated=migrated,
            tables=tables,
            users_matched=sorted(plan.users_matched),
            clients_merged=sorted(plan.clients_merged),
            codes_changed=sorted(plan.codes_changed),
            texts_reencrypted=self.reencrypted,
            texts_unreadable=self.unreadable,
            audit_imported=len(self.rows["audit_event"]),
            audit_checked=0,
            source_sha256=self.digest,
        )

    def _ids_changed(self, maps: dict[str, dict[int, int]], plan: _Plan) -> dict[str, int]:
        out: dict[str, int] = {}
        skip = {"user_account": set(plan.users), "client": set(plan.clients)}
        for table in self.tables:
            if not copy.has_id_key(table) or table.name == "audit_event":
                continue
            out[table.name] = sum(
                1
                for old, new in maps[table.name].items()
                if old != new
                and old not in skip.get(table.name, set())
                and not (table.name == "station" and not plan.station_created)
            )
        return out

    def _prepare(
        self, conn: Connection, table: Table, plan: _Plan, maps: dict[str, dict[int, int]]
    ) -> tuple[list[dict[str, Any]], int, dict[int, int]]:
        """The table's rows for the target (new ids, foreign keys translated), how many were
        matched to rows the target already has, and the id map."""
        source = self.rows[table.name]
        matched_ids: dict[int, int] = {}
        if table.name == "user_account":
            matched_ids = plan.users
        elif table.name == "client":
            matched_ids = plan.clients
        keep = [r for r in source if not (copy.has_id_key(table) and r["id"] in matched_ids)]
        id_map: dict[int, int] = dict(matched_ids)
        if copy.has_id_key(table):
            if table.name == "station" and not plan.station_created:
                new_ids = [plan.station_id]
            else:
                new_ids = copy.allocate_ids(conn, table, len(keep))
            if table.name == "station" and plan.station_created:
                plan.station_id = new_ids[0]
            for row, new_id in zip(keep, new_ids, strict=True):
                id_map[row["id"]] = new_id
        out = []
        skipped = len(source) - len(keep)
        existing = self._existing_keys(conn, table)
        for row in keep:
            if table.name == "client_key" and row["client_id"] in plan.clients:
                skipped += 1  # the merged client's texts move to the target client's key
                continue
            new = copy.remap(table, row, maps)
            if copy.has_id_key(table):
                new["id"] = id_map[row["id"]]
            if table.name == "client" and row["id"] in plan.codes:
                new["client_code"] = plan.codes[row["id"]]
            if existing is not None:
                pk = tuple(new[c.name] for c in table.primary_key.columns)
                if pk in existing:
                    skipped += 1  # a matched account's role, profile or station link
                    continue
            if table.name in ENCRYPTED:
                new[_SOURCE_ID] = row["id"]  # the associated data of the station's texts
            out.append(new)
        return out, skipped, id_map

    def _existing_keys(self, conn: Connection, table: Table) -> set[tuple[Any, ...]] | None:
        """For tables keyed by an account or a station (roles, profiles, station links): the
        keys the target already has, so a matched account's rows are not added twice."""
        if copy.has_id_key(table) or table.name in ("client_key", "case_topic"):
            return None
        refs = dict(copy.foreign_keys(table))
        if not any(
            refs.get(c.name) in ("user_account", "station") for c in table.primary_key.columns
        ):
            return None
        cols = list(table.primary_key.columns)
        return {tuple(r) for r in conn.execute(select(*cols))}

    def _client_resolver(self) -> Callable[[str, Mapping[str, Any]], int | None]:
        appointment_client = {r["id"]: r["client_id"] for r in self.rows["appointment"]}
        note_appointment = {r["id"]: r["appointment_id"] for r in self.rows["session_note"]}
        flag_client = {r["id"]: r["client_id"] for r in self.rows["crisis_flag"]}

        def resolve(table: str, row: Mapping[str, Any]) -> int | None:
            if table == "session_note":
                return appointment_client.get(row["appointment_id"])
            if table == "note_addendum":
                return appointment_client.get(note_appointment.get(row["note_id"]))
            if table == "crisis_followup":
                return flag_client.get(row["flag_id"])
            return row["client_id"]

        return resolve

    def _reseal(
        self,
        table: str,
        row: dict[str, Any],
        keys: _Keys,
        resolve: Callable[[str, Mapping[str, Any]], int | None],
    ) -> dict[str, Any]:
        old_id = row.pop(_SOURCE_ID)
        # The row's foreign keys are the target's already; the client is found in the source.
        src_client = resolve(table, self._source_row(table, old_id))
        version = row["key_version"]
        for column, aad in ENCRYPTED[table]:
            blob = row[column]
            if blob is None:
                continue
            where = f"{table} {old_id}"
            if src_client is None:
                if table != "risk_alert":
                    self.problems.append(
                        _("{where}: a protected text without a client.").format(where=where)
                    )
                    continue
                src_key, (dst_key, dst_version) = keys.src_anonymous, (keys.tgt_anonymous, version)
                target_client = None
            else:
                found = keys.source(src_client, version)
                if found is None:
                    self.unreadable += 1  # the client was erased at the station
                    continue
                src_key = found
                dst_key, dst_version = keys.target(src_client, version)
                target_client = keys.client_map[src_client]
            try:
                plain = crypto.decrypt(
                    src_key, blob, table=table, column=aad, row_id=old_id, key_version=version
                )
            except crypto.TamperedCiphertext:
                self.problems.append(
                    _("{where}: the protected text ({column}) fails its integrity check.").format(
                        where=where, column=aad
                    )
                )
                continue
            row[column] = crypto.encrypt(
                dst_key, plain, table=table, column=aad, row_id=row["id"], key_version=dst_version
            )
            row["key_version"] = dst_version
            self.reencrypted += 1
            self.digests.append(
                (
                    table,
                    column,
                    aad,
                    row["id"],
                    target_client,
                    dst_version,
                    hashlib.sha256(plain.encode("utf-8")).digest(),
                )
            )
        return row

    def _source_row(self, table: str, row_id: int) -> dict[str, Any]:
        by_id = self._index.get(table)
        if by_id is None:
            by_id = self._index[table] = {r["id"]: r for r in self.rows[table]}
        return by_id[row_id]

    # -- the audit trail -----------------------------------------------------------------------

    def _append_audit(
        self, session: Session, maps: dict[str, dict[int, int]], plan: _Plan
    ) -> tuple[int, int]:
        """Appends the station's entries, the code changes and the import's own entry to the
        target's chain; returns how many entries were appended, and how many of the station's
        got another id. The head is locked last, then the entries take their ids, so ids and
        positions ascend together even with station PCs writing meanwhile."""
        key = self.tgt_vault.derived_key(AUDIT_KEY_PURPOSE)
        head = session.get(m.AuditChain, 1, with_for_update=True)
        if head is None:
            head = m.AuditChain(id=1, seq=0, mac="")
            session.add(head)
            session.flush()
        self.head_before = (head.seq, head.mac)
        now = self.clock.now()
        entries: list[m.AuditEvent] = []
        src_entries = sorted(self.rows["audit_event"], key=lambda r: r["seq"])
        for row in src_entries:
            users, stations = maps["user_account"], maps["station"]
            entries.append(
                m.AuditEvent(
                    occurred_at=row["occurred_at"],
                    user_id=None if row["user_id"] is None else users[row["user_id"]],
                    username=row["username"],
                    role=row["role"],
                    station_id=None if row["station_id"] is None else stations[row["station_id"]],
                    action=row["action"],
                    object_type=row["object_type"],
                    object_ref=row["object_ref"],
                    result=row["result"],
                    detail=IMPORTED_PREFIX.format(seq=row["seq"]) + row["detail"],
                )
            )
        for old, new in plan.codes_changed:
            entries.append(
                m.AuditEvent(
                    occurred_at=now,
                    user_id=None,
                    username="",
                    role="",
                    station_id=plan.station_id,
                    action="import_client_code",
                    object_type="client",
                    object_ref=new,
                    result="ok",
                    detail=f"code at the station: {old}",
                )
            )
        src_seq, src_mac = self.src_head
        entries.append(
            m.AuditEvent(
                occurred_at=now,
                user_id=None,
                username="",
                role="",
                station_id=plan.station_id,
                action="import_station",
                object_type="station",
                object_ref=str(plan.station_id),
                result="ok",
                detail=(
                    f"source sha256 {self.digest}; source audit head {src_seq} {src_mac}; "
                    f"{len(src_entries)} entries imported"
                ),
            )
        )
        ids = copy.allocate_ids(session.connection(), _table(m.AuditEvent), len(entries))
        seq, mac = head.seq, head.mac
        for entry, new_id in zip(entries, ids, strict=True):
            seq += 1
            entry.id = new_id
            entry.seq = seq
            entry.mac = entry_mac(key, entry, mac)
            mac = entry.mac
            session.add(entry)
        head.seq, head.mac = seq, mac
        moved = sum(1 for row, new_id in zip(src_entries, ids, strict=False) if row["id"] != new_id)
        return len(entries), moved

    # -- the checks ----------------------------------------------------------------------------

    def _check(
        self,
        conn: Connection,
        session: Session,
        before: Mapping[str, int],
        copied: Mapping[str, int],
        keys: _Keys,
        plan: _Plan,
    ) -> None:
        after = copy.count_rows(conn, self.tables)
        for table in self.tables:
            expected = before[table.name] + copied[table.name]
            if table.name == "client_key":
                expected += keys.keys_created
            if after[table.name] != expected:
                self.problems.append(
                    _("{table}: {after} rows after the import, expected {expected}.").format(
                        table=table.name, after=after[table.name], expected=expected
                    )
                )
        if copy.broken_references(conn):
            self.problems.append(_("The import left references that point nowhere."))
        self._check_texts(session, keys)
        self._check_chain(session)

    def _check_texts(self, session: Session, keys: _Keys) -> None:
        """Every text written is read back with the target's key and compared with what the
        station's key opened (by digest)."""
        by_table: dict[str, list[tuple[str, str, str, int, int | None, int, bytes]]] = {}
        for item in self.digests:
            by_table.setdefault(item[0], []).append(item)
        # The target's data keys of every client concerned, unwrapped with the target's key.
        clients = sorted({i[4] for i in self.digests if i[4] is not None})
        data_keys: dict[tuple[int, int], bytes] = {}
        for start in range(0, len(clients), copy.BATCH):
            for client_id, version, wrapped in session.execute(
                select(m.ClientKey.client_id, m.ClientKey.version, m.ClientKey.wrapped_key).where(
                    m.ClientKey.client_id.in_(clients[start : start + copy.BATCH])
                )
            ):
                data_keys[(client_id, version)] = crypto.unwrap(self.tgt_vault.kek, wrapped)
        for table_name, items in by_table.items():
            table = Base.metadata.tables[table_name]
            ids = sorted({i[3] for i in items})
            stored: dict[int, Any] = {}
            for start in range(0, len(ids), copy.BATCH):
                for row in session.connection().execute(
                    select(table).where(table.c.id.in_(ids[start : start + copy.BATCH]))
                ):
                    stored[row.id] = row._mapping
            for _t, column, aad, row_id, client, version, digest in items:
                found = stored.get(row_id)
                try:
                    if found is None:
                        raise crypto.TamperedCiphertext("missing")
                    key = keys.tgt_anonymous if client is None else data_keys[(client, version)]
                    plain = crypto.decrypt(
                        key,
                        found[column],
                        table=table_name,
                        column=aad,
                        row_id=row_id,
                        key_version=found["key_version"],
                    )
                    ok = hashlib.sha256(plain.encode("utf-8")).digest() == digest
                except (CareStationError, KeyError):
                    ok = False
                if not ok:
                    self.problems.append(
                        _(
                            "{table} {id}: the text does not read back with the target's key."
                        ).format(table=table_name, id=row_id)
                    )

    def _check_chain(self, session: Session) -> None:
        key = self.tgt_vault.derived_key(AUDIT_KEY_PURPOSE)
        seq, mac = self.head_before
        entries = session.scalars(
            select(m.AuditEvent).where(m.AuditEvent.seq > seq).order_by(m.AuditEvent.seq)
        ).all()
        last_id = 0
        for entry in entries:
            seq += 1
            if entry.seq != seq or entry.id < last_id or entry_mac(key, entry, mac) != entry.mac:
                self.problems.append(
                    _("The audit entries appended by the import do not form a chain.")
                )
                return
            mac, last_id = entry.mac, entry.id
        head = session.get(m.AuditChain, 1)
        if head is None or head.seq != seq or head.mac != mac:
            self.problems.append(_("The audit entries appended by the import do not form a chain."))


def _existing(conn: Connection, column: Any, values: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(values), copy.BATCH):
        found.update(
            conn.execute(
                select(column).where(column.in_(values[start : start + copy.BATCH]))
            ).scalars()
        )
    return found


def _table(model: type[Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


def format_report(report: ImportReport) -> str:
    """The report the command prints: per table, the rows in the file, copied, found already in
    the target, and copied with a new id; then who was matched and what was re-keyed."""
    if report.station_created:
        head = _("Imported station {name} as a new station (id {id}).")
    else:
        head = _("Imported station {name} into the existing empty station (id {id}).")
    lines = [head.format(name=report.station, id=report.station_id)]
    if report.source_migrated:
        lines.append(
            _("The file was at schema {revision}; a copy was migrated first.").format(
                revision=report.source_revision
            )
        )
    titles = (_("table"), _("in file"), _("copied"), _("already there"), _("ids changed"))
    width = max(len(titles[0]), *(len(t.table) for t in report.tables))
    lines.append("")
    lines.append(f"  {titles[0]:<{width}}  " + "  ".join(f"{t:>13}" for t in titles[1:]))
    for t in report.tables:
        if not t.source_rows:
            continue
        numbers = (t.source_rows, t.copied, t.matched, t.ids_changed)
        lines.append(f"  {t.table:<{width}}  " + "  ".join(f"{n:>13,}" for n in numbers))
    total = (
        sum(t.source_rows for t in report.tables),
        report.rows_copied,
        sum(t.matched for t in report.tables),
        sum(t.ids_changed for t in report.tables),
    )
    total_label = _("total")
    lines.append(f"  {total_label:<{width}}  " + "  ".join(f"{n:>13,}" for n in total))
    lines.append("")
    lines.append(
        _("Accounts that were already on the target (same user name and name): {names}").format(
            names=", ".join(report.users_matched) or "-"
        )
    )
    lines.append(
        _("Clients who were already on the target (same code and name): {codes}").format(
            codes=", ".join(report.clients_merged) or "-"
        )
    )
    if report.codes_changed:
        lines.append(_("Client codes taken by someone else on the target, given new codes:"))
        lines += [f"  {old} -> {new}" for old, new in report.codes_changed]
    else:
        lines.append(_("Client codes: all kept."))
    lines.append(
        _(
            "Protected texts re-encrypted for the target: {count}; of erased clients, carried "
            "unreadable: {unreadable}."
        ).format(count=report.texts_reencrypted, unreadable=report.texts_unreadable)
    )
    lines.append(
        _(
            "Audit trail: {count} entries of the station re-sealed into the target's chain; the "
            "whole chain verifies ({checked} entries)."
        ).format(count=report.audit_imported, checked=report.audit_checked)
    )
    lines.append(_("Source file SHA-256: {digest}").format(digest=report.source_sha256))
    return "\n".join(lines)
