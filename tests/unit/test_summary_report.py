"""The managers' summary report: who may run it and set its threshold, which periods it accepts,
and that small numbers of people stay hidden, in one report and across reports."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select, update

from carestation.db import models as m
from carestation.domain.errors import PermissionDenied, ValidationError
from carestation.domain.roles import Role
from carestation.domain.summary_values import BlockFigures, SummaryReportData
from carestation.domain.vocab import AppointmentType, Topic
from carestation.services.container import Services
from tests.factories import build_world
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
)

JAN = date(2026, 1, 1)


def _last_audit(services: Services) -> m.AuditEvent:
    with services.db.read() as session:
        return session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(1)).one()


# --------------------------------------------------------------------------- who may


@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_managers_and_admins_run_the_report_staff_and_counsellors_are_refused(
    services: Services, role: Role
) -> None:
    world = build_world(services)
    actor = world.actor(role)
    call = lambda: reports(services).summary(  # noqa: E731
        actor, first_month=JAN, last_month=JAN, station_ids=None, grouping="month"
    )
    if role in (Role.MANAGER, Role.ADMIN):
        data = call()
        assert [b.label for b in data.blocks] == ["2026-01"]
        entry = _last_audit(services)
        assert (entry.action, entry.result, entry.username) == (
            "view_summary_report",
            "ok",
            actor.username,
        )
        assert entry.detail == (
            f"2026-01..2026-01; month; stations {world.other_station_id},{world.station_id}; k=10"
        )
        return
    with pytest.raises(PermissionDenied):
        call()
    entry = _last_audit(services)
    assert (entry.action, entry.result, entry.username) == (
        "view_summary_report",
        "denied",
        actor.username,
    )


def test_each_printed_or_exported_copy_gets_its_own_number_and_audit_entry(
    services: Services,
) -> None:
    world = build_world(services)
    service = reports(services)
    data = service.summary(
        world.manager, first_month=JAN, last_month=JAN, station_ids=None, grouping="month"
    )
    numbers = [service.issue(world.manager, data, output=o) for o in ("print", "pdf", "csv")]
    assert numbers == ["R-000001", "R-000002", "R-000003"]
    entry = _last_audit(services)
    assert (entry.action, entry.object_type, entry.object_ref, entry.result) == (
        "export_summary_report",
        "summary_report",
        "R-000003",
        "ok",
    )
    stations = f"{world.other_station_id},{world.station_id}"
    assert entry.detail == f"csv; 2026-01..2026-01; month; stations {stations}; k=10"
    with services.db.read() as session:
        actions = session.scalars(
            select(m.AuditEvent.action).where(m.AuditEvent.object_type == "summary_report")
        ).all()
    assert actions == ["print_summary_report", "export_summary_report", "export_summary_report"]
    with pytest.raises(ValueError, match="unknown output"):
        service.issue(world.manager, data, output="docx")


@pytest.mark.parametrize("role", [Role.STAFF, Role.COUNSELLOR], ids=lambda r: r.value)
def test_only_report_readers_may_number_a_copy(services: Services, role: Role) -> None:
    world = build_world(services)
    data = reports(services).summary(
        world.manager, first_month=JAN, last_month=JAN, station_ids=None, grouping="month"
    )
    with pytest.raises(PermissionDenied):
        reports(services).issue(world.actor(role), data, output="pdf")
    entry = _last_audit(services)
    assert (entry.action, entry.result) == ("export_summary_report", "denied")
    with services.db.read() as session:
        assert session.get(m.Meta, "report_counter") is None


def test_the_threshold_is_ten_until_the_admin_changes_it_and_the_change_is_audited(
    services: Services,
) -> None:
    world = build_world(services)
    service = reports(services)
    assert service.suppression_k(world.manager) == 10
    assert service.set_suppression_k(world.admin, k=7) == 7
    entry = _last_audit(services)
    assert (entry.action, entry.result, entry.detail) == ("set_suppression_k", "ok", "10 -> 7")
    assert service.suppression_k(world.manager) == 7
    data = service.summary(
        world.manager, first_month=JAN, last_month=JAN, station_ids=None, grouping="month"
    )
    assert data.k == 7
    with services.db.read() as session:
        assert session.get(m.Meta, "suppression_k").value == "7"  # type: ignore[union-attr]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.STAFF, Role.COUNSELLOR], ids=str)
def test_only_the_admin_sets_the_threshold_and_refusals_are_audited(
    services: Services, role: Role
) -> None:
    world = build_world(services)
    with pytest.raises(PermissionDenied):
        reports(services).set_suppression_k(world.actor(role), k=12)
    entry = _last_audit(services)
    assert (entry.action, entry.result) == ("set_suppression_k", "denied")
    assert reports(services).suppression_k(world.admin) == 10


@pytest.mark.parametrize("k", [4, 0, -10, 101, True, 7.5])
def test_a_threshold_below_five_or_not_a_whole_number_is_refused(
    services: Services, k: object
) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as caught:
        reports(services).set_suppression_k(world.admin, k=k)  # type: ignore[arg-type]
    assert "from 5 to 100" in str(caught.value)
    assert reports(services).suppression_k(world.admin) == 10


def test_staff_may_not_even_read_the_threshold(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(PermissionDenied):
        reports(services).suppression_k(world.staff)
    assert (_last_audit(services).action, _last_audit(services).result) == (
        "view_suppression_k",
        "denied",
    )


def test_a_report_may_hide_more_than_the_setting_never_less(services: Services) -> None:
    world = build_world(services)
    service = reports(services)
    service.set_suppression_k(world.admin, k=8)
    kwargs = {"first_month": JAN, "last_month": JAN, "station_ids": None, "grouping": "month"}
    assert service.summary(world.manager, **kwargs, k=12).k == 12  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="below 8"):
        service.summary(world.manager, **kwargs, k=5)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- fixed blocks


@pytest.mark.parametrize(
    ("first", "last", "suggestion"),
    [
        (date(2026, 2, 1), date(2026, 6, 1), "2026-01 to 2026-06"),
        (date(2026, 1, 1), date(2026, 5, 1), "2026-01 to 2026-06"),
        (date(2026, 11, 1), date(2027, 1, 1), "2026-10 to 2027-03"),
    ],
)
def test_a_quarterly_report_must_cover_whole_quarters(
    services: Services, first: date, last: date, suggestion: str
) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as caught:
        reports(services).summary(
            world.manager, first_month=first, last_month=last, station_ids=None, grouping="quarter"
        )
    message = caught.value.errors["period"]
    assert suggestion in message
    assert "January, April, July or October" in message
    assert "blocks of a month" in message


def test_whole_quarters_are_accepted_and_labelled(services: Services) -> None:
    world = build_world(services)
    data = reports(services).summary(
        world.manager,
        first_month=date(2025, 10, 1),
        last_month=date(2026, 3, 31),
        station_ids=None,
        grouping="quarter",
    )
    assert [(b.label, b.first_month, b.last_month) for b in data.blocks] == [
        ("2025 Q4", date(2025, 10, 1), date(2025, 12, 1)),
        ("2026 Q1", date(2026, 1, 1), date(2026, 3, 1)),
    ]


@pytest.mark.parametrize(
    ("first", "last", "grouping", "field", "words"),
    [
        (date(2026, 3, 1), date(2026, 2, 1), "month", "period", "ends before it starts"),
        (date(2021, 1, 1), date(2026, 1, 1), "month", "period", "at most 60 months"),
        (date(2021, 1, 1), date(2026, 3, 1), "quarter", "period", "at most 60 months"),
        (date(2026, 1, 1), date(2026, 1, 1), "week", "grouping", "month or of a quarter"),
    ],
)
def test_periods_out_of_bounds_are_refused(
    services: Services, first: date, last: date, grouping: str, field: str, words: str
) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as caught:
        reports(services).summary(
            world.manager,
            first_month=first,
            last_month=last,
            station_ids=None,
            grouping=grouping,  # type: ignore[arg-type]
        )
    assert words in caught.value.errors[field]


def test_sixty_months_is_the_longest_period(services: Services) -> None:
    world = build_world(services)
    data = reports(services).summary(
        world.manager,
        first_month=date(2021, 1, 1),
        last_month=date(2025, 12, 1),
        station_ids=[world.station_id],
        grouping="quarter",
    )
    assert len(data.blocks) == 20


def test_stations_are_all_active_ones_by_name_or_the_ones_chosen(services: Services) -> None:
    world = build_world(services)
    service = reports(services)
    kwargs = {"first_month": JAN, "last_month": JAN, "grouping": "month"}
    every = service.summary(world.manager, station_ids=None, **kwargs)  # type: ignore[arg-type]
    # "店口镇服务站" sorts before "暨阳街道..." by code point.
    assert [s.id for s in every.stations] == [world.other_station_id, world.station_id]
    chosen = service.summary(
        world.manager, station_ids=[world.station_id, world.station_id], **kwargs
    )  # type: ignore[arg-type]
    assert [s.id for s in chosen.stations] == [world.station_id]
    assert [s.station_id for s in chosen.blocks[0].stations] == [world.station_id]
    with pytest.raises(ValidationError, match="at least one station"):
        service.summary(world.manager, station_ids=[], **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="no longer exists"):
        service.summary(world.manager, station_ids=[world.station_id, 999], **kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- small numbers


def _people_shown(f: BlockFigures) -> dict[str, str]:
    """Every people figure of a block as printed, by a readable name."""
    shown = {
        "attendance": f.lecture_attendance.shown,
        "waiting_people": f.waiting.people.shown,
        "waiting_median": f.waiting.shown_median,
        "waiting_p90": f.waiting.shown_p90,
        "crisis_raised": f.crisis_raised.shown,
        "crisis_closed": f.crisis_closed.shown,
    }
    shown.update({f"topic:{c.band}": c.shown for c in f.topics})
    for group in f.bands:
        shown.update({f"{group.key}:{c.band}": c.shown for c in group.cells})
        shown[f"{group.key}:total"] = group.total.shown
    for change in f.changes:
        for c in change.outcomes.cells:
            shown[f"change:{change.instrument}:{c.band}"] = c.shown
        shown[f"change:{change.instrument}:total"] = change.outcomes.total.shown
        if change.recovered is not None:
            shown[f"change:{change.instrument}:recovered"] = change.recovered.shown
    return shown


def test_a_station_with_four_clients_shows_no_number_of_people(services: Services) -> None:
    world = build_world(services)
    station = add_station(services, world, "小站")
    clients = add_clients(services, 4, created=local(2026, 1, 2), station_id=station)
    counsellor = world.counsellor.user_id
    for i, client in enumerate(clients):
        day = 5 + i
        case = add_case(
            services,
            station_id=station,
            client_id=client,
            counsellor_id=counsellor,
            opened=local(2026, 1, day, 9),
            closed=local(2026, 1, 28),
            topics=(Topic.WORK_STRESS,),
        )
        add_appointment(
            services,
            station_id=station,
            starts=local(2026, 1, day, 14),
            client_id=client,
            counsellor_id=counsellor,
            case_id=case,
            topic=Topic.WORK_STRESS,
        )
        for instrument, first, last in (("phq9", 16, 4), ("gad7", 12, 3), ("who5", 8, 20)):
            add_form(services, station_id=station, taken=local(2026, 1, day, 14, 30),
                     total=first, instrument=instrument, client_id=client, case_id=case)  # fmt: skip
            add_form(services, station_id=station, taken=local(2026, 1, 27), total=last,
                     instrument=instrument, client_id=client, case_id=case)  # fmt: skip
        add_flag(services, station_id=station, client_id=client, raised=local(2026, 1, day, 15),
                 cleared=local(2026, 1, 20))  # fmt: skip
    lecture = add_appointment(
        services, station_id=station, starts=local(2026, 1, 22, 14), minutes=90,
        type_=AppointmentType.LECTURE,
    )  # fmt: skip
    for client in clients:
        register(services, lecture, client, attended=True)

    data = reports(services).summary(
        world.manager, first_month=JAN, last_month=JAN, station_ids=[station], grouping="month"
    )
    block = data.blocks[0]
    row = block.station(station)
    shown = _people_shown(row)
    zeros = {f"topic:{t.value}" for t in Topic if t is not Topic.WORK_STRESS} | {
        name
        for name in shown
        if name.startswith(("pss10:", "k10:"))  # nobody took them
    }
    # Zeros of topics stay "0" (each topic is a cell of its own), and so do questionnaires
    # nobody took; every other number about people is "<10".
    assert {name for name, text in shown.items() if text != "<10"} == zeros
    assert all(shown[name] == "0" for name in zeros)
    # The selection of this one station prints exactly what the station's row prints.
    assert _people_shown(block.selection) == shown
    # No hidden value travels in the data either.
    assert row.crisis_raised.count is None
    assert row.waiting.median_days is None
    assert block.selection.band_group("phq9").total.count is None
    # Operational counts describe the service, not people: printed in full.
    assert row.appointments.by_type[AppointmentType.COUNSELLING] == 4
    assert row.appointments.by_type[AppointmentType.LECTURE] == 1
    assert row.lectures_held == 1
    assert data.hidden_mark_used is False


def _anonymous_phq9(services: Services, station: int, minimal: int, mild: int) -> None:
    for total, n in ((2, minimal), (7, mild)):
        for i in range(n):
            add_form(services, station_id=station, taken=local(2026, 1, 10, 9, i), total=total)


def _printed(data: SummaryReportData) -> list[tuple[str, ...]]:
    """What a reader sees of the PHQ-9 table: every station row and the selection row."""
    block = data.blocks[0]
    rows = [(s.station_name, *_cells(s.figures)) for s in block.stations]
    return [*rows, ("selection", *_cells(block.selection))]


def _cells(f: BlockFigures) -> tuple[str, ...]:
    group = f.band_group("phq9")
    return (*(c.shown for c in group.cells), group.total.shown)


def test_two_reports_differing_by_one_station_do_not_give_away_its_hidden_cell(
    services: Services,
) -> None:
    """{A, B, C} and {A, B}: with both selections' minimal counts printed, 30 - 27 = 3 would
    be C's hidden cell. The selection's cell is hidden as soon as one station's is."""
    world = build_world(services)
    a, b, c = (add_station(services, world, name) for name in ("站A", "站B", "站C"))
    _anonymous_phq9(services, a, minimal=12, mild=11)
    _anonymous_phq9(services, b, minimal=15, mild=20)
    _anonymous_phq9(services, c, minimal=3, mild=12)

    def report(stations: list[int]) -> SummaryReportData:
        return reports(services).summary(
            world.manager, first_month=JAN, last_month=JAN, station_ids=stations, grouping="month"
        )

    three, two = report([a, b, c]), report([a, b])
    # C: total 15 known; its 3 is hidden and so is the 12 that would give it away.
    assert _printed(three) == [
        ("站A", "12", "11", "0", "0", "0", "23"),
        ("站B", "15", "20", "0", "0", "0", "35"),
        ("站C", "·", "·", "0", "0", "0", "15"),
        ("selection", "·", "·", "0", "0", "0", "73"),
    ]
    assert _printed(two) == [
        ("站A", "12", "11", "0", "0", "0", "23"),
        ("站B", "15", "20", "0", "0", "0", "35"),
        ("selection", "27", "31", "0", "0", "0", "58"),
    ]
    assert three.hidden_mark_used is True
    # The rule in general: a category printed in both selections is printed for C itself.
    sel3, sel2 = three.blocks[0].selection, two.blocks[0].selection
    row_c = three.blocks[0].station(c)
    for i, cell in enumerate(sel3.band_group("phq9").cells):
        if cell.count is not None and sel2.band_group("phq9").cells[i].count is not None:
            assert row_c.band_group("phq9").cells[i].count is not None
    # And concretely: move one of C's people from mild to minimal (4 and 11). Both reports print
    # exactly the same, so nothing printed can tell 3 from 4.
    with services.db.write() as session:
        one = session.scalars(
            select(m.Assessment.id).where(m.Assessment.station_id == c, m.Assessment.total == 7)
        ).first()
        session.execute(
            update(m.Assessment).where(m.Assessment.id == one).values(total=2, band="minimal")
        )
    assert _printed(report([a, b, c])) == _printed(three)
    assert _printed(report([a, b])) == _printed(two)


