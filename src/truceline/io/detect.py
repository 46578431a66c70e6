"""Reading a zone or plan file whatever its format: the Truceline GeoJSON profile,
EUROCAE ED-269, or ASTM F3548 volumes / operational intents / constraints (JSON, told apart
by their keys), or an OpenAir airspace file (text whose first record is ``AC``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from truceline.errors import FormatError, TrucelineError, ValidationError
from truceline.io.documents import DocumentFormat, document_format
from truceline.io.ed269 import read_ed269
from truceline.io.f3548 import (
    is_f3548_constraint,
    read_f3548_constraint,
    read_f3548_document,
    read_f3548_operation,
)
from truceline.io.features import Features
from truceline.io.fields import load_json
from truceline.io.geojson import read_geojson
from truceline.io.openair import is_openair, read_openair


def _openair_text(path: Path) -> str | None:
    """The file's text if it is OpenAir (not JSON, first record AC), else None (the JSON
    reader then reads it, and names any fault)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None  # the JSON reader says why the file cannot be read
    head = data.lstrip()[:1]
    if head in (b"{", b"["):
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")  # older national OpenAir files
    return text if is_openair(text) else None


def read_zones_and_operations(
    path: Path,
    *,
    party: str | None = None,
    manager_party: Callable[[str], str | None] | None = None,
    time_zone: str | None = None,
) -> Features:
    """Zones, operations and reader warnings of one file.

    An F3548 constraint is one zone (its party: its manager's, else ``party``); any other
    F3548 document is one operation, whose id is
    the document's (``reference.id``, ``operational_intent_id``) or else the file's stem.
    Its party is the one its ``reference.manager`` names (``manager_party`` maps a USS
    manager name to a party: the register's ``uss_manager`` aliases; unmapped, the name is
    the party's) or, for a document that names none, ``party`` (``--party``); a manager
    naming another party than ``party`` is an error. ``time_zone``: the zone time zone of
    ED-269 daily periods written in local time (see io.ed269).
    """
    text = _openair_text(path)
    if text is not None:
        return read_openair(path.name, text=text)
    document, label = load_json(path)
    try:
        kind = document_format(document)
    except TrucelineError as error:  # an ED-318 document: refused, naming the file
        raise error.located(label) from None
    if kind is DocumentFormat.GEOJSON:
        return read_geojson(document, source=label)
    if kind is DocumentFormat.ED269:
        return read_ed269(document, time_zone=time_zone, source=label)
    if is_f3548_constraint(document):
        found = read_f3548_constraint(document, default_id=path.stem, source=label)
        # A zone's party is who declares it, not who files: --party only fills a gap.
        zones = tuple(
            replace(zone, party=_f3548_party(zone.party, None, manager_party, label) or party)
            for zone in found.zones
        )
        return Features(zones=zones, warnings=found.warnings)
    read = read_f3548_document(document, source=label)
    owner = _f3548_party(read.manager, party, manager_party, label)
    if owner is None:
        raise FormatError(
            "the document names no party (reference.manager); give --party", field="party", where=label
        )
    operation = read_f3548_operation(
        document, source=label, operation_id=read.operation_id or path.stem, party=owner
    )
    return Features(operations=(operation,))


def _f3548_party(
    manager: str | None, party: str | None, manager_party: Callable[[str], str | None] | None, label: str
) -> str | None:
    """The party of an F3548 document: its manager's (mapped), else ``party``."""
    if manager is None:
        return party
    owner = (manager_party(manager) if manager_party else None) or manager
    if party is not None and owner != party:
        raise ValidationError(
            f"names manager {manager!r} (party {owner!r}), but --party is {party!r}",
            field="reference.manager",
            where=label,
        )
    return owner
