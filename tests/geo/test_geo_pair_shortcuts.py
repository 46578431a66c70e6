"""The shortcuts of geo.horizontal's pair test give the answers of the long way round:
clipping a ring before projecting it, and the exact disc-polygon depth and area (geo.disc)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from geo_strategies import centres, radii_m, shapes, star_polygon
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.geo import geodesy, horizontal
from truceline.geo.disc import clip_ring_to_box, disc_ring_depth_area
from truceline.geo.horizontal import horizontal_overlap_m2, overlap_geometry
from truceline.geo.shapes import Circle, Polygon, Shape


def _ring(geom: shapely.Polygon) -> tuple[np.ndarray, np.ndarray]:
    xy = shapely.get_coordinates(geom.exterior)
    return np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])


def _disc_polygon_area(radius_m: float, geom: shapely.Polygon) -> float:
    return disc_ring_depth_area(*_ring(geom), radius_m)[1]


def _ngon(radius_m: float, n: int) -> shapely.Polygon:
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    return shapely.Polygon(np.column_stack([radius_m * np.cos(t), radius_m * np.sin(t)]))


@st.composite
def planar_stars(draw: st.DrawFn) -> shapely.Polygon:
    """A star polygon in the plane (metres) somewhere around the origin."""
    n = draw(st.integers(3, 12))
    cx, cy = draw(st.floats(-3_000, 3_000)), draw(st.floats(-3_000, 3_000))
    size = draw(st.floats(10.0, 4_000.0))
    fractions = draw(st.lists(st.floats(0.2, 1.0), min_size=n, max_size=n))
    angles = [(i + draw(st.floats(0.1, 0.9))) * 2 * math.pi / n for i in range(n)]
    ring = [
        (cx + size * f * math.cos(a), cy + size * f * math.sin(a))
        for f, a in zip(fractions, angles, strict=True)
    ]
    if draw(st.booleans()):
        ring.reverse()  # either orientation
    return shapely.Polygon(ring)


@settings(max_examples=200, deadline=None)
@given(planar_stars(), st.floats(5.0, 5_000.0))
def test_disc_polygon_area_lies_between_inscribed_and_circumscribed_polygons(star, radius_m):
    n = 4096
    inscribed = shapely.intersection(_ngon(radius_m, n), star).area
    circumscribed = shapely.intersection(_ngon(radius_m / math.cos(math.pi / n), n), star).area
    area = _disc_polygon_area(radius_m, star)
    slack = 1e-9 * max(star.area, 1.0)
    assert inscribed - slack <= area <= circumscribed + slack


def test_disc_polygon_area_of_nested_and_disjoint_cases():
    square = shapely.Polygon([(-10, -10), (10, -10), (10, 10), (-10, 10)])
    assert _disc_polygon_area(100.0, square) == pytest.approx(400.0, rel=1e-12)  # square inside
    assert _disc_polygon_area(5.0, square) == pytest.approx(math.pi * 25.0, rel=1e-12)  # disc inside
    far = shapely.Polygon([(200, 200), (210, 200), (210, 210)])
    assert _disc_polygon_area(100.0, far) == pytest.approx(0.0, abs=1e-9)
    # a square edge cutting the disc through its centre: half the disc
    half = shapely.Polygon([(0, -10), (10, -10), (10, 10), (0, 10)])
    assert _disc_polygon_area(5.0, half) == pytest.approx(math.pi * 12.5, rel=1e-12)


@settings(max_examples=200, deadline=None)
@given(planar_stars(), st.floats(5.0, 5_000.0))
def test_disc_depth_is_the_radius_less_the_distance_to_the_polygon(star, radius_m):
    depth, _ = disc_ring_depth_area(*_ring(star), radius_m)
    assert depth == pytest.approx(radius_m - shapely.distance(shapely.Point(0, 0), star), abs=1e-9)


@settings(max_examples=200, deadline=None)
@given(
    planar_stars(),
    st.floats(-3_000, 3_000),
    st.floats(-3_000, 3_000),
    st.floats(100, 4_000),
    st.floats(100, 4_000),
)
def test_clipping_a_ring_to_a_box_keeps_what_is_inside_the_box(star, x0, y0, w, h):
    box = (x0, y0, x0 + w, y0 + h)
    xs, ys = clip_ring_to_box(*_ring(star), *box)
    expected = shapely.clip_by_rect(star, *box)
    if len(xs) == 0:
        assert expected.area == pytest.approx(0.0, abs=1e-6)
        return
    assert xs.min() >= box[0] - 1e-9 and xs.max() <= box[2] + 1e-9
    assert ys.min() >= box[1] - 1e-9 and ys.max() <= box[3] + 1e-9
    shoelace = 0.5 * abs(float(np.dot(xs[:-1], ys[1:]) - np.dot(xs[1:], ys[:-1])))
    assert shoelace == pytest.approx(expected.area, rel=1e-9, abs=1e-6)
    # a disc inside the box sees the same polygon before and after the clip
    cx, cy = x0 + w / 2, y0 + h / 2
    r = min(w, h) / 2 * 0.9
    before = disc_ring_depth_area(*(c - o for c, o in zip(_ring(star), (cx, cy), strict=True)), r)
    after = disc_ring_depth_area(xs - cx, ys - cy, r)
    assert after[1] == pytest.approx(before[1], rel=1e-9, abs=1e-6)
    assert (after[0] > 0) == (before[0] > 0)


def test_circle_polygon_area_agrees_with_the_generic_path():
    circle = Circle((38.0, 35.0), 20_000.0)
    poly = star_polygon(38.15, 35.05, 25_000.0, [1.0, 0.6, 0.9, 0.5, 1.0, 0.7], [0.5] * 6)
    parts, frame = horizontal._overlap_parts(circle, poly)
    generic = sum(horizontal._part_area_m2(p, *frame) for p in parts)
    # the generic path's circle is inscribed with a 1 m sagitta: low by up to 2/3 m x its arc
    arc_m = 2 * math.pi * circle.radius_m
    exact = horizontal_overlap_m2(circle, poly)
    assert exact is not None
    assert generic * (1 - 1e-4) <= exact <= generic * (1 + 1e-4) + 2 / 3 * arc_m


@st.composite
def small_near_a_big_boundary(draw: st.DrawFn) -> tuple[Shape, Shape]:
    """A big star polygon (30-100 km) and a small shape near one of its vertices, so the big
    ring is clipped before it is projected into the small shape's frame."""
    lon, lat = draw(centres())
    n = draw(st.integers(4, 10))
    fractions = draw(st.lists(st.floats(0.3, 1.0), min_size=n, max_size=n))
    jitters = draw(st.lists(st.floats(0.1, 0.9), min_size=n, max_size=n))
    big = star_polygon(lon, lat, draw(radii_m(30_000.0, 100_000.0)), fractions, jitters)
    vlon, vlat = big.ring[draw(st.integers(0, n - 1))]
    lon2, lat2, _ = geodesy.GEOD.fwd(vlon, vlat, draw(st.floats(0, 360)), draw(st.floats(0, 8_000)))
    small = draw(shapes(centre=(float(lon2), float(lat2)), high_m=6_000.0))
    return big, small


