"""Fuzzed screening campaigns (issue 8, "Bad input"): the campaign form (names, questionnaires,
dates, number of codes) and the one-time codes people type on the self-service screen. Any input
gives a saved valid campaign or session, or a clear error that changed nothing. Runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import os
import unicodedata
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from carestation.db import models as m
from carestation.domain import campaign_codes
from carestation.domain.assessment_values import CampaignInput, FormAnswers
from carestation.domain.errors import CareStationError, PermissionDenied
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import World, build_world
from tests.fuzzing import assert_clear, event, snapshot

FUZZ = settings(
    max_examples=int(os.environ.get("CARESTATION_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
TODAY = date(2026, 11, 23)  # the FakeClock's day in Shanghai
assert FakeClock().now().date() == TODAY
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
TEXTS = st.one_of(
    st.sampled_from(["2026 冬季心理普测", "诸暨市水务集团", " ", "", "普测\t第二轮"]),
    ANY_TEXT,
    st.builds(lambda ch, n: ch * n, st.sampled_from(["测", "a", " "]), st.integers(190, 260)),
)
INSTRUMENT_NAMES = st.one_of(
    st.sampled_from(["phq9", "gad7", "PHQ-9", "ＧＡＤ－７", "k10", "who5", "pss10", "mood", "bdi"]),
    ANY_TEXT,
)
FULL_WIDTH = str.maketrans(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-",
    "ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ０１２３４５６７８９－",
)


def without_audit(tables: dict[str, list[str]]) -> dict[str, list[str]]:
    return {t: rows for t, rows in tables.items() if not t.startswith("audit")}


def no_control(text: str) -> bool:
    return not any(unicodedata.category(ch) == "Cc" for ch in text)


def campaign_input(name: str = "2026 冬季心理普测", **changes: Any) -> CampaignInput:
    fields: dict[str, Any] = {
        "name": name,
        "work_unit": "诸暨市水务集团",
        "instruments": ("phq9", "gad7"),
        "starts_on": TODAY,
        "ends_on": TODAY + timedelta(days=30),
        "codes": 3,
        **changes,
    }
    return CampaignInput(**fields)


@st.composite
def campaign_inputs(draw: st.DrawFn) -> CampaignInput:
    """A valid campaign with up to three fields mangled."""
    changes: dict[str, Any] = {}
    mangles = {
        "name": TEXTS,
        "work_unit": TEXTS,
        "instruments": st.one_of(
            st.lists(INSTRUMENT_NAMES, max_size=4).map(tuple),
            st.lists(st.sampled_from(["phq9", "gad7", "k10", "who5", "pss10"]), max_size=5).map(
                tuple
            ),
        ),
        "starts_on": st.dates(date(1900, 1, 1), date(2200, 1, 1)),
        "ends_on": st.one_of(
            st.dates(date(1900, 1, 1), date(2200, 1, 1)),
            st.integers(-3, 60).map(lambda d: TODAY + timedelta(days=d)),
        ),
        "codes": st.one_of(st.integers(-3, 12), st.integers(), st.booleans(), st.just(2001)),
    }
    for field in draw(st.lists(st.sampled_from(sorted(mangles)), max_size=3, unique=True)):
        changes[field] = draw(mangles[field])
    return campaign_input(**changes)


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


def create_or_refuse(services: Services, world: World, data: CampaignInput) -> None:
    before = snapshot(services)
    try:
        info = services.campaigns.create(world.staff, data=data)
    except CareStationError as exc:
        event(f"refused: {sorted(getattr(exc, 'errors', {}))}")
        assert_clear(exc)
        assert snapshot(services) == before, "a refused campaign changed the database"
        return
    event("created")
    after = snapshot(services)
    changed = {t for t in after if after[t] != before[t]}
    assert changed <= {"campaign", "campaign_code", "audit_event", "audit_chain"}, changed
    with services.db.read() as session:
        row = session.get_one(m.Campaign, info.id)
        codes = list(
            session.scalars(select(m.CampaignCode.code).where(m.CampaignCode.campaign_id == row.id))
        )
    assert row.name == " ".join(row.name.split())
    assert 0 < len(row.name) <= 200
    assert row.work_unit == " ".join(row.work_unit.split())
    assert 0 < len(row.work_unit) <= 200
    assert no_control(row.name)
    assert no_control(row.work_unit)
    assert row.instruments
    assert len(set(row.instruments)) == len(row.instruments)
    assert set(row.instruments) <= {"phq9", "gad7", "k10", "who5", "pss10"}
    assert row.starts_on <= row.ends_on
    assert row.ends_on >= TODAY
    assert len(codes) == data.codes == len(set(codes))
    assert all(campaign_codes.is_valid(c) for c in codes)


@FUZZ
@given(data=campaign_inputs())
def test_a_campaign_is_created_valid_or_refused(
    services: Services, world: World, data: CampaignInput
) -> None:
    create_or_refuse(services, world, data)


# --- typed codes -------------------------------------------------------------------------------


@pytest.fixture
def issued(services: Services, world: World) -> list[str]:
    """A PHQ-9 + GAD-7 campaign with a few codes, as printed (K7QF-3MXA-PW)."""
    info = services.campaigns.create(world.staff, data=campaign_input(codes=20))
    return services.campaigns.unused_codes(world.staff, campaign_id=info.id)


@st.composite
def typed_codes(draw: st.DrawFn, issued: list[str]) -> str:
    """A printed code typed some way (lower case, full width, spaces, other dashes, a typo), or
    anything at all."""
    kind = draw(st.sampled_from(["issued", "issued", "typo", "anything"]))
    if kind == "anything":
        return draw(st.one_of(ANY_TEXT, st.from_regex(r"[0-9A-Za-z -]{0,14}", fullmatch=True)))
    code = draw(st.sampled_from(issued))
    if kind == "typo":
        i = draw(st.integers(0, len(code) - 1))
        code = code[:i] + draw(st.sampled_from("0O1IL8B5S-— ")) + code[i + 1 :]
    style = draw(st.sampled_from(["as printed", "lower", "full width", "spaced", "dashes"]))
    if style == "lower":
        code = code.lower()
    elif style == "full width":
        code = code.translate(FULL_WIDTH)
    elif style == "spaced":
        code = " " + code.replace("-", " ") + "\t"
    elif style == "dashes":
        code = code.replace("-", draw(st.sampled_from(["‐", "–", "—", "－", ""])))
    return code


@FUZZ
@given(data=st.data())
def test_a_typed_code_is_recognised_or_refused_clearly(
    services: Services, world: World, issued: list[str], data: st.DataObject
) -> None:
    typed = data.draw(typed_codes(issued))
    before = snapshot(services)
    try:
        check = services.campaigns.check_code(world.staff, code=typed)
    except CareStationError as exc:
        event(type(exc).__name__)
        assert_clear(exc)
        after = snapshot(services)
        if isinstance(exc, PermissionDenied):
            after, before = without_audit(after), without_audit(before)
        assert after == before
        return
    event("recognised")
    assert check.code in issued
    assert campaign_codes.parse(typed) == check.code.replace("-", "")


def forms_of(draw: st.DrawFn) -> list[FormAnswers]:
    order = draw(st.sampled_from([("phq9", "gad7"), ("gad7", "phq9"), ("phq9",)]))
    lengths = {"phq9": 9, "gad7": 7}
    return [
        FormAnswers(i, tuple(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))))
        for i in order
        for n in [lengths[i]]
    ]


@FUZZ
@given(data=st.data())
def test_a_campaign_session_is_saved_once_or_refused(
    services: Services, world: World, issued: list[str], data: st.DataObject
) -> None:
    typed = data.draw(typed_codes(issued))
    forms = forms_of(data.draw)
    before = snapshot(services)
    try:
        services.campaigns.record(world.staff, code=typed, forms=forms)
    except CareStationError as exc:
        event(type(exc).__name__)
        assert_clear(exc)
        assert snapshot(services) == before
        return
    event("saved")
    after = snapshot(services)
    changed = {t for t in after if after[t] != before[t]}
    allowed = {"assessment", "campaign_code", "risk_alert", "audit_event", "audit_chain"}
    assert changed <= allowed, changed
    assert len(after["assessment"]) == len(before["assessment"]) + len(forms)
    # A code is used once.
    again = snapshot(services)
    with pytest.raises(CareStationError) as second:
        services.campaigns.record(world.staff, code=typed, forms=forms)
    assert_clear(second.value)
    assert snapshot(services) == again


# --- a bug found by the properties above, fixed: kept as a plain regression test --------------


def test_fixed_control_characters_in_a_campaign(services: Services, world: World) -> None:
    for changes in [{"name": "普测\x00"}, {"work_unit": "水务\x1b集团"}]:
        create_or_refuse(services, world, campaign_input(**changes))
