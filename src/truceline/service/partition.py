"""Sharing the continuous scan between workers: cells, lease shards, the halo and the rule
that names the one worker reporting each finding. Pure: arrays in, arrays out, no clock.

Cells. The world is a fixed 1 degree latitude/longitude grid (``cell_of``). A lat/lon grid
rather than H3: the cell of a point is two floors (no library call per track), and a cell is
a box in degrees, so the halo bound below is a box dilation with a closed-form width. The
grid has 64,800 cells; one lease per cell would be 64,800 keys renewed every second, so the
leases are on ``N_SHARDS`` shards (``shard_of``: a multiplicative hash of the cell, which
scatters neighbouring cells over the shards, so one busy area is spread over the workers).
A cell's owner is its shard's owner.

The owner rule (``owner_cell``). A finding is reported by the owner of one cell: for a pair,
the cell holding the reported position of its lexicographically first track (``a``: the
engine gives ``a < b``); for an incursion or a non-conformance, the cell of its track. Every
finding has exactly one cell, so exactly one owner.

The halo (``halo_m``, ``scan_rows``). A worker scans the tracks in its cells and every track
within ``halo_m`` of them. The engine advances each track from its own time to the batch's
newest time (at most ``spread_s`` = newest - oldest time), then looks ``lookahead_s`` ahead;
two tracks come within the horizontal minimum ``H`` within the look-ahead only if their
reported positions are less than ``2 * v_max * (lookahead_s + spread_s) + H`` apart
(``v_max``: the fastest track's ground speed in the batch, measured, not assumed, so no
fast track escapes). ``halo_m`` is that bound with a 5 % margin and 1 km more (the engine's
local tangent frame against the ellipsoid's distances). The box dilation is itself
conservative (a lower bound of the great-circle distance on the smallest radius of
curvature). ``scan_rows`` also keeps the newest track: the engine's results count from the
batch's newest time, so a worker's batch must have the same newest time as the whole
picture to give the same numbers bit for bit (tests/service/test_service_partition.py).
"""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import numpy.typing as npt

from truceline.domain.track import TrackBatch
from truceline.engines.tactical import DetectionSettings

GRID_DEG = 1.0
N_LAT = 180
N_LON = 360
N_CELLS = N_LAT * N_LON
N_SHARDS = 32
HALO_MARGIN = 0.05
HALO_EXTRA_M = 1_000.0
# The smallest radius of curvature of WGS84 (meridional, at the equator): a distance on the
# ellipsoid is at least the same angle on a sphere of this radius.
_R_MIN_M = 6_335_439.0
_HASH = 2_654_435_761  # Knuth's multiplicative hash constant (2^32 / golden ratio)

Int = npt.NDArray[np.int64]
Bool = npt.NDArray[np.bool_]


def cell_of(lat: npt.ArrayLike, lon: npt.ArrayLike) -> Int:
    """The 1 degree cell of each (lat, lon): ``row * 360 + column``, row 0 at 90 S, column 0 at
    180 W (lat 90 falls in the last row, lon 180 in the first column). Requires finite degrees
    within [-90, 90] and [-180, 180]."""
    la = np.asarray(lat, dtype=np.float64)
    lo = np.asarray(lon, dtype=np.float64)
    row = np.clip(np.floor((la + 90.0) / GRID_DEG), 0, N_LAT - 1).astype(np.int64)
    col = np.floor((lo + 180.0) / GRID_DEG).astype(np.int64) % N_LON
    return row * N_LON + col


def shard_of(cells: npt.ArrayLike, n_shards: int = N_SHARDS) -> Int:
    """The lease shard of each cell. Requires ``n_shards >= 1``."""
    if n_shards < 1:
        raise ValueError(f"n_shards must be at least 1, got {n_shards}")
    c = np.asarray(cells, dtype=np.int64)
    return ((c * _HASH) % (1 << 32)) % n_shards


def halo_m(batch: TrackBatch, settings: DetectionSettings) -> float:
    """How far around its cells a worker must take tracks so that no pair in conflict within
    the look-ahead is missed (see the module docstring for the bound)."""
    if len(batch) == 0:
        return 0.0
    v_max = float(np.max(batch.gs))
    spread_s = float(np.max(batch.t) - np.min(batch.t))
    minimum = max(settings.horizontal_m, settings.ground_horizontal_m)
    bound = 2.0 * v_max * (settings.lookahead_s + spread_s) + minimum
    return bound * (1.0 + HALO_MARGIN) + HALO_EXTRA_M


