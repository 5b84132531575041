"""Closing the self-service screen: a password checked like a sign-in, and only this station's team."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from carestation.db import models as m
from carestation.domain.errors import AccountLocked, AuthenticationFailed, PermissionDenied
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import PASSWORD, build_world


def _kiosk_audit(services: Services) -> list[tuple[str, str, str, str, str]]:
    with services.db.read() as session:
        return [
            (e.username, e.result, e.object_type, e.object_ref, e.detail)
            for e in session.scalars(
                select(m.AuditEvent)
                .where(m.AuditEvent.action == "kiosk_exit")
                .order_by(m.AuditEvent.id)
            )
        ]


def test_staff_of_the_station_may_close_the_screen(services: Services) -> None:
    world = build_world(services)
    actor = services.auth.verify_station_staff(
        username=" Staff01 ", password=PASSWORD, station_id=world.station_id
    )
    assert actor.user_id == world.staff.user_id
    assert actor.station_id == world.station_id
    # A counsellor working at both stations may close it at either.
    other = services.auth.verify_station_staff(
        username="c001", password=PASSWORD, station_id=world.other_station_id
    )
    assert other.station_id == world.other_station_id
    assert _kiosk_audit(services) == [
        ("staff01", "ok", "station", str(world.station_id), ""),
        ("c001", "ok", "station", str(world.other_station_id), ""),
    ]


def test_wrong_password_and_unknown_user_get_the_sign_in_message(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(AuthenticationFailed) as wrong:
        services.auth.verify_station_staff(
            username="staff01", password="not the password", station_id=world.station_id
        )
    with pytest.raises(AuthenticationFailed) as unknown:
        services.auth.verify_station_staff(
            username="nobody", password=PASSWORD, station_id=world.station_id
        )
    with pytest.raises(AuthenticationFailed) as at_sign_in:
        services.auth.sign_in(username="staff01", password="not the password")
    assert str(wrong.value) == str(unknown.value) == str(at_sign_in.value)
    assert not isinstance(wrong.value, AccountLocked)
    assert [(u, r) for u, r, *_ in _kiosk_audit(services)] == [
        ("staff01", "failed"),
        ("nobody", "failed"),
    ]


def test_failures_count_towards_the_same_lock_out(services: Services, clock: FakeClock) -> None:
    world = build_world(services)
    # Two wrong sign-ins and three wrong kiosk passwords make five in a row: locked.
    for _ in range(2):
        with pytest.raises(AuthenticationFailed):
            services.auth.sign_in(username="staff01", password="wrong password")
    for _ in range(2):
        with pytest.raises(AuthenticationFailed) as exc:
            services.auth.verify_station_staff(
                username="staff01", password="wrong password", station_id=world.station_id
            )
        assert not isinstance(exc.value, AccountLocked)
    with pytest.raises(AccountLocked):
        services.auth.verify_station_staff(
            username="staff01", password="wrong password", station_id=world.station_id
        )
    # Locked even with the right password, at the kiosk and at sign-in.
    with pytest.raises(AccountLocked):
        services.auth.verify_station_staff(
            username="staff01", password=PASSWORD, station_id=world.station_id
        )
    with pytest.raises(AccountLocked):
        services.auth.sign_in(username="staff01", password=PASSWORD)
    assert [r for _u, r, _t, _o, d in _kiosk_audit(services)][-2:] == ["failed", "locked"]
    assert _kiosk_audit(services)[-2][4] == "locked"
    clock.advance(minutes=5, seconds=1)
    assert services.auth.verify_station_staff(
        username="staff01", password=PASSWORD, station_id=world.station_id
    )


def test_success_resets_the_failure_count(services: Services) -> None:
    world = build_world(services)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.auth.sign_in(username="staff01", password="wrong password")
    services.auth.verify_station_staff(
        username="staff01", password=PASSWORD, station_id=world.station_id
    )
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as exc:
            services.auth.sign_in(username="staff01", password="wrong password")
        assert not isinstance(exc.value, AccountLocked)


def test_staff_of_another_station_are_refused(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(PermissionDenied) as exc:
        services.auth.verify_station_staff(
            username="staff02", password=PASSWORD, station_id=world.station_id
        )
    assert "station" in str(exc.value)
    assert _kiosk_audit(services) == [
        ("staff02", "denied", "station", str(world.station_id), ""),
    ]


@pytest.mark.parametrize("username", ["manager", "admin"])
def test_roles_without_the_kiosk_permission_are_refused(services: Services, username: str) -> None:
    world = build_world(services)
    with pytest.raises(PermissionDenied):
        services.auth.verify_station_staff(
            username=username, password=PASSWORD, station_id=world.station_id
        )
    assert _kiosk_audit(services)[-1][:2] == (username, "denied")


def test_deactivated_user_cannot_close_the_screen(services: Services) -> None:
    world = build_world(services)
    services.admin.set_user_active(actor=world.admin, user_id=world.staff.user_id, active=False)
    with pytest.raises(AuthenticationFailed):
        services.auth.verify_station_staff(
            username="staff01", password=PASSWORD, station_id=world.station_id
        )


def test_closing_the_screen_is_not_a_sign_in(services: Services, clock: FakeClock) -> None:
    world = build_world(services)
    with services.db.read() as session:
        before = session.get(m.UserAccount, world.staff.user_id).last_sign_in_at  # type: ignore[union-attr]
    clock.advance(hours=1)
    services.auth.verify_station_staff(
        username="staff01", password=PASSWORD, station_id=world.station_id
    )
    with services.db.read() as session:
        after = session.get(m.UserAccount, world.staff.user_id).last_sign_in_at  # type: ignore[union-attr]
    assert after == before
