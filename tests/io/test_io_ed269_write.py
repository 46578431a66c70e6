"""ED-269 written out: zones that fit it round-trip through read_ed269; the others are left
out with a warning that says why."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from io_documents import polygons

from shared_data import SHARED_DATA
from truceline.domain.activity import Activity
from truceline.domain.zone import Entry, Zone, ZoneKind, ZoneRule
from truceline.geo.altitude import (
    ISA_QNH_RANGE_HPA,
    PRESSURE_TEMPERATURE_MARGIN,
    AltitudeBand,
    AltitudeModel,
    AltitudeReference,
    pressure_to_amsl_m,
)
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
_uppers = st.sampled_from([120.0, 3000.5, float("inf")])
# 0 m AGL is read back as the ground itself (no lower limit: geo.altitude), so an AGL floor
# is drawn above it or unlimited; an AMSL floor of 0 is a real limit and stays.
bands = st.one_of(
    st.builds(AltitudeBand, st.sampled_from([30.48, float("-inf")]), _uppers, st.just(AltitudeReference.AGL)),
    st.builds(
        AltitudeBand, st.sampled_from([0.0, 30.48, float("-inf")]), _uppers, st.just(AltitudeReference.AMSL)
    ),
    # two references, one per limit (ED-269's lower/upperVerticalReference): either way round
    # (an unlimited limit has no reference: band_from_limits gives such a band one)
    st.builds(
        AltitudeBand, st.just(30.48), st.sampled_from([120.0, 3000.5]), st.just(AltitudeReference.AMSL),
        st.just(AltitudeReference.AGL),
    ),
    st.builds(
        AltitudeBand, st.sampled_from([0.0, 457.2]), st.just(120.0), st.just(AltitudeReference.AGL),
        st.just(AltitudeReference.AMSL),
    ),
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


def test_two_references_are_written_one_per_limit():
    band = AltitudeBand(30.48, 1500.0, AltitudeReference.AMSL, AltitudeReference.AGL)
    written = write_ed269([_zone(volumes=(Volume4D(Circle((6.1, 46.2), 500.0), band, TimeWindow(T0)),))])
    assert written.warnings == ()
    (airspace,) = written.document["UASZoneList"][0]["geometry"]
    assert (airspace["lowerLimit"], airspace["lowerVerticalReference"]) == (30.48, "AGL")
    assert (airspace["upperLimit"], airspace["upperVerticalReference"]) == (1500, "AMSL")
    (zone,) = read_ed269(json.dumps(written.document)).zones
    assert zone.volumes[0].altitude == band


FL95 = 9500 * 0.3048


def fl_zone(band: AltitudeBand) -> Zone:
    return _zone(volumes=(Volume4D(Circle((6.1, 46.2), 500.0), band, TimeWindow(T0)),))


def test_a_flight_level_without_a_model_leaves_the_zone_out_with_a_warning():
    written = write_ed269([fl_zone(AltitudeBand(-math.inf, FL95, AltitudeReference.FL)), _zone(id="OK")])
    assert [z["identifier"] for z in written.document["UASZoneList"]] == ["OK"]
    (warning,) = written.warnings
    assert warning.where == 'zone "Z1"' and warning.field == "altitude_reference"
    assert "FL95 is a flight level, not an ED-269 reference" in warning.message
    assert warning.message.endswith("the zone is left out")


@pytest.mark.parametrize(("qnh", "name"), [(None, "ISA"), (1020.0, "QNH 1020 hPa")])
def test_a_flight_level_is_converted_to_amsl_outward_with_a_warning(qnh, name):
    # AL 300 m AGL, AH FL95 (the commonest OpenAir ceiling): the AGL floor keeps its reference
    band = AltitudeBand(300.0, FL95, AltitudeReference.FL, AltitudeReference.AGL)
    written = write_ed269([fl_zone(band)], model=AltitudeModel(qnh_hpa=qnh))
    (airspace,) = written.document["UASZoneList"][0]["geometry"]
    assert (airspace["lowerLimit"], airspace["lowerVerticalReference"]) == (300, "AGL")
    assert airspace["upperVerticalReference"] == "AMSL"
    # the ceiling goes up: the highest QNH allowed for, then the temperature margin
    highest = qnh or ISA_QNH_RANGE_HPA[1]
    expected = pressure_to_amsl_m(FL95, highest) * (1 + PRESSURE_TEMPERATURE_MARGIN)
    assert airspace["upperLimit"] == pytest.approx(expected) and airspace["upperLimit"] > FL95
    (warning,) = written.warnings
    assert warning.field == "altitude_upper" and f"through {name}" in warning.message
    assert warning.message.startswith("FL95 is not an ED-269 reference: written as")
    # a flight-level floor goes down
    floor = write_ed269([fl_zone(AltitudeBand(FL95, math.inf, AltitudeReference.FL))], model=AltitudeModel())
    (airspace,) = floor.document["UASZoneList"][0]["geometry"]
    assert airspace["lowerLimit"] < FL95 and airspace["upperLimit"] is None
    assert airspace["lowerVerticalReference"] == airspace["upperVerticalReference"] == "AMSL"
