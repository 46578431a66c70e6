"""The service on its database: serve, party add/revoke/rotate-token."""

from __future__ import annotations

import signal
import sys
from types import FrameType
from typing import Annotated

import typer

from truceline.cli.common import DbOption, checked_language, open_register_or_fail
from truceline.cli.rendering import (
    HELP_MARKUP,
    console,
    err_console,
    guarded,
    print_json,
)

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
    uss_manager: Annotated[
        str | None,
        typer.Option(
            "--uss-manager",
            help="The name its USS writes as F3548 reference.manager, if not NAME (docs/formats.md).",
        ),
    ] = None,
    as_json: Annotated[
        bool,
        typer.Option(
            "--json", help='Print {"id", "name", "role", "language", "token"} (and "uss_manager" if given).'
        ),
    ] = False,
    db: DbOption = None,
) -> None:
    """Register a party and print its bearer token, once (only its SHA-256 is stored)."""
    from truceline.service.parties import add_party

    checked_language(language)  # before the database is opened (or created)
    register = open_register_or_fail(db)
    registered = guarded(
        lambda: add_party(register, name, role, language, public_key, uss_manager=uss_manager)
    )
    party, token = registered.party, registered.token  # the token is shown here, once
    if as_json:
        shown = {"id": party.id, "name": party.name, "role": party.role.value, "language": party.language}
        if party.uss_manager is not None:
            shown["uss_manager"] = party.uss_manager
        print_json({**shown, "token": token})
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



def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
    db: DbOption = None,
) -> None:
    """Run the HTTP API (OpenAPI at /openapi.json) on the database of --db / TRUCELINE_DB."""
    import gc
    import sys

    import uvicorn

    from truceline.api.access_log import configure_logging
    from truceline.api.app import create_app
    from truceline.api.stream import stop_streams
    from truceline.config import load_config
    from truceline.ledger import fingerprint
    from truceline.service.warmup import warm_up

    register = open_register_or_fail(db)
    ledger = register.ledger
    err_console.print(
        f"Log key {fingerprint(ledger.public_key)} from {ledger.key_location}.", markup=False, highlight=False
    )
    config = guarded(load_config)
    configure_logging(config)  # TRUCELINE_LOG_LEVEL / TRUCELINE_LOG_FORMAT
    bus = config.bus  # nats://host:4222 links several servers
    from truceline.config import load_worker_config
    from truceline.domain.notification import LeadTimes

    leads = LeadTimes(config.notice_lead_s, config.emergency_notice_lead_s)
    workers = guarded(load_worker_config)
    # TRUCELINE_WORKERS=external: `truceline worker` processes scan (over NATS); serve does not.
    scan_interval_s = None if workers.external else (config.scan_interval_s or None)
    api = create_app(
        register, bus_url=bus, notice_leads=leads, scan_interval_s=scan_interval_s,
        track_max_age_s=config.track_max_age_s, workers_group=workers.group,
        scan_clock=config.scan_clock,
    )
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
    # SIGTERM is how a platform stops a server. uvicorn drains (open event streams end at
    # once: api/stream.py) and then raises the signal again for its default action, which
    # would end the process as killed (-15): a server that stopped cleanly exits 0 instead.
    signal.signal(signal.SIGTERM, _stopped)
    signal.signal(signal.SIGINT, _stopped)  # Ctrl-C: the same clean stop
    # uvicorn's access log stays off: api/access_log.py writes the structured one (off at
    # TRUCELINE_LOG_LEVEL=warning, where a line per request costs the event loop too much).
    # The streams end at once at shutdown; a request still running after 5 s is cut.
    config = uvicorn.Config(
        api, host=host, port=port, log_level="info", access_log=False, timeout_graceful_shutdown=5
    )

    class Server(uvicorn.Server):
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            super().handle_exit(sig, frame)
            # Open streams end now, not at sse-starlette's next look (every 0.5 s).
            stop_streams(api)

    server = Server(config)
    server.run()
    if not server.started:  # e.g. the port is taken: uvicorn has logged why
        raise typer.Exit(3)  # uvicorn's own exit code for a failed start-up


def _stopped(_signal: int, _frame: FrameType | None) -> None:
    """SIGTERM or SIGINT outside uvicorn's own handler (before it starts, or raised again
    once it has drained): a clean stop."""
    raise SystemExit(0)


