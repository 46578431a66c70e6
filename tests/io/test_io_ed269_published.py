"""ED-269 as authorities publish it: daily schedules honoured in the zone's time zone,
NO_RESTRICTION zones that never block a file, duplicate identifiers, and the warnings of
what ED-269 requires but a file leaves out."""

from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from io_documents import SQUARE, ed269_zone

from shared_data import SHARED_DATA
from truceline.domain.activity import Activity
from truceline.domain.operation import Operation
from truceline.engines.strategic import find_conflicts
from truceline.errors import TrucelineError
from truceline.geo.altitude import AltitudeBand
from truceline.geo.shapes import Polygon
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.ed269 import read_ed269

SWISS = SHARED_DATA / "zones" / "cis_source_sample_ed269.json"
WEEKDAYS = ["MON", "TUE", "WED", "THU", "FRI"]


def doc(*zones: dict) -> dict:
    return {"UASZoneList": list(zones)}


def office_hours(start: str = "08:00", end: str = "18:00", **extended: str) -> dict:
    """A standing zone active on weekdays from ``start`` to ``end`` (times as written)."""
    period = {"permanent": "YES", "dailyPeriod": [{"day": WEEKDAYS, "startTime": start, "endTime": end}]}
    zone = ed269_zone("OFFICE", applicability=[period])
    if extended:
        zone["extendedProperties"] = extended
    return zone


def plan_at(start: datetime, minutes: int = 30) -> Operation:
    end = datetime.fromtimestamp(start.timestamp() + 60 * minutes, UTC)
    ring = tuple((lon, lat) for lon, lat in SQUARE)
    volume = Volume4D(Polygon(ring), AltitudeBand(100, 200), TimeWindow(start, end))
    return Operation("p", "B", Activity.AIR, (volume,))


def conflicts(zone_doc: dict, start: datetime, **kwargs: str) -> list:
    zones = read_ed269(zone_doc, **kwargs).zones
    return find_conflicts(zones, [plan_at(start)])


def test_the_real_swiss_sample_reads_without_warnings():
    features = read_ed269(SWISS)
    (zone,) = features.zones
    assert zone.id == "LSXX" and features.warnings == ()
    # its daily period has no days and null times: no daily restriction
    assert zone.volumes[0].time.schedule is None


# 2026-03-27 is a Friday in CET (UTC+1); Europe/Zurich moves to CEST (UTC+2) on Sunday
# 2026-03-29, so Monday 2026-03-30 08:00 local is 06:00Z.
@pytest.mark.parametrize(
    ("utc", "expected"),
    [
        (datetime(2026, 3, 27, 8, 0, tzinfo=UTC), True),  # Fri 09:00 CET
        (datetime(2026, 3, 27, 19, 0, tzinfo=UTC), False),  # Fri 20:00 CET
        (datetime(2026, 3, 27, 16, 30, tzinfo=UTC), True),  # Fri 17:30 CET
        (datetime(2026, 3, 28, 8, 0, tzinfo=UTC), False),  # Sat 09:00 CET
        (datetime(2026, 3, 30, 7, 0, tzinfo=UTC), True),  # Mon 09:00 CEST
        (datetime(2026, 3, 30, 18, 0, tzinfo=UTC), False),  # Mon 20:00 CEST
        (datetime(2026, 3, 30, 16, 30, tzinfo=UTC), False),  # Mon 18:30 CEST (17:30 CET would be in)
        (datetime(2026, 3, 30, 5, 45, tzinfo=UTC), True),  # Mon 07:45-08:15 CEST: its last 15 min
    ],
)
def test_a_weekday_schedule_in_local_time_across_the_dst_change(utc: datetime, expected: bool):
    zone = doc(office_hours(timeZone="Europe/Zurich"))
    assert bool(conflicts(zone, utc)) is expected
    # the reader's time_zone gives the same zone when the file names none
    assert bool(conflicts(doc(office_hours()), utc, time_zone="Europe/Zurich")) is expected


def test_the_conflict_reports_the_shared_period():
    found = conflicts(doc(office_hours(timeZone="Europe/Zurich")), datetime(2026, 3, 30, 5, 45, tzinfo=UTC))
    (conflict,) = found
    assert conflict.overlap.time == TimeWindow(
        datetime(2026, 3, 30, 6, 0, tzinfo=UTC), datetime(2026, 3, 30, 6, 15, tzinfo=UTC)
    )


def test_utc_and_offset_times_are_read_as_written():
    monday_0830z = datetime(2026, 3, 30, 8, 30, tzinfo=UTC)
    assert conflicts(doc(office_hours("08:00:00.00Z", "18:00:00.00Z")), monday_0830z)
    assert not conflicts(doc(office_hours("09:00Z", "18:00Z")), monday_0830z)
    # +01:00 is a fixed offset: 08:00+01:00 is 07:00Z, DST or not
    assert conflicts(doc(office_hours("08:00+01:00", "09:00+01:00")), datetime(2026, 3, 30, 7, tzinfo=UTC))


