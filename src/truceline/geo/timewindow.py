"""Half-open UTC time windows ``[start, end)``; ``end`` None is a standing (open) window."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime

from truceline.errors import ValidationError


def require_utc(value: datetime, field: str) -> datetime:
    """Return ``value`` in UTC; a naive datetime is refused (its zone would be a guess)."""
    if not isinstance(value, datetime):
        raise ValidationError(f"expected a datetime, got {type(value).__name__}", field=field)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValidationError("has no timezone; give UTC explicitly (e.g. ...Z)", field=field)
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class TimeWindow:
    start: datetime
    end: datetime | None = None
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


def time_overlap(a: TimeWindow, b: TimeWindow) -> TimeWindow | None:
    """The shared part of two half-open windows, or None (windows meeting end-to-start share nothing)."""
    if a.start_s >= b.end_s or b.start_s >= a.end_s:
        return None
    first = a if a.start_s >= b.start_s else b  # the later start
    last = a if a.end_s <= b.end_s else b  # the earlier end
    # Both windows were validated (UTC, start before end) and the shared part was just found
    # non-empty: it is built without validating again (this runs once per conflict found).
    shared = object.__new__(TimeWindow)
    object.__setattr__(shared, "start", first.start)
    object.__setattr__(shared, "end", last.end)
    object.__setattr__(shared, "_start_s", first.start_s)
    object.__setattr__(shared, "_end_s", last.end_s)
    return shared
