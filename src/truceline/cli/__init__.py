"""The ``truceline`` command. Each command parses its flags, calls the layers below and
prints; errors print one line on stderr and exit non-zero.

This module is the table of contents: the root app and the order of its commands. The
commands live beside what they work on: ``offline`` (files and the local database),
``log`` (the ledger), ``db`` (the schema's migrations), ``server`` (serve, parties),
``worker`` (a share of the live scan), ``client`` (requests to a server), ``tactical``
(recorded state vectors), ``incidents``
(observers' reports); ``rendering``
holds what they print."""

from __future__ import annotations

import typer

from truceline.cli import client, offline, server, tactical, worker
from truceline.cli.common import read_files
from truceline.cli.db import db_app
from truceline.cli.incidents import incidents_app
from truceline.cli.log import log_app
from truceline.cli.notifications import notifications_app
from truceline.cli.rendering import HELP_MARKUP, _span, conflict_table, utc_text
from truceline.cli.tak import tak

__all__ = ["_span", "app", "conflict_table", "main", "read_files", "utc_text"]

app = typer.Typer(
    name="truceline",
    rich_markup_mode=HELP_MARKUP,
    help="Truceline: a shared, tamper-evident deconfliction register.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def main() -> None:
    """Truceline: a shared, tamper-evident deconfliction register."""


# The order below is the order of `truceline --help`.
app.command()(offline.check)
app.command()(offline.convert)
app.command("import")(offline.import_)
app.command()(offline.demo)
app.add_typer(log_app, name="log")
app.add_typer(server.party_app, name="party")
app.add_typer(db_app, name="db")
app.command()(server.serve)
app.command()(worker.worker)
app.command()(client.zones)
app.add_typer(client.ops_app, name="ops")
app.command()(client.inbox)
app.command()(client.ack)
app.command()(tactical.conflicts)
app.command()(tactical.replay)
app.command()(tak)
app.add_typer(incidents_app, name="incidents")
app.add_typer(notifications_app, name="notifications")
