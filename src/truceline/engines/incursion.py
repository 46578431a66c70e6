"""Zone incursions by live tracks: inside a restricting zone now, or predicted to enter it
within the look-ahead along the straight line (constant ground speed, track angle and vertical
rate), with the predicted entry time. A zone restricts a track when its rule applies to the
track's party and activity (air unless on_ground); the zone volume's altitude band and time
window are respected.

Geometry: for each (track, volume) pair that survives a lon/lat bounding-box prefilter, the
volume's outline is put in an azimuthal equidistant frame centred on the track's position. A
geodesic through the centre is a straight line there, so the track's path (a geodesic at its
track angle) is an exact ray, and the entry/exit distances along it come from the planar
intersection with the outline. Tolerance: the outline is densified to within 1 m
(``shape_to_polygon_ring``), and straight frame segments between its vertices stray from the
geodesic edges by well under 5 m for zones within 300 km of the track; entry times are therefore
exact to a few metres of path (a few hundredths of a second at airliner speed).

Altitudes: a band and a track altitude are compared only in the same reference. A zone band is
converted to the track's reference through ``conversions`` when they differ; a track reporting
pressure altitude (reference None, e.g. OpenSky baroaltitude) is compared as if it were
``pressure_as``, which the caller must choose explicitly (None: the comparison is an
AltitudeReferenceError). A ground track with no altitude is inside a band only when the band is
AGL and starts at or below the surface.

Pure: no I/O, no clock, no logging.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from truceline.domain.activity import Activity
from truceline.domain.track import ALT_REF_CODES, TrackBatch
from truceline.domain.zone import Zone
from truceline.errors import AltitudeReferenceError
from truceline.geo import geodesy
from truceline.geo.altitude import AltitudeBand, AltitudeReference, ReferenceConversions
from truceline.geo.shapes import shape_bounds, shape_to_polygon_ring
from truceline.geo.volume import Volume4D

OUTLINE_TOLERANCE_M = 1.0
M_PER_DEG_LAT = 110_574.0  # smallest metres per degree of latitude on WGS84 (at the equator)
M_PER_DEG_LON_EQ = 111_320.0


@dataclass(frozen=True, slots=True)
class AltitudePolicy:
    """How track altitudes meet zone bands (see the module docstring)."""

    pressure_as: AltitudeReference | None = None
    conversions: ReferenceConversions | None = None

    def band_for(self, band: AltitudeBand, alt_ref_code: int) -> AltitudeBand:
        """``band`` in the reference of a track with ``alt_ref_code``; AltitudeReferenceError when
        no explicit rule allows the comparison."""
        ref = ALT_REF_CODES[alt_ref_code]
        if ref is None:
            if self.pressure_as is None:
                raise AltitudeReferenceError(
                    "the track reports pressure altitude; comparing it with a zone band needs an"
                    " explicit stand-in reference (pressure_as)",
                    field="altitude_reference",
                )
            ref = self.pressure_as
        if band.reference == ref:
            return band
        if self.conversions is None:
            raise AltitudeReferenceError(
                f"cannot compare a track altitude in {ref} with a band in {band.reference}"
                " without a configured conversion",
                field="altitude_reference",
            )
        return self.conversions.convert(band, ref)


def altitude_interval_s(
    band: AltitudeBand, alt_m: float, vs_mps: float, horizon_s: float
) -> tuple[float, float] | None:
    """The closed sub-interval of [0, horizon_s] during which alt_m + vs_mps * t is in the band
    (None when never). A NaN altitude (ground track) is in an AGL band starting at or below 0."""
    if math.isnan(alt_m):
        if band.reference is AltitudeReference.AGL and band.lower_m <= 0.0 <= band.upper_m:
            return (0.0, horizon_s)
        return None
    if vs_mps == 0.0:
        return (0.0, horizon_s) if band.lower_m <= alt_m <= band.upper_m else None
    t1 = (band.lower_m - alt_m) / vs_mps
    t2 = (band.upper_m - alt_m) / vs_mps
    lo, hi = max(min(t1, t2), 0.0), min(max(t1, t2), horizon_s)
    return (lo, hi) if lo <= hi else None


@dataclass(frozen=True, slots=True)
class Incursions:
    """One row per (track, zone) at risk, sorted by (track id, zone id): ``entry_s`` is 0 when
    ``inside_now``, else the predicted time until entry (from the batch time ``at_s``)."""

    track_index: npt.NDArray[np.int64]
    track_id: npt.NDArray[np.object_]
    zone_id: npt.NDArray[np.object_]
    volume_index: npt.NDArray[np.int64]
    entry_s: npt.NDArray[np.float64]
    inside_now: npt.NDArray[np.bool_]

    def __len__(self) -> int:
        return int(self.track_index.shape[0])


def restricted(zone: Zone, party: str, on_ground: bool) -> bool:
    activity = Activity.GROUND if on_ground else Activity.AIR
    return zone.rule.applies_to(zone.party, party, activity)


def detect_incursions(
    batch: TrackBatch,
    zones: Sequence[Zone],
    *,
    lookahead_s: float = 300.0,
    policy: AltitudePolicy | None = None,
    at_s: float | None = None,
) -> Incursions:
    """Tracks inside, or predicted to enter within ``lookahead_s``, a zone that restricts them.

    Each track is first advanced from its own time to ``at_s`` (default: the latest time in
    the batch) along its straight line. Raises AltitudeReferenceError when a band and a track
    altitude cannot be compared under ``policy``.
    """
    policy = policy or AltitudePolicy()
    n = len(batch)
    rows: list[tuple[str, str, int, int, float, bool]] = []
    if n == 0 or not zones:
        return _assemble(rows)
    at = float(batch.t.max()) if at_s is None else float(at_s)
    lat, lon, alt = _advance(batch, at)
    reach_m = batch.gs * lookahead_s + 1.0
    dlat = reach_m / M_PER_DEG_LAT
    coslat = np.cos(np.radians(np.minimum(np.abs(lat) + dlat, 89.999)))
    dlon = np.where(np.abs(lat) + dlat >= 89.0, 360.0, reach_m / (M_PER_DEG_LON_EQ * coslat))
    for zone in zones:
        applies = np.array([restricted(zone, str(p), bool(g)) for p, g in zip(batch.parties, batch.on_ground,
                                                                              strict=True)], dtype=bool)
        if not applies.any():
            continue
        for v_index, volume in enumerate(zone.volumes):
            windows = _active_windows(volume, at, lookahead_s)
            if not windows:
                continue
            b0, b1, b2, b3 = shape_bounds(volume.shape)
            near = applies & (lat + dlat >= b1) & (lat - dlat <= b3) & _lon_overlap(lon, dlon, b0, b2)
            for i in np.flatnonzero(near):
                for start_rel, end_rel in windows:  # in order: the first entry found is the earliest
                    entry = _entry_time_s(batch, int(i), float(lat[i]), float(lon[i]), float(alt[i]),
                                          volume, lookahead_s, start_rel, end_rel, policy)
                    if entry is not None:
                        rows.append((str(batch.ids[i]), zone.id, int(i), v_index, entry, entry == 0.0))
                        break
    return _assemble(rows)


def _active_windows(volume: Volume4D, at: float, lookahead_s: float) -> list[tuple[float, float]]:
    """The volume's active time, relative to ``at``, that meets the look-ahead: its window,
    or (with a weekly schedule, an ED-269 daily period) each period within the look-ahead."""
    start_rel, end_rel = volume.time.start_s - at, volume.time.end_s - at
    if end_rel <= 0.0 or start_rel >= lookahead_s:
        return []
    if volume.time.schedule is None:
        return [(start_rel, end_rel)]
    # one second past the look-ahead, so that a period running on is not cut at its end
    return [(lo - at, hi - at) for lo, hi in volume.time.intervals(at, at + lookahead_s + 1.0)]


def _advance(batch: TrackBatch, at_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions and altitudes at ``at_s`` (each track moved along its geodesic)."""
    dt = at_s - batch.t
    moved = dt != 0.0
    lat, lon = batch.lat.copy(), batch.lon.copy()
    if moved.any():
        lo, la, _ = geodesy.GEOD.fwd(batch.lon[moved], batch.lat[moved], batch.trk[moved],
                                     batch.gs[moved] * dt[moved])
        lon[moved], lat[moved] = lo, la
    return lat, lon, batch.alt_m + batch.vs * dt


