"""Fuzz the readers: whatever the document, only TrucelineError subclasses come out.

Two sources of documents: random JSON values, and valid documents of each format with one
node replaced or deleted (which reaches deep into each reader)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from io_documents import (
    collection,
    ed269_zone,
    f3548_circle_volume,
    f3548_volume,
    operation_feature,
    zone_feature,
)

from truceline.errors import TrucelineError
from truceline.io.ed269 import read_ed269
from truceline.io.f3548 import read_f3548_constraint, read_f3548_document, read_f3548_operation
from truceline.io.geojson import read_geojson

KEYS = [
    "type",
    "id",
    "features",
    "geometry",
    "properties",
    "coordinates",
    "kind",
    "radius_m",
    "radius_ft",
    "altitude_lower_m",
    "altitude_upper_ft",
    "altitude_lower",
    "value",
    "units",
    "time_start",
    "time_end",
    "party",
    "restricts",
    "activity",
    "entry",
    "zone",
    "operation",
    "volume",
    "volumes",
    "outline_polygon",
    "outline_circle",
    "vertices",
    "lat",
    "lng",
    "center",
    "radius",
    "reference",
    "details",
    "extents",
    "operational_intent",
    "basic_information",
    "area",
    "UASZoneList",
    "identifier",
    "restriction",
    "applicability",
    "permanent",
    "startDateTime",
    "dailyPeriod",
    "day",
    "uomDimensions",
    "lowerLimit",
    "upperLimit",
    "lowerVerticalReference",
    "horizontalProjection",
    "constraint",
    "constraint_id",
    "geozone",
    "priority",
]
WORDS = [
    "Feature",
    "FeatureCollection",
    "Polygon",
    "Point",
    "Circle",
    "MultiPolygon",
    "no_fly",
    "air",
    "any",
    "all",
    "others",
    "forbidden",
    "M",
    "FT",
    "ft",
    "m",
    "W84",
    "SFC",
    "AGL",
    "AMSL",
    "WGS84",
    "YES",
    "NO",
    "PROHIBITED",
    "NO_RESTRICTION",
    "Accepted",
    "CONDITIONAL",
    "2024-03-01T10:00:00Z",
    "2024-03-01T10:00:00",
    "0",
    "1e999",
    "abc",
    "",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats()
    | st.text(max_size=6)
    | st.sampled_from(WORDS)
)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=25,
)


def _valid_documents() -> dict[str, object]:
    return {
        "geojson": collection(
            zone_feature("z", zone="zz"),
            zone_feature("z2", zone="zz"),
            operation_feature("o", operation="op"),
            operation_feature("o2", operation="op"),
        ),
        "f3548-list": [f3548_volume(), f3548_circle_volume()],
        "f3548-intent": {
            "operational_intent": {
                "reference": {"id": "i", "manager": "m", "state": "Accepted"},
                "details": {"volumes": [f3548_volume()], "off_nominal_volumes": [f3548_circle_volume()]},
            }
        },
        "f3548-plan": {
            "flight_plan": {"basic_information": {"usage_state": "Planned", "area": [f3548_volume()]}}
        },
        "f3548-extents": {"extents": [f3548_volume()], "state": "Accepted"},
        "f3548-constraint": {
            "constraint_id": "c",
            "constraint": {
                "reference": {"id": "c", "manager": "m"},
                "details": {
                    "volumes": [f3548_volume(), f3548_circle_volume()],
                    "type": "no_fly",
                    "geozone": {"identifier": "LS01", "name": "n", "restriction": "PROHIBITED"},
                },
            },
        },
        "ed269": {
            "UASZoneList": [
                ed269_zone("A"),
                ed269_zone(
                    "B",
                    geometry=[
                        {
                            "uomDimensions": "FT",
                            "lowerLimit": "0",
                            "lowerVerticalReference": "AGL",
                            "upperLimit": None,
                            "upperVerticalReference": "AGL",
                            "horizontalProjection": {"type": "Circle", "center": [36.6, 35.9], "radius": 300},
                        }
                    ],
                ),
            ]
        },
    }


VALID = _valid_documents()

READERS: dict[str, Callable[[object], object]] = {
    "geojson": lambda d: read_geojson(d, source="f"),  # type: ignore[arg-type]
    "f3548": lambda d: read_f3548_document(d, source="f"),  # type: ignore[arg-type]
    "f3548-operation": lambda d: read_f3548_operation(d, party="p", operation_id="o", source="f"),  # type: ignore[arg-type]
    "ed269": lambda d: read_ed269(d, source="f"),  # type: ignore[arg-type]
    "f3548-constraint": lambda d: read_f3548_constraint(d, default_id="z", source="f"),  # type: ignore[arg-type]
}


def _paths(node: object, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += _paths(value, (*prefix, index))
    return out


def _mutated(doc: object, path: tuple, replacement: object, delete: bool) -> object:
    if not path:
        return replacement
    doc = copy.deepcopy(doc)
    parent = doc
    for key in path[:-1]:
        parent = parent[key]  # type: ignore[index]
    if delete:
        del parent[path[-1]]  # type: ignore[index, union-attr]
    else:
        parent[path[-1]] = replacement  # type: ignore[index]
    return doc


def _only_truceline_errors(reader: Callable[[object], object], doc: object) -> None:
    try:
        reader(doc)
    except TrucelineError as error:
        assert str(error)  # every error renders to one non-empty line
        assert "\n" not in str(error)


def test_the_valid_documents_are_valid():
    read_geojson(VALID["geojson"])  # type: ignore[arg-type]
    for name in ("f3548-list", "f3548-intent", "f3548-plan", "f3548-extents"):
        read_f3548_operation(VALID[name], party="p", operation_id="o")  # type: ignore[arg-type]
    assert len(read_ed269(VALID["ed269"]).zones) == 2  # type: ignore[arg-type]
    assert len(read_f3548_constraint(VALID["f3548-constraint"]).zones) == 1  # type: ignore[arg-type]


@pytest.mark.parametrize("reader", sorted(READERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=json_values)
def test_random_json(reader: str, doc: object):
    # a bare str would be read as a path: wrap it
    _only_truceline_errors(READERS[reader], [doc] if isinstance(doc, str) else doc)


@pytest.mark.parametrize("name", sorted(VALID))
@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_mutated_documents(name: str, data: st.DataObject):
    doc = VALID[name]
    path = data.draw(st.sampled_from(_paths(doc)))
    delete = bool(path) and data.draw(st.booleans())
    replacement = None if delete else data.draw(json_values)
    mutated = _mutated(doc, path, replacement, delete)
    if isinstance(mutated, str):  # a bare str would be read as a path
        mutated = [mutated]
    special = {"ed269": "ed269", "geojson": "geojson", "f3548-constraint": "f3548-constraint"}
    reader = special.get(name, "f3548-operation")
    _only_truceline_errors(READERS[reader], mutated)


@settings(max_examples=100, deadline=None)
@given(text=st.text(max_size=40))
def test_random_text(text: str):
    for reader in READERS.values():
        _only_truceline_errors(reader, "{" + text)
        _only_truceline_errors(reader, ("{" + text).encode("utf-8", "surrogatepass"))
