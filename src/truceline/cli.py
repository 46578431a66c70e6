"""The ``truceline`` command. Each command parses its flags, calls the layers below and
prints; errors print one line on stderr and exit non-zero."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="truceline",
    help="Truceline: a shared, tamper-evident deconfliction register.",
    no_args_is_help=True,
    add_completion=False,
)
