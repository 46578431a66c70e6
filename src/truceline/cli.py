"""The ``truceline`` command. Each command parses its flags, calls the layers below and
prints; errors print one line on stderr and exit non-zero."""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from truceline.errors import TrucelineError, ValidationError

if TYPE_CHECKING:
    from truceline.domain.operation import Operation
    from truceline.domain.zone import Zone
    from truceline.io.features import Features, ReadWarning
    from truceline.service.register import Register


def _lazy(module: str, name: str) -> Callable[..., Any]:
    """``module.name``, imported at its first call: an offline scan (`truceline conflicts`)
    must not load the store, SQLAlchemy or the geometry stack (docs/tactical.md, cold start)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    return call


conflict_record = _lazy("truceline.engines.strategic", "conflict_record")
find_conflicts = _lazy("truceline.engines.strategic", "find_conflicts")
Features = _lazy("truceline.io.features", "Features")  # the class, loaded at its first use
open_register = _lazy("truceline.service.register", "open_register")

# Plain help, not rich markup: rich reads the "[default: ...]" and "[env ...]" notes of our
# help texts as style tags and drops them ("Database URL or SQLite file .").
HELP_MARKUP = None

app = typer.Typer(
    name="truceline",
    rich_markup_mode=HELP_MARKUP,
    help="Truceline: a shared, tamper-evident deconfliction register.",
    no_args_is_help=True,
    add_completion=False,
)
# Tables are wide: give a pipe or a CI log 160 columns rather than rich's default 80.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

EXIT_CONFLICTS = 1
EXIT_BAD_INPUT = 2

T = TypeVar("T")


@app.callback()
def main() -> None:
    """Truceline: a shared, tamper-evident deconfliction register."""


def fail(error: Exception | str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    """Print one line on stderr and exit with ``code``."""
    err_console.print(f"truceline: error: {error}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; a TrucelineError or an unreadable file becomes one line and exit 2."""
    try:
        return action()
    except TrucelineError as error:
        fail(error)
    except OSError as error:
        fail(f"{error.filename}: {error.strerror}")


class CheckFormat(StrEnum):
    TABLE = "table"
    JSON = "json"
    GEOJSON = "geojson"


def read_files(paths: Sequence[Path]) -> Features:
    """Zones, operations and reader warnings from GeoJSON, ED-269 or F3548 files; ids must
    be unique."""
    from truceline.io.detect import read_zones_and_operations

    zones: dict[str, Zone] = {}
    operations: dict[str, Operation] = {}
    warnings: list[ReadWarning] = []
    for path in paths:
        found = read_zones_and_operations(path)
        for zone in found.zones:
            if zone.id in zones:
                raise ValidationError(f"zone id {zone.id!r} appears twice", field="id", where=str(path))
            zones[zone.id] = zone
        for operation in found.operations:
            if operation.id in operations:
                raise ValidationError(
                    f"operation id {operation.id!r} appears twice", field="id", where=str(path)
                )
            operations[operation.id] = operation
        warnings += found.warnings
    return Features(tuple(zones.values()), tuple(operations.values()), tuple(warnings))


def warn(warnings: Sequence[ReadWarning]) -> None:
    """One line on stderr for each warning of a reader (it names the file and the zone)."""
    for warning in warnings:
        err_console.print(f"truceline: warning: {warning}", markup=False, highlight=False, soft_wrap=True)


def conflict_table(records: Sequence[dict[str, Any]], title: str) -> Table:
    """A table of conflict records (``truceline.engines.strategic.conflict_record``)."""
    table = Table(title=title, title_justify="left")
    for name in ("kind", "a", "b", "parties", "time (UTC)", "altitude (m)", "area (km²)", "entry"):
        table.add_column(name)
    for r in records:
        start = r["time_start"][:16].replace("T", " ")
        end = "open" if r["time_end"] is None else r["time_end"][11:16]
        lower = "-∞" if r["altitude_lower_m"] is None else f"{r['altitude_lower_m']:,.0f}"
        upper = "∞" if r["altitude_upper_m"] is None else f"{r['altitude_upper_m']:,.0f}"
        table.add_row(
            r["kind"],
            r["a"],
            r["b"],
            f"{r['a_party']} / {r['b_party'] or '-'}",
            f"{start}–{end}",
            f"{lower}–{upper} {r['altitude_reference']}",
            f"{r['area_m2'] / 1e6:,.2f}",
            r.get("entry", ""),
        )
    return table


DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL or SQLite file [default: $TRUCELINE_DB or truceline-data/truceline.db]."
    ),
]


def open_register_or_fail(db: str | None) -> Register:
    from truceline.store.database import database_url, default_url

    url = database_url(db) if db else default_url()
    return guarded(lambda: open_register(url, lambda: datetime.now(UTC)))


@app.command()
def check(
    zones: Annotated[list[Path], typer.Option("--zones", help="Zone files (GeoJSON, ED-269).")] = [],  # noqa: B006
    plans: Annotated[
        list[Path], typer.Option("--plans", help="Operation files (GeoJSON, ASTM F3548 JSON).")
    ] = [],  # noqa: B006
    output: Annotated[CheckFormat, typer.Option("--format", help="Output format.")] = CheckFormat.TABLE,
) -> None:
    """Check planned operations against zones and each other.

    Exit code 0: no conflict; 1: conflicts found; 2: bad input.
    """
    from truceline.io.report import conflict_report_geojson

    if not plans:
        fail("--plans: give at least one file of planned operations")
    zone_read = guarded(lambda: read_files(zones))
    plan_read = guarded(lambda: read_files(plans))
    if zone_read.operations or plan_read.zones:
        fail("--zones files must hold only zones and --plans files only operations")
    zone_list, operations = list(zone_read.zones), list(plan_read.operations)
    warnings = [*zone_read.warnings, *plan_read.warnings]
    warn(warnings)
    conflicts = guarded(lambda: find_conflicts(zone_list, operations))
    if output is CheckFormat.JSON:
        records = [conflict_record(c) for c in conflicts]
        json.dump({"conflicts": records, "warnings": [w.to_json() for w in warnings]}, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif output is CheckFormat.GEOJSON:
        report = conflict_report_geojson(
            conflicts, {z.id: z for z in zone_list}, {o.id: o for o in operations}
        )
        # A foreign member of the FeatureCollection (RFC 7946 section 6.1).
        report["warnings"] = [w.to_json() for w in warnings]
        json.dump(report, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif conflicts:
        console.print(conflict_table([conflict_record(c) for c in conflicts], f"{len(conflicts)} conflicts"))
    else:
        console.print("No conflict.")
    raise typer.Exit(EXIT_CONFLICTS if conflicts else 0)


@app.command("import")
def import_(
    files: Annotated[list[Path], typer.Argument(help="Zone or operation files (GeoJSON, ED-269, F3548).")],
    db: DbOption = None,
) -> None:
    """Import zones and operations into the store, through the ledger.

    All files are read and checked first; on any error nothing is stored (exit 2).
    """
    read = guarded(lambda: read_files(files))
    warn(read.warnings)
    register = open_register_or_fail(db)
    result = guarded(lambda: register.import_features(read.zones, read.operations))
    console.print(
        f"Imported {result.zones} zones and {result.operations} operations "
        f"({result.entries} ledger entries); {len(result.conflicts)} new conflicts."
    )
    if result.conflicts:
        console.print(conflict_table([conflict_record(c) for c in result.conflicts], "New conflicts"))


DEMO_PARTIES = (
    ("Russian Federation", "party", "ru"),
    ("US-led Coalition", "party", "en"),
    ("Syrian Arab Army", "party", "ar"),
    ("Turkey", "party", "en"),
    ("UN OCHA", "humanitarian", "en"),
    ("UN ceasefire observers", "observer", "fr"),
)


@app.command()
def demo(
    db: DbOption = None,
    report: Annotated[Path, typer.Option("--report", help="Where to write the GeoJSON report.")] = Path(
        "demo-report.geojson"
    ),
) -> None:
    """Run the bundled Syria scenario: load it through the ledger, check it, report.

    Zone borders are approximate and labelled so. Prints the conflicts and writes a GeoJSON
    report; a second run shows what the database already holds.
    """
    from importlib import resources

    from truceline.io.report import conflict_report_geojson
    from truceline.ledger import fingerprint

    scenarios = resources.files("truceline") / "scenarios"
    with resources.as_file(scenarios) as folder:
        files = [folder / "syria-2017-zones.geojson", folder / "syria-2017-operations.geojson"]
        read = guarded(lambda: read_files(files))
    warn(read.warnings)
    zones, operations = list(read.zones), list(read.operations)
    register = open_register_or_fail(db)
    stored = {z.id for z in register.zones()}
    if stored & {z.id for z in zones}:
        console.print("The demo scenario is already in this database; showing what it holds.")
    else:
        known = {p.name for p in register.parties()}
        for name, role, language in DEMO_PARTIES:
            if name not in known:
                guarded(lambda n=name, r=role, lang=language: register.register_party(n, r, lang))
        guarded(lambda: register.import_features(zones, operations))
    console.print(
        "[bold]Truceline demo[/bold]: Syria, 10 July 2017. Zone borders are drawn approximately "
        "and labelled as such; operations are invented."
    )
    console.print(f"{len(zones)} zones, {len(operations)} planned operations of {len(DEMO_PARTIES)} parties.")
    records = register.conflicts()
    console.print(conflict_table(records, f"{len(records)} conflicts"))
    conflicts = find_conflicts(register.zones(), register.operations())
    geojson = conflict_report_geojson(
        conflicts, {z.id: z for z in register.zones()}, {o.id: o for o in register.operations()}
    )
    report.write_text(json.dumps(geojson, indent=1) + "\n", encoding="utf-8")
    head = register.tree_head()
    console.print(f"GeoJSON report: {report}")
    console.print(
        f"Ledger: {head.tree_size} entries, root {head.root_hash.hex()[:16]}…, signed tree head "
        f"by key {fingerprint(head.public_key)}; verify it with `truceline log export DIR` "
        "and `truceline log verify DIR --key KEY` (KEY: `truceline log public-key`)."
    )


# --- truceline log: the ledger's export, offline verification and proofs ------------------

log_app = typer.Typer(
    help="The ledger: export it, verify an export offline, print inclusion and consistency proofs.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
)
EXIT_VERIFY_FAILED = 1


def open_ledger_or_fail(db: str | None) -> tuple[Any, Any]:
    """(engine, Ledger) for ``--db`` / TRUCELINE_DB, with the log key from the keys dir next to it."""
    register = open_register_or_fail(db)
    return register.engine, register.ledger


def print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


@log_app.command("export")
def log_export(
    directory: Annotated[Path, typer.Argument(help="Folder to write entries.jsonl and sth.json into.")],
    db: DbOption = None,
) -> None:
    """Write the whole log (entries.jsonl) and a signed tree head for it (sth.json)."""
    from truceline.ledger import export_log

    engine, ledger = open_ledger_or_fail(db)
    with engine.connect() as conn:
        sth = guarded(lambda: export_log(conn, ledger, directory, datetime.now(UTC)))
    console.print(f"Exported {sth.tree_size} entries to {directory}; root {sth.root_hash.hex()}")


@log_app.command("verify")
def log_verify(
    directory: Annotated[Path, typer.Argument(help="Folder holding entries.jsonl and sth.json.")],
    previous: Annotated[
        Path | None,
        typer.Option("--previous", help="An older sth.json of the same log that this one must extend."),
    ] = None,
    key: Annotated[
        str | None,
        typer.Option(
            "--key",
            help="The log's public key, as `truceline log public-key` prints it (base64), "
            "or a file holding it: the export must be signed by this key.",
        ),
    ] = None,
) -> None:
    """Verify an export from its files alone (no database, no server).

    Without --key the key sth.json names is trusted (and printed): a history rewritten and
    re-signed with another key is caught only by --key or --previous.

    Exit code 0: verified; 1: verification failed (the first bad entry and why on stderr);
    2: unreadable input.
    """
    from truceline.errors import VerificationError
    from truceline.ledger import fingerprint, verify_export
    from truceline.ledger.keys import parse_public_key

    pinned = guarded(lambda: parse_public_key(read_key_argument(key), field="--key")) if key else None
    try:
        sth = verify_export(directory, previous, key=pinned)
    except VerificationError as error:
        fail(error, EXIT_VERIFY_FAILED)
    except TrucelineError as error:
        fail(error)
    except OSError as error:
        fail(f"{error.filename}: {error.strerror}")
    extends = f"; extends the previous head of {previous}" if previous else ""
    console.print(f"OK: {sth.tree_size} entries, root {sth.root_hash.hex()}{extends}", markup=False)
    if pinned is not None:
        console.print(f"Signed by the pinned key {fingerprint(sth.public_key)}.", markup=False)
    else:
        console.print(
            f"Trusted the key sth.json names: {fingerprint(sth.public_key)}, not pinned "
            "(pass --key with the log's public key to pin it).",
            markup=False,
        )


def read_key_argument(value: str) -> str:
    """``value`` itself (base64), or the text of the file it names."""
    path = Path(value)
    return path.read_text(encoding="utf-8") if path.is_file() else value


@log_app.command("prove")
def log_prove(
    index: Annotated[int, typer.Argument(help="Sequence number of the entry.")],
    size: Annotated[int | None, typer.Option("--size", help="Tree size [default: the whole log].")] = None,
    db: DbOption = None,
) -> None:
    """Print an inclusion proof of entry N (RFC 9162 2.1.3) as JSON, with a signed tree head."""
    from truceline.ledger.canonical import b64encode

    engine, ledger = open_ledger_or_fail(db)
    with engine.connect() as conn:

        def prove() -> dict[str, Any]:
            tree_size = ledger.size(conn) if size is None else size
            proof = ledger.inclusion_proof(conn, index, tree_size)
            entry = ledger.entry(conn, index)
            sth = ledger.signed_tree_head(conn, datetime.now(UTC), tree_size)
            return {
                "leaf_index": index,
                "tree_size": tree_size,
                "entry": entry.canonical.decode("utf-8"),
                "leaf_hash": b64encode(entry.leaf_hash),
                "root_hash": b64encode(sth.root_hash),
                "audit_path": [b64encode(p) for p in proof],
                "sth": sth.to_json(),
            }

        print_json(guarded(prove))


@log_app.command("consistency")
def log_consistency(
    size1: Annotated[int, typer.Argument(help="The older tree size M.")],
    size2: Annotated[int, typer.Argument(help="The newer tree size N.")],
    db: DbOption = None,
) -> None:
    """Print a consistency proof between tree sizes M and N (RFC 9162 2.1.4) as JSON."""
    from truceline.ledger.canonical import b64encode

    engine, ledger = open_ledger_or_fail(db)
    with engine.connect() as conn:

        def prove() -> dict[str, Any]:
            proof = ledger.consistency_proof(conn, size1, size2)
            sth = ledger.signed_tree_head(conn, datetime.now(UTC), size2)
            return {
                "size1": size1,
                "size2": size2,
                "root1": b64encode(ledger.root(conn, size1)),
                "root2": b64encode(sth.root_hash),
                "proof": [b64encode(p) for p in proof],
                "sth": sth.to_json(),
            }

        print_json(guarded(prove))


@log_app.command("public-key")
def log_public_key(db: DbOption = None) -> None:
    """Print the log's Ed25519 public key (base64 of the raw 32 bytes)."""
    from truceline.ledger.canonical import b64encode

    _engine, ledger = open_ledger_or_fail(db)
    sys.stdout.write(b64encode(ledger.public_key) + "\n")


@log_app.command("rebuild")
def log_rebuild(db: DbOption = None) -> None:
    """Verify the log, then recreate every projection (parties, zones, operations,
    conflicts) from its entries alone."""
    register = open_register_or_fail(db)
    with register.engine.connect() as conn:
        guarded(lambda: register.ledger.verify(conn))
    count = guarded(register.rebuild)
    console.print(
        f"Rebuilt the projections from {count} verified entries: {len(register.parties())} parties, "
        f"{len(register.zones())} zones, {len(register.operations())} operations, "
        f"{len(register.conflicts())} conflicts."
    )


app.add_typer(log_app, name="log")


# --- the service: serve, party add, and client commands (zones, ops file, inbox, ack) --------

party_app = typer.Typer(
    help="Parties and their bearer tokens (works on the database directly).",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
)


@party_app.command("add")
def party_add(
    name: Annotated[str, typer.Argument(help="The party's name (unique).")],
    role: Annotated[
        str, typer.Option("--role", help="admin, party, guarantor, observer, humanitarian or auditor.")
    ] = "party",
    language: Annotated[
        str, typer.Option("--language", help="Reading language: ar zh-CN en fr de ja pt ru es uk.")
    ] = "en",
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key", help="Base64 raw Ed25519 key that will sign the party's requests (docs/api.md)."
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"id", "name", "role", "language", "token"}.')
    ] = False,
    db: DbOption = None,
) -> None:
    """Register a party and print its bearer token, once (only its SHA-256 is stored)."""
    from truceline.service.parties import add_party

    register = open_register_or_fail(db)
    party, token = guarded(lambda: add_party(register, name, role, language, public_key))
    if as_json:
        print_json(
            {
                "id": party.id,
                "name": party.name,
                "role": party.role.value,
                "language": party.language,
                "token": token,
            }
        )
    else:
        console.print(f"Registered {party.name} ({party.role.value}, {party.language}) as {party.id}.")
        console.print("Bearer token (shown once, keep it safe):", markup=False)
        sys.stdout.write(token + "\n")


