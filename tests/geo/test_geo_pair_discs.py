"""The discs of geo.pair_discs prove only what the exact test says: a SURE pair conflicts and
an APART pair does not (geo.horizontal), on random circles, stars and strips, anywhere."""

from __future__ import annotations

import math

import numpy as np
from geo_strategies import nearby_pairs, shapes
from hypothesis import given, settings
from hypothesis import strategies as st
from test_geo_cells_strips import strip, strips

from truceline.geo import geodesy
from truceline.geo.horizontal import horizontal_overlap_m2, point_in_shape
from truceline.geo.pair_discs import (
    PairVerdict,
    discs_verdict,
    haversine_m,
    shape_discs,
)
from truceline.geo.shapes import Circle, Polygon, Shape


def _agrees(a: Shape, b: Shape) -> PairVerdict:
    verdict = discs_verdict(a, b)
    assert verdict == discs_verdict(b, a)
    if verdict is PairVerdict.SURE:
        assert horizontal_overlap_m2(a, b) is not None
    elif verdict is PairVerdict.APART:
        assert horizontal_overlap_m2(a, b) is None
    return verdict


@settings(max_examples=300, deadline=None)
@given(nearby_pairs())
def test_a_verdict_of_the_discs_is_the_exact_tests(pair: tuple[Shape, Shape]) -> None:
    _agrees(*pair)


@settings(max_examples=60, deadline=None)
@given(strips(), st.floats(0.0, 1.0), st.floats(-3.0, 3.0), st.floats(100.0, 30_000.0))
def test_strips_anywhere_and_circles_across_them(shape: Polygon, along: float, across: float,
                                                  radius_m: float) -> None:
    # a circle centred somewhere near the strip's axis: inside, across its edge, or beside it
    lon, lat = shape.ring[0]
    (b_lon, b_lat), (a_lon, a_lat) = shape.ring[1], shape.ring[3]
    az, _, length = geodesy.GEOD.inv(lon, lat, b_lon, b_lat)
    _, _, width = geodesy.GEOD.inv(lon, lat, a_lon, a_lat)
    x, y, _ = geodesy.GEOD.fwd(lon, lat, az, along * length)
    x, y, _ = geodesy.GEOD.fwd(x, y, az + 90.0, width / 2.0 + across * radius_m)
    _agrees(shape, Circle((float(x), float(y)), radius_m))


@settings(max_examples=200, deadline=None)
@given(st.floats(-170.0, 170.0), st.floats(-80.0, 80.0), st.floats(0.0, 360.0),
       st.floats(10.0, 120_000.0), st.floats(10.0, 120_000.0), st.floats(-1.0, 1.0))
def test_circles_anywhere_at_about_the_touching_distance(lon: float, lat: float, az: float, r1: float,
                                                         r2: float, offset: float) -> None:
    # centres r1 + r2 apart, give or take 1 % (where the distance bounds matter most)
    lon2, lat2, _ = geodesy.GEOD.fwd(lon, lat, az, (r1 + r2) * (1.0 + 0.01 * offset))
    _agrees(Circle((lon, lat), r1), Circle((float(lon2), float(lat2)), r2))


@settings(max_examples=200, deadline=None)
@given(st.floats(-179.0, 179.0), st.floats(-89.0, 89.0), st.floats(0.0, 360.0), st.floats(1.0, 5e6))
def test_the_haversine_bounds_the_geodesic_distance(lon: float, lat: float, az: float, d: float) -> None:
    lon2, lat2, _ = geodesy.GEOD.fwd(lon, lat, az, d)
    _, _, geodesic = geodesy.GEOD.inv(lon, lat, lon2, lat2)
    spherical = haversine_m(lon, lat, float(lon2), float(lat2))
    assert 0.99441 * spherical - 1e-3 <= geodesic <= 1.00449 * spherical + 1e-3


@settings(max_examples=100, deadline=None)
@given(shapes(), st.integers(0, 2**32 - 1))
def test_the_inner_disc_is_inside_and_the_outer_disc_holds_the_shape(shape: Shape, seed: int) -> None:
    discs = shape_discs(shape)
    rng = np.random.default_rng(seed)
    n = 40
    if discs.inner_m > 0:
        az = rng.uniform(0.0, 360.0, n)
        dist = discs.inner_m * np.sqrt(rng.uniform(0.0, 1.0, n))
        lons, lats, _ = geodesy.GEOD.fwd(np.full(n, discs.lon), np.full(n, discs.lat), az, dist)
        assert all(point_in_shape(float(x), float(y), shape) for x, y in zip(lons, lats, strict=True))
    # every boundary vertex (and so, by the frame's exact distances, every point) within outer
    if isinstance(shape, Circle):
        lons, lats = geodesy.circle_points(*shape.center, shape.radius_m, 0.01)
    else:
        lons, lats = np.array(shape.ring).T
    distances = geodesy.distances_m(discs.lon, discs.lat, lons, lats)
    assert float(np.max(distances)) <= discs.outer_m + 1e-6  # the verdict keeps APART_GAP_M more


def test_a_circle_is_its_own_disc_and_a_square_has_one_round_its_middle() -> None:
    circle = Circle((36.0, 33.0), 5_000.0)
    assert shape_discs(circle).inner_m == shape_discs(circle).outer_m == 5_000.0
    square = strip(36.0, 33.0, 90.0, 10_000.0, 10_000.0)
    discs = shape_discs(square)
    assert 4_990.0 < discs.inner_m < 5_000.0
    assert 7_060.0 < discs.outer_m < 7_080.0


def test_a_polygon_whose_middle_is_outside_has_no_inner_disc() -> None:
    # a U: the middle of its bounds is in the notch
    u = Polygon(((36.0, 33.0), (36.3, 33.0), (36.3, 33.3), (36.2, 33.3), (36.2, 33.1), (36.1, 33.1),
                 (36.1, 33.3), (36.0, 33.3), (36.0, 33.0)))
    discs = shape_discs(u)
    assert discs.inner_m == 0.0 and math.isfinite(discs.outer_m)
    assert discs_verdict(u, Circle((36.15, 33.2), 100.0)) is PairVerdict.UNKNOWN  # in the notch


def test_clear_cases_are_decided_without_the_exact_test() -> None:
    big = Circle((36.0, 33.0), 20_000.0)
    assert discs_verdict(big, strip(36.0, 33.0, 10.0, 5_000.0, 2_000.0)) is PairVerdict.SURE
    assert discs_verdict(big, Circle((36.3, 33.0), 20_000.0)) is PairVerdict.SURE  # 28 km apart
    assert discs_verdict(big, Circle((37.0, 33.0), 20_000.0)) is PairVerdict.APART  # 93 km apart
    # touching circles: neither proven
    lon, lat, _ = geodesy.GEOD.fwd(36.0, 33.0, 90.0, 30_000.0)
    assert discs_verdict(big, Circle((float(lon), float(lat)), 10_000.0)) is PairVerdict.UNKNOWN
