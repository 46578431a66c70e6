"""Time as Truceline spells it: timezone-aware UTC ``datetime`` at the edges, integer
milliseconds since the Unix epoch in the ledger (``time_ms``), the store (``*_ms``
columns) and UUIDv7 ids, RFC 3339 text with ``Z`` in JSON.

The one place these conversions are written. The system clock is read through
``utc_now`` only where a process starts (the CLI, the server) and is injected from there
as a ``Clock`` (DESIGN.md: no code reads the clock except through an injected clock).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import overload

from truceline.errors import ValidationError

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The system clock, in UTC: the ``Clock`` a command or a server is given."""
    return datetime.now(UTC)


def to_ms(moment: datetime) -> int:
    """Integer milliseconds since the Unix epoch (floor), exact (no float on the way).
    Requires a timezone-aware datetime: a naive one would be read in the machine's zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValidationError("must be timezone-aware (UTC)", field="now")
    return (moment - EPOCH) // _MS


def from_ms(ms: int) -> datetime:
    """The UTC instant ``ms`` milliseconds after the Unix epoch."""
    return EPOCH + timedelta(milliseconds=ms)


def to_epoch_s(moment: datetime) -> float:
    """Epoch seconds (float64), the time of the engines' arrays (track states), via ``to_ms``."""
    return to_ms(moment) / 1000.0


def from_epoch_s(seconds: float) -> datetime:
    """The UTC instant of epoch seconds ``seconds``, to the millisecond (rounded)."""
    return from_ms(round(seconds * 1000.0))


@overload
def ms_text(ms: int) -> str: ...
@overload
def ms_text(ms: None) -> None: ...
@overload
def ms_text(ms: int | None) -> str | None: ...


def ms_text(ms: int | None) -> str | None:
    """``ms`` as RFC 3339 in UTC with ``Z`` (``2017-07-10T08:00:00Z``, milliseconds shown
    when there are any); None stays None (an open end, no deadline)."""
    if ms is None:
        return None
    return from_ms(ms).isoformat().replace("+00:00", "Z")