def test_a_period_past_midnight_and_any_day():
    night = ed269_zone("NIGHT", applicability=[
        {"permanent": "YES", "dailyPeriod": [{"day": ["ANY"], "startTime": "22:00Z", "endTime": "06:00Z"}]}
    ])  # fmt: skip
    assert conflicts(doc(night), datetime(2026, 3, 29, 3, 0, tzinfo=UTC))
    assert conflicts(doc(night), datetime(2026, 3, 29, 23, 0, tzinfo=UTC))
    assert not conflicts(doc(night), datetime(2026, 3, 29, 12, 0, tzinfo=UTC))


def test_the_schedule_stays_within_the_applicability_window():
    zone = office_hours("08:00Z", "18:00Z")
    zone["applicability"][0].update(
        permanent="NO", startDateTime="2026-03-30T00:00:00Z", endDateTime="2026-03-31T00:00:00Z"
    )
    assert conflicts(doc(zone), datetime(2026, 3, 30, 9, tzinfo=UTC))
    assert not conflicts(doc(zone), datetime(2026, 3, 31, 9, tzinfo=UTC))  # Tuesday, after the end


@pytest.mark.parametrize(
    ("period", "kwargs", "message"),
    [
        ({"day": WEEKDAYS, "startTime": "08:00", "endTime": "18:00"}, {},
         'applicability[0].dailyPeriod[0].startTime: "08:00" has no offset: a local time needs the zone\'s'),
        ({"day": ["MON"], "startTime": "08:00Z", "endTime": "18:00+01:00"}, {},
         "applicability[0].dailyPeriod[0].endTime: is in time zone +01:00, but"),
        ({"day": ["MOON"], "startTime": "08:00Z", "endTime": "18:00Z"}, {},
         'applicability[0].dailyPeriod[0].day[0]: "MOON" is not one of: MON'),
        ({"day": [], "startTime": "08:00Z", "endTime": "18:00Z"}, {},
         "applicability[0].dailyPeriod[0].day: must list at least one day"),
        ({"day": ["MON"], "startTime": "8 am", "endTime": "18:00Z"}, {},
         'applicability[0].dailyPeriod[0].startTime: must be a time of day such as "08:00Z"'),
        ({"day": ["MON"], "startTime": "25:00Z", "endTime": "18:00Z"}, {},
         'applicability[0].dailyPeriod[0].startTime: "25:00Z" is not a time of day'),
        ({"day": ["MON"], "startTime": "08:00", "endTime": "18:00"}, {"time_zone": "Mars/Olympus"},
         "'Mars/Olympus' is not an IANA time zone"),
    ],
)  # fmt: skip
def test_schedule_errors_name_the_field(period: dict, kwargs: dict, message: str):
    zone = ed269_zone(applicability=[{"permanent": "YES", "dailyPeriod": [period]}])
    with pytest.raises(TrucelineError) as info:
        read_ed269(doc(zone), source="z.json", **kwargs)
    assert message in str(info.value)
    assert str(info.value).startswith('z.json: zone 0 (identifier "SYR01")')


def test_an_unknown_zone_time_zone_is_an_error_naming_it():
    with pytest.raises(TrucelineError, match=r"extendedProperties\.timeZone: 'Nowhere/City' is not an IANA"):
        read_ed269(doc(office_hours(timeZone="Nowhere/City")))


def test_a_no_restriction_zone_never_blocks_the_file():
    broken = ed269_zone("FREE", restriction="NO_RESTRICTION", geometry=[{"nonsense": True}], applicability=7)
    features = read_ed269(doc(broken, ed269_zone("A")), source="z.json")
    assert [z.id for z in features.zones] == ["A"]
    (warning,) = features.warnings
    assert str(warning) == (
        'z.json: zone 0 (identifier "FREE"): restriction: NO_RESTRICTION restricts nothing;'
        " the zone is skipped"
    )
    # even one with a repeated identifier: it is not read at all
    again = read_ed269(doc(ed269_zone("A"), ed269_zone("A", restriction="NO_RESTRICTION")))
    assert [z.id for z in again.zones] == ["A"]


def test_duplicate_identifiers_name_both_zones():
    first, second = ed269_zone("LSXX", name="Geneva"), ed269_zone("LSXX", name="Lausanne")
    with pytest.raises(TrucelineError) as info:
        read_ed269(doc(first, ed269_zone("B"), second), source="z.json")
    assert str(info.value) == (
        'z.json: zone 2 (identifier "LSXX"): identifier: "LSXX" is used by two zones: zone 0 (name "Geneva")'
        ' and zone 2 (name "Lausanne"); identifiers must be unique'
    )


def test_long_identifiers_and_a_missing_authority_are_warnings():
    zone = ed269_zone("LS-TOO-LONG")
    del zone["zoneAuthority"]
    features = read_ed269(doc(zone), source="z.json")
    assert [z.id for z in features.zones] == ["LS-TOO-LONG"]  # read as given
    assert [(w.field, w.message) for w in features.warnings] == [
        ("identifier", "is 11 characters long; ED-269 allows 7 (read as given)"),
        ("zoneAuthority", "is missing: ED-269 requires the zone's authority"),
    ]
    seven = ed269_zone("ABCDEFG")
    assert read_ed269(doc(seven)).warnings == ()
    empty = copy.deepcopy(seven)
    empty["zoneAuthority"] = []
    assert [w.field for w in read_ed269(doc(empty)).warnings] == ["zoneAuthority"]