app.add_typer(party_app, name="party")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    db: DbOption = None,
) -> None:
    """Run the HTTP API (OpenAPI at /openapi.json) on the database of --db / TRUCELINE_DB."""
    import gc
    import os
    import sys

    import uvicorn

    from truceline.api.app import create_app
    from truceline.ledger import fingerprint
    from truceline.service.warmup import warm_up

    register = open_register_or_fail(db)
    ledger = register.ledger
    err_console.print(
        f"Log key {fingerprint(ledger.public_key)} from {ledger.key_location}.", markup=False, highlight=False
    )
    # Open event streams would hold a shutdown forever: give them 5 s, then close them.
    bus = os.environ.get("TRUCELINE_BUS") or None  # nats://host:4222 links several servers
    api = create_app(register, bus_url=bus)
    warm_up()  # compiled kernels load now, not behind the first requests
    # The loaded index (every zone and operation, their shapes and cells: ~250k objects at
    # 10k + 10k) lives as long as the server: out of the collector's sight, a full
    # collection no longer stalls every request for ~125 ms.
    gc.collect()
    gc.freeze()
    # The event loop and the writer thread share the GIL: a shorter switch interval than
    # the default 5 ms keeps the loop from waiting that long behind each batch (measured:
    # 131 -> 146 filings/s achieved at 150/s offered, p50 335 -> 10 ms).
    sys.setswitchinterval(0.001)
    # No access log: one line per request costs the event loop more than it is worth here
    # (startup and errors are still logged).
    uvicorn.run(
        api,
        host=host,
        port=port,
        log_level="info",
        access_log=False,
        timeout_graceful_shutdown=5,
    )


