"""The ``conflicts`` and ``replay`` commands: offline tactical scans of recorded state vectors
(docs/tactical.md). cli.py declares their options and calls ``run_conflicts`` / ``run_replay``.

Cold start: an offline scan imports NumPy, pyarrow, the tactical engine (its compiled broad
phase loads from numba's on-disk cache) and orjson, and nothing of the store, SQLAlchemy,
FastAPI or the geometry stack (shapely, pyproj, h3); zone or operation files bring the
geometry in only when they are given (tests/tactical/test_tactical_cold_start.py).

Exit codes: 0 nothing found; 1 conflicts, incursions or non-conformance; 2 bad input, which
includes a file whose every row was skipped and a scan time at which no track is left.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import typer

from truceline.cli.common import read_files
from truceline.cli.rendering import EXIT_CONFLICTS, console, fail, guarded, warn
from truceline.cli.tactical import TacticalFormat
from truceline.engines.tactical import DetectionSettings, EpisodeChange, EpisodeEvent
from truceline.errors import ValidationError
from truceline.geo.units import FOOT_M, NM_M
from truceline.io.statevectors import EPOCH_RANGE_S, StateVectors, read_state_vectors
from truceline.service.replay import Alert, ScanOptions, replay, scan_snapshot

if TYPE_CHECKING:
    from truceline.domain.operation import Operation
    from truceline.domain.zone import Zone


@dataclass(frozen=True, slots=True)
class TacticalArgs:
    """The options both commands share, in the units of their flags."""

    pairs: str = "cross-party"
    lookahead_s: float = 300.0
    max_age_s: float = 30.0
    ground_below_m: float | None = None
    pressure_as: str | None = None
    step_s: float = 5.0
    min_horizontal_nm: float = 5.0
    min_vertical_ft: float = 1000.0
    min_ground_m: float = 50.0
    clear_after_s: float = 30.0


# DetectionSettings / ScanOptions field -> the flag that sets it (errors name the flag)
FLAGS = {
    "horizontal_m": "--min-horizontal-nm",
    "vertical_m": "--min-vertical-ft",
    "ground_horizontal_m": "--min-ground-m",
    "lookahead_s": "--lookahead",
    "pairs": "--pairs",
    "step_s": "--step",
    "max_age_s": "--max-age",
    "clear_after_s": "--clear-after",
    "pressure_altitude_as": "--pressure-altitude-as",
}


def scan_options(args: TacticalArgs) -> ScanOptions:
    from truceline.domain.activity import parse_enum
    from truceline.engines.tactical import PairFilter
    from truceline.geo.altitude import AltitudeReference

    # judged in the flag's own unit, so the message quotes what was typed
    given = (("--min-horizontal-nm", args.min_horizontal_nm), ("--min-vertical-ft", args.min_vertical_ft),
             ("--min-ground-m", args.min_ground_m), ("--lookahead", args.lookahead_s))
    for flag, value in given:
        if not (math.isfinite(value) and value > 0):
            raise ValidationError(f"{value!r} must be a positive finite number", field=flag)
    try:
        policy = None
        if args.pressure_as:
            from truceline.engines.incursion import AltitudePolicy

            stand_in = parse_enum(AltitudeReference, args.pressure_as, "pressure_altitude_as")
            policy = AltitudePolicy(pressure_as=stand_in)
        settings = DetectionSettings(
            horizontal_m=args.min_horizontal_nm * NM_M,
            vertical_m=args.min_vertical_ft * FOOT_M,
            ground_horizontal_m=args.min_ground_m,
            lookahead_s=args.lookahead_s,
            pairs=parse_enum(PairFilter, args.pairs, "pairs"),
        )
        return ScanOptions(settings=settings, policy=policy, ground_below_m=args.ground_below_m,
                           step_s=args.step_s, max_age_s=args.max_age_s, clear_after_s=args.clear_after_s)
    except ValidationError as error:
        if error.field in FLAGS:
            error.field = FLAGS[error.field]
        raise


def load(states: Path, zones: Sequence[Path], args: TacticalArgs
         ) -> tuple[ScanOptions, StateVectors, list[Zone], list[Operation]]:
    """Options, state vectors and zone files; exit 2 (one line) when no row is usable."""

    def read() -> tuple[ScanOptions, StateVectors, list[Zone], list[Operation]]:
        options = scan_options(args)
        sv = read_state_vectors(states, max_position_age_s=args.max_age_s)
        if not zones:
            return options, sv, [], []
        found = read_files(zones)
        warn(found.warnings)
        # Zones in another reference than the tracks' are compared through the altitude model
        # (EGM96; TRUCELINE_TERRAIN for AGL; TRUCELINE_QNH for flight levels), built only
        # here: a scan without zones never reads the geoid grid (cold start).
        from dataclasses import replace

        from truceline.engines.incursion import AltitudePolicy
        from truceline.service.altitude import altitude_model

        policy = replace(options.policy or AltitudePolicy(), conversions=altitude_model())
        options = replace(options, policy=policy)
        return options, sv, list(found.zones), list(found.operations)

    options, sv, found_zones, operations = guarded(read)
    if len(sv.rows) == 0:
        if sv.skipped.total == 0:
            fail(f"{states}: no data row after the header")
        fail(f"{states}: no usable row: all {sv.skipped.total} rows skipped ({sv.skipped.summary()})")
    return options, sv, found_zones, operations


def check_time(flag: str, value: float | None) -> None:
    """A scan time given on the command line is a finite epoch time (else exit 2 naming it)."""
    if value is not None and not (math.isfinite(value) and EPOCH_RANGE_S[0] <= value <= EPOCH_RANGE_S[1]):
        fail(f"{flag}: {value!r} is not an epoch time in seconds (years 1 to 9999)")


def _iso(t: float) -> str:
    return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")


def _when(t: float) -> str:
    """An epoch time as ISO 8601 and as given on the command line, e.g. '...Z (1633608001)'."""
    return f"{_iso(t)} ({int(t) if t == int(t) else t})"


def callsigns(states: StateVectors) -> dict[str, str]:
    """icao24 -> callsign (the last one in the file) for display."""
    return {str(i): str(c) for i, c in zip(states.rows.ids.tolist(), states.callsigns.tolist(), strict=True)
            if c}


def settings_json(options: ScanOptions) -> dict[str, object]:
    s = options.settings
    return {"horizontal_m": s.horizontal_m, "vertical_m": s.vertical_m,
            "ground_horizontal_m": s.ground_horizontal_m, "lookahead_s": s.lookahead_s,
            "pairs": s.pairs.value, "ground_below_m": options.ground_below_m, "max_age_s": options.max_age_s}


def run_conflicts(states: Path, zones: Sequence[Path], args: TacticalArgs, output: TacticalFormat,
                  at: float | None) -> None:
    check_time("--at", at)
    options, sv, found_zones, operations = load(states, zones, args)
    scan = guarded(lambda: scan_snapshot(sv, zones=found_zones, operations=operations, options=options,
                                         at_s=at, conflict_alerts=False))
    if len(scan.tracks) == 0:
        first, last = sv.time_span_s
        when = "the last time" if at is None else _when(at)
        fail(f"{states}: no track at {when}: a track older than {options.max_age_s:g} s has left; "
             f"the usable rows span {_when(first)} to {_when(last)}")
    others = scan.alerts  # zone and conformance alerts: the conflicts are in scan.conflicts
    if output is TacticalFormat.JSON:
        document = {
            "at_s": scan.at_s,
            "at": _iso(scan.at_s),
            "tracks": len(scan.tracks),
            "settings": settings_json(options),
            "conflicts": scan.conflicts.records(),
            "alerts": [{"kind": a.kind, **a.data} for a in others],
            "skipped": sv.skipped.to_json(),
        }
        options_json = orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE
        sys.stdout.buffer.write(orjson.dumps(document, option=options_json))
        sys.stdout.flush()
    else:
        _print_table(sv, scan)
        for alert in others:
            console.print(alert.describe(callsigns(sv)), markup=False, highlight=False)
        if sv.skipped.total:
            console.print(f"skipped rows: {sv.skipped.summary()}", markup=False, highlight=False,
                          soft_wrap=True)
    if len(scan.conflicts) or others:
        raise typer.Exit(EXIT_CONFLICTS)


def _print_table(sv: StateVectors, scan: Any) -> None:
    from rich.table import Table

    labels = callsigns(sv)
    when = datetime.fromtimestamp(scan.at_s, UTC).isoformat()
    table = Table(title=f"{len(scan.conflicts)} conflict(s) among {len(scan.tracks)} tracks at {when}",
                  title_justify="left")
    for name in ("a", "b", "t LoS (s)", "t CPA (s)", "CPA (NM)", "Δalt CPA (ft)", "now (NM / ft)", "LoS"):
        table.add_column(name)
    c = scan.conflicts
    for k in range(len(c)):
        table.add_row(
            f"{c.a[k]} {labels.get(str(c.a[k]), '')}", f"{c.b[k]} {labels.get(str(c.b[k]), '')}",
            f"{c.tlos_s[k]:.0f}", f"{c.tcpa_s[k]:.0f}", f"{c.dcpa_m[k] / NM_M:.2f}",
            "?" if math.isnan(c.dalt_m[k]) else f"{c.dalt_m[k] / FOOT_M:.0f}",
            f"{c.dist_m[k] / NM_M:.2f} / " + ("?" if math.isnan(c.dz_m[k]) else f"{c.dz_m[k] / FOOT_M:.0f}"),
            "yes" if c.los[k] else "",
        )
    console.print(table)


def run_replay(states: Path, zones: Sequence[Path], args: TacticalArgs, speed: float,
               start: float | None, end: float | None) -> None:
    """Print each episode once when it opens, once more if a conflict becomes a loss of
    separation, and once when it ends; a progress bar on a terminal; a summary."""
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    check_time("--start", start)
    check_time("--end", end)
    if not (math.isfinite(speed) and speed >= 0):
        fail(f"--speed: {speed!r} must be 0 (as fast as possible) or a positive multiple of real time")
    options, sv, found_zones, operations = load(states, zones, args)
    first, last = sv.time_span_s
    if (start is not None and start > last) or (end is not None and end < first) or (
            start is not None and end is not None and end < start):
        fail(f"{states}: no scan time in --start/--end: the usable rows span {_when(first)} to {_when(last)}")
    labels = callsigns(sv)
    worst: dict[tuple[str, ...], tuple[bool, float]] = {}  # key -> (LoS seen, closest CPA, m)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("replay", total=None)

        def say(t: float, text: str) -> None:
            stamp = datetime.fromtimestamp(t, UTC).strftime("%H:%M:%S")
            progress.console.print(f"{stamp}  {text}", markup=False, highlight=False)

        def on_event(event: EpisodeEvent) -> None:
            alert = event.episode.latest
            assert isinstance(alert, Alert)
            key = event.episode.key
            los_before, closest = worst.get(key, (False, math.inf))
            los_now = bool(alert.data.get("los", False))
            dcpa = alert.data.get("dcpa_m")
            if isinstance(dcpa, float) and not math.isnan(dcpa):
                closest = min(closest, dcpa)
            worst[key] = (los_before or los_now, closest)
            escalated = event.change is EpisodeChange.UPDATED and los_now and not los_before
            if event.change is EpisodeChange.OPENED or escalated:
                say(event.time_s, alert.describe(labels))
            elif event.change is EpisodeChange.CLOSED:
                ep = event.episode
                worst.pop(key, None)
                said = f" closest CPA {closest / NM_M:.2f} NM," if math.isfinite(closest) else ""
                lost = " with loss of separation," if los_before or los_now else ""
                say(ep.last_seen_s, f"ended: {' / '.join(key[1:])} {alert.kind} after "
                    f"{ep.duration_s:.0f} s,{said}{lost} {ep.steps} scans")

        def on_step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = guarded(lambda: replay(
            sv, zones=found_zones, operations=operations, options=options, speed=speed,
            sleep=time.sleep, on_event=on_event, on_step=on_step, start_s=start, end_s=end,
        ))
    span = "-"
    if summary.steps:
        last_scan = datetime.fromtimestamp(summary.end_s, UTC).strftime("%H:%M:%SZ")
        span = f"{_iso(summary.start_s)} to {last_scan}"
    counts = ", ".join(
        f"{n} {kind} alert{'s' if n != 1 else ''}" for kind, n in sorted(summary.counts.items())
    ) or "no alerts"
    console.print(
        f"Replayed {summary.steps} steps of {options.step_s:g} s ({span}): {summary.tracks_seen} tracks "
        f"(at most {summary.peak_tracks} at once), {len(found_zones)} zones, {len(operations)} operations; "
        f"{counts}; {len(summary.episodes)} episodes ended, {summary.updates} updates.",
        markup=False, highlight=False, soft_wrap=True,
    )
    if sv.skipped.total:
        console.print(f"Skipped rows: {sv.skipped.summary()}", markup=False, highlight=False, soft_wrap=True)
