"""Errors the services raise; each carries a translated, user-facing message."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime


class CareStationError(Exception):
    """Base class: `str(error)` is a message fit to show the user."""


class PermissionDenied(CareStationError):
    """The acting user's role does not allow this action."""


class NotFound(CareStationError):
    pass


class Conflict(CareStationError):
    """The action would break a rule about existing data (duplicate name, last admin ...)."""


class AuthenticationFailed(CareStationError):
    pass


class AccountLocked(AuthenticationFailed):
    def __init__(self, message: str, until: datetime) -> None:
        super().__init__(message)
        self.until = until


class ValidationError(CareStationError):
    """Bad input; `errors` maps a field name to what is wrong with it."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("\n".join(self.errors.values()))


class DatabaseProblem(CareStationError):
    """The database cannot be used; the message says why and what to do."""


class DatabaseUnavailable(DatabaseProblem):
    pass


class NotACareStationDatabase(DatabaseProblem):
    pass


class SchemaTooNew(DatabaseProblem):
    pass


class KeyUnavailable(CareStationError):
    """Protected data cannot be opened or written: the key-encryption key is not unlocked."""
