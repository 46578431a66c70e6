"""Uncertainty areas contain every place the report allows (geo/uncertainty.py): a
sector every point at a bearing within its width and a distance within its band; a grown
polygon every point within the distance of the polygon; a circle its radius. And the two
questions asked of them: the gap between two areas, and an area's placement in a shape."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.errors import GeometryError
from truceline.geo.geodesy import GEOD, distance_m
from truceline.geo.horizontal import point_in_shape
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.uncertainty import around_point, around_polygon, gap_m, placement, sector

lons = st.floats(-170, 170)
lats = st.floats(-70, 70)


@settings(max_examples=40)
@given(
    lon=lons,
    lat=lats,
    bearing=st.floats(0, 359.99),
    half_width=st.floats(1, 179),
    band=st.tuples(st.floats(0, 20_000), st.floats(50, 30_000)),
    where=st.tuples(st.floats(-1, 1), st.floats(0, 1)),
)
def test_a_sector_holds_every_point_its_bearing_and_band_allow(
    lon: float,
    lat: float,
    bearing: float,
    half_width: float,
    band: tuple[float, float],
    where: tuple[float, float],
) -> None:
    low, extra = band
    high = low + extra
    area = sector(lon, lat, bearing, half_width, low, high)
    assert area.shape is not None
    # A point at a bearing within the width and a distance within the band, edges included.
    azimuth = bearing + where[0] * half_width
    distance = low + where[1] * (high - low)
    plon, plat, _ = GEOD.fwd(lon, lat, azimuth, distance)
    assert point_in_shape(float(plon), float(plat), area.shape)
    assert point_in_shape(*area.centre, area.shape)


@settings(max_examples=20)
@given(lon=lons, lat=lats, bearing=st.floats(0, 359.99), half_width=st.floats(5, 60))
def test_a_sector_leaves_out_what_lies_well_beyond_its_band(
    lon: float, lat: float, bearing: float, half_width: float
) -> None:
    area = sector(lon, lat, bearing, half_width, 1000, 4500)
    assert area.shape is not None
    far = GEOD.fwd(lon, lat, bearing, 4600)
    near = GEOD.fwd(lon, lat, bearing, 900)
    behind = GEOD.fwd(lon, lat, bearing + 180, 2000)
    for plon, plat, _ in (far, near, behind):
        assert not point_in_shape(float(plon), float(plat), area.shape)


def test_a_full_turn_is_the_disc_and_bad_bands_are_refused() -> None:
    disc = sector(36.0, 35.0, 0.0, 180.0, 1000.0, 2000.0)
    assert isinstance(disc.shape, Circle) and disc.shape.radius_m >= 2000.0
    with pytest.raises(GeometryError) as refused:
        sector(36.0, 35.0, 0.0, 10.0, 3000.0, 2000.0)
    assert refused.value.field == "distance_max_m"
    with pytest.raises(GeometryError):
        sector(36.0, 35.0, 0.0, 0.0, 0.0, 2000.0)


@settings(max_examples=25)
@given(
    lon=lons,
    lat=lats,
    size_m=st.floats(100, 20_000),
    grow_m=st.floats(1, 5_000),
    azimuth=st.floats(0, 360),
    vertex=st.integers(0, 3),
)
def test_a_grown_polygon_holds_every_point_within_the_distance(
    lon: float, lat: float, size_m: float, grow_m: float, azimuth: float, vertex: int
) -> None:
    corners = [GEOD.fwd(lon, lat, a, size_m)[:2] for a in (0.0, 100.0, 200.0, 290.0)]
    ring = (*((float(x), float(y)) for x, y in corners), (float(corners[0][0]), float(corners[0][1])))
    polygon = Polygon(ring)
    area = around_polygon(polygon, grow_m)
    assert area.shape is not None
    # Every vertex of the polygon, and a point at the distance from any vertex, is inside.
    vlon, vlat = ring[vertex]
    assert point_in_shape(vlon, vlat, area.shape)
    plon, plat, _ = GEOD.fwd(vlon, vlat, azimuth, grow_m)
    assert point_in_shape(float(plon), float(plat), area.shape)
    # ... and nothing much further away: the area errs large, but not wildly.
    flon, flat, _ = GEOD.fwd(lon, lat, azimuth, 2 * size_m + 2 * grow_m + 100)
    assert not point_in_shape(float(flon), float(flat), area.shape)


@settings(max_examples=30)
@given(
    lon=lons, lat=lats, r1=st.floats(0, 3000), r2=st.floats(0, 3000), d=st.floats(
        0, 20_000
    ), az=st.floats(0, 360)
)
def test_the_gap_between_two_circles_is_their_distance_less_the_radii(
    lon: float, lat: float, r1: float, r2: float, d: float, az: float
) -> None:
    olon, olat, _ = GEOD.fwd(lon, lat, az, d)
    a, b = around_point(lon, lat, r1), around_point(float(olon), float(olat), r2)
    assert gap_m(a, b) == pytest.approx(max(0.0, d - r1 - r2), abs=1e-6)


def test_the_gap_from_a_sector_is_measured_to_its_nearest_edge() -> None:
    # A sector due north, 1-4.5 km; a point 1 km beyond its far end, on the bearing.
    area = sector(36.0, 35.0, 0.0, 10.0, 1000.0, 4500.0)
    plon, plat, _ = GEOD.fwd(36.0, 35.0, 0.0, 5500.0)
    gap = gap_m(area, around_point(float(plon), float(plat), 0))
    assert 990.0 < gap <= 1000.0  # the area errs large by its margins (about a metre)


def test_placement_inside_possibly_inside_and_outside() -> None:
    zone = Polygon(((36.0, 35.0), (36.5, 35.0), (36.5, 35.5), (36.0, 35.5), (36.0, 35.0)))
    assert placement(around_point(36.2, 35.2, 300), zone).within
    crossing = placement(around_point(36.5, 35.2, 300), zone)
    assert crossing.meets and not crossing.within
    assert placement(around_point(36.51, 35.2, 300), zone) == placement(around_point(37, 35, 0), zone)
    assert not placement(around_point(36.51, 35.2, 300), zone).meets
    # A sector from outside the zone reaching into it.
    reach = placement(sector(36.55, 35.2, 270.0, 10.0, 1000.0, 8000.0), zone)
    assert reach.meets and not reach.within
    inside = placement(sector(36.25, 35.25, 90.0, 10.0, 1000.0, 4000.0), zone)
    assert inside.within
    # A bare point exactly: inside or not.
    assert placement(around_point(36.2, 35.2, 0), zone).within


@settings(max_examples=25)
@given(lon=lons, lat=lats, r=st.floats(10, 5000), d=st.floats(0, 20_000), az=st.floats(0, 360))
def test_a_circle_placed_against_a_circle_is_exact(
    lon: float, lat: float, r: float, d: float, az: float
) -> None:
    zone = Circle((lon, lat), 10_000.0)
    olon, olat, _ = GEOD.fwd(lon, lat, az, d)
    where = placement(around_point(float(olon), float(olat), r), zone)
    centre_d = distance_m(lon, lat, float(olon), float(olat))
    assert where.within == (centre_d + r <= 10_000.0 + 1e-6) or math.isclose(
        centre_d + r, 10_000.0, abs_tol=1e-3
    )
    assert where.meets == (centre_d - r < 10_000.0) or math.isclose(centre_d - r, 10_000.0, abs_tol=1e-3)
