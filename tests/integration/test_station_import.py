"""`carestation import-sqlite`: a demo station's SQLite file moved into a database that already
holds another station (ids clash, one client is the same person, one client code is taken, the
administrator account exists on both). Texts must read with the target's key, counts add up,
the audit chain verifies, and any failed check leaves the target exactly as it was."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from carestation.cli import main
from carestation.db import models as m
from carestation.db.base import Base
from carestation.db.demo import generate_demo
from carestation.db.engine import Database
from carestation.db.migrate import downgrade, open_database
from carestation.security import crypto, keys
from carestation.services.audit import AuditLog
from carestation.services.keys import KeyVault
from carestation.services.risk_alerts import ANONYMOUS_NOTE_PURPOSE, DERIVED_KEY_VERSION
from carestation.services.station_import import ENV_SOURCE_CODE, ENV_TARGET_CODE

TODAY = date(2026, 11, 23)
AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Station:
    path: Path
    name: str
    code: str  # the recovery code of the station database's key
    notes: Counter[str]  # every readable note text in the file
    merged: str  # a client code that the target has for the same person
    merged_name: str
    clashing: str  # a client code that the target has for someone else
    erased: str  # a client erased at the station: their texts cannot be read anywhere


def _vault(engine: Engine) -> KeyVault:
    vault = KeyVault(Database(engine), None)
    assert vault.try_unlock()  # a demo database carries its key
    return vault


def _note_texts(engine: Engine, station_name: str) -> Counter[str]:
    """Every note of the station that opens with the database's own key."""
    vault = _vault(engine)
    texts: Counter[str] = Counter()
    with vault.db.read() as session:
        rows = session.execute(
            select(m.SessionNote, m.Appointment.client_id)
            .join(m.Appointment, m.Appointment.id == m.SessionNote.appointment_id)
            .join(m.Station, m.Station.id == m.Appointment.station_id)
            .where(m.Station.name == station_name)
        ).all()
        for note, client_id in rows:
            try:
                texts[
                    vault.open(
                        session,
                        client_id,
                        note.body_ciphertext,
                        table="session_note",
                        column="body",
                        row_id=note.id,
                        key_version=note.key_version,
                    )
                ] += 1
            except Exception:  # an erased client's note
                continue
    return texts


@pytest.fixture(scope="module")
def station(tmp_path_factory: pytest.TempPathFactory) -> Station:
    """One station's database, with the things the demo lacks: audit entries, an addendum, a
    case summary, an anonymous alert note, and a client erased at the station."""
    path = tmp_path_factory.mktemp("station") / "station.db"
    engine, _result = open_database(f"sqlite:///{path.as_posix()}")
    try:
        generate_demo(engine, stations=1, clients=60, months=2, seed=1, today=TODAY)
        vault = _vault(engine)
        audit = AuditLog(vault.db, vault=vault)
        for i in range(5):
            audit.record_now(actor=None, action="sign_in", username="c001", detail=f"desk {i}")
        with vault.db.write() as session:
            name = session.scalar(select(m.Station.name))
            assert name is not None
            note, client_id = session.execute(
                select(m.SessionNote, m.Appointment.client_id)
                .join(m.Appointment, m.Appointment.id == m.SessionNote.appointment_id)
                .order_by(m.SessionNote.id)
            ).first()  # type: ignore[misc]
            addendum = m.NoteAddendum(
                note_id=note.id,
                author_id=note.author_id,
                created_at=AT,
                body_ciphertext=b"",
                key_version=0,
            )
            session.add(addendum)
            session.flush()
            addendum.body_ciphertext, addendum.key_version = vault.seal(
                session,
                client_id,
                "补充：来访者电话回访",
                table="note_addendum",
                column="body",
                row_id=addendum.id,
            )
            case = session.scalars(select(m.Case).order_by(m.Case.id)).first()
            assert case is not None
            case.summary_ciphertext, case.key_version = vault.seal(
                session,
                case.client_id,
                "结案：情绪稳定",
                table="care_case",
                column="summary",
                row_id=case.id,
            )
            alert = m.RiskAlert(
                station_id=1,
                mode="anonymous",
                instrument="phq9",
                reason="phq9_item9",
                raised_at=AT,
                acted_at=AT,
                note_ciphertext=b"",
            )
            session.add(alert)
            session.flush()
            alert.note_ciphertext = crypto.encrypt(
                vault.derived_key(ANONYMOUS_NOTE_PURPOSE),
                "已现场联系",
                table="risk_alert",
                column="note",
                row_id=alert.id,
                key_version=DERIVED_KEY_VERSION,
            )
            alert.key_version = DERIVED_KEY_VERSION
            # Three clients with notes: one erased here, two whose codes the target also has.
            with_notes = session.scalars(
                select(m.Client)
                .where(
                    m.Client.id.in_(
                        select(m.Appointment.client_id).join(
                            m.SessionNote, m.SessionNote.appointment_id == m.Appointment.id
                        )
                    ),
                    m.Client.id != client_id,
                )
                .order_by(m.Client.id)
            ).all()
            erased, merged, clashing = with_notes[0], with_notes[1], with_notes[2]
            erased.erased_at = AT
            session.execute(
                m.ClientKey.__table__.delete().where(m.ClientKey.client_id == erased.id)
            )
        codes = (merged.client_code, clashing.client_code, erased.client_code)
        merged_name, code = merged.name, vault.recovery_code()
        notes = _note_texts(engine, name)
    finally:
        engine.dispose()
    return Station(path, name, code, notes, codes[0], merged_name, codes[1], codes[2])


