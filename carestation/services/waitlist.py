"""The waitlist: clients waiting for a counsellor, a station or a window of days and times, and
the free slots that match them (shown to staff as offers to book)."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import aliased

from carestation.db import models as m
from carestation.domain.booking import SlotOption, SlotRequest, WaitlistInput, WaitlistItem
from carestation.domain.errors import Conflict, NotFound, ValidationError
from carestation.domain.roles import Permission
from carestation.domain.scheduling import TYPE_SPECS
from carestation.domain.values import Actor
from carestation.domain.vocab import AppointmentStatus, WaitlistStatus
from carestation.i18n import _
from carestation.services.base import Service
from carestation.services.booking import BookingService

OFFER_SEARCH_LIMIT = 60
MAX_WINDOW_DAYS = 92


class WaitlistService(Service):
    def __init__(self, booking: BookingService) -> None:
        super().__init__(booking.db, booking.audit, booking.clock)
        self._booking = booking

    def _require(self, actor: Actor, station_id: int, action: str) -> None:
        if not (actor.can(Permission.BOOK_AT_STATION) and station_id in actor.station_ids):
            self.deny(actor, action=action, ref=str(station_id))

    def add(self, *, actor: Actor, data: WaitlistInput) -> WaitlistItem:
        self._require(actor, data.station_id, "add_to_waitlist")
        errors: dict[str, str] = {}
        today = self.clock.now().astimezone(ZoneInfo("Asia/Shanghai")).date()
        if data.latest < data.earliest:
            errors["latest"] = _("The last day must not be before the first day.")
        elif data.latest < today:
            errors["latest"] = _("That window is already over.")
        elif (data.latest - data.earliest).days > MAX_WINDOW_DAYS:
            errors["latest"] = _("Wait at most three months; add a new entry after that.")
        if data.time_to <= data.time_from:
            errors["time_to"] = _("The latest time must be after the earliest time.")
        if TYPE_SPECS[data.type].group:
            errors["type"] = _(
                "Lectures have their own waitlist on the lecture's registration list."
            )
        if len(data.note) > 200:
            errors["note"] = _("The note is too long (200 characters at most).")
        if errors:
            raise ValidationError(errors)
        with self.db.write() as session:
            if session.get(m.Client, data.client_id) is None:
                raise NotFound(_("That client's record no longer exists."))
            if (
                data.counsellor_id is not None
                and session.get(m.UserStation, (data.counsellor_id, data.station_id)) is None
            ):
                raise ValidationError(
                    {"counsellor": _("That counsellor does not work at this station.")}
                )
            row = m.WaitlistEntry(
                client_id=data.client_id,
                station_id=data.station_id,
                counsellor_id=data.counsellor_id,
                type=data.type,
                earliest=data.earliest,
                latest=data.latest,
                time_from=data.time_from,
                time_to=data.time_to,
                note=data.note.strip(),
                status=WaitlistStatus.WAITING,
                created_at=self.clock.now(),
                created_by=actor.user_id,
            )
            session.add(row)
            session.flush()
            self.audit.record(
                session,
                actor=actor,
                action="add_to_waitlist",
                object_type="waitlist",
                object_ref=str(row.id),
            )
            entry_id = row.id
        return self._item(entry_id, with_offer=False)

    def entries(
        self, *, actor: Actor, station_id: int, with_offers: bool = True
    ) -> list[WaitlistItem]:
        """Waiting entries at a station, each with the first free slot that fits it (if any)."""
        self._require(actor, station_id, "view_waitlist")
        with self.db.read() as session:
            ids = list(
                session.scalars(
                    select(m.WaitlistEntry.id)
                    .where(
                        m.WaitlistEntry.station_id == station_id,
                        m.WaitlistEntry.status == WaitlistStatus.WAITING,
                    )
                    .order_by(m.WaitlistEntry.created_at, m.WaitlistEntry.id)
                )
            )
        return [self._item(i, with_offer=with_offers, actor=actor) for i in ids]

    def matches_for_freed(self, *, actor: Actor, appointment_id: int) -> list[WaitlistItem]:
        """After a cancellation: the waiting entries that the freed time would suit."""
        with self.db.read() as session:
            appt = session.get(m.Appointment, appointment_id)
            if appt is None:
                raise NotFound(_("That appointment no longer exists."))
            station_id = appt.station_id
        self._require(actor, station_id, "view_waitlist")
        if appt.status is not AppointmentStatus.CANCELLED:
            return []
        return [
            item
            for item in self.entries(actor=actor, station_id=station_id)
            if item.type is appt.type
            and (item.counsellor_id is None or item.counsellor_id == appt.counsellor_id)
            and item.offer is not None
            and item.offer.starts_at <= appt.starts_at < item.offer.starts_at + timedelta(days=1)
        ]

    def withdraw(self, *, actor: Actor, entry_id: int) -> None:
        with self.db.write() as session:
            row = session.get(m.WaitlistEntry, entry_id)
            if row is None:
                raise NotFound(_("That waitlist entry no longer exists."))
            self._require(actor, row.station_id, "withdraw_waitlist")
            if row.status is not WaitlistStatus.WAITING:
                raise Conflict(_("That waitlist entry has already been booked or withdrawn."))
            row.status = WaitlistStatus.WITHDRAWN
            self.audit.record(
                session,
                actor=actor,
                action="withdraw_waitlist",
                object_type="waitlist",
                object_ref=str(entry_id),
            )

    def book_offer(self, *, actor: Actor, entry_id: int, slot: SlotOption) -> int:
        """Books the offered slot for the waiting client; returns the appointment id."""
        from carestation.domain.booking import BookingDraft

        item = self._item(entry_id, with_offer=False)
        if item.status is not WaitlistStatus.WAITING:
            raise Conflict(_("That waitlist entry has already been booked or withdrawn."))
        draft = BookingDraft(
            type=item.type,
            station_id=item.station_id,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            client_id=item.client_id,
            counsellor_id=slot.counsellor_id,
            room_id=slot.room_id,
        )
        return self._booking.book(actor=actor, draft=draft, waitlist_entry_id=entry_id).id

    def _item(self, entry_id: int, *, with_offer: bool, actor: Actor | None = None) -> WaitlistItem:
        counsellor = aliased(m.UserAccount)
        with self.db.read() as session:
            found = session.execute(
                select(m.WaitlistEntry, m.Client, counsellor.display_name, m.Station.time_zone)
                .join(m.Client, m.Client.id == m.WaitlistEntry.client_id)
                .join(m.Station, m.Station.id == m.WaitlistEntry.station_id)
                .outerjoin(counsellor, counsellor.id == m.WaitlistEntry.counsellor_id)
                .where(m.WaitlistEntry.id == entry_id)
            ).first()
            if found is None:
                raise NotFound(_("That waitlist entry no longer exists."))
            entry, client, counsellor_name, zone = found
            offer = (
                self._first_offer(session, actor, entry, ZoneInfo(zone))
                if with_offer and actor
                else None
            )
        return WaitlistItem(
            id=entry.id,
            client_id=client.id,
            client_name=client.name,
            client_code=client.client_code,
            client_phone=client.phone,
            station_id=entry.station_id,
            counsellor_id=entry.counsellor_id,
            counsellor_name=counsellor_name or "",
            type=entry.type,
            earliest=entry.earliest,
            latest=entry.latest,
            time_from=entry.time_from,
            time_to=entry.time_to,
            note=entry.note,
            status=entry.status,
            offer=offer,
        )

    def _first_offer(
        self, session, actor: Actor, entry: m.WaitlistEntry, zone: ZoneInfo
    ) -> SlotOption | None:  # type: ignore[no-untyped-def]
        today = self.clock.now().astimezone(zone).date()
        first: date = max(entry.earliest, today)
        if entry.latest < first:
            return None
        # Day by day, so a narrow time window (only evenings, say) is not crowded out by the
        # earlier free slots of the same days.
        day = first
        while day <= entry.latest:
            request = SlotRequest(
                type=entry.type,
                station_id=entry.station_id,
                first_day=day,
                last_day=day,
                counsellor_id=entry.counsellor_id,
                client_id=entry.client_id,
                limit=OFFER_SEARCH_LIMIT,
            )
            for slot in self._booking._find(session, actor, request):
                if (
                    entry.time_from <= slot.starts_at.time()
                    and slot.ends_at.time() <= entry.time_to
                ):
                    return slot
            day += timedelta(days=1)
        return None
