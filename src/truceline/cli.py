"""The ``truceline`` command. Each command parses its flags, calls the layers below and
prints; errors print one line on stderr and exit non-zero."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone
from truceline.engines.strategic import conflict_record, find_conflicts
from truceline.errors import TrucelineError, ValidationError
from truceline.io.features import Features, ReadWarning
from truceline.service.register import Register, open_register

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


def utc_text(value: str | None, minutes: bool = False) -> str | None:
    """An RFC 3339 time as ISO 8601 in UTC with its zone, to the second (``minutes``: to
    the minute): ``2017-07-10T08:00:00Z``. A reader must never have to guess the zone."""
    if value is None:
        return None
    moment = datetime.fromisoformat(value).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%MZ" if minutes else "%Y-%m-%dT%H:%M:%SZ")


def _span(start: str, end: str | None, language: str) -> str:
    """A time window, ISO 8601 with ``Z``: the end's date is left out when it is the start's."""
    from truceline.i18n import label

    first = utc_text(start, minutes=True) or ""
    if end is None:
        return f"{first}–{label('open', language)}"
    last = utc_text(end, minutes=True) or ""
    return f"{first}–{last[11:] if last[:10] == first[:10] else last}"


def conflict_table(records: Sequence[dict[str, Any]], title: str, language: str = "en") -> Table:
    """A table of conflict records (``truceline.engines.strategic.conflict_record``), its
    headers in ``language`` (one of the ten)."""
    from truceline.i18n import label

    table = Table(title=title, title_justify="left")
    for name in ("kind", "a", "b", "parties", "time", "altitude_m", "area_km2", "entry"):
        table.add_column(name if name in ("a", "b") else label(name, language))
    for r in records:
        lower = "-∞" if r["altitude_lower_m"] is None else f"{r['altitude_lower_m']:,.0f}"
        upper = "∞" if r["altitude_upper_m"] is None else f"{r['altitude_upper_m']:,.0f}"
        table.add_row(
            r["kind"],
            r["a"],
            r["b"],
            f"{r['a_party']} / {r['b_party'] or '-'}",
            _span(r["time_start"], r["time_end"], language),
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

    Imported zones bind every party they restrict. Each operation is checked as a filing on
    the server is: one inside a forbidden zone that binds its party is refused (recorded as
    refused, not stored). All files are read and checked first; on any error nothing is
    stored (exit 2). Exit 1 when an operation was refused.
    """
    read = guarded(lambda: read_files(files))
    warn(read.warnings)
    service = open_service_or_fail(db)
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


def refusal_table(refused: Sequence[Any]) -> Table:
    """The refused operations (``truceline.service.importing.Refusal``) and the zones that
    forbid them."""
    table = Table(title=f"{len(refused)} operations refused", title_justify="left")
    for name in ("operation", "party", "refused by (forbidden zones)"):
        table.add_column(name)
    for r in refused:
        zones = [c["b"] for c in r.conflicts if c["kind"] == "zone" and c.get("entry") == "forbidden"]
        table.add_row(r.operation.id, r.operation.party, ", ".join(zones))
    return table


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

    Zone borders are approximate and labelled so. The zones bind every party they restrict
    (imported by the operator). Prints the conflicts and the operations the zones refuse, and
    writes a GeoJSON report; a second run shows what the database already holds.
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
    conflicts = find_conflicts(register.zones(), all_ops)
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


# --- the service: serve, party add/revoke/rotate-token, client commands (zones, ops, inbox, ack)

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

    checked_language(language)  # before the database is opened (or created)
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


@party_app.command("revoke")
def party_revoke(
    party: Annotated[str, typer.Argument(help="The party's id or name.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why; kept in the ledger entry.")] = None,
    db: DbOption = None,
) -> None:
    """Revoke a party: its token is refused (401) at once, by a running server too."""
    from truceline.service.parties import revoke_party

    register = open_register_or_fail(db)
    revoked = guarded(lambda: revoke_party(register, party, reason))
    console.print(f"Revoked {revoked.name} ({revoked.id}).", markup=False)


