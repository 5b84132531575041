"""Sign-in, lock-out after five failures, unlock, password change, and what the audit trail keeps."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from carestation.db import models as m
from carestation.domain.errors import AccountLocked, AuthenticationFailed, ValidationError
from carestation.domain.roles import Role
from carestation.services.container import Services
from tests.conftest import FakeClock
from tests.factories import PASSWORD, build_world


def _audit(services: Services) -> list[tuple[str, str, str]]:
    with services.db.read() as session:
        return [
            (e.username, e.action, e.result)
            for e in session.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id))
        ]


def test_sign_in_returns_actor_with_roles_and_station(services: Services) -> None:
    world = build_world(services)
    actor = services.auth.sign_in(
        username="  STAFF01 ", password=PASSWORD, station_id=world.station_id
    )
    assert actor.username == "staff01"
    assert actor.roles == frozenset({Role.STAFF})
    assert actor.station_ids == frozenset({world.station_id})
    assert actor.station_id == world.station_id


def test_actor_station_falls_back_to_one_they_work_at(services: Services) -> None:
    world = build_world(services)
    actor = services.auth.sign_in(
        username="staff02", password=PASSWORD, station_id=world.station_id
    )
    assert actor.station_id == world.other_station_id


def test_unknown_user_and_wrong_password_get_the_same_message(services: Services) -> None:
    build_world(services)
    with pytest.raises(AuthenticationFailed) as unknown:
        services.auth.sign_in(username="nobody", password="whatever")
    with pytest.raises(AuthenticationFailed) as wrong:
        services.auth.sign_in(username="staff01", password="wrong password")
    assert str(unknown.value) == str(wrong.value)
    assert ("nobody", "sign_in", "failed") in _audit(services)
    assert ("staff01", "sign_in", "failed") in _audit(services)


def test_five_failures_lock_for_five_minutes(services: Services, clock: FakeClock) -> None:
    build_world(services)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as exc:
            services.auth.sign_in(username="staff01", password="wrong password")
        assert not isinstance(exc.value, AccountLocked)
    with pytest.raises(AccountLocked):
        services.auth.sign_in(username="staff01", password="wrong password")
    # Locked even with the right password.
    clock.advance(minutes=4, seconds=59)
    with pytest.raises(AccountLocked) as locked:
        services.auth.sign_in(username="staff01", password=PASSWORD)
    assert "5" in str(locked.value)
    clock.advance(seconds=2)
    assert services.auth.sign_in(username="staff01", password=PASSWORD).username == "staff01"


def test_success_resets_the_failure_count(services: Services) -> None:
    build_world(services)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.auth.sign_in(username="staff01", password="wrong password")
    services.auth.sign_in(username="staff01", password=PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed) as exc:
            services.auth.sign_in(username="staff01", password="wrong password")
        assert not isinstance(exc.value, AccountLocked)


def test_deactivated_user_cannot_sign_in(services: Services) -> None:
    world = build_world(services)
    services.admin.set_user_active(actor=world.admin, user_id=world.staff.user_id, active=False)
    with pytest.raises(AuthenticationFailed):
        services.auth.sign_in(username="staff01", password=PASSWORD)


def test_unlock_checks_the_password_and_counts_failures(services: Services) -> None:
    world = build_world(services)
    services.auth.unlock(actor=world.staff, password=PASSWORD)
    for _ in range(4):
        with pytest.raises(AuthenticationFailed):
            services.auth.unlock(actor=world.staff, password="nope nope nope")
    with pytest.raises(AccountLocked):
        services.auth.unlock(actor=world.staff, password="nope nope nope")
    with pytest.raises(AccountLocked):
        services.auth.sign_in(username="staff01", password=PASSWORD)


def test_change_password(services: Services) -> None:
    world = build_world(services)
    with pytest.raises(ValidationError) as short:
        services.auth.change_password(
            actor=world.staff, old_password=PASSWORD, new_password="short"
        )
    assert "new_password" in short.value.errors
    with pytest.raises(ValidationError) as wrong_old:
        services.auth.change_password(
            actor=world.staff, old_password="not it at all", new_password="a much better one"
        )
    assert "old_password" in wrong_old.value.errors
    services.auth.change_password(
        actor=world.staff, old_password=PASSWORD, new_password="a much better one"
    )
    with pytest.raises(AuthenticationFailed):
        services.auth.sign_in(username="staff01", password=PASSWORD)
    assert services.auth.sign_in(username="staff01", password="a much better one")


def test_password_hash_is_argon2id_and_never_the_password(services: Services) -> None:
    build_world(services)
    with services.db.read() as session:
        hashes = list(session.scalars(select(m.UserAccount.password_hash)))
    assert hashes
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)


def test_production_hasher_meets_owasp_minimum() -> None:
    from argon2 import PasswordHasher, Type

    from carestation.security import passwords

    assert passwords.MEMORY_COST_KIB >= 19 * 1024
    assert passwords.TIME_COST >= 2
    hasher = PasswordHasher(
        time_cost=passwords.TIME_COST,
        memory_cost=passwords.MEMORY_COST_KIB,
        parallelism=passwords.PARALLELISM,
    )
    assert hasher.type is Type.ID
    assert hasher.hash("x" * 12).startswith("$argon2id$v=19$m=32768,t=2,p=1$")
