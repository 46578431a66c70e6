"""Validation of shapes, bounds, areas and map rings."""

from __future__ import annotations

import math

import numpy as np
import pytest
from geo_strategies import shapes
from hypothesis import given, settings

from truceline.errors import GeometryError, ValidationError
from truceline.geo import geodesy
from truceline.geo.shapes import (
    Circle,
    GeoLimits,
    Polygon,
    shape_area_m2,
    shape_bounds,
    shape_to_polygon_ring,
    square_around,
    validate_shape,
)

SQUARE = [(36.0, 33.0), (36.1, 33.0), (36.1, 33.1), (36.0, 33.1), (36.0, 33.0)]


def fault(ring: object, **kw: object) -> GeometryError:
    with pytest.raises(GeometryError) as info:
        Polygon(ring, **kw)  # type: ignore[arg-type]
    return info.value


def test_valid_square_is_normalised_to_float_tuples():
    p = Polygon([[36, 33], [36.1, 33], [36.1, 33.1], [36, 33.1], [36, 33]])
    assert p.ring[0] == (36.0, 33.0) and isinstance(p.ring, tuple)
    assert p == Polygon(SQUARE) and hash(p) == hash(Polygon(SQUARE))
    assert issubclass(GeometryError, ValidationError)


def test_unclosed_ring_names_first_and_last_vertex():
    e = fault(SQUARE[:-1])
    assert "not closed" in e.message and "ring[0]" in e.message and "ring[3]" in e.message
    assert e.field == "ring[3]"


def test_bowtie_names_the_crossing_edges():
    e = fault([(36.0, 33.0), (36.1, 33.1), (36.1, 33.0), (36.0, 33.1), (36.0, 33.0)])
    assert "self-intersecting" in e.message
    assert "ring[0]-ring[1]" in e.message and "ring[2]-ring[3]" in e.message


def test_ring_touching_itself_at_a_vertex_names_the_vertex():
    ring = [(36, 33), (36.1, 33), (36.05, 33.05), (36.1, 33.1), (36.0, 33.1), (36.05, 33.05), (36, 33)]
    e = fault(ring)
    assert "self-intersecting" in e.message and "vertex ring[2]" in e.message


def test_edge_judged_as_geodesic_not_as_lonlat_line():
    # (36.05, 33.0) is on the lon/lat straight line of the first edge but ~1.4 m south of its
    # geodesic, which bulges north: edge ring[3]-ring[4] crosses the geodesic edge ring[0]-ring[1].
    e = fault([(36, 33), (36.1, 33), (36.1, 33.1), (36.0, 33.1), (36.05, 33.0), (36, 33)])
    assert "ring[0]-ring[1]" in e.message and "ring[3]-ring[4]" in e.message


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (math.nan, "longitude is NaN"),
        (math.inf, "longitude is infinite"),
        (-math.inf, "longitude is infinite"),
        (181.0, "longitude 181.0 is outside [-180, 180]"),
    ],
)
def test_bad_longitude_names_the_vertex(bad, words):
    ring = list(SQUARE)
    ring[2] = (bad, 33.1)
    e = fault(ring)
    assert words in e.message and e.field == "ring[2]"


def test_bad_latitude_and_pole():
    ring = list(SQUARE)
    ring[1] = (36.1, 91.0)
    e = fault(ring)
    assert "latitude 91.0 is outside [-90, 90]" in e.message and e.field == "ring[1]"
    ring[1] = (36.1, math.nan)
    assert "latitude is NaN" in fault(ring).message
    e = fault([(36, 89), (37, 89), (37, 90), (36, 89)])
    assert "pole" in e.message and e.field == "ring[2]"


def test_not_a_number():
    e = fault([(36, 33), ("x", 33), (36.1, 33.1), (36, 33)])
    assert "expected a number" in e.message and e.field == "ring[1]"
    assert "pair" in fault([(36, 33), (36.1,), (36.1, 33.1), (36, 33)]).message


def test_too_few_positions_and_distinct_vertices():
    assert "at least 4 positions" in fault([(36, 33), (36.1, 33), (36, 33)]).message
    e = fault([(36, 33), (36.1, 33), (36, 33), (36.1, 33), (36, 33)])
    assert "2 distinct vertices" in e.message


def test_collinear_vertices_have_zero_area():
    # meridians are geodesics: these three vertices are truly collinear
    e = fault([(36, 33), (36, 33.1), (36, 33.2), (36, 33)])
    assert "zero area" in e.message


def test_antimeridian_edge_and_wide_ring():
    e = fault([(179.5, 10), (-179.5, 10), (-179.5, 11), (179.5, 10)])
    assert "antimeridian" in e.message and "ring[0]-ring[1]" in e.message
    e = fault([(-100, 1), (0, 1), (100, 1), (100, 1.001), (-100, 1)])
    assert "spans 200° of longitude" in e.message


def test_area_limit_default_and_custom():
    e = fault([(36, 33), (40, 33), (40, 36), (36, 33)])  # ~ 67,000 km²
    assert "over the limit of 50,000.0 km²" in e.message
    small = GeoLimits(max_area_m2=50e6)
    e = fault(SQUARE, limits=small)
    assert "area 103.6 km² is over the limit of 50.0 km²" in e.message
    p = Polygon(SQUARE)
    with pytest.raises(GeometryError, match="over the limit"):
        validate_shape(p, small)
    validate_shape(p, GeoLimits(max_area_m2=200e6))  # fits


def test_vertex_limit():
    e = fault(SQUARE, limits=GeoLimits(max_vertices=3))
    assert "4 vertices is more than the limit of 3" in e.message
    with pytest.raises(ValidationError):
        GeoLimits(max_area_m2=-1)


