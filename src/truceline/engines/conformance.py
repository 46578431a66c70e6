"""Conformance of live tracks to filed operations.

A track whose party filed operations (of the track's activity: air unless on_ground, and not
ended or cancelled) conforms when its current position, altitude and time fall inside at least
one volume of those operations. Otherwise it is flagged with how far it is from the nearest
volume: horizontal metres outside the shape, vertical metres outside the band, seconds outside
the time window (each 0 when inside that dimension). "Nearest" is the volume with the smallest
horizontal distance, then vertical, then time. Tracks of parties with no operation are not
judged (nothing was filed to conform to).

Altitudes follow the same policy as engines.incursion (explicit stand-in for pressure altitude,
explicit conversions between references). Pure: no I/O, no clock, no logging.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from truceline.domain.activity import Activity
from truceline.domain.operation import Operation, OperationState
from truceline.domain.track import TrackBatch
from truceline.engines.incursion import AltitudePolicy
from truceline.geo.altitude import AltitudeReference
from truceline.geo.horizontal import distance_to_shape_m
from truceline.geo.shapes import shape_bounds
from truceline.geo.volume import Volume4D

CLOSED_STATES = (OperationState.ENDED, OperationState.CANCELLED)


@dataclass(frozen=True, slots=True)
class NonConforming:
    """One row per non-conforming track, sorted by track id."""

    track_index: npt.NDArray[np.int64]
    track_id: npt.NDArray[np.object_]
    operation_id: npt.NDArray[np.object_]  # the operation of the nearest volume
    horizontal_m: npt.NDArray[np.float64]
    vertical_m: npt.NDArray[np.float64]  # NaN when the altitude is unknown
    time_s: npt.NDArray[np.float64]

    def __len__(self) -> int:
        return int(self.track_index.shape[0])


def check_conformance(
    batch: TrackBatch, operations: Sequence[Operation], *, policy: AltitudePolicy | None = None
) -> NonConforming:
    """Tracks of parties with open operations that are outside every volume of them (each
    track judged at its own time). Raises AltitudeReferenceError as engines.incursion does."""
    policy = policy or AltitudePolicy()
    by_party: dict[tuple[str, Activity], list[Operation]] = defaultdict(list)
    for op in operations:
        if op.state not in CLOSED_STATES:
            by_party[(op.party, op.activity)].append(op)
    rows: list[tuple[str, int, str, float, float, float]] = []
    for i in range(len(batch)):
        on_ground = bool(batch.on_ground[i])
        ops = by_party.get((str(batch.parties[i]), Activity.GROUND if on_ground else Activity.AIR))
        if not ops:
            continue
        best: tuple[float, float, float, str] | None = None
        conforms = False
        for op in ops:
            for volume in op.volumes:
                cand = (*_excess(batch, i, volume, policy), op.id)
                if cand[0] == 0.0 and cand[1] == 0.0 and cand[2] == 0.0:
                    conforms = True
                    break
                if best is None or _key(cand) < _key(best):
                    best = cand
            if conforms:
                break
        if not conforms and best is not None:
            rows.append((str(batch.ids[i]), i, best[3], best[0], best[1], best[2]))
    rows.sort()
    return NonConforming(
        track_index=np.array([r[1] for r in rows], dtype=np.int64),
        track_id=np.array([r[0] for r in rows], dtype=object),
        operation_id=np.array([r[2] for r in rows], dtype=object),
        horizontal_m=np.array([r[3] for r in rows], dtype=np.float64),
        vertical_m=np.array([r[4] for r in rows], dtype=np.float64),
        time_s=np.array([r[5] for r in rows], dtype=np.float64),
    )


def _excess(
    batch: TrackBatch, i: int, volume: Volume4D, policy: AltitudePolicy
) -> tuple[float, float, float]:
    """(horizontal m, vertical m, time s) outside ``volume``; all 0 when inside."""
    h = max(distance_to_shape_m(float(batch.lon[i]), float(batch.lat[i]), volume.shape), 0.0)
    band = policy.band_for(volume.altitude, int(batch.alt_ref[i]), shape_bounds(volume.shape))
    v = _vertical_excess_m(band.lower_m, band.upper_m, float(batch.alt_m[i]),
                           band.reference is AltitudeReference.AGL)
    t = float(batch.t[i])
    if t < volume.time.start_s:
        dt = volume.time.start_s - t
    elif t >= volume.time.end_s:  # half-open window: the end instant is outside
        dt = t - volume.time.end_s
        dt = dt if dt > 0.0 else math.ulp(t)
    else:
        dt = 0.0
    return h, v, dt


def _key(c: tuple[float, float, float, str]) -> tuple[float, float, float]:
    v = math.inf if math.isnan(c[1]) else c[1]
    return (c[0], v, c[2])


def _vertical_excess_m(lower_m: float, upper_m: float, alt_m: float, agl: bool) -> float:
    if math.isnan(alt_m):
        # a ground track without altitude is at the surface only in AGL terms
        return 0.0 if agl and lower_m <= 0.0 <= upper_m else math.nan
    return max(lower_m - alt_m, alt_m - upper_m, 0.0)
