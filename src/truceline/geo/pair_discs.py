"""Two discs per shape that settle most pairs without the exact test.

Each shape gets a centre ``p`` and two radii (``ShapeDiscs``): the geodesic disc of radius
``inner_m`` around ``p`` lies inside the shape, the one of ``outer_m`` holds the whole shape.
For a pair of shapes, with ``d`` the geodesic distance of their centres:
- ``inner_a + inner_b - d > SURE_DEPTH_M`` (and both inner discs wider than SURE_DEPTH_M):
  the two inner discs overlap by a lens holding a disc of SURE_DEPTH_M (5 cm) diameter, ten
  times the exact test's 5 mm depth (geo.horizontal) plus its 1 mm chords: a conflict, surely;
- ``d - outer_a - outer_b > APART_GAP_M``: the outer discs are apart, so are the shapes;
- anything else: the exact test decides.
Both verdicts are the exact test's own (tests/geo/test_geo_pair_discs.py holds them to it on
random circles, stars and strips).

How the radii are bounded. A circle is its own disc (centre, radius, radius). A polygon is
judged in its own azimuthal equidistant frame (geo.shapes._densified), where its densified
ring strays from the true geodesic edges by at most CHORD_TOLERANCE_M (1 mm). Round the
frame's origin (the middle of the vertices' bounds) a planar distance is the true geodesic
distance: ``outer_m`` is the farthest densified vertex plus that tolerance, and ``inner_m``
the distance from the origin to the densified ring minus it when the origin is inside
(otherwise no inner disc: 0). Round the ring's centroid, taken instead when its inner disc is
larger, planar distances bound the true ones both ways (``_polygon_discs`` says how).

A pair's ``d`` is the spherical (haversine) distance of the centres turned into bounds on
the geodesic one: on WGS84 the length of any path lies between M_min/R and N_max/R times its
length on the sphere of radius R drawn with the same latitudes and longitudes (the metrics
M²dφ² + N²cos²φ dλ² and R²dφ² + R²cos²φ dλ², with M and N the ellipsoid's radii of
curvature, a(1-e²) <= M, N <= a/√(1-e²)), hence the geodesic distance too: within -0.56 %
and +0.45 % of the haversine.

Compiled (numba, cached on disk): the strategic engine calls ``pair_verdict`` from its own
compiled filter over every candidate of a check.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import IntEnum

import numpy as np
from numba import njit

from truceline.geo import geodesy
from truceline.geo.geodesy import CHORD_TOLERANCE_M
from truceline.geo.shapes import Circle, Polygon, Shape, _densified

SURE_DEPTH_M = 0.05
APART_GAP_M = 0.01

# The sphere of the haversine and the bounds of the geodesic distance it gives (see above).
_SPHERE_R_M = 6_371_008.8
_WGS84_A_M = 6_378_137.0
_WGS84_E2 = 0.00669437999014
_DISTANCE_LOW = _WGS84_A_M * (1.0 - _WGS84_E2) / _SPHERE_R_M * (1.0 - 1e-9)  # 0.99441...
_DISTANCE_HIGH = _WGS84_A_M / math.sqrt(1.0 - _WGS84_E2) / _SPHERE_R_M * (1.0 + 1e-9)  # 1.00448...
_DISTANCE_SLACK_M = 1e-3  # the haversine's own rounding, far under this for our distances

# Radii kept back for the densified ring's chords and for rounding: twice the tolerance.
_RING_SLACK_M = 2.0 * CHORD_TOLERANCE_M


class PairVerdict(IntEnum):
    APART = -1  # the shapes surely do not conflict
    UNKNOWN = 0  # the exact test must decide
    SURE = 1  # the shapes surely conflict


@dataclass(frozen=True, slots=True)
class ShapeDiscs:
    """A centre (lon, lat) and two geodesic radii: the disc of ``inner_m`` lies inside the
    shape (0: none known), the disc of ``outer_m`` holds it (inf: none known)."""

    lon: float
    lat: float
    inner_m: float
    outer_m: float


UNKNOWN_DISCS = ShapeDiscs(0.0, 0.0, 0.0, math.inf)


def shape_discs(shape: Shape) -> ShapeDiscs:
    """The shape's two discs (memoised on the shape; a stored shape's are put back by
    ``remember_discs``). A polygon's need its densified ring (computed when it is validated)."""
    known = shape._cache.get("discs")
    if known is not None:
        return known
    if isinstance(shape, Circle):
        discs = ShapeDiscs(shape.center[0], shape.center[1], shape.radius_m, shape.radius_m)
    else:
        discs = _polygon_discs(shape)
    shape._cache["discs"] = discs
    return discs


def known_discs(shape: Shape) -> ShapeDiscs:
    """The shape's discs if they cost nothing new: remembered, a circle's, or a polygon's whose
    densified ring is already computed; else UNKNOWN_DISCS (for a bulk load, which computes
    no geometry: such a shape's pairs go to the exact test)."""
    known = shape._cache.get("discs")
    if known is not None:
        return known
    if isinstance(shape, Circle) or "dense" in shape._cache:
        return shape_discs(shape)
    return UNKNOWN_DISCS


def remember_discs(shape: Shape, discs: ShapeDiscs) -> None:
    """Take ``discs`` as the shape's (stored with it and read back: store.volumes)."""
    shape._cache["discs"] = discs