@settings(max_examples=80, deadline=None)
@given(small_near_a_big_boundary())
def test_clipping_before_projecting_changes_neither_verdict_nor_area(pair):
    big, small = pair
    assert isinstance(big, Polygon)
    clipped = horizontal_overlap_m2(big, small)
    clipped_geometry = overlap_geometry(big, small)
    for shape in pair:
        shape._cache.pop("last_near", None)
    original = horizontal._clip_box
    try:
        horizontal._clip_box = lambda poly, near: None  # project whole rings
        whole = horizontal_overlap_m2(big, small)
        whole_geometry = overlap_geometry(big, small)
    finally:
        horizontal._clip_box = original
    near = horizontal._polygon_near(big, small, *horizontal._frame_of(small))
    assert shapely.is_valid(near)  # GEOS takes only valid input
    assert (clipped is None) == (whole is None)
    if whole is not None:
        assert clipped == pytest.approx(whole, rel=1e-9, abs=1e-6)
    assert len(clipped_geometry["coordinates"]) == len(whole_geometry["coordinates"])


def test_a_clipped_ring_is_really_clipped():
    big = star_polygon(38.0, 35.0, 80_000.0, [1.0, 0.5, 1.0, 0.5, 1.0, 0.5, 1.0, 0.5], [0.5] * 8)
    lon, lat = big.ring[0]
    small = Circle((lon, lat), 2_000.0)
    near = horizontal._polygon_near(big, small, *small.center)
    whole = horizontal._polygon_in_frame(big, *small.center)
    assert shapely.get_num_coordinates(near) < shapely.get_num_coordinates(whole) / 5
    assert horizontal_overlap_m2(big, small) is not None


