"""Commands on files and the local database: check, convert, import, demo."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from truceline.cli.common import DbOption, TimeZoneOption, open_register_or_fail, read_files
from truceline.cli.rendering import (
    EXIT_CONFLICTS,
    conflict_table,
    console,
    fail,
    guarded,
    refusal_table,
    warn,
)

if TYPE_CHECKING:
    from truceline.domain.operation import Operation
    from truceline.domain.zone import Zone
    from truceline.engines.strategic import Conflict
    from truceline.geo.altitude import AltitudeModel


class CheckFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    GEOJSON = "geojson"
    F3548 = "f3548"
    KML = "kml"  # zones, plans and conflicts, for Google Earth


class ConvertFormat(StrEnum):
    GEOJSON = "geojson"
    ED269 = "ed269"
    KML = "kml"
    OPENAIR = "openair"


class CirclesOption(StrEnum):
    POINT = "point"
    POLYGON = "polygon"


PartyOption = Annotated[
    str | None,
    typer.Option(
        "--party",
        help="The party of F3548 documents that name none (no reference.manager), e.g. a bare "
        "Volume4D list or OperationalIntentDetails.",
    ),
]


def check(
    zones: Annotated[
        list[Path], typer.Option("--zones", help="Zone files (GeoJSON, ED-269, OpenAir).")
    ] = [],  # noqa: B006
    plans: Annotated[
        list[Path], typer.Option("--plans", help="Operation files (GeoJSON, ASTM F3548 JSON).")
    ] = [],  # noqa: B006
    output: Annotated[
        CheckFormat,
        typer.Option(
            "--format",
            help="Output format; f3548: the plans as ASTM F3548 OperationalIntents and the zones as "
            "Constraints, with the conflicts (docs/formats.md).",
        ),
    ] = CheckFormat.TABLE,
    party: PartyOption = None,
    time_zone: TimeZoneOption = None,
    qnh: Annotated[
        float | None,
        typer.Option(
            "--qnh", help="Sea-level pressure, hPa, for flight levels [default: $TRUCELINE_QNH, else ISA]."
        ),
    ] = None,
) -> None:
    """Check planned operations against zones and each other.

    Altitudes in different references are converted (EGM96 geoid; terrain of
    $TRUCELINE_TERRAIN for AGL; --qnh for flight levels), each conflict naming the conversion.
    Exit code 0: no conflict; 1: conflicts found; 2: bad input (also: a plan that F3548
    cannot express, with --format f3548).
    """
    from truceline.config import load_altitude
    from truceline.engines.strategic import conflict_record, find_conflicts
    from truceline.errors import AltitudeReferenceError
    from truceline.io.report import conflict_report_geojson
    from truceline.service.altitude import altitude_model

    if not plans:
        fail("--plans: give at least one file of planned operations")
    model = guarded(lambda: altitude_model(load_altitude(qnh_hpa=qnh)))
    origins: dict[str, Path] = {}
    zone_read = guarded(lambda: read_files(zones, time_zone=time_zone, origins=origins))
    plan_read = guarded(lambda: read_files(plans, party, time_zone=time_zone))
    if zone_read.operations or plan_read.zones:
        fail("--zones files must hold only zones and --plans files only operations")
    zone_list, operations = list(zone_read.zones), list(plan_read.operations)
    warnings = [*zone_read.warnings, *plan_read.warnings]
    warn(warnings)

    def run() -> list[Conflict]:
        try:
            return find_conflicts(zone_list, operations, model)
        except AltitudeReferenceError as error:
            # the engine names the zone; the file it came from is known here
            where = error.where or ""
            place = next((path for zid, path in origins.items() if f"zone {zid!r}" in where), None)
            raise (error if place is None else error.located(str(place))) from None

    conflicts = guarded(run)
    if output is CheckFormat.JSON:
        records = [conflict_record(c) for c in conflicts]
        json.dump({"conflicts": records, "warnings": [w.to_json() for w in warnings]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif output is CheckFormat.F3548:
        report = guarded(lambda: f3548_report(zone_list, operations, conflicts, warnings, model))
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif output is CheckFormat.GEOJSON:
        report = conflict_report_geojson(
            conflicts, {z.id: z for z in zone_list}, {o.id: o for o in operations}
        )
        # A foreign member of the FeatureCollection (RFC 7946 section 6.1).
        report["warnings"] = [w.to_json() for w in warnings]
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif output is CheckFormat.KML:
        from truceline.io.kml import write_kml

        sys.stdout.write(write_kml(zone_list, operations, conflicts))
    elif conflicts:
        console.print(conflict_table([conflict_record(c) for c in conflicts], f"{len(conflicts)} conflicts"))
    else:
        console.print("No conflict.")
    raise typer.Exit(EXIT_CONFLICTS if conflicts else 0)


def f3548_report(
    zones: Sequence[Zone],
    operations: Sequence[Operation],
    conflicts: Sequence[Any],
    warnings: Sequence[Any],
    model: AltitudeModel | None = None,
) -> dict[str, Any]:
    """``check --format f3548``: every plan as an OperationalIntent (one F3548 cannot express
    is an error: exit 2), every zone that F3548 can express as a Constraint (the others are
    left out with a warning naming why), then the conflict records and the warnings. Bands
    not in W84 are converted through ``model`` (the one the check used), each with a warning."""
    from truceline.engines.strategic import conflict_record
    from truceline.errors import FormatError
    from truceline.io.f3548_out import AltitudeNote, constraint, operational_intent
    from truceline.io.features import ReadWarning

    notes: list[AltitudeNote] = []
    intents = [operational_intent(o, model=model, notes=notes) for o in operations]
    constraints = []
    left_out = []
    for zone in zones:
        zone_notes: list[AltitudeNote] = []  # kept only if the zone is written
        try:
            constraints.append(constraint(zone, model=model, notes=zone_notes))
            notes += zone_notes
        except FormatError as error:
            left_out.append(ReadWarning(error.where or f"zone {zone.id}", error.field or "", error.message))
    left_out += [ReadWarning(n.where, "altitude_reference", n.message) for n in notes]
    warn(left_out)
    return {
        "operational_intents": intents,
        "constraints": constraints,
        "conflicts": [conflict_record(c) for c in conflicts],
        "warnings": [w.to_json() for w in [*warnings, *left_out]],
    }


def convert(
    files: Annotated[
        list[Path], typer.Argument(help="Zone or operation files (GeoJSON, ED-269, F3548, OpenAir).")
    ],
    output: Annotated[
        ConvertFormat, typer.Option("--format", help="Format to write.")
    ] = ConvertFormat.GEOJSON,
    circles: Annotated[
        CirclesOption,
        typer.Option("--circles", help="GeoJSON circles: point (Point + radius_m) or polygon (geodesic)."),
    ] = CirclesOption.POINT,
    to: Annotated[Path | None, typer.Option("--output", help="File to write [default: stdout].")] = None,
    time_zone: TimeZoneOption = None,
    qnh: Annotated[
        float | None,
        typer.Option(
            "--qnh",
            help="Sea-level pressure, hPa, for ED-269's flight levels [default: $TRUCELINE_QNH, else ISA].",
        ),
    ] = None,
) -> None:
    """Write zones (and, for GeoJSON and KML, operations) in another format.

    ED-269 and OpenAir hold zones only: an operation is an error, and a zone they cannot
    express is left out with a warning on stderr (as is what they cannot say of a zone
    they write). Exit 0 written, 2 bad input.
    """
    read = guarded(lambda: read_files(files, time_zone=time_zone))
    warn(read.warnings)
    text, warnings = guarded(lambda: _converted(read.zones, read.operations, output, circles, qnh))
    warn(warnings)
    if to is None:
        sys.stdout.write(text)
    else:
        guarded(lambda: to.write_text(text, encoding="utf-8"))


def _converted(
    zones: Sequence[Zone],
    operations: Sequence[Operation],
    output: ConvertFormat,
    circles: CirclesOption,
    qnh: float | None = None,
) -> tuple[str, Sequence[Any]]:
    from truceline.errors import ValidationError

    if output in (ConvertFormat.ED269, ConvertFormat.OPENAIR) and operations:
        raise ValidationError(
            f"{output} holds zones only; {len(operations)} operations given (e.g. {operations[0].id!r})",
            field="--format",
        )
    if output is ConvertFormat.GEOJSON:
        from truceline.io.geojson import Circles, write_geojson

        document = write_geojson(zones, operations, circles=Circles(circles.value))
        return json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False) + "\n", ()
    if output is ConvertFormat.KML:
        from truceline.io.kml import write_kml

        return write_kml(zones, operations), ()
    if output is ConvertFormat.ED269:
        from truceline.config import load_altitude
        from truceline.io.ed269 import write_ed269
        from truceline.service.altitude import altitude_model

        # ED-269 has no flight levels: they are converted to AMSL through the model `check` uses
        written = write_ed269(zones, model=altitude_model(load_altitude(qnh_hpa=qnh)))
        text = json.dumps(written.document, ensure_ascii=False, indent=1, allow_nan=False) + "\n"
        return text, written.warnings
    from truceline.io.openair import write_openair

    openair = write_openair(zones)
    return openair.text, openair.warnings


def import_(
    files: Annotated[
        list[Path], typer.Argument(help="Zone or operation files (GeoJSON, ED-269, F3548, OpenAir).")
    ],
    db: DbOption = None,
    party: PartyOption = None,
    time_zone: TimeZoneOption = None,
) -> None:
    """Import zones and operations into the store, through the ledger.

    Imported zones bind every party they restrict. Each operation is checked as a filing on
    the server is: one inside a forbidden zone that binds its party is refused (recorded as
    refused, not stored). All files are read and checked first; on any error nothing is
    stored (exit 2). Exit 1 when an operation was refused. An F3548 document's
    reference.manager names its party by the party's name or uss_manager alias.
    """
    from truceline.service.parties import manager_parties

    service = open_service_or_fail(db)
    read = guarded(lambda: read_files(files, party, manager_parties(service.register), time_zone=time_zone))
    warn(read.warnings)
    result = guarded(lambda: import_features(service, read.zones, read.operations))
    console.print(
        f"Imported {result.zones} zones and {result.operations} operations "
        f"({result.entries} ledger entries); {len(result.conflicts)} new conflicts"
        + (f"; {len(result.refused)} operations refused." if result.refused else ".")
    )
    if result.conflicts:
        console.print(conflict_table(result.conflicts, "New conflicts"))
    if result.refused:
        console.print(refusal_table(result.refused))
        raise typer.Exit(EXIT_CONFLICTS)


def open_service_or_fail(db: str | None) -> Any:
    """A ``Service`` (the server's command path, its strategic index loaded) on ``--db``."""
    from truceline.service.service import Service

    register = open_register_or_fail(db)
    return guarded(lambda: Service(register))


def import_features(service: Any, zones: Sequence[Zone], operations: Sequence[Operation]) -> Any:
    from truceline.service.importing import import_features as run

    return run(service, zones, operations)


DEMO_PARTIES = (
    ("Russian Federation", "party", "ru"),
    ("US-led Coalition", "party", "en"),
    ("Syrian Arab Army", "party", "ar"),
    ("Turkey", "party", "en"),
    ("UN OCHA", "humanitarian", "en"),
    ("UN ceasefire observers", "observer", "fr"),
)


def demo(
    db: DbOption = None,
    report: Annotated[Path, typer.Option("--report", help="Where to write the GeoJSON report.")] = Path(
        "demo-report.geojson"
    ),
) -> None:
    """Run the bundled Syria scenario: load it through the ledger, check it, report.

    Zone borders are approximate and labelled so. The zones bind every party they restrict
    (imported by the operator). Prints the conflicts and the operations the zones refuse, and
    writes a GeoJSON report; a second run shows what the database already holds.
    """
    from importlib import resources

    from truceline.engines.strategic import find_conflicts
    from truceline.io.report import conflict_report_geojson
    from truceline.ledger import fingerprint

    scenarios = resources.files("truceline") / "scenarios"
    with resources.as_file(scenarios) as folder:
        files = [folder / "syria-2017-zones.geojson", folder / "syria-2017-operations.geojson"]
        read = guarded(lambda: read_files(files))
    warn(read.warnings)
    zones, operations = list(read.zones), list(read.operations)
    service = open_service_or_fail(db)
    register = service.register
    stored = {z.id for z in register.zones()}
    if stored & {z.id for z in zones}:
        console.print("The demo scenario is already in this database; showing what it holds.")
    else:
        known = {p.name for p in register.parties()}
        for name, role, language in DEMO_PARTIES:
            if name not in known:
                guarded(lambda n=name, r=role, lang=language: register.register_party(n, r, lang))
        # Imported now, on the system clock, years after the scenario's day: the map's time
        # slider shows imports by their windows, not by the import's time (service/moment.py).
        guarded(lambda: import_features(service, zones, operations))
    console.print(
        "[bold]Truceline demo[/bold]: Syria, 10 July 2017. Zone borders are drawn approximately "
        "and labelled as such; operations are invented."
    )
    console.print(f"{len(zones)} zones, {len(operations)} planned operations of {len(DEMO_PARTIES)} parties.")
    records = register.conflicts()
    console.print(conflict_table(records, f"{len(records)} conflicts"))
    # As on a server: an operation inside a forbidden zone that binds its party is refused.
    from truceline.service.importing import refusals

    refused = refusals(service)
    if refused:
        console.print(refusal_table(refused))
    # The report shows the refused operations' conflicts too, marked ``refused``.
    refused_ops = [r.operation for r in refused]
    all_ops = [*register.operations(), *refused_ops]
    conflicts = find_conflicts(register.zones(), all_ops, service.altitude)
    zones_by_id = {z.id: z for z in register.zones()}
    geojson = conflict_report_geojson(conflicts, zones_by_id, {o.id: o for o in all_ops})
    refused_ids = {o.id for o in refused_ops}
    for feature in geojson["features"]:
        properties = feature["properties"]
        properties["refused"] = bool({properties["a"], properties["b"]} & refused_ids)
    report.write_text(json.dumps(geojson, indent=1) + "\n", encoding="utf-8")
    head = register.tree_head()
    console.print(f"GeoJSON report: {report}")
    console.print(
        f"Ledger: {head.tree_size} entries, root {head.root_hash.hex()[:16]}…, signed tree head "
        f"by key {fingerprint(head.public_key)}; verify it with `truceline log export DIR` "
        "and `truceline log verify DIR --key KEY` (KEY: `truceline log public-key`)."
    )

