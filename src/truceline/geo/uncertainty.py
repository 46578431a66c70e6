"""Uncertainty areas of ground observations: where an observed event may have been.

An observer reports a place in one of three ways, each turned into an area on WGS84 that
contains every place the report allows (it errs large, never small: an area too small
would call a report "outside" a zone it may have been in):

- a point with ``uncertainty_m``: the geodesic circle around it (a bare point when 0);
- a polygon with ``uncertainty_m``: the polygon grown by that distance;
- the observer's own position, a bearing and a distance band (how monitoring missions
  report what they heard: "1-4.5 km south-south-east"): the annular sector of the
  geodesics leaving the observer within ``half_width_deg`` of the bearing, between the two
  distances (``sector``).

Then two questions about areas: how far apart two are (``gap_m``: corroboration), and
whether an area lies in a zone's shape, meets it, or neither (``placement``: attribution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely

from truceline.errors import GeometryError
from truceline.geo import geodesy
from truceline.geo.horizontal import distance_to_shape_m, point_in_shape
from truceline.geo.shapes import Circle, Coordinate, Polygon, Shape, shape_bounds, shape_to_polygon_ring

# Vertex spacing along a sector's arcs; each arc is then pushed out (the outer) or in (the
# inner) by the chord's sagitta, so that the straight edges never cut into the true arc.
ARC_STEP_DEG = 1.0
# Added to every grown distance: covers the ellipsoid's departure from the planar formulas
# (relative 1e-4) and a metre of rounding. Errs large on purpose (module docstring).
RELATIVE_MARGIN = 1e-4
ABSOLUTE_MARGIN_M = 1.0
# Segments per quarter circle of a polygon's grown corners.
BUFFER_QUAD_SEGMENTS = 16
# How far a straight edge drawn in a local frame may stray from the geodesic it stands for.
FRAME_TOLERANCE_M = 0.01


@dataclass(frozen=True, slots=True)
class Area:
    """An uncertainty area: ``shape`` (a Circle or Polygon), or None for a bare point at
    ``point`` (a report with no uncertainty). ``point``: the reported point, the polygon's
    first vertex, or the observer's position for a sector; ``centre``: a representative
    point inside the area (what a one-point export such as ACLED's gives)."""

    point: Coordinate
    centre: Coordinate
    shape: Shape | None = None

    @property
    def radius_m(self) -> float:
        """Half the largest extent from ``centre`` (0 for a bare point): an export's precision."""
        if self.shape is None:
            return 0.0
        if isinstance(self.shape, Circle):
            return self.shape.radius_m
        lons = np.array([v[0] for v in self.shape.ring])
        lats = np.array([v[1] for v in self.shape.ring])
        return float(geodesy.distances_m(*self.centre, lons, lats).max())


def _grown(distance_m: float) -> float:
    return distance_m * (1.0 + RELATIVE_MARGIN) + ABSOLUTE_MARGIN_M


def around_point(lon: float, lat: float, uncertainty_m: float) -> Area:
    """The circle of ``uncertainty_m`` around (lon, lat); a bare point when it is 0.

    Example: around_point(36.2, 35.1, 500).shape == Circle((36.2, 35.1), 500)."""
    if uncertainty_m < 0 or not math.isfinite(uncertainty_m):
        raise GeometryError(
            f"must be a finite number of metres >= 0, got {uncertainty_m}", field="uncertainty_m"
        )
    if uncertainty_m == 0:
        return Area((lon, lat), (lon, lat))
    return Area((lon, lat), (lon, lat), Circle((lon, lat), uncertainty_m))


def around_polygon(polygon: Polygon, uncertainty_m: float) -> Area:
    """``polygon`` grown by ``uncertainty_m`` (every point within that geodesic distance of
    it), as one polygon: worked in the azimuthal equidistant frame at the polygon's mean
    vertex, corners rounded outward, grown by the margins. A hole the growth would leave
    (a C-shaped polygon closing on itself) is filled: the area errs large.

    Requires a valid polygon and ``uncertainty_m`` >= 0 (0: the polygon itself)."""
    if uncertainty_m < 0 or not math.isfinite(uncertainty_m):
        raise GeometryError(
            f"must be a finite number of metres >= 0, got {uncertainty_m}", field="uncertainty_m"
        )
    ring = np.array(polygon.ring, dtype=np.float64)
    lon0, lat0 = float(ring[:-1, 0].mean()), float(ring[:-1, 1].mean())
    if uncertainty_m == 0:
        return Area(polygon.ring[0], _inside_point(polygon, lon0, lat0), polygon)
    xs, ys = _ring_in_frame(lon0, lat0, ring[:, 0], ring[:, 1])
    # An inscribed polygon of a circle of radius r reaches r cos(pi / 4q) between its
    # vertices: dividing by that cosine makes every rounded corner circumscribe the circle.
    distance = _grown(uncertainty_m) / math.cos(math.pi / (4 * BUFFER_QUAD_SEGMENTS))
    grown = shapely.Polygon(np.column_stack([xs, ys])).buffer(distance, quad_segs=BUFFER_QUAD_SEGMENTS)
    outline = np.asarray(grown.exterior.coords)
    lons, lats = geodesy.from_frame(lon0, lat0, outline[:, 0], outline[:, 1])
    vertices = [(float(x), float(y)) for x, y in zip(lons, lats, strict=True)]
    vertices[-1] = vertices[0]
    shape = Polygon(tuple(vertices))
    return Area(polygon.ring[0], _inside_point(polygon, lon0, lat0), shape)


def sector(
    lon: float, lat: float, bearing_deg: float, half_width_deg: float, min_m: float, max_m: float
) -> Area:
    """Where an event seen or heard from (lon, lat) may be: every point whose geodesic from
    the observer leaves within ``half_width_deg`` of ``bearing_deg`` (clockwise from true
    north) and is ``min_m`` to ``max_m`` long. A half-width of 180 is every direction: the
    disc of ``max_m`` (the hole of an annulus is not kept: the area errs large).

    Requires 0 <= min_m < max_m, 0 < half_width_deg <= 180. Example: a "1-4.5 km
    south-south-east" report with a 16-point compass is sector(lon, lat, 157.5, 11.25,
    1000, 4500)."""
    if not (0 <= min_m < max_m and math.isfinite(max_m)):
        raise GeometryError(f"needs 0 <= distance_min_m < distance_max_m, got {min_m} and {max_m}",
                            field="distance_max_m")  # fmt: skip
    if not 0 < half_width_deg <= 180:
        raise GeometryError(
            f"must be over 0 and at most 180, got {half_width_deg}", field="bearing_uncertainty_deg"
        )
    # The radial edges are turned out by the absolute margin at the far end, so that a point
    # on the bearing's limit is inside, not on the border.
    half = half_width_deg + math.degrees(ABSOLUTE_MARGIN_M / max_m)
    if half >= 180:
        return Area((lon, lat), (lon, lat), Circle((lon, lat), _grown(max_m)))
    n = max(2, math.ceil(2 * half / ARC_STEP_DEG) + 1)
    azimuths = np.linspace(bearing_deg - half, bearing_deg + half, n)
    half_step = math.radians(2 * half / (n - 1)) / 2
    outer_m = _grown(max_m) / math.cos(half_step)  # chords of the outer arc stay outside it
    inner_m = max(0.0, min_m * math.cos(half_step) / (1.0 + RELATIVE_MARGIN) - ABSOLUTE_MARGIN_M)
    olons, olats, _ = geodesy.GEOD.fwd(np.full(n, lon), np.full(n, lat), azimuths, np.full(n, outer_m))
    vertices = list(zip(olons.tolist(), olats.tolist(), strict=True))
    if inner_m > 0:
        ilons, ilats, _ = geodesy.GEOD.fwd(
            np.full(n, lon), np.full(n, lat), azimuths[::-1], np.full(n, inner_m)
        )
        vertices += list(zip(ilons.tolist(), ilats.tolist(), strict=True))
    else:
        # The apex a metre behind the observer: its own position is inside, not on a vertex.
        alon, alat, _ = geodesy.GEOD.fwd(lon, lat, bearing_deg + 180.0, ABSOLUTE_MARGIN_M)
        vertices.append((float(alon), float(alat)))
    vertices.append(vertices[0])
    mid_lon, mid_lat, _ = geodesy.GEOD.fwd(lon, lat, bearing_deg, (min_m + max_m) / 2)
    return Area((lon, lat), (float(mid_lon), float(mid_lat)), Polygon(tuple(vertices)))


def _inside_point(polygon: Polygon, lon0: float, lat0: float) -> Coordinate:
    """A point inside ``polygon``: its mean vertex if inside, else shapely's representative
    point in the frame there."""
    if point_in_shape(lon0, lat0, polygon):
        return (lon0, lat0)
    ring = np.array(polygon.ring, dtype=np.float64)
    xs, ys = _ring_in_frame(lon0, lat0, ring[:, 0], ring[:, 1])
    p = shapely.Polygon(np.column_stack([xs, ys])).representative_point()
    lons, lats = geodesy.from_frame(lon0, lat0, np.array([p.x]), np.array([p.y]))
    return (float(lons[0]), float(lats[0]))


def _ring_in_frame(
    lon0: float, lat0: float, lons: np.ndarray, lats: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A closed lon/lat ring of geodesic edges in the frame at (lon0, lat0), densified so
    that its straight edges stay within FRAME_TOLERANCE_M of the geodesics."""
    reach = float(geodesy.distances_m(lon0, lat0, lons, lats).max())
    spacing = geodesy.densify_spacing_m(reach, FRAME_TOLERANCE_M)
    dlons, dlats, _ = geodesy.densify(lons, lats, spacing)
    return geodesy.to_frame(lon0, lat0, dlons, dlats)


def _frame_geometry(area: Area, lon0: float, lat0: float) -> shapely.Geometry:
    if area.shape is None:
        x, y = geodesy.to_frame(lon0, lat0, np.array([area.point[0]]), np.array([area.point[1]]))
        return shapely.Point(float(x[0]), float(y[0]))
    ring = np.array(
        shape_to_polygon_ring(
            area.shape, FRAME_TOLERANCE_M
        ) if isinstance(area.shape, Circle) else area.shape.ring,
        dtype=np.float64,
    )
    xs, ys = _ring_in_frame(lon0, lat0, ring[:, 0], ring[:, 1])
    return shapely.Polygon(np.column_stack([xs, ys]))


def gap_m(a: Area, b: Area) -> float:
    """The shortest distance (m) between two areas, 0 when they meet. Exact for points and
    circles; for polygons, worked in the frame midway between them (their edges within
    FRAME_TOLERANCE_M, distances across a few tens of km within a metre)."""
    ra = 0.0 if a.shape is None else a.shape.radius_m if isinstance(a.shape, Circle) else None
    rb = 0.0 if b.shape is None else b.shape.radius_m if isinstance(b.shape, Circle) else None
    if ra is not None and rb is not None:
        return max(0.0, geodesy.distance_m(*a.point, *b.point) - ra - rb)
    az, _, d = geodesy.GEOD.inv(a.centre[0], a.centre[1], b.centre[0], b.centre[1])
    mid_lon, mid_lat, _ = geodesy.GEOD.fwd(a.centre[0], a.centre[1], az, d / 2)
    fa = _frame_geometry(a, float(mid_lon), float(mid_lat))
    fb = _frame_geometry(b, float(mid_lon), float(mid_lat))
    return float(shapely.distance(fa, fb))


@dataclass(frozen=True, slots=True)
class Placement:
    """How an area stands to a shape: ``within`` (all of it in the shape) implies ``meets``
    (some of it in the shape; touching the border alone does not count)."""

    meets: bool
    within: bool


def _apart(area: Area, shape: Shape) -> bool:
    """True when the bounding boxes (which contain the shapes) do not meet."""
    west, south, east, north = shape_bounds(shape)
    if area.shape is None:
        (lon, lat) = area.point
        return not (west <= lon <= east and south <= lat <= north)
    w, s, e, n = shape_bounds(area.shape)
    return e < west or w > east or n < south or s > north


def placement(area: Area, shape: Shape) -> Placement:
    """Whether ``area`` lies within ``shape``, meets it, or neither. Points and circles:
    the exact signed geodesic distance of the centre to the shape's border. Polygons: both
    outlines in the frame at the area's centre, edges within FRAME_TOLERANCE_M."""
    if _apart(area, shape):
        return Placement(False, False)
    if area.shape is None:
        inside = point_in_shape(*area.point, shape)
        return Placement(inside, inside)
    if isinstance(area.shape, Circle):
        d = distance_to_shape_m(*area.shape.center, shape)
        r = area.shape.radius_m
        return Placement(meets=d < r, within=d <= -r)
    lon0, lat0 = area.centre
    own = _frame_geometry(area, lon0, lat0)
    zone = _frame_geometry(Area(area.centre, area.centre, shape), lon0, lat0)
    meets = bool(shapely.intersection(own, zone).area > 0.0)
    return Placement(meets=meets, within=meets and bool(shapely.covers(zone, own)))
