"""truceline incidents: the observers' reports, exported from the local database."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from truceline.cli.common import DbOption, open_register_or_fail
from truceline.cli.rendering import HELP_MARKUP, console, guarded

incidents_app = typer.Typer(
    help="Incident reports: export them (CSV with ACLED's column names, or GeoJSON).",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
)


@incidents_app.command("export")
def incidents_export(
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write [default: standard output].")
    ] = None,
    format_: Annotated[
        Literal["csv", "geojson"], typer.Option("--format", help="csv (ACLED's column names) or geojson.")
    ] = "csv",
    zone: Annotated[str | None, typer.Option("--zone", help="Only reports attributed to this zone.")] = None,
    db: DbOption = None,
) -> None:
    """Write every report: CSV with ACLED's column names where one exists, then Truceline's
    own (``truceline_...``), or a GeoJSON FeatureCollection."""
    from truceline.io.incidents import feature_collection, write_csv
    from truceline.service import incidents
    from truceline.service.service import Service
    from truceline.store.incidents import Filter

    service = Service(open_register_or_fail(db))
    found = guarded(lambda: incidents.list_incidents(service, Filter(zone_id=zone)))
    text = write_csv(found) if format_ == "csv" else json.dumps(feature_collection(found), indent=2) + "\n"
    if output is None:
        sys.stdout.write(text)
        return
    guarded(lambda: output.write_text(text, encoding="utf-8", newline=""))
    console.print(f"Wrote {len(found)} reports to {output}", markup=False)
