"""Horizontal conflict: touching is not a conflict, 1 cm overlaps are, 1 cm gaps are not."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geo_strategies import nearby_pairs, square
from hypothesis import given, settings

from truceline.geo import geodesy
from truceline.geo.horizontal import (
    distance_to_shape_m,
    overlap_area_m2,
    overlap_depth_m,
    overlap_geometry,
    point_in_shape,
    shapes_conflict,
)
from truceline.geo.shapes import Circle, Polygon, shape_area_m2

CM = 0.01
RADII_M = [100.0, 5_000.0, 55_000.0, 120_000.0]


def both_ways(a, b) -> bool:
    ab, ba = shapes_conflict(a, b), shapes_conflict(b, a)
    assert ab == ba
    return ab


def test_squares_sharing_an_edge_or_a_corner_do_not_conflict():
    a = square(36.0, 33.0, 0.1)
    assert not both_ways(a, square(36.1, 33.0, 0.1))  # shared east edge
    assert not both_ways(a, square(36.1, 33.1, 0.1))  # shared corner
    assert not both_ways(a, square(36.0, 32.9, 0.1))  # shared south edge (a geodesic, not a parallel)
    assert overlap_area_m2(a, square(36.1, 33.0, 0.1)) == 0.0
    assert overlap_geometry(a, square(36.1, 33.0, 0.1)) == {"type": "MultiPolygon", "coordinates": []}


def test_vertex_on_the_other_polygons_geodesic_edge_is_touching():
    # B has a vertex exactly on A's long north edge (a geodesic that bulges ~1.4 km north of
    # the parallel) and lies north of it: a T-junction, no conflict.
    a = Polygon([(36.0, 34.0), (38.0, 34.0), (38.0, 33.0), (36.0, 33.0), (36.0, 34.0)])
    lon_m, lat_m, _ = geodesy.GEOD.fwd(36.0, 34.0, geodesy.GEOD.inv(36.0, 34.0, 38.0, 34.0)[0], 90_000.0)
    b = Polygon([(36.0, 34.0), (float(lon_m), float(lat_m)), (37.0, 34.5), (36.0, 34.0)])
    assert not both_ways(a, b)


def test_nested_polygons_conflict_with_the_inner_area():
    outer, inner = square(36.0, 33.0, 0.2), square(36.05, 33.05, 0.05)
    assert both_ways(outer, inner)
    assert overlap_area_m2(outer, inner) == pytest.approx(shape_area_m2(inner), rel=1e-4)


def _meridian_offset_deg(lat: float, metres: float) -> float:
    # metres east along a parallel, in degrees of longitude (WGS84 prime vertical radius)
    a, e2 = 6_378_137.0, 0.00669437999014
    n = a / math.sqrt(1 - e2 * math.sin(math.radians(lat)) ** 2)
    return math.degrees(metres / (n * math.cos(math.radians(lat))))


@pytest.mark.parametrize("side_deg", [0.001, 0.1, 0.9])
@pytest.mark.parametrize(("offset_m", "conflict"), [(-CM, True), (CM, False), (0.0, False)])
def test_polygon_offset_from_a_shared_meridian_edge(side_deg, offset_m, conflict):
    """B's west edge is A's east edge (a meridian, a geodesic) moved east by offset_m:
    -1 cm is a 1 cm overlap, +1 cm a 1 cm gap."""
    lat0 = 34.0
    a = square(36.0, lat0, side_deg)
    east = 36.0 + side_deg + _meridian_offset_deg(lat0 + side_deg / 2, offset_m)
    b = Polygon(
        [
            (east, lat0),
            (east + 0.05, lat0),
            (east + 0.05, lat0 + side_deg),
            (east, lat0 + side_deg),
            (east, lat0),
        ]
    )
    assert both_ways(a, b) is conflict
    assert (overlap_area_m2(a, b) > 0) is conflict


@pytest.mark.parametrize("length_m", [100.0, 10_000.0, 50_000.0])
@pytest.mark.parametrize(("offset_m", "conflict"), [(-CM, True), (CM, False), (0.0, False)])
def test_polygon_offset_from_a_shared_diagonal_edge(length_m, offset_m, conflict):
    """A long diagonal geodesic edge shared by two triangles, then B moved across by ±1 cm."""
    p0 = (37.0, 34.0)
    az = 37.0
    p1 = tuple(float(v) for v in geodesy.GEOD.fwd(*p0, az, length_m)[:2])
    mid = geodesy.GEOD.fwd(*p0, az, length_m / 2)
    # A lies west (left) of the edge p0 -> p1, B east (right)
    west = tuple(float(v) for v in geodesy.GEOD.fwd(mid[0], mid[1], az - 90, length_m / 3)[:2])
    east = tuple(float(v) for v in geodesy.GEOD.fwd(mid[0], mid[1], az + 90, length_m / 3)[:2])
    a = Polygon([p0, p1, west, p0])

    def moved(p):
        # offset perpendicular to the edge, towards A when negative
        back_az = geodesy.GEOD.inv(*p, *(p1 if p == p0 else p0))[0]
        perp = (back_az - 90) if p == p0 else (back_az + 90)
        lon, lat, _ = geodesy.GEOD.fwd(*p, perp, -offset_m)
        return (float(lon), float(lat))

    q0, q1 = moved(p0), moved(p1)
    b = Polygon([q0, east, q1, q0])
    assert both_ways(a, b) is conflict


def _polygon_at(circle: Circle, x_m: float, half_m: float, depth_m: float = 50.0) -> Polygon:
    """A small rectangle in the circle's own frame whose near edge is perpendicular to the
    radius at distance x_m from the centre (due east), half_m either side."""
    xs = np.array([x_m, x_m + depth_m, x_m + depth_m, x_m])
    ys = np.array([-half_m, -half_m, half_m, half_m])
    lons, lats = geodesy.from_frame(*circle.center, xs, ys)
    ring = [(float(x), float(y)) for x, y in zip(lons, lats, strict=True)]
    return Polygon((*ring, ring[0]))


def _triangle_tip_at(circle: Circle, distance_m: float, azimuth: float) -> Polygon:
    """A triangle pointing at the centre, its tip at distance_m from it."""
    tip = geodesy.GEOD.fwd(*circle.center, azimuth, distance_m)[:2]
    far1 = geodesy.GEOD.fwd(*circle.center, azimuth - 0.3, distance_m + 200.0)[:2]
    far2 = geodesy.GEOD.fwd(*circle.center, azimuth + 0.3, distance_m + 200.0)[:2]
    ring = [tuple(float(v) for v in p) for p in (tip, far1, far2)]
    return Polygon((*ring, ring[0]))


@pytest.mark.parametrize("radius_m", RADII_M)
@pytest.mark.parametrize(("offset_m", "conflict"), [(-CM, True), (CM, False), (0.0, False)])
def test_circle_vs_polygon_near_the_circle(radius_m, offset_m, conflict):
    c = Circle((38.0, 35.0), radius_m)
    for azimuth in (0.0, 63.0, 200.0):
        tri = _triangle_tip_at(c, radius_m + offset_m, azimuth)
        assert both_ways(c, tri) is conflict
        assert overlap_depth_m(c, tri) == pytest.approx(-offset_m, abs=1e-6)
    flat = _polygon_at(c, radius_m + offset_m, half_m=5.0)  # edge tangent to the circle
    assert both_ways(c, flat) is conflict
    assert (overlap_area_m2(c, flat) > 0) is conflict


@pytest.mark.parametrize("radius_m", RADII_M)
@pytest.mark.parametrize(("offset_m", "conflict"), [(-CM, True), (CM, False), (0.0, False)])
def test_circle_vs_circle(radius_m, offset_m, conflict):
    small = 300.0
    a = Circle((38.0, 35.0), radius_m)
    lon, lat, _ = geodesy.GEOD.fwd(38.0, 35.0, 123.0, radius_m + small + offset_m)
    b = Circle((float(lon), float(lat)), small)
    assert both_ways(a, b) is conflict
    assert (overlap_area_m2(a, b) > 0) is conflict


def test_nested_circles_and_circle_in_polygon():
    big = Circle((38.0, 35.0), 10_000.0)
    assert both_ways(big, Circle((38.01, 35.01), 100.0))
    sq = square(37.9, 34.9, 0.2)
    assert both_ways(sq, Circle((38.0, 35.0), 50.0))
    assert both_ways(big, square(37.99, 34.99, 0.01))
    assert overlap_area_m2(big, Circle((38.01, 35.01), 100.0)) == pytest.approx(math.pi * 100**2, rel=1e-3)


def test_identical_shapes_overlap_fully():
    c = Circle((36.5, 33.5), 55_000.0)
    area = overlap_area_m2(c, c)
    # the outline is inscribed with 1 m sagitta: the area is under by at most ~2/3 m x perimeter
    assert shape_area_m2(c) - 2 * math.pi * 55_000.0 <= area <= shape_area_m2(c)
    p = square(36, 33, 0.3)
    assert overlap_area_m2(p, p) == pytest.approx(shape_area_m2(p), rel=1e-6)


def test_overlap_geometry_is_geojson_with_the_overlap_area():
    a, b = square(36.0, 33.0, 0.1), square(36.05, 33.05, 0.1)
    g = overlap_geometry(a, b)
    assert g["type"] == "MultiPolygon" and len(g["coordinates"]) == 1
    ring = g["coordinates"][0][0]
    assert ring[0] == ring[-1]
    lons, lats = np.array([p[0] for p in ring]), np.array([p[1] for p in ring])
    assert geodesy.ring_area_m2(lons, lats) == pytest.approx(overlap_area_m2(a, b), rel=1e-4)
    # exterior counter-clockwise (GeoJSON): positive signed shoelace in lon/lat
    assert np.sum(lons[:-1] * lats[1:] - lons[1:] * lats[:-1]) > 0
    assert min(lons) == pytest.approx(36.05, abs=1e-6) and max(lats) == pytest.approx(33.1, abs=1e-3)


def test_distance_to_a_circle_is_exact_and_signed():
    c = Circle((36.0, 33.0), 5_000.0)
    for d in (-CM, CM, 1000.0):
        lon, lat, _ = geodesy.GEOD.fwd(36.0, 33.0, 40.0, 5_000.0 + d)
        assert distance_to_shape_m(float(lon), float(lat), c) == pytest.approx(d, abs=1e-6)
        assert point_in_shape(float(lon), float(lat), c) is (d < 0)


def test_distance_to_a_polygon_is_signed():
    p = square(36.0, 33.0, 0.1)
    east = 36.1 + _meridian_offset_deg(33.05, CM)
    assert distance_to_shape_m(east, 33.05, p) == pytest.approx(CM, abs=1e-3)
    west = 36.1 - _meridian_offset_deg(33.05, CM)
    assert distance_to_shape_m(west, 33.05, p) == pytest.approx(-CM, abs=1e-3)
    assert point_in_shape(west, 33.05, p) and not point_in_shape(east, 33.05, p)
    # centre: about half the 9.3 km east-west side away from the nearest edge
    assert distance_to_shape_m(36.05, 33.05, p) == pytest.approx(-4_670.0, abs=5.0)
    assert distance_to_shape_m(36.25, 33.05, p) == pytest.approx(14_010.0, abs=20.0)
    assert not point_in_shape(50.0, 10.0, p)


@settings(max_examples=60, deadline=None)
@given(nearby_pairs())
def test_conflict_is_symmetric_and_area_agrees(pair):
    a, b = pair
    ab, ba = shapes_conflict(a, b), shapes_conflict(b, a)
    assert ab == ba
    area_ab, area_ba = overlap_area_m2(a, b), overlap_area_m2(b, a)
    assert area_ab == pytest.approx(area_ba, rel=1e-6, abs=1e-3)
    assert (area_ab > 0) == ab


@settings(max_examples=40, deadline=None)
@given(nearby_pairs())
def test_points_deep_inside_both_shapes_mean_a_conflict(pair):
    """Sample points; one that is more than 2 cm inside both shapes proves a conflict, and a
    pair that does not conflict has no such point."""
    a, b = pair
    rng = np.random.default_rng(0)
    from truceline.geo.shapes import shape_bounds

    b0, b1, b2, b3 = shape_bounds(a)
    deep = False
    for lon, lat in zip(rng.uniform(b0, b2, 60), rng.uniform(b1, b3, 60), strict=True):
        if distance_to_shape_m(lon, lat, a) < -2 * CM and distance_to_shape_m(lon, lat, b) < -2 * CM:
            deep = True
            break
    if deep:
        assert shapes_conflict(a, b)


@pytest.mark.parametrize("offset_deg", [0.0, 0.5, 1.2])
def test_overlap_area_is_geodesic_within_1e4_far_from_the_frame_centre(offset_deg):
    # a long thin outer polygon: the frame of the small inner one, or far parts of the outer
    outer = Polygon([(36.0, 33.0), (38.0, 33.0), (38.0, 33.4), (36.0, 33.4), (36.0, 33.0)])
    inner = square(36.3 + offset_deg, 33.1, 0.2)
    assert overlap_area_m2(outer, inner) == pytest.approx(shape_area_m2(inner), rel=1e-4)
    half = square(37.9, 33.1, 0.2)  # sticks out east: overlap is the western half
    expected = shape_area_m2(Polygon([(37.9, 33.1), (38.0, 33.1), (38.0, 33.3), (37.9, 33.3), (37.9, 33.1)]))
    assert overlap_area_m2(outer, half) == pytest.approx(expected, rel=1e-4)


@pytest.mark.parametrize(
    ("r1", "r2", "d"), [(1000.0, 1000.0, 1000.0), (1000.0, 300.0, 800.0), (1000.0, 300.0, 1200.0)]
)
def test_lens_area_matches_the_textbook_formula(r1, r2, d):
    from truceline.geo.horizontal import _lens_area_m2

    textbook = (
        r1 * r1 * math.acos((d * d + r1 * r1 - r2 * r2) / (2 * d * r1))
        + r2 * r2 * math.acos((d * d + r2 * r2 - r1 * r1) / (2 * d * r2))
        - 0.5 * math.sqrt((-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
    )
    assert _lens_area_m2(Circle((38.0, 35.0), r1), Circle((38.1, 35.0), r2), d) == pytest.approx(
        textbook, rel=1e-12
    )


def test_circle_pair_area_agrees_with_polygon_intersection():
    # the lens formula against the generic path (circle outlines intersected in a frame)
    a, b = Circle((38.0, 35.0), 20_000.0), Circle((38.2, 35.1), 15_000.0)
    from truceline.geo.horizontal import _overlap_parts, _part_area_m2

    parts, frame = _overlap_parts(a, b)
    generic = sum(_part_area_m2(p, *frame) for p in parts)
    # the generic path's outlines are inscribed with 1 m sagitta: low by up to 2/3 m x arc length
    arcs_m = 2 * math.pi * (a.radius_m + b.radius_m)
    assert generic * (1 - 1e-4) <= overlap_area_m2(a, b) <= generic * (1 + 1e-4) + 2 / 3 * arcs_m