def dilate(cells: Collection[int], radius_m: float) -> Int:
    """Every cell with a point less than ``radius_m`` from a point of one of ``cells``
    (a superset: a box dilation by a lower bound of the great-circle distance)."""
    if not cells:
        return np.empty(0, np.int64)
    # Points in cells ``k`` rows (columns) apart are at least ``k - 1`` cells apart: the + 1.
    k_lat = math.ceil(math.degrees(radius_m / _R_MIN_M) / GRID_DEG) + 1
    s = math.sin(min(radius_m / (2 * _R_MIN_M), math.pi / 2))
    out: set[int] = set()
    for cell in {int(c) for c in cells}:
        row, col = divmod(cell, N_LON)
        for r in range(max(0, row - k_lat), min(N_LAT - 1, row + k_lat) + 1):
            # The cell row's latitude farthest from the equator: where a degree of longitude
            # is shortest. d >= 2R asin(cos(lat_far) sin(dlon / 2)) (haversine).
            south, north = -90.0 + r * GRID_DEG, -90.0 + (r + 1) * GRID_DEG
            far = math.radians(min(90.0, max(abs(south), abs(north), abs(-90.0 + row * GRID_DEG),
                                             abs(-90.0 + (row + 1) * GRID_DEG))))
            cos_far = math.cos(far)
            if cos_far <= s:
                out.update(r * N_LON + c for c in range(N_LON))
                continue
            dlon = math.degrees(2 * math.asin(s / cos_far))
            k_lon = math.ceil(dlon / GRID_DEG) + 1
            if 2 * k_lon + 1 >= N_LON:
                out.update(r * N_LON + c for c in range(N_LON))
                continue
            out.update(r * N_LON + (col + dc) % N_LON for dc in range(-k_lon, k_lon + 1))
    return np.fromiter(sorted(out), dtype=np.int64)


def owned_mask(batch: TrackBatch, shards: Collection[int], n_shards: int = N_SHARDS) -> Bool:
    """Which tracks of ``batch`` are in a cell of one of ``shards``."""
    if len(batch) == 0 or not shards:
        return np.zeros(len(batch), np.bool_)
    return np.isin(shard_of(cell_of(batch.lat, batch.lon), n_shards), np.fromiter(shards, np.int64))


def scan_rows(batch: TrackBatch, shards: Collection[int], settings: DetectionSettings,
              n_shards: int = N_SHARDS, extra: Collection[str] = ()) -> Int:
    """The rows of ``batch`` a worker owning ``shards`` scans, ascending: the tracks in its
    cells, those within the halo of them, the newest track (the batch's time) and the tracks
    named in ``extra`` (those of alerts it holds). Empty when it owns no track."""
    mine = owned_mask(batch, shards, n_shards)
    named = np.isin(batch.ids.astype(str), np.asarray(sorted(extra), dtype=str)) if extra else mine & False
    if not mine.any() and not named.any():
        return np.empty(0, np.int64)
    cells = cell_of(batch.lat, batch.lon)
    near = np.isin(cells, dilate(set(cells[mine | named].tolist()), halo_m(batch, settings)))
    keep = mine | named | near
    keep[int(np.argmax(batch.t))] = True
    return np.flatnonzero(keep).astype(np.int64)


def owner_cell(positions: dict[str, tuple[float, float]], subject: tuple[str, ...]) -> int | None:
    """The cell whose owner reports a finding about ``subject`` (track ids first: a pair
    ``(a, b)`` with ``a < b``, or ``(track, zone or operation)``): the cell of the first
    track's position in ``positions`` (id -> (lat, lon)); None if it has none."""
    where = positions.get(subject[0])
    if where is None:
        return None
    return int(cell_of(where[0], where[1]))


__all__ = ["GRID_DEG", "N_CELLS", "N_SHARDS", "cell_of", "dilate", "halo_m", "owned_mask", "owner_cell",
           "scan_rows", "shard_of"]
