"""Consent: one row per purpose on a versioned form, withdrawal that stops processing, the
history kept, who may take it, and the form's wording in both languages."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from carestation.db import models as m
from carestation.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from carestation.domain.rights import parse_consent_wording
from carestation.domain.roles import Role
from carestation.domain.values import Actor
from carestation.domain.vocab import ConsentPurpose
from carestation.services.consent import ConsentService, load_consent_wording
from carestation.services.consent_rules import ConsentMissing, active_consent, require_consent
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import World, build_world, give_consent

BOTH = frozenset({ConsentPurpose.COUNSELLING, ConsentPurpose.ASSESSMENT})


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


@pytest.fixture
def consent(services: Services, clock: FakeClock) -> ConsentService:
    return ConsentService(services.db, services.audit, clock, services.vault)


def consent_rows(services: Services, client_id: int) -> list[m.Consent]:
    with services.db.read() as session:
        return list(
            session.scalars(
                select(m.Consent).where(m.Consent.client_id == client_id).order_by(m.Consent.id)
            )
        )


def last_audit(services: Services) -> m.AuditEvent:
    with services.db.read() as session:
        row = session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(1)).one()
        session.expunge(row)
        return row


def audit_count(services: Services) -> int:
    with services.db.read() as session:
        return len(list(session.scalars(select(m.AuditEvent.id))))


# -- giving -------------------------------------------------------------------------------------


def test_give_records_one_row_per_purpose_with_the_forms_version(
    services: Services, world: World, consent: ConsentService, clock: FakeClock
) -> None:
    given = consent.give(world.staff, client_id=world.client_id, purposes=BOTH, language="zh_CN")

    assert sorted(r.purpose for r in given) == [
        ConsentPurpose.ASSESSMENT,
        ConsentPurpose.COUNSELLING,
    ]
    rows = consent_rows(services, world.client_id)
    assert [(r.purpose, r.wording_version, r.language) for r in rows] == [
        (ConsentPurpose.ASSESSMENT, "2026-11", "zh_CN"),
        (ConsentPurpose.COUNSELLING, "2026-11", "zh_CN"),
    ]
    assert {(r.taken_by, r.station_id, r.given_at) for r in rows} == {
        (world.staff.user_id, world.station_id, clock.now())
    }
    assert all(r.withdrawn_at is None for r in rows)
    entry = last_audit(services)
    assert (entry.action, entry.object_ref, entry.detail, entry.username) == (
        "give_consent",
        "ABCD-EFGH-1",
        "assessment,counselling; 2026-11; zh_CN",
        "staff01",
    )
    # Separate consent per purpose: printing a report was not ticked, so it is not in force.
    with services.db.read() as session:
        assert active_consent(session, world.client_id, ConsentPurpose.REPORT_PRINTING) is None
        assert (
            require_consent(session, world.client_id, ConsentPurpose.COUNSELLING).id == rows[1].id
        )


def test_the_english_form_records_its_language(
    services: Services, world: World, consent: ConsentService
) -> None:
    consent.give(
        world.counsellor,
        client_id=world.client_id,
        purposes=frozenset({ConsentPurpose.REPORT_PRINTING}),
        language="en_US",
    )
    (row,) = consent_rows(services, world.client_id)
    assert (row.language, row.wording_version, row.taken_by) == (
        "en",
        load_consent_wording("en").version,
        world.counsellor.user_id,
    )


def test_giving_again_while_in_force_is_a_no_op(
    services: Services, world: World, consent: ConsentService
) -> None:
    consent.give(world.staff, client_id=world.client_id, purposes=BOTH, language="zh_CN")
    entries = audit_count(services)
    again = consent.give(
        world.counsellor, client_id=world.client_id, purposes=BOTH, language="zh_CN"
    )
    assert len(consent_rows(services, world.client_id)) == 2
    assert {r.taken_by for r in again} == {"王芳"}  # still the first consent
    assert audit_count(services) == entries  # nothing happened, nothing audited


def test_a_consent_on_an_older_form_is_renewed_and_withdrawal_ends_both(
    services: Services, world: World, consent: ConsentService
) -> None:
    old_id = give_consent(services, world)  # wording version "1"
    consent.give(
        world.staff,
        client_id=world.client_id,
        purposes=frozenset({ConsentPurpose.COUNSELLING}),
        language="zh_CN",
    )
    rows = consent_rows(services, world.client_id)
    assert [r.wording_version for r in rows] == ["1", "2026-11"]
    with services.db.read() as session:
        assert active_consent(session, world.client_id, ConsentPurpose.COUNSELLING).id == rows[1].id
    history = consent.consents(world.staff, world.client_id)
    assert [(r.id, r.in_force) for r in history] == [(old_id, False), (rows[1].id, True)]

    consent.withdraw(world.staff, client_id=world.client_id, purpose=ConsentPurpose.COUNSELLING)
    # Withdrawing must not bring the older consent back into force.
    with services.db.read() as session:
        assert active_consent(session, world.client_id, ConsentPurpose.COUNSELLING) is None
    assert all(r.withdrawn_at is not None for r in consent_rows(services, world.client_id))


# -- withdrawing --------------------------------------------------------------------------------


def test_withdrawal_stops_processing_and_keeps_the_history(
    services: Services, world: World, consent: ConsentService, clock: FakeClock
) -> None:
    consent.give(world.staff, client_id=world.client_id, purposes=BOTH, language="zh_CN")
    clock.advance(days=3)
    withdrawn = consent.withdraw(
        world.counsellor, client_id=world.client_id, purpose=ConsentPurpose.ASSESSMENT
    )

    assert withdrawn.purpose is ConsentPurpose.ASSESSMENT
    assert withdrawn.withdrawn_by == "陈静"
    assert withdrawn.withdrawn_at == clock.now()
    assert not withdrawn.in_force
    with services.db.read() as session:
        with pytest.raises(ConsentMissing) as exc:
            require_consent(session, world.client_id, ConsentPurpose.ASSESSMENT)
        assert "Questionnaires and assessments" in str(exc.value)
        # The other purpose is untouched.
        assert require_consent(session, world.client_id, ConsentPurpose.COUNSELLING)
    history = consent.consents(world.staff, world.client_id)
    assert [(r.purpose, r.in_force, r.withdrawn_by) for r in history] == [
        (ConsentPurpose.ASSESSMENT, False, "陈静"),
        (ConsentPurpose.COUNSELLING, True, ""),
    ]
    assert {r.wording_version for r in history} == {"2026-11"}
    assert {r.station_name for r in history} == {"暨阳街道职工情绪管理服务站"}
    assert history[0].given_at == datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
    assert history[0].given_at.utcoffset().total_seconds() == 8 * 3600  # shown in station time
    entry = last_audit(services)
    assert (entry.action, entry.object_ref, entry.detail) == (
        "withdraw_consent",
        "ABCD-EFGH-1",
        "assessment",
    )


def test_consent_can_be_given_again_after_withdrawal(
    services: Services, world: World, consent: ConsentService
) -> None:
    purpose = frozenset({ConsentPurpose.COUNSELLING})
    consent.give(world.staff, client_id=world.client_id, purposes=purpose, language="zh_CN")
    consent.withdraw(world.staff, client_id=world.client_id, purpose=ConsentPurpose.COUNSELLING)
    consent.give(world.staff, client_id=world.client_id, purposes=purpose, language="zh_CN")
    rows = consent_rows(services, world.client_id)
    assert [r.withdrawn_at is None for r in rows] == [False, True]
    with services.db.read() as session:
        assert (
            require_consent(session, world.client_id, ConsentPurpose.COUNSELLING).id == rows[1].id
        )


def test_withdrawing_what_is_not_in_force_is_a_clear_conflict(
    world: World, consent: ConsentService
) -> None:
    with pytest.raises(Conflict) as exc:
        consent.withdraw(
            world.staff, client_id=world.client_id, purpose=ConsentPurpose.REPORT_PRINTING
        )
    assert str(exc.value) == (
        "The client has no consent in force for Printing a personal report: there is nothing "
        "to withdraw."
    )


# -- refusals -----------------------------------------------------------------------------------


def test_bad_input_is_refused_with_what_to_fix(
    services: Services, world: World, consent: ConsentService
) -> None:
    with pytest.raises(ValidationError) as exc:
        consent.give(world.staff, client_id=world.client_id, purposes=frozenset(), language="zh_CN")
    assert exc.value.errors == {
        "purposes": "Tick each purpose the client has agreed to and signed for."
    }
    with pytest.raises(ValidationError) as exc:
        consent.give(world.staff, client_id=world.client_id, purposes=BOTH, language="fr")
    assert list(exc.value.errors) == ["language"]
    with pytest.raises(NotFound):
        consent.give(world.staff, client_id=world.client_id + 99, purposes=BOTH, language="en")
    assert consent_rows(services, world.client_id) == []


def test_an_erased_client_gives_no_more_consent(
    services: Services, world: World, consent: ConsentService
) -> None:
    with services.db.write() as session:
        session.get(m.Client, world.client_id).erased_at = datetime(2026, 11, 1, tzinfo=UTC)
    with pytest.raises(Conflict) as exc:
        consent.give(world.staff, client_id=world.client_id, purposes=BOTH, language="zh_CN")
    assert "erased on request on 2026-11-01" in str(exc.value)


def _matrix(
    services: Services,
    world: World,
    action: str,
    allowed: set[Role],
    call: Callable[[Actor], object],
    before: Callable[[], object] = lambda: None,
) -> None:
    for role in (Role.STAFF, Role.COUNSELLOR, Role.MANAGER, Role.ADMIN):
        actor = world.actor(role)
        before()
        if role in allowed:
            call(actor)
            continue
        with pytest.raises(PermissionDenied):
            call(actor)
        entry = last_audit(services)
        assert (entry.action, entry.result, entry.username) == (action, "denied", actor.username)


def test_who_may_take_give_and_see_consent(
    services: Services, world: World, consent: ConsentService
) -> None:
    takers = {Role.STAFF, Role.COUNSELLOR}
    cid = world.client_id
    _matrix(
        services,
        world,
        "give_consent",
        takers,
        lambda a: consent.give(a, client_id=cid, purposes=BOTH, language="zh_CN"),
    )
    _matrix(
        services,
        world,
        "withdraw_consent",
        takers,
        lambda a: consent.withdraw(a, client_id=cid, purpose=ConsentPurpose.COUNSELLING),
        before=lambda: consent.give(world.staff, client_id=cid, purposes=BOTH, language="en"),
    )
    _matrix(services, world, "view_consents", takers, lambda a: consent.consents(a, cid))
    # Refused calls wrote nothing.
    assert len(consent_rows(services, cid)) == 2 + 2  # first give, then one renewal per withdrawal


# -- the wording --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_the_wording_has_a_section_per_purpose_and_the_rights(language: str) -> None:
    wording = load_consent_wording(language)
    assert wording.language == language
    assert wording.version == "2026-11"
    assert [s.purpose for s in wording.sections if s.purpose] == [
        ConsentPurpose.COUNSELLING,
        ConsentPurpose.ASSESSMENT,
        ConsentPurpose.REPORT_PRINTING,
    ]
    zh = language == "zh_CN"
    for purpose in ConsentPurpose:
        text = wording.section(purpose).text
        for word in (
            ["目的", "记录的内容", "谁能看到", "保存多久", "自愿", "撤回", "签名", "日期"]
            if zh
            else [
                "Purpose",
                "What is recorded",
                "Who can see it",
                "How long",
                "withdraw",
                "Signature",
                "Date",
            ]
        ):
            assert word in text, (purpose, word)
    counselling = wording.section(ConsentPurpose.COUNSELLING).text
    assert ("督导" if zh else "supervis") in counselling
    assert ("永远看不到" if zh else "never see") in counselling
    general = "\n".join(s.text for s in wording.general_sections)
    for word in (
        ["查阅", "复制", "更正", "删除", "12351", "{station_phone}", "签名"]
        if zh
        else ["access", "copy", "correct", "erase", "12351", "{station_phone}", "signature"]
    ):
        assert word in general, word


def test_both_languages_are_the_same_version_and_shape() -> None:
    zh, en = load_consent_wording("zh"), load_consent_wording("en")
    assert zh.version == en.version
    assert [s.purpose for s in zh.sections] == [s.purpose for s in en.sections]


def test_the_printed_form_names_the_station(
    services: Services, world: World, consent: ConsentService
) -> None:
    with services.db.write() as session:
        session.get(m.Station, world.station_id).retention_months = 96
    wording = consent.wording(language="zh_CN", station_id=world.station_id)
    text = wording.introduction + "".join(s.text for s in wording.sections)
    assert "暨阳街道职工情绪管理服务站" in text
    assert "0575-87001234" in text
    assert "保存 96 个月" in text
    assert "{" not in text
    with pytest.raises(NotFound):
        consent.wording(language="en", station_id=world.station_id + 99)


def test_a_malformed_wording_file_is_refused() -> None:
    good = load_consent_wording("en")
    sections = "".join(
        f"## {s.title}{' {#' + s.purpose.value + '}' if s.purpose else ''}\n{s.text}\n"
        for s in good.sections
    )
    assert parse_consent_wording(f"version: 9\n# T\n{sections}", language="en").version == "9"
    with pytest.raises(ValueError, match="version"):
        parse_consent_wording(f"# T\n{sections}", language="en")
    with pytest.raises(ValueError, match="each purpose"):
        parse_consent_wording(
            f"version: 9\n# T\n{sections.replace('{#assessment}', '')}", language="en"
        )
    with pytest.raises(ValueError, match="unknown consent purpose"):
        parse_consent_wording(f"version: 9\n# T\n{sections}## X {{#marketing}}\n", language="en")
