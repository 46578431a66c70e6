"""``truceline notifications``: the board-of-inquiry question, from a server or offline from a
``log export`` folder, and the HXL export."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from truceline.cli.client import DEFAULT_SERVER_URL, TokenOption, UrlOption, api_client
from truceline.cli.rendering import HELP_MARKUP, console, fail, guarded, print_json, utc_text

notifications_app = typer.Typer(
    help="Humanitarian notifications: who was told, who acknowledged which version, with proofs.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
)


def _moment(text: str) -> datetime:
    from truceline.errors import ValidationError
    from truceline.geo.timewindow import require_utc

    try:
        return require_utc(datetime.fromisoformat(text), "--at")
    except ValueError:
        raise ValidationError(f"not an RFC 3339 time: {text!r}", field="--at") from None


@notifications_app.command("status")
def status(
    at: Annotated[str, typer.Option("--at", help="The moment asked about, RFC 3339 with a timezone.")],
    lon: Annotated[float, typer.Option("--lon", help="Longitude of the place, degrees WGS84.")],
    lat: Annotated[float, typer.Option("--lat", help="Latitude of the place, degrees WGS84.")],
    radius_m: Annotated[float, typer.Option("--radius-m", help="Search radius around it, metres.")] = 0.0,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="Answer offline from this `truceline log export` folder."),
    ] = None,
    url: UrlOption = DEFAULT_SERVER_URL,
    token: TokenOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole answer, proofs included.")] = False,
) -> None:
    """Which notified sites and movements were in force at a place and time, and which version
    each party had acknowledged by then; every proof is checked against the signed tree head.
    Exit 0 with an answer, 2 on bad input or a proof that fails."""
    from truceline.service.notifications import status_from_export, verify_status

    moment = guarded(lambda: _moment(at))
    if export is not None:
        answer = guarded(lambda: status_from_export(export, moment, lon, lat, radius_m))
    else:
        when = moment.isoformat().replace("+00:00", "Z")
        params = {"at": when, "lon": lon, "lat": lat, "radius_m": radius_m}
        with api_client(url, token) as client:
            answer = guarded(lambda: client.call("GET", "/notifications/status", params=params))
    checked = guarded(lambda: verify_status(answer))
    if as_json:
        print_json(answer)
        return
    _print(answer, checked)


def _print(answer: dict[str, Any], checked: int) -> None:
    found = answer["notifications"]
    if not found:
        console.print(f"No notification in force there at {utc_text(answer['at'])}.")
    for n in found:
        table = Table(
            title=f"{n['kind']} {n['name']} ({n['id']}), {n['organisation']}: version {n['version']} "
            f"notified {utc_text(n['notified_at'])}, entry {n['proof']['leaf_index']}",
            title_justify="left",
        )
        for column in ("party", "state", "version", "at", "entry"):
            table.add_column(column)
        for p in n["parties"]:
            entry = str(p["proof"]["leaf_index"]) if p["proof"] else "-"
            version = str(p["version"]) if p["version"] is not None else "-"
            table.add_row(p["party"], p["state"], version, utc_text(p["at"]) or "-", entry)
        console.print(table)
    console.print(f"{checked} proofs verified against the signed tree head of {answer['tree_size']} entries.")


@notifications_app.command("export")
def export_hxl(
    url: UrlOption = DEFAULT_SERVER_URL,
    token: TokenOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", help="Write to this file (default: stdout).")
    ] = None,
) -> None:
    """The notifications as HXL-tagged CSV (#org+name, #loc+name, #geo+lat, #geo+lon, ...)."""
    with api_client(url, token) as client:
        response = guarded(lambda: client.request("GET", "/notifications.csv"))
    if response.status_code >= 400:
        from truceline.api.client import problem_error

        fail(problem_error(response))
    if output is None:
        sys.stdout.write(response.text)
    else:
        guarded(lambda: output.write_text(response.text, encoding="utf-8"))
