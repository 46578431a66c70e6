"""The horizontal difference between two sets of shapes: the area added and the area removed
(e.g. between two versions of a negotiated zone's border).

Shapes are projected to an azimuthal equidistant plane centred on the pair (distances from
its centre are exact; over a few hundred km the areas are within a fraction of a percent of
the geodesic ones), differenced with shapely, projected back, and the areas of the result
measured on the WGS84 ellipsoid. Circles become polygons within ``tolerance_m``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from pyproj import Geod, Transformer
from shapely.geometry import mapping
from shapely.ops import unary_union

from truceline.geo.shapes import Shape, shape_bounds, shape_to_polygon_ring

_GEOD = Geod(ellps="WGS84")
# Slivers thinner than this (numerical noise of projecting the same border twice) are dropped.
_SLIVER_M = 0.05


@dataclass(frozen=True, slots=True)
class AreaChange:
    """``added``/``removed``: GeoJSON geometries (lon/lat) or None; areas in km²."""

    added: dict[str, Any] | None
    removed: dict[str, Any] | None
    added_km2: float
    removed_km2: float


def _centre(shapes: Sequence[Shape]) -> tuple[float, float]:
    bounds = [shape_bounds(s) for s in shapes]
    west = min(b[0] for b in bounds)
    south = min(b[1] for b in bounds)
    east = max(b[2] for b in bounds)
    north = max(b[3] for b in bounds)
    return (west + east) / 2.0, (south + north) / 2.0


def _union(shapes: Sequence[Shape], forward: Transformer, tolerance_m: float) -> shapely.Geometry:
    polygons = []
    for shape in shapes:
        ring = shape_to_polygon_ring(shape, tolerance_m)
        xs, ys = forward.transform([p[0] for p in ring], [p[1] for p in ring])
        polygons.append(shapely.Polygon(list(zip(xs, ys, strict=True))))
    return unary_union(polygons) if polygons else shapely.Polygon()


def _clean(geometry: shapely.Geometry) -> shapely.Geometry:
    # An erosion-dilation removes hairline slivers left where both versions share a border.
    opened = geometry.buffer(-_SLIVER_M).buffer(_SLIVER_M)
    return opened.intersection(geometry) if not opened.is_empty else opened


def geodesic_area_km2(geometry: shapely.Geometry) -> float:
    """Area on the WGS84 ellipsoid of a lon/lat (Multi)Polygon, in km²."""
    if geometry.is_empty:
        return 0.0
    area, _perimeter = _GEOD.geometry_area_perimeter(geometry)
    return abs(area) / 1e6


def area_change(old: Sequence[Shape], new: Sequence[Shape], tolerance_m: float = 1.0) -> AreaChange:
    """What ``new`` adds to and removes from ``old`` (each taken as the union of its shapes).

    Requires at least one shape in ``old`` or ``new``.
    """
    if not old and not new:
        raise ValueError("area_change needs at least one shape")
    lon0, lat0 = _centre([*old, *new])
    plane = f"+proj=aeqd +lat_0={lat0} +lon_0={lon0} +datum=WGS84 +units=m"
    forward = Transformer.from_crs("EPSG:4326", plane, always_xy=True)
    back = Transformer.from_crs(plane, "EPSG:4326", always_xy=True)
    a = _union(old, forward, tolerance_m)
    b = _union(new, forward, tolerance_m)
    added = _clean(b.difference(a))
    removed = _clean(a.difference(b))

    def to_lonlat(geometry: shapely.Geometry) -> shapely.Geometry:
        return shapely.transform(geometry, back.transform, interleaved=False)

    added_ll = to_lonlat(added) if not added.is_empty else None
    removed_ll = to_lonlat(removed) if not removed.is_empty else None
    return AreaChange(
        added=mapping(added_ll) if added_ll is not None else None,
        removed=mapping(removed_ll) if removed_ll is not None else None,
        added_km2=geodesic_area_km2(added_ll) if added_ll is not None else 0.0,
        removed_km2=geodesic_area_km2(removed_ll) if removed_ll is not None else 0.0,
    )
