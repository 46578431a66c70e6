"""H3 cell coverings: conservative (every point of the shape is in a covered cell), and the
index finds every conflicting volume (no false negatives)."""

from __future__ import annotations

from datetime import UTC, datetime

import h3.api.basic_int as h3
import numpy as np
import pytest
from geo_strategies import nearby_pairs, shapes, square
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.geo import geodesy
from truceline.geo.altitude import AltitudeBand
from truceline.geo.cells import CELL_RESOLUTION, CellIndex, cover, covering_resolution
from truceline.geo.horizontal import point_in_shape, shapes_conflict
from truceline.geo.shapes import Circle, shape_bounds
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D


def test_cover_gives_sorted_signed_64_bit_ints_at_one_resolution():
    cells = cover(square(36.0, 33.0, 0.3))
    assert cells == sorted(set(cells)) and all(isinstance(c, int) for c in cells)
    assert all(0 < c < 2**63 for c in cells)  # fits a signed BIGINT as is
    assert {h3.get_resolution(c) for c in cells} == {CELL_RESOLUTION}


def test_small_shapes_take_few_cells_and_large_ones_many():
    assert 1 <= len(cover(Circle((36.3, 33.5), 50.0))) <= 3
    assert 600 <= len(cover(Circle((36.3, 33.5), 100_000.0))) <= 1500


