"""Client commands talking to a server: zones, ops file, inbox, ack."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from truceline.cli.common import checked_language
from truceline.cli.rendering import (
    EXIT_CONFLICTS,
    HELP_MARKUP,
    conflict_table,
    console,
    err_console,
    fail,
    guarded,
    print_json,
    utc_text,
)
from truceline.config import KEY_ENV, TOKEN_ENV, URL_ENV
from truceline.domain.clock import utc_now
from truceline.errors import ValidationError

UrlOption = Annotated[
    str, typer.Option("--url", envvar=URL_ENV, help="The server's base URL [env TRUCELINE_URL].")
]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar=TOKEN_ENV, help="Bearer token [env TRUCELINE_TOKEN].")
]
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key",
        envvar=KEY_ENV,
        help="PEM Ed25519 private key: sign writes, for a party holding a request key [env TRUCELINE_KEY].",
    ),
]
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


def api_client(url: str, token: str | None, key: Path | None = None) -> Any:
    from truceline.api.client import Client, RequestSigner, load_request_key

    if not token:
        fail("a token is needed: --token or TRUCELINE_TOKEN")
    signer = None
    if key is not None:
        # The CLI is where the clock is read; the signature's ``created`` comes from it.
        signer = RequestSigner(guarded(lambda: load_request_key(key)), utc_now)
    return Client(url, token, signer=signer)


LanguageOption = Annotated[
    str | None,
    typer.Option(
        "--language",
        help="Read in this language: ar zh-CN en fr de ja pt ru es uk [default: your party's].",
    ),
]


def reader_language(client: Any, language: str | None) -> str:
    """The language of the tables: ``--language`` (checked), else the party's (GET /me)."""
    from truceline.domain.party import LANGUAGES
    from truceline.i18n import DEFAULT_LANGUAGE

    if language is not None:
        return language
    mine = guarded(lambda: client.call("GET", "/me")).get("language")
    return mine if mine in LANGUAGES else DEFAULT_LANGUAGE


def zones(
    url: UrlOption = DEFAULT_SERVER_URL,
    token: TokenOption = None,
    state: Annotated[
        str | None, typer.Option("--state", help="proposed, active, rejected, withdrawn, expired.")
    ] = None,
    language: LanguageOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's JSON.")] = False,
) -> None:
    """List the zones on a server: negotiated ones and those the operator imported, with
    whom each binds (its signatories in force; "all" it restricts, for an imported zone)."""
    from truceline.i18n import label

    language = checked_language(language)
    with api_client(url, token) as client:
        found = guarded(lambda: client.call("GET", "/zones", params={"state": state} if state else None))
        if as_json:
            print_json(found)
            return
        language = reader_language(client, language)
    table = Table(title=f"{len(found)} zones", title_justify="left")
    columns = ("id", "kind", "origin", "state", "version", "in_force", "proposer", "signed_required",
               "binds", "ends")  # fmt: skip
    for column in columns:
        table.add_column(label(column, language))
    for z in found:
        binds = z.get("binds", [])
        table.add_row(
            z["id"],
            z["kind"],
            z.get("origin", "negotiated"),
            z["state"],
            str(z["current_version"]),
            str(z["active_version"] or "-"),
            z["proposer"] or "-",
            f"{', '.join(z['signed_current']) or '-'} / {', '.join(z['required']) or '-'}",
            binds if isinstance(binds, str) else ", ".join(binds) or "-",
            utc_text(z["ends_at"]) or label("open", language),
        )
    console.print(table)


ops_app = typer.Typer(
    help="Operations on a server: file one.", no_args_is_help=True, rich_markup_mode=HELP_MARKUP
)


