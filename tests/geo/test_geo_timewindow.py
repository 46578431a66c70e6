"""Half-open time windows: the shared part of two windows."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from truceline.geo.timewindow import TimeWindow, time_overlap

T0 = datetime(2027, 3, 1, tzinfo=UTC)


@st.composite
def windows(draw: st.DrawFn) -> TimeWindow:
    start = T0 + timedelta(minutes=draw(st.integers(0, 600)))
    length = draw(st.one_of(st.none(), st.integers(1, 600)))
    return TimeWindow(start, None if length is None else start + timedelta(minutes=length))


@given(windows(), windows())
def test_time_overlap_is_the_later_start_to_the_earlier_end(a, b):
    start = max(a.start, b.start)
    ends = [e for e in (a.end, b.end) if e is not None]
    end = min(ends) if ends else None
    shared = time_overlap(a, b)
    if end is not None and start >= end:  # meeting end-to-start shares nothing
        assert shared is None
        return
    assert shared == TimeWindow(start, end) == time_overlap(b, a)
    assert shared.start_s == start.timestamp()
    assert shared.end_s == (math.inf if end is None else end.timestamp())