def _points_of(shape, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points of the shape: its true boundary (geodesic edges / the circle) densely, plus
    random interior points."""
    if isinstance(shape, Circle):
        bl, bt = geodesy.circle_points(*shape.center, shape.radius_m, 0.01)
    else:
        lons = np.array([v[0] for v in shape.ring])
        lats = np.array([v[1] for v in shape.ring])
        bl, bt, _ = geodesy.densify(lons, lats, 50.0)
    rng = np.random.default_rng(seed)
    b = shape_bounds(shape)
    il, it = rng.uniform(b[0], b[2], n), rng.uniform(b[1], b[3], n)
    keep = [point_in_shape(x, y, shape) for x, y in zip(il, it, strict=True)]
    return np.concatenate([bl, il[keep]]), np.concatenate([bt, it[keep]])


def _missing(shape, cells: set[int], seed: int = 1) -> list[tuple[float, float]]:
    """Points of ``shape`` whose cell (at the covering's resolution) is not in ``cells``."""
    resolution = covering_resolution(cells)
    lons, lats = _points_of(shape, 200, seed=seed)
    return [
        (x, y)
        for x, y in zip(lons.tolist(), lats.tolist(), strict=True)
        if h3.latlng_to_cell(y, x, resolution) not in cells
    ]


@settings(max_examples=40, deadline=None)
@given(shapes(), st.sampled_from(["wall", "overlap", "disk"]), st.sampled_from([6, 7]))
def test_covering_holds_every_point_of_the_shape(shape, method, resolution):
    cells = set(cover(shape, resolution, method=method))
    assert {h3.get_resolution(c) for c in cells} == {resolution}  # shapes of this size keep it
    assert not _missing(shape, cells)


def test_index_add_remove_replace_and_volumes():
    idx = CellIndex()
    t = TimeWindow(datetime(2026, 3, 1, tzinfo=UTC))
    idx.add("a", square(36.0, 33.0, 0.1))
    idx.add("b", Volume4D(Circle((36.05, 33.05), 500.0), AltitudeBand(0, 100), t))
    idx.add("far", square(40.0, 36.0, 0.1))
    assert len(idx) == 3 and "far" in idx
    assert idx.candidates(Circle((36.05, 33.05), 10.0)) == {"a", "b"}
    idx.add("far", square(36.02, 33.02, 0.01))  # replaced: now near
    assert idx.candidates(Circle((36.05, 33.05), 10.0)) >= {"a", "b"}
    assert "far" in idx.candidates(square(36.02, 33.02, 0.01))
    idx.remove("a")
    idx.remove("never-added")
    assert "a" not in idx.candidates(square(36.0, 33.0, 0.1))
    idx.remove("b")
    idx.remove("far")
    assert len(idx) == 0 and idx._keys == {} and idx._boxes == {} and idx._cells_by_bucket == {}
    with pytest.raises(TypeError):
        idx.add("x", "not a shape")


def _offset_circles(seed: int) -> list[tuple[Circle, Circle]]:
    """Pairs of circles overlapping by 1 cm (a conflict), anywhere relative to the cells."""
    rng = np.random.default_rng(seed)
    pairs = []
    for _ in range(20):
        r1, r2 = float(rng.uniform(30, 5000)), float(rng.uniform(30, 5000))
        lon, lat = float(rng.uniform(36, 41)), float(rng.uniform(33, 37))
        lon2, lat2, _ = geodesy.GEOD.fwd(lon, lat, float(rng.uniform(0, 360)), r1 + r2 - 0.01)
        pairs.append((Circle((lon, lat), r1), Circle((float(lon2), float(lat2)), r2)))
    return pairs


def test_shallow_conflicts_are_always_candidates():
    for a, b in _offset_circles(seed=3):
        assert shapes_conflict(a, b)
        idx = CellIndex()
        idx.add("b", b)
        assert idx.candidates(a) == {"b"}


@settings(max_examples=15, deadline=None)
@given(st.lists(nearby_pairs(), min_size=5, max_size=15), st.sampled_from(["wall", "overlap", "disk"]))
def test_candidate_search_has_no_false_negatives(pairs, method):
    stored = {f"k{i}": s for i, (s, _) in enumerate(pairs)}
    stored.update({f"m{i}": s for i, (_, s) in enumerate(pairs)})
    cells_by_key = {k: set(cover(s, method=method)) for k, s in stored.items()}
    idx = CellIndex()
    for k, s in stored.items():
        idx.add(k, s)
    for qk, query in stored.items():
        brute = {k for k, s in stored.items() if shapes_conflict(query, s)}
        found = (
            idx.candidates(query)
            if method == "wall"
            else {k for k, cells in cells_by_key.items() if cells & cells_by_key[qk]}
        )
        assert brute <= found


def test_tiers_split_a_cells_keys_and_a_query_sees_only_its_tiers():
    idx = CellIndex()
    idx.add("morning", square(36.0, 33.0, 0.05), tiers=(1, 2))
    idx.add("evening", square(36.0, 33.0, 0.05), tiers=(3,))
    idx.add("untiered", square(36.0, 33.0, 0.05))  # tier 0
    query = Circle((36.02, 33.02), 100.0)
    assert idx.candidates(query, tiers=[2]) == {"morning"}
    assert idx.candidates(query, tiers=[3, 9]) == {"evening"}
    assert idx.candidates(query, tiers=[]) == set()
    assert idx.candidates(query) == {"morning", "evening", "untiered"}
    idx.add("morning", square(36.0, 33.0, 0.05), tiers=(3,))  # replaced, now in the evening
    assert idx.candidates(query, tiers=[1, 2]) == set()
    for key in ("morning", "evening", "untiered"):
        idx.remove(key)
    assert idx._keys == {} and idx._entries_in_cell == {} and idx._boxes == {}


def test_query_cells_include_every_cell_holding_a_point_of_the_query():
    rng = np.random.default_rng(7)
    idx = CellIndex()
    # occupy a field of cells around Damascus, then ask for shapes anywhere over it
    for i in range(60):
        idx.add(i, Circle((float(rng.uniform(35.8, 36.8)), float(rng.uniform(33.0, 33.9))), 3_000.0))
    for k in range(30):
        centre = (float(rng.uniform(35.9, 36.7)), float(rng.uniform(33.1, 33.8)))
        query = Circle(centre, float(rng.uniform(50, 9_000)))
        lons, lats = _points_of(query, 300, seed=k)
        points = zip(lons.tolist(), lats.tolist(), strict=True)
        holding = {h3.latlng_to_cell(y, x, CELL_RESOLUTION) for x, y in points}
        occupied = holding & set(idx._boxes)
        assert occupied <= set(idx.query_cells(query))


def test_query_arrays_built_ahead_answer_as_those_built_on_demand_and_follow_later_changes():
    rng = np.random.default_rng(11)
    circles = [
        Circle((float(rng.uniform(35.0, 38.0)), float(rng.uniform(32.5, 35.0))), 4_000.0) for _ in range(80)
    ]
    ahead, on_demand = CellIndex(), CellIndex()
    for i, circle in enumerate(circles):
        ahead.add(i, circle)
        on_demand.add(i, circle)
    ahead.build_query_arrays()
    assert set(ahead._bucket_arrays) == set(ahead._cells_by_bucket)
    assert on_demand._bucket_arrays == {}
    queries = [
        Circle((float(rng.uniform(35.0, 38.0)), float(rng.uniform(32.5, 35.0))), 9_000.0) for _ in range(40)
    ]
    for query in queries:
        assert sorted(ahead.query_cells(query)) == sorted(on_demand.query_cells(query))
    # a later add in an empty place, and a remove, are seen by the next query
    lonely = Circle((39.5, 36.5), 2_000.0)
    ahead.add("lonely", lonely)
    assert ahead.candidates(lonely) == {"lonely"}
    ahead.remove(0)
    assert 0 not in ahead.candidates(circles[0])


def test_candidate_keys_are_the_candidates_of_every_tier_through_adds_and_removes():
    rng = np.random.default_rng(13)
    idx = CellIndex()

    def circle() -> Circle:
        centre = (float(rng.uniform(35.5, 37.5)), float(rng.uniform(32.5, 34.5)))
        return Circle(centre, float(rng.uniform(50, 30_000)))

    idx.add_many((i, circle(), (i % 3,)) for i in range(150))
    idx.build_query_arrays()
    queries = [circle() for _ in range(40)]
    for step in range(4):
        for query in queries:
            assert set(idx.candidate_keys(query).tolist()) == idx.candidates(query)
        for key in rng.choice(150, 30, replace=False).tolist():  # some go, some come back moved
            idx.remove(key)
            if step % 2:
                idx.add(key, circle(), (key % 3,))
    assert idx.candidate_keys(Circle((10.0, 10.0), 100.0)).size == 0
