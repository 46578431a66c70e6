"""Reading a zone or plan file whatever its format: the Truceline GeoJSON profile,
EUROCAE ED-269, or ASTM F3548 volumes / operational intents (JSON, told apart by their
keys), or an OpenAir airspace file (text whose first record is ``AC``)."""

from __future__ import annotations

from pathlib import Path

from truceline.errors import TrucelineError
from truceline.io.documents import DocumentFormat, document_format
from truceline.io.ed269 import read_ed269
from truceline.io.f3548 import read_f3548_document, read_f3548_operation
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


def read_zones_and_operations(path: Path, *, time_zone: str | None = None) -> Features:
    """Zones, operations and reader warnings of one file. An F3548 document is one
    operation: its id and party come from the document (``reference.id`` /
    ``reference.manager``) or, when it has none, the id is the file's stem and the party
    must be given in the document. ``time_zone``: the zone time zone of ED-269 daily periods
    written in local time (see io.ed269)."""
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
    document_id = read_f3548_document(document, source=label).operation_id
    operation = read_f3548_operation(document, source=label, operation_id=document_id or path.stem)
    return Features(operations=(operation,))