def _lon_overlap(lon: np.ndarray, dlon: np.ndarray, b0: float, b2: float) -> np.ndarray:
    # compare on the circle: shift each track's longitude next to the box centre
    centre = (b0 + b2) / 2
    rel = (lon - centre + 180.0) % 360.0 - 180.0
    half = (b2 - b0) / 2
    return (np.abs(rel) <= half + dlon) | (dlon >= 180.0)


def _entry_time_s(
    batch: TrackBatch,
    i: int,
    lat: float,
    lon: float,
    alt: float,
    volume: Volume4D,
    lookahead_s: float,
    start_rel: float,
    end_rel: float,
    policy: AltitudePolicy,
) -> float | None:
    """Earliest t in [0, lookahead] with the track inside the volume (shape, band, window)."""
    band = policy.band_for(volume.altitude, int(batch.alt_ref[i]))
    vertical = altitude_interval_s(band, alt, float(batch.vs[i]), lookahead_s)
    if vertical is None:
        return None
    # the time window is half-open [start, end): entry at end is not inside
    t_lo = max(vertical[0], start_rel, 0.0)
    t_hi = min(vertical[1], end_rel, lookahead_s)
    if t_lo > t_hi or (t_lo == t_hi and t_hi == end_rel):
        return None
    for h_lo, h_hi in _horizontal_intervals_s(lon, lat, float(batch.gs[i]), float(batch.trk[i]),
                                              volume, lookahead_s):
        lo, hi = max(h_lo, t_lo), min(h_hi, t_hi)
        if lo <= hi and not (lo == hi == end_rel):
            return lo
    return None


