"""Screening campaigns: codes that survive typos and full-width input, who may do what, the
self-service session saved whole or not at all with nothing linking it to the code, risk alerts,
follow-ups and the suppressed summary. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
import threading
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, insert, select

from carestation.db import models as m
from carestation.domain import campaign_codes as codes
from carestation.domain.assessment_values import CampaignInput, FormAnswers
from carestation.domain.errors import Conflict, NotFound, PermissionDenied, ValidationError
from carestation.domain.values import Actor
from carestation.domain.vocab import AssessmentMode
from carestation.services.campaigns import CampaignService
from carestation.services.container import Services
from carestation.services.risk_alerts import RiskAlertService
from tests.conftest import FakeClock
from tests.factories import World, build_world

TODAY = date(2026, 11, 23)  # the FakeClock's day in Shanghai (10:00)
PHQ9_OK = (0,) * 9
PHQ9_ITEM9 = (0,) * 8 + (1,)
GAD7_OK = (0,) * 7
K10_30 = (3,) * 10


@dataclass
class Env:
    services: Services
    world: World
    clock: FakeClock
    campaigns: CampaignService
    alerts: RiskAlertService

    @property
    def staff(self) -> Actor:
        return self.world.staff

    def create(self, **changes: Any) -> Any:
        data = CampaignInput(
            name="2026 冬季心理普测",
            work_unit="诸暨市水务集团",
            instruments=("phq9", "gad7"),
            starts_on=TODAY,
            ends_on=TODAY + timedelta(days=30),
            codes=5,
        )
        return self.campaigns.create(self.staff, data=dataclasses.replace(data, **changes))

    def codes_of(self, campaign_id: int) -> list[str]:
        return self.campaigns.unused_codes(self.staff, campaign_id=campaign_id)

    def take(self, code: str, *forms: tuple[str, tuple[int, ...]], lang: str = "zh_CN") -> Any:
        return self.campaigns.record(
            self.staff,
            code=code,
            forms=[FormAnswers(i, a, language=lang) for i, a in forms],
        )

    def audit(self, action: str) -> list[m.AuditEvent]:
        with self.services.db.read() as session:
            return list(
                session.scalars(
                    select(m.AuditEvent)
                    .where(m.AuditEvent.action == action)
                    .order_by(m.AuditEvent.id)
                )
            )

    def count(self, model: Any, *where: Any) -> int:
        with self.services.db.read() as session:
            return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


@pytest.fixture
def env(services: Services, clock: FakeClock) -> Env:
    world = build_world(services)
    alerts = RiskAlertService(services.db, services.audit, clock, services.vault)
    campaigns = CampaignService(services.db, services.audit, clock, services.vault, alerts)
    return Env(services, world, clock, campaigns, alerts)


# --------------------------------------------------------------------------- codes


def test_the_alphabet_has_no_look_alikes_and_a_prime_size() -> None:
    assert len(codes.ALPHABET) == 31
    assert not set("01OIL") & set(codes.ALPHABET)


def test_every_single_typo_and_every_swap_is_caught() -> None:
    code = "K7QF3MXAP" + codes.check_character("K7QF3MXAP")
    assert codes.is_valid(code)
    for i in range(codes.CODE_LENGTH):
        for ch in codes.ALPHABET:
            if ch != code[i]:
                assert not codes.is_valid(code[:i] + ch + code[i + 1 :]), (i, ch)
    for i in range(codes.CODE_LENGTH):
        for j in range(i + 1, codes.CODE_LENGTH):
            if code[i] != code[j]:
                swapped = list(code)
                swapped[i], swapped[j] = swapped[j], swapped[i]
                assert not codes.is_valid("".join(swapped)), (i, j)


@settings(deadline=None, max_examples=200)
@given(
    payload=st.text(alphabet=codes.ALPHABET, min_size=9, max_size=9),
    position=st.integers(0, 9),
    replacement=st.sampled_from(codes.ALPHABET),
)
def test_a_random_code_is_valid_and_one_changed_character_is_not(
    payload: str, position: int, replacement: str
) -> None:
    code = payload + codes.check_character(payload)
    assert codes.is_valid(code)
    assert codes.parse(codes.display(code).lower()) == code
    changed = code[:position] + replacement + code[position + 1 :]
    assert codes.is_valid(changed) == (changed == code)


def test_generated_codes_are_valid_and_differ() -> None:
    made = {codes.generate() for _ in range(500)}
    assert len(made) == 500
    assert all(codes.is_valid(c) for c in made)


@pytest.mark.parametrize(
    "typed",
    ["k7qf-3mxa-pw", " K7QF 3MXA PW ", "ｋ７ｑｆ－３ｍｘａ－ｐｗ", "K7QF—3MXA‐PW", "k7qf3mxapw"],
)
def test_typing_is_forgiving(typed: str) -> None:
    code = "K7QF3MXAP" + codes.check_character("K7QF3MXAP")
    typed = typed.replace("W", code[-1]).replace("w", code[-1].lower())
    typed = typed.replace("ｗ", chr(ord(code[-1].lower()) + 0xFEE0))
    assert codes.parse(typed) == code


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "Type the code"),
        ("K7QF-3MXA-P0", "never contain 0, 1, O, I or L"),
        ("K7QF-3MXA-P?", "only letters and digits"),
        ("K7QF-3MXA", "has 10 letters and digits, you typed 8"),
        ("K7QF-3MXA-PA", "mistyped"),
    ],
)
def test_a_bad_code_says_what_to_check(typed: str, says: str) -> None:
    if says == "mistyped":
        right = "K7QF3MXAP" + codes.check_character("K7QF3MXAP")
        typed = right[:-1] + ("A" if right[-1] != "A" else "B")
    with pytest.raises(ValidationError) as caught:
        codes.parse(typed)
    assert says in caught.value.errors["code"]


# --------------------------------------------------------------------------- creating


def test_create_issues_unique_valid_codes_at_the_staff_station(env: Env) -> None:
    info = env.create(instruments=("PHQ-9", "gad7"), codes=40)
    assert (info.station_id, info.station_name) == (
        env.world.station_id,
        "暨阳街道职工情绪管理服务站",
    )
    assert (info.name, info.work_unit, info.instruments) == (
        "2026 冬季心理普测",
        "诸暨市水务集团",
        ("phq9", "gad7"),
    )
    assert (info.issued, info.used, info.follow_ups, info.closed_at, info.version) == (
        40,
        0,
        0,
        None,
        1,
    )
    printed = env.codes_of(info.id)
    assert len(set(printed)) == 40
    assert all(len(c) == 12 and c[4] == c[9] == "-" for c in printed)
    assert all(codes.is_valid(codes.normalise(c)) for c in printed)
    [entry] = env.audit("create_campaign")
    assert (entry.object_type, entry.object_ref) == ("campaign", str(info.id))
    assert "40 codes" in entry.detail


@pytest.mark.parametrize(
    ("changes", "field", "says"),
    [
        ({"name": "  "}, "name", "Give the campaign a name"),
        ({"name": "x" * 201}, "name", "200 characters"),
        ({"work_unit": ""}, "work_unit", "employer or work unit"),
        ({"work_unit": "单" * 201}, "work_unit", "200 characters"),
        ({"instruments": ()}, "instruments", "at least one"),
        ({"instruments": ("phq9", "mood")}, "instruments", "emotion-pod"),
        ({"instruments": ("phq9", "PHQ-9")}, "instruments", "once"),
        ({"instruments": ("bdi",)}, "instruments", "from the list"),
        ({"ends_on": TODAY - timedelta(days=1)}, "ends_on", "on or after the first day"),
        (
            {"starts_on": TODAY - timedelta(days=9), "ends_on": TODAY - timedelta(days=1)},
            "ends_on",
            "already passed",
        ),
        ({"codes": 0}, "codes", "between 1 and 2000"),
        ({"codes": 2001}, "codes", "between 1 and 2000"),
    ],
)
def test_bad_input_names_the_field(env: Env, changes: dict, field: str, says: str) -> None:
    with pytest.raises(ValidationError) as caught:
        env.create(**changes)
    assert says in caught.value.errors[field]
    assert env.count(m.Campaign) == 0


def test_all_problems_at_once(env: Env) -> None:
    with pytest.raises(ValidationError) as caught:
        env.create(name="", work_unit="", instruments=(), codes=0)
    assert set(caught.value.errors) == {"name", "work_unit", "instruments", "codes"}


def test_more_codes_and_closing(env: Env) -> None:
    info = env.create()
    more = env.campaigns.issue_codes(env.staff, campaign_id=info.id, count=7)
    assert (more.issued, more.version) == (12, 2)
    with pytest.raises(ValidationError) as caught:
        env.campaigns.issue_codes(env.staff, campaign_id=info.id, count=2001)
    assert "codes" in caught.value.errors
    with pytest.raises(Conflict, match="changed this campaign"):
        env.campaigns.close(env.staff, campaign_id=info.id, version=1)
    closed = env.campaigns.close(env.staff, campaign_id=info.id, version=2)
    assert closed.closed_at is not None
    assert closed.closed_at.utcoffset() == timedelta(hours=8)
    with pytest.raises(Conflict, match="already closed"):
        env.campaigns.close(env.staff, campaign_id=info.id, version=3)
    with pytest.raises(Conflict, match="closed"):
        env.campaigns.issue_codes(env.staff, campaign_id=info.id, count=1)
    with pytest.raises(Conflict, match="closed"):
        env.codes_of(info.id)
    assert [e.object_ref for e in env.audit("close_campaign")] == [str(info.id)]


# --------------------------------------------------------------------------- access


def test_who_may_run_and_read_campaigns(env: Env) -> None:
    info = env.create()
    w = env.world
    for actor in (w.counsellor, w.manager, w.admin):
        with pytest.raises(PermissionDenied):
            env.campaigns.create(actor, data=CampaignInput("x", "y", ("phq9",), TODAY, TODAY, 1))
    # Another station's staff cannot touch it; managers and admins read it but get no codes.
    for call in (
        lambda a: env.campaigns.issue_codes(a, campaign_id=info.id, count=1),
        lambda a: env.campaigns.unused_codes(a, campaign_id=info.id),
        lambda a: env.campaigns.close(a, campaign_id=info.id, version=1),
        lambda a: env.campaigns.summary(a, campaign_id=info.id),
        lambda a: env.campaigns.get(a, campaign_id=info.id),
    ):
        with pytest.raises(PermissionDenied):
            call(w.other_staff)
    for reader in (w.manager, w.admin):
        assert [c.id for c in env.campaigns.list_campaigns(reader)] == [info.id]
        assert env.campaigns.get(reader, campaign_id=info.id).issued == 5
        assert env.campaigns.summary(reader, campaign_id=info.id).campaign.id == info.id
        with pytest.raises(PermissionDenied):
            env.campaigns.unused_codes(reader, campaign_id=info.id)
    assert env.campaigns.list_campaigns(w.other_staff) == []
    assert [c.id for c in env.campaigns.list_campaigns(w.staff)] == [info.id]
    with pytest.raises(PermissionDenied):
        env.campaigns.list_campaigns(w.counsellor)
    denied = [e for e in env.audit("print_campaign_codes") if e.result == "denied"]
    assert {e.username for e in denied} == {"staff02", "manager", "admin"}
    with pytest.raises(NotFound):
        env.campaigns.get(w.manager, campaign_id=info.id + 100)


def test_the_kiosk_and_follow_ups_need_their_permissions(env: Env) -> None:
    info = env.create()
    code = env.codes_of(info.id)[0]
    with pytest.raises(PermissionDenied):
        env.campaigns.check_code(env.world.manager, code=code)
    with pytest.raises(PermissionDenied):
        env.campaigns.record(env.world.admin, code=code, forms=[])
    with pytest.raises(PermissionDenied):
        env.campaigns.request_follow_up(env.world.counsellor, code=code)
    # A counsellor may run the self-service screen.
    assert env.campaigns.check_code(env.world.counsellor, code=code).campaign_id == info.id


# --------------------------------------------------------------------------- the kiosk


def test_check_code_unlocks_the_campaign_questionnaires(env: Env) -> None:
    info = env.create(instruments=("gad7", "phq9", "pss10"))
    code = env.codes_of(info.id)[0]
    check = env.campaigns.check_code(env.staff, code=" " + code.lower().replace("-", " "))
    assert (check.code, check.campaign_id, check.campaign_name, check.instruments) == (
        code,
        info.id,
        "2026 冬季心理普测",
        ("gad7", "phq9", "pss10"),
    )


def test_unknown_and_mistyped_codes(env: Env) -> None:
    env.create()
    payload = "23456789A"
    unknown = payload + codes.check_character(payload)
    with pytest.raises(NotFound, match=r"not known\. Check the code on your slip"):
        env.campaigns.check_code(env.staff, code=unknown)
    with pytest.raises(ValidationError, match="mistyped"):
        env.campaigns.check_code(env.staff, code=unknown[:-1] + "Z" if unknown[-1] != "Z" else "Y")


def test_codes_work_only_inside_the_window(env: Env) -> None:
    info = env.create(starts_on=TODAY + timedelta(days=2), ends_on=TODAY + timedelta(days=5))
    code = env.codes_of(info.id)[0]
    with pytest.raises(Conflict, match=r"starts on 2026-11-25\. Please come back"):
        env.campaigns.check_code(env.staff, code=code)
    env.clock.advance(days=2)  # 2026-11-25 10:00 in Shanghai
    assert env.campaigns.check_code(env.staff, code=code).campaign_id == info.id
    env.clock.advance(days=3, hours=13)  # 2026-11-28 23:00 local: the last day still
    assert env.campaigns.check_code(env.staff, code=code).campaign_id == info.id
    env.clock.advance(hours=1)  # midnight in Shanghai: over
    with pytest.raises(Conflict, match="ended on 2026-11-28"):
        env.campaigns.check_code(env.staff, code=code)


def test_closed_and_other_station_codes(env: Env) -> None:
    info = env.create()
    code = env.codes_of(info.id)[0]
    away = dataclasses.replace(env.world.other_staff, station_id=env.world.other_station_id)
    with pytest.raises(Conflict, match="run by 暨阳街道职工情绪管理服务站"):
        env.campaigns.check_code(away, code=code)
    env.campaigns.close(env.staff, campaign_id=info.id, version=1)
    with pytest.raises(Conflict, match="has been closed"):
        env.campaigns.check_code(env.staff, code=code)


def test_record_saves_anonymous_day_only_rows_with_the_campaign(env: Env) -> None:
    info = env.create()
    code = env.codes_of(info.id)[0]
    result = env.take(code, ("phq9", PHQ9_OK), ("gad7", (1, 1, 1, 1, 1, 0, 0)), lang="en")
    assert [(f.score.instrument, f.score.band, f.assessment_id) for f in result.forms] == [
        ("phq9", "minimal", None),
        ("gad7", "mild", None),
    ]
    assert not result.needs_help_now
    with env.services.db.read() as session:
        rows = session.scalars(select(m.Assessment).order_by(m.Assessment.id)).all()
        used = session.scalars(select(m.CampaignCode).where(m.CampaignCode.used_on.is_not(None)))
        used_on = [c.used_on for c in used]
    assert [
        (r.instrument, r.total, r.mode, r.client_id, r.administered_by, r.campaign_id, r.language)
        for r in rows
    ] == [
        ("phq9", 0, AssessmentMode.ANONYMOUS, None, None, info.id, "en"),
        ("gad7", 5, AssessmentMode.ANONYMOUS, None, None, info.id, "en"),
    ]
    # Local midnight of 2026-11-23 in Shanghai, in UTC.
    assert {r.taken_at for r in rows} == {datetime(2026, 11, 22, 16, 0, tzinfo=UTC)}
    assert rows[0].answers == list(PHQ9_OK)
    assert used_on == [TODAY]
    assert env.campaigns.get(env.staff, campaign_id=info.id).used == 1
    with pytest.raises(Conflict, match="already been used"):
        env.take(code, ("phq9", PHQ9_OK), ("gad7", GAD7_OK))
    with pytest.raises(Conflict, match="already been used"):
        env.campaigns.check_code(env.staff, code=code)
    # The trail names the campaign and never the code.
    [entry] = env.audit("use_campaign_code")
    assert (entry.object_type, entry.object_ref, entry.detail) == ("campaign", str(info.id), "")
    bare = codes.normalise(code)
    with env.services.db.read() as session:
        for e in session.scalars(select(m.AuditEvent)):
            assert code not in f"{e.object_ref} {e.detail}"
            assert bare not in f"{e.object_ref} {e.detail}"


@pytest.mark.parametrize(
    ("forms", "field"),
    [
        ([("gad7", GAD7_OK), ("phq9", PHQ9_OK)], "forms"),  # wrong order
        ([("phq9", PHQ9_OK)], "forms"),  # one missing
        ([("phq9", PHQ9_OK), ("gad7", GAD7_OK), ("who5", (3,) * 5)], "forms"),
        ([("phq9", PHQ9_OK), ("gad7", (0, 0, 0, 0, 0, 0, 4))], "answers"),  # out of range
        ([("phq9", PHQ9_OK), ("gad7", (0,) * 6)], "answers"),  # incomplete
        ([], "forms"),
    ],
)
def test_nothing_is_saved_from_a_bad_session(env: Env, forms: list, field: str) -> None:
    info = env.create()
    code = env.codes_of(info.id)[0]
    with pytest.raises(ValidationError) as caught:
        env.take(code, *forms)
    assert field in caught.value.errors
    assert env.count(m.Assessment) == 0
    assert env.count(m.CampaignCode, m.CampaignCode.used_on.is_not(None)) == 0
    assert env.audit("use_campaign_code") == []
    assert env.campaigns.check_code(env.staff, code=code).campaign_id == info.id


def test_a_result_at_risk_raises_an_anonymous_alert(env: Env) -> None:
    info = env.create(instruments=("phq9", "k10"))
    code = env.codes_of(info.id)[0]
    result = env.take(code, ("phq9", PHQ9_ITEM9), ("k10", K10_30))
    assert result.needs_help_now
    assert [f.risk_reasons for f in result.forms] == [("self_harm_item",), ("k10_very_high",)]
    with env.services.db.read() as session:
        alerts = session.scalars(select(m.RiskAlert).order_by(m.RiskAlert.id)).all()
        got = [
            (a.station_id, a.mode, a.instrument, a.reason, a.client_id, a.assessment_id)
            for a in alerts
        ]
    assert got == [
        (env.world.station_id, AssessmentMode.ANONYMOUS, "phq9", "self_harm_item", None, None),
        (env.world.station_id, AssessmentMode.ANONYMOUS, "k10", "k10_very_high", None, None),
    ]
    assert [f.alert_id for f in result.forms] == [a.id for a in alerts]
    assert env.alerts.count_open(env.world.counsellor) == 2


def test_an_alert_that_fails_leaves_nothing_behind(env: Env) -> None:
    class Broken:
        def raise_alert(self, session: Any, **kwargs: Any) -> int:
            raise RuntimeError("alert table unavailable")

    env.campaigns.alerts = Broken()
    info = env.create()
    code = env.codes_of(info.id)[0]
    with pytest.raises(RuntimeError):
        env.take(code, ("phq9", PHQ9_ITEM9), ("gad7", GAD7_OK))
    assert env.count(m.Assessment) == 0
    assert env.count(m.CampaignCode, m.CampaignCode.used_on.is_not(None)) == 0


def test_two_screens_using_one_code_at_once_save_it_once(env: Env) -> None:
    """The code row is locked (SQLite: the write transaction) before it is checked: the second
    screen waits, then finds the code used."""
    info = env.create()
    code = env.codes_of(info.id)[0]
    real = env.alerts
    started = threading.Event()

    class Slow:
        def raise_alert(self, session: Any, **kwargs: Any) -> int:
            started.set()
            time.sleep(0.5)  # hold the transaction open while the other screen tries
            return real.raise_alert(session, **kwargs)

    env.campaigns.alerts = Slow()
    outcomes: list[object] = []

    def first() -> None:
        outcomes.append(env.take(code, ("phq9", PHQ9_ITEM9), ("gad7", GAD7_OK)))

    thread = threading.Thread(target=first)
    thread.start()
    assert started.wait(5)
    with pytest.raises(Conflict, match="already been used"):
        env.take(code, ("phq9", PHQ9_OK), ("gad7", GAD7_OK))
    thread.join()
    assert len(outcomes) == 1
    assert outcomes[0].needs_help_now
    assert env.count(m.Assessment) == 2


# --------------------------------------------------------------------------- follow-ups


def test_a_used_code_can_ask_for_one_follow_up(env: Env) -> None:
    info = env.create()
    code = env.codes_of(info.id)[0]
    with pytest.raises(Conflict, match="not been used yet"):
        env.campaigns.request_follow_up(env.staff, code=code)
    env.take(code, ("phq9", PHQ9_OK), ("gad7", GAD7_OK))
    check = env.campaigns.request_follow_up(env.staff, code=code.lower())
    assert (check.code, check.campaign_id) == (code, info.id)
    assert env.campaigns.get(env.staff, campaign_id=info.id).follow_ups == 1
    with env.services.db.read() as session:
        row = session.scalars(
            select(m.CampaignCode).where(m.CampaignCode.code == codes.normalise(code))
        ).one()
    assert (row.follow_up_at, row.follow_up_by) == (env.clock.now(), env.staff.user_id)
    env.clock.advance(days=1)
    with pytest.raises(Conflict, match="already recorded on 2026-11-23"):
        env.campaigns.request_follow_up(env.staff, code=code)
    # After the campaign closes the code still brings its holder to a talk.
    other = env.codes_of(info.id)[0]
    env.take(other, ("phq9", PHQ9_OK), ("gad7", GAD7_OK))
    env.campaigns.close(env.staff, campaign_id=info.id, version=1)
    assert env.campaigns.request_follow_up(env.staff, code=other).campaign_id == info.id
    with pytest.raises(Conflict, match="run by"):
        env.campaigns.request_follow_up(env.world.other_staff, code=other)
    [first, second] = env.audit("request_campaign_follow_up")
    assert (first.object_ref, second.object_ref) == (str(info.id), str(info.id))


# --------------------------------------------------------------------------- the summary


def _fill(env: Env, campaign_id: int, bands: dict[str, dict[str, int]], used: int) -> None:
    """Stores counts directly (the service's own path is tested above) and marks codes used."""
    rows = []
    for instrument, counts in bands.items():
        for band, n in counts.items():
            rows += [
                {
                    "station_id": env.world.station_id,
                    "instrument": instrument,
                    "instrument_version": "1",
                    "answers": [],
                    "total": 0,
                    "band": band,
                    "mode": AssessmentMode.ANONYMOUS,
                    "taken_at": datetime(2026, 11, 22, 16, tzinfo=UTC),
                    "campaign_id": campaign_id,
                }
            ] * n
    with env.services.db.write() as session:
        if rows:
            session.execute(insert(m.Assessment), rows)
        ids = session.scalars(
            select(m.CampaignCode.id)
            .where(m.CampaignCode.campaign_id == campaign_id)
            .order_by(m.CampaignCode.id)
            .limit(used)
        ).all()
        for code in session.scalars(select(m.CampaignCode).where(m.CampaignCode.id.in_(ids))):
            code.used_on = TODAY


def test_a_campaign_with_four_participants_shows_no_figures(env: Env) -> None:
    info = env.create(codes=20)
    _fill(env, info.id, {"phq9": {"severe": 3, "minimal": 1}, "gad7": {"mild": 4}}, used=4)
    summary = env.campaigns.summary(env.world.manager, campaign_id=info.id)
    assert (summary.participants.count, summary.participants.shown) == (None, "<10")
    for dist in summary.distributions:
        assert [c.shown for c in dist.cells] == ["<10"] * len(dist.cells)
        assert dist.total.shown == "<10"
    assert "3" not in repr(summary.distributions)


def test_summary_counts_with_small_cells_suppressed(env: Env) -> None:
    info = env.create(instruments=("phq9", "pss10"), codes=60)
    _fill(
        env,
        info.id,
        {
            "phq9": {"minimal": 30, "mild": 14, "moderate": 1},
            "pss10": {"low": 20, "moderate": 13, "high": 12},
        },
        used=45,
    )
    summary = env.campaigns.summary(env.staff, campaign_id=info.id)
    assert summary.k == 10
    assert (summary.participants.count, summary.participants.shown) == (45, "45")
    phq9, pss10 = summary.distributions
    assert (phq9.instrument, [c.band for c in phq9.cells]) == (
        "phq9",
        ["minimal", "mild", "moderate", "moderately_severe", "severe"],
    )
    # 1 moderate would be 45 - 30 - 14: the smallest other cell is hidden with it.
    assert [c.shown for c in phq9.cells] == ["30", "·", "·", "0", "0"]
    assert [c.count for c in phq9.cells] == [30, None, None, 0, 0]
    assert phq9.total.shown == "45"
    assert [c.shown for c in pss10.cells] == ["20", "13", "12"]
    notes = " ".join(summary.notes)
    assert "not a diagnosis" in notes
    assert "publishes no cut-off" in notes
    assert "below 10" in notes
    assert "·:" in notes
    assert summary.generated_at == datetime(2026, 11, 23, 10, tzinfo=summary.generated_at.tzinfo)
    assert summary.generated_at.utcoffset() == timedelta(hours=8)
    entries = env.audit("view_campaign_summary")
    assert [(e.object_ref, e.detail) for e in entries] == [(str(info.id), "k=10")]


def test_a_larger_k_hides_more_and_a_k_below_five_is_refused(env: Env) -> None:
    info = env.create(codes=30)
    _fill(env, info.id, {"phq9": {"minimal": 12, "mild": 11}, "gad7": {"minimal": 23}}, used=23)
    wide = env.campaigns.summary(env.world.manager, campaign_id=info.id, k=20)
    assert wide.participants.shown == "23"
    assert [c.shown for c in wide.distributions[0].cells][:2] == ["<20", "<20"]
    assert all("PSS-10" not in n for n in wide.notes)
    with pytest.raises(ValidationError) as caught:
        env.campaigns.summary(env.world.manager, campaign_id=info.id, k=4)
    assert "k" in caught.value.errors
