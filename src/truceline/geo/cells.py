"""Cell coverings for candidate search: each shape is covered by H3 cells, a search looks
cells up, and the exact test (geo.volume.overlap) decides.

H3, not S2, measured by bench/cells.py (300 random circles and star polygons 100 m to
100 km across in the Syria box covered; 2,000 indexed; 200 queries; true conflicts per
query 11.8, the floor):

    method            covering median / p95    cells median / max   candidates/query
    h3 res 6 overlap    0.23 ms / 0.75 ms           2 / 207              15.9
    h3 res 7 overlap    0.29 ms / 1.96 ms           4 / 1324             13.4
    h3 res 6 disk       0.14 ms / 1.06 ms          10 / 263              34.5
    s2 level 10         0.17 ms / 3.13 ms           2 / 141              21.6
    s2 level 11         0.22 ms / 9.29 ms           3 / 501              18.2

H3 res 6 gives the fewest candidates for a bounded covering cost: 0.73x S2 level 10's
candidates, with a p95 covering 4x faster (the median is 1.36x slower, 0.06 ms). s2sphere
is pure Python and has no polygon region (polygons are covered by their lat/lng bounding
rectangle), and S2 ids use all 64 bits, so a signed BIGINT column would need a remapping.
S2's exact hierarchy would matter for mixed resolutions, which we do not use. Res 7 would
cut candidates by 16% for 6x the cells of a large zone (rows in the cell table).

Resolution policy: ONE fixed resolution (CELL_RESOLUTION, 6: hexagons of ~36 km², edge
~3.7 km) for every shape. Mixed resolutions would be a trap with H3: its hierarchy is not
exact (a child cell pokes out of its parent), so looking up a point's parent cell can miss.
A fixed resolution keeps a query to "same cell id" in SQL and in memory. A 100 km-radius
zone takes ~860 cells, a 100 m plan 1 to 3; a circle at the 50,000 km² area limit
takes ~1,340.

Conservative covering (no false negatives): cover(shape) holds every cell that contains a
point of the shape (geodesic edges and a circle's true boundary included).
- "overlap" (default): H3's overlap containment (every cell whose boundary overlaps the
  polygon) applied to the shape grown outward by COVER_MARGIN_M = 10 m. H3 draws cell and
  polygon edges as straight lat/lng segments; our rings are densified (segments <= 1.3 km,
  so within centimetres of the geodesic) and res-6 cell edges are within 0.3 m of their
  great-circle arcs, so 10 m absorbs the difference.
- "disk" (fallback, no experimental H3 API): boundary points sampled ON the true boundary
  every quarter cell edge, their cells and those cells' neighbours (grid_disk k=1), plus
  the cells whose centre is inside. A point p of the shape lies in cell C; if C's centre is
  inside, the fill has C; otherwise the boundary crosses C between p and the centre (cells
  are convex), and a sample lies within a quarter edge of that crossing, so in C or a
  neighbour of C. Looser: about 2.2x the candidates of "overlap".
tests/geo/test_geo_cells.py checks both against brute force (random points of random shapes).

Cell ids are Python ints (H3 64-bit index, always < 2**63 since bit 63 is reserved 0):
store them in a BIGINT column unchanged, signed or not.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable

import h3.api.basic_int as h3
import numpy as np
import shapely
from numba import njit

from truceline.geo import geodesy
from truceline.geo.shapes import Circle, Polygon, Shape, _circle_outline, _densified, shape_bounds

CELL_RESOLUTION = 6

# How far outward the shape is grown before asking H3 which cells overlap it: absorbs the
# difference between H3's model (straight lat/lng segments between cell and polygon
# vertices) and the true geodesic edges and circle, which is centimetres for our densified
# rings and well under a metre for res 6 cell edges.
COVER_MARGIN_M = 10.0

_HAS_OVERLAP_MODE = hasattr(h3, "h3shape_to_cells_experimental")

# Coverings by value, across shape objects: the service decodes the same record several
# times (the filing, its projection rows, the index), each a new object with an empty
# memo. Bounded by the cells it holds (~40 bytes each; a 100 km zone has ~860), least
# recently used out first; a lock, as the server covers from several threads.
COVER_CACHE_CELLS = 250_000
_cover_cache: OrderedDict[tuple[object, ...], tuple[int, ...]] = OrderedDict()
_cover_cache_cells = 0
_cover_cache_lock = threading.Lock()


def _value_key(shape: Shape, resolution: int, method: str) -> tuple[object, ...]:
    """What a covering depends on: the shape's geometry (not its limits), resolution, method."""
    if isinstance(shape, Circle):
        return (resolution, method, "circle", shape.center, shape.radius_m)
    return (resolution, method, "polygon", shape.ring)