def _target(url: str, station: Station, *, conflict: bool = False) -> None:
    """Another station's data (other seed, so another key, and the same ids), with the station's
    administrator account, one of its clients, and another client's code."""
    engine, _result = open_database(url)
    try:
        generate_demo(engine, stations=1, clients=40, months=1, seed=2, today=TODAY)
        vault = _vault(engine)
        audit = AuditLog(vault.db, vault=vault)
        for i in range(3):
            audit.record_now(actor=None, action="sign_in", username="tadmin", detail=f"hq {i}")
        with engine.begin() as conn:
            conn.execute(text("UPDATE station SET name = 'Zhuji headquarters'"))
            keep = "('admin', 'c001')" if conflict else "('admin')"
            conn.execute(
                text(
                    f"UPDATE user_account SET username = 't' || username WHERE username NOT IN {keep}"
                )
            )
            conn.execute(
                text("UPDATE client SET client_code = :code, name = :name WHERE id = 1"),
                {"code": station.merged, "name": station.merged_name},
            )
            conn.execute(
                text("UPDATE client SET client_code = :code WHERE id = 2"),
                {"code": station.clashing},
            )
    finally:
        engine.dispose()


def _fingerprint(url: str) -> str:
    """A digest of every row of every table: equal before and after means nothing changed."""
    engine, _result = open_database(url)
    digest = hashlib.sha256()
    try:
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                rows = sorted(repr(tuple(r)) for r in conn.execute(select(table)))
                digest.update(f"{table.name}:{len(rows)}:{rows}".encode())
    finally:
        engine.dispose()
    return digest.hexdigest()


