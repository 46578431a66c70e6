"""Live tracks in W84 (GNSS, OpenSky geoaltitude) against AMSL zones through the EGM96 model:
the zone's band is widened over its own bounds, so a track just over the ceiling's number is
still inside, and a zone from the ground (GND) holds a ground track with no altitude."""

from __future__ import annotations

import math
from datetime import UTC, datetime

from truceline.domain.track import Track, TrackBatch
from truceline.domain.zone import Zone, ZoneKind, ZoneRule
from truceline.engines.incursion import AltitudePolicy, detect_incursions
from truceline.geo.altitude import AltitudeBand, AltitudeModel, AltitudeReference
from truceline.geo.geoid import egm96
from truceline.geo.shapes import Circle
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D

W84, AMSL = AltitudeReference.W84, AltitudeReference.AMSL
DNIPRO = (35.05, 48.46)  # the geoid is about +20 m here
T0 = datetime(2026, 1, 1, tzinfo=UTC).timestamp()
POLICY = AltitudePolicy(conversions=AltitudeModel())


def zone(lower_m: float, upper_m: float) -> Zone:
    band = AltitudeBand(lower_m, upper_m, AMSL)
    volume = Volume4D(Circle(DNIPRO, 3_000.0), band, TimeWindow(datetime(2025, 1, 1, tzinfo=UTC)))
    return Zone("z", ZoneKind.NO_FLY, (volume,), ZoneRule(), party="red")


def track(alt_m: float, *, ground: bool = False) -> Track:
    return Track("t", "blue", T0, DNIPRO[1], DNIPRO[0], alt_m, W84, 0.0, 0.0, 0.0, ground)


def test_a_w84_track_over_an_amsl_ceiling_through_egm96():
    assert 19.5 < float(egm96().height_m(*DNIPRO)) < 20.5
    inside = detect_incursions(TrackBatch.from_tracks([track(510.0)]), [zone(0.0, 500.0)], policy=POLICY)
    assert len(inside) == 1 and bool(inside.inside_now[0])
    above = detect_incursions(TrackBatch.from_tracks([track(530.0)]), [zone(0.0, 500.0)], policy=POLICY)
    assert len(above) == 0


def test_a_ground_track_is_inside_a_zone_from_the_ground():
    grounded = track(math.nan, ground=True)
    found = detect_incursions(TrackBatch.from_tracks([grounded]), [zone(-math.inf, 500.0)], policy=POLICY)
    assert len(found) == 1
