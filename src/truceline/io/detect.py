"""Reading a zone or plan file whatever its format: the Truceline GeoJSON profile,
EUROCAE ED-269, or ASTM F3548 volumes / operational intents (told apart by their keys)."""

from __future__ import annotations

from pathlib import Path

from truceline.io.documents import DocumentFormat, document_format
from truceline.io.ed269 import read_ed269
from truceline.io.f3548 import read_f3548_document, read_f3548_operation
from truceline.io.features import Features
from truceline.io.fields import load_json
from truceline.io.geojson import read_geojson


def read_zones_and_operations(path: Path) -> Features:
    """Zones, operations and reader warnings of one file. An F3548 document is one
    operation: its id and party come from the document (``reference.id`` /
    ``reference.manager``) or, when it has none, the id is the file's stem and the party
    must be given in the document."""
    document, label = load_json(path)
    kind = document_format(document)
    if kind is DocumentFormat.GEOJSON:
        return read_geojson(document, source=label)
    if kind is DocumentFormat.ED269:
        return read_ed269(document, source=label)
    document_id = read_f3548_document(document, source=label).operation_id
    operation = read_f3548_operation(document, source=label, operation_id=document_id or path.stem)
    return Features(operations=(operation,))
