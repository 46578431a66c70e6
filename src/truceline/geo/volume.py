"""The 4D volume: a horizontal shape, an altitude band and a time window."""

from __future__ import annotations

from dataclasses import dataclass

from truceline.geo.altitude import AltitudeBand, ReferenceConversions
from truceline.geo.shapes import Shape
from truceline.geo.timewindow import TimeWindow


@dataclass(frozen=True, slots=True)
class Volume4D:
    shape: Shape
    altitude: AltitudeBand
    time: TimeWindow


@dataclass(frozen=True, slots=True)
class Overlap:
    """What two volumes share: the time window, the altitude band and the horizontal area."""

    time: TimeWindow
    altitude: AltitudeBand
    area_m2: float


def overlap(
    a: Volume4D, b: Volume4D, conversions: ReferenceConversions | None = None
) -> Overlap | None:
    """The overlap of two volumes, or None when they do not conflict. TODO(geo)."""
    raise NotImplementedError


def intersects(a: Volume4D, b: Volume4D, conversions: ReferenceConversions | None = None) -> bool:
    return overlap(a, b, conversions) is not None
