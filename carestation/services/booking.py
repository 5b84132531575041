"""Booking: find a time, book, move, cancel, check in, series. Every write is one transaction
that re-checks the rules after taking the write lock (SQLite: the database's; PostgreSQL:
advisory locks on the counsellor, room and client); the database refuses overlaps itself."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, joinedload

from carestation.db import models as m
from carestation.domain.booking import (
    Appointment,
    BookingDraft,
    BookingRefused,
    SeriesOccurrence,
    SlotOption,
    SlotRequest,
)
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.periods import Period
from carestation.domain.roles import Permission, Role
from carestation.domain.scheduling import (
    MAX_DURATION,
    TYPE_SPECS,
    WALK_IN_WINDOW,
    BookingRules,
    Candidate,
    counsellor_available,
    day_info,
    free_slots,
    intersect,
    station_open,
)
from carestation.domain.values import Actor
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    CancelReason,
    ChangeKind,
    WaitlistStatus,
)
from carestation.i18n import _, ngettext
from carestation.services import schedule_data as data
from carestation.services.base import Service

ALTERNATIVES_DAYS = 14
ALTERNATIVES_COUNT = 5

# Which status may follow which, and the words for refusing anything else.
TRANSITIONS: Mapping[AppointmentStatus, frozenset[AppointmentStatus]] = {
    AppointmentStatus.BOOKED: frozenset(
        {AppointmentStatus.CHECKED_IN, AppointmentStatus.NO_SHOW, AppointmentStatus.COMPLETED}
    ),
    AppointmentStatus.CHECKED_IN: frozenset(
        {AppointmentStatus.COMPLETED, AppointmentStatus.BOOKED}
    ),
    AppointmentStatus.NO_SHOW: frozenset({AppointmentStatus.BOOKED}),
    AppointmentStatus.COMPLETED: frozenset({AppointmentStatus.CHECKED_IN}),
    AppointmentStatus.CANCELLED: frozenset(),
}


class _Overlap(Exception):
    """The database refused a write because of an overlap (another PC was faster)."""

    def __init__(self, resource: str) -> None:
        self.resource = resource


def _overlap_resource(exc: IntegrityError) -> str | None:
    text = str(exc.orig)
    for resource in ("counsellor", "room", "client"):
        if (
            f"appointment_overlap:{resource}" in text
            or f"ex_appointment_{resource}_overlap" in text
        ):
            return resource
    return None


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%m-%d %H:%M")


class BookingService(Service):
    # --- access ------------------------------------------------------------------------------
    def _require_booking(
        self, actor: Actor, *, station_id: int, counsellor_id: int | None, action: str
    ) -> None:
        if station_id in actor.station_ids and (
            actor.can(Permission.BOOK_AT_STATION)
            or (actor.can(Permission.BOOK_OWN) and counsellor_id == actor.user_id)
        ):
            return
        self.deny(actor, action=action, ref=str(station_id))

    def _crisis_exempt(self, actor: Actor, draft: BookingDraft) -> bool:
        """Counsellors may book a crisis session at once and outside the usual hours."""
        return TYPE_SPECS[draft.type].short_notice and Role.COUNSELLOR in actor.roles

    # --- the rules ---------------------------------------------------------------------------
    @staticmethod
    def _station(session: Session, station_id: int) -> m.Station | None:
        """The station's row, held for the rest of the transaction: the session keeps rows only
        while something refers to them, so a later session.get would read it again."""
        held: dict[int, m.Station | None] = session.info.setdefault("booking_stations", {})
        if station_id not in held:
            # With its opening hours in the same query (the opening-hours check needs them).
            held[station_id] = session.get(
                m.Station, station_id, options=[joinedload(m.Station.hours)]
            )
        return held[station_id]

    def _lock_resources(self, session: Session, draft: BookingDraft) -> None:
        """On PostgreSQL, takes transaction-scoped advisory locks (in a fixed order) on the
        draft's counsellor, room and client for the station-local day(s) it touches, and on the
        client's week, so two station PCs booking the same person or room that day wait for
        each other and the rules checked next (the break between sessions, the weekly limit)
        see each other's bookings. Bookings of other days never wait. Overlaps are refused by
        the database either way; SQLite's write transaction already holds the whole database."""
        if self.db.is_sqlite:
            return
        station = self._station(session, draft.station_id)
        if station is None:
            return
        zone = ZoneInfo(station.time_zone)
        margin = timedelta(hours=2)  # more than any break after a session
        first = (draft.starts_at - margin).astimezone(zone).date()
        last = ((draft.ends_at or draft.starts_at + timedelta(hours=3)) + margin).astimezone(zone)
        days = [first + timedelta(days=n) for n in range((last.date() - first).days + 1)]
        keys = {
            _lock_key(kind, ident, day.toordinal())
            for kind, ident in ((1, draft.counsellor_id), (2, draft.room_id), (3, draft.client_id))
            if ident is not None
            for day in days
        }
        if draft.client_id is not None:
            local = draft.starts_at.astimezone(zone).date()
            monday = local - timedelta(days=local.weekday())
            keys.add(_lock_key(4, draft.client_id, monday.toordinal()))
        if not keys:
            return
        try:
            # One round trip; PostgreSQL takes them in the order of the select list.
            session.execute(select(*(func.pg_advisory_xact_lock(k) for k in sorted(keys))))
        except OperationalError as exc:
            if getattr(exc.orig, "sqlstate", None) == "40P01":  # deadlock: PostgreSQL chose us
                raise _Overlap("any") from exc
            raise

    def _check(
        self,
        session: Session,
        actor: Actor,
        draft: BookingDraft,
        *,
        exclude_ids: Sequence[int] = (),
        skip_notice: bool = False,
        check_cap: bool = True,
    ) -> tuple[list[str], str | None, BookingDraft]:
        """Problems with a draft (empty when it may be saved), the weekly-cap problem kept apart
        because staff may override it, and the draft with its end time filled in."""
        problems: list[str] = []
        spec = TYPE_SPECS[draft.type]
        station = self._station(session, draft.station_id)
        if station is None or not station.active:
            return [_("That station is closed down or no longer exists.")], None, draft
        zone = ZoneInfo(station.time_zone)
        rule_table = data.all_rules(session)
        rules = data.rules_in(rule_table, draft.station_id, draft.type)
        if draft.starts_at.tzinfo is None or (
            draft.ends_at is not None and draft.ends_at.tzinfo is None
        ):
            return (
                [_("The time has no time zone; this is a fault in the program, please report it.")],
                None,
                draft,
            )
        ends_at = draft.ends_at or draft.starts_at + rules.duration
        draft = replace(draft, ends_at=ends_at)
        now = self.clock.now()
        exempt = self._crisis_exempt(actor, draft)

        # The texts fit their columns and hold nothing PostgreSQL refuses (a NUL).
        for label, typed, most in (
            (_("Title"), draft.title, 200),
            (_("Address"), draft.address, 500),
            (_("Reason"), draft.override_reason, 500),
        ):
            typed = typed.strip()
            if len(typed) > most:
                problems.append(
                    _("{label} is too long: at most {max} characters.").format(
                        label=label, max=most
                    )
                )
            elif any(unicodedata.category(ch) == "Cc" for ch in typed):
                problems.append(
                    _("{label} contains characters that cannot be shown.").format(label=label)
                )
        if ends_at <= draft.starts_at:
            problems.append(_("The end time must be after the start time."))
        elif ends_at - draft.starts_at > MAX_DURATION:
            problems.append(_("An appointment can last at most 12 hours."))
        # What the type needs.
        if spec.needs_counsellor and draft.counsellor_id is None:
            problems.append(_("Choose a counsellor for this kind of appointment."))
        if not spec.needs_counsellor and draft.counsellor_id is not None:
            problems.append(_("This kind of appointment has no counsellor."))
        if spec.needs_client and draft.client_id is None:
            problems.append(_("Choose the client this appointment is for."))
        if spec.group and draft.client_id is not None:
            problems.append(_("A lecture has a registration list, not a single client."))
        if draft.modality not in spec.modalities:
            problems.append(
                _("{type} cannot be held as {modality}.").format(
                    type=draft.type.title, modality=draft.modality.title
                )
            )
        needs_room = bool(spec.room_kinds) and not spec.room_optional
        remote = draft.modality.value != "in_person"
        if needs_room and draft.room_id is None:
            problems.append(_("Choose a room for this appointment."))
        if remote and draft.room_id is not None:
            problems.append(_("A phone or video session does not use a room."))
        if spec.group:
            if draft.room_id is None and not draft.address.strip():
                problems.append(_("A lecture needs a room at the station or an off-site address."))
            if not draft.title.strip():
                problems.append(_("Give the lecture a title."))
            if draft.capacity is None or not 1 <= draft.capacity <= 1000:
                problems.append(_("Give the lecture a capacity between 1 and 1000 people."))
        # Time: past, notice, opening hours.
        if draft.walk_in:
            if draft.starts_at > now:
                problems.append(
                    _("A walk-in is recorded after it happened; this one is in the future.")
                )
            elif now - draft.starts_at > WALK_IN_WINDOW:
                problems.append(_("Walk-ins can be recorded up to 7 days afterwards."))
        elif draft.starts_at < now:
            problems.append(
                _("That time has passed. To record a visit that happened, mark it as a walk-in.")
            )
        elif (
            not exempt
            and not skip_notice
            and draft.starts_at < now + timedelta(minutes=rules.min_notice_minutes)
        ):
            problems.append(
                ngettext(
                    "This appointment needs at least {n} minute's notice.",
                    "This appointment needs at least {n} minutes' notice.",
                    rules.min_notice_minutes,
                ).format(n=rules.min_notice_minutes)
            )
        booked = Period(draft.starts_at, max(ends_at, draft.starts_at + timedelta(minutes=1)))
        day = draft.starts_at.astimezone(zone).date()
        if not exempt and not draft.walk_in and not (spec.group and draft.room_id is None):
            problems.extend(self._opening_problems(session, station, day, booked, zone))
        # The counsellor.
        if draft.counsellor_id is not None:
            problems.extend(
                self._counsellor_problems(
                    session, draft, booked, day, zone, exempt=exempt or draft.walk_in
                )
            )
        # The room.
        room = session.get(m.Room, draft.room_id) if draft.room_id is not None else None
        if draft.room_id is not None:
            if room is None or room.station_id != draft.station_id:
                problems.append(_("That room is not at this station."))
            elif not room.active:
                problems.append(_("The room {name} is out of use.").format(name=room.name))
            elif room.kind not in spec.room_kinds:
                problems.append(
                    _("{type} cannot take place in {room} ({kind}).").format(
                        type=draft.type.title, room=room.name, kind=room.kind.title
                    )
                )
            elif spec.group and draft.capacity is not None and draft.capacity > room.capacity:
                problems.append(
                    _(
                        "{room} holds {n} people; lower the capacity or choose a bigger room."
                    ).format(room=room.name, n=room.capacity)
                )
        if draft.client_id is not None and not session.scalar(
            select(exists().where(m.Client.id == draft.client_id))
        ):
            problems.append(_("That client's record no longer exists."))
        # Clashes, buffers included.
        problems.extend(
            self._clash_problems(
                session, draft, rules, zone, exclude_ids, data.buffers_of(rule_table)
            )
        )
        cap = self._cap_problem(session, draft, rules, zone, exclude_ids) if check_cap else None
        return problems, cap, draft

    def _opening_problems(
        self, session: Session, station: m.Station, day: date, booked: Period, zone: ZoneInfo
    ) -> list[str]:
        closed = data.closures(session, station.id, day, day)
        if day in closed:
            return [
                _("The station is closed on {day}: {reason}").format(
                    day=day.isoformat(), reason=closed[day] or "—"
                )
            ]
        info = day_info(day)
        if info.is_day_off:
            return [
                _("{day} is a public holiday ({name}); the station is closed.").format(
                    day=day.isoformat(), name=info.holiday
                )
            ]
        periods = station_open(day, data.station_hours(station), set(closed), zone)
        if not periods:
            return [_("The station is closed on {day}.").format(day=day.isoformat())]
        if not any(p.contains(booked) for p in periods):
            hours = ", ".join(f"{p.start:%H:%M}–{p.end:%H:%M}" for p in periods)
            return [_("That is outside the station's opening hours ({hours}).").format(hours=hours)]
        return []

    def _counsellor_problems(
        self,
        session: Session,
        draft: BookingDraft,
        booked: Period,
        day: date,
        zone: ZoneInfo,
        *,
        exempt: bool,
    ) -> list[str]:
        # The account, its counsellor role and its work at this station in one query.
        found = session.execute(
            select(
                m.UserAccount.display_name,
                m.UserAccount.active,
                exists().where(
                    m.UserRole.user_id == m.UserAccount.id, m.UserRole.role == Role.COUNSELLOR
                ),
                exists().where(
                    m.UserStation.user_id == m.UserAccount.id,
                    m.UserStation.station_id == draft.station_id,
                ),
            ).where(m.UserAccount.id == draft.counsellor_id)
        ).first()
        if found is None or not found[2]:
            return [_("That person is not a counsellor.")]
        name, active, _counsellor, works_here = found
        if not active:
            return [
                _("{name} no longer works here (the account is deactivated).").format(name=name)
            ]
        if not works_here:
            return [_("{name} does not work at this station.").format(name=name)]
        counsellor_id = draft.counsellor_id
        assert counsellor_id is not None
        lo = datetime.combine(day, time.min, tzinfo=zone)
        exceptions = data.counsellor_exceptions(
            session, [counsellor_id], lo, lo + timedelta(days=1)
        )[counsellor_id]
        away = [e for e in exceptions if e.kind.value != "extra" and e.period.overlaps(booked)]
        if away:
            return [_("{name} is away then ({kind}).").format(name=name, kind=away[0].kind.title)]
        if exempt:
            return []
        hours = data.counsellor_hours(session, [counsellor_id], draft.station_id)[counsellor_id]
        available = counsellor_available(day, draft.station_id, hours, exceptions, zone)
        if not any(p.contains(booked) for p in available):
            if not available:
                return [
                    _("{name} does not work at this station on {day}.").format(
                        name=name, day=day.isoformat()
                    )
                ]
            spans = ", ".join(f"{p.start:%H:%M}–{p.end:%H:%M}" for p in available)
            return [_("{name} works here from {hours} that day.").format(name=name, hours=spans)]
        return []

    def _clash_problems(
        self,
        session: Session,
        draft: BookingDraft,
        rules: BookingRules,
        zone: ZoneInfo,
        exclude_ids: Sequence[int],
        buffers: Mapping[tuple[int, AppointmentType], timedelta],
    ) -> list[str]:
        assert draft.ends_at is not None
        wanted = Period(draft.starts_at, draft.ends_at + rules.buffer)
        busy = data.busy(
            session,
            draft.starts_at - timedelta(hours=1),
            draft.ends_at + rules.buffer,
            counsellor_ids=[draft.counsellor_id] if draft.counsellor_id else [],
            room_ids=[draft.room_id] if draft.room_id else [],
            client_id=draft.client_id,
            exclude_ids=exclude_ids,
            buffers=dict(buffers),
        )
        problems = []
        for b in busy:
            if not b.period.overlaps(wanted):
                continue
            when = f"{_local(b.period.start, zone)}"
            if draft.counsellor_id is not None and b.counsellor_id == draft.counsellor_id:
                problems.append(
                    _(
                        "The counsellor already has an appointment at {when} (with the break after it)."
                    ).format(when=when)
                )
            elif draft.room_id is not None and b.room_id == draft.room_id:
                problems.append(
                    _("The room is already booked at {when} (with the break after it).").format(
                        when=when
                    )
                )
            elif draft.client_id is not None and b.client_id == draft.client_id:
                problems.append(
                    _("The client already has an appointment at {when}.").format(when=when)
                )
        return list(dict.fromkeys(problems))

    def _cap_problem(
        self,
        session: Session,
        draft: BookingDraft,
        rules: BookingRules,
        zone: ZoneInfo,
        exclude_ids: Sequence[int],
    ) -> str | None:
        if rules.weekly_cap is None or draft.client_id is None or draft.walk_in:
            return None
        local = draft.starts_at.astimezone(zone)
        monday = local.date() - timedelta(days=local.weekday())
        lo = datetime.combine(monday, time.min, tzinfo=zone)
        query = (
            select(func.count())
            .select_from(m.Appointment)
            .where(
                m.Appointment.client_id == draft.client_id,
                m.Appointment.type == draft.type,
                m.Appointment.status.in_([AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN]),
                m.Appointment.starts_at >= lo,
                m.Appointment.starts_at < lo + timedelta(days=7),
            )
        )
        if exclude_ids:
            query = query.where(m.Appointment.id.not_in(list(exclude_ids)))
        count = session.scalar(query) or 0
        if count < rules.weekly_cap or draft.override_reason.strip():
            return None
        return ngettext(
            "The client already has {n} open {type} booking that week (the limit is {cap}). Give a reason to book anyway.",
            "The client already has {n} open {type} bookings that week (the limit is {cap}). Give a reason to book anyway.",
            count,
        ).format(n=count, type=draft.type.title, cap=rules.weekly_cap)

    # --- find a time -------------------------------------------------------------------------
    def find_slots(self, *, actor: Actor, request: SlotRequest) -> list[SlotOption]:
        self._require_booking(
            actor,
            station_id=request.station_id,
            counsellor_id=request.counsellor_id,
            action="find_slots",
        )
        if request.last_day < request.first_day:
            raise ValidationError({"period": _("The period ends before it starts.")})
        if (request.last_day - request.first_day).days > 92:
            raise ValidationError({"period": _("Look at most three months ahead at a time.")})
        with self.db.read() as session:
            return self._find(session, actor, request)

    def _find(
        self,
        session: Session,
        actor: Actor,
        request: SlotRequest,
        *,
        exclude_ids: Sequence[int] = (),
    ) -> list[SlotOption]:
        spec = TYPE_SPECS[request.type]
        station = session.get(m.Station, request.station_id)
        if station is None:
            raise NotFound(_("That station no longer exists."))
        zone = ZoneInfo(station.time_zone)
        rules = data.rules_for(session, station.id, request.type)
        remote = request.modality is not None and request.modality.value != "in_person"
        rooms: list[int | None]
        if spec.room_kinds and not remote:
            rooms = [
                r.id
                for r in session.scalars(
                    select(m.Room)
                    .where(
                        m.Room.station_id == station.id,
                        m.Room.active.is_(True),
                        m.Room.kind.in_(spec.room_kinds),
                    )
                    .order_by(m.Room.name)
                )
            ]
            if not rooms:
                return []
        else:
            rooms = [None]
        counsellors: list[int | None]
        if spec.needs_counsellor:
            if request.counsellor_id is not None:
                counsellors = [request.counsellor_id]
            else:
                counsellors = list(
                    session.scalars(
                        select(m.UserAccount.id)
                        .join(m.UserStation, m.UserStation.user_id == m.UserAccount.id)
                        .where(
                            m.UserStation.station_id == station.id,
                            m.UserAccount.active.is_(True),
                            m.UserAccount.roles.any(m.UserRole.role == Role.COUNSELLOR),
                        )
                        .order_by(m.UserAccount.id)
                    )
                )
        else:
            counsellors = [None]
        lo = datetime.combine(request.first_day, time.min, tzinfo=zone)
        hi = datetime.combine(request.last_day + timedelta(days=1), time.min, tzinfo=zone)
        real_counsellors = [c for c in counsellors if c is not None]
        hours = data.counsellor_hours(session, real_counsellors, station.id)
        exceptions = data.counsellor_exceptions(session, real_counsellors, lo, hi)
        closed = set(data.closures(session, station.id, request.first_day, request.last_day))
        busy = data.busy(
            session,
            lo,
            hi,
            counsellor_ids=real_counsellors,
            room_ids=[r for r in rooms if r is not None],
            client_id=request.client_id,
            exclude_ids=exclude_ids,
        )
        not_before = max(lo, self.clock.now() + timedelta(minutes=rules.min_notice_minutes))
        found = []
        day = request.first_day
        while day <= request.last_day and len(found) < request.limit:
            open_periods = station_open(day, data.station_hours(station), closed, zone)
            if open_periods:
                candidates = []
                for counsellor in counsellors:
                    windows = (
                        counsellor_available(
                            day, station.id, hours[counsellor], exceptions[counsellor], zone
                        )
                        if counsellor is not None
                        else open_periods
                    )
                    for room in rooms:
                        candidates.append(
                            Candidate(
                                station.id, counsellor, room, intersect(windows, open_periods)
                            )
                        )
                found.extend(
                    free_slots(
                        candidates,
                        busy,
                        duration=rules.duration,
                        buffer=rules.buffer,
                        client_id=request.client_id,
                        not_before=not_before,
                        limit=request.limit - len(found),
                    )
                )
            day += timedelta(days=1)
        names = dict(
            session.execute(
                select(m.UserAccount.id, m.UserAccount.display_name).where(
                    m.UserAccount.id.in_(real_counsellors)
                )
            ).all()
        )
        room_names = dict(
            session.execute(
                select(m.Room.id, m.Room.name).where(m.Room.station_id == station.id)
            ).all()
        )
        return [
            SlotOption(
                station_id=station.id,
                station_name=station.name,
                starts_at=s.start.astimezone(zone),
                ends_at=s.end.astimezone(zone),
                counsellor_id=s.counsellor_id,
                counsellor_name=names.get(s.counsellor_id, "") if s.counsellor_id else "",
                room_id=s.room_id,
                room_name=room_names.get(s.room_id, "") if s.room_id else "",
            )
            for s in found[: request.limit]
        ]

    def _alternatives(
        self, actor: Actor, draft: BookingDraft, *, exclude_ids: Sequence[int] = ()
    ) -> list[SlotOption]:
        """The nearest times that would work, for a refused booking or move."""
        with self.db.read() as session:
            station = session.get(m.Station, draft.station_id)
            if station is None or draft.starts_at.tzinfo is None:
                return []
            day = (
                max(draft.starts_at, self.clock.now())
                .astimezone(ZoneInfo(station.time_zone))
                .date()
            )
            request = SlotRequest(
                type=draft.type,
                station_id=draft.station_id,
                first_day=day,
                last_day=day + timedelta(days=ALTERNATIVES_DAYS),
                counsellor_id=draft.counsellor_id,
                client_id=draft.client_id,
                modality=draft.modality,
                limit=ALTERNATIVES_COUNT,
            )
            return self._find(session, actor, request, exclude_ids=exclude_ids)

    # --- book --------------------------------------------------------------------------------
    def book(
        self, *, actor: Actor, draft: BookingDraft, waitlist_entry_id: int | None = None
    ) -> Appointment:
        """Books one appointment. With `waitlist_entry_id`, the same transaction marks that
        waitlist entry as booked, so an offer taken is never left open (or booked twice)."""
        self._require_booking(
            actor, station_id=draft.station_id, counsellor_id=draft.counsellor_id, action="book"
        )
        try:
            with self.db.write() as session:
                self._lock_resources(session, draft)
                problems, cap, draft = self._check(session, actor, draft)
                if problems or cap:
                    refusal = (problems, cap)
                else:
                    refusal = None
                    row = self._insert(session, actor, draft, series_id=None)
                    if waitlist_entry_id is not None:
                        self._take_waitlist_entry(session, waitlist_entry_id, row)
                    result = data.load_appointment(session, row.id)
        except _Overlap as clash:
            raise BookingRefused(
                [_overlap_message(clash.resource)], self._alternatives(actor, draft)
            ) from None
        if refusal is not None:
            problems, cap = refusal
            raise BookingRefused(
                problems + ([cap] if cap else []),
                self._alternatives(actor, draft),
                overridable=not problems and cap is not None,
            )
        assert result is not None
        return result

    @staticmethod
    def _take_waitlist_entry(session: Session, entry_id: int, row: m.Appointment) -> None:
        # Locked, so that two PCs booking from the same entry cannot both take it.
        entry = session.get(m.WaitlistEntry, entry_id, with_for_update=True)
        if entry is None or entry.status is not WaitlistStatus.WAITING:
            raise Conflict(_("That waitlist entry has already been booked or withdrawn."))
        if entry.client_id != row.client_id or entry.station_id != row.station_id:
            raise Conflict(_("This booking does not match the waitlist entry."))
        entry.status = WaitlistStatus.BOOKED
        entry.appointment_id = row.id

    def _insert(
        self, session: Session, actor: Actor, draft: BookingDraft, *, series_id: int | None
    ) -> m.Appointment:
        now = self.clock.now()
        assert draft.ends_at is not None
        status = AppointmentStatus.BOOKED
        if draft.walk_in:
            status = (
                AppointmentStatus.COMPLETED
                if draft.ends_at <= now
                else AppointmentStatus.CHECKED_IN
            )
        row = m.Appointment(
            station_id=draft.station_id,
            client_id=draft.client_id,
            counsellor_id=draft.counsellor_id,
            room_id=draft.room_id,
            case_id=draft.case_id,
            type=draft.type,
            modality=draft.modality,
            status=status,
            topic=draft.topic,
            pod_programme=draft.pod_programme,
            title=draft.title.strip(),
            address=draft.address.strip(),
            capacity=draft.capacity,
            walk_in=draft.walk_in,
            cap_override_reason=draft.override_reason.strip(),
            starts_at=draft.starts_at,
            ends_at=draft.ends_at,
            created_at=now,
            created_by=actor.user_id,
            series_id=series_id,
            version=1,
        )
        session.add(row)
        self._flush(session)
        session.add(
            m.AppointmentChange(
                appointment_id=row.id,
                kind=ChangeKind.CREATED,
                changed_at=now,
                changed_by=actor.user_id,
                new_status=status,
                reason=draft.override_reason.strip(),
            )
        )
        self.audit.record(
            session,
            actor=actor,
            action="book",
            object_type="appointment",
            object_ref=str(row.id),
            detail="cap override" if draft.override_reason.strip() else "",
        )
        return row

    @staticmethod
    def _flush(session: Session) -> None:
        try:
            session.flush()
        except IntegrityError as exc:
            resource = _overlap_resource(exc)
            if resource is None:
                raise
            raise _Overlap(resource) from exc
        except OperationalError as exc:
            # Two PCs writing overlapping times at the same instant each wait for the other's
            # row while checking the exclusion constraints; PostgreSQL ends one of them.
            if getattr(exc.orig, "sqlstate", None) == "40P01":
                raise _Overlap("any") from exc
            raise

    # --- change one appointment ----------------------------------------------------------------
    def _load_for_change(
        self,
        session: Session,
        actor: Actor,
        appointment_id: int,
        expected_version: int | None,
        action: str,
    ) -> m.Appointment:
        query = select(m.Appointment).where(m.Appointment.id == appointment_id)
        if not self.db.is_sqlite:
            query = query.with_for_update()
        row = session.scalars(query).first()
        if row is None:
            raise NotFound(_("That appointment no longer exists."))
        self._require_booking(
            actor, station_id=row.station_id, counsellor_id=row.counsellor_id, action=action
        )
        if expected_version is not None and row.version != expected_version:
            raise Conflict(
                _(
                    "Someone else changed this appointment a moment ago. It has been reloaded; please check it and try again."
                )
            )
        return row

    def move(
        self,
        *,
        actor: Actor,
        appointment_id: int,
        starts_at: datetime,
        expected_version: int | None = None,
        counsellor_id: int | None = None,
        room_id: int | None = None,
        keep_counsellor: bool = True,
        keep_room: bool = True,
        reason: str = "",
    ) -> Appointment:
        """Moves an appointment (keeping its length), optionally to another counsellor or room.
        The old time, counsellor and room are kept in its history."""
        draft: BookingDraft | None = None
        try:
            with self.db.write() as session:
                row = self._load_for_change(
                    session, actor, appointment_id, expected_version, "move"
                )
                if row.status is not AppointmentStatus.BOOKED:
                    raise Conflict(
                        _("Only a booked appointment can be moved; this one is {status}.").format(
                            status=row.status.title
                        )
                    )
                draft = self._draft_of(row)
                draft = replace(
                    draft,
                    starts_at=starts_at,
                    ends_at=starts_at + (row.ends_at - row.starts_at),
                    counsellor_id=row.counsellor_id if keep_counsellor else counsellor_id,
                    room_id=row.room_id if keep_room else room_id,
                )
                # A move to someone else's stations is a new booking there, not a move.
                self._require_booking(
                    actor,
                    station_id=draft.station_id,
                    counsellor_id=draft.counsellor_id,
                    action="move",
                )
                # The weekly cap was settled when this was booked; a move within the same week
                # adds nothing to the client's week.
                zone = ZoneInfo(self._station(session, row.station_id).time_zone)  # type: ignore[union-attr]
                same_week = _week_of(row.starts_at, zone) == _week_of(starts_at, zone)
                self._lock_resources(session, draft)
                problems, cap, draft = self._check(
                    session, actor, draft, exclude_ids=[row.id], check_cap=not same_week
                )
                if cap:
                    problems.append(cap)
                if problems:
                    refusal: list[str] | None = problems
                else:
                    refusal = None
                    self._apply_move(session, actor, row, draft, reason)
                    result = data.load_appointment(session, row.id)
        except _Overlap as clash:
            assert draft is not None
            raise BookingRefused(
                [_overlap_message(clash.resource)],
                self._alternatives(actor, draft, exclude_ids=[appointment_id]),
            ) from None
        if refusal is not None:
            assert draft is not None
            raise BookingRefused(
                refusal, self._alternatives(actor, draft, exclude_ids=[appointment_id])
            )
        assert result is not None
        return result

    def _apply_move(
        self, session: Session, actor: Actor, row: m.Appointment, draft: BookingDraft, reason: str
    ) -> None:
        now = self.clock.now()
        session.add(
            m.AppointmentChange(
                appointment_id=row.id,
                kind=ChangeKind.MOVED,
                changed_at=now,
                changed_by=actor.user_id,
                old_starts_at=row.starts_at,
                old_ends_at=row.ends_at,
                old_counsellor_id=row.counsellor_id,
                old_room_id=row.room_id,
                reason=reason.strip(),
            )
        )
        assert draft.ends_at is not None
        row.starts_at, row.ends_at = draft.starts_at, draft.ends_at
        row.counsellor_id, row.room_id = draft.counsellor_id, draft.room_id
        row.updated_at, row.updated_by = now, actor.user_id
        row.version += 1
        self._flush(session)
        self.audit.record(
            session, actor=actor, action="move", object_type="appointment", object_ref=str(row.id)
        )

    @staticmethod
    def _draft_of(row: m.Appointment) -> BookingDraft:
        return BookingDraft(
            type=row.type,
            station_id=row.station_id,
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            client_id=row.client_id,
            counsellor_id=row.counsellor_id,
            room_id=row.room_id,
            modality=row.modality,
            topic=row.topic,
            pod_programme=row.pod_programme,
            title=row.title,
            address=row.address,
            capacity=row.capacity,
            override_reason=row.cap_override_reason,
            case_id=row.case_id,
        )

    def cancel(
        self,
        *,
        actor: Actor,
        appointment_id: int,
        reason: CancelReason,
        note: str = "",
        expected_version: int | None = None,
    ) -> Appointment:
        """Cancels; a cancellation inside the station's late-cancellation window is marked late."""
        with self.db.write() as session:
            row = self._load_for_change(session, actor, appointment_id, expected_version, "cancel")
            self._cancel_row(session, actor, row, reason, note)
            result = data.load_appointment(session, row.id)
        assert result is not None
        return result

    def _cancel_row(
        self, session: Session, actor: Actor, row: m.Appointment, reason: CancelReason, note: str
    ) -> None:
        if row.status not in (AppointmentStatus.BOOKED, AppointmentStatus.CHECKED_IN):
            raise Conflict(
                _("This appointment cannot be cancelled; it is {status}.").format(
                    status=row.status.title
                )
            )
        now = self.clock.now()
        rules = data.rules_for(session, row.station_id, row.type)
        session.add(
            m.AppointmentChange(
                appointment_id=row.id,
                kind=ChangeKind.CANCELLED,
                changed_at=now,
                changed_by=actor.user_id,
                old_status=row.status,
                new_status=AppointmentStatus.CANCELLED,
                reason=f"{reason.value}: {note.strip()}" if note.strip() else reason.value,
            )
        )
        row.late_cancel = row.starts_at - now < timedelta(hours=rules.late_cancel_hours)
        row.status = AppointmentStatus.CANCELLED
        row.cancel_reason, row.cancel_note, row.cancelled_at = reason, note.strip()[:500], now
        row.updated_at, row.updated_by = now, actor.user_id
        row.version += 1
        self.audit.record(
            session,
            actor=actor,
            action="cancel",
            object_type="appointment",
            object_ref=str(row.id),
            detail=f"{reason.value}{', late' if row.late_cancel else ''}",
        )

    def set_status(
        self,
        *,
        actor: Actor,
        appointment_id: int,
        status: AppointmentStatus,
        expected_version: int | None = None,
    ) -> Appointment:
        """Check in, complete, mark a no-show, or undo one of those."""
        if status is AppointmentStatus.CANCELLED:
            raise ValidationError(
                {"status": _("Use Cancel to cancel an appointment, so the reason is kept.")}
            )
        with self.db.write() as session:
            row = self._load_for_change(
                session, actor, appointment_id, expected_version, "set_status"
            )
            if status not in TRANSITIONS[row.status]:
                raise Conflict(
                    _("An appointment that is {old} cannot become {new}.").format(
                        old=row.status.title, new=status.title
                    )
                )
            now = self.clock.now()
            if (
                status in (AppointmentStatus.NO_SHOW, AppointmentStatus.COMPLETED)
                and row.starts_at > now
            ):
                raise Conflict(_("This appointment has not started yet."))
            if status is AppointmentStatus.CHECKED_IN and row.starts_at - now > timedelta(hours=12):
                raise Conflict(_("Check-in opens on the day of the appointment."))
            session.add(
                m.AppointmentChange(
                    appointment_id=row.id,
                    kind=ChangeKind.STATUS,
                    changed_at=now,
                    changed_by=actor.user_id,
                    old_status=row.status,
                    new_status=status,
                )
            )
            row.status = status
            row.updated_at, row.updated_by = now, actor.user_id
            row.version += 1
            self.audit.record(
                session,
                actor=actor,
                action="set_status",
                object_type="appointment",
                object_ref=str(row.id),
                detail=status.value,
            )
            result = data.load_appointment(session, row.id)
        assert result is not None
        return result

    # --- series --------------------------------------------------------------------------------
    def plan_series(
        self, *, actor: Actor, draft: BookingDraft, interval_weeks: int, count: int
    ) -> list[SeriesOccurrence]:
        """Checks every occurrence without saving anything; clashing ones come with alternatives."""
        self._require_booking(
            actor,
            station_id=draft.station_id,
            counsellor_id=draft.counsellor_id,
            action="plan_series",
        )
        _check_series_shape(interval_weeks, count)
        result = []
        with self.db.read() as session:
            for index in range(count):
                occurrence = _shift(draft, timedelta(weeks=interval_weeks * index))
                problems, cap, occurrence = self._check(session, actor, occurrence)
                assert occurrence.ends_at is not None
                all_problems = problems + ([cap] if cap else [])
                result.append(
                    SeriesOccurrence(
                        index, occurrence.starts_at, occurrence.ends_at, tuple(all_problems), ()
                    )
                )
        # Alternatives only where needed (each is a search).
        return [
            replace(
                o,
                alternatives=tuple(
                    self._alternatives(
                        actor, replace(draft, starts_at=o.starts_at, ends_at=o.ends_at)
                    )
                ),
            )
            if o.problems
            else o
            for o in result
        ]

    def book_series(
        self,
        *,
        actor: Actor,
        draft: BookingDraft,
        interval_weeks: int,
        count: int,
        changes: Mapping[int, datetime | None] | None = None,
    ) -> list[Appointment]:
        """Books every occurrence or none. `changes` moves an occurrence (by index) to another
        start, or drops it (None), as the user resolved clashes in the plan."""
        self._require_booking(
            actor,
            station_id=draft.station_id,
            counsellor_id=draft.counsellor_id,
            action="book_series",
        )
        _check_series_shape(interval_weeks, count)
        changes = dict(changes or {})
        problems: list[str] = []
        try:
            with self.db.write() as session:
                series = m.AppointmentSeries(
                    interval_weeks=interval_weeks,
                    planned_count=count,
                    created_at=self.clock.now(),
                    created_by=actor.user_id,
                )
                session.add(series)
                session.flush()
                ids = []
                for index in range(count):
                    occurrence = _shift(draft, timedelta(weeks=interval_weeks * index))
                    if index in changes:
                        new_start = changes[index]
                        if new_start is None:
                            continue
                        occurrence = replace(
                            occurrence,
                            starts_at=new_start,
                            ends_at=None
                            if draft.ends_at is None
                            else new_start + (draft.ends_at - draft.starts_at),
                        )
                    self._lock_resources(session, occurrence)
                    found, cap, occurrence = self._check(session, actor, occurrence)
                    found += [cap] if cap else []
                    if found:
                        local = occurrence.starts_at.astimezone(
                            ZoneInfo(self._station(session, draft.station_id).time_zone)  # type: ignore[union-attr]
                        )
                        problems.extend(
                            _("Session {n} ({when}): {problem}").format(
                                n=index + 1, when=f"{local:%Y-%m-%d %H:%M}", problem=p
                            )
                            for p in found
                        )
                        continue
                    if not problems:
                        ids.append(self._insert(session, actor, occurrence, series_id=series.id).id)
                if problems:
                    raise _SeriesRefused()
                if not ids:
                    raise ValidationError(
                        {"series": _("Every session of the series was left out; nothing to book.")}
                    )
                result = [
                    a for a in (data.load_appointment(session, i) for i in ids) if a is not None
                ]
        except _SeriesRefused:
            raise BookingRefused(problems) from None
        except _Overlap as clash:
            raise BookingRefused([_overlap_message(clash.resource)]) from None
        return result

    def _series_rows(self, session: Session, row: m.Appointment, scope: str) -> list[m.Appointment]:
        if row.series_id is None or scope == "this":
            return [row]
        query = select(m.Appointment).where(
            m.Appointment.series_id == row.series_id,
            m.Appointment.status == AppointmentStatus.BOOKED,
            m.Appointment.starts_at > self.clock.now(),
        )
        if scope == "following":
            query = query.where(m.Appointment.starts_at >= row.starts_at)
        elif scope != "all":
            raise ValueError(f"unknown scope {scope!r}")
        return list(session.scalars(query.order_by(m.Appointment.starts_at)))

    def move_series(
        self,
        *,
        actor: Actor,
        appointment_id: int,
        starts_at: datetime,
        scope: str,
        expected_version: int | None = None,
    ) -> list[Appointment]:
        """Moves this occurrence, this and the following ones, or all future ones, by the same
        shift. All of them move, or none (with the clashes listed)."""
        problems: list[str] = []
        try:
            with self.db.write() as session:
                row = self._load_for_change(
                    session, actor, appointment_id, expected_version, "move"
                )
                shift = starts_at - row.starts_at
                rows = self._series_rows(session, row, scope)
                ids = [r.id for r in rows]
                zone = ZoneInfo(self._station(session, row.station_id).time_zone)  # type: ignore[union-attr]
                drafts = []
                for r in rows:
                    draft = _shift(self._draft_of(r), shift)
                    self._lock_resources(session, draft)
                    found, cap, draft = self._check(session, actor, draft, exclude_ids=ids)
                    found += [cap] if cap else []
                    when = draft.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
                    problems.extend(
                        _("{when}: {problem}").format(when=when, problem=p) for p in found
                    )
                    drafts.append((r, draft))
                # Occurrences moving together must not clash with each other either.
                if problems:
                    raise _SeriesRefused()
                for r, draft in drafts:
                    self._apply_move(session, actor, r, draft, "")
                result = [
                    a for a in (data.load_appointment(session, i) for i in ids) if a is not None
                ]
        except _SeriesRefused:
            raise BookingRefused(problems) from None
        except _Overlap as clash:
            raise BookingRefused([_overlap_message(clash.resource)]) from None
        return result

    def cancel_series(
        self, *, actor: Actor, appointment_id: int, scope: str, reason: CancelReason, note: str = ""
    ) -> list[Appointment]:
        with self.db.write() as session:
            row = self._load_for_change(session, actor, appointment_id, None, "cancel")
            rows = self._series_rows(session, row, scope)
            for r in rows:
                self._cancel_row(session, actor, r, reason, note)
            result = [
                a for a in (data.load_appointment(session, r.id) for r in rows) if a is not None
            ]
        return result


