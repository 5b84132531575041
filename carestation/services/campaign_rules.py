"""The rules of a screening campaign that need no transaction of their own: checking what staff
typed, reading campaigns with their code counts, and why a code cannot be used now."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from carestation.assessments import load_instrument
from carestation.db import models as m
from carestation.domain.assessment_values import CampaignInfo, CampaignInput
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.services.cases import local_or_none

MAX_TEXT = 200
MAX_CODES_PER_ISSUE = 2000
NOT_FOR_CAMPAIGNS = frozenset({"mood"})


def _clean(text: str) -> str:
    return " ".join((text or "").split())


def check_count(count: object) -> int:
    if (
        isinstance(count, bool)
        or not isinstance(count, int)
        or not (1 <= count <= MAX_CODES_PER_ISSUE)
    ):
        raise ValidationError(
            {
                "codes": _("Issue between 1 and {most} codes at a time.").format(
                    most=MAX_CODES_PER_ISSUE
                )
            }
        )
    return count


def check_input(data: CampaignInput, today: date) -> tuple[str, str, list[str]]:
    errors: dict[str, str] = {}
    name, work_unit = _clean(data.name), _clean(data.work_unit)
    if not name:
        errors["name"] = _("Give the campaign a name, e.g. “2026 spring screening”.")
    elif len(name) > MAX_TEXT:
        errors["name"] = _("Shorten the name to {most} characters.").format(most=MAX_TEXT)
    for field, value, label in (
        ("name", name, _("Name")),
        ("work_unit", work_unit, _("Work unit")),
    ):
        if any(unicodedata.category(ch) == "Cc" for ch in value):
            errors[field] = _("{label} contains characters that cannot be shown.").format(
                label=label
            )
    if not work_unit:
        errors["work_unit"] = _("Name the employer or work unit whose employees take part.")
    elif len(work_unit) > MAX_TEXT:
        errors["work_unit"] = _("Shorten the work unit to {most} characters.").format(most=MAX_TEXT)
    instruments: list[str] = []
    for raw in data.instruments or ():
        try:
            code = load_instrument(raw).code
        except ValueError:
            errors["instruments"] = _("Choose the questionnaires from the list.")
            break
        if code in NOT_FOR_CAMPAIGNS:
            errors["instruments"] = _(
                "The distress rating belongs to emotion-pod sessions; choose questionnaires."
            )
            break
        if code in instruments:
            errors["instruments"] = _("Each questionnaire can be chosen once.")
            break
        instruments.append(code)
    if not instruments and "instruments" not in errors:
        errors["instruments"] = _("Choose at least one questionnaire.")
    if data.ends_on < data.starts_on:
        errors["ends_on"] = _("The last day must be on or after the first day.")
    elif data.ends_on < today:
        errors["ends_on"] = _("The last day has already passed; choose a later date.")
    try:
        check_count(data.codes)
    except ValidationError as exc:
        errors.update(exc.errors)
    if errors:
        raise ValidationError(errors)
    return name, work_unit, instruments


def campaign_infos(session: Session, condition: ColumnElement[bool]) -> list[CampaignInfo]:
    code = m.CampaignCode
    counts = (
        select(
            code.campaign_id,
            func.count().label("issued"),
            func.count(code.used_on).label("used"),
            func.count(code.follow_up_at).label("follow_ups"),
        )
        .group_by(code.campaign_id)
        .subquery()
    )
    query = (
        select(m.Campaign, m.Station.name, m.Station.time_zone, counts)
        .join(m.Station, m.Station.id == m.Campaign.station_id)
        .outerjoin(counts, counts.c.campaign_id == m.Campaign.id)
        .where(condition)
        .order_by(m.Campaign.starts_on.desc(), m.Campaign.id.desc())
    )
    return [
        CampaignInfo(
            id=c.id,
            station_id=c.station_id,
            station_name=station_name,
            name=c.name,
            work_unit=c.work_unit,
            instruments=tuple(c.instruments),
            starts_on=c.starts_on,
            ends_on=c.ends_on,
            issued=int(issued or 0),
            used=int(used or 0),
            follow_ups=int(follow_ups or 0),
            closed_at=local_or_none(c.closed_at, zone),
            version=c.version,
        )
        for c, station_name, zone, _id, issued, used, follow_ups in session.execute(query)
    ]


def code_row(
    session: Session,
    code: str,
    *,
    lock_query: Callable[[Select[Any]], Select[Any]] | None = None,
) -> m.CampaignCode:
    query = select(m.CampaignCode).where(m.CampaignCode.code == code)
    if lock_query is not None:
        query = lock_query(query)
    row = session.scalars(query).first()
    if row is None:
        raise NotFound(
            _(
                "This code is not known. Check the code on your slip and type it again, or "
                "ask the station staff."
            )
        )
    return row


def usable(
    session: Session, code: m.CampaignCode, actor: Actor, today_in: Callable[[str], date]
) -> tuple[m.Campaign, str]:
    """The code's campaign and its station's time zone, or the error saying why not now.
    `today_in(zone)` is the service clock's date in a time zone."""
    campaign = session.get_one(m.Campaign, code.campaign_id)
    station = session.get_one(m.Station, campaign.station_id)
    if campaign.station_id not in actor.station_ids:
        raise Conflict(
            _(
                "This code is for a screening run by {station}. Please use it on that "
                "station's self-service screen."
            ).format(station=station.name)
        )
    if code.used_on is not None:
        raise Conflict(
            _(
                "This code has already been used; each code works once. If you did not use "
                "it yourself, ask the station staff for a new one."
            )
        )
    today = today_in(station.time_zone)
    if campaign.closed_at is not None:
        raise Conflict(
            _(
                "This screening has been closed, so its codes no longer work. Ask the "
                "station staff if you would still like to take a questionnaire."
            )
        )
    if today < campaign.starts_on:
        raise Conflict(
            _(
                "This screening starts on {date}. Please come back with your code from that day."
            ).format(date=campaign.starts_on.isoformat())
        )
    if today > campaign.ends_on:
        raise Conflict(
            _(
                "This screening ended on {date}, so its codes no longer work. Ask the "
                "station staff if you would still like to take a questionnaire."
            ).format(date=campaign.ends_on.isoformat())
        )
    return campaign, station.time_zone