@party_app.command("rotate-token")
def party_rotate_token(
    party: Annotated[str, typer.Argument(help="The party's id or name.")],
    as_json: Annotated[bool, typer.Option("--json", help='Print {"id", "name", "token"}.')] = False,
    db: DbOption = None,
) -> None:
    """Give a party a new bearer token, printed once; the old one is refused at once."""
    from truceline.service.parties import rotate_token

    register = open_register_or_fail(db)
    rotated, token = guarded(lambda: rotate_token(register, party))
    if as_json:
        print_json({"id": rotated.id, "name": rotated.name, "token": token})
    else:
        console.print(
            f"New token for {rotated.name} ({rotated.id}); the old one no longer works.", markup=False
        )
        console.print("Bearer token (shown once, keep it safe):", markup=False)
        sys.stdout.write(token + "\n")


app.add_typer(party_app, name="party")


# --- truceline db: the schema's migrations ---------------------------------------------------

db_app = typer.Typer(
    help="The database schema: bring a database made by an older version up to date.",
    no_args_is_help=True,
    rich_markup_mode=HELP_MARKUP,
)


@db_app.command("upgrade")
def db_upgrade(db: DbOption = None) -> None:
    """Run the schema migrations the database lacks (nothing stored is lost); a database
    made before migrations existed is recognised. Other commands refuse an old schema."""
    from truceline.store.database import database_url, default_url, open_engine, reaching, shown_url
    from truceline.store.migrate import upgrade

    url = database_url(db) if db else default_url()
    engine = guarded(lambda: open_engine(url))

    def run() -> Any:
        with reaching(url):
            return upgrade(engine)

    result = guarded(run)
    engine.dispose()
    if not result.changed:
        console.print(f"{shown_url(url)}: already at revision {result.after}.", markup=False)
    else:
        before = "new database" if result.created else (result.before or "before migrations")
        console.print(f"{shown_url(url)}: upgraded from {before} to revision {result.after}.", markup=False)


app.add_typer(db_app, name="db")


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
KeyOption = Annotated[
    Path | None,
    typer.Option(
        "--key",
        envvar="TRUCELINE_KEY",
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
        signer = RequestSigner(guarded(lambda: load_request_key(key)), lambda: datetime.now(UTC))
    return Client(url, token, signer=signer)


LanguageOption = Annotated[
    str | None,
    typer.Option(
        "--language",
        help="Read in this language: ar zh-CN en fr de ja pt ru es uk [default: your party's].",
    ),
]


def checked_language(language: str | None) -> str | None:
    """``--language`` if it is one of the ten; otherwise one line and exit 2, before any
    request is made."""
    from truceline.i18n.languages import check_language

    if language is None:
        return None
    return guarded(lambda: check_language(language, field="--language"))


def reader_language(client: Any, language: str | None) -> str:
    """The language of the tables: ``--language`` (checked), else the party's (GET /me)."""
    from truceline.domain.party import LANGUAGES
    from truceline.i18n import DEFAULT_LANGUAGE

    if language is not None:
        return language
    mine = guarded(lambda: client.call("GET", "/me")).get("language")
    return mine if mine in LANGUAGES else DEFAULT_LANGUAGE


@app.command()
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


@app.command()
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

# --- tactical: conflicts and replay over recorded state vectors (issue 3) --------------------


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
                f"{c.tlos_s[k]:.0f}", f"{c.tcpa_s[k]:.0f}", f"{c.dcpa_m[k] / 1852:.2f}",
                "?" if c.dalt_m[k] != c.dalt_m[k] else f"{c.dalt_m[k] / 0.3048:.0f}",
                f"{c.dist_m[k] / 1852:.2f} / "
                + ("?" if c.dz_m[k] != c.dz_m[k] else f"{c.dz_m[k] / 0.3048:.0f}"),
                "yes" if c.los[k] else "",
            )
        console.print(table)
        for alert in others:
            console.print(alert.describe(labels), markup=False, highlight=False)
        if sv.skipped.total:
            console.print(f"skipped rows: {sv.skipped.summary()}", markup=False, highlight=False)
    if len(scan.conflicts) or others:
        raise typer.Exit(EXIT_CONFLICTS)


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
