"""Corridors along a geodesic route: the ground a convoy covers, piece by piece, in time.

A route is a list of waypoints ``(lon, lat)`` joined by geodesics, each waypoint with the
time (epoch seconds) the movement passes it; between two waypoints it moves at a constant
speed. ``corridor_pieces`` cuts every leg into pieces of at most ``max_piece_m`` and gives,
for each, a polygon holding every point within ``corridor_m`` of the piece (the corridor's
half-width) and the times the piece is entered and left. The domain adds the altitude band
and the time margin (``domain.notification``).

Tolerance: each polygon is the buffer of the piece drawn in an azimuthal equidistant frame
centred on the piece's midpoint (distances from the centre exact; over a piece of 5 km the
frame's error is under a millimetre), with a radius enlarged by ``1 / cos(pi / (4 q))``
(q segments per quarter circle) plus ``SLACK_M``, so that the chords of its round caps
and sides never cut inside the true corridor: the polygon contains the corridor and lies
at most 0.5 % of ``corridor_m`` + 1 m outside it. Consecutive pieces overlap at their
round ends, so the union covers the whole route (tests/geo/test_geo_corridor.py checks
that every route point at its time is inside the piece travelled then).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from truceline.errors import GeometryError
from truceline.geo import geodesy
from truceline.geo.shapes import Coordinate, Polygon

MAX_PIECE_M = 5_000.0  # a piece's length at most: bounds how long a part of the route is held
QUAD_SEGMENTS = 8  # buffer segments per quarter circle
SLACK_M = 1.0  # beyond the chord correction: the frame's error, with room to spare
_POINT_SPACING_M = 1_000.0  # points of the geodesic drawn into the frame


@dataclass(frozen=True, slots=True)
class CorridorPiece:
    """The corridor around part of a route and the times ``[start_s, end_s]`` it is travelled."""

    leg: int  # index of the waypoint the leg starts from
    polygon: Polygon
    start_s: float
    end_s: float


def _buffer_polygon(lons: np.ndarray, lats: np.ndarray, corridor_m: float) -> Polygon:
    """The polygon holding every point within ``corridor_m`` of the polyline (lons, lats)."""
    mid = len(lons) // 2
    lon0, lat0 = float(lons[mid]), float(lats[mid])
    xs, ys = geodesy.to_frame(lon0, lat0, lons, lats)
    radius_m = corridor_m / math.cos(math.pi / (4 * QUAD_SEGMENTS)) + SLACK_M
    line = shapely.LineString(np.column_stack([xs, ys]))
    outline = shapely.buffer(line, radius_m, quad_segs=QUAD_SEGMENTS).exterior
    ring = np.asarray(outline.coords)
    out_lons, out_lats = geodesy.from_frame(lon0, lat0, ring[:, 0], ring[:, 1])
    coords = [(float(x), float(y)) for x, y in zip(out_lons, out_lats, strict=True)]
    coords[-1] = coords[0]  # closed exactly (the round trip through the frame may differ in the last bit)
    return Polygon(tuple(coords))


def _leg_points(
    a: Coordinate, b: Coordinate, f0: float, f1: float, length_m: float
) -> tuple[np.ndarray, ...]:
    """Points on the geodesic a -> b between fractions f0 and f1 of its length."""
    n = max(2, math.ceil((f1 - f0) * length_m / _POINT_SPACING_M) + 1)
    azimuth, _, _ = geodesy.GEOD.inv(a[0], a[1], b[0], b[1])
    distances = np.linspace(f0 * length_m, f1 * length_m, n)
    lons, lats, _ = geodesy.GEOD.fwd(np.full(n, a[0]), np.full(n, a[1]), np.full(n, azimuth), distances)
    return np.asarray(lons, dtype=np.float64), np.asarray(lats, dtype=np.float64)


def leg_lengths_m(route: Sequence[Coordinate]) -> list[float]:
    """The geodesic length of each leg. Raises GeometryError naming a waypoint that repeats
    the one before it (a leg of no length has no direction to build a corridor along)."""
    lengths = []
    for k in range(1, len(route)):
        (lon1, lat1), (lon2, lat2) = route[k - 1], route[k]
        length = geodesy.distance_m(lon1, lat1, lon2, lat2)
        if length < 0.01:
            raise GeometryError(
                f"waypoint {k} repeats waypoint {k - 1} (legs must have a length)", field=f"coordinates[{k}]"
            )
        lengths.append(length)
    return lengths


def corridor_pieces(
    route: Sequence[Coordinate],
    times_s: Sequence[float],
    corridor_m: float,
    max_piece_m: float = MAX_PIECE_M,
) -> list[CorridorPiece]:
    """The corridor pieces of a route, in route order.

    Requires at least two waypoints, one time each, increasing, and ``corridor_m`` > 0;
    raises GeometryError naming the fault otherwise.
    Example: a 12 km leg gives three pieces of 4 km, each held for a third of its time.
    """
    if len(route) < 2:
        raise GeometryError("a route needs at least two waypoints", field="coordinates")
    if len(times_s) != len(route):
        raise GeometryError(f"{len(times_s)} times for {len(route)} waypoints", field="times")
    if not (corridor_m > 0 and math.isfinite(corridor_m)):
        raise GeometryError(f"must be a positive number of metres, got {corridor_m}", field="corridor_m")
    for k in range(1, len(times_s)):
        if times_s[k] <= times_s[k - 1]:
            raise GeometryError(f"waypoint {k} is not passed after waypoint {k - 1}", field=f"times[{k}]")
    pieces = []
    for leg, length in enumerate(leg_lengths_m(route)):
        count = max(1, math.ceil(length / max_piece_m))
        t0, t1 = times_s[leg], times_s[leg + 1]
        for i in range(count):
            f0, f1 = i / count, (i + 1) / count
            lons, lats = _leg_points(route[leg], route[leg + 1], f0, f1, length)
            polygon = _buffer_polygon(lons, lats, corridor_m)
            pieces.append(CorridorPiece(leg, polygon, t0 + f0 * (t1 - t0), t0 + f1 * (t1 - t0)))
    return pieces


def position_at(route: Sequence[Coordinate], times_s: Sequence[float], at_s: float) -> Coordinate | None:
    """Where the movement is at ``at_s`` (constant speed along each geodesic leg), or None
    outside ``[times_s[0], times_s[-1]]``."""
    if not route or at_s < times_s[0] or at_s > times_s[-1]:
        return None
    for leg in range(len(route) - 1):
        t0, t1 = times_s[leg], times_s[leg + 1]
        if at_s <= t1:
            f = 0.0 if t1 == t0 else (at_s - t0) / (t1 - t0)
            (lon1, lat1), (lon2, lat2) = route[leg], route[leg + 1]
            azimuth, _, length = geodesy.GEOD.inv(lon1, lat1, lon2, lat2)
            lon, lat, _ = geodesy.GEOD.fwd(lon1, lat1, azimuth, f * length)
            return (float(lon), float(lat))
    return route[-1]
