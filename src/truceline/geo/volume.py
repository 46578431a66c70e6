"""The 4D volume: a horizontal shape, an altitude band and a time window; and whether two
volumes conflict.

Two volumes conflict when their half-open time windows overlap, their altitude bands
overlap (bands meeting at a boundary do not), and their shapes overlap deeper than 5 mm
(geo.horizontal: touching edges do not conflict; 1 cm overlaps do, 1 cm gaps do not).

The horizontal helpers other layers need are re-exported here, so ``geo.volume`` is the one
import for the 4D API.
"""

from __future__ import annotations

from dataclasses import dataclass

from truceline.geo.altitude import AltitudeBand, ReferenceConversions, altitude_overlap
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
]


@dataclass(frozen=True, slots=True)
class Volume4D:
    shape: Shape
    altitude: AltitudeBand
    time: TimeWindow


@dataclass(frozen=True, slots=True)
class Overlap:
    """What two volumes share: the time window, the altitude band (in ``a``'s reference) and
    the horizontal area in m² (geodesic; see geo.horizontal.overlap_area_m2 for its tolerance)."""

    time: TimeWindow
    altitude: AltitudeBand
    area_m2: float


def _times_meet(a: TimeWindow, b: TimeWindow) -> bool:
    # epoch floats: no TimeWindow is built for the (common) disjoint case
    if not (a.start_s < b.end_s and b.start_s < a.end_s):
        return False
    # a weekly schedule (an ED-269 daily period) may leave the envelopes' overlap inactive
    return (a.schedule is None and b.schedule is None) or time_overlap(a, b) is not None


def _bands_meet(a: AltitudeBand, b: AltitudeBand, conversions: ReferenceConversions | None) -> bool:
    if a.reference != b.reference:
        # converts, or raises AltitudeReferenceError: mixed references are never guessed
        return altitude_overlap(a, b, conversions) is not None
    return max(a.lower_m, b.lower_m) < min(a.upper_m, b.upper_m)


def _meet_in_time_and_altitude(a: Volume4D, b: Volume4D, conversions: ReferenceConversions | None) -> bool:
    # Altitude first: a mixed-reference pair raises whatever the times are, so an error never
    # depends on which candidates happen to overlap in time. Geometry comes after, it costs most.
    return _bands_meet(a.altitude, b.altitude, conversions) and _times_meet(a.time, b.time)


def overlap(a: Volume4D, b: Volume4D, conversions: ReferenceConversions | None = None) -> Overlap | None:
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
    band = altitude_overlap(a.altitude, b.altitude, conversions)
    if time is None or band is None:  # the fast checks above agree with these; kept for safety
        return None
    return Overlap(time, band, area_m2)


def intersects(a: Volume4D, b: Volume4D, conversions: ReferenceConversions | None = None) -> bool:
    """Whether the volumes conflict (as ``overlap(...) is not None``, without computing the area)."""
    return _meet_in_time_and_altitude(a, b, conversions) and shapes_conflict(a.shape, b.shape)