def _horseshoe(lon: float, lat: float, quarter_turns: int) -> Polygon:
    """A 30 km wide U, two 12 km arms 6 km apart joined 20 km away, open to the south (turned
    counter-clockwise by ``quarter_turns``)."""
    km_lat = 1 / 111.0
    km_lon = km_lat / math.cos(math.radians(lat))
    corners_km = [(-15, -20), (-3, -20), (-3, 10), (3, 10), (3, -20), (15, -20), (15, 20), (-15, 20)]
    ring = []
    for x, y in corners_km:
        for _ in range(quarter_turns):
            x, y = -y, x
        ring.append((lon + x * km_lon, lat + y * km_lat))
    return Polygon((*ring, ring[0]))


def _gap_offset(quarter_turns: int, along_km: float, across_km: float) -> tuple[float, float]:
    km_lat = 1 / 111.0
    x, y = across_km, along_km
    for _ in range(quarter_turns):
        x, y = -y, x
    return 38.0 + x * km_lat / math.cos(math.radians(35.0)), 35.0 + y * km_lat


@pytest.mark.parametrize("quarter_turns", [0, 1, 2, 3])
@pytest.mark.parametrize(
    ("along_km", "across_km", "small_kind"),
    [
        (-15.0, 0.0, "circle"),  # in the gap, near both arms: no conflict
        (0.0, -1.2, "circle"),  # overlapping one arm
        (-10.0, -1.5, "square"),
    ],
)
def test_a_ring_in_two_pieces_near_the_other_shape_gives_the_whole_rings_answer(
    quarter_turns, along_km, across_km, small_kind
):
    big = _horseshoe(38.0, 35.0, quarter_turns)
    lon, lat = _gap_offset(quarter_turns, along_km, across_km)
    if small_kind == "circle":
        small: Shape = Circle((lon, lat), 2_000.0)
    else:
        d = 0.02
        small = Polygon(
            (
                (lon - d, lat - d),
                (lon + d, lat - d),
                (lon + d, lat + d),
                (lon - d, lat + d),
                (lon - d, lat - d),
            )
        )
    frame = horizontal._frame_of(small)
    box = horizontal._clip_box(big, small)
    assert box is not None
    pieces = horizontal._clipped_in_pieces(big, box, *frame)
    assert len(shapely.get_parts(pieces)) == 2  # both arms pass through the box
    one_ring = horizontal._clipped_in_one_ring(big, box, *frame)
    if one_ring is not None:
        # joined along a box side by a strip: it must stay far from the small shape
        strip = shapely.symmetric_difference(one_ring, pieces)
        small_geom = _in_frame(small, frame)
        assert shapely.distance(strip, small_geom) > horizontal.CLIP_MARGIN_M / 2
    near = horizontal._polygon_near(big, small, *frame)
    assert shapely.is_valid(near)
    clipped = horizontal_overlap_m2(big, small)
    for shape in (big, small):
        shape._cache.pop("last_near", None)
    original = horizontal._clip_box
    try:
        horizontal._clip_box = lambda poly, near: None  # project whole rings
        whole = horizontal_overlap_m2(big, small)
    finally:
        horizontal._clip_box = original
    assert (clipped is None) == (whole is None)
    assert (whole is None) == (along_km == -15.0)
    if whole is not None:
        assert clipped == pytest.approx(whole, rel=1e-9, abs=1e-6)


def test_the_compiled_clip_hands_a_ring_joined_across_its_pieces_to_geos():
    big = _horseshoe(38.0, 35.0, 1)  # open to the east: the arms cross the box's eastern side
    small = Circle(_gap_offset(1, -15.0, 0.0), 2_000.0)
    box = horizontal._clip_box(big, small)
    assert box is not None
    assert horizontal._clipped_in_one_ring(big, box, *small.center) is None
    assert len(shapely.get_parts(horizontal._polygon_near(big, small, *small.center))) == 2


def _in_frame(shape: Shape, frame: tuple[float, float]) -> shapely.Geometry:
    if isinstance(shape, Circle):
        assert shape.center == frame
        return shapely.Point(0.0, 0.0).buffer(shape.radius_m)
    return horizontal._polygon_in_frame(shape, *frame)