def _counts(url: str) -> dict[str, int]:
    engine, _result = open_database(url)
    try:
        with engine.connect() as conn:
            return {
                t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _run(station: Station, url: str, *, source: Path | None = None) -> int:
    return main(
        [
            "--lang",
            "en",
            "import-sqlite",
            "--from",
            str(source or station.path),
            "--to",
            url,
            "--station",
            station.name,
        ]
    )


@pytest.fixture
def with_code(station: Station, monkeypatch: pytest.MonkeyPatch) -> Station:
    monkeypatch.setenv(ENV_SOURCE_CODE, station.code)
    return station


def _report_row(out: str, table: str) -> list[str]:
    for line in out.splitlines():
        parts = line.split()
        if parts and parts[0] == table:
            return parts[1:]
    raise AssertionError(f"no line for {table} in the report:\n{out}")


def test_station_moves_in_with_every_text_readable(
    with_code: Station, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    station = with_code
    _target(db_url, station)
    before = _counts(db_url)
    engine, _result = open_database(db_url)
    with engine.connect() as conn:  # does the target's copy of the merged client have a key?
        had_key = conn.execute(text("SELECT COUNT(*) FROM client_key WHERE client_id = 1")).scalar()
    engine.dispose()
    source_before = hashlib.sha256(station.path.read_bytes()).hexdigest()

    assert _run(station, db_url) == 0
    out = capsys.readouterr().out

    assert hashlib.sha256(station.path.read_bytes()).hexdigest() == source_before
    after = _counts(db_url)
    source_counts = _counts(f"sqlite:///{station.path.as_posix()}")
    # The station brings everything; the administrator account, their role, the merged client
    # and that client's data key were already there.
    already = {"user_account": 1, "user_role": 1, "client": 1}
    for table, n in source_counts.items():
        if table in ("carestation_meta", "audit_chain"):
            assert after[table] == before[table]
            continue
        # The audit trail also gets the import's own entry and one for the changed code.
        extra = {"audit_event": 2}.get(table, 0)
        # The merged client's texts move to their target key (made now if they had none).
        merged_key = (1 - (0 if had_key else 1)) if table == "client_key" else 0
        assert after[table] == before[table] + n - already.get(table, 0) - merged_key + extra, table

    engine, _result = open_database(db_url)
    try:
        vault = _vault(engine)
        # Every note the station could read, the target reads with its own key.
        assert _note_texts(engine, station.name) == station.notes
        assert sum(station.notes.values()) == source_counts["session_note"] - _erased_notes(station)
        with vault.db.read() as session:
            new_station = session.scalar(select(m.Station).where(m.Station.name == station.name))
            assert new_station is not None
            assert new_station.id == 2
            # The same person: their notes from the station now hang on the target's client 1.
            merged = session.scalar(select(m.Client).where(m.Client.client_code == station.merged))
            assert merged is not None
            assert merged.id == 1
            moved = session.scalar(
                select(func.count())
                .select_from(m.SessionNote)
                .join(m.Appointment, m.Appointment.id == m.SessionNote.appointment_id)
                .where(m.Appointment.client_id == 1, m.Appointment.station_id == 2)
            )
            assert moved
            assert moved >= 1
            # Someone else had the code: the station's client got a new one.
            clashing = session.scalars(
                select(m.Client).where(
                    m.Client.home_station_id == 2, m.Client.client_code == station.clashing
                )
            ).all()
            assert clashing == []
            alert = session.scalar(select(m.RiskAlert).where(m.RiskAlert.station_id == 2))
            assert alert is not None
            assert alert.note_ciphertext is not None
            assert (
                crypto.decrypt(
                    vault.derived_key(ANONYMOUS_NOTE_PURPOSE),
                    alert.note_ciphertext,
                    table="risk_alert",
                    column="note",
                    row_id=alert.id,
                    key_version=alert.key_version or 0,
                )
                == "已现场联系"
            )
            case = session.scalar(
                select(m.Case).where(m.Case.station_id == 2, m.Case.summary_ciphertext.is_not(None))
            )
            assert case is not None
            assert case.key_version is not None
            assert (
                vault.open(
                    session,
                    case.client_id,
                    case.summary_ciphertext or b"",
                    table="care_case",
                    column="summary",
                    row_id=case.id,
                    key_version=case.key_version,
                )
                == "结案：情绪稳定"
            )
            last = session.scalar(select(m.AuditEvent).order_by(m.AuditEvent.seq.desc()).limit(1))
            assert last is not None
            assert last.action == "import_station"
            imported = session.scalars(
                select(m.AuditEvent.detail).where(m.AuditEvent.detail.like("imported #%"))
            ).all()
            assert sorted(imported) == [f"imported #{i + 1}: desk {i}" for i in range(5)]
        verified = AuditLog(vault.db, vault=vault).verify()
        assert verified.ok
        assert verified.checked == 3 + 5 + 2
    finally:
        engine.dispose()

    # The printed report: per table, rows in the file, copied, already there, ids changed.
    assert f"Imported station {station.name} as a new station (id 2)." in out
    notes = source_counts["session_note"]
    assert _report_row(out, "session_note") == [str(notes), str(notes), "0", str(notes)]
    assert _report_row(out, "user_account") == ["7", "6", "1", "6"]
    assert _report_row(out, "client") == ["60", "59", "1", "59"]
    assert _report_row(out, "client_key")[2] == "1"
    assert "Accounts that were already on the target (same user name and name): admin" in out
    assert f"Clients who were already on the target (same code and name): {station.merged}" in out
    assert f"  {station.clashing} -> " in out
    assert "carried unreadable: " + str(_erased_notes(station)) + "." in out
    assert "Audit trail: 5 entries of the station re-sealed" in out
    assert "(10 entries)" in out

    # Importing the same file again is refused, and changes nothing.
    fingerprint = _fingerprint(db_url)
    assert _run(station, db_url) == 1
    err = capsys.readouterr().err
    assert "was this file imported before?" in err
    assert _fingerprint(db_url) == fingerprint


def _erased_notes(station: Station) -> int:
    conn = sqlite3.connect(station.path)
    try:
        return conn.execute(
            "SELECT COUNT(*) FROM session_note n JOIN appointment a ON a.id = n.appointment_id "
            "JOIN client c ON c.id = a.client_id WHERE c.client_code = ?",
            (station.erased,),
        ).fetchone()[0]
    finally:
        conn.close()


def test_a_damaged_text_stops_the_import_and_changes_nothing(
    with_code: Station, db_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The check fails after rows were written in the transaction: all of it rolls back."""
    station = with_code
    _target(db_url, station)
    damaged = tmp_path / "damaged.db"
    shutil.copy(station.path, damaged)
    conn = sqlite3.connect(damaged)
    with conn:
        note_id, blob = conn.execute(
            "SELECT id, body_ciphertext FROM session_note ORDER BY id DESC LIMIT 1"
        ).fetchone()
        flipped = blob[:-1] + bytes([blob[-1] ^ 1])
        conn.execute("UPDATE session_note SET body_ciphertext = ? WHERE id = ?", (flipped, note_id))
    conn.close()
    fingerprint = _fingerprint(db_url)

    assert _run(station, db_url, source=damaged) == 1

    err = capsys.readouterr().err
    assert "Nothing was imported; the target database is unchanged." in err
    assert f"session_note {note_id}: the protected text (body) fails its integrity check." in err
    assert _fingerprint(db_url) == fingerprint


def test_a_wrong_recovery_code_changes_nothing(
    station: Station,
    sqlite_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _target(sqlite_url, station)
    fingerprint = _fingerprint(sqlite_url)
    monkeypatch.setenv(ENV_SOURCE_CODE, keys.recovery_code(crypto.new_key()))

    assert _run(station, sqlite_url) == 1

    err = capsys.readouterr().err
    assert "Source database: That recovery code belongs to another database." in err
    assert _fingerprint(sqlite_url) == fingerprint


def test_the_target_key_can_come_from_its_recovery_code(
    with_code: Station, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A wrong target code is refused; the right one (not the demo's stored key) opens it."""
    _target(sqlite_url, with_code)
    engine, _result = open_database(sqlite_url)
    right = _vault(engine).recovery_code()
    engine.dispose()
    monkeypatch.setenv(ENV_TARGET_CODE, with_code.code)  # the station's code, not the target's
    fingerprint = _fingerprint(sqlite_url)
    assert _run(with_code, sqlite_url) == 1
    assert _fingerprint(sqlite_url) == fingerprint
    monkeypatch.setenv(ENV_TARGET_CODE, right)
    assert _run(with_code, sqlite_url) == 0


def test_a_user_name_taken_by_someone_else_changes_nothing(
    with_code: Station, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _target(sqlite_url, with_code, conflict=True)
    fingerprint = _fingerprint(sqlite_url)

    assert _run(with_code, sqlite_url) == 1

    err = capsys.readouterr().err
    assert "The user name c001 belongs to someone else on the target" in err
    assert _fingerprint(sqlite_url) == fingerprint


def test_a_file_with_several_stations_is_refused(
    with_code: Station, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _target(sqlite_url, with_code)
    two = tmp_path / "two.db"
    shutil.copy(with_code.path, two)
    conn = sqlite3.connect(two)
    with conn:
        conn.execute(
            "INSERT INTO station (name, address, phone, time_zone, active, created_at, "
            "retention_months, crisis_plan) VALUES ('Other', '', '', 'Asia/Shanghai', 1, "
            "'2026-01-01 00:00:00.000000', 120, '')"
        )
    conn.close()
    fingerprint = _fingerprint(sqlite_url)

    assert _run(with_code, sqlite_url, source=two) == 1

    assert "import-sqlite moves one station's database" in capsys.readouterr().err
    assert _fingerprint(sqlite_url) == fingerprint


def test_a_real_station_file_needs_its_recovery_code(
    station: Station,
    sqlite_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without the demo's stored key, the code must come from the environment or be typed; it
    is never an argument."""
    _target(sqlite_url, station)
    real = tmp_path / "real.db"
    shutil.copy(station.path, real)
    conn = sqlite3.connect(real)
    with conn:
        conn.execute("DELETE FROM carestation_meta WHERE key = 'demo_kek'")
    conn.close()
    monkeypatch.delenv(ENV_SOURCE_CODE, raising=False)
    fingerprint = _fingerprint(sqlite_url)

    assert _run(station, sqlite_url, source=real) == 1
    assert f"set {ENV_SOURCE_CODE} or run the command at a terminal" in capsys.readouterr().err
    assert _fingerprint(sqlite_url) == fingerprint

    asked: list[str] = []

    def typed(prompt: str) -> str:
        asked.append(prompt)
        return station.code.lower().replace("-", " ")  # as typed from the paper copy

    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    monkeypatch.setattr("getpass.getpass", typed)
    assert _run(station, sqlite_url, source=real) == 0
    assert asked == ["Recovery code of the station's database: "]


def test_an_older_station_file_is_migrated_on_a_copy(
    with_code: Station, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _target(sqlite_url, with_code)
    folder = tmp_path / "old"
    folder.mkdir()
    old = folder / "station.db"
    shutil.copy(with_code.path, old)
    engine, _result = open_database(f"sqlite:///{old.as_posix()}")
    downgrade(engine, "0003")
    engine.dispose()
    digest = hashlib.sha256(old.read_bytes()).hexdigest()

    assert _run(with_code, sqlite_url, source=old) == 0

    assert "The file was at schema 0003; a copy was migrated first." in capsys.readouterr().out
    assert hashlib.sha256(old.read_bytes()).hexdigest() == digest
    # No migration backup beside it (SQLite's empty -wal and -shm of a reader may be there).
    assert [p.name for p in folder.iterdir() if p.suffix == ".db"] == ["station.db"]


def test_a_station_set_up_ahead_on_the_server_is_filled(
    with_code: Station, sqlite_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The administrator created the station (and linked an account to it) before the move:
    the import uses that station and gives it the file's settings."""
    _target(sqlite_url, with_code)
    engine, _result = open_database(sqlite_url)
    with engine.begin() as conn:
        station_id = conn.execute(
            m.Station.__table__.insert().values(
                name=with_code.name, time_zone="UTC", created_at=AT, address=""
            )
        ).inserted_primary_key[0]
        admin = conn.execute(text("SELECT id FROM user_account WHERE username = 'admin'")).scalar()
        conn.execute(m.UserStation.__table__.insert().values(user_id=admin, station_id=station_id))
    engine.dispose()

    assert _run(with_code, sqlite_url) == 0

    out = capsys.readouterr().out
    assert f"into the existing empty station (id {station_id})" in out
    engine, _result = open_database(sqlite_url)
    try:
        with engine.connect() as conn:
            zone, address = conn.execute(
                select(m.Station.time_zone, m.Station.address).where(m.Station.id == station_id)
            ).one()
            rooms = conn.execute(
                select(func.count()).select_from(m.Room).where(m.Room.station_id == station_id)
            ).scalar()
            stations = conn.execute(select(func.count()).select_from(m.Station)).scalar()
    finally:
        engine.dispose()
    assert zone == "Asia/Shanghai"
    assert address != ""
    assert rooms == 6
    assert stations == 2