def _horizontal_intervals_s(
    lon: float, lat: float, gs: float, trk_deg: float, volume: Volume4D, lookahead_s: float
) -> list[tuple[float, float]]:
    """Closed time intervals (sorted) in [0, lookahead] when the track is inside the outline."""
    ring = shape_to_polygon_ring(volume.shape, OUTLINE_TOLERANCE_M)
    xs, ys = geodesy.to_frame(lon, lat, np.array([c[0] for c in ring]), np.array([c[1] for c in ring]))
    poly = shapely.Polygon(np.column_stack([xs, ys]))
    if not poly.is_valid:
        poly = shapely.make_valid(poly)  # only in the frame picture; the zone itself is untouched
    length = gs * lookahead_s
    if length <= 0.0:
        return [(0.0, lookahead_s)] if poly.covers(shapely.Point(0.0, 0.0)) else []
    a = math.radians(trk_deg)
    ray = shapely.LineString([(0.0, 0.0), (length * math.sin(a), length * math.cos(a))])
    inside = poly.intersection(ray)
    out: list[tuple[float, float]] = []
    for part in getattr(inside, "geoms", [inside]):
        if part.is_empty:
            continue
        dists = [ray.project(shapely.Point(c)) for c in part.coords]
        out.append((min(dists) / gs, max(dists) / gs))
    return sorted(out)


def _assemble(rows: list[tuple[str, str, int, int, float, bool]]) -> Incursions:
    rows.sort(key=lambda r: (r[0], r[1], r[4]))
    # one row per (track, zone): the earliest entry over the zone's volumes
    seen: set[tuple[str, str]] = set()
    kept = []
    for r in rows:
        if (r[0], r[1]) not in seen:
            seen.add((r[0], r[1]))
            kept.append(r)
    return Incursions(
        track_index=np.array([r[2] for r in kept], dtype=np.int64),
        track_id=np.array([r[0] for r in kept], dtype=object),
        zone_id=np.array([r[1] for r in kept], dtype=object),
        volume_index=np.array([r[3] for r in kept], dtype=np.int64),
        entry_s=np.array([r[4] for r in kept], dtype=np.float64),
        inside_now=np.array([r[5] for r in kept], dtype=bool),
    )
