"""Form validators and client codes: exact rules, and no input ever crashes them."""

from __future__ import annotations

import random
import string
from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carestation.domain.client_code import ALPHABET, new_client_code, normalise_client_code
from carestation.domain.errors import ValidationError
from carestation.domain.roles import Role
from carestation.domain.validation import (
    check_phone,
    password_problem,
    validate_room,
    validate_station,
    validate_user,
)
from carestation.domain.values import (
    CounsellorProfile,
    OpeningHours,
    RoomInput,
    StationInput,
    UserInput,
)
from carestation.domain.vocab import CounsellorKind, RoomKind


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("13800138000", True),
        ("0575-87001234", True),
        ("057587001234", True),
        ("0575-87001234-801", True),
        ("87001234", True),
        ("12351", False),
        ("12345", False),
        ("1380013800", False),
        ("23800138000", False),
        ("phone", False),
        ("0575-0700123", False),
    ],
)
def test_phone_rules(phone: str, ok: bool) -> None:
    errors: dict[str, str] = {}
    check_phone(phone, "phone", errors)
    assert ("phone" not in errors) is ok


def test_password_rules() -> None:
    assert password_problem("short") is not None
    assert password_problem("aaaaaaaaaaaa") is not None
    assert password_problem(" leading-space-pass") is not None
    assert password_problem("correct horse battery") is None


def test_station_names_are_trimmed_and_required() -> None:
    cleaned = validate_station(StationInput(name="  诸暨   市站 ", phone=" 0575-87001234 "))
    assert cleaned.name == "诸暨 市站"
    assert cleaned.phone == "0575-87001234"
    with pytest.raises(ValidationError) as exc:
        validate_station(StationInput(name="  ", time_zone="Mars/Base"))
    assert set(exc.value.errors) == {"name", "time_zone"}


def test_opening_hours_must_run_forwards_and_not_overlap() -> None:
    with pytest.raises(ValidationError) as backwards:
        validate_station(StationInput(name="站", hours=(OpeningHours(0, time(17), time(9)),)))
    assert "hours.0" in backwards.value.errors
    with pytest.raises(ValidationError) as overlap:
        validate_station(
            StationInput(
                name="站",
                hours=(OpeningHours(2, time(8), time(12)), OpeningHours(2, time(11), time(17))),
            )
        )
    assert "hours.2" in overlap.value.errors
    ok = validate_station(
        StationInput(
            name="站",
            hours=(OpeningHours(2, time(13), time(17)), OpeningHours(2, time(8), time(12))),
        )
    )
    assert [h.opens for h in ok.hours] == [time(8), time(13)]


def test_room_capacity_bounds() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_room(RoomInput(station_id=1, name="舱", kind=RoomKind.EMOTION_POD, capacity=0))
    assert set(exc.value.errors) == {"capacity"}


def test_user_rules() -> None:
    with pytest.raises(ValidationError) as exc:
        validate_user(
            UserInput(
                username="X",
                display_name="",
                roles=frozenset({Role.COUNSELLOR}),
                station_ids=frozenset(),
            )
        )
    assert set(exc.value.errors) == {"username", "display_name", "stations", "counsellor_kind"}
    user = validate_user(
        UserInput(
            username="Wang.Fang",
            display_name="王芳",
            roles=frozenset({Role.STAFF}),
            station_ids=frozenset({1}),
            counsellor=CounsellorProfile(kind=CounsellorKind.EXPERT),
        )
    )
    assert user.username == "wang.fang"
    assert user.counsellor is None  # dropped: not a counsellor


@given(st.text(max_size=300))
def test_station_validation_never_crashes(text: str) -> None:
    try:
        result = validate_station(StationInput(name=text, address=text, phone=text))
    except ValidationError as exc:
        assert exc.errors
        assert all(isinstance(v, str) and v for v in exc.errors.values())
    else:
        assert result.name.strip() == result.name
        assert 0 < len(result.name) <= 100


@given(st.text(max_size=80), st.text(max_size=200))
def test_user_validation_never_crashes(username: str, display: str) -> None:
    try:
        validate_user(
            UserInput(
                username=username,
                display_name=display,
                roles=frozenset({Role.MANAGER}),
                station_ids=frozenset(),
            )
        )
    except ValidationError as exc:
        assert exc.errors


def test_client_codes_are_random_and_self_checking() -> None:
    rng = random.Random(42)
    codes = {new_client_code(rng) for _ in range(2000)}
    assert len(codes) == 2000
    for code in codes:
        assert normalise_client_code(code) == code
        assert normalise_client_code(code.lower().replace("-", " ")) == code


@given(
    st.integers(min_value=0, max_value=10_000),
    st.integers(min_value=0, max_value=8),
    st.sampled_from(list(ALPHABET)),
)
def test_any_single_substitution_is_caught(seed: int, position: int, replacement: str) -> None:
    code = new_client_code(random.Random(seed))
    body = code.replace("-", "")
    if body[position] == replacement:
        return
    typo = body[:position] + replacement + body[position + 1 :]
    assert normalise_client_code(typo) is None


@given(st.text(alphabet=string.printable + "中文", max_size=20))
def test_normalising_arbitrary_text_never_crashes(text: str) -> None:
    result = normalise_client_code(text)
    assert result is None or len(result) == 11
