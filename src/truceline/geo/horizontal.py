"""Horizontal relations between shapes: conflict (overlap with positive depth), overlap area
and geometry, point containment and distance.

Method. Each pair is judged in one local azimuthal equidistant frame (geodesy.to_frame,
exact on the ellipsoid): the frame of the SMALLER shape (ties broken by a canonical order, so
``f(a, b) == f(b, a)``). A projection is a continuous bijection, so it keeps "intersect or
not"; the only planar error is the chord of a densified geodesic edge, at most
CHORD_TOLERANCE_M = 1 mm (geodesy.densify_spacing_m, with each polygon densified for frames
as far away as its own size, at least 200 km). Circles never go through a polygon for the
verdict: circle vs circle compares the geodesic distance of the centres with r1 + r2, circle
vs polygon the geodesic distance from the centre to the polygon (exact in the circle's own
frame) with r. The overlap AREA of a circle and a polygon is measured in the circle's frame,
where the circle is an exact planar circle, exactly for the true circle (geo.disc); of two
circles, by the lens formula. A ring projected into another shape's frame is first clipped
to that shape's neighbourhood (CLIP_MARGIN_M), which changes no answer.

Positive area. Two shapes conflict when they overlap DEEPER than DEPTH_THRESHOLD_M = 5 mm:
- circle vs circle: r1 + r2 - distance(c1, c2) > 5 mm;
- circle vs polygon: r - distance(c, polygon) > 5 mm (distance 0 when c is inside);
- polygon vs polygon: their intersection holds a disc of 5 mm diameter (a negative buffer
  of 2.5 mm leaves something), or one lies wholly inside the other (however thin).
Why 5 mm: ASTM F3548 asks that shapes overlapping by more than 1 cm conflict and shapes
1 cm apart do not. Each boundary is drawn to within 1 mm, so a true 1 cm overlap is at least
8 mm in the plane (> 5 mm: conflict), a true 1 cm gap is at least 8 mm (no conflict), and
a shared edge, or a vertex of one polygon lying on the other's geodesic edge, gives at
most a 2 mm sliver (< 5 mm: no conflict; touching is not a conflict). A sliver's AREA can
be large (2 mm x a 100 km shared border = 200 m²), which is why the test is on depth, not
area. Known limit: a sharp spike poking more than 1 cm into another polygon but narrower
than 5 mm everywhere does not count.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import shapely
from shapely import prepare
from shapely.geometry.polygon import orient

from truceline.geo import geodesy
from truceline.geo.disc import clip_ring_to_box, disc_ring_depth_area
from truceline.geo.shapes import (
    METRES_PER_DEGREE_LAT,
    METRES_PER_DEGREE_LON_EQUATOR,
    Circle,
    Polygon,
    Shape,
    _densified,
    circle_area,
    shape_bounds,
)

DEPTH_THRESHOLD_M = 0.005
CHORD_TOLERANCE_M = geodesy.CHORD_TOLERANCE_M


# --- per-shape data ----------------------------------------------------------------------------


def _size_m(shape: Shape) -> float:
    if isinstance(shape, Circle):
        return 2.0 * shape.radius_m
    return _densified(shape)["size_m"]


def _order_key(shape: Shape) -> tuple[Any, ...]:
    # total order: smaller shape first, then a canonical comparison of the data
    if isinstance(shape, Circle):
        return (_size_m(shape), 0, shape.center, shape.radius_m)
    return (_size_m(shape), 1, shape.ring)


def _frame_of(shape: Shape) -> tuple[float, float]:
    if isinstance(shape, Circle):
        return shape.center
    return _densified(shape)["frame"]


def _own_polygon(poly: Polygon) -> shapely.Polygon:
    """The densified polygon in its own frame, prepared (memoised)."""
    geom = poly._cache.get("own_geom")
    if geom is None:
        geom = shapely.Polygon(_densified(poly)["xy"])
        prepare(geom)
        poly._cache["own_geom"] = geom
    return geom


def _polygon_in_frame(poly: Polygon, lon0: float, lat0: float) -> shapely.Polygon:
    dense = _densified(poly)
    if (lon0, lat0) == dense["frame"]:
        return _own_polygon(poly)
    # one-entry memo: the verdict, the area and the geometry of a pair reuse one projection
    last = poly._cache.get("last_frame")
    if last is not None and last[0] == (lon0, lat0):
        return last[1]
    xs, ys = geodesy.to_frame(lon0, lat0, dense["lons"], dense["lats"])
    geom = shapely.Polygon(np.column_stack([xs, ys]))
    poly._cache["last_frame"] = ((lon0, lat0), geom)
    return geom


# --- projecting only the part that matters --------------------------------------------------
#
# Projecting a densified ring into another shape's frame (one geodesic inverse per vertex) is
# most of the cost of a pair. Only the part of the ring near the other shape can meet it, so
# the ring is first clipped in lon/lat to that shape's bounds grown by a margin, and only the
# clipped ring is projected. Why the verdict, the area and the overlap geometry stay exact:
# every kept vertex is projected exactly and every kept segment is an original densified
# chord (within 1 mm); the clip adds vertices on the grown box, whose own segments and the
# segments into them stray from the true boundary by centimetres (lon/lat chords), but they
# all lie within one densified segment of the grown box, so at least CLIP_MARGIN_M minus a
# segment (and minus the box sides' own bending in the frame, kept under a quarter of the
# margin) away from the other shape. Inside that neighbourhood the clipped ring and the ring
# are the same, so is their intersection with the other shape, and so is containment either
# way (a clipped ring reaches the grown box, outside the other shape).
CLIP_MARGIN_M = 2_000.0
_POLYGON_TYPE = 3  # shapely.get_type_id of a Polygon


def _lonlat_polygon(poly: Polygon) -> shapely.Polygon | None:
    """The densified ring as a planar lon/lat polygon, or None if it is not valid as one
    (a ring judged simple on its geodesics may touch itself in lon/lat within centimetres;
    such a ring is projected whole). Memoised."""
    if "lonlat_geom" not in poly._cache:
        dense = _densified(poly)
        geom = shapely.Polygon(np.column_stack([dense["lons"], dense["lats"]]))
        poly._cache["lonlat_geom"] = geom if shapely.is_valid(geom) else None
    return poly._cache["lonlat_geom"]


def _clip_box(poly: Polygon, near: Shape) -> tuple[float, float, float, float] | None:
    """``near``'s bounds grown so that clipping ``poly`` to them is exact (see above), or None
    when clipping would not pay (``poly`` lies within the box) or is not proven safe."""
    dense = _densified(poly)
    margin_m = CLIP_MARGIN_M + dense["spacing_m"]
    x0, y0, x1, y1 = shape_bounds(near)
    max_abs_lat = max(abs(y0), abs(y1)) + 0.1
    if max_abs_lat >= 80.0:
        return None
    cos_lat = math.cos(math.radians(max_abs_lat))
    dlon = margin_m / (METRES_PER_DEGREE_LON_EQUATOR * cos_lat)
    dlat = margin_m / METRES_PER_DEGREE_LAT
    box = (x0 - dlon, y0 - dlat, x1 + dlon, y1 + dlat)
    # A box side along a parallel bends in the frame by up to L² tan(lat) / (8 R).
    side_m = (box[2] - box[0]) * METRES_PER_DEGREE_LON_EQUATOR
    bend_m = side_m**2 * math.tan(math.radians(max_abs_lat)) / (8.0 * geodesy.MIN_EARTH_RADIUS_M)
    if bend_m > CLIP_MARGIN_M / 4:
        return None
    p0, p1, p2, p3 = dense["bounds"]
    if box[0] <= p0 and box[1] <= p1 and p2 <= box[2] and p3 <= box[3]:
        return None
    return box


def _polygon_near(poly: Polygon, near: Shape, lon0: float, lat0: float) -> shapely.Geometry:
    """``poly`` in the frame at (lon0, lat0), clipped to where it can meet ``near`` (a
    Polygon, a MultiPolygon of the clipped pieces, or empty when nothing of it is near)."""
    if (lon0, lat0) == _densified(poly)["frame"]:
        return _own_polygon(poly)
    box = _clip_box(poly, near)
    if box is None:
        return _polygon_in_frame(poly, lon0, lat0)
    memo_key = (lon0, lat0, box)
    last = poly._cache.get("last_near")
    if last is not None and last[0] == memo_key:
        return last[1]
    geom = _clipped_in_one_ring(poly, box, lon0, lat0)
    if geom is None:
        geom = _clipped_in_pieces(poly, box, lon0, lat0)
    poly._cache["last_near"] = (memo_key, geom)
    return geom


def _clipped_in_one_ring(
    poly: Polygon, box: tuple[float, float, float, float], lon0: float, lat0: float
) -> shapely.Geometry | None:
    """The compiled clip (geo.disc, a few microseconds where GEOS's clip and the pieces'
    handling cost tens): one ring, valid when the part of ``poly`` in the box is one piece.
    None when the projected ring is not valid (several pieces joined along the box's sides,
    or a side's chord bent over the ring), for ``_clipped_in_pieces`` to do it."""
    dense = _densified(poly)
    lons, lats = clip_ring_to_box(dense["lons"], dense["lats"], *box)
    if len(lons) == 0:  # nothing of the polygon comes near
        return shapely.Polygon()
    xs, ys = geodesy.to_frame(lon0, lat0, lons, lats)
    geom = shapely.Polygon(np.column_stack([xs, ys]))
    # Valid means simple, so it bounds the region where the clipped ring winds once: the
    # polygon inside the box (see clip_ring_to_box), up to the clip's own edges. Where the
    # clip joined two pieces along a box side (there and back), the projection can bend the
    # two passes apart into a valid ring holding a thin strip along that side: it lies on the
    # side too, as far from ``near`` as the clip's own edges, so it changes no answer either.
    return geom if shapely.is_valid(geom) else None


def _clipped_in_pieces(
    poly: Polygon, box: tuple[float, float, float, float], lon0: float, lat0: float
) -> shapely.Geometry:
    """GEOS's clip, piece by piece: for a ring that leaves and re-enters the box."""
    lonlat = _lonlat_polygon(poly)
    if lonlat is None:
        return _polygon_in_frame(poly, lon0, lat0)
    pieces = shapely.get_parts(shapely.clip_by_rect(lonlat, *box))
    pieces = pieces[shapely.get_type_id(pieces) == _POLYGON_TYPE]  # drop touching lines and points
    if len(pieces) == 0:
        return shapely.Polygon()
    # every piece in one projection call (its cost is mostly per call)
    xy, piece_of = shapely.get_coordinates(shapely.get_exterior_ring(pieces), return_index=True)
    xs, ys = geodesy.to_frame(lon0, lat0, xy[:, 0], xy[:, 1])
    rings = shapely.linearrings(np.column_stack([xs, ys]), indices=piece_of)
    projected = shapely.polygons(rings)
    geom = projected[0] if len(projected) == 1 else shapely.multipolygons(projected)
    # A box side is drawn as one chord in the frame and bends by up to CLIP_MARGIN_M / 4:
    # a ring passing closer than that inside the side could cross the chord. Far from
    # ``near`` as that is, GEOS refuses invalid input, so such a ring is projected whole.
    if not shapely.is_valid(geom):
        geom = _polygon_in_frame(poly, lon0, lat0)
    return geom


def prepare_shape(shape: Shape) -> None:
    """Compute now what every pair with ``shape`` needs (its own-frame geometry), so that a
    stored shape pays it once when indexed, not in the first check that meets it."""
    if isinstance(shape, Polygon):
        _own_polygon(shape)
    # a circle's pairs need no geometry of its own (distances, the lens, the exact disc area)
    shape_bounds(shape)


def _circle_in_frame(circle: Circle, lon0: float, lat0: float, tolerance_m: float) -> shapely.Polygon:
    """Inscribed polygon of the circle (vertices on the true circle, sagitta ≤ tolerance_m)."""
    if (lon0, lat0) == circle.center:
        # in its own frame a geodesic circle is an exact planar circle
        n = geodesy.circle_vertex_count(circle.radius_m, tolerance_m)
        t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
        return shapely.Polygon(np.column_stack([circle.radius_m * np.sin(t), circle.radius_m * np.cos(t)]))
    lons, lats = geodesy.circle_points(*circle.center, circle.radius_m, tolerance_m)
    xs, ys = geodesy.to_frame(lon0, lat0, lons, lats)
    return shapely.Polygon(np.column_stack([xs, ys]))


def _bounds_disjoint(a: Shape, b: Shape) -> bool:
    # bounds contain their shapes, so disjoint bounds prove there is no overlap
    a0, a1, a2, a3 = shape_bounds(a)
    b0, b1, b2, b3 = shape_bounds(b)
    return a2 < b0 or b2 < a0 or a3 < b1 or b3 < a1


# --- the verdict ---------------------------------------------------------------------------------


def overlap_depth_m(a: Shape, b: Shape) -> float:
    """How deep the shapes overlap, in metres, for circles (exact); see the module docstring.
    Negative: the gap between them. Precondition: at least one of a, b is a Circle."""
    if isinstance(a, Circle) and isinstance(b, Circle):
        return a.radius_m + b.radius_m - geodesy.distance_m(*a.center, *b.center)
    circle, poly = (a, b) if isinstance(a, Circle) else (b, a)
    if not isinstance(poly, Polygon) or not isinstance(circle, Circle):
        raise TypeError("overlap_depth_m needs at least one Circle")
    return _disc_and_ring(circle, poly)[0]


def _polygon_pair(a: Polygon, b: Polygon) -> tuple[shapely.Polygon, shapely.Polygon, tuple[float, float]]:
    first, second = (a, b) if _order_key(a) <= _order_key(b) else (b, a)
    lon0, lat0 = _frame_of(first)
    return _own_polygon(first), _polygon_near(second, first, lon0, lat0), (lon0, lat0)


def _is_deep(part: shapely.Polygon) -> bool:
    """True when the polygon holds a disc of DEPTH_THRESHOLD_M diameter."""
    half = DEPTH_THRESHOLD_M / 2.0
    # cheap sufficient test first: an interior point far enough from the boundary
    inside = shapely.point_on_surface(part)
    if shapely.distance(inside, part.exterior) > half and not any(
        shapely.distance(inside, hole) <= half for hole in part.interiors
    ):
        return True
    # mitre joins keep the erosion cheap; we only ask whether anything is left
    return not part.buffer(-half, join_style="mitre").is_empty


def _deep_parts(inter: shapely.Geometry) -> list[shapely.Polygon]:
    """The polygonal parts of an intersection that hold a disc of DEPTH_THRESHOLD_M diameter."""
    parts = [g for g in shapely.get_parts(inter) if isinstance(g, shapely.Polygon) and g.area > 0.0]
    return [p for p in parts if _is_deep(p)]


def shapes_conflict(a: Shape, b: Shape) -> bool:
    """True when the shapes overlap deeper than DEPTH_THRESHOLD_M (5 mm): touching edges or
    points, and overlaps under 1 cm - 2 mm, do not conflict. Symmetric."""
    if _bounds_disjoint(a, b):
        return False
    if isinstance(a, Circle) or isinstance(b, Circle):
        return overlap_depth_m(a, b) > DEPTH_THRESHOLD_M
    assert isinstance(a, Polygon) and isinstance(b, Polygon)
    pa, pb, _ = _polygon_pair(a, b)
    if not pa.intersects(pb):
        return False
    if pa.contains_properly(pb) or shapely.contains_properly(pb, pa):
        return True  # one lies wholly inside the other: a conflict however thin it is
    return bool(_deep_parts(shapely.intersection(pa, pb)))


# --- area and geometry ---------------------------------------------------------------------------


def _area_tolerance_m(depth_m: float, radius_m: float) -> float:
    # Circle outline for the AREA only: 1 m, or 1e-4 of the radius for small circles (area
    # error ≈ 4/3 · tolerance / radius relative, so ~1e-4), finer when the overlap is shallow so
    # a conflicting pair never reports an empty overlap (sagitta under a quarter of the depth).
    return max(0.001, min(1.0, radius_m / 10_000.0, depth_m / 4.0))


def _own_circle(circle: Circle, depth_m: float) -> shapely.Polygon:
    tol = _area_tolerance_m(depth_m, circle.radius_m)
    if tol == _area_tolerance_m(math.inf, circle.radius_m):  # the usual case: memoise
        geom = circle._cache.get("own_geom")
        if geom is None:
            geom = _circle_in_frame(circle, *circle.center, tol)
            circle._cache["own_geom"] = geom
        return geom
    return _circle_in_frame(circle, *circle.center, tol)


def _overlap_parts(a: Shape, b: Shape) -> tuple[list[shapely.Polygon], tuple[float, float]]:
    """Planar parts of the overlap and the frame they are in; [] when there is no conflict.

    Circle vs polygon works in the circle's frame (the circle is exact there, the polygon is
    projected as for the verdict); polygon pairs in the smaller one's frame."""
    if _bounds_disjoint(a, b):
        return [], (0.0, 0.0)
    if isinstance(a, Circle) or isinstance(b, Circle):
        depth_m = overlap_depth_m(a, b)
        if depth_m <= DEPTH_THRESHOLD_M:
            return [], (0.0, 0.0)
        if isinstance(a, Circle) and isinstance(b, Circle):
            first, second = (a, b) if _order_key(a) <= _order_key(b) else (b, a)
            assert isinstance(first, Circle) and isinstance(second, Circle)
            lon0, lat0 = first.center
            ga = _own_circle(first, depth_m)
            gb = _circle_in_frame(second, lon0, lat0, _area_tolerance_m(depth_m, second.radius_m))
        else:
            circle, poly = (a, b) if isinstance(a, Circle) else (b, a)
            assert isinstance(circle, Circle) and isinstance(poly, Polygon)
            lon0, lat0 = circle.center
            ga, gb = _own_circle(circle, depth_m), _polygon_near(poly, circle, lon0, lat0)
        inter = shapely.intersection(ga, gb)
        parts = [g for g in shapely.get_parts(inter) if isinstance(g, shapely.Polygon) and g.area > 0.0]
        return parts, (lon0, lat0)
    assert isinstance(a, Polygon) and isinstance(b, Polygon)
    pa, pb, frame = _polygon_pair(a, b)
    if not pa.intersects(pb):
        return [], frame
    if pa.contains_properly(pb):
        return list(shapely.get_parts(pb)), frame
    if pb.contains_properly(pa):
        return [pa], frame
    return _deep_parts(shapely.intersection(pa, pb)), frame


def _ring_to_lonlat(ring: Any, lon0: float, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    xy = np.asarray(ring.coords)
    return geodesy.from_frame(lon0, lat0, xy[:, 0], xy[:, 1])


# Within this distance of the frame centre the planar area, divided by the frame's area
# scale at the part's centroid, is within 1e-4 of the geodesic area (the scale
# (ρ/R)/sin(ρ/R) ≈ 1 + ρ²/6R² varies by less than that across the part); farther out the
# vertices are mapped back and measured geodesically.
_PLANAR_AREA_REACH_M = 150_000.0


def _part_area_m2(part: shapely.Polygon, lon0: float, lat0: float) -> float:
    x0, y0, x1, y1 = part.bounds
    reach = math.hypot(max(abs(x0), abs(x1)), max(abs(y0), abs(y1)))
    if reach <= _PLANAR_AREA_REACH_M:
        c = part.centroid
        rho = math.hypot(c.x, c.y) / geodesy.MIN_EARTH_RADIUS_M
        scale = rho / math.sin(rho) if rho > 1e-9 else 1.0
        return part.area / scale
    lons, lats = _ring_to_lonlat(part.exterior, lon0, lat0)
    total = geodesy.ring_area_m2(lons, lats)
    for hole in part.interiors:
        lons, lats = _ring_to_lonlat(hole, lon0, lat0)
        total -= geodesy.ring_area_m2(lons, lats)
    return total


def _lens_area_m2(a: Circle, b: Circle, distance_m: float) -> float:
    """Area shared by two circles: the planar lens formula on the geodesic distance of the
    centres (curvature changes it by under r²/(12 R²), 3e-5 at 126 km); a nested circle's
    own geodesic area."""
    r1, r2, d = a.radius_m, b.radius_m, distance_m
    if d <= abs(r1 - r2):
        return circle_area(a if r1 <= r2 else b)
    if d >= r1 + r2:
        return 0.0
    # Two circular segments meeting at the common chord, each r²/2 (x - sin x) for its
    # central angle x. The chord's half-length comes from the depth factors (no cancellation
    # for a 1 cm overlap of a 120 km circle), and x - sin x from its series for small x.
    k = max(0.0, (-d + r1 + r2) * (d + r1 - r2) * (d - r1 + r2) * (d + r1 + r2))
    half_chord = math.sqrt(k) / (2.0 * d)

    def segment(r: float, other: float) -> float:
        theta = math.asin(min(1.0, half_chord / r))
        if d * d + r * r - other * other < 0.0:  # the chord lies beyond this circle's centre
            theta = math.pi - theta
        x = 2.0 * theta
        x_minus_sin = x**3 / 6.0 - x**5 / 120.0 + x**7 / 5040.0 if x < 1e-2 else x - math.sin(x)
        return r * r / 2.0 * x_minus_sin

    return segment(r1, r2) + segment(r2, r1)


def _disc_and_ring(circle: Circle, poly: Polygon) -> tuple[float, float]:
    """The depth of the overlap of a circle and a polygon (as for ``overlap_depth_m``) and the
    planar area they share, in the circle's frame, where the circle is exact. The ring is
    clipped before it is projected, as for the polygon pairs (see CLIP_MARGIN_M: the part of
    the ring near the circle is kept as it is, the clip's own edges stay far outside)."""
    dense = _densified(poly)
    lons, lats = dense["lons"], dense["lats"]
    box = _clip_box(poly, circle)
    if box is not None:
        lons, lats = clip_ring_to_box(lons, lats, *box)
        if len(lons) == 0:  # nothing of the polygon comes near the circle
            return -math.inf, 0.0
    xs, ys = geodesy.to_frame(*circle.center, lons, lats)
    depth_m, area_m2 = disc_ring_depth_area(xs, ys, circle.radius_m)
    return float(depth_m), float(area_m2)


def _circle_polygon_area_m2(circle: Circle, poly: Polygon) -> float | None:
    """The overlap area of a circle and a polygon, or None when they do not conflict. The
    frame's area scale is taken at r/√2 from the centre: across the disc it differs from
    that by under r² / (12 R²), 3.4e-5 at the 126 km of a circle at the default area limit;
    larger circles go through the polygons."""
    depth_m, planar_m2 = _disc_and_ring(circle, poly)
    if depth_m <= DEPTH_THRESHOLD_M:
        return None
    if circle.radius_m > _PLANAR_AREA_REACH_M:
        parts, (lon0, lat0) = _overlap_parts(circle, poly)
        return sum(_part_area_m2(part, lon0, lat0) for part in parts)
    rho = circle.radius_m / math.sqrt(2.0) / geodesy.MIN_EARTH_RADIUS_M
    scale = rho / math.sin(rho) if rho > 1e-9 else 1.0
    return planar_m2 / scale


def horizontal_overlap_m2(a: Shape, b: Shape) -> float | None:
    """None when the shapes do not conflict (as ``shapes_conflict``), else the overlap area in
    m² (as ``overlap_area_m2``), in one pass. Symmetric."""
    if _bounds_disjoint(a, b):
        return None
    if isinstance(a, Circle) and isinstance(b, Circle):
        d = geodesy.distance_m(*a.center, *b.center)
        if a.radius_m + b.radius_m - d <= DEPTH_THRESHOLD_M:
            return None
        return _lens_area_m2(a, b, d)
    if isinstance(a, Circle) and isinstance(b, Polygon):
        return _circle_polygon_area_m2(a, b)
    if isinstance(a, Polygon) and isinstance(b, Circle):
        return _circle_polygon_area_m2(b, a)
    parts, (lon0, lat0) = _overlap_parts(a, b)
    if not parts:
        return None
    return sum(_part_area_m2(part, lon0, lat0) for part in parts)


def overlap_area_m2(a: Shape, b: Shape) -> float:
    """Area (m²) of the part the shapes share, 0.0 when they do not conflict.

    Tolerance: relative 1e-4 (the frame's area scale; for two circles, the lens formula),
    plus the boundary tolerance times the overlap's perimeter: 1 mm for polygon edges;
    circle arcs are exact against a polygon (geo.disc), except for circles over
    _PLANAR_AREA_REACH_M, whose arcs are drawn within min(1 m, radius/10,000, depth/4)
    but at least 1 mm (inscribed, so that area errs low).
    """
    area = horizontal_overlap_m2(a, b)
    return 0.0 if area is None else area


def overlap_geometry(a_shape: Shape, b_shape: Shape) -> dict[str, Any]:
    """The overlap as a GeoJSON geometry: ``{"type": "MultiPolygon", "coordinates": [...]}``
    with lon/lat rings (closed, exterior CCW), empty when the shapes do not conflict. Vertices
    are on the boundaries within the tolerance of ``overlap_area_m2``; long edges are already
    short (densified), so a map drawing them straight stays close."""
    parts, (lon0, lat0) = _overlap_parts(a_shape, b_shape)
    polygons = []
    for part in parts:
        part = orient(part, 1.0)
        rings = []
        for ring in (part.exterior, *part.interiors):
            lons, lats = _ring_to_lonlat(ring, lon0, lat0)
            rings.append([[float(x), float(y)] for x, y in zip(lons, lats, strict=True)])
        polygons.append(rings)
    return {"type": "MultiPolygon", "coordinates": polygons}


# --- points ----------------------------------------------------------------------------------------


def distance_to_shape_m(lon: float, lat: float, shape: Shape) -> float:
    """Signed geodesic distance (m) from the point to the shape's boundary: positive outside
    (how far outside), negative inside, 0 on the boundary. Exact for circles; for polygons
    within 1 mm near the shape (the polygon is judged in a frame centred on the point, where
    distances from the point are exact).
    """
    if isinstance(shape, Circle):
        return geodesy.distance_m(lon, lat, *shape.center) - shape.radius_m
    geom = _polygon_in_frame(shape, lon, lat)
    origin = shapely.Point(0.0, 0.0)
    d = float(shapely.distance(origin, geom.exterior))
    return -d if shapely.contains(geom, origin) else d


def point_in_shape(lon: float, lat: float, shape: Shape) -> bool:
    """True when the point is inside the shape or on its boundary (within 1 mm for polygons)."""
    b0, b1, b2, b3 = shape_bounds(shape)
    if not (b0 <= lon <= b2 and b1 <= lat <= b3):
        return False
    return distance_to_shape_m(lon, lat, shape) <= 0.0
