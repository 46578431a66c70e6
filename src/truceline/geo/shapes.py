"""Horizontal shapes on WGS84: polygons with geodesic edges and exact geodesic circles.

Coordinates are ``(lon, lat)`` degrees, as in GeoJSON. Construction validates; nothing is
ever silently "fixed".
"""

from __future__ import annotations

from dataclasses import dataclass

Coordinate = tuple[float, float]  # (lon, lat) degrees WGS84


@dataclass(frozen=True, slots=True)
class GeoLimits:
    """Configurable limits on a shape (ASTM F3548 inspired; our default area fits a
    55 km de-confliction circle and real de-escalation zones)."""

    max_area_m2: float = 50_000e6  # 50,000 km²
    max_vertices: int = 10_000


DEFAULT_LIMITS = GeoLimits()


@dataclass(frozen=True, slots=True)
class Polygon:
    """A simple polygon: one closed exterior ring (first vertex == last vertex); edges are
    geodesics. TODO(geo): validate in __post_init__ (see validate_ring)."""

    ring: tuple[Coordinate, ...]


@dataclass(frozen=True, slots=True)
class Circle:
    """An exact geodesic circle: every point at geodesic distance ``radius_m`` of the centre."""

    center: Coordinate
    radius_m: float


Shape = Polygon | Circle
