"""Horizontal shapes on WGS84: polygons with geodesic edges and exact geodesic circles.

Coordinates are ``(lon, lat)`` degrees, as in GeoJSON. Construction validates against
``DEFAULT_LIMITS`` (or the ``limits`` given); nothing is ever silently "fixed": a fault raises
GeometryError naming the fault and the vertex (``field="ring[3]"``; a parser maps ``ring``
to its own path, e.g. ``geometry.coordinates[0]``).

Rings that cross the antimeridian, touch a pole or span 180° of longitude or more are
refused: planar work in lon/lat would misread them, and no zone in our theatre needs them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from truceline.errors import GeometryError, ValidationError
from truceline.geo import geodesy

Coordinate = tuple[float, float]  # (lon, lat) degrees WGS84

METRES_PER_DEGREE_LAT = 110_574.0  # the smallest value (at the equator): the safe side for margins
METRES_PER_DEGREE_LON_EQUATOR = 111_320.0


@dataclass(frozen=True, slots=True)
class GeoLimits:
    """Configurable limits on a shape (ASTM F3548 inspired; our default area fits a
    55 km de-confliction circle and real de-escalation zones)."""

    max_area_m2: float = 50_000e6  # 50,000 km²
    max_vertices: int = 10_000

    def __post_init__(self) -> None:
        if not (self.max_area_m2 > 0 and math.isfinite(self.max_area_m2)):
            raise ValidationError(f"must be a positive number, got {self.max_area_m2}", field="max_area_m2")
        if self.max_vertices < 3:
            raise ValidationError(f"must be at least 3, got {self.max_vertices}", field="max_vertices")


DEFAULT_LIMITS = GeoLimits()


@dataclass(frozen=True, slots=True)
class Polygon:
    """A simple polygon: one closed exterior ring (first vertex == last vertex), CW or CCW;
    edges are geodesics. Validated at construction against ``limits``."""

    ring: tuple[Coordinate, ...]
    limits: GeoLimits = field(default=DEFAULT_LIMITS, compare=False, repr=False)
    # Per-shape memo (densified ring, bounds, frame geometry): the shape stays immutable,
    # derived data is computed once.
    _cache: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ring", _as_ring(self.ring))
        _validate_polygon(self, self.limits)


@dataclass(frozen=True, slots=True)
class Circle:
    """An exact geodesic circle: every point at geodesic distance ``radius_m`` of the centre."""

    center: Coordinate
    radius_m: float
    limits: GeoLimits = field(default=DEFAULT_LIMITS, compare=False, repr=False)
    # Per-shape memo (densified ring, bounds, frame geometry): the shape stays immutable,
    # derived data is computed once.
    _cache: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False, hash=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "center", _as_coordinate(self.center, "center"))
        object.__setattr__(self, "radius_m", _as_number(self.radius_m, "radius_m"))
        _validate_circle(self, self.limits)


Shape = Polygon | Circle


def stored_shape(record: dict[str, Any], limits: GeoLimits = DEFAULT_LIMITS) -> Shape:
    """The shape of a record this program wrote after validating the shape (a stored row,
    ``domain.codec.shape_to_record``): built without validating it again, which is most of
    the cost of reading 100,000 volumes back at start-up (10 s of 14, measured); derived data
    (densified ring, bounds) is computed when first needed, as for any shape."""
    shape: Shape
    if record.get("type") == "Circle":
        shape = object.__new__(Circle)
        lon, lat = record["center"]
        object.__setattr__(shape, "center", (float(lon), float(lat)))
        object.__setattr__(shape, "radius_m", float(record["radius_m"]))
    elif record.get("type") == "Polygon":
        shape = object.__new__(Polygon)
        # JSON numbers this program wrote from floats read back as floats
        object.__setattr__(shape, "ring", tuple(map(tuple, record["ring"])))
    else:
        raise GeometryError(f"unknown shape type {record.get('type')!r}", field="shape.type")
    object.__setattr__(shape, "limits", limits)
    object.__setattr__(shape, "_cache", {})
    return shape


def validate_shape(shape: Shape, limits: GeoLimits = DEFAULT_LIMITS) -> None:
    """Check ``shape`` against ``limits`` (e.g. a stricter or looser area limit than the one it
    was built with). Raises GeometryError naming the fault."""
    if isinstance(shape, Polygon):
        _validate_polygon(shape, limits)
    elif isinstance(shape, Circle):
        _validate_circle(shape, limits)
    else:
        raise GeometryError(f"not a shape: {type(shape).__name__}", field="shape")


# --- conversion of raw input -----------------------------------------------------------------


def _as_number(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.floating | np.integer):
        raise GeometryError(f"expected a number, got {type(value).__name__}", field=where)
    return float(value)


def _as_coordinate(value: object, where: str) -> Coordinate:
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise GeometryError("expected a [lon, lat] pair", field=where)
    return (_as_number(value[0], where), _as_number(value[1], where))


def _as_ring(ring: object) -> tuple[Coordinate, ...]:
    if not isinstance(ring, Sequence) or isinstance(ring, str):
        raise GeometryError("expected a list of [lon, lat] positions", field="ring")
    return tuple(_as_coordinate(v, f"ring[{i}]") for i, v in enumerate(ring))


def _check_position(lon: float, lat: float, where: str, *, pole_ok: bool) -> None:
    for name, v in (("longitude", lon), ("latitude", lat)):
        if math.isnan(v):
            raise GeometryError(f"{name} is NaN", field=where)
        if math.isinf(v):
            raise GeometryError(f"{name} is infinite", field=where)
    if not -180.0 <= lon <= 180.0:
        raise GeometryError(f"longitude {lon} is outside [-180, 180]", field=where)
    if not -90.0 <= lat <= 90.0:
        raise GeometryError(f"latitude {lat} is outside [-90, 90]", field=where)
    if not pole_ok and abs(lat) == 90.0:
        raise GeometryError(
            f"latitude {lat} is a pole; shapes touching a pole are not supported", field=where
        )


# --- polygons --------------------------------------------------------------------------------


def _validate_polygon(poly: Polygon, limits: GeoLimits) -> None:
    ring = poly.ring
    if len(ring) < 4:
        raise GeometryError(
            f"a ring needs at least 4 positions (3 distinct vertices and the closing one), got {len(ring)}",
            field="ring",
        )
    if len(ring) - 1 > limits.max_vertices:
        raise GeometryError(
            f"{len(ring) - 1} vertices is more than the limit of {limits.max_vertices}", field="ring"
        )
    for i, (lon, lat) in enumerate(ring):
        _check_position(lon, lat, f"ring[{i}]", pole_ok=False)
    last = len(ring) - 1
    if ring[0] != ring[last]:
        raise GeometryError(
            f"ring is not closed: first vertex ring[0] {ring[0]} differs from"
            f" last vertex ring[{last}] {ring[last]}",
            field=f"ring[{last}]",
        )
    if len(set(ring)) < 3:
        raise GeometryError(
            f"ring has {len(set(ring))} distinct vertices; at least 3 are needed", field="ring"
        )
    for i in range(last):
        dlon = abs(ring[i + 1][0] - ring[i][0])
        if dlon >= 180.0:
            raise GeometryError(
                f"edge ring[{i}]-ring[{i + 1}] spans {dlon:g}° of longitude: it crosses the antimeridian"
                " (or is ambiguous); rings across ±180° are not supported",
                field=f"ring[{i + 1}]",
            )
    lons = np.fromiter((v[0] for v in ring), dtype=np.float64, count=len(ring))
    lats = np.fromiter((v[1] for v in ring), dtype=np.float64, count=len(ring))
    if lons.max() - lons.min() >= 180.0:
        raise GeometryError(
            f"ring spans {lons.max() - lons.min():g}° of longitude; rings spanning 180° or more"
            " (around a pole or across ±180°) are not supported",
            field="ring",
        )
    dense = _densified(poly, lons, lats)
    _check_simple(poly, dense)
    area = ring_area(poly)
    if area <= 0.0:
        raise GeometryError("ring has zero area (its vertices are collinear)", field="ring")
    if area > limits.max_area_m2:
        raise GeometryError(
            f"area {area / 1e6:,.1f} km² is over the limit of {limits.max_area_m2 / 1e6:,.1f} km²",
            field="ring",
        )


def _densified(
    poly: Polygon, lons: np.ndarray | None = None, lats: np.ndarray | None = None
) -> dict[str, Any]:
    """Densified ring, own frame and conservative bounds of a polygon (memoised)."""
    memo = poly._cache.get("dense")
    if memo is not None:
        return memo
    if lons is None or lats is None:
        lons = np.array([v[0] for v in poly.ring])
        lats = np.array([v[1] for v in poly.ring])
    lon0 = float(lons.min() + lons.max()) / 2.0
    lat0 = float(lats.min() + lats.max()) / 2.0
    # Size of the shape: the farthest frame a partner will project it into is centred within
    # this distance (geo.horizontal always works in the frame of the smaller shape).
    diag_m = geodesy.distance_m(float(lons.min()), float(lats.min()), float(lons.max()), float(lats.max()))
    spacing_m = geodesy.densify_spacing_m(max(diag_m, 200_000.0))
    dlons, dlats, edge_of_segment = geodesy.densify(lons, lats, spacing_m)
    # Geodesics bulge poleward between densified points by at most L² tan(lat) / (8 R).
    tan_lat = math.tan(math.radians(min(89.0, float(np.abs(dlats).max()))))
    bulge_m = spacing_m**2 * tan_lat / (8.0 * geodesy.MIN_EARTH_RADIUS_M) + 0.01
    margin_lat = bulge_m / METRES_PER_DEGREE_LAT
    bounds = (
        float(dlons.min()) - 1e-9,
        max(-90.0, float(dlats.min()) - margin_lat),
        float(dlons.max()) + 1e-9,
        min(90.0, float(dlats.max()) + margin_lat),
    )
    xs, ys = geodesy.to_frame(lon0, lat0, dlons, dlats)
    memo = {
        "lons": dlons,
        "lats": dlats,
        "edge_of_segment": edge_of_segment,
        "spacing_m": spacing_m,
        "frame": (lon0, lat0),
        "xy": np.column_stack([xs, ys]),
        "bounds": bounds,
        "size_m": diag_m,
    }
    poly._cache["dense"] = memo
    return memo


def _check_simple(poly: Polygon, dense: dict[str, Any]) -> None:
    """Refuse a ring whose geodesic edges cross or touch each other (checked on the densified
    ring in the polygon's own frame, so long edges are judged as the geodesics they are)."""
    geom = shapely.Polygon(dense["xy"])
    if shapely.is_valid(geom):
        return
    if geom.convex_hull.area < 1e-6:  # m²: every vertex on one geodesic, no interior at all
        raise GeometryError("ring has zero area (its vertices are collinear)", field="ring")
    reason = shapely.is_valid_reason(geom)
    loc = _reason_location(reason)
    edges = []
    if loc is not None:
        segs = shapely.linestrings(np.stack([dense["xy"][:-1], dense["xy"][1:]], axis=1))
        near = np.flatnonzero(shapely.distance(segs, shapely.Point(loc)) < 1e-6)
        edges = sorted({int(dense["edge_of_segment"][k]) for k in near})
    where = None
    if loc is not None:
        lon0, lat0 = dense["frame"]
        lo, la = geodesy.from_frame(lon0, lat0, np.array([loc[0]]), np.array([loc[1]]))
        where = f"({lo[0]:.7f}, {la[0]:.7f})"
    names = [f"ring[{e}]-ring[{e + 1}]" for e in edges]
    if len(edges) >= 2:
        what = f"edges {' and '.join(names)} cross or touch"
    elif len(edges) == 1:
        what = f"edge {names[0]} meets the ring again"
    else:
        what = "ring crosses or touches itself"
    at = f" at {where}" if where else ""
    if loc is not None:
        # name the vertex when the ring touches itself at one of its own vertices
        firsts = np.flatnonzero(np.diff(np.r_[-1, dense["edge_of_segment"]]) != 0)
        gaps = np.hypot(dense["xy"][firsts, 0] - loc[0], dense["xy"][firsts, 1] - loc[1])
        hits = np.flatnonzero(gaps < 1e-6)
        if len(hits):
            at += f" (vertex ring[{int(hits[0])}])"
    field_name = f"ring[{edges[-1]}]" if edges else "ring"
    raise GeometryError(f"self-intersecting ring: {what}{at} ({reason.split('[')[0]})", field=field_name)


def _reason_location(reason: str) -> tuple[float, float] | None:
    if "[" not in reason:
        return None
    try:
        x, y = reason[reason.index("[") + 1 : reason.index("]")].split()[:2]
        return float(x), float(y)
    except ValueError:
        return None


def ring_area(poly: Polygon) -> float:
    """Geodesic area (m²) of a polygon's ring (memoised)."""
    area = poly._cache.get("area")
    if area is None:
        lons = np.array([v[0] for v in poly.ring])
        lats = np.array([v[1] for v in poly.ring])
        area = geodesy.ring_area_m2(lons, lats)
        poly._cache["area"] = area
    return area


# --- circles ---------------------------------------------------------------------------------


def _validate_circle(circle: Circle, limits: GeoLimits) -> None:
    lon, lat = circle.center
    _check_position(lon, lat, "center", pole_ok=False)
    r = circle.radius_m
    if math.isnan(r):
        raise GeometryError("radius is NaN", field="radius_m")
    if math.isinf(r):
        raise GeometryError("radius is infinite", field="radius_m")
    if r <= 0.0:
        raise GeometryError(f"radius {r} m must be positive", field="radius_m")
    # A radius beyond ~3,000 km is far over any sane area limit; refuse before geodesy does odd things.
    if r > 3_000_000.0:
        raise GeometryError(f"radius {r:,.0f} m is too large (over 3,000 km)", field="radius_m")
    for pole_lat in (90.0, -90.0):
        if geodesy.distance_m(lon, lat, lon, pole_lat) <= r:
            raise GeometryError(
                f"circle of radius {r:,.0f} m around {circle.center} reaches a pole; not supported",
                field="radius_m",
            )
    lons, _ = _circle_outline(circle)
    if np.abs(np.diff(np.append(lons, lons[0]))).max() >= 180.0:
        raise GeometryError(
            f"circle of radius {r:,.0f} m around {circle.center} crosses the antimeridian; not supported",
            field="center",
        )
    area = circle_area(circle)
    if area > limits.max_area_m2:
        raise GeometryError(
            f"area {area / 1e6:,.1f} km² is over the limit of {limits.max_area_m2 / 1e6:,.1f} km²",
            field="radius_m",
        )


OUTLINE_TOLERANCE_M = 1.0  # tolerance of the memoised circle outline used for bounds and maps


def _circle_outline(circle: Circle) -> tuple[np.ndarray, np.ndarray]:
    memo = circle._cache.get("outline")
    if memo is None:
        memo = geodesy.circle_points(*circle.center, circle.radius_m, OUTLINE_TOLERANCE_M)
        circle._cache["outline"] = memo
    return memo


def circle_area(circle: Circle) -> float:
    area = circle._cache.get("area")
    if area is None:
        area = geodesy.circle_area_m2(*circle.center, circle.radius_m)
        circle._cache["area"] = area
    return area


# --- helpers for other layers ----------------------------------------------------------------


def shape_bounds(shape: Shape) -> tuple[float, float, float, float]:
    """``(min_lon, min_lat, max_lon, max_lat)`` that CONTAIN the shape, geodesic edges and a
    circle's true boundary included (a margin of a metre or so; never too small). Cheap after
    the first call (memoised)."""
    memo = shape._cache.get("bounds")  # also where a stored shape's bounds are put back
    if memo is not None:
        return memo
    if isinstance(shape, Polygon):
        memo = shape._cache["bounds"] = _densified(shape)["bounds"]
        return memo
    if memo is None:
        lons, lats = _circle_outline(shape)
        # the inscribed outline strays inward by at most OUTLINE_TOLERANCE_M: widen by twice that
        margin_m = 2.0 * OUTLINE_TOLERANCE_M + 0.01
        max_abs_lat = min(89.9, float(np.abs(lats).max()) + 0.01)
        dlon = margin_m / (METRES_PER_DEGREE_LON_EQUATOR * math.cos(math.radians(max_abs_lat)))
        dlat = margin_m / METRES_PER_DEGREE_LAT
        memo = (
            float(lons.min()) - dlon,
            max(-90.0, float(lats.min()) - dlat),
            float(lons.max()) + dlon,
            min(90.0, float(lats.max()) + dlat),
        )
        shape._cache["bounds"] = memo
    return memo


def square_around(lon: float, lat: float, half_side_m: float) -> Polygon:
    """A square about ``half_side_m`` either side of (lon, lat), sides along the meridians and
    parallels. Approximate (degrees from the metres of a degree at the equator): for made-up
    shapes such as the server's warm-up and benchmark data, not for exact geometry."""
    dlat = half_side_m / METRES_PER_DEGREE_LON_EQUATOR
    dlon = dlat / math.cos(math.radians(lat))
    return Polygon(
        (
            (lon - dlon, lat - dlat),
            (lon + dlon, lat - dlat),
            (lon + dlon, lat + dlat),
            (lon - dlon, lat + dlat),
            (lon - dlon, lat - dlat),
        )
    )


def shape_area_m2(shape: Shape) -> float:
    """Geodesic area of the shape in m² (polygon: exact for geodesic edges; circle: relative
    error under 1e-6)."""
    if isinstance(shape, Polygon):
        return ring_area(shape)
    return circle_area(shape)


def shape_to_polygon_ring(shape: Shape, tolerance_m: float = 1.0) -> list[Coordinate]:
    """A closed lon/lat ring for GeoJSON and maps, whose straight lon/lat segments stay within
    ``tolerance_m`` of the true boundary.

    Circle: vertices on the geodesic circle (inscribed, sagitta ≤ tolerance_m), CCW.
    Polygon: the original vertices plus points on long geodesic edges, so that a renderer
    drawing straight lines in lon/lat is within about ``tolerance_m`` (a geodesic at latitude φ
    strays from the lon/lat straight line by up to L² tan φ / (8 R)).
    """
    if not tolerance_m > 0:
        raise ValidationError(f"must be positive, got {tolerance_m}", field="tolerance_m")
    if isinstance(shape, Circle):
        lons, lats = geodesy.circle_points(*shape.center, shape.radius_m, tolerance_m)
        return [(float(x), float(y)) for x, y in zip(lons, lats, strict=True)] + [
            (float(lons[0]), float(lats[0]))
        ]
    lons = np.array([v[0] for v in shape.ring])
    lats = np.array([v[1] for v in shape.ring])
    tan_lat = max(0.2, math.tan(math.radians(min(89.0, float(np.abs(lats).max()) + 1.0))))
    spacing_m = math.sqrt(8.0 * geodesy.MIN_EARTH_RADIUS_M * tolerance_m / tan_lat)
    dlons, dlats, _ = geodesy.densify(lons, lats, spacing_m)
    out = [(float(x), float(y)) for x, y in zip(dlons, dlats, strict=True)]
    # keep the original vertices bit-exact (densify reproduces them, but say so by construction)
    out[0] = shape.ring[0]
    out[-1] = shape.ring[-1]
    return out
