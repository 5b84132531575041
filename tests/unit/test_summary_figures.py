"""The summary report's figures on crafted data, exactly: what is counted, in which block, and
what it is divided by. k is 5 here so that small crafted groups can be shown."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from carestation.domain.roles import Role
from carestation.domain.summary_values import SummaryReportData, Use
from carestation.domain.vocab import (
    AppointmentStatus,
    AppointmentType,
    Modality,
    RoomKind,
    Topic,
)
from carestation.services.container import Services
from tests.factories import World, add_room, build_world, set_counsellor_hours
from tests.unit.summary_data import (
    add_appointment,
    add_case,
    add_clients,
    add_flag,
    add_form,
    add_station,
    local,
    register,
    reports,
    withdraw_assessment_consent,
)

JAN, FEB, MAR = date(2026, 1, 1), date(2026, 2, 1), date(2026, 3, 1)


def _world(services: Services) -> tuple[World, int]:
    world = build_world(services)
    reports(services).set_suppression_k(world.admin, k=5)
    return world, add_station(services, world, "测试站")


def _report(
    services: Services, world: World, station: int, first: date, last: date, grouping: str
) -> SummaryReportData:
    return reports(services).summary(
        world.actor(Role.MANAGER),
        first_month=first,
        last_month=last,
        station_ids=[station],
        grouping=grouping,  # type: ignore[arg-type]
    )


def test_appointments_rates_hours_and_rooms_in_january(services: Services) -> None:
    world, station = _world(services)
    counsellor = world.counsellor.user_id
    set_counsellor_hours(services, counsellor, station, range(5), time(9), time(12))
    room = add_room(services, world, "咨询室", RoomKind.COUNSELLING_ROOM, station_id=station)
    pod = add_room(services, world, "调节舱", RoomKind.EMOTION_POD, station_id=station)
    hall = add_room(services, world, "活动室", RoomKind.GROUP_ROOM, capacity=40, station_id=station)
    clients = add_clients(services, 6, created=local(2026, 1, 5, 9), station_id=station)
    session = {"station_id": station, "counsellor_id": counsellor, "room_id": room}
    for client, day in zip(clients, (12, 13, 14, 15, 16, 19), strict=True):
        add_appointment(services, starts=local(2026, 1, day, 9), client_id=client, **session)
    add_appointment(services, starts=local(2026, 1, 20, 9), client_id=clients[0],
                    status=AppointmentStatus.NO_SHOW, **session)  # fmt: skip
    add_appointment(services, starts=local(2026, 1, 21, 9), client_id=clients[1],
                    status=AppointmentStatus.NO_SHOW, **session)  # fmt: skip
    add_appointment(services, starts=local(2026, 1, 22, 9), client_id=clients[2],
                    status=AppointmentStatus.CANCELLED, late_cancel=True, **session)  # fmt: skip
    add_appointment(services, starts=local(2026, 1, 23, 9), client_id=clients[3],
                    status=AppointmentStatus.CANCELLED, **session)  # fmt: skip
    add_appointment(services, station_id=station, starts=local(2026, 1, 26, 14), minutes=15,
                    client_id=clients[4], room_id=pod, type_=AppointmentType.POD)  # fmt: skip
    add_appointment(services, station_id=station, starts=local(2026, 1, 27, 10),
                    client_id=clients[5], counsellor_id=counsellor, type_=AppointmentType.ONLINE,
                    modality=Modality.VIDEO)  # fmt: skip
    lecture = add_appointment(services, station_id=station, starts=local(2026, 1, 28, 14),
                              minutes=90, room_id=hall, type_=AppointmentType.LECTURE)  # fmt: skip
    for i, client in enumerate(clients):
        register(services, lecture, client, attended=i < 5)
    # 23:30 UTC on 31 January is 07:30 on 1 February in Shanghai: February's.
    add_appointment(services, station_id=station, client_id=clients[0],
                    starts=datetime(2026, 1, 31, 23, 30, tzinfo=UTC), type_=AppointmentType.POD,
                    room_id=pod, minutes=15)  # fmt: skip

    data = _report(services, world, station, JAN, FEB, "month")
    jan, feb = (b.station(station) for b in data.blocks)
    a = jan.appointments
    assert a.by_type == {
        AppointmentType.COUNSELLING: 10,
        AppointmentType.POD: 1,
        AppointmentType.ONLINE: 1,
        AppointmentType.CRISIS: 0,
        AppointmentType.LECTURE: 1,
    }
    assert a.by_status == {
        AppointmentStatus.BOOKED: 0,
        AppointmentStatus.CHECKED_IN: 0,
        AppointmentStatus.COMPLETED: 9,
        AppointmentStatus.CANCELLED: 2,
        AppointmentStatus.NO_SHOW: 2,
    }
    assert a.by_modality == {Modality.IN_PERSON: 12, Modality.PHONE: 0, Modality.VIDEO: 1}
    assert a.total == 13
    # No-shows out of what was due (8 held + 2 missed), lectures left out.
    assert (a.no_show.events, a.no_show.out_of, a.no_show.value) == (2, 10, 0.2)
    # Late cancellations out of every individual appointment (12; the lecture left out).
    assert (a.late_cancellation.events, a.late_cancellation.out_of) == (1, 12)
    # January 2026 in China: 22 weekdays, less 1-2 January (New Year), plus Sunday 4 January
    # worked in exchange (Monday's hours): 21 days. The counsellor: 3 hours a day.
    # Booked: 6 sessions + 2 no-shows + the online session, 50 minutes each.
    assert jan.counsellor_hours == Use(450, 21 * 180)
    # The station opens 08:30-17:00 (510 minutes) on those 21 days; one room of each kind.
    assert jan.rooms == {
        RoomKind.COUNSELLING_ROOM: Use(400, 21 * 510),
        RoomKind.RELIEF_AREA: Use(0, 0),
        RoomKind.EMOTION_POD: Use(15, 21 * 510),
        RoomKind.GROUP_ROOM: Use(90, 21 * 510),
    }
    assert jan.rooms[RoomKind.RELIEF_AREA].ratio is None
    assert (jan.lectures_held, jan.lecture_attendance.shown) == (1, "5")
    # February: the pod session at 07:30 local on the 1st, and nothing else.
    assert feb.appointments.by_type[AppointmentType.POD] == 1
    assert feb.appointments.total == 1
    # The selection of one station adds up to the same.
    assert data.blocks[0].selection.appointments == a
    assert data.blocks[0].selection.counsellor_hours == jan.counsellor_hours


def test_leave_and_extra_hours_change_the_scheduled_minutes(services: Services) -> None:
    from sqlalchemy import insert

    from carestation.db import models as m
    from carestation.domain.vocab import ExceptionKind

    world, station = _world(services)
    counsellor = world.counsellor.user_id
    set_counsellor_hours(services, counsellor, station, range(5), time(9), time(12))
    with services.db.write() as session:
        session.execute(
            insert(m.CounsellorAbsence),
            [
                # Leave over Monday and Tuesday 9-10 March (no station: wherever they work).
                {"counsellor_id": counsellor, "station_id": None, "kind": ExceptionKind.LEAVE,
                 "starts_at": local(2026, 3, 9, 0), "ends_at": local(2026, 3, 11, 0),
                 "created_at": local(2026, 3, 1)},
                # Extra 14:00-16:00 on Saturday 14 March at this station.
                {"counsellor_id": counsellor, "station_id": station, "kind": ExceptionKind.EXTRA,
                 "starts_at": local(2026, 3, 14, 14), "ends_at": local(2026, 3, 14, 16),
                 "created_at": local(2026, 3, 1)},
            ],
        )  # fmt: skip
    data = _report(services, world, station, MAR, MAR, "month")
    # March 2026: 22 weekdays of 180 minutes, less 2 days of leave, plus 120 extra minutes.
    assert data.blocks[0].station(station).counsellor_hours == Use(0, 20 * 180 + 120)


def test_waiting_days_from_first_contact_to_first_completed_session(services: Services) -> None:
    world, station = _world(services)
    counsellor = world.counsellor.user_id
    clients = add_clients(services, 6, created=local(2026, 1, 5, 9), station_id=station)
    for client, day in zip(clients, (12, 13, 14, 15, 16, 19), strict=True):
        # A no-show before does not count; the first completed session does.
        add_appointment(services, station_id=station, starts=local(2026, 1, day, 8),
                        client_id=client, counsellor_id=counsellor,
                        status=AppointmentStatus.NO_SHOW)  # fmt: skip
        add_appointment(services, station_id=station, starts=local(2026, 1, day, 9),
                        client_id=client, counsellor_id=counsellor)  # fmt: skip
        # A later session is not a first one (February stays empty).
        add_appointment(services, station_id=station, starts=local(2026, 2, day, 9),
                        client_id=client, counsellor_id=counsellor)  # fmt: skip
    # Registered 5 January, but on the waitlist since 2 January: waited 8 days, not 5.
    late = add_clients(services, 1, created=local(2026, 1, 5, 9), station_id=station)[0]
    from sqlalchemy import insert

    from carestation.db import models as m

    with services.db.write() as session:
        session.execute(
            insert(m.WaitlistEntry),
            [{"client_id": late, "station_id": station, "type": AppointmentType.COUNSELLING,
              "earliest": date(2026, 1, 2), "latest": date(2026, 1, 31),
              "time_from": time(9), "time_to": time(17), "status": "booked",
              "created_at": local(2026, 1, 2, 11)}],
        )  # fmt: skip
    add_appointment(services, station_id=station, starts=local(2026, 1, 10, 9), client_id=late,
                    counsellor_id=counsellor)  # fmt: skip

    data = _report(services, world, station, JAN, FEB, "month")
    jan = data.blocks[0].station(station).waiting
    # Days: 7, 8, 9, 10, 11, 14 and the waitlisted 8 -> sorted 7 8 8 9 10 11 14.
    # Median at rank ceil(7/2) = 4: 9. 90th percentile at rank ceil(6.3) = 7: 14.
    assert (jan.people.shown, jan.median_days, jan.p90_days) == ("7", 9, 14)
    assert (jan.shown_median, jan.shown_p90) == ("9", "14")
    feb = data.blocks[1].station(station).waiting
    assert (feb.people.shown, feb.median_days, feb.shown_median) == ("0", None, "—")
    selection = data.blocks[0].selection.waiting
    assert (selection.people.count, selection.median_days, selection.p90_days) == (7, 9, 14)


def test_bands_count_each_persons_latest_form_in_the_block(services: Services) -> None:
    world, station = _world(services)
    clients = add_clients(services, 6, created=local(2026, 1, 5), station_id=station)
    first, *others, withdrawn = clients
    # The first client: moderately severe, then minimal in January, then severe in February.
    add_form(services, station_id=station, client_id=first, taken=local(2026, 1, 12), total=15)
    add_form(services, station_id=station, client_id=first, taken=local(2026, 1, 26), total=4)
    add_form(services, station_id=station, client_id=first, taken=local(2026, 2, 10), total=22)
    for client in others:  # four mild
        add_form(services, station_id=station, client_id=client, taken=local(2026, 1, 13), total=7)
    for i in range(5):  # five anonymous forms: five people
        add_form(services, station_id=station, taken=local(2026, 1, 15, 9, i), total=12)
    # A client who withdrew consent for questionnaires leaves the statistics.
    add_form(services, station_id=station, client_id=withdrawn, taken=local(2026, 1, 14), total=20)
    withdraw_assessment_consent(services, withdrawn, station)

    months = _report(services, world, station, JAN, MAR, "month")
    jan = months.blocks[0].station(station).band_group("phq9")
    assert [(c.band, c.shown) for c in jan.cells] == [
        ("minimal", "<5"),
        ("mild", "<5"),
        ("moderate", "5"),
        ("moderately_severe", "0"),
        ("severe", "0"),
    ]
    assert jan.total.shown == "10"
    feb = months.blocks[1].station(station).band_group("phq9")
    assert feb.total.shown == "<5"  # one person: nothing shown
    # Five anonymous minimal forms in February: February shows its total (6), hiding the one
    # severe and, to protect it, the five minimal.
    for i in range(5):
        add_form(services, station_id=station, taken=local(2026, 2, 11, 9, i), total=2)
    feb = _report(services, world, station, FEB, FEB, "month").blocks[0].station(station)
    assert [c.shown for c in feb.band_group("phq9").cells] == ["·", "0", "0", "0", "·"]
    quarter = _report(services, world, station, JAN, MAR, "quarter")
    q1 = quarter.blocks[0].station(station).band_group("phq9")
    # Over the quarter the first client counts once, with the February form: 5 minimal,
    # 4 mild, 5 moderate, 1 severe = 15 people (16 if counted twice). Minimal is hidden because
    # January hides it (summary_suppression: a quarter shows only what its months show).
    assert [c.shown for c in q1.cells] == ["·", "<5", "5", "0", "<5"]
    assert q1.total.shown == "15"


def _closed_case_with(
    services: Services, world: World, station: int, client: int, closed: datetime,
    forms: dict[str, tuple[int, ...]],
) -> None:  # fmt: skip
    case = add_case(services, station_id=station, client_id=client,
                    counsellor_id=world.counsellor.user_id, opened=local(2026, 1, 5),
                    closed=closed)  # fmt: skip
    for instrument, totals in forms.items():
        for i, total in enumerate(totals):
            add_form(services, station_id=station, client_id=client, case_id=case,
                     instrument=instrument, total=total, taken=local(2026, 1, 10 + i))  # fmt: skip


def test_change_between_first_and_last_form_of_cases_closed_in_the_block(
    services: Services,
) -> None:
    world, station = _world(services)
    clients = add_clients(services, 17, created=local(2026, 1, 2), station_id=station)
    march = local(2026, 3, 10)
    for client in clients[:5]:  # PHQ-9 15 -> 9 -> 8: improved by 7 and recovered
        _closed_case_with(services, world, station, client, march,
                          {"phq9": (15, 9, 8), "gad7": (10, 7), "who5": (10, 13)})  # fmt: skip
    for client in clients[5:10]:  # 12 -> 19: deteriorated
        _closed_case_with(services, world, station, client, march, {"phq9": (12, 19)})
    for client in clients[10:15]:  # 9 -> 11: no reliable change
        _closed_case_with(services, world, station, client, march, {"phq9": (9, 11)})
    _closed_case_with(services, world, station, clients[15], march, {"phq9": (20,)})  # once
    _closed_case_with(services, world, station, clients[16], local(2026, 4, 2), {"phq9": (20, 2)})

    data = _report(services, world, station, MAR, MAR, "month")
    row = data.blocks[0].station(station)
    phq9 = row.change("phq9")
    assert [(c.band, c.shown) for c in phq9.outcomes.cells] == [
        ("improved", "5"),
        ("deteriorated", "5"),
        ("no_reliable_change", "5"),
    ]
    assert phq9.outcomes.total.shown == "15"
    assert phq9.recovered is not None
    assert phq9.recovered.shown == "5"
    # GAD-7 10 -> 7: 3 points is not a reliable change (4), but it is a recovery (caseness 8).
    gad7 = row.change("gad7")
    assert [c.shown for c in gad7.outcomes.cells] == ["0", "0", "5"]
    assert gad7.recovered is not None
    assert gad7.recovered.shown == "5"
    # WHO-5 40% -> 52%: 12 percentage points up is reliable (10); no caseness, no recovery.
    who5 = row.change("who5")
    assert [c.shown for c in who5.outcomes.cells] == ["5", "0", "0"]
    assert who5.recovered is None
    assert [c.instrument for c in row.changes] == ["phq9", "gad7", "who5"]


def test_topics_crisis_flags_and_quarters_count_distinct_people(services: Services) -> None:
    world, station = _world(services)
    counsellor = world.counsellor.user_id
    clients = add_clients(services, 6, created=local(2026, 1, 2), station_id=station)
    for i, client in enumerate(clients[:5]):
        # Each has a work-stress session in January and February (one person, twice).
        for month in (1, 2):
            add_appointment(services, station_id=station, starts=local(2026, month, 12 + i, 9),
                            client_id=client, counsellor_id=counsellor,
                            topic=Topic.WORK_STRESS)  # fmt: skip
        add_flag(services, station_id=station, client_id=client, raised=local(2026, 1, 20),
                 cleared=local(2026, 2, 3) if i == 0 else None)  # fmt: skip
    add_flag(services, station_id=station, client_id=clients[0], raised=local(2026, 1, 25))
    # The sixth: a case about the family opened in January, its session cancelled.
    case = add_case(services, station_id=station, client_id=clients[5], counsellor_id=counsellor,
                    opened=local(2026, 1, 8), topics=(Topic.MARRIAGE_FAMILY, Topic.CAREER))  # fmt: skip
    add_appointment(services, station_id=station, starts=local(2026, 2, 20, 9),
                    client_id=clients[5], counsellor_id=counsellor, case_id=case,
                    status=AppointmentStatus.CANCELLED)  # fmt: skip

    months = _report(services, world, station, JAN, MAR, "month")
    jan, feb, _mar = (b.station(station) for b in months.blocks)
    assert jan.topic("work_stress").shown == "5"
    assert jan.topic("marriage_family").shown == "<5"
    assert jan.topic("career").shown == "<5"
    assert feb.topic("marriage_family").shown == "0"  # a cancelled session is not a contact
    assert (jan.crisis_raised.shown, jan.crisis_closed.shown) == ("5", "0")
    assert (feb.crisis_raised.shown, feb.crisis_closed.shown) == ("0", "<5")
    quarter = _report(services, world, station, JAN, MAR, "quarter").blocks[0].station(station)
    assert quarter.topic("work_stress").count == 5  # the same five people, not ten
    assert quarter.crisis_raised.count == 5


@pytest.mark.parametrize("grouping", ["month", "quarter"])
def test_an_empty_period_prints_zeros(services: Services, grouping: str) -> None:
    world, station = _world(services)
    data = _report(services, world, station, JAN, MAR, grouping)
    row = data.blocks[0].selection
    assert row.appointments.total == 0
    assert row.appointments.no_show.value is None
    assert row.waiting.shown_median == "—"
    assert all(c.shown == "0" for g in row.bands for c in (*g.cells, g.total))


def test_months_are_each_stations_own_local_months(services: Services) -> None:
    """A station in a zone with daylight saving next to one in Shanghai: 22:30 UTC on 31 March
    is already 1 April in Berlin (summer time, +2) and in Shanghai (+8); 22:30 UTC on 30 March
    is still 30 March in Berlin. In winter (+1), 23:30 UTC on 28 February is 1 March there."""
    from carestation.domain.values import StationInput
    from tests.factories import HOURS

    world, shanghai = _world(services)
    berlin = services.admin.create_station(
        actor=world.admin,
        data=StationInput(name="柏林站", time_zone="Europe/Berlin", hours=HOURS),
    ).id
    for station, at in (
        (berlin, datetime(2026, 3, 31, 22, 30, tzinfo=UTC)),  # Berlin 1 April 00:30
        (berlin, datetime(2026, 3, 30, 21, 30, tzinfo=UTC)),  # Berlin 30 March 23:30
        (berlin, datetime(2026, 2, 28, 23, 30, tzinfo=UTC)),  # Berlin 1 March 00:30
        (shanghai, datetime(2026, 3, 31, 15, 30, tzinfo=UTC)),  # Shanghai 31 March 23:30
        (shanghai, datetime(2026, 3, 31, 16, 30, tzinfo=UTC)),  # Shanghai 1 April 00:30
    ):
        add_appointment(services, station_id=station, starts=at, type_=AppointmentType.POD,
                        minutes=15)  # fmt: skip
        add_form(services, station_id=station, taken=at, total=3)
    data = reports(services).summary(
        world.manager,
        first_month=FEB,
        last_month=date(2026, 4, 1),
        station_ids=[berlin, shanghai],
        grouping="month",
    )
    per_month = [
        (b.label, b.station(berlin).appointments.total, b.station(shanghai).appointments.total)
        for b in data.blocks
    ]
    assert per_month == [("2026-02", 0, 0), ("2026-03", 2, 1), ("2026-04", 1, 1)]
    march = data.blocks[1]
    assert march.station(berlin).band_group("phq9").total.shown == "<5"
    assert march.selection.appointments.total == 3
