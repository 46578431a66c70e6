"""Terrain heights for AGL <-> AMSL: SRTM ``.hgt`` tiles or a GeoTIFF the user configures
(``TRUCELINE_TERRAIN``: a ``.hgt`` file, a folder of them, or a ``.tif``/``.tiff``).

Heights are metres above mean sea level (SRTM's are above the EGM96 geoid, as Truceline's
AMSL). A conversion needs the least and greatest height over an area (``height_range``):
every post whose cell touches the area counts, so no interpolation between posts can fall
outside the range; ``TERRAIN_MARGIN_M`` is added either way (SRTM's stated absolute height
error, 16 m at 90 %). An area the model does not cover, or one with void posts, is an error
that names the model's file and the place: a guess there could hide a conflict.

``.hgt``: big-endian int16, 1201 x 1201 (3") or 3601 x 3601 (1") posts, north row first,
named by the south-west corner (``N46E006.hgt``), -32768 for a void. GeoTIFF through
``tifffile`` (pure Python, no GDAL): one band on a WGS84 lon/lat grid (ModelPixelScale and
ModelTiepoint tags), GDAL_NODATA as the void value; a projected GeoTIFF is refused.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from truceline.errors import AltitudeReferenceError, ValidationError

TERRAIN_MARGIN_M = 16.0
TERRAIN_ENV = "TRUCELINE_TERRAIN"
HGT_VOID = -32768
_HGT_NAME = re.compile(r"^([NS])(\d{2})([EW])(\d{3})\.hgt$", re.IGNORECASE)
_GEOGRAPHIC_WGS84 = 4326
_PROJECTED_KEY, _GEOGRAPHIC_KEY, _RASTER_TYPE_KEY = 3072, 2048, 1025
_PIXEL_IS_POINT = 2


@dataclass(frozen=True, slots=True)
class Raster:
    """Heights on a lon/lat grid: ``heights[row, col]`` is the post at lon ``west + col *
    step_lon``, lat ``north - row * step_lat`` (posts at cell centres for a PixelIsArea GeoTIFF)."""

    heights: npt.NDArray[np.floating] | npt.NDArray[np.integer]
    west: float
    north: float
    step_lon: float
    step_lat: float
    void: float | None
    source: str

    @property
    def east(self) -> float:
        return self.west + (self.heights.shape[1] - 1) * self.step_lon

    @property
    def south(self) -> float:
        return self.north - (self.heights.shape[0] - 1) * self.step_lat

    def covers(self, bounds: tuple[float, float, float, float]) -> bool:
        x0, y0, x1, y1 = bounds
        return self.west <= x0 and x1 <= self.east and self.south <= y0 and y1 <= self.north

    def height_range(self, bounds: tuple[float, float, float, float]) -> tuple[float, float]:
        """Least and greatest post whose cell touches ``bounds`` (within the raster)."""
        x0, y0, x1, y1 = bounds
        rows, cols = self.heights.shape
        c0 = max(0, math.floor((x0 - self.west) / self.step_lon))
        c1 = min(cols - 1, math.ceil((x1 - self.west) / self.step_lon))
        r0 = max(0, math.floor((self.north - y1) / self.step_lat))
        r1 = min(rows - 1, math.ceil((self.north - y0) / self.step_lat))
        block = np.asarray(self.heights[r0 : r1 + 1, c0 : c1 + 1], dtype=np.float64)
        if (self.void is not None and np.any(block == self.void)) or not np.all(np.isfinite(block)):
            raise AltitudeReferenceError(
                f"the terrain model {self.source} has void heights within lon {x0:.4f}..{x1:.4f},"
                f" lat {y0:.4f}..{y1:.4f}; fill them (e.g. SRTM v3) to compare AGL there",
                field=TERRAIN_ENV,
            )
        return float(block.min()), float(block.max())


def read_hgt(path: Path) -> Raster:
    """One SRTM tile (memory-mapped: a 1" tile is 26 MB and an area reads a few posts)."""
    match = _HGT_NAME.match(path.name)
    if match is None:
        raise ValidationError(f"{path}: an SRTM tile is named like N46E006.hgt", field=TERRAIN_ENV)
    ns, lat, ew, lon = match.groups()
    south = int(lat) * (1 if ns.upper() == "N" else -1)
    west = int(lon) * (1 if ew.upper() == "E" else -1)
    size = path.stat().st_size // 2
    side = math.isqrt(size)
    if side * side != size or side < 2:
        raise ValidationError(f"{path}: not an SRTM tile ({path.stat().st_size} bytes)", field=TERRAIN_ENV)
    heights = np.memmap(path, dtype=">i2", mode="r", shape=(side, side))
    step = 1.0 / (side - 1)
    return Raster(heights, float(west), float(south + 1), step, step, HGT_VOID, str(path))


def read_geotiff(path: Path) -> Raster:
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages.first
            tags = {tag.code: tag.value for tag in page.tags.values()}
            heights = page.asarray()
    except (OSError, ValueError, tifffile.TiffFileError) as error:
        raise ValidationError(f"{path}: not a readable GeoTIFF ({error})", field=TERRAIN_ENV) from None
    scale, tiepoint, keys = tags.get(33550), tags.get(33922), tags.get(34735)
    if scale is None or tiepoint is None:
        raise ValidationError(
            f"{path}: no ModelPixelScale/ModelTiepoint tags (not a georeferenced GeoTIFF)", field=TERRAIN_ENV
        )
    geokeys = {int(keys[i]): int(keys[i + 3]) for i in range(4, len(keys), 4)} if keys is not None else {}
    if _PROJECTED_KEY in geokeys or geokeys.get(_GEOGRAPHIC_KEY, _GEOGRAPHIC_WGS84) != _GEOGRAPHIC_WGS84:
        raise ValidationError(
            f"{path}: only GeoTIFFs on WGS84 longitude/latitude (EPSG:4326) are read", field=TERRAIN_ENV
        )
    if heights.ndim != 2:
        raise ValidationError(f"{path}: give one band of heights, not {heights.shape}", field=TERRAIN_ENV)
    i, j, _, x, y, _ = (float(v) for v in tiepoint[:6])
    step_lon, step_lat = float(scale[0]), float(scale[1])
    # PixelIsArea (the default): the tiepoint is a pixel's corner, its post is at the centre
    half = 0.0 if geokeys.get(_RASTER_TYPE_KEY) == _PIXEL_IS_POINT else 0.5
    west = x + (half - i) * step_lon
    north = y - (half - j) * step_lat
    nodata = tags.get(42113)
    void = float(str(nodata).strip("\x00 ")) if nodata not in (None, "") else None
    return Raster(heights, west, north, step_lon, step_lat, void, str(path))


class Terrain:
    """A terrain model: one raster (a .hgt tile or a GeoTIFF) or a folder of .hgt tiles."""

    name = "terrain"
    margin_m = TERRAIN_MARGIN_M

    def __init__(self, source: Path, rasters: list[Raster] | None = None) -> None:
        self.source = source
        self._fixed = rasters  # None: tiles of the folder ``source``, read on demand
        self._tiles: dict[tuple[int, int], Raster | None] = {}

    def _tile(self, lon: int, lat: int) -> Raster | None:
        key = (lon, lat)
        if key not in self._tiles:
            name = f"{'N' if lat >= 0 else 'S'}{abs(lat):02d}{'E' if lon >= 0 else 'W'}{abs(lon):03d}.hgt"
            path = next((p for p in (self.source / name, self.source / name.lower()) if p.exists()), None)
            self._tiles[key] = None if path is None else read_hgt(path)
        return self._tiles[key]

    @functools.lru_cache(maxsize=4096)  # noqa: B019  # one model per process; bounds repeat per volume
    def height_range(self, bounds: tuple[float, float, float, float]) -> tuple[float, float]:
        """Least and greatest terrain height over ``bounds`` (margin not included). Raises
        AltitudeReferenceError naming the model's file when it does not cover them."""
        x0, y0, x1, y1 = bounds
        parts: list[tuple[float, float]] = []
        if self._fixed is not None:
            for raster in self._fixed:
                if raster.covers(bounds):
                    parts.append(raster.height_range(bounds))
                    break
            else:
                raise self._uncovered(bounds)
        else:
            for lat in range(math.floor(y0), math.floor(y1) + 1):
                for lon in range(math.floor(x0), math.floor(x1) + 1):
                    tile = self._tile(lon, lat)
                    if tile is None:
                        raise self._uncovered(bounds)
                    cell = (max(x0, lon), max(y0, lat), min(x1, lon + 1), min(y1, lat + 1))
                    parts.append(tile.height_range(cell))
        return min(p[0] for p in parts), max(p[1] for p in parts)

    def _uncovered(self, bounds: tuple[float, float, float, float]) -> AltitudeReferenceError:
        x0, y0, x1, y1 = bounds
        return AltitudeReferenceError(
            f"the terrain model {self.source} has no heights for lon {x0:.4f}..{x1:.4f},"
            f" lat {y0:.4f}..{y1:.4f}",
            field=TERRAIN_ENV,
        )


def open_terrain(source: Path) -> Terrain:
    """The terrain model at ``source``: a .hgt tile, a folder of .hgt tiles, or a GeoTIFF.
    Raises ValidationError naming the file when it is none of these."""
    if source.is_dir():
        if not any(source.glob("*.hgt")) and not any(source.glob("*.HGT")):
            raise ValidationError(f"{source}: the folder holds no SRTM .hgt tile", field=TERRAIN_ENV)
        return Terrain(source)
    if not source.is_file():
        raise ValidationError(f"{source}: no such file or folder", field=TERRAIN_ENV)
    suffix = source.suffix.lower()
    if suffix == ".hgt":
        return Terrain(source, [read_hgt(source)])
    if suffix in (".tif", ".tiff"):
        return Terrain(source, [read_geotiff(source)])
    raise ValidationError(f"{source}: give a GeoTIFF (.tif) or SRTM .hgt tiles", field=TERRAIN_ENV)
