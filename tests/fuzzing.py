"""Checks shared by the property-based (Hypothesis) tests in tests/unit/test_fuzz_*.py."""

from __future__ import annotations

import contextlib

from hypothesis import event as hypothesis_event
from hypothesis.errors import InvalidArgument
from sqlalchemy import select

from carestation.db.models import Base
from carestation.domain.booking import BookingRefused
from carestation.domain.errors import CareStationError, ValidationError
from carestation.services.container import Services


def event(what: str) -> None:
    """Counts outcomes for --hypothesis-show-statistics; a no-op outside a Hypothesis test."""
    with contextlib.suppress(InvalidArgument):
        hypothesis_event(what)


def snapshot(services: Services) -> dict[str, list[str]]:
    """Every row of every table: the small test world fits in memory."""
    with services.db.read() as session:
        return {
            t.name: sorted(repr(tuple(r)) for r in session.execute(select(t)))
            for t in Base.metadata.sorted_tables
        }


def assert_clear(exc: CareStationError) -> None:
    """A refusal a person can act on: a message, and for a form each field's own words."""
    assert str(exc).strip(), f"{type(exc).__name__} without a message"
    if isinstance(exc, BookingRefused):
        assert exc.problems
        assert all(isinstance(p, str) and p.strip() for p in exc.problems)
    if isinstance(exc, ValidationError):
        assert exc.errors
        for field, message in exc.errors.items():
            assert field
            assert isinstance(message, str)
            assert message.strip(), exc.errors
