"""ASTM F3548 answers: which request asks for one, and the response models that describe
them in /openapi.json (the members of utm.yaml's OperationalIntent and Constraint that
``io.f3548_out`` writes; tests/api/test_api_f3548.py validates the answers against
InterUSS's rendering of the F3548 schemas)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from truceline.api.responses import Number
from truceline.io.f3548_out import F3548_MEDIA_TYPE
from truceline.service.f3548 import F3548View

FORMAT = Query(
    None,
    description=f"`f3548`: answer in ASTM F3548 (as `Accept: {F3548_MEDIA_TYPE}` asks); default JSON.",
)
FormatName = Literal["json", "f3548"]

# F3548's schema admits no member beyond its own, so what a converted answer would say in a
# warning goes in a header: each volume written through a conversion, one per field line.
CONVERSION_HEADER = "Truceline-Altitude-Conversion"


def wants_f3548(request: Request, format_: FormatName | None) -> bool:
    """``?format=f3548``, or an Accept header naming the F3548 media type (a query wins)."""
    if format_ is not None:
        return format_ == "f3548"
    return F3548_MEDIA_TYPE in request.headers.get("accept", "")


class _F3548(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TimeF3548(_F3548):
    value: str = Field(description="RFC 3339 date-time in UTC (Z).")
    format: Literal["RFC3339"]


class AltitudeF3548(_F3548):
    value: Number
    reference: Literal["W84"]
    units: Literal["M"]


class LatLngF3548(_F3548):
    lng: Number
    lat: Number


class RadiusF3548(_F3548):
    value: Number
    units: Literal["M"]


class CircleF3548(_F3548):
    center: LatLngF3548
    radius: RadiusF3548


class PolygonF3548(_F3548):
    vertices: list[LatLngF3548] = Field(min_length=3, description="Left open (last differs from first).")


class Volume3DF3548(_F3548):
    outline_polygon: PolygonF3548 | None = None
    outline_circle: CircleF3548 | None = None
    altitude_lower: AltitudeF3548 | None = None
    altitude_upper: AltitudeF3548 | None = None


class Volume4DF3548(_F3548):
    volume: Volume3DF3548
    time_start: TimeF3548
    time_end: TimeF3548


Availability = Literal["Unknown", "Normal", "Down"]


class OperationalIntentReferenceF3548(_F3548):
    id: str = Field(description="UUIDv4: the operation's id if it is one, else derived from it.")
    manager: str = Field(description="The party's `uss_manager` alias, else its name.")
    uss_availability: Availability
    version: int
    state: Literal["Accepted", "Activated", "Nonconforming", "Contingent"]
    time_start: TimeF3548
    time_end: TimeF3548
    uss_base_url: str
    subscription_id: str


class OperationalIntentDetailsF3548(_F3548):
    volumes: list[Volume4DF3548]
    off_nominal_volumes: list[Volume4DF3548]
    priority: int | None = None


class OperationalIntentF3548(_F3548):
    """An ASTM F3548 OperationalIntent."""

    reference: OperationalIntentReferenceF3548
    details: OperationalIntentDetailsF3548


class ConstraintReferenceF3548(_F3548):
    id: str = Field(description="UUIDv4: the zone's id if it is one, else derived from it.")
    manager: str
    uss_availability: Availability
    version: int
    time_start: TimeF3548
    time_end: TimeF3548
    uss_base_url: str


class ConstraintDetailsF3548(_F3548):
    volumes: list[Volume4DF3548]
    type: str | None = Field(default=None, description="The zone's kind.")


class ConstraintF3548(_F3548):
    """An ASTM F3548 Constraint."""

    reference: ConstraintReferenceF3548
    details: ConstraintDetailsF3548


def _inlined(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema with its ``$defs`` put in place, so the schema stands alone
    inside a response's ``content`` (these models hold no recursion)."""
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})

    def place(node: Any) -> Any:
        if isinstance(node, dict):
            if "$ref" in node:
                return place(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: place(v) for k, v in node.items()}
        if isinstance(node, list):
            return [place(v) for v in node]
        return node

    return place(schema)


def f3548_response(model: type[BaseModel], what: str) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` entry documenting the F3548 media type of a 200 answer."""
    return {
        200: {
            "description": f"The JSON answer, or with `?format=f3548` / `Accept: {F3548_MEDIA_TYPE}` {what}.",
            "content": {F3548_MEDIA_TYPE: {"schema": _inlined(model)}},
            "headers": {
                CONVERSION_HEADER: {
                    "description": "F3548 answers only: one line per volume written in W84 through a "
                    "conversion of its altitude reference (e.g. `EGM96`), widened outward.",
                    "schema": {"type": "string"},
                }
            },
        }
    }


def f3548_answer(model: type[BaseModel], view: F3548View) -> Response:
    """``view``'s document checked against ``model`` (the schema /openapi.json shows) and sent
    as F3548, with one ``Truceline-Altitude-Conversion`` line per volume it converted."""
    body = model.model_validate(view.document).model_dump_json(exclude_unset=True)
    response = Response(content=body, media_type=F3548_MEDIA_TYPE)
    for note in view.conversions:
        # header values are Latin-1 on the wire: the note's text is ASCII (ids are checked
        # at the edge), and anything else is escaped rather than refused
        line = f"{note.where}: {note.message}"
        response.headers.append(CONVERSION_HEADER, line.encode("ascii", "backslashreplace").decode())
    return response
