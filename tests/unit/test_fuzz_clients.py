"""Fuzzed client registration, correction, search and client codes (issue 8, "Bad input"): any
input gives a saved valid record or a clear error (a CareStationError with a message per field),
never another exception, and an error leaves the database exactly as it was. Runs on SQLite
and PostgreSQL."""

from __future__ import annotations

import os
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from carestation.db import models as m
from carestation.domain.booking import ClientInput, ClientSummary
from carestation.domain.client_code import (
    ALPHABET,
    new_client_code,
    normalise_client_code,
)
from carestation.domain.errors import CareStationError
from carestation.domain.validation import clean_text
from carestation.domain.vocab import Gender
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import World, build_world
from tests.fuzzing import assert_clear, snapshot

FUZZ = settings(
    max_examples=int(os.environ.get("CARESTATION_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
THIS_YEAR = FakeClock().now().year
ASCII_PHONE = re.compile(r"^[0-9-]+$")

# --- strategies --------------------------------------------------------------------------------

FULL_WIDTH = str.maketrans("0123456789-", "０１２３４５６７８９－")
ODD = st.sampled_from(
    [
        "\x00",
        "\t",
        "\n",
        "\r\n",
        "\x1b",
        "\x7f",
        "\u0085",
        "\u00a0",
        "\u200b",
        "\u200d",
        "\u2028",
        "\u3000",
        "\ufeff",
        "\u202e",
        "\U0001f600",
        "𠀀",
        "e\u0301",
        "%",
        "_",
        "\\",
        "'",
        '"',
        ";--",
    ]
)
# Any text without surrogates (a Qt line edit cannot hold a lone surrogate).
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=60)
LONG_TEXT = st.builds(
    lambda ch, n: ch * n, st.sampled_from(["张", "a", " ", "𠀀"]), st.integers(95, 600)
)
NAMES = st.one_of(
    st.sampled_from(["张三", "李四", "Ahmad Ali", "王 小明", "欧阳娜娜", "Zoë"]),
    st.builds(
        lambda a, o, b: a + o + b,
        st.sampled_from(["张", "", " "]),
        ODD,
        st.sampled_from(["三", "", " "]),
    ),
    ANY_TEXT,
    LONG_TEXT,
)
DIGIT_PHONES = st.one_of(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.from_regex(r"0[0-9]{2,3}-?[2-9][0-9]{6,7}(-[0-9]{1,6})?", fullmatch=True),
    st.from_regex(r"[0-9 -]{0,16}", fullmatch=True),
)
PHONES = st.one_of(
    DIGIT_PHONES,
    DIGIT_PHONES.map(lambda p: p.translate(FULL_WIDTH)),
    st.builds(lambda p, o, i: p[:i] + o + p[i:], DIGIT_PHONES, ODD, st.integers(0, 12)),
    ANY_TEXT,
)
GENDERS: st.SearchStrategy[Any] = st.one_of(
    st.sampled_from(list(Gender)),
    st.sampled_from([g.value for g in Gender]),
    ANY_TEXT,
    st.none(),
    st.integers(),
)
BIRTH_YEARS = st.one_of(
    st.none(),
    st.integers(1890, THIS_YEAR + 5),
    st.integers(),
    st.sampled_from([1899, 1900, THIS_YEAR, THIS_YEAR + 1, 0, -1, 10**30]),
)


@st.composite
def client_inputs(draw: st.DrawFn, station_ids: tuple[int, ...]) -> ClientInput:
    return ClientInput(
        name=draw(NAMES),
        phone=draw(PHONES),
        work_unit=draw(st.one_of(st.just(""), NAMES, ANY_TEXT)),
        gender=draw(GENDERS),
        birth_year=draw(BIRTH_YEARS),
        home_station_id=draw(st.one_of(st.none(), st.sampled_from(station_ids))),
    )


# --- checks ------------------------------------------------------------------------------------


def visible(text: str) -> bool:
    """Shows at least one character: not only format characters (zero-width and the like)."""
    return any(unicodedata.category(ch)[0] not in ("C", "Z") for ch in text)


def no_control(text: str) -> bool:
    return not any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def assert_valid_client(
    services: Services, world: World, saved: ClientSummary, *, new: bool = True
) -> None:
    """What was returned is what is stored, and it is a record the forms could show."""
    again = services.clients.get(actor=world.staff, client_id=saved.id)
    assert again == saved
    assert saved.name == clean_text(saved.name)
    assert 0 < len(saved.name) <= 100
    assert no_control(saved.name)
    assert visible(saved.name)
    assert ASCII_PHONE.match(saved.phone), saved.phone
    assert len(saved.work_unit) <= 200
    assert no_control(saved.work_unit), saved.work_unit
    assert isinstance(saved.gender, Gender)
    assert saved.birth_year is None or 1900 <= saved.birth_year <= THIS_YEAR
    if new:  # the test world's client has a made-up code
        assert normalise_client_code(saved.client_code) == saved.client_code
    with services.db.read() as session:
        row = session.get_one(m.Client, saved.id)
        stations = (world.station_id, world.other_station_id)
        assert row.home_station_id in (stations if new else (None, *stations))


@pytest.fixture
def world(services: Services) -> World:
    return build_world(services)


def register_or_refuse(services: Services, world: World, data: ClientInput) -> None:
    before = snapshot(services)
    try:
        saved = services.clients.register(actor=world.staff, data=data)
    except CareStationError as exc:
        assert_clear(exc)
        assert snapshot(services) == before, "a refused registration changed the database"
        return
    assert_valid_client(services, world, saved)
    after = snapshot(services)
    changed = {t for t in after if after[t] != before[t]}
    assert changed <= {"client", "audit_event", "audit_chain"}, changed
    assert len(after["client"]) == len(before["client"]) + 1


# --- registration ------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_registration_saves_a_valid_client_or_refuses_cleanly(
    services: Services, world: World, data: st.DataObject
) -> None:
    registered = data.draw(client_inputs((world.station_id, world.other_station_id)))
    register_or_refuse(services, world, registered)


@FUZZ
@given(name=NAMES, phone=PHONES)
def test_the_same_person_twice_is_offered_not_duplicated(
    services: Services, world: World, name: str, phone: str
) -> None:
    first = ClientInput(name=name, phone=phone)
    try:
        saved = services.clients.register(actor=world.staff, data=first)
    except CareStationError:
        return
    before = snapshot(services)
    variant = ClientInput(name=f"  {name} ", phone=f" {phone}")
    with pytest.raises(CareStationError) as exc:
        services.clients.register(actor=world.staff, data=variant)
    assert_clear(exc.value)
    assert getattr(exc.value, "existing", None) == saved
    assert snapshot(services) == before


# --- correction --------------------------------------------------------------------------------


@FUZZ
@given(data=st.data())
def test_correction_saves_a_valid_client_or_changes_nothing(
    services: Services, world: World, data: st.DataObject
) -> None:
    corrected = data.draw(client_inputs((world.station_id, world.other_station_id)))
    expected = services.clients.get(actor=world.staff, client_id=world.client_id)
    before = snapshot(services)
    try:
        saved = services.rights.correct(
            world.admin, client_id=world.client_id, data=corrected, expected=expected
        )
    except CareStationError as exc:
        assert_clear(exc)
        assert snapshot(services) == before
        return
    assert saved.id == world.client_id
    assert saved.client_code == expected.client_code
    assert_valid_client(services, world, saved, new=False)
    after = snapshot(services)
    changed = {t for t in after if after[t] != before[t]}
    assert changed <= {"client", "audit_event", "audit_chain"}, changed
    # Put the record back, so the next example starts from the same client.
    services.rights.correct(
        world.admin,
        client_id=world.client_id,
        data=ClientInput(
            name=expected.name,
            phone=expected.phone,
            work_unit=expected.work_unit,
            gender=expected.gender,
            birth_year=expected.birth_year,
        ),
    )


@FUZZ
@given(home=st.integers(-(2**31), 2**31 - 1))  # ids come from lists; PostgreSQL's are 32-bit
def test_correction_to_a_station_that_does_not_exist_is_refused(
    services: Services, world: World, home: int
) -> None:
    assume(home not in (world.station_id, world.other_station_id))
    before = snapshot(services)
    with pytest.raises(CareStationError) as exc:
        services.rights.correct(
            world.admin,
            client_id=world.client_id,
            data=ClientInput(name="张三", phone="13800000000", home_station_id=home),
        )
    assert_clear(exc.value)
    assert snapshot(services) == before


# --- search ------------------------------------------------------------------------------------


@FUZZ
@given(text=st.one_of(NAMES, PHONES, st.text(st.characters(exclude_categories=("Cs",)))))
@example(text="%")
@example(text="_")
@example(text="ABCD-EFGH-1")
@example(text="abcd efgh 1")
def test_search_answers_any_text(services: Services, world: World, text: str) -> None:
    found = services.clients.search(actor=world.staff, text=text)
    assert len(found) <= 20
    assert len({c.id for c in found}) == len(found)


# --- client codes ------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(text=st.text(st.characters(exclude_categories=("Cs",)), max_size=20))
def test_any_typed_text_is_a_canonical_code_or_none(text: str) -> None:
    code = normalise_client_code(text)
    if code is not None:
        assert normalise_client_code(code) == code
        assert re.fullmatch(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}-[{ALPHABET}]", code)


@settings(max_examples=200, deadline=None)
@given(
    seed=st.randoms(use_true_random=False),
    position=st.integers(0, 8),
    replacement=st.sampled_from(ALPHABET),
    dress=st.sampled_from(["{}", " {} ", "{}\n"]),
    lower=st.booleans(),
)
def test_codes_read_back_however_typed_and_catch_one_typo(
    seed: Any, position: int, replacement: str, dress: str, lower: bool
) -> None:
    code = new_client_code(seed)
    typed = dress.format(code.lower() if lower else code.replace("-", " "))
    assert normalise_client_code(typed) == code
    raw = code.replace("-", "")
    assume(raw[position] != replacement)
    typo = raw[:position] + replacement + raw[position + 1 :]
    assert normalise_client_code(typo) is None


# --- bugs found by the properties above, fixed: kept as plain regression tests ----------------


def test_fixed_control_characters_in_the_work_unit(services: Services, world: World) -> None:
    for work_unit in ["市水务\x00集团", "市水务\x1b[31m集团", "\x07"]:
        register_or_refuse(services, world, ClientInput("李四", "13900000000", work_unit=work_unit))


def test_fixed_non_ascii_digits_in_a_phone_number(services: Services, world: World) -> None:
    for phone in ["13٨00000000", "138００００００００", "0575-8７００１２３４"]:
        register_or_refuse(services, world, ClientInput("李四", phone))


def test_fixed_invisible_names(services: Services, world: World) -> None:
    for name in ["\u200b", "\ufeff\u200d"]:
        register_or_refuse(services, world, ClientInput(name, "13900000000"))


def test_fixed_registration_at_a_station_that_does_not_exist(
    services: Services, world: World
) -> None:
    register_or_refuse(services, world, ClientInput("李四", "13900000000", home_station_id=999_999))


def test_fixed_search_for_text_with_a_nul_character(services: Services) -> None:
    if services.db.is_sqlite:
        pytest.skip("SQLite accepts the NUL; only PostgreSQL refuses it")
    world = build_world(services)
    # The NUL is dropped: the same answer as the text without it, never a DataError.
    assert services.clients.search(actor=world.staff, text="张\x00") == services.clients.search(
        actor=world.staff, text="张"
    )
