"""Each role gets exactly what it should from the read services, whatever the UI shows."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from carestation.db import models as m
from carestation.domain.errors import PermissionDenied
from carestation.domain.roles import Role
from carestation.domain.vocab import AppointmentType
from carestation.services.container import Services
from tests.factories import add_appointment, build_world

DAY = date(2026, 11, 23)


def _call(services: Services, operation: str, actor, world) -> object:  # type: ignore[no-untyped-def]
    if operation == "station_day":
        return services.appointments.station_day(actor=actor, station_id=world.station_id, day=DAY)
    if operation == "my_day":
        return services.appointments.my_day(actor=actor, day=DAY)
    if operation == "summary":
        return services.summary_report.summary(
            actor,
            first_month=date(2026, 1, 1),
            last_month=date(2026, 12, 1),
            station_ids=None,
            grouping="month",
        )
    if operation == "audit":
        return services.audit_queries.entries(actor=actor)
    if operation == "list_users":
        return services.admin.list_users(actor=actor)
    raise AssertionError(operation)


ALLOWED = {
    "station_day": {Role.STAFF},
    "my_day": {Role.COUNSELLOR},
    "summary": {Role.MANAGER, Role.ADMIN},
    "audit": {Role.ADMIN},
    "list_users": {Role.ADMIN},
}


@pytest.mark.parametrize("operation", sorted(ALLOWED))
@pytest.mark.parametrize("role", list(Role), ids=lambda r: r.value)
def test_role_operation_matrix(services: Services, operation: str, role: Role) -> None:
    world = build_world(services)
    actor = world.actor(role)
    if role in ALLOWED[operation]:
        _call(services, operation, actor, world)
        return
    with pytest.raises(PermissionDenied):
        _call(services, operation, actor, world)
    with services.db.read() as session:
        last = session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id.desc()).limit(1)).one()
    assert (last.username, last.result) == (actor.username, "denied")


def test_staff_see_only_their_own_stations(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(PermissionDenied):
        services.appointments.station_day(
            actor=world.other_staff, station_id=world.station_id, day=DAY
        )


def test_station_day_uses_the_station_local_day(services: Services) -> None:
    world = build_world(services)
    # 23:30 UTC on the 22nd is 07:30 on the 23rd in Shanghai; 16:30 UTC on the 23rd is the 24th.
    inside = add_appointment(
        services,
        world,
        datetime(2026, 11, 22, 23, 30, tzinfo=UTC),
        datetime(2026, 11, 23, 0, 20, tzinfo=UTC),
    )
    add_appointment(
        services,
        world,
        datetime(2026, 11, 23, 16, 30, tzinfo=UTC),
        datetime(2026, 11, 23, 17, 0, tzinfo=UTC),
    )
    rows = services.appointments.station_day(
        actor=world.staff, station_id=world.station_id, day=DAY
    )
    assert [r.id for r in rows] == [inside]
    assert rows[0].starts_at.strftime("%H:%M") == "07:30"
    assert rows[0].client_name == "张三"
    assert rows[0].client_code == "ABCD-EFGH-1"
    assert rows[0].room_name == "个人咨询室一"
    assert rows[0].counsellor_name == "陈静"


def test_my_day_lists_only_the_counsellors_own_across_stations(services: Services) -> None:
    world = build_world(services)
    a = add_appointment(
        services,
        world,
        datetime(2026, 11, 23, 1, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 1, 50, tzinfo=UTC),
    )
    b = add_appointment(
        services,
        world,
        datetime(2026, 11, 23, 6, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 6, 50, tzinfo=UTC),
        station_id=world.other_station_id,
    )
    add_appointment(
        services,
        world,
        datetime(2026, 11, 23, 3, 0, tzinfo=UTC),
        datetime(2026, 11, 23, 3, 15, tzinfo=UTC),
        counsellor_id=None,
        type_=AppointmentType.POD,
    )
    rows = services.appointments.my_day(actor=world.counsellor, day=DAY)
    assert [r.id for r in rows] == [a, b]
    assert {r.station_name for r in rows} == {"暨阳街道职工情绪管理服务站", "店口镇服务站"}


def test_every_audited_action_has_a_readable_title() -> None:
    import re
    from pathlib import Path

    from carestation.services.audit_labels import ACTIONS, action_title

    root = Path(__file__).resolve().parents[2] / "carestation"
    source = "\n".join(
        p.read_text(encoding="utf-8") for p in root.rglob("*.py") if "cli.py" not in p.name
    )
    used = set(re.findall(r'action="([a-z_]+)"', source))
    used |= {
        a for pair in re.findall(r'"([a-z_]+)" if active else "([a-z_]+)"', source) for a in pair
    }
    assert used <= set(ACTIONS), sorted(used - set(ACTIONS))
    assert action_title("sign_in") == "Sign in"
    assert action_title("something_new") == "something_new"