@ops_app.command("file")
def ops_file(
    path: Annotated[Path, typer.Argument(help="GeoJSON profile or F3548 file of one operation.")],
    url: UrlOption = DEFAULT_SERVER_URL,
    token: TokenOption = None,
    key: KeyOption = None,
    update: Annotated[
        bool, typer.Option("--update", help="File a new version of an existing operation.")
    ] = False,
    language: LanguageOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's JSON.")] = False,
) -> None:
    """File an operation: exit 0 when accepted, 1 when refused (conflicts printed), 2 on an error."""
    from truceline.api.client import problem_error
    from truceline.io.fields import load_json

    language = checked_language(language)
    document, _label = guarded(lambda: load_json(path))
    with api_client(url, token, key) as client:
        if update:
            operation_id = guarded(lambda: _operation_id(document, path))
            response = guarded(lambda: client.request("PUT", f"/operations/{operation_id}", json=document))
        else:
            response = guarded(lambda: client.request("POST", "/operations", json=document))
        if not as_json and response.status_code in (200, 201, 409):
            language = reader_language(client, language)
    language = language or "en"
    body = response.json() if response.headers.get("content-type", "").find("json") >= 0 else {}
    if response.status_code == 409 and isinstance(body, dict) and "conflicts" in body:
        if as_json:
            print_json(body)
        else:
            err_console.print(f"Refused: {body.get('detail')}", markup=False)
            console.print(conflict_table(body["conflicts"], "Conflicts", language))
        raise typer.Exit(EXIT_CONFLICTS)
    if response.status_code >= 400:
        fail(problem_error(response))
    if as_json:
        print_json(body)
        return
    console.print(f"Accepted: operation {body['operation_id']} version {body['version']}.", markup=False)
    if body["conflicts"]:
        console.print(conflict_table(body["conflicts"], "Conflicts told to the parties concerned", language))


def _operation_id(document: Any, path: Path) -> str:
    from truceline.io.documents import DocumentFormat, document_format, exactly_one
    from truceline.io.f3548 import read_f3548_document
    from truceline.io.geojson import read_geojson

    if document_format(document) is DocumentFormat.GEOJSON:
        found = read_geojson(document, source=str(path)).operations
        return exactly_one(found, "operation", where=str(path)).id
    ident = read_f3548_document(document, source=str(path)).operation_id
    if not ident:
        raise ValidationError("names no operation id (reference.id)", field="id", where=str(path))
    return ident




def inbox(
    url: UrlOption = DEFAULT_SERVER_URL,
    token: TokenOption = None,
    pending: Annotated[bool, typer.Option("--pending", help="Only messages not yet acknowledged.")] = False,
    language: LanguageOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's JSON.")] = False,
) -> None:
    """Your hotline inbox on a server, newest first. Deadlines are UTC (ISO 8601, Z); a
    message that only informs has none ("-")."""
    from truceline.i18n import label

    language = checked_language(language)
    headers = {"Accept-Language": language} if language else None
    with api_client(url, token) as client:
        found = guarded(
            lambda: client.call("GET", "/messages", params={"pending": str(pending).lower()}, headers=headers)
        )
        if as_json:
            print_json(found)
            return
        language = reader_language(client, language)
    table = Table(title=f"{len(found)} messages", title_justify="left")
    for column in ("id", "from", "priority", "deadline", "acknowledged", "text"):
        table.add_column(label(column, language), overflow="fold")
    for m in found:
        table.add_row(
            m["id"],
            m["from"] or "truceline",
            m["priority"],
            utc_text(m.get("deadline")) or "-",
            label("yes" if m.get("acknowledged_at") else "no", language),
            m["text"],
        )
    console.print(table)


def ack(
    message_id: Annotated[str, typer.Argument(help="The message id (from `truceline inbox`).")],
    url: UrlOption = DEFAULT_SERVER_URL,
    token: TokenOption = None,
    key: KeyOption = None,
) -> None:
    """Acknowledge a hotline message on a server."""
    with api_client(url, token, key) as client:
        guarded(lambda: client.call("POST", f"/messages/{message_id}/ack"))
    console.print(f"Acknowledged {message_id}.", markup=False)

