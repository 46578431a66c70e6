"""Tactical scans over recorded state vectors: one snapshot (``conflicts``) or a replay that
steps through a file in time order and tells each alert once per episode.

An episode (engines.tactical.EpisodeTracker) is keyed by the pair, the track and zone, or the
track for conformance: it opens when the key appears, is updated (not raised again) while it
persists, and closes when the key has not been seen for more than ``clear_after_s`` seconds
(so an alert that flickers for a step because a track skipped a report is one episode), or
when the data ends.

Cold start: the zone and operation engines (shapely, pyproj, the geodesy) are imported only
when zones or operations are given, so an offline conflict scan loads none of them.

Ground filter: OpenSky's ``onground`` flag is unreliable (aircraft rolling on runways report
airborne at 0-80 m). With ``ground_below_m`` set, a track whose altitude is below that value is
treated as on the ground too (ground minima, ground activity); the value is compared with the
track's altitude as reported (pressure altitude in OpenSky files). Default None: the flag only.

This module does no printing and reads no clock: pacing uses the injected ``sleep``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np

from truceline.domain.track import PRESSURE_CODE, TrackBatch
from truceline.engines.tactical import (
    Conflicts,
    DetectionSettings,
    Detector,
    Episode,
    EpisodeChange,
    EpisodeEvent,
    EpisodeTracker,
    StateBasedDetector,
)
from truceline.errors import AltitudeReferenceError, ValidationError
from truceline.geo.units import FOOT_M, NM_M
from truceline.io.statevectors import StateVectors

if TYPE_CHECKING:
    from truceline.domain.operation import Operation
    from truceline.domain.zone import Zone
    from truceline.engines.incursion import AltitudePolicy


@dataclass(frozen=True, slots=True)
class ScanOptions:
    settings: DetectionSettings = field(default_factory=DetectionSettings)
    # None: the default policy (no stand-in for pressure altitude); kept None so that a scan
    # without zones never imports the zone engines
    policy: AltitudePolicy | None = None
    ground_below_m: float | None = None
    step_s: float = 5.0
    max_age_s: float = 30.0
    clear_after_s: float = 30.0

    def __post_init__(self) -> None:
        for name in ("step_s", "max_age_s", "clear_after_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValidationError(f"{value!r} must be a positive number", field=name)


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str  # "conflict", "incursion" or "non-conforming"
    key: tuple[str, ...]
    time_s: float
    data: dict[str, object]

    def describe(self, labels: Mapping[str, str] | None = None) -> str:
        """One line for a person; ``labels`` maps track ids to a display name (e.g. callsign)."""
        d = self.data

        def name(key: str) -> str:
            track = str(d[key])
            label = (labels or {}).get(track)
            return f"{track} ({label})" if label else track

        if self.kind == "conflict":
            if d["los"]:
                return (
                    f"LOSS OF SEPARATION: {name('a')} / {name('b')}  now {_nm(d['dist_m'])}, "
                    f"{_ft(d['dz_m'])} apart"
                )
            return (
                f"conflict in {d['tlos_s']:.0f} s: {name('a')} / {name('b')}  CPA in "
                f"{d['tcpa_s']:.0f} s at {_nm(d['dcpa_m'])}, {_ft(d['dalt_m'])} apart "
                f"(now {_nm(d['dist_m'])}, {_ft(d['dz_m'])})"
            )
        if self.kind == "incursion":
            when = "inside" if d["inside_now"] else f"entering in {d['entry_s']:.0f} s"
            return f"ZONE {d['zone']}: {name('track')} {when}"
        return (
            f"NON-CONFORMING: {name('track')} (operation {d['operation']}) "
            f"{d['horizontal_m']:.0f} m outside horizontally, {_ft(d['vertical_m'])} vertically, "
            f"{d['time_s']:.0f} s outside its window"
        )


def _ft(metres: object) -> str:
    if not isinstance(metres, float | int) or math.isnan(metres):
        return "? ft"
    return f"{metres / FOOT_M:.0f} ft"


def _nm(metres: object) -> str:
    if not isinstance(metres, float | int) or math.isnan(metres):
        return "? NM"
    return f"{metres / NM_M:.2f} NM"


@dataclass(slots=True)
class ReplaySummary:
    """What a replay told: ``alerts`` the first alert of each episode (``counts`` of them per
    kind), ``episodes`` every episode once closed (by a gap or by the end of the data)."""

    steps: int = 0
    start_s: float = math.nan
    end_s: float = math.nan
    tracks_seen: int = 0
    alerts: list[Alert] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    peak_tracks: int = 0
    episodes: list[Episode] = field(default_factory=list)
    updates: int = 0


def require_altitude_policy(
    states: StateVectors,
    zones: Sequence[Zone],
    operations: Sequence[Operation],
    policy: AltitudePolicy | None,
) -> None:
    """Refuse up front (rather than at the first track near a zone) to compare pressure
    altitudes with zone or operation bands when no stand-in reference was chosen."""
    stand_in = None if policy is None else policy.pressure_as
    if (zones or operations) and stand_in is None and (states.rows.alt_ref == PRESSURE_CODE).any():
        raise AltitudeReferenceError(
            f"{states.source} reports pressure altitude (baroaltitude); comparing it with zone or"
            " operation bands needs an explicit stand-in reference (e.g. AMSL: about 8.5 m of error"
            " per hPa of QNH away from 1013.25)",
            field="pressure_altitude_as",
        )


@dataclass(frozen=True, slots=True)
class SnapshotScan:
    at_s: float
    tracks: TrackBatch
    conflicts: Conflicts
    alerts: list[Alert]


def scan_snapshot(
    states: StateVectors,
    *,
    zones: Sequence[Zone] = (),
    operations: Sequence[Operation] = (),
    options: ScanOptions | None = None,
    at_s: float | None = None,
    conflict_alerts: bool = True,
) -> SnapshotScan:
    """One snapshot (latest state per track at ``at_s``, default the file's last time, among
    states younger than ``options.max_age_s``): its conflicts and every alert (without one
    alert per conflict when not ``conflict_alerts``: a caller that reads ``conflicts`` itself
    saves 25,000 of them at 20,000 aircraft)."""
    options = options or ScanOptions()
    require_altitude_policy(states, zones, operations, options.policy)
    batch = states.snapshot(at_s, max_age_s=options.max_age_s)
    at = float(batch.t.max()) if len(batch) else math.nan
    detector = StateBasedDetector(options.settings)
    conflicts, alerts = _scan(at, batch, zones, operations, options, detector, conflict_alerts)
    return SnapshotScan(at, batch, conflicts, alerts)


def apply_ground_filter(batch: TrackBatch, ground_below_m: float | None) -> TrackBatch:
    """The batch with tracks below ``ground_below_m`` (altitude as reported) marked on ground."""
    if ground_below_m is None or len(batch) == 0:
        return batch
    low = np.isfinite(batch.alt_m) & (batch.alt_m < ground_below_m)
    return replace(batch, on_ground=batch.on_ground | low)


def snapshot_alerts(
    at_s: float,
    batch: TrackBatch,
    zones: Sequence[Zone],
    operations: Sequence[Operation],
    options: ScanOptions,
    detector: Detector,
) -> list[Alert]:
    """Every alert of one snapshot (not deduplicated)."""
    return _scan(at_s, batch, zones, operations, options, detector)[1]


def _scan(
    at_s: float,
    batch: TrackBatch,
    zones: Sequence[Zone],
    operations: Sequence[Operation],
    options: ScanOptions,
    detector: Detector,
    conflict_alerts: bool = True,
) -> tuple[Conflicts, list[Alert]]:
    batch = apply_ground_filter(batch, options.ground_below_m)
    alerts: list[Alert] = []
    conflicts = detector.detect(batch)
    for rec in conflicts.records(now=True) if conflict_alerts else ():
        alerts.append(Alert("conflict", ("conflict", str(rec["a"]), str(rec["b"])), at_s, rec))
    if zones or operations:
        from truceline.engines.incursion import AltitudePolicy

        policy = options.policy or AltitudePolicy()
    if zones:
        from truceline.engines.incursion import detect_incursions

        inc = detect_incursions(
            batch, zones, lookahead_s=options.settings.lookahead_s, policy=policy, at_s=at_s
        )
        for k in range(len(inc)):
            track, zone = str(inc.track_id[k]), str(inc.zone_id[k])
            alerts.append(
                Alert(
                    "incursion",
                    ("incursion", track, zone),
                    at_s,
                    {
                        "track": track,
                        "zone": zone,
                        "entry_s": float(inc.entry_s[k]),
                        "inside_now": bool(inc.inside_now[k]),
                    },
                )
            )
    if operations:
        from truceline.engines.conformance import check_conformance

        nc = check_conformance(batch, operations, policy=policy)
        for k in range(len(nc)):
            track = str(nc.track_id[k])
            alerts.append(
                Alert(
                    "non-conforming",
                    ("non-conforming", track),
                    at_s,
                    {
                        "track": track,
                        "operation": str(nc.operation_id[k]),
                        "horizontal_m": float(nc.horizontal_m[k]),
                        "vertical_m": float(nc.vertical_m[k]),
                        "time_s": float(nc.time_s[k]),
                    },
                )
            )
    return conflicts, alerts


class RepeatingDetector:
    """A detector that answers a snapshot equal to the previous one (the same tracks in the same
    states) with the previous answer: a replay stepping faster than the recording's grid (5 s
    over 10 s) meets most snapshots twice, and detection is a pure function of the snapshot."""

    def __init__(self, inner: Detector):
        self.inner = inner
        self.last: tuple[TrackBatch, Conflicts] | None = None

    def detect(self, batch: TrackBatch) -> Conflicts:
        if self.last is not None and _same_batch(self.last[0], batch):
            return self.last[1]
        found = self.inner.detect(batch)
        self.last = (batch, found)
        return found


def _same_batch(a: TrackBatch, b: TrackBatch) -> bool:
    if len(a) != len(b):
        return False
    exact = ("ids", "parties", "on_ground", "alt_ref")
    floats = ("t", "lat", "lon", "alt_m", "gs", "trk", "vs")
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in exact) and all(
        np.array_equal(getattr(a, f), getattr(b, f), equal_nan=True) for f in floats)


def replay(
    states: StateVectors,
    *,
    zones: Sequence[Zone] = (),
    operations: Sequence[Operation] = (),
    options: ScanOptions | None = None,
    speed: float = 0.0,
    sleep: Callable[[float], None] | None = None,
    on_alert: Callable[[Alert], None] | None = None,
    on_step: Callable[[int, int], None] | None = None,
    on_event: Callable[[EpisodeEvent], None] | None = None,
    start_s: float | None = None,
    end_s: float | None = None,
) -> ReplaySummary:
    """Step through ``states`` every ``options.step_s`` seconds (optionally only within
    [start_s, end_s]); call ``on_alert`` with the first alert of each episode, ``on_event``
    with every change of an episode (opened, updated, closed: the data of an event is its
    latest Alert) and ``on_step(done, total)`` after each step. ``speed`` > 0 paces the replay
    at that multiple of real time through ``sleep`` (required then); 0 runs as fast as possible."""
    options = options or ScanOptions()
    if speed < 0 or not math.isfinite(speed):
        raise ValidationError(f"{speed!r} must be 0 (as fast as possible) or positive", field="speed")
    if speed > 0 and sleep is None:
        raise ValidationError("pacing needs a sleep function", field="sleep")
    require_altitude_policy(states, zones, operations, options.policy)
    detector = RepeatingDetector(StateBasedDetector(options.settings))
    summary = ReplaySummary()
    first, last = states.time_span_s
    if math.isnan(first):
        return summary
    lo = first if start_s is None else max(first, start_s)
    hi = last if end_s is None else min(last, end_s)
    total = max(0, math.floor((hi - lo) / options.step_s) + 1)
    tracker = EpisodeTracker(options.clear_after_s)
    seen_ids: set[str] = set()

    def tell(events: list[EpisodeEvent]) -> None:
        for event in events:
            if event.change is EpisodeChange.OPENED:
                alert = event.episode.first
                assert isinstance(alert, Alert)
                summary.alerts.append(alert)
                summary.counts[alert.kind] += 1
                if on_alert is not None:
                    on_alert(alert)
            elif event.change is EpisodeChange.UPDATED:
                summary.updates += 1
            else:
                summary.episodes.append(event.episode)
            if on_event is not None:
                on_event(event)

    steps = states.snapshots(options.step_s, max_age_s=options.max_age_s, start_s=lo, end_s=hi)
    for done, (at, batch) in enumerate(steps, start=1):
        if math.isnan(summary.start_s):
            summary.start_s = at
        summary.end_s = at
        summary.peak_tracks = max(summary.peak_tracks, len(batch))
        seen_ids.update(batch.ids.tolist())
        alerts = snapshot_alerts(at, batch, zones, operations, options, detector)
        tell(tracker.step(at, [(alert.key, alert) for alert in alerts]))
        summary.steps = done
        if on_step is not None:
            on_step(done, total)
        if speed > 0 and sleep is not None:
            sleep(options.step_s / speed)
    if summary.steps:
        tell(tracker.close_all(summary.end_s))
    summary.tracks_seen = len(seen_ids)
    return summary
