"""Half-open UTC time windows ``[start, end)``; ``end`` None is a standing (open) window.

A window may carry a weekly ``Schedule`` (an ED-269 ``dailyPeriod``: MON-FRI 08:00-18:00 in
the zone's time zone): it is then active only during those periods inside ``[start, end)``.
``start_s``/``end_s`` stay the envelope, so every filter that compares envelopes (the
strategic engine's compiled rejection, its time tiers) stays correct, only conservative;
``time_overlap`` is the exact test and looks at the periods.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from truceline.errors import ValidationError

# ISO weekday order (Monday 0, as datetime.weekday()); the names are ED-269's.
WEEKDAYS = ("MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN")

# Two weekly schedules in zones with yearly DST rules repeat their joint pattern within a
# year and a week: a search for a shared period of two standing windows stops there.
SCHEDULE_HORIZON = timedelta(days=372)

_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


def time_zone_named(name: str, *, field: str = "time_zone") -> tzinfo:
    """The time zone ``name``: an IANA name (``Europe/Zurich``, read by zoneinfo, so local
    times follow its DST rules), ``UTC``, or a fixed offset ``+01:00`` (no DST: as written).
    Raises ValidationError naming ``field``."""
    if name == "UTC":
        return UTC
    offset = _OFFSET.fullmatch(name)
    if offset is not None:
        sign = -1 if offset.group(1) == "-" else 1
        hours, minutes = int(offset.group(2)), int(offset.group(3))
        if hours > 23 or minutes > 59:
            raise ValidationError(f"{name!r} is not a UTC offset", field=field)
        return timezone(sign * timedelta(hours=hours, minutes=minutes))
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        message = f"{name!r} is not an IANA time zone (e.g. Europe/Zurich)"
        raise ValidationError(message, field=field) from None


@dataclass(frozen=True, slots=True)
class DailyPeriod:
    """Active from ``start`` to ``end`` (wall-clock times, half-open) on each of ``days``
    (0 = Monday). ``end`` at or before ``start`` runs past midnight into the next day
    (22:00-06:00; 00:00-00:00 is the whole day)."""

    days: frozenset[int]
    start: time
    end: time

    def __post_init__(self) -> None:
        if not self.days or not self.days <= set(range(7)):
            message = f"days must be a non-empty set of 0..6, got {sorted(self.days)}"
            raise ValidationError(message, field="days")
        for name in ("start", "end"):
            if getattr(self, name).tzinfo is not None:
                raise ValidationError("is a wall-clock time: its zone is the schedule's", field=name)

    @property
    def day_names(self) -> list[str]:
        return [WEEKDAYS[d] for d in sorted(self.days)]


@dataclass(frozen=True, slots=True)
class Schedule:
    """Weekly periods in one time zone: ``time_zone`` is an IANA name or ``UTC``."""

    time_zone: str
    periods: tuple[DailyPeriod, ...]
    _zone: tzinfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.periods:
            raise ValidationError("a schedule needs at least one daily period", field="periods")
        object.__setattr__(self, "_zone", time_zone_named(self.time_zone))

    def intervals(self, start_s: float, end_s: float) -> Iterator[tuple[float, float]]:
        """The active intervals (epoch seconds, half-open) meeting ``[start_s, end_s)``, in
        order, clipped to it. Requires start_s finite and start_s < end_s (end_s may be inf:
        the caller stops iterating)."""
        # Local dates from the day before (a period past midnight) onwards.
        day = datetime.fromtimestamp(start_s, self._zone).date() - timedelta(days=1)
        while True:
            first = _local(day, time(0), self._zone)
            if first >= end_s:
                return
            found = []
            for period in self.periods:
                if day.weekday() not in period.days:
                    continue
                lo = _local(day, period.start, self._zone)
                next_day = day + timedelta(days=1) if period.end <= period.start else day
                hi = _local(next_day, period.end, self._zone)
                lo, hi = max(lo, start_s), min(hi, end_s)
                if lo < hi:
                    found.append((lo, hi))
            yield from _merged(found)
            day += timedelta(days=1)


def _local(day: date, clock: time, zone: tzinfo) -> float:
    # A wall-clock time skipped by a DST change (02:30 in spring) is read with the offset in
    # force before it (zoneinfo's fold=0): the instant is still in the right hour's neighbourhood.
    return datetime.combine(day, clock, tzinfo=zone).timestamp()


def _merged(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for lo, hi in sorted(intervals):
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def require_utc(value: datetime, field: str) -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused (its zone would be a guess)."""
    if not isinstance(value, datetime):
        raise ValidationError(f"expected a datetime, got {type(value).__name__}", field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("has no timezone; give UTC explicitly (e.g. ...Z)", field=field)
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """``[start, end)`` in UTC; with a ``schedule``, active only in its periods within it."""

    start: datetime
    end: datetime | None = None
    schedule: Schedule | None = None
    # epoch seconds, computed once: the engines compare windows as floats in their inner loops
    _start_s: float = field(init=False, repr=False, compare=False)
    _end_s: float = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", require_utc(self.start, "time_start"))
        if self.end is not None:
            object.__setattr__(self, "end", require_utc(self.end, "time_end"))
            if self.start >= self.end:
                raise ValidationError(
                    f"start {self.start.isoformat()} is not before end {self.end.isoformat()}",
                    field="time_start",
                )
        object.__setattr__(self, "_start_s", self.start.timestamp())
        object.__setattr__(self, "_end_s", math.inf if self.end is None else self.end.timestamp())

    @property
    def start_s(self) -> float:
        return self._start_s

    @property
    def end_s(self) -> float:
        """Epoch seconds of the end; +inf for a standing window."""
        return self._end_s

    def intervals(self, start_s: float, end_s: float) -> Iterator[tuple[float, float]]:
        """The active intervals of this window within ``[start_s, end_s)`` (epoch seconds)."""
        lo, hi = max(start_s, self._start_s), min(end_s, self._end_s)
        if lo >= hi:
            return iter(())
        if self.schedule is None:
            return iter(((lo, hi),))
        return self.schedule.intervals(lo, hi)


def time_overlap(a: TimeWindow, b: TimeWindow) -> TimeWindow | None:
    """The shared part of two half-open windows, or None (windows meeting end-to-start share nothing).

    With a schedule on either side, the first period both share (a window without a
    schedule): a plan at 20:00 local shares nothing with a zone active 08:00-18:00.
    """
    if a.start_s >= b.end_s or b.start_s >= a.end_s:
        return None
    if a.schedule is not None or b.schedule is not None:
        return _first_shared(a, b)
    first = a if a.start_s >= b.start_s else b  # the later start
    last = a if a.end_s <= b.end_s else b  # the earlier end
    # Both windows were validated (UTC, start before end) and the shared part was just found
    # non-empty: it is built without validating again (this runs once per conflict found).
    shared = object.__new__(TimeWindow)
    object.__setattr__(shared, "start", first.start)
    object.__setattr__(shared, "end", last.end)
    object.__setattr__(shared, "schedule", None)
    object.__setattr__(shared, "_start_s", first.start_s)
    object.__setattr__(shared, "_end_s", last.end_s)
    return shared


def _first_shared(a: TimeWindow, b: TimeWindow) -> TimeWindow | None:
    lo, hi = max(a.start_s, b.start_s), min(a.end_s, b.end_s)
    if math.isinf(hi):  # both standing: the joint weekly pattern repeats within the horizon
        hi = lo + SCHEDULE_HORIZON.total_seconds()
    other = list(b.intervals(lo, hi)) if b.schedule is None or not math.isinf(b.end_s) else None
    for a_lo, a_hi in a.intervals(lo, hi):
        for b_lo, b_hi in other if other is not None else b.intervals(a_lo, a_hi):
            start, end = max(a_lo, b_lo), min(a_hi, b_hi)
            if start < end:
                return TimeWindow(_instant(start, a, b), None if math.isinf(end) else _instant(end, a, b))
            if b_lo >= a_hi:
                break
    return None


def _instant(seconds: float, a: TimeWindow, b: TimeWindow) -> datetime:
    # a window's own bound is returned as given (no float round trip); a period's, from seconds
    for window in (a, b):
        if seconds == window.start_s:
            return window.start
        if window.end is not None and seconds == window.end_s:
            return window.end
    return datetime.fromtimestamp(seconds, UTC)
