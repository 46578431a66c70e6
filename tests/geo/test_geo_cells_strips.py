"""Coverings of long thin shapes: bounded by the shape's size, not its aspect ratio (issue
13), and still conservative (every point of the shape in a covered cell; every true
conflict a candidate)."""

from __future__ import annotations

import h3.api.basic_int as h3
import numpy as np
from hypothesis import given, reject, settings
from hypothesis import strategies as st
from test_geo_cells import _missing

from truceline.errors import GeometryError
from truceline.geo import geodesy
from truceline.geo.cells import (
    CELL_RESOLUTION,
    MAX_BOUNDARY_SAMPLES,
    CellIndex,
    cover,
    covering_resolution,
    wall_resolution,
)
from truceline.geo.horizontal import shapes_conflict
from truceline.geo.shapes import Circle, Polygon

# The issue's strip: 60 degrees by 0.03 degrees (about 6,600 km by 3.3 km), under the area limit.
STRIP_60 = Polygon(((0.0, 10.0), (60.0, 10.0), (60.0, 10.03), (0.0, 10.03), (0.0, 10.0)))
# Its 90-degree sister, north to south.
STRIP_90 = Polygon(((0.0, -45.0), (0.03, -45.0), (0.03, 45.0), (0.0, 45.0), (0.0, -45.0)))


def strip(lon: float, lat: float, azimuth: float, length_m: float, width_m: float) -> Polygon:
    """A rectangle-like strip from (lon, lat) along ``azimuth``, ``width_m`` wide."""
    a_lon, a_lat, _ = geodesy.GEOD.fwd(lon, lat, azimuth + 90.0, width_m)
    b_lon, b_lat, back = geodesy.GEOD.fwd(lon, lat, azimuth, length_m)
    c_lon, c_lat, _ = geodesy.GEOD.fwd(b_lon, b_lat, back - 90.0, width_m)
    corners = [(lon, lat), (b_lon, b_lat), (c_lon, c_lat), (a_lon, a_lat)]
    ring = [(float(x), float(y)) for x, y in corners]
    return Polygon((*ring, ring[0]))


def test_the_issue_strip_is_covered_by_its_boundary_with_a_bounded_cell_count():
    cells = cover(STRIP_60)
    assert covering_resolution(cells) == CELL_RESOLUTION  # 6,600 km of boundary fits the budget
    # about two rows of hexagons along 6,600 km (edge 3.7 km): thousands, not the bounding box's
    assert 2_000 <= len(cells) <= MAX_BOUNDARY_SAMPLES
    assert not _missing(STRIP_60, set(cells))


def test_a_longer_strip_goes_to_a_coarser_resolution_within_the_budget():
    assert wall_resolution(STRIP_90) < CELL_RESOLUTION
    cells = cover(STRIP_90)
    assert covering_resolution(cells) == wall_resolution(STRIP_90)
    assert len(cells) <= MAX_BOUNDARY_SAMPLES
    assert not _missing(STRIP_90, set(cells))


@st.composite
def strips(draw: st.DrawFn) -> Polygon:
    lon = draw(st.floats(-150.0, 100.0))
    lat = draw(st.floats(-60.0, 60.0))
    azimuth = draw(st.floats(0.0, 360.0))
    length_m = float(np.exp(draw(st.floats(np.log(5_000.0), np.log(2_000_000.0)))))
    width_m = float(np.exp(draw(st.floats(np.log(10.0), np.log(20_000.0)))))
    return strip(lon, lat, azimuth, length_m, width_m)


@settings(max_examples=25, deadline=None)
@given(strips())
def test_a_strip_of_any_orientation_and_length_is_covered_wholly(shape):
    cells = set(cover(shape))
    assert len(cells) <= MAX_BOUNDARY_SAMPLES
    assert not _missing(shape, cells)


@settings(max_examples=10, deadline=None)
@given(strips(), st.integers(0, 2**32 - 1))
def test_every_true_conflict_with_a_strip_is_a_candidate_both_ways(shape, seed):
    # small circles scattered on and around the strip: some overlap it, some do not
    rng = np.random.default_rng(seed)
    ring = np.array(shape.ring)
    t = rng.uniform(0.0, 1.0, 40)
    base = ring[0] + t[:, None] * (ring[1] - ring[0])
    near = [
        Circle((float(x), float(y)), float(rng.uniform(20.0, 5_000.0)))
        for x, y in base + rng.normal(0.0, 0.02, base.shape)
    ]
    stored = CellIndex()
    stored.add("strip", shape)
    for i, circle in enumerate(near):
        stored.add(i, circle)
    for i, circle in enumerate(near):
        if shapes_conflict(circle, shape):
            assert "strip" in stored.candidates(circle)  # the strip stored, the circle the query
            assert i in stored.candidates(shape)  # the strip the query


def test_a_strip_as_a_query_looks_up_its_covering_not_its_bounding_box():
    # a diagonal strip's bounding box holds thousands of occupied cells it never touches
    diagonal = strip(30.0, 30.0, 45.0, 1_500_000.0, 500.0)
    index = CellIndex()
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = 30.0, 30.0, 43.0, 40.0
    for i in range(400):
        index.add(i, Circle((float(rng.uniform(x0, x1)), float(rng.uniform(y0, y1))), 2_000.0))
    looked_up = set(index.query_cells(diagonal))
    strip_cells = set(cover(diagonal))
    occupied = set(index._boxes)
    assert occupied & strip_cells <= looked_up  # nothing it touches is missed
    assert len(looked_up) < len(occupied) / 4  # and most of the box is not looked at
    assert {h3.get_resolution(c) for c in strip_cells} == {CELL_RESOLUTION}


@st.composite
def shapes_anywhere(draw: st.DrawFn) -> Circle | Polygon:
    """Small and medium shapes anywhere short of the poles: across bucket edges, near the
    antimeridian and in high latitudes, where the tiled covering gives way to the others."""
    lon = draw(st.floats(-179.0, 179.0))
    lat = draw(st.floats(-84.0, 84.0))
    radius_m = float(np.exp(draw(st.floats(np.log(30.0), np.log(60_000.0)))))
    circle = draw(st.booleans())
    azimuth, aspect = draw(st.floats(0.0, 360.0)), draw(st.floats(0.05, 1.0))
    try:
        if circle:
            return Circle((lon, lat), radius_m)
        return strip(lon, lat, azimuth, radius_m, radius_m * aspect)
    except GeometryError:  # across the antimeridian: not a shape we take
        reject()


@settings(max_examples=60, deadline=None)
@given(shapes_anywhere())
def test_a_shape_anywhere_is_covered_wholly(shape):
    cells = set(cover(shape))
    assert covering_resolution(cells) == CELL_RESOLUTION
    assert not _missing(shape, cells)
