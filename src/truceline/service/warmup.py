"""Pay a server's (or a worker's) one-time costs before its first request or scan, not during it.

The tactical scan's broad phase is a compiled kernel too (engines/pairgrid.py: an extension
module built once per machine into the cache folder, which takes a while the first time):
it is loaded, or built, here. A worker whose first step spent that time compiling would fall
behind the others' steps before it scanned any.

The strategic check's compiled kernels (numba, cached on disk) load on their first call:
about 0.3 s, measured, for the circle-polygon overlap. In a running server that first
call is whichever filing first overlaps a circle with a polygon, and every request queued
behind it waits those 0.3 s. ``warm_up`` runs the check once on a throwaway index holding
each pair of shape kinds that overlap, so the kernels are loaded before serving.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone, ZoneRule
from truceline.engines.pairgrid import load_kernel
from truceline.engines.strategic import StrategicIndex
from truceline.geo.altitude import AltitudeBand
from truceline.geo.shapes import Circle, Shape, square_around
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D

# Any fixed place and time: nothing of this reaches a database or the index in service.
_CENTRE = (36.0, 33.0)
_START = datetime(2000, 1, 1, tzinfo=UTC)


def _volume(shape: Shape) -> Volume4D:
    return Volume4D(shape, AltitudeBand(0.0, 1000.0), TimeWindow(_START, _START + timedelta(hours=1)))


def warm_up() -> None:
    """Load the tactical kernel; check plans of each shape kind against a zone and an operation
    of each kind (a large square too, so a circle's pair clips its ring)."""
    load_kernel()
    shapes: list[Shape] = [
        Circle(_CENTRE, 1_000.0),
        square_around(*_CENTRE, 800.0),
        square_around(*_CENTRE, 30_000.0),
    ]
    index = StrategicIndex()
    rule = ZoneRule("others", "any", "notice")
    for k, shape in enumerate(shapes):
        index.add_zone(Zone(f"warm-zone-{k}", "deconfliction", (_volume(shape),), rule, "a"))
        index.add_operation(Operation(f"warm-op-{k}", "a", "air", (_volume(shape),)))
    for k, shape in enumerate(shapes):
        for conflict in index.check(Operation(f"warm-plan-{k}", "b", "air", (_volume(shape),))):
            # These pairs are settled by their discs, which leave the exact test to the first
            # read of a conflict's overlap: read it, so the exact test's kernels load too.
            conflict.overlap  # noqa: B018
