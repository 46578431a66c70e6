"""The EGM96 geoid: its height N above the WGS84 ellipsoid, so that h(W84) = H(AMSL) + N.

Hand-written on purpose: no maintained lightweight library ships the grid. PROJ (through
pyproj) reads ``egm96_15.gtx`` but its wheels carry no grids, and fetching one at run time
fails in the offline deconfliction cells Truceline serves. So the package carries a compact
copy of PROJ's ``egm96_15.gtx`` (NGA's EGM96 15' grid, public domain; see docs/formats.md):
the same 721 x 1440 nodes in centimetres (int16), delta-coded along each parallel and
xz-compressed (about 0.7 MB). It is interpolated bilinearly as PROJ does, so it stays within
0.01 m of PROJ's egm96_15 (tests/geo/test_geo_geoid.py checks random points against the
.gtx). Rebuild it with ``python -m truceline.geo.geoid /usr/share/proj/egm96_15.gtx``
(Debian's ``proj-data``).

``GEOID_MARGIN_M`` is the uncertainty applied, towards a conflict, by every conversion through
the geoid: the 0.5 m Truceline promises against egm96_15 (the grid itself is within 0.01 m).
"""

from __future__ import annotations

import functools
import lzma
import math
import struct
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import numpy.typing as npt

GEOID_MARGIN_M = 0.5
GRID_RESOURCE = "data/egm96_15.cm.xz"
_MAGIC = b"TLGEOID1"
_HEADER = struct.Struct("<8s2i4d")  # magic, rows, cols, south lat, west lon, step lat, step lon


class Geoid:
    """A geoid height grid: rows from ``south`` northwards, columns from ``west`` eastwards,
    wrapping around the globe in longitude (``cols * step_lon == 360``)."""

    name = "EGM96"
    margin_m = GEOID_MARGIN_M

    def __init__(self, heights_m: npt.NDArray[np.float64], south: float, west: float, step: float) -> None:
        self.heights_m = heights_m
        self.south, self.west, self.step = south, west, step
        self.rows, self.cols = heights_m.shape

    def height_m(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """N (metres) at each (lon, lat), bilinear between the grid's nodes.
        Requires -90 <= lat <= 90. Example: height_m(6.17, 46.21) is about 49.8."""
        lon_a, lat_a = np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)
        y = np.clip((lat_a - self.south) / self.step, 0.0, self.rows - 1.0)
        x = np.mod(lon_a - self.west, 360.0) / self.step
        i = np.minimum(np.floor(y).astype(np.intp), self.rows - 2)
        j = np.floor(x).astype(np.intp) % self.cols
        fy, fx = y - i, x - np.floor(x)
        j1 = (j + 1) % self.cols  # the column east of the last one is the first
        g = self.heights_m
        return (
            g[i, j] * (1 - fy) * (1 - fx) + g[i, j1] * (1 - fy) * fx
            + g[i + 1, j] * fy * (1 - fx) + g[i + 1, j1] * fy * fx
        )  # fmt: skip

    @functools.lru_cache(maxsize=4096)  # noqa: B019  # one Geoid per process; bounds repeat per volume
    def height_range(self, bounds: tuple[float, float, float, float]) -> tuple[float, float]:
        """The least and greatest N (metres, margin not included) over the box ``(min_lon,
        min_lat, max_lon, max_lat)``, exact for the interpolated surface: bilinear interpolation
        is linear along each axis inside a cell, so its extremes over a box lie on the lattice
        of the box's edges and the grid lines between them, and that lattice is evaluated."""
        x0, y0, x1, y1 = bounds
        y0, y1 = max(-90.0, y0), min(90.0, y1)
        if x1 - x0 >= 360.0:
            x0, x1 = self.west, self.west + 360.0
        lons = _lattice(x0, x1, self.west, self.step)
        lats = _lattice(y0, y1, self.south, self.step)
        grid_lon, grid_lat = np.meshgrid(lons, lats)
        n = self.height_m(grid_lon, grid_lat)
        return float(n.min()), float(n.max())


def _lattice(a: float, b: float, origin: float, step: float) -> npt.NDArray[np.float64]:
    first, last = math.ceil((a - origin) / step), math.floor((b - origin) / step)
    inner = origin + step * np.arange(first, last + 1, dtype=np.float64)
    return np.concatenate(([a], inner[(inner > a) & (inner < b)], [b]))


def encode_gtx(gtx: bytes) -> bytes:
    """The compact grid of a PROJ .gtx file (big-endian: south, west, step lat, step lon as
    float64, rows, cols as int32, then rows of float32 from the south)."""
    south, west, dlat, dlon = struct.unpack(">4d", gtx[:32])
    rows, cols = struct.unpack(">2i", gtx[32:40])
    grid = np.frombuffer(gtx[40:], dtype=">f4", count=rows * cols).reshape(rows, cols)
    centimetres = np.round(grid.astype(np.float64) * 100.0).astype(np.int32)
    if np.abs(centimetres).max() > np.iinfo(np.int16).max:
        raise ValueError("geoid heights beyond int16 centimetres")
    delta = np.diff(centimetres, axis=1, prepend=0).astype("<i2")  # neighbours differ little: xz packs it
    header = _HEADER.pack(_MAGIC, rows, cols, south, west, dlat, dlon)
    return lzma.compress(header + delta.tobytes(), preset=9)


def decode(blob: bytes) -> Geoid:
    raw = lzma.decompress(blob)
    magic, rows, cols, south, west, dlat, dlon = _HEADER.unpack_from(raw)
    if magic != _MAGIC or dlat != dlon or not math.isclose(cols * dlon, 360.0):
        raise ValueError("not a Truceline geoid grid")
    delta = np.frombuffer(raw, dtype="<i2", offset=_HEADER.size, count=rows * cols).reshape(rows, cols)
    heights = np.cumsum(delta.astype(np.int32), axis=1).astype(np.float64) / 100.0
    return Geoid(heights, south, west, dlat)


@functools.cache
def egm96() -> Geoid:
    """The shipped EGM96 grid, read once per process (read-only package data)."""
    return decode(resources.files("truceline.geo").joinpath(GRID_RESOURCE).read_bytes())


def main(argv: list[str]) -> int:
    """``python -m truceline.geo.geoid GTX``: rebuild the shipped grid from PROJ's egm96_15.gtx."""
    if len(argv) != 1:
        print("usage: python -m truceline.geo.geoid /usr/share/proj/egm96_15.gtx", file=sys.stderr)
        return 2
    out = Path(__file__).parent / GRID_RESOURCE
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(encode_gtx(Path(argv[0]).read_bytes()))
    print(f"wrote {out} ({out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
