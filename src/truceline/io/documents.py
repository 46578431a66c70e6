"""What kind of document this is, and whether it holds exactly one item: the two questions
every reader of an uploaded or filed document asks first (``io.detect`` for files, the
filing and the zone proposal for request bodies, ``truceline ops file --update``)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TypeVar

from truceline.errors import FormatError, ValidationError

T = TypeVar("T")

# What every entry point answers to an ED-318 document (docs/formats.md promises it).
ED318_REFUSAL = (
    "is an ED-318 document (UAS zones as GeoJSON Features with identifier and restriction);"
    " Truceline reads ED-269, not ED-318: give the zones as ED-269 JSON (UASZoneList) or in the"
    " Truceline GeoJSON profile"
)


class DocumentFormat(StrEnum):
    """The formats Truceline reads; a StrEnum, so ``kind == "geojson"`` still holds."""

    GEOJSON = "geojson"  # the Truceline GeoJSON profile
    ED269 = "ed269"  # EUROCAE ED-269 UAS zones
    F3548 = "f3548"  # ASTM F3548 volumes / operational intents


def document_format(document: object) -> DocumentFormat:
    """The format of a parsed JSON document, told apart by its keys: a GeoJSON ``type``, an
    ED-269 ``UASZoneList`` or UASZoneVersion items (a bare list or under ``features``);
    anything else is read as F3548 (whose reader names what is missing).

    Raises FormatError (ED318_REFUSAL) for an ED-318 document, so that every entry point
    (check, import, filing, zone proposal) refuses it with the same words."""
    if isinstance(document, dict):
        if document.get("type") in ("FeatureCollection", "Feature"):
            refuse_ed318(document)
            return DocumentFormat.GEOJSON
        if "UASZoneList" in document:
            return DocumentFormat.ED269
    items = document.get("features") if isinstance(document, dict) else document
    first = items[0] if isinstance(items, list) and items else None
    if isinstance(first, dict) and "identifier" in first and "restriction" in first:
        return DocumentFormat.ED269  # UASZoneVersion items, as a bare list or under "features"
    return DocumentFormat.F3548


def is_ed318(document: object) -> bool:
    """Whether a GeoJSON document is ED-318: Features whose properties carry ED-318's
    UASZone members ``identifier`` and ``restriction`` (our profile has neither)."""
    if not isinstance(document, dict):
        return False
    features = document.get("features") if document.get("type") == "FeatureCollection" else [document]
    if not isinstance(features, list):
        return False
    for feature in features:
        props = feature.get("properties") if isinstance(feature, dict) else None
        if isinstance(props, dict) and "identifier" in props and "restriction" in props:
            return True
    return False


def refuse_ed318(document: object) -> None:
    """Raise FormatError(ED318_REFUSAL) on ``document`` if it is ED-318."""
    if is_ed318(document):
        raise FormatError(ED318_REFUSAL, field="document")


def exactly_one(items: Sequence[T], noun: str, *, where: str | None = None, why: str = "") -> T:
    """The one item of a document that must hold one ``noun`` (a filed operation, a proposed
    zone); otherwise a ValidationError on ``document`` saying how many it holds, with
    ``why`` appended (e.g. the reader's warning about a zone it skipped)."""
    if len(items) != 1:
        raise ValidationError(
            f"must hold exactly one {noun}, found {len(items)}{why}", field="document", where=where
        )
    return items[0]
