"""ED-269 written out: zones that fit it round-trip through read_ed269; the others are left
out with a warning that says why."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from io_documents import polygons

from shared_data import SHARED_DATA
from truceline.domain.activity import Activity
from truceline.domain.zone import Entry, Zone, ZoneKind, ZoneRule
from truceline.geo.altitude import AltitudeBand, AltitudeReference
from truceline.geo.shapes import Circle
from truceline.geo.timewindow import DailyPeriod, Schedule, TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.ed269 import PERMANENT_START, read_ed269, write_ed269

SWISS = SHARED_DATA / "zones" / "cis_source_sample_ed269.json"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_the_real_sample_round_trips():
    zones = read_ed269(SWISS).zones
    written = write_ed269(zones)
    assert written.warnings == ()
    text = json.dumps(written.document)
    assert read_ed269(text).zones == zones
    (item,) = written.document["UASZoneList"]
    assert item["applicability"] == [{"permanent": "YES", "startDateTime": None, "endDateTime": None}]
    (airspace,) = item["geometry"]
    assert airspace["lowerVerticalReference"] == "AGL" and airspace["upperLimit"] is None


schedules = st.sampled_from([
    None,
    Schedule("UTC", (DailyPeriod(frozenset({0, 4}), time(8), time(12)),)),
    Schedule("+03:00", (DailyPeriod(frozenset(range(7)), time(22), time(6)),)),
    Schedule("Europe/Zurich", (DailyPeriod(frozenset(range(5)), time(8), time(18)),
                               DailyPeriod(frozenset({5}), time(9), time(12)))),
])  # fmt: skip
windows = st.builds(
    TimeWindow,
    st.sampled_from([PERMANENT_START, T0]),
    st.sampled_from([None, datetime(2026, 4, 1, tzinfo=UTC)]),
    schedules,
)
shapes = st.one_of(polygons(), st.builds(Circle, st.just((6.1, 46.2)), st.integers(10, 50_000).map(float)))
bands = st.builds(
    AltitudeBand,
    st.sampled_from([0.0, 30.48, float("-inf")]),
    st.sampled_from([120.0, 3000.5, float("inf")]),
    st.sampled_from([AltitudeReference.AGL, AltitudeReference.AMSL]),
)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(st.tuples(shapes, bands), min_size=1, max_size=3, unique=True),
    st.lists(windows, min_size=1, max_size=2, unique=True),
    st.sampled_from([(ZoneKind.NO_FLY, Entry.FORBIDDEN), (ZoneKind.DECONFLICTION, Entry.NOTICE)]),
)
def test_zones_that_fit_round_trip(airspaces, periods, kind_entry):
    kind, entry = kind_entry
    volumes = tuple(Volume4D(s, b, w) for s, b in airspaces for w in periods)
    zone = Zone("LSZ01", kind, volumes, ZoneRule("all", Activity.AIR, entry), None, "Zone")
    written = write_ed269([zone])
    assert written.warnings == ()
    assert read_ed269(json.dumps(written.document)).zones == (zone,)


def _zone(**changes) -> Zone:
    volume = Volume4D(Circle((6.1, 46.2), 500.0), AltitudeBand(0, 120), TimeWindow(T0))
    rule = ZoneRule("all", Activity.AIR)
    fields = {"id": "Z1", "kind": ZoneKind.NO_FLY, "volumes": (volume,), "rule": rule}
    fields.update(changes)
    return Zone(**fields)


@pytest.mark.parametrize(
    ("zone", "field", "message"),
    [
        (_zone(rule=ZoneRule("others", Activity.AIR), party="A"), "restricts", 'restricts "others"'),
        (_zone(rule=ZoneRule("all", Activity.GROUND)), "activity", "ground activity"),
        (_zone(volumes=(Volume4D(Circle((6.1, 46.2), 5.0), AltitudeBand(0, 1, AltitudeReference.W84),
                                 TimeWindow(T0)),)),
         "altitude_reference", "W84: ED-269 limits are AGL or AMSL"),
        (_zone(volumes=(Volume4D(Circle((6.1, 46.2), 5.0), AltitudeBand(0, 1), TimeWindow(T0)),
                        Volume4D(Circle((6.2, 46.2), 5.0), AltitudeBand(0, 1), TimeWindow(PERMANENT_START)))),
         "volumes", "not every shape in every time window"),
    ],
)  # fmt: skip
def test_zones_that_do_not_fit_are_left_out_with_a_warning(zone: Zone, field: str, message: str):
    written = write_ed269([zone, _zone(id="OK")])
    assert [z["identifier"] for z in written.document["UASZoneList"]] == ["OK"]
    (warning,) = written.warnings
    assert warning.where == 'zone "Z1"' and warning.field == field
    assert message in warning.message and warning.message.endswith("the zone is left out")


def test_what_ed269_cannot_say_is_warned_of_but_written():
    zone = _zone(id="LONG-IDENT", kind=ZoneKind.DE_ESCALATION, rule=ZoneRule("all", Activity.ANY))
    written = write_ed269([zone])
    assert len(written.document["UASZoneList"]) == 1
    assert [w.field for w in written.warnings] == ["activity", "kind", "identifier"]