def test_a_total_that_would_expose_a_hidden_cell_is_protected(services: Services) -> None:
    """One station: 1 minimal and 20 mild. With the total 21 printed, hiding the 1 alone would
    give it away (21 - 20); the 20 is hidden too, and both get the same neutral mark."""
    world = build_world(services)
    station = add_station(services, world, "站D")
    _anonymous_phq9(services, station, minimal=1, mild=20)
    data = reports(services).summary(
        world.manager, first_month=JAN, last_month=JAN, station_ids=[station], grouping="month"
    )
    assert _printed(data) == [
        ("站D", "·", "·", "0", "0", "0", "21"),
        ("selection", "·", "·", "0", "0", "0", "21"),
    ]
    group = data.blocks[0].station(station).band_group("phq9")
    assert [c.count for c in group.cells] == [None, None, 0, 0, 0]


def test_a_quarter_does_not_give_away_a_month_it_hides(services: Services) -> None:
    """First sessions add up over the months exactly: 6 in January, 2 in February, 5 in March.
    Printing the quarter's 13 next to January's 6 and March's 5 would give February's 2 away."""
    world = build_world(services)
    reports(services).set_suppression_k(world.admin, k=5)
    station = add_station(services, world, "站Q")
    counsellor = world.counsellor.user_id
    days = [(1, d) for d in (5, 6, 7, 8, 9, 12)] + [(2, 2), (2, 3)] + [(3, d) for d in range(2, 7)]
    clients = add_clients(services, len(days), created=local(2026, 1, 1), station_id=station)
    for client, (month, day) in zip(clients, days, strict=True):
        add_appointment(services, station_id=station, starts=local(2026, month, day, 9),
                        client_id=client, counsellor_id=counsellor)  # fmt: skip

    def waiting(grouping: str) -> list[tuple[str, str]]:
        data = reports(services).summary(
            world.manager, first_month=JAN, last_month=date(2026, 3, 1), station_ids=[station],
            grouping=grouping,  # type: ignore[arg-type]
        )  # fmt: skip
        return [
            (b.station(station).waiting.people.shown, b.selection.waiting.people.shown)
            for b in data.blocks
        ]

    assert waiting("month") == [("6", "6"), ("<5", "<5"), ("5", "5")]
    assert waiting("quarter") == [("·", "·")]
    data = reports(services).summary(
        world.manager, first_month=JAN, last_month=date(2026, 3, 1), station_ids=[station],
        grouping="quarter",
    )  # fmt: skip
    q1 = data.blocks[0].station(station).waiting
    assert (q1.people.count, q1.median_days, q1.shown_median, q1.shown_p90) == (
        None, None, "·", "·",
    )  # fmt: skip
    # Once February has five as well, the quarter is shown: the sum of shown months.
    more = add_clients(services, 3, created=local(2026, 1, 1), station_id=station)
    for client, day in zip(more, (4, 5, 6), strict=True):
        add_appointment(services, station_id=station, starts=local(2026, 2, day, 9),
                        client_id=client, counsellor_id=counsellor)  # fmt: skip
    assert waiting("quarter") == [("16", "16")]
