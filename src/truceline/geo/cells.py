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
S2's exact hierarchy would matter for a hierarchical lookup, which we do not use. Res 7 would
cut candidates by 16% for 6x the cells of a large zone (rows in the cell table).

Resolution policy: CELL_RESOLUTION (6: hexagons of ~36 km², edge ~3.7 km) for every shape
that fits the covering budget (MAX_BOUNDARY_SAMPLES, MAX_INTERIOR_CELLS): every plan and
zone of the sizes users file. A shape too long or too large for it (a strip thousands of km
long, issue 13) is covered at the finest coarser resolution within it (``wall_resolution``),
so that no covering costs more than about 0.1 s of the writer. Mixed resolutions are safe
here because nothing relies on H3's hierarchy (which is not exact: a child cell pokes out of
its parent): a covering is all of one resolution (``covering_resolution``), and the index
looks cells up by their lat/lng boxes, whatever their resolution. A 100 km-radius zone takes
~900 cells, a 100 m plan 1 to 4.

Conservative covering (no false negatives): cover(shape) holds every cell that contains a
point of the shape (geodesic edges and a circle's true boundary included). Methods:
- "wall" (default): for a shape up to ~60 km across, the cells whose box meets the shape's
  bounds, from cached tilings of BUCKET_DEG buckets (``_cover_tiled``; no H3 call of its
  own: ~5 us, so that indexing 100,000 volumes is no slower than building an STRtree over
  them), or from a disk around its centre's cell near the poles and the antimeridian
  (``_cover_small``); for larger shapes, the wall of boundary samples' cells and their
  neighbours with the inside flooded (``_cover_wall``: cost linear in perimeter and area,
  whatever the aspect ratio). The block comments at each say why they are conservative.
- "overlap" (kept for comparison, bench/cells.py): H3's overlap containment applied to the
  shape grown outward by COVER_MARGIN_M = 10 m. H3 draws cell and
  polygon edges as straight lat/lng segments; our rings are densified (segments <= 1.3 km,
  so within centimetres of the geodesic) and res-6 cell edges are within 0.3 m of their
  great-circle arcs, so 10 m absorbs the difference. Its cost grows with cells x vertices:
  17 s for the issue's 60-degree strip.
- "disk" (kept for comparison): boundary points sampled ON the true boundary
  every quarter cell edge, their cells and those cells' neighbours (grid_disk k=1), plus
  the cells whose centre is inside. A point p of the shape lies in cell C; if C's centre is
  inside, the fill has C; otherwise the boundary crosses C between p and the centre (cells
  are convex), and a sample lies within a quarter edge of that crossing, so in C or a
  neighbour of C. Looser: about 2.2x the candidates of "overlap".
tests/geo/test_geo_cells.py and test_geo_cells_strips.py check them against brute force
(random points of random shapes and strips); coverings stored with a volume are read back
at start-up (``remember_cover``, store.volumes) instead of being computed again.

Cell ids are Python ints (H3 64-bit index, always < 2**63 since bit 63 is reserved 0):
store them in a BIGINT column unchanged, signed or not.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from itertools import islice

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


# --- the "wall" covering: bounded by the shape's size, whatever its aspect ratio -------------
#
# H3's polygon functions test every candidate cell against every edge of the ring, so their
# cost grows with cells x vertices: a thin strip 60 degrees long (a densified ring of 60,000
# vertices) took 17 s in h3shape_to_cells_experimental and 2.5 s in polygon_to_cells, holding
# the GIL. The wall covering touches each boundary sample and each cell once:
#   1. boundary samples every WALL_SPACING_EDGES cell edges along the shape's boundary (its
#      densified ring, within centimetres of the geodesic edges; a circle's outline, within
#      a metre), and their cells' disks (k=1): the wall. A cell C holding a boundary point b
#      holds it within half a spacing of a sample s; s is much closer to C than the thickness
#      of C's ring of neighbours (min edge >= 0.70 average edge at every resolution,
#      measured), so s lies in C or a neighbour of C, and C is in the wall.
#   2. a cell outside the wall holds no boundary point: it lies wholly inside or wholly
#      outside. The cells next to the wall are told apart by their centres (a centre is more
#      than an inradius from the boundary, so a planar lat/lng test is exact), and the inside
#      ones flooded through their neighbours outside the wall (two neighbours sharing an edge,
#      both outside the wall, are on the same side).
#   3. the wall is trimmed to the cells whose box meets the shape's bounds (a cell holding a
#      point of the shape does).
# Skipped when no whole cell can fit in the shape (its bounds narrower than a cell): step 2
# would find nothing. Cost: about 1 us per sample, 3 us per wall cell, 3 us per inside cell.
WALL_SPACING_EDGES = 0.25

# Budget: the finest resolution (CELL_RESOLUTION at most) whose covering stays within these
# counts. A plan of the size users file keeps CELL_RESOLUTION; only long or huge shapes (a
# strip thousands of km long, a zone over the area limit's default) go coarser, with fewer
# and larger cells and so more candidates, which the exact test sorts out.
MAX_BOUNDARY_SAMPLES = 16_384
MAX_INTERIOR_CELLS = 8_192

# upper bound of a degree: of latitude at the poles, of longitude at the equator
_METRES_PER_DEGREE_MAX = 111_700.0


def _ring_lonlat(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """The shape's boundary as a closed lon/lat ring (densified polygon ring, or the circle's
    1 m outline, which lies on the circle)."""
    if isinstance(shape, Circle):
        lons, lats = _circle_outline(shape)
        return np.append(lons, lons[0]), np.append(lats, lats[0])
    dense = _densified(shape)
    return dense["lons"], dense["lats"]


def _segment_lengths_m(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    # equirectangular per segment: segments are at most a few km, well within 1% of geodesic
    mid = np.radians((lats[:-1] + lats[1:]) / 2.0)
    dx = np.diff(lons) * np.cos(mid)
    dy = np.diff(lats)
    return np.hypot(dx, dy) * (math.pi / 180.0 * geodesy.MIN_EARTH_RADIUS_M)


def _area_m2(shape: Shape) -> float:
    if isinstance(shape, Circle):
        return math.pi * shape.radius_m**2
    return float(shapely.Polygon(_densified(shape)["xy"]).area)


def wall_resolution(shape: Shape, finest: int = CELL_RESOLUTION) -> int:
    """The finest resolution (at most ``finest``) at which ``shape``'s wall covering stays
    within MAX_BOUNDARY_SAMPLES samples and MAX_INTERIOR_CELLS cells."""
    lons, lats = _ring_lonlat(shape)
    perimeter_m = float(_segment_lengths_m(lons, lats).sum())
    area_m2 = _area_m2(shape)
    for resolution in range(finest, 0, -1):
        edge_m = h3.average_hexagon_edge_length(resolution, "m")
        samples = perimeter_m / (WALL_SPACING_EDGES * edge_m)
        cells = area_m2 / h3.average_hexagon_area(resolution, "m^2")
        if samples <= MAX_BOUNDARY_SAMPLES and cells <= MAX_INTERIOR_CELLS:
            return resolution
    return 0


def _boundary_samples(shape: Shape, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Points along the shape's boundary, consecutive ones at most ``spacing_m`` apart
    (linear in lat/lng between ring vertices a few km apart at most)."""
    lons, lats = _ring_lonlat(shape)
    lengths = _segment_lengths_m(lons, lats)
    pieces = np.maximum(1, np.ceil(lengths / spacing_m)).astype(np.intp)
    seg = np.repeat(np.arange(len(pieces)), pieces)
    starts = np.cumsum(pieces) - pieces
    frac = (np.arange(int(pieces.sum())) - np.repeat(starts, pieces)) / np.repeat(pieces, pieces)
    out_lon = lons[:-1][seg] + frac * np.diff(lons)[seg]
    out_lat = lats[:-1][seg] + frac * np.diff(lats)[seg]
    return out_lon, out_lat


def _could_hold_a_cell(shape: Shape, resolution: int) -> bool:
    """False when the shape's bounds are narrower than any cell: no cell lies wholly inside."""
    x0, y0, x1, y1 = shape_bounds(shape)
    widest_cos = math.cos(math.radians(min(abs(y0), abs(y1)))) if y0 * y1 > 0 else 1.0
    width_m = (x1 - x0) * _METRES_PER_DEGREE_MAX * widest_cos
    height_m = (y1 - y0) * _METRES_PER_DEGREE_MAX
    # a whole cell needs twice its inradius both ways: >= 2 x 0.866 x 0.70 = 1.21 average
    # edges; 0.84 leaves some slack
    return min(width_m, height_m) >= 0.84 * h3.average_hexagon_edge_length(resolution, "m")


def _centres_inside(shape: Shape, cells: list[int]) -> list[bool]:
    centres = np.array([h3.cell_to_latlng(c) for c in cells], dtype=np.float64).reshape(-1, 2)
    if isinstance(shape, Circle):
        n = len(cells)
        lon, lat = shape.center
        _, _, dist = geodesy.GEOD.inv(np.full(n, lon), np.full(n, lat), centres[:, 1], centres[:, 0])
        return (np.asarray(dist) < shape.radius_m).tolist()
    ring = _densified(shape)
    poly = shapely.Polygon(np.column_stack([ring["lons"], ring["lats"]]))
    return shapely.contains_xy(poly, centres[:, 1], centres[:, 0]).tolist()


def _cover_wall(shape: Shape, resolution: int) -> set[int]:
    """See the block comment above: the wall of boundary cells, the inside flooded, trimmed."""
    spacing_m = WALL_SPACING_EDGES * h3.average_hexagon_edge_length(resolution, "m")
    lons, lats = _boundary_samples(shape, spacing_m)
    to_cell = h3.latlng_to_cell
    sampled = {to_cell(la, lo, resolution) for lo, la in zip(lons.tolist(), lats.tolist(), strict=True)}
    wall: set[int] = set()
    for cell in sampled:
        wall.update(h3.grid_disk(cell, 1))
    bounds = shape_bounds(shape)
    cells = {c for c in wall if _boxes_meet(cell_box(c), bounds)}
    if not _could_hold_a_cell(shape, resolution):
        return cells
    tiled = _tiling_cells(bounds, resolution)
    if tiled is not None:
        # A zone-sized shape: every cell outside the wall within its bounds' tilings is wholly
        # inside or wholly outside, and its centre tells which (one vectorised test).
        candidates = sorted(set(tiled.tolist()) - wall)
        inside = _centres_inside(shape, candidates) if candidates else []
        return cells | {c for c, keep in zip(candidates, inside, strict=True) if keep}
    next_to_wall = {n for c in wall for n in h3.grid_disk(c, 1)} - wall
    candidates = sorted(next_to_wall)
    frontier = [c for c, inside in zip(candidates, _centres_inside(shape, candidates), strict=True) if inside]
    inside_cells = set(frontier)
    while frontier:
        cell = frontier.pop()
        for n in h3.grid_disk(cell, 1):
            if n not in wall and n not in inside_cells:
                inside_cells.add(n)
                frontier.append(n)
    return cells | inside_cells


# Small shapes (most plans) skip the wall: the cells whose box meets the shape's bounds B,
# among the disk of SMALL_RINGS_MAX rings at most around the cell of B's centre. The cells that
# meet B are connected (B is, and three hexagons meet at each vertex) and include that centre
# cell; so if no cell of the ring just outside the disk meets B (even by its box), none beyond
# it does either, and the disk holds them all. Two H3 calls and a few dozen box lookups.
SMALL_RINGS_MAX = 4


def _cover_small(shape: Shape, resolution: int) -> list[int] | None:
    """The small-shape covering above, or None when the shape is not small enough for it."""
    bounds = shape_bounds(shape)
    x0, y0, x1, y1 = bounds
    rings = _small_rings(bounds, resolution)
    if rings > SMALL_RINGS_MAX:
        return None
    centre = h3.latlng_to_cell((y0 + y1) / 2.0, (x0 + x1) / 2.0, resolution)
    inner_ids, inner_boxes, outer_boxes = _disk_and_ring(centre, rings)
    if _boxes_meeting(outer_boxes, x0, y0, x1, y1).any():
        return None
    return inner_ids[_boxes_meeting(inner_boxes, x0, y0, x1, y1)].tolist()


def _small_rings(bounds: tuple[float, float, float, float], resolution: int) -> int:
    """How many rings of cells around its centre's cell a shape with ``bounds`` may reach."""
    x0, y0, x1, y1 = bounds
    half_diagonal_m = 0.5 * math.hypot((x1 - x0) * math.cos(math.radians((y0 + y1) / 2.0)), y1 - y0)
    half_diagonal_m *= _METRES_PER_DEGREE_MAX
    # neighbouring centres are >= 1.5 min edges apart along a ring's narrowest way
    ring_step_m = 1.5 * 0.70 * h3.average_hexagon_edge_length(resolution, "m")
    return max(1, math.ceil(half_diagonal_m / ring_step_m))


# The same covering for a small shape without any H3 call of its own: every cell whose box
# meets a BUCKET_DEG bucket, its "tiling", is computed once (H3's centre fill of the bucket
# grown by TILING_GROWTH_EDGES cell edges: a cell whose box meets the bucket has its centre
# within an edge and a box margin of it) and kept; a shape's covering is the cells of its
# buckets' tilings whose box meets its bounds (a cell holding a point x of the shape has a
# box holding x, which lies in one of the shape's buckets). Compiled box tests, about 5 us
# a shape. Not near the poles or the antimeridian, where the grown bucket would wrap.
# Up to shapes some 60 km across: beyond, the wall's tighter covering is worth its cost.
TILED_RINGS_MAX = 8
TILING_GROWTH_EDGES = 2.5
TILING_MAX_LAT = 75.0
TILING_CACHE = 20_000
_tilings: dict[tuple[int, int, int], tuple[np.ndarray, np.ndarray] | None] = {}


def _cover_tiled(shape: Shape, resolution: int) -> list[int] | None:
    """The tiled covering above, or None when it does not apply (large or polar shapes)."""
    bounds = shape_bounds(shape)
    if _small_rings(bounds, resolution) > TILED_RINGS_MAX:
        return None
    cells = _tiling_cells(bounds, resolution)
    return None if cells is None else cells.tolist()


def _tiling_cells(bounds: tuple[float, float, float, float], resolution: int) -> np.ndarray | None:
    """Every cell whose box meets ``bounds`` (from the tilings of its buckets), or None when
    they are too many buckets (over QUERY_BY_COVER_BUCKETS) or a tiling does not apply."""
    if resolution < 5 or _bucket_count(bounds) > QUERY_BY_COVER_BUCKETS:
        return None
    found = []
    for bucket in _buckets(bounds):
        tiling = _tiling(bucket, resolution)
        if tiling is None:
            return None
        ids, boxes = tiling
        found.append(ids[_boxes_meeting(boxes, *bounds)])
    return np.unique(np.concatenate(found))


def _tiling(bucket: tuple[int, int], resolution: int) -> tuple[np.ndarray, np.ndarray] | None:
    key = (bucket[0], bucket[1], resolution)
    if key in _tilings:
        return _tilings[key]
    lon0, lat0 = bucket[0] * BUCKET_DEG - 180.0, bucket[1] * BUCKET_DEG - 90.0
    lon1, lat1 = lon0 + BUCKET_DEG, lat0 + BUCKET_DEG
    grow_m = TILING_GROWTH_EDGES * h3.average_hexagon_edge_length(resolution, "m")
    grow_lat = grow_m / 110_574.0
    poleward = max(abs(lat0), abs(lat1)) + grow_lat
    grow_lon = grow_m / (111_320.0 * math.cos(math.radians(poleward)))
    tiling: tuple[np.ndarray, np.ndarray] | None = None
    if poleward <= TILING_MAX_LAT and lon0 - grow_lon > -180.0 and lon1 + grow_lon < 180.0:
        a, b = lat0 - grow_lat, lat1 + grow_lat
        c, d = lon0 - grow_lon, lon1 + grow_lon
        cells = h3.polygon_to_cells(h3.LatLngPoly([(a, c), (a, d), (b, d), (b, c)]), resolution)
        bucket_box = (lon0, lat0, lon1, lat1)
        kept = [cell for cell in cells if _boxes_meet(cell_box(cell), bucket_box)]
        tiling = (np.array(kept, dtype=np.int64), np.array([cell_box(c) for c in kept], dtype=np.float64))
    if len(_tilings) >= TILING_CACHE:
        _tilings.clear()
    _tilings[key] = tiling
    return tiling


# (centre cell, rings) -> the disk's ids and boxes and the next ring's boxes, as arrays: shapes
# near each other share them (100,000 plans in the benchmark's region: ~3 per centre cell).
DISK_CACHE = 200_000
_disk_cache: dict[tuple[int, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _disk_and_ring(centre: int, rings: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    known = _disk_cache.get((centre, rings))
    if known is not None:
        return known
    # two disks: grid_ring is ten times slower than grid_disk (measured)
    inner = h3.grid_disk(centre, rings)
    inside = set(inner)
    outer = [c for c in h3.grid_disk(centre, rings + 1) if c not in inside]
    known = (
        np.array(inner, dtype=np.int64),
        np.array([cell_box(c) for c in inner], dtype=np.float64),
        np.array([cell_box(c) for c in outer], dtype=np.float64),
    )
    if len(_disk_cache) >= DISK_CACHE:
        _disk_cache.clear()
    _disk_cache[(centre, rings)] = known
    return known


@njit(cache=True)
def _boxes_meeting(boxes: np.ndarray, x0: float, y0: float, x1: float, y1: float) -> np.ndarray:
    """Which of ``boxes`` meet the box (x0, y0, x1, y1), boundaries included (compiled: a few
    dozen boxes, where numpy's per-call overhead would dominate)."""
    out = np.empty(boxes.shape[0], dtype=np.bool_)
    for i in range(boxes.shape[0]):
        out[i] = boxes[i, 0] <= x1 and x0 <= boxes[i, 2] and boxes[i, 1] <= y1 and y0 <= boxes[i, 3]
    return out


def _boxes_meet(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


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
    """Cells (H3 ids as ints, sorted, all of one resolution) that together contain every
    point of ``shape``.

    Precondition: ``shape`` is a valid Polygon or Circle (validated at construction).
    ``method``: "wall" (the default, "auto": boundary samples' cells and neighbours, the
    inside flooded; at ``resolution`` or, for a shape too long or large for the budget, the
    finest coarser one within it: ``wall_resolution``), "overlap" (H3's overlap containment
    on the shape grown by COVER_MARGIN_M; cost grows with cells x vertices) or "disk"
    (boundary samples + neighbours + H3's centre fill), both at ``resolution`` exactly.
    Example: a 100 m circle gets 1 to 3 cells at resolution 6.
    """
    if method == "auto":
        method = "wall"
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
        if method == "wall":
            cells = _cover_tiled(shape, resolution)
            if cells is None:
                cells = _cover_small(shape, resolution)
            if cells is None:
                cells = _cover_wall(shape, wall_resolution(shape, resolution))
        elif method == "overlap":
            cells = _cover_overlap(shape, resolution)
        else:
            cells = _cover_disk(shape, resolution)
        known = tuple(sorted(cells))
        _remember(key, known)
    # A list of its own per shape object (a caller mutating it cannot reach another shape).
    result = list(known)
    shape._cache[memo_key] = result
    return result


def remember_cover(shape: Shape, cells: Iterable[int], resolution: int = CELL_RESOLUTION) -> None:
    """Take ``cells`` as ``shape``'s default covering (``cover(shape, resolution)``) without
    computing it: a covering stored with the shape and read back (store.volumes)."""
    shape._cache[("cells", resolution, "wall")] = sorted(cells)


def covering_resolution(cells: Iterable[int]) -> int:
    """The resolution of a covering's cells (all of one), CELL_RESOLUTION for none."""
    for cell in cells:
        return int(h3.get_resolution(cell))
    return CELL_RESOLUTION


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


def _box_margin_deg(resolution: int) -> float:
    """CELL_BOX_MARGIN_DEG, or the arc bulge of a coarser resolution's longer edges at
    POLAR_LAT_DEG if that is more."""
    edge_m = 1.1 * h3.average_hexagon_edge_length(resolution, "m")  # longest edge, measured
    bulge_m = edge_m**2 * math.tan(math.radians(POLAR_LAT_DEG)) / (8.0 * geodesy.MIN_EARTH_RADIUS_M)
    return max(CELL_BOX_MARGIN_DEG, 2.0 * bulge_m / 110_574.0)


_BOX_MARGIN_DEG = [_box_margin_deg(r) for r in range(16)]

# Boxes by cell, shared by every index and covering (a cell's box never changes); bounded,
# emptied when full (recomputing a box costs about 2 us).
CELL_BOX_CACHE = 1_000_000
_box_cache: dict[int, tuple[float, float, float, float]] = {}


def cell_box(cell: int) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)`` containing the whole cell (see above)."""
    box = _box_cache.get(cell)
    if box is not None:
        return box
    boundary = h3.cell_to_boundary(cell)
    lats = [v[0] for v in boundary]
    lons = [v[1] for v in boundary]
    m = _BOX_MARGIN_DEG[h3.get_resolution(cell)]
    lat0, lat1 = min(lats) - m, max(lats) + m
    lon0, lon1 = min(lons) - m, max(lons) + m
    if lon1 - lon0 > 180.0 or lat1 > POLAR_LAT_DEG or lat0 < -POLAR_LAT_DEG:
        lon0, lon1 = -180.0, 180.0
        if lat1 > POLAR_LAT_DEG:
            lat1 = 90.0
        if lat0 < -POLAR_LAT_DEG:
            lat0 = -90.0
    box = (lon0, lat0, lon1, lat1)
    if len(_box_cache) >= CELL_BOX_CACHE:
        _box_cache.clear()
    _box_cache[cell] = box
    return box


Box = tuple[float, float, float, float]
# a bucket's cell boxes, key pointers, keys and the keys' rows (CellIndex.bucket_arrays)
BucketArrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
RowSource = Callable[[np.ndarray], np.ndarray]

# A query shape whose bounds span more buckets than this is looked up by its covering.
QUERY_BY_COVER_BUCKETS = 64


def _bucket_count(box: tuple[float, float, float, float]) -> int:
    i = math.floor((box[2] + 180.0) / BUCKET_DEG) - math.floor((box[0] + 180.0) / BUCKET_DEG) + 1
    j = math.floor((box[3] + 90.0) / BUCKET_DEG) - math.floor((box[1] + 90.0) / BUCKET_DEG) + 1
    return i * j


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

    def __init__(self, resolution: int = CELL_RESOLUTION, rows: RowSource | None = None) -> None:
        self.resolution = resolution
        # int keys -> one row of floats per key, kept beside the keys in each bucket's arrays
        # (``bucket_arrays``), so that a caller's compiled pass reads them in order rather than
        # one random row of its own per key (the strategic engine: a check meets ~900 keys at
        # 100,000 volumes, measured). The caller changes a key's row only with its cells.
        self._rows = rows
        # tier -> cell -> keys (tiers outermost: a query asks for few tiers and many cells)
        self._keys: dict[int, dict[int, set[Hashable]]] = {}
        self._entries_in_cell: dict[int, int] = {}  # (key, tier) entries per occupied cell
        self._cells_by_key: dict[Hashable, tuple[list[int], tuple[int, ...]]] = {}
        self._boxes: dict[int, tuple[float, float, float, float]] = {}  # occupied cells only
        self._cells_by_bucket: dict[tuple[int, int], set[int]] = {}
        self._bucket_arrays: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        # For int keys: per bucket its cells' boxes with their keys of every tier in one flat
        # array, and the keys' rows (``candidate_keys``, ``bucket_arrays``), rebuilt after a change
        self._key_arrays: dict[tuple[int, int], BucketArrays] = {}

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
            self._keys_changed(cell)

    def add_many(self, items: Iterable[tuple[Hashable, Shape, Iterable[int]]]) -> None:
        """``add(key, shape, tiers)`` for each item, in one pass (a start-up loads 100,000):
        the occupied cells' boxes are looked up once at the end."""
        keys_by_tier = self._keys
        by_key = self._cells_by_key
        entries = self._entries_in_cell
        resolution = self.resolution
        new_cells: list[int] = []
        for key, shape, tiers in items:
            if key in by_key:
                self.remove(key)
            cells = cover(_shape_of(shape), resolution)
            tiers = tuple(dict.fromkeys(tiers))
            by_key[key] = (cells, tiers)
            for tier in tiers:
                by_cell = keys_by_tier.get(tier)
                if by_cell is None:
                    by_cell = keys_by_tier[tier] = {}
                for cell in cells:
                    held = by_cell.get(cell)
                    if held is None:
                        by_cell[cell] = {key}
                    else:
                        held.add(key)
            n = len(tiers)
            for cell in cells:
                before = entries.get(cell, 0)
                entries[cell] = before + n
                if before == 0:
                    new_cells.append(cell)
        for cell in new_cells:
            self._occupy(cell)
        self._key_arrays.clear()

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
            self._keys_changed(cell)
            left = self._entries_in_cell[cell] - len(tiers)
            if left:
                self._entries_in_cell[cell] = left
            else:
                del self._entries_in_cell[cell]
                self._vacate(cell)

    def _keys_changed(self, cell: int) -> None:
        for b in _buckets(self._boxes[cell]):
            self._key_arrays.pop(b, None)

    def candidate_keys(self, shape_or_volume: object) -> np.ndarray:
        """For int keys: the keys (any tier, each once, sorted) in the occupied cells whose box
        meets the query shape's box, or one of its covering's cell boxes for a long shape, as
        ``query_cells`` finds them: a superset of the keys whose shape overlaps the query."""
        return np.unique(self.candidate_keys_with_repeats(shape_or_volume))

    def candidate_keys_with_repeats(self, shape_or_volume: object) -> np.ndarray:
        """``candidate_keys`` in no order, a key in several such cells as often: one compiled
        pass per bucket over its cells and their keys (no set per cell)."""
        found = [
            _keys_meeting_box(boxes, ptr, keys, *box)
            for box, (boxes, ptr, keys, _) in self.bucket_arrays(shape_or_volume)
        ]
        if not found:
            return np.empty(0, dtype=np.int64)
        return np.concatenate(found) if len(found) > 1 else found[0]

    def bucket_arrays(self, shape_or_volume: object) -> list[tuple[Box, BucketArrays]]:
        """For int keys, what a caller's own compiled pass looks through to find the
        candidates of ``candidate_keys``: for each query box (the shape's bounds, or the boxes
        of its covering's cells for a long shape) and each occupied bucket it meets, the box
        and that bucket's arrays: its cells' boxes (n x 4), ``ptr`` (n + 1: cell i holds
        ``keys[ptr[i]:ptr[i + 1]]``), ``keys``, and the keys' rows (one per key, from ``rows``;
        0 columns without it). The keys of the cells whose box meets the query box are the
        candidates, a key in several such cells as often."""
        shape = _shape_of(shape_or_volume)
        box = shape_bounds(shape)
        boxes = [box] if _bucket_count(box) <= QUERY_BY_COVER_BUCKETS else [
            cell_box(c) for c in cover(shape, self.resolution)
        ]
        found = []
        key_arrays = self._key_arrays
        for query in boxes:
            for b in _buckets(query):
                arrays = key_arrays.get(b)
                if arrays is None:
                    if b not in self._cells_by_bucket:
                        continue
                    arrays = key_arrays[b] = self._key_arrays_of(b)
                found.append((query, arrays))
        return found

    def _key_arrays_of(self, bucket: tuple[int, int]) -> BucketArrays:
        cells = sorted(self._cells_by_bucket[bucket])
        boxes = np.array([self._boxes[c] for c in cells], dtype=np.float64).reshape(-1, 4)
        tiers = list(self._keys.values())
        if len(tiers) == 1:  # the strategic engine's case: no tiers
            held: list[Iterable[Hashable]] = [tiers[0].get(c, ()) for c in cells]
        else:
            held = [set().union(*(t.get(c, ()) for t in tiers)) for c in cells]
        ptr = np.zeros(len(cells) + 1, dtype=np.int64)
        np.cumsum([len(k) for k in held], out=ptr[1:])  # type: ignore[arg-type]
        keys = np.fromiter((k for ks in held for k in ks), dtype=np.int64, count=int(ptr[-1]))
        rows = np.empty((len(keys), 0)) if self._rows is None else np.ascontiguousarray(self._rows(keys))
        return boxes, ptr, keys, rows

    def _occupy(self, cell: int) -> None:
        box = cell_box(cell)
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
        """The occupied cells whose box meets the query shape's box (or, for a shape whose box
        spans over QUERY_BY_COVER_BUCKETS buckets, one of the boxes of its own covering's
        cells): every occupied cell that holds a point of the shape is among them."""
        shape = _shape_of(shape_or_volume)
        box = shape_bounds(shape)
        if _bucket_count(box) <= QUERY_BY_COVER_BUCKETS:
            return self._cells_meeting(box)
        # A long strip or a huge zone: its bounding box would bring in every occupied cell
        # around it; the boxes of its covering's cells hug it (any point of the shape is in
        # one of its cells, hence in that cell's box).
        found: set[int] = set()
        for cell in cover(shape, self.resolution):
            found.update(self._cells_meeting(cell_box(cell)))
        return list(found)

    def _cells_meeting(self, box: tuple[float, float, float, float]) -> list[int]:
        x0, y0, x1, y1 = box
        found: list[int] = []
        for b in _buckets(box):
            arrays = self._bucket_arrays.get(b)
            if arrays is None:
                if b not in self._cells_by_bucket:
                    continue
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
        if all(isinstance(k, int) for k in islice(self._cells_by_key, 100)):
            for bucket in self._cells_by_bucket:
                if bucket not in self._key_arrays:
                    self._key_arrays[bucket] = self._key_arrays_of(bucket)

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
def _keys_meeting_box(
    boxes: np.ndarray, ptr: np.ndarray, keys: np.ndarray, x0: float, y0: float, x1: float, y1: float
) -> np.ndarray:
    """The keys of the cells whose box meets the box (x0, y0, x1, y1), boundaries included
    (a key in several such cells comes as often)."""
    n = 0
    for i in range(boxes.shape[0]):
        if boxes[i, 0] <= x1 and x0 <= boxes[i, 2] and boxes[i, 1] <= y1 and y0 <= boxes[i, 3]:
            n += ptr[i + 1] - ptr[i]
    out = np.empty(n, dtype=keys.dtype)
    k = 0
    for i in range(boxes.shape[0]):
        if boxes[i, 0] <= x1 and x0 <= boxes[i, 2] and boxes[i, 1] <= y1 and y0 <= boxes[i, 3]:
            for j in range(ptr[i], ptr[i + 1]):
                out[k] = keys[j]
                k += 1
    return out


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
