"""Form rules shared by the services (which enforce them) and the dialogs (which show them early)."""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from carestation.domain.booking import ClientInput
from carestation.domain.errors import ValidationError
from carestation.domain.values import OpeningHours, RoomInput, StationInput, UserInput
from carestation.domain.vocab import Gender
from carestation.i18n import _

MAX_NAME = 100
MAX_TEXT = 500
MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{2,31}$")
# A mainland mobile number, a landline with area code (0575-87654321, optional extension),
# or a local 7-8 digit landline without one.
_PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?[2-9]\d{6,7}(-\d{1,6})?|[2-9]\d{6,7})$", re.ASCII)


def clean_text(value: str) -> str:
    """NFC-normalise and trim; collapse internal runs of whitespace to one space."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def _has_control(value: str) -> bool:
    return any(unicodedata.category(ch) == "Cc" for ch in value)


def _invisible(value: str) -> bool:
    """Nothing to see: only format characters (zero-width space, BOM ...) and spaces."""
    return not any(unicodedata.category(ch)[0] not in "CZ" for ch in value)


def check_name(value: str, field: str, errors: dict[str, str], *, label: str) -> str:
    cleaned = clean_text(value)
    if not cleaned:
        errors[field] = _("{label} is required.").format(label=label)
    elif len(cleaned) > MAX_NAME:
        errors[field] = _("{label} is too long: at most {max} characters.").format(
            label=label, max=MAX_NAME
        )
    elif _has_control(value.strip()) or _invisible(cleaned):
        errors[field] = _("{label} contains characters that cannot be shown.").format(label=label)
    return cleaned


def check_phone(value: str, field: str, errors: dict[str, str], *, required: bool = False) -> str:
    # NFKC: full-width digits and dashes typed with a Chinese IME are stored as ASCII.
    cleaned = unicodedata.normalize("NFKC", value).strip().replace(" ", "")
    if not cleaned:
        if required:
            errors[field] = _("Phone number is required.")
        return ""
    if not _PHONE.match(cleaned):
        errors[field] = _(
            "Enter a mobile number (11 digits, starting with 1) or a landline with area code,"
            " such as 0575-87001234."
        )
    return cleaned


def check_username(value: str, errors: dict[str, str]) -> str:
    cleaned = value.strip().lower()
    if not _USERNAME.match(cleaned):
        errors["username"] = _(
            "User name: 3 to 32 characters, lower-case letters, digits, '.', '_' or '-',"
            " starting with a letter or digit."
        )
    return cleaned


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD:
        return _("The password needs at least {n} characters.").format(n=MIN_PASSWORD)
    if len(set(password)) < 4:
        return _("The password is too simple: use more different characters.")
    if password != password.strip():
        return _("The password must not start or end with a space.")
    return None


def check_time_zone(value: str, errors: dict[str, str]) -> str:
    cleaned = value.strip()
    try:
        ZoneInfo(cleaned)
    except (ZoneInfoNotFoundError, ValueError):
        errors["time_zone"] = _("Unknown time zone “{zone}”; for China use Asia/Shanghai.").format(
            zone=cleaned
        )
    return cleaned


def check_hours(hours: Iterable[OpeningHours], errors: dict[str, str]) -> tuple[OpeningHours, ...]:
    result = tuple(sorted(hours, key=lambda h: (h.weekday, h.opens)))
    for h in result:
        if not 0 <= h.weekday <= 6:
            errors["hours"] = _("A weekday must be between Monday and Sunday.")
        elif h.closes <= h.opens:
            errors[f"hours.{h.weekday}"] = _("Closing time must be after opening time.")
    for a, b in itertools.pairwise(result):
        if a.weekday == b.weekday and b.opens < a.closes:
            errors[f"hours.{a.weekday}"] = _("Opening periods on the same day overlap.")
    return result


def validate_station(data: StationInput) -> StationInput:
    errors: dict[str, str] = {}
    name = check_name(data.name, "name", errors, label=_("Station name"))
    address = clean_text(data.address)
    if len(address) > MAX_TEXT:
        errors["address"] = _("The address is too long.")
    phone = check_phone(data.phone, "phone", errors)
    zone = check_time_zone(data.time_zone, errors)
    hours = check_hours(data.hours, errors)
    if errors:
        raise ValidationError(errors)
    return StationInput(name=name, address=address, phone=phone, time_zone=zone, hours=hours)


def validate_room(data: RoomInput) -> RoomInput:
    errors: dict[str, str] = {}
    name = check_name(data.name, "name", errors, label=_("Room name"))
    if not 1 <= data.capacity <= 1000:
        errors["capacity"] = _("Capacity must be between 1 and 1000 people.")
    if errors:
        raise ValidationError(errors)
    return RoomInput(station_id=data.station_id, name=name, kind=data.kind, capacity=data.capacity)


def validate_user(data: UserInput) -> UserInput:
    errors: dict[str, str] = {}
    username = check_username(data.username, errors)
    display = check_name(data.display_name, "display_name", errors, label=_("Display name"))
    if not data.roles:
        errors["roles"] = _("Give the user at least one role.")
    from carestation.domain.roles import Role  # local: keeps the import graph flat

    if data.roles & {Role.STAFF, Role.COUNSELLOR} and not data.station_ids:
        errors["stations"] = _("Staff and counsellors must work at one station at least.")
    if Role.COUNSELLOR in data.roles and data.counsellor is None:
        errors["counsellor_kind"] = _("Choose what kind of counsellor this is.")
    counsellor = data.counsellor if Role.COUNSELLOR in data.roles else None
    if counsellor is not None:
        if len(counsellor.qualifications) > MAX_TEXT:
            errors["qualifications"] = _("Qualifications: at most {max} characters.").format(
                max=MAX_TEXT
            )
        if len(counsellor.languages) > MAX_NAME:
            errors["languages"] = _("Languages: at most {max} characters.").format(max=MAX_NAME)
    if errors:
        raise ValidationError(errors)
    return UserInput(
        username=username,
        display_name=display,
        roles=frozenset(data.roles),
        station_ids=frozenset(data.station_ids),
        counsellor=counsellor,
    )


def validate_client_input(data: ClientInput, *, this_year: int) -> dict[str, Any]:
    """The registered details, cleaned, by column name; ValidationError with a message per field.
    Used when registering a client and when correcting one."""
    errors: dict[str, str] = {}
    name = check_name(data.name, "name", errors, label=_("Full name"))
    phone = check_phone(data.phone, "phone", errors, required=True)
    work_unit = clean_text(data.work_unit)
    if len(work_unit) > 2 * MAX_NAME:
        errors["work_unit"] = _("The work unit is too long.")
    elif _has_control(work_unit):
        errors["work_unit"] = _("{label} contains characters that cannot be shown.").format(
            label=_("Work unit")
        )
    try:
        gender = Gender(data.gender)
    except ValueError:
        errors["gender"] = _("Choose a gender, or “Not stated”.")
        gender = Gender.UNSPECIFIED
    if data.birth_year is not None and not 1900 <= data.birth_year <= this_year:
        errors["birth_year"] = _(
            "Enter a birth year between 1900 and this year, or leave it empty."
        )
    if errors:
        raise ValidationError(errors)
    values: dict[str, Any] = {
        "name": name,
        "phone": phone,
        "work_unit": work_unit,
        "gender": gender,
        "birth_year": data.birth_year,
    }
    if data.home_station_id is not None:
        values["home_station_id"] = data.home_station_id
    return values
