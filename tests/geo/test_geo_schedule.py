"""Weekly schedules (ED-269 daily periods) on time windows, against a brute-force minute
scan in the zone's local time (zoneinfo), across DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.codec import volume_from_record, volume_to_record
from truceline.errors import ValidationError
from truceline.geo.altitude import AltitudeBand
from truceline.geo.shapes import Circle
from truceline.geo.timewindow import DailyPeriod, Schedule, TimeWindow, time_overlap
from truceline.geo.volume import Volume4D

ZONES = ["Europe/Zurich", "America/New_York", "Australia/Sydney", "UTC", "+03:00"]
# around the 2026 changes: Europe 29 March / 25 October, US 8 March, Sydney 5 April
BASE = datetime(2026, 3, 6, tzinfo=UTC)


def _active(schedule: Schedule, moment: datetime) -> bool:
    """Brute force: is ``moment`` inside one of the periods, read in local time?"""
    zone = ZoneInfo(schedule.time_zone) if "/" in schedule.time_zone else None
    if schedule.time_zone == "UTC":
        zone = UTC
    elif zone is None:
        sign = 1 if schedule.time_zone[0] == "+" else -1
        from datetime import timezone

        hours, minutes = int(schedule.time_zone[1:3]), int(schedule.time_zone[4:])
        zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
    for back in (0, 1):  # today's periods, and yesterday's that run past midnight
        day = moment.astimezone(zone).date() - timedelta(days=back)
        for p in schedule.periods:
            if day.weekday() not in p.days:
                continue
            start = datetime.combine(day, p.start, tzinfo=zone)
            end_day = day + timedelta(days=1) if p.end <= p.start else day
            end = datetime.combine(end_day, p.end, tzinfo=zone)
            if start.timestamp() <= moment.timestamp() < end.timestamp():
                return True
    return False


times_of_day = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45]))
periods = st.builds(DailyPeriod, st.frozensets(st.integers(0, 6), min_size=1), times_of_day, times_of_day)
schedules = st.builds(Schedule, st.sampled_from(ZONES), st.lists(periods, min_size=1, max_size=3).map(tuple))


@settings(max_examples=60, deadline=None)
@given(schedules, st.integers(0, 60 * 24 * 70), st.integers(1, 60 * 30), st.integers(0, 3))
def test_the_overlap_is_the_first_active_minute_of_a_brute_force_scan(
    schedule: Schedule, offset_min: int, length_min: int, zone_start_day: int
) -> None:
    plan_start = BASE + timedelta(minutes=5 * (offset_min // 5))
    plan = TimeWindow(plan_start, plan_start + timedelta(minutes=length_min))
    zone = TimeWindow(BASE + timedelta(days=zone_start_day), None, schedule)
    # every period boundary is on a quarter hour, so minutes find the first shared instant
    minute = plan.start
    first = None
    while minute < plan.end:
        if minute >= zone.start and _active(schedule, minute):
            first = minute
            break
        minute += timedelta(minutes=1)
    shared = time_overlap(plan, zone)
    assert (shared is None) == (first is None)
    assert time_overlap(zone, plan) == shared
    if shared is not None:
        assert shared.start == first
        assert shared.schedule is None and plan.start <= shared.start < shared.end <= plan.end
        assert _active(schedule, shared.end - timedelta(minutes=1))


def test_dst_moves_the_utc_hours_of_a_local_schedule():
    weekdays = Schedule("Europe/Zurich", (DailyPeriod(frozenset(range(5)), time(8), time(18)),))
    zone = TimeWindow(BASE, None, weekdays)
    friday = TimeWindow(datetime(2026, 3, 27, 6, 30, tzinfo=UTC), datetime(2026, 3, 27, 7, 30, tzinfo=UTC))
    monday = TimeWindow(datetime(2026, 3, 30, 6, 30, tzinfo=UTC), datetime(2026, 3, 30, 7, 30, tzinfo=UTC))
    # 08:00 CET is 07:00Z on Friday; 08:00 CEST is 06:00Z on Monday
    assert time_overlap(friday, zone).start == datetime(2026, 3, 27, 7, tzinfo=UTC)
    assert time_overlap(monday, zone).start == monday.start


def test_two_standing_windows_with_schedules_meet_within_the_horizon():
    a = TimeWindow(BASE, None, Schedule("UTC", (DailyPeriod(frozenset({0}), time(8), time(9)),)))
    b = TimeWindow(BASE, None, Schedule("UTC", (DailyPeriod(frozenset({0}), time(8, 30), time(10)),)))
    c = TimeWindow(BASE, None, Schedule("UTC", (DailyPeriod(frozenset({1}), time(8), time(9)),)))
    shared = time_overlap(a, b)
    assert shared is not None and shared.end - shared.start == timedelta(minutes=30)
    assert time_overlap(a, c) is None


def test_a_scheduled_volume_round_trips_through_its_record():
    schedule = Schedule("Europe/Zurich", (DailyPeriod(frozenset({0, 4}), time(8), time(0)),))
    volume = Volume4D(Circle((6.1, 46.2), 500.0), AltitudeBand(0, 120), TimeWindow(BASE, None, schedule))
    record = volume_to_record(volume)
    assert record["schedule"] == {
        "time_zone": "Europe/Zurich", "periods": [{"days": ["MON", "FRI"], "start": "08:00", "end": "00:00"}]
    }  # fmt: skip
    assert volume_from_record(record) == volume
    plain = Volume4D(volume.shape, volume.altitude, TimeWindow(BASE))
    assert "schedule" not in volume_to_record(plain)  # unscheduled records are unchanged


def test_bad_schedules_are_refused():
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        Schedule("Europe/Atlantis", (DailyPeriod(frozenset({0}), time(8), time(9)),))
    with pytest.raises(ValidationError, match="at least one daily period"):
        Schedule("UTC", ())
    with pytest.raises(ValidationError, match=r"non-empty set of 0\.\.6"):
        DailyPeriod(frozenset({7}), time(8), time(9))