def _lock_key(kind: int, ident: int, day: int) -> int:
    """A signed 64-bit advisory-lock key: what (3 bits), whose id (35 bits), which day or week
    (a date's ordinal, 22 bits)."""
    return kind << 57 | (ident & (2**35 - 1)) << 22 | (day & (2**22 - 1))


def _week_of(moment: datetime, zone: ZoneInfo) -> tuple[int, int]:
    """The ISO (year, week) of a moment in the station's time zone."""
    year, week, _day = moment.astimezone(zone).isocalendar()
    return year, week


class _SeriesRefused(Exception):
    pass


def _check_series_shape(interval_weeks: int, count: int) -> None:
    errors = {}
    if not 1 <= interval_weeks <= 4:
        errors["interval"] = _("Repeat every 1 to 4 weeks.")
    if not 2 <= count <= 52:
        errors["count"] = _("A series has 2 to 52 sessions.")
    if errors:
        raise ValidationError(errors)


def _shift(draft: BookingDraft, by: timedelta) -> BookingDraft:
    """The same local wall-clock time `by` later (time zones without DST make this exact)."""
    return replace(
        draft,
        starts_at=draft.starts_at + by,
        ends_at=draft.ends_at + by if draft.ends_at is not None else None,
    )


def _overlap_message(resource: str) -> str:
    return {
        "counsellor": _(
            "Someone else just booked this counsellor at that time. Choose another time."
        ),
        "room": _("Someone else just booked this room at that time. Choose another time."),
        "client": _("The client was just booked elsewhere at that time. Choose another time."),
        "any": _("Someone else is booking that time at this very moment. Choose another time."),
    }[resource]