def _polygon_discs(poly: Polygon) -> ShapeDiscs:
    """The discs round the frame's origin, or round the ring's centroid when that gives the
    larger inner disc (a lopsided polygon's bounds have their middle near an edge)."""
    dense = _densified(poly)
    xy = dense["xy"]
    xs, ys = np.ascontiguousarray(xy[:, 0]), np.ascontiguousarray(xy[:, 1])
    lon0, lat0 = dense["frame"]
    inside, nearest_m, farthest_m = _point_to_ring(xs, ys, 0.0, 0.0)
    best = ShapeDiscs(
        float(lon0), float(lat0), max(0.0, nearest_m - _RING_SLACK_M) if inside else 0.0,
        farthest_m + _RING_SLACK_M,
    )  # fmt: skip
    cx, cy = _centroid(xs, ys)
    inside, nearest_m, farthest_m = _point_to_ring(xs, ys, cx, cy)
    if not inside:
        return best
    # Off the origin, planar distances only bound the true ones: the frame never shrinks a
    # length (its scale is 1 along radii and d / m(d) >= 1 across them, m the reduced
    # length), and stretches it by at most (ρ/R)/sin(ρ/R) within ρ of the origin, R the
    # smallest radius of curvature (so m(d) >= R sin(d/R)). So a point within
    # inner / stretch of the centroid is within ``inner`` of it in the plane, and a point of
    # the ring is no farther from it than in the plane.
    reach = math.hypot(cx, cy) + farthest_m
    angle = reach / geodesy.MIN_EARTH_RADIUS_M
    if angle >= 1.0:
        return best
    stretch = angle / math.sin(angle) if angle > 1e-9 else 1.0
    inner_m = (nearest_m - _RING_SLACK_M) / stretch - _RING_SLACK_M
    if inner_m <= best.inner_m:
        return best
    lon, lat, _ = geodesy.GEOD.fwd(lon0, lat0, math.degrees(math.atan2(cx, cy)), math.hypot(cx, cy))
    return ShapeDiscs(float(lon), float(lat), inner_m, farthest_m + _RING_SLACK_M)


@njit(cache=True)
def _centroid(xs: np.ndarray, ys: np.ndarray) -> tuple[float, float]:
    """The area centroid of a closed planar ring (its first vertex when it has no area)."""
    area2 = 0.0
    sx = 0.0
    sy = 0.0
    for k in range(xs.shape[0] - 1):
        cross = xs[k] * ys[k + 1] - xs[k + 1] * ys[k]
        area2 += cross
        sx += (xs[k] + xs[k + 1]) * cross
        sy += (ys[k] + ys[k + 1]) * cross
    if area2 == 0.0:
        return xs[0], ys[0]
    return sx / (3.0 * area2), sy / (3.0 * area2)


@njit(cache=True)
def _point_to_ring(xs: np.ndarray, ys: np.ndarray, px: float, py: float) -> tuple[bool, float, float]:
    """For a closed planar ring (first vertex repeated last): whether (px, py) is inside
    (even-odd rule), its distance to the ring, and the farthest vertex's distance."""
    inside = False
    nearest = math.inf
    farthest = 0.0
    for k in range(xs.shape[0] - 1):
        x0, y0, x1, y1 = xs[k] - px, ys[k] - py, xs[k + 1] - px, ys[k + 1] - py
        farthest = max(farthest, math.hypot(x0, y0))
        if (y0 > 0.0) != (y1 > 0.0) and x0 - y0 * (x1 - x0) / (y1 - y0) > 0.0:
            inside = not inside
        # distance from the point to the segment
        dx, dy = x1 - x0, y1 - y0
        length2 = dx * dx + dy * dy
        t = 0.0 if length2 == 0.0 else min(1.0, max(0.0, -(x0 * dx + y0 * dy) / length2))
        nearest = min(nearest, math.hypot(x0 + t * dx, y0 + t * dy))
    return inside, nearest, farthest


@njit(cache=True)
def haversine_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance on the sphere of radius _SPHERE_R_M (bounds the geodesic one)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    s_lat = math.sin((p2 - p1) / 2.0)
    s_lon = math.sin(math.radians(lon2 - lon1) / 2.0)
    h = s_lat * s_lat + math.cos(p1) * math.cos(p2) * s_lon * s_lon
    return 2.0 * _SPHERE_R_M * math.asin(min(1.0, math.sqrt(h)))


@njit(cache=True)
def pair_verdict(
    lon_a: float, lat_a: float, inner_a: float, outer_a: float,
    lon_b: float, lat_b: float, inner_b: float, outer_b: float,
) -> int:  # fmt: skip
    """PairVerdict of two shapes from their discs (as ints: numba callers)."""
    d = haversine_m(lon_a, lat_a, lon_b, lat_b)
    if d * _DISTANCE_LOW - _DISTANCE_SLACK_M - outer_a - outer_b > APART_GAP_M:
        return -1
    if (
        min(inner_a, inner_b) > SURE_DEPTH_M
        and inner_a + inner_b - (d * _DISTANCE_HIGH + _DISTANCE_SLACK_M) > SURE_DEPTH_M
    ):
        return 1
    return 0


def discs_verdict(a: Shape, b: Shape) -> PairVerdict:
    """What the two shapes' discs prove about the pair (UNKNOWN: the exact test decides)."""
    x, y = shape_discs(a), shape_discs(b)
    return PairVerdict(pair_verdict(x.lon, x.lat, x.inner_m, x.outer_m, y.lon, y.lat, y.inner_m, y.outer_m))
