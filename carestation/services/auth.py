"""Signing in, the lock-out after repeated failures, unlocking an idle session, changing passwords."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from carestation.db.models import UserAccount
from carestation.domain.errors import (
    AccountLocked,
    AuthenticationFailed,
    PermissionDenied,
    ValidationError,
)
from carestation.domain.roles import Permission
from carestation.domain.validation import password_problem
from carestation.domain.values import Actor
from carestation.i18n import _
from carestation.security.passwords import (
    burn_equal_time,
    hash_password,
    needs_rehash,
    verify_password,
)
from carestation.services.base import Service

MAX_FAILURES = 5
LOCK_DURATION = timedelta(minutes=5)


def _wrong_credentials() -> AuthenticationFailed:
    # One message for an unknown user, a deactivated one and a wrong password: no enumeration.
    return AuthenticationFailed(_("The user name or password is not right. Please try again."))


class AuthService(Service):
    def sign_in(self, *, username: str, password: str, station_id: int | None = None) -> Actor:
        name = username.strip().lower()
        now = self.clock.now()
        failure: AuthenticationFailed | None = None
        with self.db.write() as session:
            user = session.scalars(
                select(UserAccount)
                .where(UserAccount.username == name)
                .options(selectinload(UserAccount.roles), selectinload(UserAccount.stations))
            ).one_or_none()
            if user is None or not user.active:
                burn_equal_time(password)
                self.audit.record(
                    session, actor=None, username=name, action="sign_in", result="failed"
                )
                failure = _wrong_credentials()
            elif user.locked_until is not None and user.locked_until > now:
                burn_equal_time(password)
                self.audit.record(
                    session, actor=None, username=name, action="sign_in", result="locked"
                )
                failure = _locked(user.locked_until)
            elif not verify_password(user.password_hash, password):
                failure = self._count_failure(user, now)
                self.audit.record(
                    session,
                    actor=None,
                    username=name,
                    action="sign_in",
                    result="failed",
                    detail="locked" if isinstance(failure, AccountLocked) else "",
                )
            else:
                user.failed_attempts = 0
                user.locked_until = None
                user.last_sign_in_at = now
                if needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                actor = _actor_for(user, station_id)
                self.audit.record(session, actor=actor, action="sign_in")
        # Raised after the transaction so the failure counter and the audit entry are committed.
        if failure is not None:
            raise failure
        return actor

    def verify_station_staff(self, *, username: str, password: str, station_id: int) -> Actor:
        """Checks that a member of this station's team is at the self-service screen (to close it).

        The password is checked exactly as at sign-in: the same failure count and lock-out, the
        same one message for unknown users and wrong passwords. A right password from someone
        who may not run the screen, or who does not work at `station_id`, is refused with
        PermissionDenied. Nothing else changes: it is not a sign-in (no last_sign_in_at).
        """
        name = username.strip().lower()
        now = self.clock.now()
        failure: AuthenticationFailed | PermissionDenied | None = None
        actor: Actor | None = None
        with self.db.write() as session:
            user = session.scalars(
                select(UserAccount)
                .where(UserAccount.username == name)
                .options(selectinload(UserAccount.roles), selectinload(UserAccount.stations))
            ).one_or_none()
            if user is None or not user.active:
                burn_equal_time(password)
                failure = _wrong_credentials()
                result, detail = "failed", ""
            elif user.locked_until is not None and user.locked_until > now:
                burn_equal_time(password)
                failure = _locked(user.locked_until)
                result, detail = "locked", ""
            elif not verify_password(user.password_hash, password):
                failure = self._count_failure(user, now)
                result = "failed"
                detail = "locked" if isinstance(failure, AccountLocked) else ""
            else:
                user.failed_attempts = 0
                user.locked_until = None
                if needs_rehash(user.password_hash):
                    user.password_hash = hash_password(password)
                actor = _actor_for(user, station_id)
                if not actor.can(Permission.RUN_KIOSK) or station_id not in actor.station_ids:
                    failure = PermissionDenied(
                        _(
                            "Only a member of this station's team can close the self-service "
                            "screen. Ask a colleague who works here."
                        )
                    )
                    result, detail = "denied", ""
                else:
                    result, detail = "ok", ""
            self.audit.record(
                session,
                actor=actor,
                username=name,
                action="kiosk_exit",
                object_type="station",
                object_ref=str(station_id),
                result=result,
                detail=detail,
            )
        # Raised after the transaction so the failure counter and the audit entry are committed.
        if failure is not None:
            raise failure
        assert actor is not None
        return actor

    def _count_failure(self, user: UserAccount, now: datetime) -> AuthenticationFailed:
        user.failed_attempts += 1
        if user.failed_attempts >= MAX_FAILURES:
            user.failed_attempts = 0
            user.locked_until = now + LOCK_DURATION
            return _locked(user.locked_until)
        return _wrong_credentials()

    def unlock(self, *, actor: Actor, password: str) -> None:
        """Re-checks the signed-in user's password after an idle lock; failures count as sign-ins."""
        with self.db.write() as session:
            user = session.get(UserAccount, actor.user_id)
            now = self.clock.now()
            failure: AuthenticationFailed | None = None
            if user is None or not user.active:
                failure = _wrong_credentials()
            elif user.locked_until is not None and user.locked_until > now:
                failure = _locked(user.locked_until)
            elif not verify_password(user.password_hash, password):
                failure = self._count_failure(user, now)
            else:
                user.failed_attempts = 0
            self.audit.record(
                session, actor=actor, action="unlock", result="ok" if failure is None else "failed"
            )
        if failure is not None:
            raise failure

    def change_password(self, *, actor: Actor, old_password: str, new_password: str) -> None:
        problem = password_problem(new_password)
        if problem:
            raise ValidationError({"new_password": problem})
        with self.db.write() as session:
            user = session.get(UserAccount, actor.user_id)
            if user is None or not verify_password(user.password_hash, old_password):
                raise ValidationError({"old_password": _("The current password is not right.")})
            user.password_hash = hash_password(new_password)
            self.audit.record(session, actor=actor, action="change_password")


def _locked(until: datetime) -> AccountLocked:
    return AccountLocked(
        _(
            "This account is locked for {minutes} minutes after {n} wrong passwords in a row. "
            "Try again later, or ask an administrator."
        ).format(minutes=int(LOCK_DURATION.total_seconds() // 60), n=MAX_FAILURES),
        until,
    )


def _actor_for(user: UserAccount, station_id: int | None) -> Actor:
    stations = frozenset(s.station_id for s in user.stations)
    if station_id is not None and (station_id in stations or not stations):
        current = station_id
    else:
        current = min(stations) if stations else station_id
    return Actor(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        roles=frozenset(r.role for r in user.roles),
        station_ids=stations,
        station_id=current,
    )