def _grown_ring(shape: Shape, resolution: int) -> list[tuple[float, float]]:
    """(lat, lng) ring around ``shape`` at least COVER_MARGIN_M (plus the cell-edge bulge of
    coarse resolutions) outside it everywhere."""
    edge_m = h3.average_hexagon_edge_length(resolution, "m")
    margin_m = COVER_MARGIN_M + 4.0 * edge_m**2 / (8.0 * geodesy.MIN_EARTH_RADIUS_M)
    if isinstance(shape, Circle):
        # inscribed outline (sagitta <= 5 m) of a circle grown by margin + 5 m
        lons, lats = geodesy.circle_points(*shape.center, shape.radius_m + margin_m + 5.0, 5.0)
    else:
        dense = _densified(shape)
        # own frame: AEQD never shrinks distances by more than ~0.5% at our sizes
        grown = shapely.Polygon(dense["xy"]).buffer(margin_m * 1.01, join_style="mitre")
        xy = np.asarray(grown.exterior.coords)[:-1]
        lons, lats = geodesy.from_frame(*dense["frame"], xy[:, 0], xy[:, 1])
    return list(zip(lats.tolist(), lons.tolist(), strict=True))


def _cover_overlap(shape: Shape, resolution: int) -> set[int]:
    poly = h3.LatLngPoly(_grown_ring(shape, resolution))
    return set(h3.h3shape_to_cells_experimental(poly, resolution, "overlap"))


