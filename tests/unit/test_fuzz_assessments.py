"""Fuzzed questionnaire answers (issue 8, "Bad input"): any form - wrong instrument names, wrong
numbers of answers, answers of the wrong type or out of range, odd extra answers and languages,
odd anonymous profiles - given in a session, on the self-service screen or anonymously, is saved
exactly as scored or refused with a clear error, and a refusal changes nothing. Runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from carestation.assessments import instrument_codes, load_instrument, score
from carestation.db import models as m
from carestation.domain.assessment_values import AnonymousProfile, FormAnswers
from carestation.domain.errors import CareStationError
from carestation.domain.vocab import AgeBand, ConsentPurpose, Gender, Industry
from carestation.services.container import Services
from tests.factories import World, build_world, give_consent
from tests.fuzzing import assert_clear, event, snapshot

FUZZ = settings(
    max_examples=int(os.environ.get("CARESTATION_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CODES = instrument_codes()
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=30)
ODD_VALUE: st.SearchStrategy[Any] = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-2, 12),
    st.floats(allow_nan=True),
    ANY_TEXT,
    st.just("1"),
    st.just(b"1"),
    st.just([1]),
)
# The tables a saved questionnaire may touch: the form, its risk alert and crisis flag (with the
# client's data key for the flag's text), and the audit trail.
SAVED_TABLES = {
    "assessment",
    "risk_alert",
    "crisis_flag",
    "crisis_followup",
    "client_key",
    "audit_event",
    "audit_chain",
}


@st.composite
def answers_for(draw: st.DrawFn, code: str) -> Any:
    """A complete valid answer list, often with one thing wrong."""
    definition = load_instrument(code)
    n, low, high = len(definition.items), definition.min_code, definition.max_code
    answers: list[Any] = draw(st.lists(st.integers(low, high), min_size=n, max_size=n))
    how = draw(st.sampled_from(["valid", "valid", "value", "none", "length", "shape"]))
    if how == "value":
        answers[draw(st.integers(0, n - 1))] = draw(ODD_VALUE)
    elif how == "none":
        for i in draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=3)):
            answers[i] = None
    elif how == "length":
        answers = answers[: draw(st.integers(0, n))] + draw(st.lists(st.integers(low, high)))
    elif how == "shape":
        return draw(
            st.one_of(
                st.none(),
                ANY_TEXT,
                st.integers(),
                st.dictionaries(ANY_TEXT, st.integers(), max_size=3),
                st.lists(ODD_VALUE, max_size=12),
            )
        )
    return draw(st.sampled_from([tuple, list]))(answers)


@st.composite
def forms(draw: st.DrawFn) -> FormAnswers:
    """A valid form (answers drawn at random, in any valid spelling of the instrument), often
    with one field mangled."""
    code = draw(st.sampled_from([c for c in CODES if c != "mood"]))
    definition = load_instrument(code)
    low, high = definition.min_code, definition.max_code
    n = len(definition.items)
    extra_ids = [e.id for e in definition.extra_items]
    fields: dict[str, Any] = {
        "instrument": draw(st.sampled_from([code, code.upper(), f" {code} "])),
        "answers": tuple(draw(st.lists(st.integers(low, high), min_size=n, max_size=n))),
        "extra_answers": tuple((i, 0) for i in extra_ids if draw(st.booleans())),
        "language": draw(st.sampled_from(["zh_CN", "en"])),
        "prorate": False,
    }
    mangle = draw(
        st.sampled_from(["none", "none", "instrument", "answers", "extra", "language", "prorate"])
    )
    if mangle == "instrument":
        fields["instrument"] = draw(
            st.one_of(
                st.sampled_from(
                    ["PHQ-9", "ＰＨＱ－９", " gad 7 ", "K-10", "WHO5", "pss_10", "mood"]
                ),
                ANY_TEXT,
                st.none(),
                st.integers(),
            )
        )
    elif mangle == "answers":
        fields["answers"] = draw(answers_for(code))
    elif mangle == "extra":
        fields["extra_answers"] = draw(
            st.one_of(
                st.lists(
                    st.tuples(
                        st.one_of(st.sampled_from([*extra_ids, "1", "99"]), st.integers(0, 12)),
                        st.one_of(st.integers(0, 3), ODD_VALUE),
                    ),
                    max_size=3,
                ).map(tuple),
                ODD_VALUE,
                st.dictionaries(st.sampled_from([*extra_ids, "x"]), st.integers(0, 3), max_size=2),
            )
        )
    elif mangle == "language":
        fields["language"] = draw(st.one_of(ANY_TEXT, st.none(), st.sampled_from(["zh", "EN"])))
    elif mangle == "prorate":
        fields["prorate"] = True
        if n > 1 and draw(st.booleans()):
            answers = list(fields["answers"])
            answers[draw(st.integers(0, n - 1))] = None
            fields["answers"] = tuple(answers)
    return FormAnswers(**fields)


PROFILES = st.builds(
    AnonymousProfile,
    age_band=st.one_of(st.none(), st.sampled_from(list(AgeBand)), ODD_VALUE),
    gender=st.one_of(st.none(), st.sampled_from(list(Gender)), st.sampled_from(["male", "x"])),
    industry=st.one_of(st.none(), st.sampled_from(list(Industry)), ODD_VALUE),
)


@pytest.fixture
def world(services: Services) -> World:
    w = build_world(services)
    give_consent(services, w, ConsentPurpose.ASSESSMENT)
    return w


def assert_stored_as_scored(services: Services, sent: list[FormAnswers], new: list[int]) -> None:
    """Each new row holds the answers sent, scored by the instrument's own rules."""
    with services.db.read() as session:
        rows = [session.get_one(m.Assessment, i) for i in new]
    assert len(rows) == len(sent)
    for row, form in zip(rows, sent, strict=True):
        definition = load_instrument(form.instrument)
        assert row.instrument == definition.code
        assert row.answers == list(form.answers)
        missing = "prorate" if None in row.answers else "reject"
        expected = score(row.instrument, row.answers, missing=missing)
        assert (row.total, row.band) == (expected.total, expected.band)
        assert definition.band(row.band)
        assert row.language in ("zh_CN", "en")
        codes = {e.id: {o.code for o in e.options} for e in definition.extra_items}
        for item_id, value in (row.extra_answers or {}).items():
            assert value in codes[item_id]


