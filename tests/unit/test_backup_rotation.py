"""Rotation of the database backups: 7 daily, 4 weekly, 12 monthly, safety copies for 30 days."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from carestation.db.backups import (
    BackupInfo,
    BackupKind,
    daily_due,
    parse_name,
    to_prune,
)

NOW = datetime(2026, 11, 24, 5, 0, tzinfo=UTC)


def _info(taken: datetime, kind: BackupKind = BackupKind.DAILY, n: int = 0) -> BackupInfo:
    name = f"carestation-{taken:%Y%m%d-%H%M%S}Z-{kind.value}{'-' + str(n) if n else ''}.db"
    return BackupInfo(Path("/b") / name, taken, kind, 1000)


def test_a_year_of_daily_backups_keeps_7_days_4_weeks_and_12_months() -> None:
    backups = [_info(NOW - timedelta(days=d)) for d in range(400)]
    kept = {b.taken_at.date() for b in backups} - {
        b.taken_at.date() for b in to_prune(backups, NOW)
    }
    days = {(NOW - timedelta(days=d)).date() for d in range(7)}
    assert days <= kept
    # Sundays are the newest of their ISO week; the current week's newest is today.
    assert len(kept) == len(
        days
        | {(NOW - timedelta(days=d)).date() for d in (1, 8, 15)}  # Sun 23, 16, 9 Nov
        | {
            datetime(2026, m, 31 if m in (1, 3, 5, 7, 8, 10, 12) else 30, tzinfo=UTC).date()
            for m in range(1, 11)
            if m != 2
        }
        | {datetime(2026, 2, 28, tzinfo=UTC).date(), datetime(2025, 12, 31, tzinfo=UTC).date()}
    )
    assert len(kept) <= 7 + 4 + 12


def test_safety_copies_stay_30_days_and_the_newest_stays_always() -> None:
    old_migrate = _info(NOW - timedelta(days=40), BackupKind.BEFORE_MIGRATE)
    older_restore = _info(NOW - timedelta(days=50), BackupKind.BEFORE_RESTORE)
    recent = _info(NOW - timedelta(days=29), BackupKind.BEFORE_RESTORE)
    assert to_prune([old_migrate, older_restore, recent], NOW) == [old_migrate, older_restore]
    assert to_prune([old_migrate, older_restore], NOW) == [older_restore]


def test_names_round_trip_and_other_files_are_ignored() -> None:
    info = _info(NOW, BackupKind.BEFORE_MIGRATE, 2)
    assert parse_name(info.path) == (NOW.replace(microsecond=0), BackupKind.BEFORE_MIGRATE)
    assert parse_name(Path("carestation.db")) is None
    assert parse_name(Path("carestation-20261124-050000Z-weekly.db")) is None
    assert parse_name(Path(".carestation-20261124-050000Z-daily.db.partial")) is None


def test_a_daily_backup_is_due_after_24_hours() -> None:
    assert daily_due([], NOW)
    assert not daily_due([_info(NOW - timedelta(hours=23))], NOW)
    assert daily_due([_info(NOW - timedelta(hours=24))], NOW)
    # A safety copy is not a daily backup.
    assert daily_due([_info(NOW, BackupKind.BEFORE_MIGRATE)], NOW)


moments = st.lists(
    st.tuples(
        st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2026, 11, 24, 4, 59)).map(
            lambda d: d.replace(microsecond=0, tzinfo=UTC)
        ),
        st.sampled_from(list(BackupKind)),
    ),
    max_size=80,
)


@settings(max_examples=300, deadline=None)
@given(moments)
def test_rotation_properties(entries: list[tuple[datetime, BackupKind]]) -> None:
    backups = [_info(t, k, i) for i, (t, k) in enumerate(entries)]
    pruned = to_prune(backups, NOW)
    pruned_paths = {b.path for b in pruned}
    kept = [b for b in backups if b.path not in pruned_paths]
    grid = [b for b in backups if b.kind in (BackupKind.DAILY, BackupKind.MANUAL)]
    kept_grid = [b for b in kept if b in grid]
    # Bounded.
    assert len(kept_grid) <= 7 + 4 + 12
    # The newest grid backup is never removed, nor a safety copy younger than 30 days.
    if grid:
        newest = max(grid, key=lambda b: (b.taken_at, b.path.name))
        assert newest in kept
    for b in backups:
        if b not in grid and NOW - b.taken_at <= timedelta(days=30):
            assert b in kept
    # Each of the 7 latest days with a backup keeps its newest one.
    days = sorted({b.taken_at.date() for b in grid}, reverse=True)[:7]
    for day in days:
        newest_of_day = max(
            (b for b in grid if b.taken_at.date() == day), key=lambda b: (b.taken_at, b.path.name)
        )
        assert newest_of_day in kept
    # Each of the 12 latest months with a backup keeps one.
    months = sorted({(b.taken_at.year, b.taken_at.month) for b in grid}, reverse=True)[:12]
    for month in months:
        assert any((b.taken_at.year, b.taken_at.month) == month for b in kept_grid)
    # Rotating again removes nothing more.
    assert to_prune(kept, NOW) == []