UrlOption = Annotated[
    str, typer.Option("--url", envvar="TRUCELINE_URL", help="The server's base URL [env TRUCELINE_URL].")
]
TokenOption = Annotated[
    str | None, typer.Option("--token", envvar="TRUCELINE_TOKEN", help="Bearer token [env TRUCELINE_TOKEN].")
]
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


def api_client(url: str, token: str | None) -> Any:
    from truceline.api.client import Client

    if not token:
        fail("a token is needed: --token or TRUCELINE_TOKEN")
    return Client(url, token)


@app.command()
def zones(
    url: UrlOption = DEFAULT_SERVER_URL,
    token: TokenOption = None,
    state: Annotated[
        str | None, typer.Option("--state", help="proposed, active, rejected, withdrawn, expired.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's JSON.")] = False,
) -> None:
    """List the negotiated zones on a server."""
    with api_client(url, token) as client:
        found = guarded(lambda: client.call("GET", "/zones", params={"state": state} if state else None))
    if as_json:
        print_json(found)
        return
    table = Table(title=f"{len(found)} zones", title_justify="left")
    for column in ("id", "kind", "state", "version", "in force", "proposer", "signed / required", "ends"):
        table.add_column(column)
    for z in found:
        table.add_row(
            z["id"],
            z["kind"],
            z["state"],
            str(z["current_version"]),
            str(z["active_version"] or "-"),
            z["proposer"],
            f"{', '.join(z['signed_current']) or '-'} / {', '.join(z['required'])}",
            z["ends_at"] or "open",
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
    update: Annotated[
        bool, typer.Option("--update", help="File a new version of an existing operation.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's JSON.")] = False,
) -> None:
    """File an operation: exit 0 when accepted, 1 when refused (conflicts printed), 2 on an error."""
    from truceline.api.client import problem_error
    from truceline.io.fields import load_json

    document, _label = guarded(lambda: load_json(path))
    with api_client(url, token) as client:
        if update:
            operation_id = guarded(lambda: _operation_id(document, path))
            response = guarded(lambda: client.request("PUT", f"/operations/{operation_id}", json=document))
        else:
            response = guarded(lambda: client.request("POST", "/operations", json=document))
    body = response.json() if response.headers.get("content-type", "").find("json") >= 0 else {}
    if response.status_code == 409 and isinstance(body, dict) and "conflicts" in body:
        if as_json:
            print_json(body)
        else:
            err_console.print(f"Refused: {body.get('detail')}", markup=False)
            console.print(conflict_table(body["conflicts"], "Conflicts"))
        raise typer.Exit(EXIT_CONFLICTS)
    if response.status_code >= 400:
        fail(problem_error(response))
    if as_json:
        print_json(body)
        return
    console.print(f"Accepted: operation {body['operation_id']} version {body['version']}.", markup=False)
    if body["conflicts"]:
        console.print(conflict_table(body["conflicts"], "Conflicts told to the parties concerned"))