def _boundary_points(shape: Shape, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    if isinstance(shape, Circle):
        n = max(8, math.ceil(2.0 * math.pi * shape.radius_m / spacing_m))
        az = np.linspace(0.0, 360.0, n, endpoint=False)
        lon, lat = shape.center
        lons, lats, _ = geodesy.GEOD.fwd(np.full(n, lon), np.full(n, lat), az, np.full(n, shape.radius_m))
        return np.asarray(lons), np.asarray(lats)
    dense = _densified(shape)
    lons, lats, _ = geodesy.densify(dense["lons"], dense["lats"], spacing_m)
    return lons, lats


def _interior_ring(shape: Shape) -> list[tuple[float, float]]:
    """(lat, lng) ring for h3's polygon fill (centre containment); close to the true boundary,
    which is all the interior step needs: near-boundary cells come from the boundary step."""
    if isinstance(shape, Circle):
        lons, lats = _circle_outline(shape)
    else:
        dense = _densified(shape)
        lons, lats = dense["lons"][:-1], dense["lats"][:-1]
    return list(zip(lats.tolist(), lons.tolist(), strict=True))


def _cover_disk(shape: Shape, resolution: int) -> set[int]:
    """Fallback without H3's overlap mode: boundary samples' cells and their neighbours, plus
    the cells whose centre is inside (see the module docstring for why this is conservative)."""
    spacing_m = h3.average_hexagon_edge_length(resolution, "m") / 4.0
    lons, lats = _boundary_points(shape, spacing_m)
    edge_cells = {
        h3.latlng_to_cell(la, lo, resolution) for lo, la in zip(lons.tolist(), lats.tolist(), strict=True)
    }
    cells: set[int] = set()
    for cell in edge_cells:
        cells.update(h3.grid_disk(cell, 1))
    cells.update(h3.polygon_to_cells(h3.LatLngPoly(_interior_ring(shape)), resolution))
    return cells


def _remember(key: tuple[object, ...], cells: tuple[int, ...]) -> None:
    global _cover_cache_cells
    with _cover_cache_lock:
        old = _cover_cache.pop(key, None)
        if old is not None:
            _cover_cache_cells -= len(old)
        _cover_cache[key] = cells
        _cover_cache_cells += len(cells)
        while _cover_cache_cells > COVER_CACHE_CELLS and len(_cover_cache) > 1:
            _cover_cache_cells -= len(_cover_cache.popitem(last=False)[1])


def clear_cover_cache() -> None:
    """Forget every covering kept by value (benchmarks that time covering call this)."""
    global _cover_cache_cells
    with _cover_cache_lock:
        _cover_cache.clear()
        _cover_cache_cells = 0


def cover(shape: Shape, resolution: int = CELL_RESOLUTION, *, method: str = "auto") -> list[int]:
    """The H3 cells (ids as ints, sorted) that together contain every point of ``shape``.

    Precondition: ``shape`` is a valid Polygon or Circle (validated at construction).
    ``method``: "overlap" (H3's overlap containment on the shape grown by COVER_MARGIN_M),
    "disk" (boundary samples + neighbours + centre fill; looser, no experimental H3 API), or
    "auto" (overlap when this h3 has it). Example: a 100 m circle gets 1 to 3 cells.
    """
    if method == "auto":
        method = "overlap" if _HAS_OVERLAP_MODE else "disk"
    memo_key = ("cells", resolution, method)
    memo = shape._cache.get(memo_key)
    if memo is not None:
        return memo
    key = _value_key(shape, resolution, method)
    with _cover_cache_lock:
        known = _cover_cache.get(key)
        if known is not None:
            _cover_cache.move_to_end(key)
    if known is None:
        cells = _cover_overlap(shape, resolution) if method == "overlap" else _cover_disk(shape, resolution)
        known = tuple(sorted(cells))
        _remember(key, known)
    # A list of its own per shape object (a caller mutating it cannot reach another shape).
    result = list(known)
    shape._cache[memo_key] = result
    return result


# Query side of the in-memory index. Covering a query shape with H3's polygon functions costs
# 0.2-0.5 ms whatever the shape (measured: h3shape_to_cells_experimental on a 4-vertex box),
# several times the rest of a strategic check. Only cells that hold something can yield a
# candidate, so the index keeps a lat/lng bounding box per OCCUPIED cell, grouped in
# BUCKET_DEG buckets, and the query's covering is "every occupied cell whose box meets the
# shape's box" (tested a bucket at a time, compiled). That is a superset of the cells that
# hold a point of the shape (such a point lies in the shape's box and in its cell's box), so
# no candidate is lost, for tens of microseconds. Stored shapes keep their tight H3 covering
# (cover()), so the candidates stay few.
BUCKET_DEG = 0.5

# Cell boxes: H3 draws a cell's edges as great-circle arcs between its vertices (on H3's
# sphere, with our lat/lng). An arc's longitude stays between its ends (arcs are short and
# never pass a pole), its latitude bulges poleward by at most L² tan(lat) / (8 R): 0.7 m for a
# 4.5 km edge at 60°. CELL_BOX_MARGIN_DEG (about 100 m) covers that up to POLAR_LAT_DEG;
# beyond it, and for a cell crossing the antimeridian, the box is widened to the pole and to
# every longitude.
CELL_BOX_MARGIN_DEG = 0.001
POLAR_LAT_DEG = 80.0


def _cell_box(cell: int) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)`` containing the whole cell (see above)."""
    boundary = h3.cell_to_boundary(cell)
    lats = [v[0] for v in boundary]
    lons = [v[1] for v in boundary]
    m = CELL_BOX_MARGIN_DEG
    lat0, lat1 = min(lats) - m, max(lats) + m
    lon0, lon1 = min(lons) - m, max(lons) + m
    if lon1 - lon0 > 180.0 or lat1 > POLAR_LAT_DEG or lat0 < -POLAR_LAT_DEG:
        lon0, lon1 = -180.0, 180.0
        if lat1 > POLAR_LAT_DEG:
            lat1 = 90.0
        if lat0 < -POLAR_LAT_DEG:
            lat0 = -90.0
    return (lon0, lat0, lon1, lat1)


def _buckets(box: tuple[float, float, float, float]) -> list[tuple[int, int]]:
    i0 = math.floor((box[0] + 180.0) / BUCKET_DEG)
    i1 = math.floor((box[2] + 180.0) / BUCKET_DEG)
    j0 = math.floor((box[1] + 90.0) / BUCKET_DEG)
    j1 = math.floor((box[3] + 90.0) / BUCKET_DEG)
    return [(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]


class CellIndex:
    """In-memory index: cell id -> keys. ``candidates`` returns a superset of the keys whose
    shape overlaps the query shape (no false negatives; the exact test decides). Keys are any
    hashable values (the strategic engine uses ints, to filter them with numpy).

    Optional tiers split each cell's keys further by any coarse label the caller likes (the
    strategic engine uses time slices): a query for some tiers only sees keys filed under
    them. Keys added without tiers are in tier 0."""

    def __init__(self, resolution: int = CELL_RESOLUTION) -> None:
        self.resolution = resolution
        # tier -> cell -> keys (tiers outermost: a query asks for few tiers and many cells)
        self._keys: dict[int, dict[int, set[Hashable]]] = {}
        self._entries_in_cell: dict[int, int] = {}  # (key, tier) entries per occupied cell
        self._cells_by_key: dict[Hashable, tuple[list[int], tuple[int, ...]]] = {}
        self._boxes: dict[int, tuple[float, float, float, float]] = {}  # occupied cells only
        self._cells_by_bucket: dict[tuple[int, int], set[int]] = {}
        self._bucket_arrays: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}

    def __len__(self) -> int:
        return len(self._cells_by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._cells_by_key

    def add(self, key: Hashable, shape_or_volume: object, tiers: Iterable[int] = (0,)) -> None:
        """Index ``key`` under the cells of a Shape, or of a Volume4D's shape, in each of
        ``tiers`` (replaces any earlier entry for ``key``)."""
        shape = _shape_of(shape_or_volume)
        if key in self._cells_by_key:
            self.remove(key)
        cells = cover(shape, self.resolution)
        tiers = tuple(dict.fromkeys(tiers))
        self._cells_by_key[key] = (cells, tiers)
        for tier in tiers:
            by_cell = self._keys.setdefault(tier, {})
            for cell in cells:
                by_cell.setdefault(cell, set()).add(key)
        for cell in cells:
            before = self._entries_in_cell.get(cell, 0)
            self._entries_in_cell[cell] = before + len(tiers)
            if before == 0:
                self._occupy(cell)

    def remove(self, key: Hashable) -> None:
        """Forget ``key``; a key not in the index is ignored."""
        cells, tiers = self._cells_by_key.pop(key, ((), ()))
        for tier in tiers:
            by_cell = self._keys[tier]
            for cell in cells:
                keys = by_cell[cell]
                keys.discard(key)
                if not keys:
                    del by_cell[cell]
            if not by_cell:
                del self._keys[tier]
        for cell in cells:
            left = self._entries_in_cell[cell] - len(tiers)
            if left:
                self._entries_in_cell[cell] = left
            else:
                del self._entries_in_cell[cell]
                self._vacate(cell)

    def _occupy(self, cell: int) -> None:
        box = _cell_box(cell)
        self._boxes[cell] = box
        for b in _buckets(box):
            self._cells_by_bucket.setdefault(b, set()).add(cell)
            self._bucket_arrays.pop(b, None)

    def _vacate(self, cell: int) -> None:
        for b in _buckets(self._boxes.pop(cell)):
            self._bucket_arrays.pop(b, None)
            cells = self._cells_by_bucket[b]
            cells.discard(cell)
            if not cells:
                del self._cells_by_bucket[b]

    def query_cells(self, shape_or_volume: object) -> list[int]:
        """The occupied cells whose box meets the query shape's box: every occupied cell that
        holds a point of the shape is among them."""
        x0, y0, x1, y1 = shape_bounds(_shape_of(shape_or_volume))
        found: list[int] = []
        for b in _buckets((x0, y0, x1, y1)):
            arrays = self._bucket_arrays.get(b)
            if arrays is None:
                arrays = self._bucket_arrays[b] = self._arrays_of(b)
            found.extend(_cells_meeting_box(*arrays, x0, y0, x1, y1).tolist())
        return found

    def build_query_arrays(self) -> None:
        """Build now the arrays a query would otherwise build on first meeting each bucket
        (about 60 µs for a bucket of 70 cells, measured): after a bulk load, so that the first
        checks in each region do not pay for them. Later adds and removes rebuild only the
        buckets whose occupied cells they change."""
        for bucket in self._cells_by_bucket:
            if bucket not in self._bucket_arrays:
                self._bucket_arrays[bucket] = self._arrays_of(bucket)

    def _arrays_of(self, bucket: tuple[int, int]) -> tuple[np.ndarray, np.ndarray]:
        # a bucket's cells and boxes as arrays, tested in one vectorised pass per query;
        # rebuilt on the next query after a cell of the bucket is occupied or vacated
        cells = sorted(self._cells_by_bucket.get(bucket, ()))
        boxes = np.array([self._boxes[c] for c in cells], dtype=np.float64).reshape(-1, 4)
        return np.array(cells, dtype=np.int64), boxes

    def candidates(self, shape_or_volume: object, tiers: Iterable[int] | None = None) -> set[Hashable]:
        """Keys whose covering shares a cell with the query's covering (query_cells), filed
        under one of ``tiers`` (None: any tier)."""
        cells = self.query_cells(shape_or_volume)
        wanted = self._keys.values() if tiers is None else [self._keys.get(t) for t in tiers]
        groups: list[set[Hashable]] = []
        for by_cell in wanted:
            if by_cell:
                groups.extend(filter(None, map(by_cell.get, cells)))
        return set().union(*groups)


@njit(cache=True)
def _cells_meeting_box(
    ids: np.ndarray, boxes: np.ndarray, x0: float, y0: float, x1: float, y1: float
) -> np.ndarray:
    """The ids whose box meets the box (x0, y0, x1, y1), boundaries included. Compiled: a
    bucket holds some dozens of cells, where each numpy call's overhead would cost more than
    its comparisons (one call here against seven: measured 10 -> 4 µs a query)."""
    out = np.empty(ids.shape[0], dtype=ids.dtype)
    n = 0
    for i in range(ids.shape[0]):
        if boxes[i, 0] <= x1 and x0 <= boxes[i, 2] and boxes[i, 1] <= y1 and y0 <= boxes[i, 3]:
            out[n] = ids[i]
            n += 1
    return out[:n]


def _shape_of(shape_or_volume: object) -> Shape:
    shape = getattr(shape_or_volume, "shape", shape_or_volume)
    if not isinstance(shape, Polygon | Circle):
        raise TypeError(f"expected a Shape or a Volume4D, got {type(shape_or_volume).__name__}")
    return shape
