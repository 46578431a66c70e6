"""Zone incursions (now and predicted) and conformance to filed operations."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from pyproj import Geod

from truceline.domain.activity import Activity
from truceline.domain.operation import Operation
from truceline.domain.track import Track, TrackBatch
from truceline.domain.zone import Zone, ZoneKind, ZoneRule
from truceline.engines.conformance import check_conformance
from truceline.engines.incursion import AltitudePolicy, detect_incursions
from truceline.errors import AltitudeReferenceError
from truceline.geo.altitude import AltitudeBand, AltitudeReference, ReferenceConversions
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D

GEOD = Geod(ellps="WGS84")
LON0, LAT0 = 36.0, 33.0
T0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
AMSL = AltitudeReference.AMSL
ALWAYS = TimeWindow(datetime(2025, 1, 1, tzinfo=UTC))
PRESSURE_AS_AMSL = AltitudePolicy(pressure_as=AMSL)


def at(x_m: float, y_m: float) -> tuple[float, float]:
    lon, lat, _ = GEOD.fwd(LON0, LAT0, math.degrees(math.atan2(x_m, y_m)), math.hypot(x_m, y_m))
    return lon, lat


def trk(id_, x_m, y_m, alt_m, gs, heading, vs=0.0, *, party="blue", ground=False, ref=None, t=T0) -> Track:
    lon, lat = at(x_m, y_m)
    return Track(id_, party, t, lat, lon, alt_m, ref, gs, heading, vs, ground)


def circle_zone(zid="z", radius_m=10_000.0, band=(0.0, 5_000.0), window=ALWAYS, rule=None, party="red",
                ref=AMSL):
    vol = Volume4D(Circle(center=(LON0, LAT0), radius_m=radius_m), AltitudeBand(*band, ref), window)
    return Zone(zid, ZoneKind.NO_FLY, (vol,), rule or ZoneRule(), party=party)


def incursions(tracks, zones, **kw):
    kw.setdefault("policy", PRESSURE_AS_AMSL)
    return detect_incursions(TrackBatch.from_tracks(tracks), zones, **kw)


def test_inside_now():
    res = incursions([trk("a", 1000, 0, 3000, 200, 90)], [circle_zone()])
    assert res.track_id.tolist() == ["a"] and res.inside_now.tolist() == [True]
    assert res.entry_s.tolist() == [0.0]


def test_predicted_entry_time_to_a_few_metres():
    # 30 km south, heading north at 200 m/s: enters the 10 km circle after 20 km, at t = 100 s
    res = incursions([trk("a", 0, -30_000, 3000, 200, 0)], [circle_zone()])
    assert res.entry_s[0] == pytest.approx(100.0, abs=0.05)
    assert not res.inside_now[0]


def test_no_entry_beyond_the_lookahead_or_when_passing_by():
    assert len(incursions([trk("a", 0, -30_000, 3000, 200, 0)], [circle_zone()], lookahead_s=90)) == 0
    assert len(incursions([trk("b", 12_000, -30_000, 3000, 200, 0)], [circle_zone()])) == 0


def test_altitude_band_is_respected_including_climbs():
    zone = circle_zone(band=(0.0, 3000.0))
    assert len(incursions([trk("hi", 1000, 0, 4000, 200, 90)], [zone])) == 0
    # above the band but descending into it at 10 m/s: 100 s
    res = incursions([trk("dn", 0, 0, 4000, 0, 0, vs=-10.0)], [zone])
    assert res.entry_s[0] == pytest.approx(100.0)


def test_time_window_is_respected():
    later = TimeWindow(datetime.fromtimestamp(T0 + 200, UTC), datetime.fromtimestamp(T0 + 400, UTC))
    res = incursions([trk("a", 0, 0, 3000, 0, 0)], [circle_zone(window=later)])
    assert res.entry_s[0] == pytest.approx(200.0)
    over = TimeWindow(datetime.fromtimestamp(T0 - 400, UTC), datetime.fromtimestamp(T0, UTC))
    assert len(incursions([trk("a", 0, 0, 3000, 0, 0)], [circle_zone(window=over)])) == 0


def test_rule_selects_party_and_activity():
    others = circle_zone(rule=ZoneRule(restricts="others"), party="blue")
    assert len(incursions([trk("own", 0, 0, 3000, 0, 0, party="blue")], [others])) == 0
    assert len(incursions([trk("foe", 0, 0, 3000, 0, 0, party="red")], [others])) == 1
    air_only = circle_zone(rule=ZoneRule(activity=Activity.AIR))
    assert len(incursions([trk("car", 0, 0, 10.0, 5, 0, ground=True)], [air_only])) == 0


def test_polygon_entry():
    ring = [at(-5000, -5000), at(5000, -5000), at(5000, 5000), at(-5000, 5000)]
    vol = Volume4D(Polygon((*ring, ring[0])), AltitudeBand(0, 5000, AMSL), ALWAYS)
    zone = Zone("sq", ZoneKind.NO_FLY, (vol,))
    res = incursions([trk("a", -20_000, 0, 1000, 100, 90)], [zone])
    assert res.entry_s[0] == pytest.approx(150.0, abs=0.1)


def test_pressure_altitude_needs_an_explicit_stand_in():
    with pytest.raises(AltitudeReferenceError):
        detect_incursions(TrackBatch.from_tracks([trk("a", 0, 0, 3000, 0, 0)]), [circle_zone()])


def test_references_are_converted_only_when_configured():
    w84_track = trk("g", 0, 0, 3000, 0, 0, ref=AltitudeReference.W84)
    with pytest.raises(AltitudeReferenceError):
        incursions([w84_track], [circle_zone(band=(0, 2990))])
    conv = ReferenceConversions({(AMSL, AltitudeReference.W84): 20.0})  # geoid 20 m above ellipsoid
    policy = AltitudePolicy(conversions=conv)
    assert len(incursions([w84_track], [circle_zone(band=(0, 2990))], policy=policy)) == 1
    assert len(incursions([w84_track], [circle_zone(band=(0, 2970))], policy=policy)) == 0


def operation(party="blue", activity=Activity.AIR, band=(0.0, 1000.0), radius_m=5000.0, window=ALWAYS):
    vol = Volume4D(Circle(center=(LON0, LAT0), radius_m=radius_m), AltitudeBand(*band, AMSL), window)
    return Operation("op1", party, activity, (vol,))


def test_conforming_track_is_not_flagged():
    res = check_conformance(TrackBatch.from_tracks([trk("a", 1000, 0, 500, 50, 0)]), [operation()],
                            policy=PRESSURE_AS_AMSL)
    assert len(res) == 0


def test_non_conforming_track_says_how_far():
    tracks = [trk("out", 8000, 0, 1500, 50, 0), trk("other", 9000, 0, 500, 50, 0, party="green")]
    res = check_conformance(TrackBatch.from_tracks(tracks), [operation()], policy=PRESSURE_AS_AMSL)
    assert res.track_id.tolist() == ["out"]  # green filed nothing: not judged
    assert res.operation_id.tolist() == ["op1"]
    assert res.horizontal_m[0] == pytest.approx(3000.0, abs=1.0)
    assert res.vertical_m[0] == pytest.approx(500.0)
    assert res.time_s[0] == 0.0


def test_non_conforming_in_time():
    window = TimeWindow(datetime.fromtimestamp(T0 + 60, UTC), datetime.fromtimestamp(T0 + 600, UTC))
    res = check_conformance(TrackBatch.from_tracks([trk("early", 0, 0, 500, 50, 0)]),
                            [operation(window=window)], policy=PRESSURE_AS_AMSL)
    assert res.time_s.tolist() == [60.0] and res.horizontal_m[0] == 0.0


def test_a_zone_schedule_is_honoured_for_live_tracks():
    from datetime import time

    from truceline.geo.timewindow import DailyPeriod, Schedule

    # 2026-01-01 is a Thursday; the zone is active 00:02-00:10 UTC every day
    early = Schedule("UTC", (DailyPeriod(frozenset(range(7)), time(0, 2), time(0, 10)),))
    zone = circle_zone(window=TimeWindow(datetime(2025, 1, 1, tzinfo=UTC), None, early))
    inside = trk("a", 0, 0, 3000, 0, 0)  # at 00:00:00, parked inside the circle
    res = incursions([inside], [zone])
    assert res.entry_s.tolist() == [120.0] and res.inside_now.tolist() == [False]
    assert incursions([trk("b", 0, 0, 3000, 0, 0, t=T0 + 200)], [zone]).inside_now.tolist() == [True]
    # after the period, and the next one beyond the look-ahead: nothing
    assert len(incursions([trk("c", 0, 0, 3000, 0, 0, t=T0 + 700)], [zone])) == 0
