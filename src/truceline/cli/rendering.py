"""What the commands print: the consoles, one-line errors, tables and JSON."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from truceline.errors import TrucelineError

if TYPE_CHECKING:  # an offline scan must not load the geometry stack (docs/tactical.md)
    from truceline.io.features import ReadWarning

# Plain help, not rich markup: rich reads the "[default: ...]" and "[env ...]" notes of our
# help texts as style tags and drops them ("Database URL or SQLite file .").
HELP_MARKUP = None

# Tables are wide: give a pipe or a CI log 160 columns rather than rich's default 80.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True)

EXIT_CONFLICTS = 1
EXIT_BAD_INPUT = 2

T = TypeVar("T")



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



def print_json(value: object) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


