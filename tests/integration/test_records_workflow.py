"""The whole confidential-records workflow, as the issue's "Done when" describes it, with a canary
name and canary note text that must never reach the log, temp folders, settings, the audit
trail, PDF metadata or (for the note text) the database file."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from carestation import logs
from carestation.cli import main
from carestation.db import models as m
from carestation.db.engine import Database
from carestation.db.migrate import open_database
from carestation.domain.booking import ClientInput
from carestation.domain.vocab import (
    AppointmentStatus,
    CaseOutcome,
    ConsentPurpose,
    CrisisAction,
    DisclosureBasis,
    Gender,
    NoteStatus,
    NoteTemplate,
    RiskLevel,
    Topic,
)
from carestation.security import secret_store
from carestation.security.secret_store import MemorySecretStore
from carestation.services.container import Services, build_services
from carestation.services.keys import KeyVault
from tests.conftest import FakeClock
from tests.factories import add_appointment, build_world

CANARY_NAME = "金丝雀测试员"
CANARY_PHONE = "13912345678"
CANARY_NOTE = "CANARY-NOTE-7Q4 来访者谈到金丝雀计划"
CANARY_REASON = "CANARY-REASON-9Z 危机原因"


def _encodings(value: str) -> list[bytes]:
    return [value.encode("utf-8"), value.encode("utf-16-le"), value.encode("utf-16-be")]


def _contains(data: bytes, value: str) -> bool:
    return any(form in data for form in _encodings(value))


@pytest.fixture
def workflow_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Path]]:
    """A private temp folder and a log file for this test, so both can be searched afterwards."""
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    monkeypatch.setenv("TMPDIR", str(temp))
    log_file = tmp_path / "logs" / "carestation.log"
    root = logging.getLogger()
    before = list(root.handlers)
    logs.configure(log_file)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)  # statements are logged too
    try:
        yield {"temp": temp, "log": log_file, "db": tmp_path / "records.db"}
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
        for handler in list(root.handlers):
            if handler not in before:
                root.removeHandler(handler)
                handler.close()


def test_open_a_case_run_three_sessions_flag_clear_export_erase_and_verify(
    workflow_env: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{workflow_env['db']}"
    engine, _r = open_database(url)
    db = Database(engine)
    store = MemorySecretStore()
    monkeypatch.setattr(secret_store, "open_os_store", lambda: store)
    clock = FakeClock()
    services: Services = build_services(db, clock, vault=KeyVault(db, store, clock=clock))
    services.vault.set_up()
    world = build_world(services)
    staff, counsellor, admin = world.staff, world.counsellor, world.admin

    # The desk registers the person and takes the consents, each purpose separately.
    client = services.clients.register(
        actor=staff,
        data=ClientInput(
            name=CANARY_NAME,
            phone=CANARY_PHONE,
            work_unit="诸暨市金丝雀厂",
            gender=Gender.FEMALE,
            birth_year=1988,
        ),
    )
    services.consent.give(
        staff,
        client_id=client.id,
        purposes=frozenset({ConsentPurpose.COUNSELLING, ConsentPurpose.ASSESSMENT}),
        language="zh_CN",
    )

    # The counsellor opens a case and runs three sessions, each with a signed note.
    case = services.cases.open_case(
        counsellor,
        client_id=client.id,
        topics=frozenset({Topic.WORK_STRESS, Topic.EMOTION_REGULATION}),
        risk_level=RiskLevel.MEDIUM,
    )
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    note_ids = []
    for week in range(3):
        begins = start + timedelta(weeks=week)
        appointment_id = add_appointment(
            services,
            world,
            begins,
            begins + timedelta(minutes=50),
            status=AppointmentStatus.COMPLETED,
        )
        with db.write() as session:
            row = session.get(m.Appointment, appointment_id)
            assert row is not None
            row.client_id = client.id
        services.cases.attach_appointment(counsellor, case.id, appointment_id)
        draft = services.notes.save_draft(
            counsellor,
            appointment_id=appointment_id,
            template=NoteTemplate.SOAP,
            sections={"subjective": f"{CANARY_NOTE} {week}", "plan": "下周继续"},
            expected_version=None,
        )
        signed = services.notes.sign(counsellor, draft.id, expected_version=draft.version)
        assert signed.status is NoteStatus.FINAL
        note_ids.append(signed.id)
    addendum = services.notes.add_addendum(counsellor, note_ids[0], f"补充：{CANARY_NOTE}")
    assert addendum.text.startswith("补充")
    assert (
        services.notes.get_note(counsellor, note_ids[0])
        .sections["subjective"]
        .startswith(CANARY_NOTE)
    )

    # A crisis: flagged, cleared with the actions recorded, follow-ups recorded.
    flag = services.crisis.raise_flag(
        counsellor, client_id=client.id, reason=CANARY_REASON, case_id=case.id
    )
    services.crisis.clear_flag(
        counsellor,
        flag.id,
        actions=frozenset(
            {CrisisAction.STAYED_WITH_PERSON.value, CrisisAction.CALLED_HOTLINE.value}
        ),
        what_was_done="陪伴并拨打12351，联系家属",
    )
    clock.advance(days=8)
    for item in services.crisis.followups_due(counsellor, day=clock.now().date()):
        services.crisis.record_followup(counsellor, item.id, note="电话回访，情绪稳定")
    services.disclosures.record(
        counsellor,
        client_id=client.id,
        disclosed_on=date(2026, 11, 20),
        recipient="诸暨市人民医院心理科",
        what="转介信",
        why="来访者本人要求转介",
        basis=DisclosureBasis.CLIENT_REQUEST,
    )
    current = services.cases.get_case(counsellor, case.id).case
    services.cases.close_case(
        counsellor,
        case.id,
        outcome=CaseOutcome.REFERRED,
        summary="转介至医院心理科",
        expected_version=current.version,
    )

    # The administrator exports everything held, then erases it on request.
    exported = json.loads(services.rights.export_json(admin, client.id))
    assert CANARY_NAME in json.dumps(exported, ensure_ascii=False)
    assert CANARY_NOTE not in json.dumps(exported, ensure_ascii=False)  # admins never read notes
    old_code = client.client_code
    services.rights.erase(admin, client_id=client.id, request_ref="REQ-2026-001")
    assert services.rights.find_for_request(admin, CANARY_NAME) == []

    # The audit trail shows it all, by code; it verifies, and breaks after a hand edit.
    actions = [e.action for e in services.audit.entries(limit=1000)]
    for expected in (
        "register_client",
        "give_consent",
        "open_case",
        "sign_note",
        "add_addendum",
        "raise_crisis_flag",
        "clear_crisis_flag",
        "export_client",
        "erase_client",
    ):
        assert expected in actions, expected
    assert any(e.object_ref == old_code for e in services.audit.entries(limit=1000))
    assert services.audit.verify().ok
    engine.dispose()
    assert main(["--lang", "en", "audit", "verify", "--db", url]) == 0

    # Nothing leaked: log, temp folder, audit trail, database file and -wal.
    logging.getLogger().handlers[-1].flush()
    log_text = workflow_env["log"].read_bytes() if workflow_env["log"].exists() else b""
    for secret in (CANARY_NAME, CANARY_PHONE, CANARY_NOTE, CANARY_REASON):
        assert not _contains(log_text, secret), f"{secret} in the log"
    for path in workflow_env["temp"].rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for secret in (CANARY_NAME, CANARY_NOTE, CANARY_REASON):
                assert not _contains(data, secret), f"{secret} in temp file {path.name}"
    engine, _r = open_database(url)
    with engine.connect() as conn:
        for row in conn.execute(text("SELECT username, object_ref, detail FROM audit_event")):
            joined = " ".join(str(v) for v in row)
            for secret in (CANARY_NAME, CANARY_PHONE, CANARY_NOTE, CANARY_REASON):
                assert secret not in joined
    engine.dispose()
    with contextlib.closing(sqlite3.connect(workflow_env["db"])) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    for suffix in ("", "-wal"):
        path = Path(f"{workflow_env['db']}{suffix}")
        if path.exists():
            data = path.read_bytes()
            for secret in (CANARY_NAME, CANARY_PHONE, CANARY_NOTE, CANARY_REASON):
                assert not _contains(data, secret), f"{secret} in {path.name}"

    # A row edited by hand: `audit verify` now fails and names it.
    engine, _r = open_database(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE audit_event SET result = 'ok' WHERE action = 'erase_client'"))
        conn.execute(
            text("UPDATE audit_event SET object_ref = 'XXXX' WHERE action = 'export_client'")
        )
    engine.dispose()
    assert main(["--lang", "en", "audit", "verify", "--db", url]) == 2
    assert os.environ.get("TMPDIR") == str(workflow_env["temp"])


def test_the_sql_log_never_shows_parameters(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """`hide_parameters=True`: with statement logging on, a name bound in a query is not logged."""
    engine, _r = open_database(sqlite_url)
    db = Database(engine)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with db.read() as session:
        session.execute(select(m.Client.id).where(m.Client.name == CANARY_NAME)).all()
    engine.dispose()
    assert "SELECT" in caplog.text
    assert CANARY_NAME not in caplog.text