def _operation_id(document: Any, path: Path) -> str:
    from truceline.io.detect import detect_format
    from truceline.io.f3548 import read_f3548_document
    from truceline.io.geojson import read_geojson

    if detect_format(document) == "geojson":
        found = read_geojson(document, source=str(path)).operations
        if len(found) != 1:
            raise ValidationError(
                f"must hold exactly one operation, found {len(found)}", field="document", where=str(path)
            )
        return found[0].id
    ident = read_f3548_document(document, source=str(path)).operation_id
    if not ident:
        raise ValidationError("names no operation id (reference.id)", field="id", where=str(path))
    return ident


app.add_typer(ops_app, name="ops")


@app.command()
def inbox(
    url: UrlOption = DEFAULT_SERVER_URL,
    token: TokenOption = None,
    pending: Annotated[bool, typer.Option("--pending", help="Only messages not yet acknowledged.")] = False,
    language: Annotated[
        str | None, typer.Option("--language", help="Read in this language (else your party's).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the server's JSON.")] = False,
) -> None:
    """Your hotline inbox on a server, newest first."""
    headers = {"Accept-Language": language} if language else None
    with api_client(url, token) as client:
        found = guarded(
            lambda: client.call("GET", "/messages", params={"pending": str(pending).lower()}, headers=headers)
        )
    if as_json:
        print_json(found)
        return
    table = Table(title=f"{len(found)} messages", title_justify="left")
    for column in ("id", "from", "priority", "deadline", "ack", "text"):
        table.add_column(column, overflow="fold")
    for m in found:
        table.add_row(
            m["id"],
            m["from"] or "truceline",
            m["priority"],
            (m.get("deadline") or "")[:19].replace("T", " "),
            "yes" if m.get("acknowledged_at") else "no",
            m["text"],
        )
    console.print(table)


