"""Altitude references converted (geo.altitude): EGM96 for W84/AMSL, pressure for FL, the ground
for GND/SFC, per-limit references; every conversion widens a band, never narrows it."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.codec import volume_from_record, volume_to_record
from truceline.domain.operation import Operation
from truceline.domain.zone import Zone, ZoneRule
from truceline.engines.strategic import conflict_record, find_conflicts
from truceline.errors import AltitudeReferenceError, ValidationError
from truceline.geo.altitude import (
    ISA_QNH_RANGE_HPA,
    PRESSURE_TEMPERATURE_MARGIN,
    AltitudeBand,
    AltitudeLimit,
    AltitudeModel,
    AltitudeReference,
    LimitReference,
    ReferenceConversions,
    amsl_to_pressure_m,
    band_from_limits,
    compare_bands,
    pressure_to_amsl_m,
)
from truceline.geo.geoid import GEOID_MARGIN_M, egm96
from truceline.geo.shapes import Circle
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D, overlap

W84, AMSL, AGL, FL = (AltitudeReference.W84, AltitudeReference.AMSL, AltitudeReference.AGL,
                      AltitudeReference.FL)  # fmt: skip
T0 = datetime(2024, 3, 1, 10, tzinfo=UTC)
WINDOW = TimeWindow(T0, T0 + timedelta(hours=1))
# Dnipro, where the EGM96 geoid is 20.1 m above the ellipsoid (19.9..20.3 m within 5 km)
DNIPRO = (35.05, 48.46)


def volume(band: AltitudeBand, centre: tuple[float, float] = DNIPRO, radius_m: float = 2_000.0) -> Volume4D:
    return Volume4D(Circle(centre, radius_m), band, WINDOW)


# --- the Done-when case, at a named place ------------------------------------------------


def test_w84_plan_over_an_amsl_ceiling_at_dnipro_where_the_geoid_is_plus_20_m():
    """A zone up to 500 m AMSL is up to about 520 m W84 there. A W84 plan from 510 m (10 m
    "above" the ceiling's number) is inside it: a conflict; one from 530 m is above it: none."""
    assert float(egm96().height_m(*DNIPRO)) == pytest.approx(20.0, abs=0.2)
    rule = ZoneRule("all", "air", "forbidden")
    zone = Zone("dnipro", "no_fly", (volume(AltitudeBand(0.0, 500.0, AMSL)),), rule)
    low = Operation("low", "north", "air", (volume(AltitudeBand(510.0, 600.0, W84), radius_m=500.0),))
    high = Operation("high", "north", "air", (volume(AltitudeBand(530.0, 600.0, W84), radius_m=500.0),))
    (conflict,) = find_conflicts([zone], [low, high])
    assert conflict.a == "low"
    record = conflict_record(conflict)
    assert record["altitude_conversion"] == "EGM96" and record["altitude_reference"] == "W84"
    # the zone's ceiling in W84: 500 m + the geoid's highest height near the plan + the margin
    assert 519.9 < record["altitude_upper_m"] < 521.0


def test_same_reference_needs_no_conversion():
    zone = Zone("z", "no_fly", (volume(AltitudeBand(0.0, 500.0, W84)),), ZoneRule("all", "air", "forbidden"))
    plan = Operation("p", "north", "air", (volume(AltitudeBand(400.0, 600.0, W84)),))
    (conflict,) = find_conflicts([zone], [plan])
    assert conflict_record(conflict)["altitude_conversion"] is None


# --- conservative: a converted band holds the band at every point of the area -------------

boxes = st.tuples(
    st.floats(-179.0, 175.0), st.floats(-80.0, 75.0), st.floats(0.01, 2.0), st.floats(0.01, 2.0)
)
NEAR_DNIPRO = (35.0, 48.4, 35.1, 48.5)
heights = st.floats(-500.0, 12_000.0)


@settings(max_examples=200, deadline=None)
@given(boxes, heights, st.floats(1.0, 3_000.0), st.floats(0, 1), st.floats(0, 1), st.booleans())
def test_geoid_conversion_holds_the_band_everywhere_in_the_area(box, lower, depth, fx, fy, to_w84):
    lon, lat, w, h = box
    where = (lon, lat, lon + w, lat + h)
    n = float(egm96().height_m(lon + fx * w, lat + fy * h))
    frm, to = (AMSL, W84) if to_w84 else (W84, AMSL)
    band = AltitudeBand(lower, lower + depth, frm)
    done = AltitudeModel().converted(band, to, where)
    exact_shift = n if to_w84 else -n
    # wider than the exact band at that point, by at least the stated margin
    assert done.band.lower_m <= lower + exact_shift - GEOID_MARGIN_M + 1e-6
    assert done.band.upper_m >= lower + depth + exact_shift + GEOID_MARGIN_M - 1e-6
    assert done.conversion == "EGM96" and done.band.reference is to


@settings(max_examples=100, deadline=None)
@given(boxes, heights, st.floats(1.0, 2_000.0), heights, st.floats(1.0, 2_000.0))
def test_mixed_verdicts_are_symmetric(box, a_low, a_depth, b_low, b_depth):
    lon, lat, w, h = box
    centre = (lon + w / 2, lat + h / 2)
    a = volume(AltitudeBand(a_low, a_low + a_depth, W84), centre)
    b = volume(AltitudeBand(b_low, b_low + b_depth, AMSL), centre)
    model = AltitudeModel()
    assert (overlap(a, b, model) is None) == (overlap(b, a, model) is None)


# --- flight levels --------------------------------------------------------------------------


def test_flight_levels_through_a_given_qnh():
    fl95 = AltitudeLimit.flight_level(95)
    assert fl95.value_m == pytest.approx(2895.6) and fl95.reference is LimitReference.FL
    # standard pressure: pressure altitude is the altitude (before the temperature margin)
    assert pressure_to_amsl_m(fl95.value_m, 1013.25) == pytest.approx(2895.6)
    # a high QNH puts a flight level higher above the sea (about 8.3 m per hPa near the ground)
    assert pressure_to_amsl_m(0.0, 1023.25) == pytest.approx(83.2, abs=1.0)
    model = AltitudeModel(qnh_hpa=1023.25)
    done = model.converted(AltitudeBand(fl95.value_m, fl95.value_m + 300.0, FL), AMSL)
    centre = pressure_to_amsl_m(fl95.value_m, 1023.25)
    assert done.band.lower_m == pytest.approx(centre * (1 - PRESSURE_TEMPERATURE_MARGIN))
    assert done.conversion == "QNH 1023.25 hPa"


@settings(max_examples=200, deadline=None)
@given(st.floats(-300.0, 11_000.0), st.floats(*ISA_QNH_RANGE_HPA))
def test_isa_without_a_qnh_holds_every_qnh_in_its_range(pressure_m, qnh):
    band = AltitudeModel().converted(AltitudeBand(pressure_m, pressure_m, FL), AMSL).band
    assert band.lower_m <= pressure_to_amsl_m(pressure_m, qnh) <= band.upper_m
    assert amsl_to_pressure_m(pressure_to_amsl_m(pressure_m, qnh), qnh) == pytest.approx(pressure_m, abs=1e-6)
    back = AltitudeModel().converted(AltitudeBand(pressure_m, pressure_m, AMSL), FL).band
    assert back.lower_m <= amsl_to_pressure_m(pressure_m, qnh) <= back.upper_m


def test_fl_to_w84_goes_through_amsl_and_names_both():
    done = AltitudeModel(qnh_hpa=1000.0).converted(AltitudeBand(1000.0, 2000.0, FL), W84, NEAR_DNIPRO)
    assert done.conversion == "QNH 1000 hPa+EGM96"


def test_a_qnh_out_of_range_is_refused():
    with pytest.raises(ValidationError, match="qnh: must be between 850 and 1100 hPa"):
        AltitudeModel(qnh_hpa=101325.0)


# --- GND / SFC and per-limit references ---------------------------------------------------


def test_a_band_from_the_ground_needs_no_terrain():
    band = band_from_limits(AltitudeLimit.ground(), AltitudeLimit(1500.0, LimitReference.AMSL))
    assert band == AltitudeBand(-math.inf, 1500.0, AMSL)
    plan = AltitudeBand(100.0, 200.0, W84)
    shared = compare_bands(plan, band, AltitudeModel(), NEAR_DNIPRO)
    assert shared.band is not None and shared.conversion == "EGM96"
    # meets every band whose floor is under its ceiling (about 1520 m W84 there), none above it
    for floor_m in (-1000.0, 1510.0):
        assert compare_bands(AltitudeBand(floor_m, 1700.0, W84), band, AltitudeModel(), NEAR_DNIPRO).band
    assert compare_bands(AltitudeBand(1530.0, 1700.0, W84), band, AltitudeModel(), NEAR_DNIPRO).band is None


def test_ground_to_unlimited_meets_everything_in_any_reference():
    band = band_from_limits(AltitudeLimit.ground(), None)
    for ref in AltitudeReference:
        assert compare_bands(AltitudeBand(5.0, 6.0, ref), band).band is not None  # no model needed


def test_an_upper_limit_at_the_ground_is_zero_agl():
    assert band_from_limits(None, AltitudeLimit.ground()) == AltitudeBand(-math.inf, 0.0, AGL)


def test_two_references_in_one_band():
    lower, upper = AltitudeLimit(50.0, LimitReference.AGL), AltitudeLimit(800.0, LimitReference.AMSL)
    band = band_from_limits(lower, upper)
    assert band.reference is AMSL and band.lower_reference is AGL and band.reference_text == "AGL/AMSL"
    # each limit converted through its own model
    conv = ReferenceConversions({(AGL, AMSL): 300.0})
    done = conv.converted(band, AMSL)
    assert done.band == AltitudeBand(350.0, 800.0, AMSL) and done.conversion == "offset"
    with pytest.raises(AltitudeReferenceError, match="an altitude in AGL with one in W84: no terrain model"):
        compare_bands(AltitudeBand(0.0, 900.0, W84), band, AltitudeModel(), (6.1, 46.2, 6.2, 46.3))


def test_two_references_round_trip_through_the_record():
    v = volume(AltitudeBand(50.0, 800.0, AMSL, AGL))
    record = volume_to_record(v)
    assert record["altitude_reference"] == "AGL/AMSL"
    assert volume_from_record(record) == v
    # one reference is written as before
    assert volume_to_record(volume(AltitudeBand(0.0, 1.0, W84)))["altitude_reference"] == "W84"


def test_one_reference_written_twice_is_one():
    assert AltitudeBand(0.0, 1.0, AMSL, AMSL).lower_reference is None
    assert AltitudeBand(-math.inf, 1.0, AMSL, AGL).lower_reference is None  # the ground has none


def test_an_unrelated_pair_without_conversions_is_an_error():
    with pytest.raises(AltitudeReferenceError, match="an altitude in AMSL with one in W84"):
        compare_bands(AltitudeBand(0.0, 1.0, W84), AltitudeBand(0.0, 1.0, AMSL))


def test_the_whole_world_is_assumed_without_an_area():
    done = AltitudeModel().converted(AltitudeBand(0.0, 0.0, AMSL), W84)
    grid = egm96().heights_m
    assert done.band.lower_m == pytest.approx(float(np.min(grid)) - GEOID_MARGIN_M)
    assert done.band.upper_m == pytest.approx(float(np.max(grid)) + GEOID_MARGIN_M)


def test_crossed_limits_in_two_references_hold_nothing():
    # 600 m AGL over 300 m of ground is far above a 500 m AMSL ceiling: an empty band, no error
    band = AltitudeBand(600.0, 500.0, AMSL, AGL)
    conv = ReferenceConversions({(AGL, AMSL): 300.0})
    assert compare_bands(AltitudeBand(0.0, 10_000.0, AMSL), band, conv).band is None
