"""domain.clock: the one spelling of milliseconds since the epoch, and of reading the clock."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truceline.domain.clock import EPOCH, from_ms, ms_text, to_ms, utc_now
from truceline.errors import ValidationError

SRC = Path(__file__).resolve().parents[2] / "src" / "truceline"
MAX_MS = to_ms(datetime.max.replace(tzinfo=UTC))  # the last millisecond a datetime holds

moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1), timezones=st.just(UTC)
)
offsets = st.integers(-14 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


@given(st.integers(0, MAX_MS))
def test_milliseconds_round_trip(ms: int) -> None:
    assert to_ms(from_ms(ms)) == ms
    assert from_ms(ms).tzinfo is UTC


@given(moments, offsets)
def test_to_ms_floors_and_ignores_the_zone_it_is_written_in(moment: datetime, zone: timezone) -> None:
    ms = to_ms(moment.astimezone(zone))
    assert ms == to_ms(moment)
    assert from_ms(ms) <= moment < from_ms(ms + 1)


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        to_ms(datetime(2017, 7, 10, 8))
    assert refused.value.field == "now"


def test_text_is_rfc3339_with_z() -> None:
    assert ms_text(None) is None
    assert ms_text(0) == "1970-01-01T00:00:00Z"
    assert ms_text(to_ms(datetime(2017, 7, 10, 8, tzinfo=UTC))) == "2017-07-10T08:00:00Z"
    assert ms_text(1499673600123) == "2017-07-10T08:00:00.123000Z"
    assert from_ms(0) == EPOCH


def test_utc_now_is_aware_utc() -> None:
    assert utc_now().tzinfo is UTC


# The spellings the time module replaced: the epoch built by hand, float seconds times 1000,
# the clock read directly.
_COPIES = re.compile(r"datetime\(1970, 1, 1|\.timestamp\(\) \* 1000|datetime\.now\(")


def test_no_module_but_the_clock_spells_epoch_milliseconds_or_reads_the_clock() -> None:
    spelled = sorted(
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if _COPIES.search(path.read_text(encoding="utf-8"))
    )
    assert spelled == ["domain/clock.py"]