@pytest.mark.parametrize(
    ("centre", "radius_m", "field", "words"),
    [
        ((36.0, 33.0), 0.0, "radius_m", "must be positive"),
        ((36.0, 33.0), -5.0, "radius_m", "must be positive"),
        ((36.0, 33.0), math.nan, "radius_m", "radius is NaN"),
        ((36.0, 33.0), math.inf, "radius_m", "radius is infinite"),
        ((200.0, 33.0), 5.0, "center", "longitude 200.0 is outside"),
        ((36.0, -95.0), 5.0, "center", "latitude -95.0 is outside"),
        ((math.nan, 33.0), 5.0, "center", "longitude is NaN"),
        ((179.999, 33.0), 1000.0, "center", "crosses the antimeridian"),
        ((36.0, 89.99), 5000.0, "radius_m", "reaches a pole"),
        ((36.0, 33.0), 200_000.0, "radius_m", "over the limit"),
    ],
)
def test_circle_faults(centre, radius_m, field, words):
    with pytest.raises(GeometryError) as info:
        Circle(centre, radius_m)
    assert words in info.value.message and info.value.field == field


def test_circle_area_limit_is_configurable():
    Circle((36.0, 33.0), 55_000.0)  # 9,500 km²: a real de-confliction circle fits the default
    with pytest.raises(GeometryError, match=r"9,503\.3 km² is over the limit of 5,000\.0 km²"):
        Circle((36.0, 33.0), 55_000.0, limits=GeoLimits(max_area_m2=5_000e6))


@pytest.mark.parametrize("radius_m", [100.0, 5_000.0, 55_000.0, 120_000.0])
def test_circle_area_matches_a_fine_polygon(radius_m):
    lons, lats = geodesy.circle_points(36.0, 33.0, radius_m, radius_m * (1 - math.cos(math.pi / 20_000)))
    fine = geodesy.ring_area_m2(lons, lats)
    area = shape_area_m2(Circle((36.0, 33.0), radius_m))
    assert area == pytest.approx(fine, rel=1e-7)
    assert area == pytest.approx(math.pi * radius_m**2, rel=1e-3)


def test_square_area_is_geodesic():
    # 0.1° x 0.1° at 33°N: ~11.1 km x ~9.3 km
    assert shape_area_m2(Polygon(SQUARE)) == pytest.approx(103.586e6, rel=1e-4)


def _boundary_samples(shape):
    if isinstance(shape, Circle):
        lons, lats = geodesy.circle_points(*shape.center, shape.radius_m, 0.001)
        return lons, lats
    lons = np.array([v[0] for v in shape.ring])
    lats = np.array([v[1] for v in shape.ring])
    dl, dt, _ = geodesy.densify(lons, lats, 20.0)
    return dl, dt


@settings(max_examples=40, deadline=None)
@given(shapes())
def test_bounds_contain_the_true_boundary(shape):
    b0, b1, b2, b3 = shape_bounds(shape)
    lons, lats = _boundary_samples(shape)
    assert (lons >= b0).all() and (lons <= b2).all() and (lats >= b1).all() and (lats <= b3).all()


def test_bounds_include_the_geodesic_bulge():
    # a long east-west edge bulges north of both its vertices
    p = Polygon([(36, 34), (38, 34), (38, 33), (36, 34)])
    _, lats, _ = geodesy.densify(np.array([36.0, 38.0]), np.array([34.0, 34.0]), 1000.0)
    assert lats.max() > 34.0 + 0.004
    assert shape_bounds(p)[3] >= lats.max()


@settings(max_examples=25, deadline=None)
@given(shapes())
def test_map_ring_is_closed_and_near_the_boundary(shape):
    ring = shape_to_polygon_ring(shape, tolerance_m=1.0)
    assert ring[0] == ring[-1]
    if isinstance(shape, Circle):
        lons = np.array([v[0] for v in ring])
        lats = np.array([v[1] for v in ring])
        d = geodesy.distances_m(*shape.center, lons, lats)
        assert np.allclose(d, shape.radius_m, atol=1e-6)
    else:
        assert set(shape.ring) <= set(ring)


def test_map_ring_of_a_long_edge_follows_the_geodesic():
    p = Polygon([(36, 34), (38, 34), (38, 33), (36, 34)])
    ring = shape_to_polygon_ring(p, tolerance_m=1.0)
    assert len(ring) > 20
    # the points inserted on the northern edge lie ON its geodesic: d(A, p) + d(p, B) == d(A, B)
    inserted = [v for v in ring if v not in p.ring and v[1] > 34.0]
    assert inserted, "the northern edge bulges north and gets points"
    whole = geodesy.distance_m(36, 34, 38, 34)
    for lon, lat in inserted:
        assert geodesy.distance_m(36, 34, lon, lat) + geodesy.distance_m(lon, lat, 38, 34) == pytest.approx(
            whole, abs=1e-6
        )
    with pytest.raises(ValidationError):
        shape_to_polygon_ring(p, tolerance_m=0)


@pytest.mark.parametrize(("lat", "half_m"), [(0.0, 800.0), (33.0, 800.0), (33.0, 30_000.0), (60.0, 5_000.0)])
def test_square_around_is_about_its_size_at_any_latitude(lat, half_m):
    square = square_around(36.0, lat, half_m)
    assert shape_area_m2(square) == pytest.approx((2 * half_m) ** 2, rel=0.02)
    x0, y0, x1, y1 = shape_bounds(square)
    assert x0 < 36.0 < x1 and y0 < lat < y1
