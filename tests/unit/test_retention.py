"""The retention purge: texts of cases closed longer than the station's retention period go,
in calendar months, per station; open cases never; counts stay; the log and the audit trail get
counts only."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from carestation.db import models as m
from carestation.domain.errors import PermissionDenied
from carestation.domain.rights import months_before
from carestation.domain.roles import Role
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    CaseOutcome,
    CaseStatus,
    FlagSource,
    NoteTemplate,
    Topic,
)
from carestation.services.container import Services
from carestation.services.retention import RetentionService
from tests.conftest import FakeClock
from tests.factories import World, build_world

BLOB = b"\x01" + b"\x00" * 40  # stands for a ciphertext: the purge never opens one


@dataclass
class CaseIds:
    case_id: int
    note_ids: tuple[int, ...]
    flag_id: int
    follow_up_id: int


def add_case(
    services: Services,
    world: World,
    *,
    opened: datetime,
    closed: datetime | None,
    station_id: int | None = None,
    notes: int = 2,
) -> CaseIds:
    """A case with `notes` session notes (the first filed in the case, the others only on one
    of its appointments), an addendum on the first, a closing summary, and a crisis flag with
    its texts and a follow-up note."""
    station = station_id or world.station_id
    with services.db.write() as session:
        case = m.Case(
            client_id=world.client_id,
            station_id=station,
            counsellor_id=world.counsellor.user_id,
            status=CaseStatus.CLOSED if closed else CaseStatus.OPEN,
            outcome=CaseOutcome.IMPROVED if closed else None,
            opened_at=opened,
            closed_at=closed,
            summary_ciphertext=BLOB,
            key_version=1,
            topics=[m.CaseTopic(topic=Topic.WORK_STRESS)],
        )
        session.add(case)
        session.flush()
        note_ids = []
        for i in range(notes):
            appointment = m.Appointment(
                station_id=station,
                client_id=world.client_id,
                counsellor_id=world.counsellor.user_id,
                case_id=case.id,
                type=AppointmentType.COUNSELLING,
                status=AppointmentStatus.COMPLETED,
                starts_at=opened.replace(hour=1, minute=i),
                ends_at=opened.replace(hour=1, minute=i + 1),
                created_at=opened,
            )
            session.add(appointment)
            session.flush()
            note = m.SessionNote(
                appointment_id=appointment.id,
                case_id=case.id if i == 0 else None,
                author_id=world.counsellor.user_id,
                template=NoteTemplate.FREE,
                body_ciphertext=BLOB,
                key_version=1,
                created_at=opened,
                updated_at=opened,
            )
            session.add(note)
            session.flush()
            note_ids.append(note.id)
            if i == 0:
                session.add(
                    m.NoteAddendum(
                        note_id=note.id,
                        author_id=world.counsellor.user_id,
                        created_at=opened,
                        body_ciphertext=BLOB,
                        key_version=1,
                    )
                )
        flag = m.CrisisFlag(
            client_id=world.client_id,
            case_id=case.id,
            station_id=station,
            source=FlagSource.COUNSELLOR,
            raised_at=opened,
            reason_ciphertext=BLOB,
            key_version=1,
            actions=["called_hotline"],
            actions_ciphertext=BLOB,
        )
        session.add(flag)
        session.flush()
        follow_up = m.CrisisFollowUp(
            flag_id=flag.id, due_at=opened, done_at=opened, note_ciphertext=BLOB, key_version=1
        )
        session.add(follow_up)
        session.flush()
        return CaseIds(case.id, tuple(note_ids), flag.id, follow_up.id)


def texts_left(services: Services, ids: CaseIds) -> dict[str, int]:
    with services.db.read() as session:
        case = session.get(m.Case, ids.case_id)
        flag = session.get(m.CrisisFlag, ids.flag_id)
        follow_up = session.get(m.CrisisFollowUp, ids.follow_up_id)
        return {
            "notes": int(
                session.scalar(
                    select(func.count())
                    .select_from(m.SessionNote)
                    .where(m.SessionNote.id.in_(ids.note_ids))
                )
                or 0
            ),
            "addenda": int(
                session.scalar(
                    select(func.count())
                    .select_from(m.NoteAddendum)
                    .where(m.NoteAddendum.note_id.in_(ids.note_ids))
                )
                or 0
            ),
            "summary": int(case.summary_ciphertext is not None),
            "reason": int(flag.reason_ciphertext != b""),
            "actions": int(flag.actions_ciphertext is not None),
            "follow_up": int(follow_up.note_ciphertext is not None),
        }


ALL_THERE = {"notes": 2, "addenda": 1, "summary": 1, "reason": 1, "actions": 1, "follow_up": 1}
PURGED = {"notes": 0, "addenda": 0, "summary": 0, "reason": 0, "actions": 0, "follow_up": 0}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


@pytest.fixture
def retention_log(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> pytest.LogCaptureFixture:
    logger = logging.getLogger("carestation.retention")
    # import-linter's command (run by test_architecture) reconfigures logging and disables
    # every logger that exists by then, this one included.
    monkeypatch.setattr(logger, "disabled", False)
    caplog.set_level(logging.INFO, logger=logger.name)
    return caplog


@pytest.fixture
def retention(services: Services, clock: FakeClock) -> RetentionService:
    return RetentionService(services.db, services.audit, clock, services.vault)


def test_months_before_counts_calendar_months() -> None:
    assert months_before(utc(2026, 11, 23, 2), 120) == utc(2016, 11, 23, 2)
    assert months_before(utc(2026, 3, 31), 1) == utc(2026, 2, 28)
    assert months_before(utc(2024, 2, 29), 12) == utc(2023, 2, 28)
    assert months_before(utc(2026, 1, 15), 13) == utc(2024, 12, 15)
    assert months_before(utc(2026, 1, 15), 0) == utc(2026, 1, 15)
    with pytest.raises(ValueError, match="must not be negative"):
        months_before(utc(2026, 1, 15), -1)


def test_texts_of_cases_closed_beyond_retention_are_purged(
    services: Services,
    world: World,
    retention: RetentionService,
    retention_log: pytest.LogCaptureFixture,
) -> None:
    eleven = add_case(services, world, opened=utc(2015, 9, 1), closed=utc(2015, 11, 20))
    nine = add_case(services, world, opened=utc(2017, 9, 1), closed=utc(2017, 11, 20))
    never = add_case(services, world, opened=utc(2010, 5, 1), closed=None)  # still open

    report = retention.purge_expired()

    assert texts_left(services, eleven) == PURGED
    assert texts_left(services, nine) == ALL_THERE
    assert texts_left(services, never) == ALL_THERE
    main = report.stations[0]
    assert (main.station_id, main.retention_months, main.cutoff) == (
        world.station_id,
        120,
        utc(2016, 11, 23, 2),
    )
    assert (
        main.cases,
        main.notes,
        main.addenda,
        main.case_summaries,
        main.crisis_texts,
        main.follow_up_notes,
    ) == (1, 2, 1, 1, 1, 1)
    assert report.purged == 6
    assert not report.dry_run
    # De-identified rows stay: the case with its outcome and topics, its appointments, the flag.
    with services.db.read() as session:
        case = session.get(m.Case, eleven.case_id)
        assert (case.status, case.outcome, [t.topic for t in case.topics]) == (
            CaseStatus.CLOSED,
            CaseOutcome.IMPROVED,
            [Topic.WORK_STRESS],
        )
        assert (
            session.scalar(
                select(func.count())
                .select_from(m.Appointment)
                .where(m.Appointment.case_id == eleven.case_id)
            )
            == 2
        )
        assert session.get(m.CrisisFlag, eleven.flag_id).actions == ["called_hotline"]

    lines = [r.getMessage() for r in retention_log.records if r.name == "carestation.retention"]
    assert lines == [
        "retention: station 1 (120 months, closed before 2016-11-23): 1 cases, 2 notes, "
        "1 addenda, 1 case summaries, 1 crisis texts, 1 follow-up notes purged",
    ]  # station 2 had nothing to purge: no line at INFO
    for line in lines:
        for personal in ("ABCD-EFGH-1", "张三", "13800000000", "暨阳", "陈静"):
            assert personal not in line

    with services.db.read() as session:
        entry = session.scalars(
            select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(1)
        ).one()
        assert (entry.action, entry.username, entry.user_id, entry.role, entry.result) == (
            "purge_expired",
            "system",
            None,
            "",
            "ok",
        )
        assert entry.detail == (
            "stations 2; cases 1; notes 2; addenda 1; case summaries 1; crisis texts 1; "
            "follow-up notes 1"
        )


def test_the_purge_is_idempotent(
    services: Services, world: World, retention: RetentionService
) -> None:
    add_case(services, world, opened=utc(2015, 9, 1), closed=utc(2015, 11, 20))
    assert retention.purge_expired().purged == 6
    again = retention.purge_expired()
    assert again.purged == 0
    assert again.total("cases") == 1  # still expired, nothing left in it
    with services.db.read() as session:
        details = list(
            session.scalars(
                select(m.AuditEvent.detail)
                .where(m.AuditEvent.action == "purge_expired")
                .order_by(m.AuditEvent.id)
            )
        )
    assert details[-1] == (
        "stations 2; cases 1; notes 0; addenda 0; case summaries 0; crisis texts 0; "
        "follow-up notes 0"
    )
    assert services.audit.verify().ok


def test_the_cutoff_is_exact_to_the_calendar_month(
    services: Services, world: World, retention: RetentionService
) -> None:
    # Now is 2026-11-23 02:00 UTC; 120 calendar months earlier is 2016-11-23 02:00.
    just_expired = add_case(services, world, opened=utc(2016, 1, 4), closed=utc(2016, 11, 23, 1))
    just_kept = add_case(services, world, opened=utc(2016, 1, 5), closed=utc(2016, 11, 23, 3))
    retention.purge_expired()
    assert texts_left(services, just_expired) == PURGED
    assert texts_left(services, just_kept) == ALL_THERE
    # A day later it is old enough too.
    retention.purge_expired(now=utc(2026, 11, 24, 2))
    assert texts_left(services, just_kept) == PURGED


def test_each_station_has_its_own_period(
    services: Services, world: World, retention: RetentionService
) -> None:
    with services.db.write() as session:
        session.get(m.Station, world.other_station_id).retention_months = 60
    here = add_case(services, world, opened=utc(2020, 6, 1), closed=utc(2020, 10, 1))
    there = add_case(
        services,
        world,
        opened=utc(2020, 6, 2),
        closed=utc(2020, 10, 1),
        station_id=world.other_station_id,
    )
    report = retention.purge_expired()
    assert texts_left(services, here) == ALL_THERE
    assert texts_left(services, there) == PURGED
    assert [(s.station_id, s.retention_months, s.notes) for s in report.stations] == [
        (world.station_id, 120, 0),
        (world.other_station_id, 60, 2),
    ]


def test_a_station_without_a_valid_period_is_skipped(
    services: Services, world: World, retention: RetentionService
) -> None:
    with services.db.write() as session:
        session.get(m.Station, world.station_id).retention_months = 0
    ids = add_case(services, world, opened=utc(2001, 1, 1), closed=utc(2001, 2, 1))
    report = retention.purge_expired()
    assert texts_left(services, ids) == ALL_THERE
    assert [s.station_id for s in report.stations] == [world.other_station_id]


def test_preview_counts_without_deleting(
    services: Services, world: World, retention: RetentionService
) -> None:
    ids = add_case(services, world, opened=utc(2015, 9, 1), closed=utc(2015, 11, 20))
    entries = services.audit.entries(action="purge_expired")
    preview = retention.preview(actor=world.admin)
    assert preview.dry_run
    assert texts_left(services, ids) == ALL_THERE
    assert services.audit.entries(action="purge_expired") == entries
    purge = retention.purge_expired()
    assert [
        (s.cases, s.notes, s.addenda, s.case_summaries, s.crisis_texts, s.follow_up_notes)
        for s in preview.stations
    ] == [
        (s.cases, s.notes, s.addenda, s.case_summaries, s.crisis_texts, s.follow_up_notes)
        for s in purge.stations
    ]
    assert preview.purged == purge.purged == 6


def test_only_an_administrator_starts_or_previews_a_purge(
    services: Services, world: World, retention: RetentionService
) -> None:
    ids = add_case(services, world, opened=utc(2015, 9, 1), closed=utc(2015, 11, 20))
    for role in (Role.STAFF, Role.COUNSELLOR, Role.MANAGER):
        actor = world.actor(role)
        for action, call in (
            ("preview_purge", retention.preview),
            ("purge_expired", retention.purge_expired),
        ):
            with pytest.raises(PermissionDenied):
                call(actor=actor)
            (entry,) = services.audit.entries(limit=1)
            assert (entry.action, entry.result, entry.username) == (
                action,
                "denied",
                actor.username,
            )
    assert texts_left(services, ids) == ALL_THERE
    retention.preview(actor=world.admin)
    report = retention.purge_expired(actor=world.admin)
    assert report.purged == 6
    (entry,) = services.audit.entries(limit=1)
    assert (entry.action, entry.username, entry.result) == ("purge_expired", "admin", "ok")
