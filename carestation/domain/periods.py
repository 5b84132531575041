"""Half-open time periods and the few set operations availability needs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, order=True)
class Period:
    """[start, end): back-to-back periods do not overlap."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("periods need time-zone-aware datetimes")

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    def overlaps(self, other: Period) -> bool:
        return self.start < other.end and other.start < self.end

    def contains(self, other: Period) -> bool:
        return self.start <= other.start and other.end <= self.end


def normalise(periods: Iterable[Period]) -> list[Period]:
    """Sorted, with overlapping or touching periods merged; empty ones dropped."""
    result: list[Period] = []
    for p in sorted(p for p in periods if p.end > p.start):
        if result and p.start <= result[-1].end:
            if p.end > result[-1].end:
                result[-1] = Period(result[-1].start, p.end)
        else:
            result.append(p)
    return result


def subtract(periods: Iterable[Period], remove: Iterable[Period]) -> list[Period]:
    """What is left of `periods` after taking out every period in `remove`."""
    left = normalise(periods)
    for cut in normalise(remove):
        next_left: list[Period] = []
        for p in left:
            if not p.overlaps(cut):
                next_left.append(p)
                continue
            if p.start < cut.start:
                next_left.append(Period(p.start, cut.start))
            if cut.end < p.end:
                next_left.append(Period(cut.end, p.end))
        left = next_left
    return left


def intersect(a: Iterable[Period], b: Iterable[Period]) -> list[Period]:
    result: list[Period] = []
    bs = normalise(b)
    for p in normalise(a):
        for q in bs:
            start, end = max(p.start, q.start), min(p.end, q.end)
            if start < end:
                result.append(Period(start, end))
    return normalise(result)
