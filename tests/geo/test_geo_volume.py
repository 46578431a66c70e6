"""4D overlap: time, altitude (with references and units), then the shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from geo_strategies import nearby_pairs, square
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.errors import AltitudeReferenceError
from truceline.geo.altitude import AltitudeBand, AltitudeReference, ReferenceConversions, to_metres
from truceline.geo.shapes import Circle
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Overlap, Volume4D, intersects, overlap

T0 = datetime(2026, 3, 1, 6, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
SQ = square(36.0, 33.0, 0.1)
BAND = AltitudeBand(0.0, 1000.0)
WINDOW = TimeWindow(T0, T0 + 2 * HOUR)


def vol(shape=SQ, band=BAND, window=WINDOW) -> Volume4D:
    return Volume4D(shape, band, window)


def test_full_overlap_reports_time_band_and_area():
    a = vol()
    b = vol(square(36.05, 33.0, 0.1), AltitudeBand(500.0, 3000.0), TimeWindow(T0 + HOUR, T0 + 5 * HOUR))
    o = overlap(a, b)
    assert isinstance(o, Overlap)
    assert o.time == TimeWindow(T0 + HOUR, T0 + 2 * HOUR)
    assert o.altitude == AltitudeBand(500.0, 1000.0)
    assert o.area_m2 == pytest.approx(51.79e6, rel=1e-3)  # half of the 0.1° square
    assert intersects(a, b) and intersects(b, a)


def test_time_windows_meeting_end_to_start_do_not_conflict():
    b = vol(window=TimeWindow(T0 + 2 * HOUR, T0 + 3 * HOUR))
    assert overlap(vol(), b) is None and not intersects(b, vol())
    c = vol(window=TimeWindow(T0 + 2 * HOUR - timedelta(seconds=1), T0 + 3 * HOUR))
    assert overlap(vol(), c) is not None


def test_standing_window_overlaps_everything_after_its_start():
    standing = vol(window=TimeWindow(T0))
    later = vol(window=TimeWindow(T0 + 1000 * HOUR, T0 + 1001 * HOUR))
    o = overlap(standing, later)
    assert o is not None and o.time == later.time
    before = vol(window=TimeWindow(T0 - 2 * HOUR, T0))
    assert overlap(standing, before) is None


def test_altitude_bands_sharing_only_a_boundary_do_not_conflict():
    assert overlap(vol(), vol(band=AltitudeBand(1000.0, 2000.0))) is None
    assert overlap(vol(), vol(band=AltitudeBand(999.0, 2000.0))) is not None


def test_feet_and_metres():
    # 1,000 ft is 304.8 m exactly: a band from 1,000 ft only touches one up to 304.8 m
    low = vol(band=AltitudeBand(0.0, 304.8))
    high = vol(band=AltitudeBand(to_metres(1000, "ft"), to_metres(5000, "ft")))
    assert overlap(low, high) is None
    higher_low = vol(band=AltitudeBand(0.0, 305.0))
    o = overlap(higher_low, high)
    assert o is not None and o.altitude.lower_m == pytest.approx(304.8)


def test_mixed_references_raise_even_when_times_do_not_meet():
    agl = vol(band=AltitudeBand(0.0, 100.0, AltitudeReference.AGL))
    with pytest.raises(AltitudeReferenceError):
        overlap(vol(), agl)
    with pytest.raises(AltitudeReferenceError):
        intersects(agl, vol())
    far_in_time = Volume4D(SQ, AltitudeBand(0.0, 100.0, "AGL"), TimeWindow(T0 + 100 * HOUR, T0 + 101 * HOUR))
    with pytest.raises(AltitudeReferenceError):
        overlap(vol(), far_in_time)


def test_mixed_references_with_a_conversion():
    conv = ReferenceConversions({(AltitudeReference.AGL, AltitudeReference.AMSL): 400.0})
    agl = vol(band=AltitudeBand(0.0, 100.0, AltitudeReference.AGL))  # 400-500 m AMSL
    o = overlap(vol(), agl, conv)
    assert o is not None and o.altitude == AltitudeBand(400.0, 500.0)
    assert overlap(vol(band=AltitudeBand(0.0, 400.0)), agl, conv) is None


def test_touching_shapes_do_not_conflict_in_4d():
    assert overlap(vol(), vol(square(36.1, 33.0, 0.1))) is None
    assert overlap(vol(), vol(Circle((36.05, 33.05), 300.0))) is not None


@settings(max_examples=40, deadline=None)
@given(nearby_pairs(), st.integers(0, 3), st.integers(0, 3))
def test_overlap_is_symmetric(pair, dt_h, dz):
    a = Volume4D(pair[0], AltitudeBand(0.0, 300.0), TimeWindow(T0, T0 + 2 * HOUR))
    b = Volume4D(
        pair[1], AltitudeBand(100.0 * dz, 100.0 * dz + 150.0), TimeWindow(T0 + dt_h * HOUR, T0 + 9 * HOUR)
    )
    ab, ba = overlap(a, b), overlap(b, a)
    assert (ab is None) == (ba is None) == (not intersects(a, b))
    if ab is not None and ba is not None:
        assert ab.time == ba.time and ab.altitude == ba.altitude
        assert ab.area_m2 == pytest.approx(ba.area_m2, rel=1e-6, abs=1e-3)
