"""Tactical: conflicts and replay over recorded state vectors. The implementation
(truceline.tactical_command) is imported by the commands themselves, so that no other
command pays for it, and an offline scan loads no store, SQL or web stack
(docs/tactical.md, cold start)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer


class TacticalFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


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
                 "bands as if they were in this reference (AMSL, W84, AGL, or FL: pressure altitude itself, "
                 "compared through TRUCELINE_QNH or the standard atmosphere with its margin); needed "
                 "with --zones when the file has no geoaltitude."),
]
ZonesOption = Annotated[
    list[Path], typer.Option("--zones", help="Zone or operation files (GeoJSON, ED-269, F3548).")
]
HorizontalOption = Annotated[
    float, typer.Option("--min-horizontal-nm", help="Horizontal minimum between airborne tracks (NM).")
]
VerticalOption = Annotated[
    float, typer.Option("--min-vertical-ft", help="Vertical minimum (ft); pairs exactly this far apart are "
                        "not in conflict.")
]
GroundOption = Annotated[
    float, typer.Option("--min-ground-m", help="Horizontal minimum when a track is on the ground (m).")
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
    min_horizontal_nm: HorizontalOption = 5.0,
    min_vertical_ft: VerticalOption = 1000.0,
    min_ground_m: GroundOption = 50.0,
) -> None:
    """Conflicts between tracks in one snapshot (the latest state per icao24).

    JSON: {at_s, at, tracks, settings, conflicts: [{a, b, tcpa_s, dcpa_m, dalt_m, tlos_s, los}]
    (a < b), alerts: [{kind, track, zone, ...}] (with --zones), skipped: {total, counts,
    columns: [{reason, column, count, first_lines, first_messages}]}} (docs/tactical.md).
    Exit code 0: nothing found; 1: conflicts or incursions; 2: bad input, no usable row, or
    no track at the scan time.
    """
    from truceline.tactical_command import TacticalArgs, run_conflicts

    args = TacticalArgs(pairs=pairs, lookahead_s=lookahead, max_age_s=max_age, ground_below_m=ground_below_m,
                        pressure_as=pressure_altitude_as, min_horizontal_nm=min_horizontal_nm,
                        min_vertical_ft=min_vertical_ft, min_ground_m=min_ground_m)
    run_conflicts(states, zones, args, output, at)


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
    min_horizontal_nm: HorizontalOption = 5.0,
    min_vertical_ft: VerticalOption = 1000.0,
    min_ground_m: GroundOption = 50.0,
    clear_after: Annotated[
        float, typer.Option("--clear-after", help="An alert unseen for longer than this (s) has ended.")
    ] = 30.0,
    start: Annotated[float | None, typer.Option("--start", help="First scan time, epoch s.")] = None,
    end: Annotated[float | None, typer.Option("--end", help="Last scan time, epoch s.")] = None,
    to: Annotated[
        str | None, typer.Option("--to", help="Feed the recording through this replay server's POST /tracks "
                                 "(TRUCELINE_SCAN_CLOCK=tracks) instead of scanning here.")
    ] = None,
    tokens: Annotated[
        Path | None,
        typer.Option("--tokens", help="With --to: JSON {party: token}, one per party column value."),
    ] = None,
    token: Annotated[
        str | None, typer.Option("--token", help="With --to: one token, every row sent as its party.")
    ] = None,
    nats: Annotated[
        str | None,
        typer.Option("--nats", help="Publish the same steps to this NATS server's TRACKS stream, as the "
                     "parties' gateways do, for `truceline worker` processes on the tracks clock "
                     "(TRUCELINE_SCAN_CLOCK=tracks) to scan, instead of scanning here. Each batch's "
                     "Nats-Msg-Id is made from the recording, the step, the party and the batch's "
                     "content, so a second run within the stream's duplicate window (120 s) is "
                     "reported as duplicates, not taken twice."),
    ] = None,
    keys: Annotated[
        Path | None,
        typer.Option("--keys", help='With --nats: JSON {party: {"id": party id, "key": PEM file}}, one per '
                     "party column value: the id of GET /me and the party's Ed25519 request key "
                     "(a path relative to this file)."),
    ] = None,
) -> None:
    """Replay a recorded state-vector file: each alert once per episode.

    Steps through the file in time order; an alert is printed when it opens, again only if a
    conflict becomes a loss of separation, and once when it ends. A progress bar on a
    terminal; a summary at the end. With --to URL the steps go to a replay server, which
    scans each one and answers with its alerts; with --nats URL they are published, signed,
    to the TRACKS stream for the workers to scan, and one summary line says what was
    published (docs/tactical.md). Exit code 0, or 2 on bad input or no usable row.
    """
    if to is not None and nats is not None:
        from truceline.cli.rendering import fail

        fail("--to and --nats: feed one server or the workers, not both")
    if nats is not None:
        from truceline.cli.rendering import fail
        from truceline.cli.replay_nats import run_replay_nats

        if zones:
            fail("--zones: with --nats the register's own zones and operations are used")
        if tokens is not None or token is not None:
            fail("--tokens and --token go with --to URL; --nats signs with --keys")
        run_replay_nats(states, nats, keys, step, max_age, speed, start, end)
        return
    if keys is not None:
        from truceline.cli.rendering import fail

        fail("--keys goes with --nats URL")
    if to is not None:
        from truceline.cli.rendering import fail
        from truceline.cli.replay_to import run_replay_to

        if zones:
            fail("--zones: with --to the server's own zones and operations are used")
        run_replay_to(states, to, tokens, token, step, max_age, speed, start, end)
        return
    if tokens is not None or token is not None:
        from truceline.cli.rendering import fail

        fail("--tokens and --token go with --to URL")
    from truceline.tactical_command import TacticalArgs, run_replay

    args = TacticalArgs(pairs=pairs, lookahead_s=lookahead, max_age_s=max_age, ground_below_m=ground_below_m,
                        pressure_as=pressure_altitude_as, step_s=step, min_horizontal_nm=min_horizontal_nm,
                        min_vertical_ft=min_vertical_ft, min_ground_m=min_ground_m, clear_after_s=clear_after)
    run_replay(states, zones, args, speed, start, end)
