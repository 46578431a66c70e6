"""The registry of interface labels: the column headers (and a few cell words) of the
CLI's tables, so that a reader's tables follow the reader's language like the messages do.

A label is a stable id and its English text. In the catalogues it is an entry with
``msgctxt`` ``label.<id>`` and the English as ``msgid``, next to the templates' entries;
``truceline.i18n.render.label`` looks one up. Adding a label: add it here, run
``python -m truceline.i18n update`` and translate it in every .po (docs/i18n.md).

Only words are labels: ids, numbers and the ``a`` / ``b`` of a pair stay as they are.
"""

from __future__ import annotations

from truceline.errors import ValidationError

LABEL_CONTEXT_PREFIX = "label."

# id -> English text (the msgid). Units and "UTC" in a header are part of its text.
LABELS: dict[str, str] = {
    # the inbox
    "id": "id",
    "from": "from",
    "priority": "priority",
    "deadline": "deadline (UTC)",
    "acknowledged": "acknowledged",
    "text": "text",
    "yes": "yes",
    "no": "no",
    # the zones
    "kind": "kind",
    "origin": "origin",
    "state": "state",
    "version": "version",
    "in_force": "in force",
    "proposer": "proposer",
    "signed_required": "signed / required",
    "binds": "binds",
    "ends": "ends (UTC)",
    "open": "open",
    # conflicts
    "parties": "parties",
    "time": "time (UTC)",
    "altitude_m": "altitude (m)",
    "area_km2": "area (km²)",
    "entry": "entry",
}


def label_context(label_id: str) -> str:
    """The ``msgctxt`` of a label (ValidationError on ``label`` for an unknown id)."""
    if label_id not in LABELS:
        raise ValidationError(f"unknown interface label {label_id!r}", field="label")
    return LABEL_CONTEXT_PREFIX + label_id