def assessment_ids(services: Services) -> set[int]:
    with services.db.read() as session:
        return set(session.scalars(select(m.Assessment.id)))


def save_or_refuse(services: Services, sent: list[FormAnswers], save: Any) -> None:
    before = snapshot(services)
    before_ids = assessment_ids(services)
    try:
        save()
    except CareStationError as exc:
        event(f"refused: {sorted(getattr(exc, 'errors', {'-': ''}))}")
        assert_clear(exc)
        assert snapshot(services) == before, "a refused questionnaire changed the database"
        return
    event("saved")
    after = snapshot(services)
    changed = {t for t in after if after[t] != before[t]}
    assert changed <= SAVED_TABLES, sorted(changed - SAVED_TABLES)
    assert_stored_as_scored(services, sent, sorted(assessment_ids(services) - before_ids))


@FUZZ
@given(form=forms())
def test_a_form_in_a_session_is_saved_as_scored_or_refused(
    services: Services, world: World, form: FormAnswers
) -> None:
    save_or_refuse(
        services,
        [form],
        lambda: services.assessments.record_in_session(
            world.counsellor, client_id=world.client_id, form=form
        ),
    )


@FUZZ
@given(sent=st.lists(forms(), max_size=2))
def test_the_self_service_screen_saves_every_form_or_none(
    services: Services, world: World, sent: list[FormAnswers]
) -> None:
    save_or_refuse(
        services,
        sent,
        lambda: services.assessments.record_kiosk_for_client(
            world.staff, client_id=world.client_id, forms=sent
        ),
    )


@FUZZ
@given(sent=st.lists(forms(), max_size=2), profile=PROFILES)
def test_anonymous_forms_are_saved_or_refused(
    services: Services, world: World, sent: list[FormAnswers], profile: AnonymousProfile
) -> None:
    save_or_refuse(
        services,
        sent,
        lambda: services.assessments.record_anonymous(world.staff, forms=sent, profile=profile),
    )


@settings(max_examples=300, deadline=None)
@given(code=st.sampled_from(CODES), answers=st.one_of(answers_for("k10"), answers_for("phq9")))
def test_scoring_any_answers_gives_a_score_or_a_value_error(code: str, answers: Any) -> None:
    """The scoring function's own contract: a ValueError naming the problem, nothing else."""
    for missing in ("reject", "prorate"):
        try:
            result = score(code, answers, missing=missing)
        except ValueError as exc:
            assert str(exc)
            continue
        definition = load_instrument(code)
        assert definition.band(result.band)
        assert definition.min_total <= result.total <= definition.max_total
