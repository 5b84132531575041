"""ORM rows to the immutable values the services hand out."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from carestation.db import models as m
from carestation.domain.values import CounsellorProfile, OpeningHours, Room, Station, User


def station_value(row: m.Station) -> Station:
    return Station(
        id=row.id,
        name=row.name,
        address=row.address,
        phone=row.phone,
        time_zone=row.time_zone,
        active=row.active,
        hours=tuple(OpeningHours(h.weekday, h.opens, h.closes) for h in row.hours),
    )


def room_value(row: m.Room) -> Room:
    return Room(
        id=row.id,
        station_id=row.station_id,
        name=row.name,
        kind=row.kind,
        capacity=row.capacity,
        active=row.active,
    )


def user_value(row: m.UserAccount) -> User:
    profile = None
    if row.counsellor is not None:
        profile = CounsellorProfile(
            kind=row.counsellor.kind,
            qualifications=row.counsellor.qualifications,
            languages=row.counsellor.languages,
        )
    return User(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        active=row.active,
        roles=frozenset(r.role for r in row.roles),
        station_ids=frozenset(s.station_id for s in row.stations),
        counsellor=profile,
        locked_until=row.locked_until,
        last_sign_in_at=row.last_sign_in_at,
    )


def display_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Users' display names by id, in one query (ids may repeat or be None)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(
        select(m.UserAccount.id, m.UserAccount.display_name).where(m.UserAccount.id.in_(wanted))
    )
    return {user_id: name for user_id, name in rows}
