"""The GeoJSON profile: round trips, units, grouping, and every error located."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from io_documents import collection, operation_feature, zone_feature, zones_and_operations

from truceline.domain.activity import Activity
from truceline.domain.operation import Operation, OperationState
from truceline.domain.zone import Entry, Zone, ZoneKind, ZoneRule
from truceline.errors import FormatError, GeometryError, TrucelineError, ValidationError
from truceline.geo.altitude import AltitudeBand, AltitudeReference
from truceline.geo.shapes import Circle, Polygon, Shape
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.geojson import read_geojson, read_operations, read_zones, save_geojson, write_geojson


def read_error(doc: dict, source: str = "zones.geojson") -> TrucelineError:
    with pytest.raises(TrucelineError) as info:
        read_geojson(doc, source=source)
    return info.value


# -- reading what the profile says ------------------------------------------------------


def test_reads_a_zone_and_an_operation():
    features = read_geojson(collection(zone_feature(), operation_feature()))
    (zone,) = features.zones
    (operation,) = features.operations
    assert zone.id == "z-idlib"
    assert zone.kind is ZoneKind.DE_ESCALATION
    assert zone.rule == ZoneRule("all", Activity.ANY, Entry.FORBIDDEN)
    assert zone.party == "guarantors"
    (volume,) = zone.volumes
    assert isinstance(volume.shape, Polygon)
    assert volume.shape.ring[0] == (36.6, 35.9)
    assert volume.altitude == AltitudeBand(0, 3000, AltitudeReference.AMSL)
    assert volume.time == TimeWindow(datetime(2017, 5, 6, tzinfo=UTC), None)
    assert operation.id == "op-1"
    assert operation.party == "north"
    assert operation.activity is Activity.AIR
    assert operation.state is OperationState.PLANNED
    assert operation.volumes[0].shape == Circle((36.65, 35.95), 2000.0)


def test_the_kind_property_tells_a_zone_from_an_operation():
    op = operation_feature()
    op["properties"]["kind"] = "no_fly"
    features = read_geojson(collection(op))
    assert features.operations == () and features.zones[0].kind is ZoneKind.NO_FLY


def test_time_offsets_are_converted_to_utc():
    doc = collection(zone_feature(time_start="2017-05-06T03:00:00+03:00"))
    assert read_geojson(doc).zones[0].volumes[0].time.start == datetime(2017, 5, 6, tzinfo=UTC)


def test_rule_defaults_are_the_most_restrictive():
    feature = zone_feature()
    for key in ("restricts", "activity", "entry"):
        del feature["properties"][key]
    assert read_geojson(collection(feature)).zones[0].rule == ZoneRule("all", Activity.ANY, Entry.FORBIDDEN)


def test_restricts_a_list_of_parties_and_others():
    zone = read_geojson(collection(zone_feature(restricts=["north", "south"]))).zones[0]
    assert zone.rule.restricts == ("north", "south")
    zone = read_geojson(collection(zone_feature(restricts="others"))).zones[0]
    assert zone.rule.restricts == "others" and zone.party == "guarantors"


def test_altitude_reference_defaults_to_amsl_and_is_read():
    feature = zone_feature(altitude_reference="AGL")
    assert read_geojson(collection(feature)).zones[0].volumes[0].altitude.reference is AltitudeReference.AGL


def test_null_altitude_limits_mean_no_limit():
    band = read_geojson(collection(zone_feature(altitude_lower_m=None, altitude_upper_m=None))).zones[0]
    assert band.volumes[0].altitude.lower_m == -math.inf
    assert band.volumes[0].altitude.upper_m == math.inf


# -- feet and per-field units -------------------------------------------------------------


def test_feet_and_metres_give_the_same_volume():
    metres = zone_feature(altitude_lower_m=304.8, altitude_upper_m=3048.0)
    feet = zone_feature()
    del feet["properties"]["altitude_lower_m"], feet["properties"]["altitude_upper_m"]
    feet["properties"].update(altitude_lower_ft=1000, altitude_upper_ft=10000)
    a = read_geojson(collection(metres)).zones[0]
    b = read_geojson(collection(feet)).zones[0]
    assert a.volumes[0].altitude.lower_m == pytest.approx(b.volumes[0].altitude.lower_m, abs=1e-9)
    assert a.volumes[0].altitude.upper_m == pytest.approx(b.volumes[0].altitude.upper_m, abs=1e-9)


def test_per_field_units():
    feature = zone_feature()
    del feature["properties"]["altitude_lower_m"], feature["properties"]["altitude_upper_m"]
    feature["properties"]["altitude_lower"] = {"value": 500, "units": "ft"}
    feature["properties"]["altitude_upper"] = {"value": 1000, "units": "m"}
    band = read_geojson(collection(feature)).zones[0].volumes[0].altitude
    assert band.lower_m == pytest.approx(152.4)
    assert band.upper_m == 1000.0


def test_radius_in_feet_and_per_field():
    feature = operation_feature()
    del feature["properties"]["radius_m"]
    feature["properties"]["radius_ft"] = 1000
    assert read_geojson(collection(feature)).operations[0].volumes[0].shape.radius_m == pytest.approx(304.8)
    feature = operation_feature()
    del feature["properties"]["radius_m"]
    feature["properties"]["radius"] = {"value": 2, "units": "m"}
    assert read_geojson(collection(feature)).operations[0].volumes[0].shape.radius_m == 2.0


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"altitude_lower_ft": 10}, "properties.altitude_lower_ft: gives the lower limit again"),
        ({"altitude_lower": {"value": 1, "units": "m"}}, "properties.altitude_lower: gives the lower"),
        ({"altitude_upper_ft": 10}, "properties.altitude_upper_ft: gives the upper limit again"),
    ],
)
def test_a_limit_given_twice_is_an_error(extra: dict, field: str):
    error = read_error(collection(zone_feature(**extra)))
    assert f'zones.geojson: feature 0 (id "z-idlib"): {field}' in str(error)
    assert "also properties.altitude_" in str(error)


def test_a_radius_given_twice_is_an_error():
    error = read_error(collection(operation_feature(radius_ft=100)))
    assert 'feature 0 (id "op-1"): properties.radius_ft: gives a circle\'s radius again' in str(error)


def test_unknown_units_are_an_error():
    feature = zone_feature()
    del feature["properties"]["altitude_lower_m"]
    feature["properties"]["altitude_lower"] = {"value": 1, "units": "FL"}
    error = read_error(collection(feature))
    assert str(error).endswith('properties.altitude_lower.units: "FL" is not one of: m, ft')


# -- several volumes: grouping by zone / operation --------------------------------------


def test_volumes_group_by_the_operation_property():
    a = operation_feature("leg-1", operation="op-x")
    b = operation_feature(
        "leg-2", operation="op-x", time_start="2017-06-01T10:00:00Z", time_end="2017-06-01T11:00:00Z"
    )
    c = operation_feature("op-y", party="south")
    ops = read_geojson(collection(a, c, b)).operations
    assert [o.id for o in ops] == ["op-x", "op-y"]
    assert len(ops[0].volumes) == 2
    assert ops[0].volumes[1].time.start == datetime(2017, 6, 1, 10, tzinfo=UTC)


def test_volumes_group_by_the_zone_property():
    a = zone_feature("part-a", zone="z")
    b = zone_feature("part-b", zone="z")
    (zone,) = read_geojson(collection(a, b)).zones
    assert zone.id == "z" and len(zone.volumes) == 2


def test_grouped_features_must_agree():
    a = operation_feature("leg-1", operation="op-x")
    b = operation_feature("leg-2", operation="op-x", party="south")
    error = read_error(collection(a, b), source="plans.geojson")
    assert str(error) == (
        'plans.geojson: feature 1 (id "leg-2"): properties.party: "south" differs from "north" '
        'in feature 0 of the same operation "op-x"'
    )


# -- errors: each names the file, the feature and the field -----------------------------


def test_the_issue_example():
    features = [zone_feature(f"z{i}") for i in range(3)]
    features.append(zone_feature("z-idlib", altitude_lower_m="abc"))
    error = read_error(collection(*features))
    assert isinstance(error, FormatError)
    assert str(error) == (
        'zones.geojson: feature 3 (id "z-idlib"): properties.altitude_lower_m: must be a number, got "abc"'
    )


def _without(feature: dict, key: str) -> dict:
    del feature["properties"][key]
    return feature


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        (_without(zone_feature(), "altitude_lower_m"), "properties.altitude_lower_m: is required"),
        (_without(zone_feature(), "altitude_upper_m"), "properties.altitude_upper_m: is required"),
        (_without(zone_feature(), "time_start"), "properties.time_start: is required"),
        (_without(zone_feature(), "time_end"), "properties.time_end: is required (null for a standing"),
        (_without(operation_feature(), "party"), "properties.party: is required"),
        (_without(operation_feature(), "activity"), "properties.activity: is required"),
        (_without(operation_feature(), "radius_m"), "properties.radius_m: is required"),
        (zone_feature(kind="buffer"), 'properties.kind: "buffer" is not one of: no_fly'),
        (zone_feature(entry="maybe"), 'properties.entry: "maybe" is not one of: forbidden, notice'),
        (zone_feature(activity="sea"), 'properties.activity: "sea" is not one of: air, ground, any'),
        (zone_feature(restricts="some"), 'properties.restricts: "some" must be "all", "others" or a list'),
        (zone_feature(restricts=[]), "properties.restricts: must not be empty"),
        (zone_feature(restricts=["a", 3]), "properties.restricts[1]: must be a string, got 3"),
        (zone_feature(restricts="others", party=None), "properties.party: is required when restricts"),
        (zone_feature(altitude_reference="QNH"), 'properties.altitude_reference: "QNH" is not one of'),
        (zone_feature(altitude_upper_m=True), "properties.altitude_upper_m: must be a number, got true"),
        (zone_feature(altitude_lower_m=500, altitude_upper_m=100), "properties.altitude_lower_m: "),
        (
            zone_feature(time_start="2017-05-06T00:00:00"),
            'properties.time_start: "2017-05-06T00:00:00" has no UTC offset',
        ),
        (zone_feature(time_start="2017-05-06"), "properties.time_start: must be an RFC 3339 date-time"),
        (
            zone_feature(time_start="2017-02-30T00:00:00Z"),
            'properties.time_start: "2017-02-30T00:00:00Z" is not a valid date-time',
        ),
        (zone_feature(time_end="2017-05-01T00:00:00Z"), "properties.time_start: start "),
        (operation_feature(time_end=None), "properties.time_end: an operation must end"),
        (operation_feature(activity="any"), 'properties.activity: an operation is either "air" or "ground"'),
        (operation_feature(state="flying"), 'properties.state: "flying" is not one of: planned'),
        (operation_feature(restricts="all"), "properties.restricts: is for zones; add properties.kind"),
        (operation_feature(zone="z"), "properties.zone: is for zones"),
        (zone_feature(operation="op"), "properties.operation: is for operations"),
        (zone_feature(party=""), "properties.party: must not be empty"),
        (operation_feature(operation=7), "properties.operation: must be a string, got 7"),
    ],
)
def test_property_errors_are_located(feature: dict, expected: str):
    error = read_error(collection(zone_feature("first"), feature))
    assert isinstance(error, ValidationError)
    assert str(error).startswith(f'zones.geojson: feature 1 (id "{feature["id"]}"): {expected}'), str(error)


def _geometry(feature: dict, geometry: object) -> dict:
    feature["geometry"] = geometry
    return feature


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        (_geometry(zone_feature(), None), "geometry: must be an object, got null"),
        (
            _geometry(zone_feature(), {"type": "MultiPolygon", "coordinates": []}),
            "geometry.coordinates: must not be empty",
        ),
        (
            _geometry(zone_feature(), {"type": "LineString", "coordinates": [[0, 0], [1, 1]]}),
            'geometry.type: "LineString" is not supported',
        ),
        (
            _geometry(
                zone_feature(),
                {
                    "type": "Polygon",
                    "coordinates": [
                        [[36.6, 35.9], [36.7, 35.9], [36.7, 36.0], [36.6, 35.9]],
                        [[36.61, 35.91], [36.62, 35.91], [36.62, 35.92], [36.61, 35.91]],
                    ],
                },
            ),
            "geometry.coordinates[1]: polygons with holes are not supported",
        ),
        (
            _geometry(zone_feature(), {"type": "Polygon", "coordinates": []}),
            "geometry.coordinates: must not be empty",
        ),
        (
            _geometry(
                zone_feature(),
                {
                    "type": "Polygon",
                    "coordinates": [[[36.6, 35.9, 100], [36.7, 35.9], [36.7, 36.0], [36.6, 35.9]]],
                },
            ),
            "geometry.coordinates[0][0]: must be [longitude, latitude], got 3 numbers; altitudes go in",
        ),
        (
            _geometry(
                zone_feature(),
                {
                    "type": "Polygon",
                    "coordinates": [[[36.6, "35.9"], [36.7, 35.9], [36.7, 36.0], [36.6, 35.9]]],
                },
            ),
            'geometry.coordinates[0][0][1]: must be a number, got "35.9"',
        ),
        (
            _geometry(zone_feature(radius_m=5), zone_feature()["geometry"]),
            "properties.radius_m: is only for a Point geometry",
        ),
        (
            _geometry(operation_feature(), {"type": "Point", "coordinates": [36.6]}),
            "geometry.coordinates: must be [longitude, latitude], got 1 numbers",
        ),
        (operation_feature(radius_m="big"), 'properties.radius_m: must be a number, got "big"'),
        # null is what a GIS file writes for an unused attribute: the radius is missing
        (operation_feature(radius_m=None), "properties.radius_m: is required (a circle's radius"),
    ],
)
def test_geometry_errors_are_located(feature: dict, expected: str):
    error = read_error(collection(zone_feature("first"), feature))
    assert str(error).startswith(f'zones.geojson: feature 1 (id "{feature["id"]}"): {expected}'), str(error)


@pytest.mark.parametrize(
    ("feature", "expected"),
    [
        ({"type": "Feature", "id": 3, "geometry": None, "properties": {}}, "id: must be a string, got 3"),
        ({"type": "Feature", "geometry": None, "properties": {}}, "id: is required (the Feature's id, or properties.id)"),  # noqa: E501
        ({"type": "Feature", "id": "", "geometry": None, "properties": {}}, "id: must not be empty"),
        ({"type": "feature", "id": "x"}, 'type: must be "Feature", got "feature"'),
        ([1, 2], "must be an object, got a list"),
        (
            _without(zone_feature("x"), "kind") | {"properties": None},
            "properties: must be an object, got null",
        ),
    ],
)
def test_feature_errors_are_located(feature: object, expected: str):
    error = read_error(collection(zone_feature("first"), feature))
    assert str(error).startswith("zones.geojson: feature 1") and str(error).endswith(expected), str(error)


def test_duplicate_feature_ids():
    error = read_error(collection(zone_feature("a"), operation_feature("b"), zone_feature("a")))
    assert str(error) == 'zones.geojson: feature 2 (id "a"): id: repeats the id of feature 0'


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"type": "Feature"}, 'zones.geojson: type: must be "FeatureCollection", got "Feature"'),
        ({"type": "FeatureCollection"}, "zones.geojson: features: is required"),
        (
            {"type": "FeatureCollection", "features": {}},
            "zones.geojson: features: must be a list, got an object",
        ),
        ([], "zones.geojson: must be an object, got a list"),
    ],
)
def test_document_errors(doc: object, expected: str):
    assert str(read_error(doc)) == expected  # type: ignore[arg-type]


def test_text_and_file_errors(tmp_path):
    with pytest.raises(FormatError, match=r"^<text>: invalid JSON at line 1 column 2"):
        read_geojson("{nope")
    with pytest.raises(FormatError, match=r"^<text>: NaN is not valid JSON"):
        read_geojson('{"type": NaN}')
    with pytest.raises(FormatError, match=r"^missing.geojson: cannot read the file"):
        read_geojson(tmp_path / "missing.geojson")
    bad = tmp_path / "latin1.geojson"
    bad.write_bytes(b'{"type": "\xe9"}')
    with pytest.raises(FormatError, match=r"^latin1.geojson: not UTF-8 text"):
        read_geojson(bad)


def test_read_zones_and_read_operations_refuse_the_other_kind():
    doc = collection(zone_feature(), operation_feature())
    with pytest.raises(FormatError) as info:
        read_zones(doc, source="zones.geojson")
    assert str(info.value).startswith(
        'zones.geojson: feature 1 (id "op-1"): properties.kind: is an operation'
    )
    with pytest.raises(FormatError) as info:
        read_operations(doc, source="plans.geojson")
    assert str(info.value).startswith('plans.geojson: feature 0 (id "z-idlib"): properties.kind: is a zone')
    assert [z.id for z in read_zones(collection(zone_feature()))] == ["z-idlib"]
    assert [o.id for o in read_operations(collection(operation_feature()))] == ["op-1"]


# -- geometry faults: validated by geo.shapes, located here -------------------------------


def _ring(*points: tuple[float, float]) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in points]]}


@pytest.mark.parametrize(
    ("geometry", "field"),
    [
        (_ring((36.6, 35.9), (36.7, 35.9), (36.7, 36.0), (36.6, 36.0)), "geometry.coordinates[0][3]"),  # open
        (
            _ring((36.6, 35.9), (36.7, 36.0), (36.7, 35.9), (36.6, 36.0), (36.6, 35.9)),  # bow tie
            "geometry.coordinates[0][2]",
        ),
        (_ring((36.6, 35.9), (36.7, 95.0), (36.6, 36.0), (36.6, 35.9)), "geometry.coordinates[0][1]"),
        (_ring((36.6, 35.9), (36.7, 35.9), (36.6, 35.9)), "geometry.coordinates[0]"),  # < 3 vertices
        (
            _ring(
                (179.9, 35.9), (-179.9, 35.9), (-179.9, 36.0), (179.9, 36.0), (179.9, 35.9)
            ),  # antimeridian
            "geometry.coordinates[0][1]",
        ),
    ],
)
def test_geometry_faults_name_the_vertex(geometry: dict, field: str):
    error = read_error(collection(zone_feature("first"), _geometry(zone_feature("bad"), geometry)))
    assert isinstance(error, GeometryError), repr(error)
    assert str(error).startswith(f'zones.geojson: feature 1 (id "bad"): {field}: '), str(error)


def test_a_non_positive_radius_is_located():
    error = read_error(collection(operation_feature(radius_m=-5)))
    assert isinstance(error, ValidationError)
    assert str(error).startswith('zones.geojson: feature 0 (id "op-1"): properties.radius_m'), str(error)


# -- writing -------------------------------------------------------------------------------


def _volume(shape: object, end: datetime | None) -> Volume4D:
    return Volume4D(shape, AltitudeBand(0, 100), TimeWindow(datetime(2024, 1, 1, tzinfo=UTC), end))  # type: ignore[arg-type]


def test_write_keeps_circles_as_point_and_radius():
    zone = Zone("c", ZoneKind.DECONFLICTION, (_volume(Circle((38.6, 33.5), 55_000.0), None),))
    feature = write_geojson([zone])["features"][0]
    assert feature["geometry"] == {"type": "Point", "coordinates": [38.6, 33.5]}
    assert feature["properties"]["radius_m"] == 55_000.0
    assert feature["properties"]["time_end"] is None
    assert feature["properties"]["time_start"] == "2024-01-01T00:00:00Z"
    assert "party" not in feature["properties"]


def test_write_several_volumes():
    end = datetime(2024, 1, 2, tzinfo=UTC)
    op = Operation("op", "north", Activity.GROUND, (_volume(Circle((36, 35), 10.0), end),) * 2)
    features = write_geojson(operations=[op])["features"]
    assert [f["id"] for f in features] == ["op#1", "op#2"]
    assert all(f["properties"]["operation"] == "op" for f in features)


def test_write_refuses_shared_ids():
    end = datetime(2024, 1, 2, tzinfo=UTC)
    zone = Zone("x", ZoneKind.NO_FLY, (_volume(Circle((36, 35), 10.0), None),))
    op = Operation("x", "north", Activity.AIR, (_volume(Circle((36, 35), 10.0), end),))
    with pytest.raises(ValidationError, match="share the id"):
        write_geojson([zone], [op])


def test_save_geojson_writes_null_for_no_upper_limit(tmp_path):
    band = AltitudeBand(0, math.inf, AltitudeReference.AGL)
    zone = Zone(
        "z",
        ZoneKind.NO_FLY,
        (Volume4D(Circle((36, 35), 10.0), band, TimeWindow(datetime(2024, 1, 1, tzinfo=UTC))),),
    )
    path = tmp_path / "out.geojson"
    save_geojson(path, [zone])
    assert json.loads(path.read_text())["features"][0]["properties"]["altitude_upper_m"] is None
    assert read_geojson(path).zones == (zone,)


@settings(max_examples=150, deadline=None)
@given(zones_and_operations())
def test_round_trip(data: tuple[list[Zone], list[Operation]]):
    zones, operations = data
    text = json.dumps(write_geojson(zones, operations), allow_nan=False)
    features = read_geojson(text)
    # RFC 7946 output: coordinates to 7 decimals and rings counter-clockwise, so shapes come
    # back within 5e-8 degrees, maybe reversed; everything else exactly.
    assert [_with_shapes_of(z, r) for z, r in zip(zones, features.zones, strict=True)] == list(features.zones)
    assert [_with_shapes_of(o, r) for o, r in zip(operations, features.operations, strict=True)] == list(
        features.operations
    )


def _same_shape(written: Shape, read: Shape) -> bool:
    if isinstance(written, Circle):
        near = all(abs(a - b) <= 5e-8 for a, b in zip(written.center, read.center, strict=True))
        return isinstance(read, Circle) and near and written.radius_m == read.radius_m
    if not isinstance(read, Polygon):
        return False

    def close(ring: tuple) -> bool:
        return len(ring) == len(read.ring) and all(
            abs(a - b) <= 5e-8
            for p, q in zip(ring, read.ring, strict=True)
            for a, b in zip(p, q, strict=True)
        )

    return close(written.ring) or close(written.ring[::-1])


def _with_shapes_of(item, read):
    """``item`` with the shapes of ``read``, once each is checked to be the same shape."""
    assert len(item.volumes) == len(read.volumes)
    for mine, theirs in zip(item.volumes, read.volumes, strict=True):
        assert _same_shape(mine.shape, theirs.shape), (mine.shape, theirs.shape)
    volumes = tuple(replace(v, shape=r.shape) for v, r in zip(item.volumes, read.volumes, strict=True))
    return replace(item, volumes=volumes)
