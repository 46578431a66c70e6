"""Tactical: conflicts and replay over recorded state vectors (issue 3)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from truceline.cli.common import read_files
from truceline.cli.rendering import (
    EXIT_CONFLICTS,
    console,
    guarded,
    warn,
)
from truceline.geo.units import FOOT_M, NM_M


class TacticalFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


def _tactical_options(
    pairs: str, lookahead_s: float, max_age_s: float, ground_below_m: float | None,
    pressure_as: str | None, step_s: float = 5.0,
) -> Any:
    from truceline.domain.activity import parse_enum
    from truceline.engines.incursion import AltitudePolicy
    from truceline.engines.tactical import DetectionSettings, PairFilter
    from truceline.geo.altitude import AltitudeReference
    from truceline.service.replay import ScanOptions

    stand_in = parse_enum(AltitudeReference, pressure_as, "pressure_altitude_as") if pressure_as else None
    return ScanOptions(
        settings=DetectionSettings(pairs=parse_enum(PairFilter, pairs, "pairs"), lookahead_s=lookahead_s),
        policy=AltitudePolicy(pressure_as=stand_in),
        ground_below_m=ground_below_m,
        step_s=step_s,
        max_age_s=max_age_s,
    )


def _callsigns(states: Any) -> dict[str, str]:
    return {str(i): str(c) for i, c in zip(states.rows.ids, states.callsigns, strict=True) if c}


PairsOption = Annotated[
    str, typer.Option("--pairs", help="cross-party (pairs of different parties) or all.")
]
LookaheadOption = Annotated[float, typer.Option("--lookahead", help="Look-ahead in seconds.")]
MaxAgeOption = Annotated[
    float, typer.Option("--max-age", help="A track older than this (s) at the scan time has left.")
]
GroundBelowOption = Annotated[
    float | None,
    typer.Option("--ground-below-m", help="Also treat tracks below this altitude (m, as reported) as on "
                 "the ground: OpenSky's onground flag misses aircraft rolling on runways."),
]
PressureOption = Annotated[
    str | None,
    typer.Option("--pressure-altitude-as", help="Compare pressure altitudes (baroaltitude) with zone "
                 "bands as if they were in this reference (AMSL, W84 or AGL); needed with --zones when "
                 "the file has no geoaltitude."),
]
ZonesOption = Annotated[
    list[Path], typer.Option("--zones", help="Zone or operation files (GeoJSON, ED-269, F3548).")
]


def conflicts(
    states: Annotated[Path, typer.Argument(help="OpenSky state-vector CSV.")],
    zones: ZonesOption = [],  # noqa: B006
    pairs: PairsOption = "cross-party",
    output: Annotated[TacticalFormat, typer.Option("--format", help="Output format.")] = TacticalFormat.TABLE,
    at: Annotated[float | None, typer.Option("--at", help="Scan time, epoch s [default: last].")] = None,
    lookahead: LookaheadOption = 300.0,
    max_age: MaxAgeOption = 30.0,
    ground_below_m: GroundBelowOption = None,
    pressure_altitude_as: PressureOption = None,
) -> None:
    """Conflicts between tracks in one snapshot (the latest state per icao24).

    JSON: a list of {a, b, tcpa_s, dcpa_m, dalt_m, tlos_s, los} (a < b), followed by one
    {track, zone, entry_s, inside_now} per zone incursion when --zones is given.
    Exit code 0: nothing found; 1: conflicts or incursions; 2: bad input.
    """
    from truceline.io.statevectors import read_state_vectors
    from truceline.service.replay import scan_snapshot

    def run() -> Any:
        options = _tactical_options(pairs, lookahead, max_age, ground_below_m, pressure_altitude_as)
        sv = read_state_vectors(states, max_position_age_s=max_age)
        read = read_files(zones)
        warn(read.warnings)
        return sv, scan_snapshot(
            sv, zones=list(read.zones), operations=list(read.operations), options=options, at_s=at
        )

    sv, scan = guarded(run)
    others = [a for a in scan.alerts if a.kind != "conflict"]
    if output is TacticalFormat.JSON:
        sys.stdout.write(json.dumps(scan.conflicts.records() + [a.data for a in others], indent=2) + "\n")
    else:
        labels = _callsigns(sv)
        when = datetime.fromtimestamp(scan.at_s, UTC).isoformat() if len(scan.tracks) else "-"
        table = Table(title=f"{len(scan.conflicts)} conflict(s) among {len(scan.tracks)} tracks at {when}",
                      title_justify="left")
        for name in ("a", "b", "t LoS (s)", "t CPA (s)", "CPA (NM)", "Δalt CPA (ft)", "now (NM / ft)", "LoS"):
            table.add_column(name)
        c = scan.conflicts
        for k in range(len(c)):
            table.add_row(
                f"{c.a[k]} {labels.get(str(c.a[k]), '')}", f"{c.b[k]} {labels.get(str(c.b[k]), '')}",
                f"{c.tlos_s[k]:.0f}", f"{c.tcpa_s[k]:.0f}", f"{c.dcpa_m[k] / NM_M:.2f}",
                "?" if c.dalt_m[k] != c.dalt_m[k] else f"{c.dalt_m[k] / FOOT_M:.0f}",
                f"{c.dist_m[k] / NM_M:.2f} / "
                + ("?" if c.dz_m[k] != c.dz_m[k] else f"{c.dz_m[k] / FOOT_M:.0f}"),
                "yes" if c.los[k] else "",
            )
        console.print(table)
        for alert in others:
            console.print(alert.describe(labels), markup=False, highlight=False)
        if sv.skipped.total:
            console.print(f"skipped rows: {sv.skipped.summary()}", markup=False, highlight=False)
    if len(scan.conflicts) or others:
        raise typer.Exit(EXIT_CONFLICTS)


def replay(
    states: Annotated[Path, typer.Argument(help="OpenSky state-vector CSV (rows of many times).")],
    zones: ZonesOption = [],  # noqa: B006
    speed: Annotated[
        float, typer.Option("--speed", help="0: as fast as possible; X > 0: X times real time.")
    ] = 0.0,
    step: Annotated[float, typer.Option("--step", help="Scan every this many seconds of data.")] = 5.0,
    pairs: PairsOption = "cross-party",
    lookahead: LookaheadOption = 300.0,
    max_age: MaxAgeOption = 30.0,
    ground_below_m: GroundBelowOption = None,
    pressure_altitude_as: PressureOption = None,
    start: Annotated[float | None, typer.Option("--start", help="First scan time, epoch s.")] = None,
    end: Annotated[float | None, typer.Option("--end", help="Last scan time, epoch s.")] = None,
) -> None:
    """Replay a recorded state-vector file and print each new alert once.

    Steps through the file in time order; an alert is not printed again while it persists.
    Ends with a summary.
    """
    import time

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from truceline.io.statevectors import read_state_vectors
    from truceline.service.replay import replay as run_replay

    def load() -> Any:
        options = _tactical_options(pairs, lookahead, max_age, ground_below_m, pressure_altitude_as, step)
        read = read_files(zones)
        warn(read.warnings)
        sv = read_state_vectors(states, max_position_age_s=max_age)
        return options, sv, list(read.zones), list(read.operations)

    options, sv, found_zones, operations = guarded(load)
    labels = _callsigns(sv)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("replay", total=None)

        def on_alert(alert: Any) -> None:
            stamp = datetime.fromtimestamp(alert.time_s, UTC).strftime("%H:%M:%S")
            progress.console.print(f"{stamp}  {alert.describe(labels)}", markup=False, highlight=False)

        def on_step(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        summary = guarded(lambda: run_replay(
            sv, zones=found_zones, operations=operations, options=options, speed=speed,
            sleep=time.sleep, on_alert=on_alert, on_step=on_step, start_s=start, end_s=end,
        ))
    span = "-"
    if summary.steps:
        first = datetime.fromtimestamp(summary.start_s, UTC).isoformat().replace("+00:00", "Z")
        last = datetime.fromtimestamp(summary.end_s, UTC).strftime("%H:%M:%SZ")
        span = f"{first} to {last}"
    counts = ", ".join(
        f"{n} {kind} alert{'s' if n != 1 else ''}" for kind, n in sorted(summary.counts.items())
    ) or "no alerts"
    console.print(
        f"Replayed {summary.steps} steps of {options.step_s:g} s ({span}): {summary.tracks_seen} tracks "
        f"(at most {summary.peak_tracks} at once), {len(found_zones)} zones, {len(operations)} operations; "
        f"{counts}.",
        markup=False, highlight=False,
    )
    if sv.skipped.total:
        console.print(f"Skipped rows: {sv.skipped.summary()}", markup=False, highlight=False)
