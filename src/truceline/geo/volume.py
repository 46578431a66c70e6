"""The 4D volume: a horizontal shape, an altitude band and a time window; and whether two
volumes conflict.

Two volumes conflict when their half-open time windows overlap, their altitude bands
overlap (bands meeting at a boundary do not), and their shapes overlap deeper than 5 mm
(geo.horizontal: touching edges do not conflict; 1 cm overlaps do, 1 cm gaps do not).

Bands in different references are compared through ``conversions`` (geo.altitude) over the
area where the two shapes' bounds meet: the geoid or terrain heights anywhere there are
allowed for, so the verdict never depends on where inside that area the volumes touch.

The horizontal helpers other layers need are re-exported here, so ``geo.volume`` is the one
import for the 4D API.
"""

from __future__ import annotations

from dataclasses import dataclass

from truceline.geo.altitude import AltitudeBand, Bounds, Conversions, compare_bands
from truceline.geo.horizontal import (
    distance_to_shape_m,
    horizontal_overlap_m2,
    overlap_area_m2,
    overlap_geometry,
    point_in_shape,
    shapes_conflict,
)
from truceline.geo.shapes import Shape, shape_area_m2, shape_bounds, shape_to_polygon_ring
from truceline.geo.timewindow import TimeWindow, time_overlap

__all__ = [
    "Overlap",
    "Volume4D",
    "distance_to_shape_m",
    "horizontal_overlap_m2",
    "intersects",
    "overlap",
    "overlap_area_m2",
    "overlap_geometry",
    "point_in_shape",
    "shape_area_m2",
    "shape_bounds",
    "shape_to_polygon_ring",
    "shapes_conflict",
    "shared_bounds",
]


@dataclass(frozen=True, slots=True)
class Volume4D:
    shape: Shape
    altitude: AltitudeBand
    time: TimeWindow


@dataclass(frozen=True, slots=True)
class Overlap:
    """What two volumes share: the time window, the altitude band (in ``a``'s reference) and
    the horizontal area in m² (geodesic; see geo.horizontal.overlap_area_m2 for its tolerance).
    ``altitude_conversion``: the conversions the bands took (e.g. ``"EGM96"``), None if none;
    the band is then in the reference they were compared in (geo.altitude.common_reference)."""

    time: TimeWindow
    altitude: AltitudeBand
    area_m2: float
    altitude_conversion: str | None = None


def _times_meet(a: TimeWindow, b: TimeWindow) -> bool:
    # epoch floats: no TimeWindow is built for the (common) disjoint case
    if not (a.start_s < b.end_s and b.start_s < a.end_s):
        return False
    # a weekly schedule (an ED-269 daily period) may leave the envelopes' overlap inactive
    return (a.schedule is None and b.schedule is None) or time_overlap(a, b) is not None


def _single(band: AltitudeBand) -> bool:
    return band.lower_reference is None


def shared_bounds(a: Volume4D, b: Volume4D) -> Bounds:
    """Where the two shapes' bounds meet (the first's when they do not: no conflict then)."""
    ax0, ay0, ax1, ay1 = shape_bounds(a.shape)
    bx0, by0, bx1, by1 = shape_bounds(b.shape)
    x0, y0, x1, y1 = max(ax0, bx0), max(ay0, by0), min(ax1, bx1), min(ay1, by1)
    if x0 > x1 or y0 > y1:
        return ax0, ay0, ax1, ay1
    return x0, y0, x1, y1


def _bands_meet(a: Volume4D, b: Volume4D, conversions: Conversions | None) -> bool:
    x, y = a.altitude, b.altitude
    if x.reference != y.reference or not (_single(x) and _single(y)):
        # converts, or raises AltitudeReferenceError: mixed references are never guessed
        return compare_bands(x, y, conversions, shared_bounds(a, b)).band is not None
    return max(x.lower_m, y.lower_m) < min(x.upper_m, y.upper_m)


def _meet_in_time_and_altitude(a: Volume4D, b: Volume4D, conversions: Conversions | None) -> bool:
    # Altitude first: a mixed-reference pair raises whatever the times are, so an error never
    # depends on which candidates happen to overlap in time. Geometry comes after, it costs most.
    return _bands_meet(a, b, conversions) and _times_meet(a.time, b.time)


def overlap(a: Volume4D, b: Volume4D, conversions: Conversions | None = None) -> Overlap | None:
    """The overlap of two volumes, or None when they do not conflict.

    Raises AltitudeReferenceError when the altitude references differ and ``conversions``
    does not relate them. The verdict is symmetric (``overlap(a, b)`` is None exactly when
    ``overlap(b, a)`` is); the band is expressed in ``a``'s reference.
    """
    if not _meet_in_time_and_altitude(a, b, conversions):
        return None
    area_m2 = horizontal_overlap_m2(a.shape, b.shape)
    if area_m2 is None:
        return None
    time = time_overlap(a.time, b.time)
    bands = compare_bands(a.altitude, b.altitude, conversions, shared_bounds(a, b))
    if time is None or bands.band is None:  # the fast checks above agree with these; kept for safety
        return None
    return Overlap(time, bands.band, area_m2, bands.conversion)


def intersects(a: Volume4D, b: Volume4D, conversions: Conversions | None = None) -> bool:
    """Whether the volumes conflict (as ``overlap(...) is not None``, without computing the area)."""
    return _meet_in_time_and_altitude(a, b, conversions) and shapes_conflict(a.shape, b.shape)
