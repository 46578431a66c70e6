"""Validate a written F3548 document against the ASTM F3548-21 schemas.

utm.yaml itself is not shipped (no licence: ../shared/data/f3548/README.md). InterUSS's
``uas-standards`` (Apache-2.0) renders its schemas as ImplicitDict classes
(``uas_standards.astm.f3548.v21.api``); here a document must

1. parse with those classes (``ImplicitDict.parse``: required members, types, enums);
2. validate against the JSON Schema that ``implicitdict.jsonschema`` makes from them, made
   strict: no member the schema does not have (``additionalProperties: false``);
3. keep the rules of utm.yaml that the classes do not carry (the README's list): ids and
   subscription ids are UUIDv4, times RFC 3339 in UTC with ``format: RFC3339``, polygons
   of at least 3 vertices left open, exactly one outline, lower altitude under the upper.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache
from typing import Any

import jsonschema
from implicitdict import ImplicitDict
from implicitdict.jsonschema import SchemaVars, make_json_schema
from uas_standards.astm.f3548.v21 import api

# utm.yaml UUIDv4Format, as its F3548-21 branch has it (master's doubled backslashes undone).
UUID4 = re.compile(r"^[0-9a-fA-F]{8}\-[0-9a-fA-F]{4}\-4[0-9a-fA-F]{3}\-[8-b][0-9a-fA-F]{3}\-[0-9a-fA-F]{12}$")
RFC3339_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


@cache
def _schemas() -> dict[str, Any]:
    repository: dict[str, Any] = {}

    def resolver(kind: type) -> SchemaVars:
        return SchemaVars(name=kind.__name__, path_to=lambda target, _source: f"#/$defs/{target.__name__}")

    for kind in (api.OperationalIntent, api.Constraint):
        make_json_schema(kind, resolver, repository)
    for schema in repository.values():
        schema.pop("$schema", None)
        if schema.get("type") == "object" and "properties" in schema:
            schema["properties"].pop("$ref", None)  # implicitdict's own, not utm.yaml's
            schema["additionalProperties"] = False
    return repository


def _validator(name: str) -> jsonschema.Draft202012Validator:
    defs = _schemas()
    return jsonschema.Draft202012Validator({"$ref": f"#/$defs/{name}", "$defs": defs})


def check_operational_intent(document: dict[str, Any]) -> api.OperationalIntent:
    """``document`` parsed as an F3548 OperationalIntent, after every check above."""
    _validator("OperationalIntent").validate(document)
    parsed = ImplicitDict.parse(document, api.OperationalIntent)
    reference = document["reference"]
    assert UUID4.match(reference["id"]), reference["id"]
    assert UUID4.match(reference["subscription_id"]), reference["subscription_id"]
    _check_reference_times(reference, document["details"]["volumes"])
    for volume in [*document["details"]["volumes"], *document["details"].get("off_nominal_volumes", [])]:
        _check_volume4d(volume, intent=True)
    return parsed


def check_constraint(document: dict[str, Any]) -> api.Constraint:
    """``document`` parsed as an F3548 Constraint, after every check above."""
    _validator("Constraint").validate(document)
    parsed = ImplicitDict.parse(document, api.Constraint)
    reference = document["reference"]
    assert UUID4.match(reference["id"]), reference["id"]
    _check_reference_times(reference, document["details"]["volumes"])
    for volume in document["details"]["volumes"]:
        _check_volume4d(volume, intent=False)
    return parsed


def _instant(time: dict[str, Any]) -> datetime:
    assert time["format"] == "RFC3339"
    assert RFC3339_UTC.match(time["value"]), time["value"]
    return datetime.fromisoformat(time["value"])


def _check_reference_times(reference: dict[str, Any], volumes: list[dict[str, Any]]) -> None:
    start, end = _instant(reference["time_start"]), _instant(reference["time_end"])
    assert start < end
    assert start == min(_instant(v["time_start"]) for v in volumes)
    assert end == max(_instant(v["time_end"]) for v in volumes)


def _check_volume4d(volume4d: dict[str, Any], *, intent: bool) -> None:
    volume = volume4d["volume"]
    outlines = [k for k in ("outline_polygon", "outline_circle") if volume.get(k) is not None]
    assert len(outlines) == 1, outlines
    if "outline_polygon" in volume:
        vertices = volume["outline_polygon"]["vertices"]
        assert len(vertices) >= 3 and vertices[0] != vertices[-1]
    else:
        assert volume["outline_circle"]["radius"]["value"] > 0
    limits = [volume[k] for k in ("altitude_lower", "altitude_upper") if k in volume]
    if intent:
        assert len(limits) == 2
    for limit in limits:
        assert limit["reference"] == "W84" and limit["units"] == "M"
    if len(limits) == 2:
        assert limits[0]["value"] < limits[1]["value"]
    assert _instant(volume4d["time_start"]) < _instant(volume4d["time_end"])


def volume4d(
    west: float, south: float, east: float, north: float, lower: float = 100, upper: float = 300
) -> dict[str, Any]:
    """An F3548 Volume4D of a box in W84 metres, 2017-07-10 08:00-10:00Z: what the F3548
    tests send."""
    return {
        "volume": {
            "outline_polygon": {
                "vertices": [
                    {"lat": south, "lng": west},
                    {"lat": south, "lng": east},
                    {"lat": north, "lng": east},
                    {"lat": north, "lng": west},
                ]
            },
            "altitude_lower": {"value": lower, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": upper, "reference": "W84", "units": "M"},
        },
        "time_start": {"value": "2017-07-10T08:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2017-07-10T10:00:00Z", "format": "RFC3339"},
    }
