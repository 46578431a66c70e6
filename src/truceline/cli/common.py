"""What several command groups share: the --db option and opening the register, reading
zone and operation files, checking --language, asking whether a NATS server answers."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from truceline.cli.rendering import (
    guarded,
)
from truceline.domain.clock import utc_now
from truceline.errors import ValidationError

# Imported where used: `truceline conflicts` (an offline scan) must not load the store,
# SQLAlchemy or the geometry stack for commands it does not run (docs/tactical.md).
if TYPE_CHECKING:
    from truceline.domain.operation import Operation
    from truceline.domain.zone import Zone
    from truceline.io.features import Features, ReadWarning
    from truceline.service.register import Register


def read_files(
    paths: Sequence[Path],
    party: str | None = None,
    manager_party: Callable[[str], str | None] | None = None,
    *,
    time_zone: str | None = None,
    origins: dict[str, Path] | None = None,
) -> Features:
    """Zones, operations and reader warnings from GeoJSON, ED-269, F3548 or OpenAir files; ids
    must be unique. ``party``: the party of F3548 documents that name none (``--party``);
    ``manager_party``: maps an F3548 ``reference.manager`` to a party (the register's aliases);
    ``time_zone``: for ED-269 daily periods in local time; ``origins``, when given, is filled
    with each zone's file (for errors)."""
    from truceline.io.detect import read_zones_and_operations
    from truceline.io.features import Features

    zones: dict[str, Zone] = {}
    operations: dict[str, Operation] = {}
    warnings: list[ReadWarning] = []
    for path in paths:
        found = read_zones_and_operations(path, party=party, manager_party=manager_party, time_zone=time_zone)
        for zone in found.zones:
            if zone.id in zones:
                raise ValidationError(f"zone id {zone.id!r} appears twice", field="id", where=str(path))
            zones[zone.id] = zone
            if origins is not None:
                origins[zone.id] = path
        for operation in found.operations:
            if operation.id in operations:
                raise ValidationError(
                    f"operation id {operation.id!r} appears twice", field="id", where=str(path)
                )
            operations[operation.id] = operation
        warnings += found.warnings
    return Features(tuple(zones.values()), tuple(operations.values()), tuple(warnings))



TimeZoneOption = Annotated[
    str | None,
    typer.Option(
        "--time-zone",
        help="IANA time zone (e.g. Europe/Zurich) of ED-269 daily periods written in local time"
        " (a zone's extendedProperties.timeZone wins).",
    ),
]

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db", help="Database URL or SQLite file [default: $TRUCELINE_DB or truceline-data/truceline.db]."
    ),
]


def open_register_or_fail(db: str | None) -> Register:
    from truceline.service.register import open_register
    from truceline.store.database import database_url, default_url

    url = database_url(db) if db else guarded(default_url)
    return guarded(lambda: open_register(url, utc_now))



def nats_unreachable(url: str) -> str | None:
    """Why nothing answers at the NATS ``url`` (None: something listens there). Asked before
    connecting: nats-py's own first connect retries without end and logs a traceback per
    attempt, where a command owes one line."""
    import socket
    from urllib.parse import urlsplit

    try:
        where = urlsplit(url)
        socket.create_connection((where.hostname or "127.0.0.1", where.port or 4222), timeout=5).close()
    except ValueError as error:  # a port that is no number
        return f"{url!r}: {error}"
    except OSError as error:
        return f"no NATS server at {url}: {error.strerror or error}"
    return None


def checked_language(language: str | None) -> str | None:
    """``--language`` if it is one of the ten; otherwise one line and exit 2, before any
    request is made."""
    from truceline.i18n.languages import check_language

    if language is None:
        return None
    return guarded(lambda: check_language(language, field="--language"))