@app.command()
def ack(
    message_id: Annotated[str, typer.Argument(help="The message id (from `truceline inbox`).")],
    url: UrlOption = DEFAULT_SERVER_URL,
    token: TokenOption = None,
) -> None:
    """Acknowledge a hotline message on a server."""
    with api_client(url, token) as client:
        guarded(lambda: client.call("POST", f"/messages/{message_id}/ack"))
    console.print(f"Acknowledged {message_id}.", markup=False)

# --- tactical: conflicts and replay over recorded state vectors (truceline.tactical_command) --

# The implementation (truceline.tactical_command) is imported by the commands themselves, so
# that no other command pays for it.
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
                 "bands as if they were in this reference (AMSL, W84 or AGL); needed with --zones when "
                 "the file has no geoaltitude."),
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


@app.command()
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


@app.command()
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
) -> None:
    """Replay a recorded state-vector file: each alert once per episode.

    Steps through the file in time order; an alert is printed when it opens, again only if a
    conflict becomes a loss of separation, and once when it ends. A progress bar on a
    terminal; a summary at the end. Exit code 0, or 2 on bad input or no usable row.
    """
    from truceline.tactical_command import TacticalArgs, run_replay

    args = TacticalArgs(pairs=pairs, lookahead_s=lookahead, max_age_s=max_age, ground_below_m=ground_below_m,
                        pressure_as=pressure_altitude_as, step_s=step, min_horizontal_nm=min_horizontal_nm,
                        min_vertical_ft=min_vertical_ft, min_ground_m=min_ground_m, clear_after_s=clear_after)
    run_replay(states, zones, args, speed, start, end)
