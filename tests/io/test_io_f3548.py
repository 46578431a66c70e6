"""ASTM F3548 Volume4D JSON in each accepted wrapping (documents built by hand after the
F3548 OpenAPI and InterUSS's automated-testing interfaces)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pytest
from io_documents import f3548_circle_volume, f3548_volume

from truceline.domain.activity import Activity
from truceline.domain.operation import OperationState
from truceline.domain.zone import Entry, ZoneKind
from truceline.errors import FormatError, GeometryError, TrucelineError, ValidationError
from truceline.geo.altitude import AltitudeReference
from truceline.geo.shapes import Circle, Polygon
from truceline.io.f3548 import (
    is_f3548_constraint,
    read_f3548_constraint,
    read_f3548_document,
    read_f3548_operation,
    read_f3548_volumes,
)


def error_of(doc: object, **kwargs: object) -> TrucelineError:
    with pytest.raises(TrucelineError) as info:
        read_f3548_operation(doc, source="plan.json", **{"party": "p", "operation_id": "o", **kwargs})
    return info.value


def test_a_single_volume4d():
    (volume,) = read_f3548_volumes(f3548_volume())
    # F3548 vertices are {lat, lng} and open; ours are (lon, lat) and closed
    assert volume.shape == Polygon(((36.6, 35.9), (36.7, 35.9), (36.7, 36.0), (36.6, 36.0), (36.6, 35.9)))
    assert volume.altitude.lower_m == 0 and volume.altitude.upper_m == 120
    assert volume.altitude.reference is AltitudeReference.W84
    assert volume.time.start == datetime(2024, 3, 1, 10, tzinfo=UTC)
    assert volume.time.end == datetime(2024, 3, 1, 11, tzinfo=UTC)


def test_a_circle():
    (volume,) = read_f3548_volumes(f3548_circle_volume(radius_m=750))
    assert volume.shape == Circle((36.65, 35.95), 750.0)


def test_a_list_of_volumes():
    assert len(read_f3548_volumes([f3548_volume(), f3548_circle_volume()])) == 2


def test_feet_and_surface_reference():
    volume = f3548_volume()
    for key in ("altitude_lower", "altitude_upper"):
        volume["volume"][key].update(units="FT", reference="SFC")
    volume["volume"]["altitude_upper"]["value"] = 400
    (read,) = read_f3548_volumes(volume)
    assert read.altitude.upper_m == pytest.approx(121.92)
    assert read.altitude.reference is AltitudeReference.AGL


def test_operational_intent_details_includes_off_nominal_volumes():
    details = {"volumes": [f3548_volume()], "off_nominal_volumes": [f3548_circle_volume()], "priority": 0}
    operation = read_f3548_operation(details, party="north", operation_id="op-1")
    assert operation.id == "op-1" and operation.party == "north"
    assert operation.activity is Activity.AIR and operation.state is OperationState.PLANNED
    assert [type(v.shape) for v in operation.volumes] == [Polygon, Circle]


def _reference(state: str = "Accepted") -> dict:
    return {
        "id": "2f1c0b8e-4a4b-4a7d-9a57-7c1f4f0b9e11",
        "manager": "uss-north",
        "uss_availability": "Normal",
        "version": 1,
        "state": state,
        "ovn": "ovn-1",
        "time_start": {"value": "2024-03-01T10:00:00Z", "format": "RFC3339"},
        "time_end": {"value": "2024-03-01T11:00:00Z", "format": "RFC3339"},
        "uss_base_url": "https://uss.example.org",
        "subscription_id": "sub-1",
    }


def _intent(state: str = "Accepted") -> dict:
    return {"reference": _reference(state), "details": {"volumes": [f3548_volume()], "priority": 0}}


@pytest.mark.parametrize(
    ("doc", "state"),
    [
        (_intent(), OperationState.ACCEPTED),  # OperationalIntent
        (
            {"operational_intent": _intent("Activated")},
            OperationState.ACTIVE,
        ),  # GetOperationalIntentDetailsResponse
        (
            {  # PutOperationalIntentDetailsParameters
                "operational_intent_id": "2f1c0b8e-4a4b-4a7d-9a57-7c1f4f0b9e11",
                "operational_intent": _intent("Nonconforming"),
                "subscriptions": [{"subscription_id": "s", "notification_index": 3}],
            },
            OperationState.ACTIVE,
        ),
    ],
)
def test_operational_intent_documents_carry_id_manager_and_state(doc: dict, state: OperationState):
    operation = read_f3548_operation(doc)
    assert operation.id == "2f1c0b8e-4a4b-4a7d-9a57-7c1f4f0b9e11"
    assert operation.party == "uss-north"
    assert operation.state is state
    assert len(operation.volumes) == 1


def test_the_caller_wins_over_the_document():
    operation = read_f3548_operation(
        _intent(), party="north", operation_id="mine", state="planned", activity="ground"
    )
    assert (operation.id, operation.party, operation.state, operation.activity) == (
        "mine",
        "north",
        OperationState.PLANNED,
        Activity.GROUND,
    )


def test_put_operational_intent_reference_parameters():
    doc = {
        "extents": [f3548_volume(), f3548_circle_volume()],
        "key": ["ovn-a"],
        "state": "Accepted",
        "uss_base_url": "https://uss.example.org",
        "new_subscription": {"uss_base_url": "https://uss.example.org", "notify_for_constraints": False},
    }
    operation = read_f3548_operation(doc, party="north", operation_id="op")
    assert len(operation.volumes) == 2 and operation.state is OperationState.ACCEPTED


def test_scd_injection_and_flight_intent():
    inject = {
        "operational_intent": {
            "state": "Accepted",
            "priority": 0,
            "volumes": [f3548_volume()],
            "off_nominal_volumes": [],
        },
        "flight_authorisation": {"uas_serial_number": "1AF49UL5CC5J6K", "operation_mode": "Vlos"},
    }
    assert len(read_f3548_volumes(inject)) == 1
    flight_intent = {"reference_time": "2024-03-01T09:00:00Z", "request": inject}
    operation = read_f3548_operation(flight_intent, party="north", operation_id="fi")
    assert operation.state is OperationState.ACCEPTED


def test_flight_planning_flight_plan():
    plan = {
        "basic_information": {
            "usage_state": "InUse",
            "uas_state": "Nominal",
            "area": [f3548_volume(), f3548_circle_volume()],
        },
        "astm_f3548_21": {"priority": 0},
    }
    upsert = {"flight_plan": plan, "execution_style": "IfAllowed", "request_id": "r1"}
    operation = read_f3548_operation(upsert, party="north", operation_id="fp")
    assert len(operation.volumes) == 2 and operation.state is OperationState.ACTIVE
    assert read_f3548_document(plan).volumes == operation.volumes


def test_reads_files_and_text(tmp_path):
    path = tmp_path / "intent.json"
    path.write_text(json.dumps(_intent()))
    assert read_f3548_operation(path).id == read_f3548_operation(json.dumps(_intent())).id


# -- errors name the file and the JSON path ---------------------------------------------


def _set(doc: dict, path: list, value: object) -> dict:
    target = doc
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            _set(f3548_volume(), ["volume", "altitude_lower", "value"], "abc"),
            'plan.json: volume.altitude_lower.value: must be a number, got "abc"',
        ),
        (
            _set(f3548_volume(), ["volume", "altitude_lower", "units"], "KM"),
            'plan.json: volume.altitude_lower.units: "KM" is not one of: M, FT',
        ),
        (
            _set(f3548_volume(), ["volume", "altitude_upper", "reference"], "AMSL"),
            'plan.json: volume.altitude_upper.reference: "AMSL" is not one of: W84, SFC',
        ),
        (
            _set(f3548_volume(), ["volume", "altitude_upper", "reference"], "SFC"),
            'plan.json: volume.altitude_upper.reference: "SFC" differs from altitude_lower.reference "W84"',
        ),
        (
            _set(f3548_volume(), ["volume", "altitude_upper"], KeyError),
            "plan.json: volume.altitude_upper: is required",
        ),
        (
            _set(f3548_volume(), ["volume", "outline_polygon"], KeyError),
            "plan.json: volume: needs outline_polygon or outline_circle",
        ),
        (
            _set(
                f3548_volume(),
                ["volume", "outline_circle"],
                f3548_circle_volume()["volume"]["outline_circle"],
            ),
            "plan.json: volume: gives both outline_polygon and outline_circle",
        ),
        (
            f3548_volume([(35.9, 36.6), (35.9, 36.7), (36.0, 36.7), (35.9, 36.6)]),
            "plan.json: volume.outline_polygon.vertices[3]: repeats the first vertex",
        ),
        (
            _set(f3548_volume(), ["volume", "outline_polygon", "vertices", 1, "lng"], None),
            "plan.json: volume.outline_polygon.vertices[1].lng: must be a number, got null",
        ),
        (
            _set(f3548_circle_volume(), ["volume", "outline_circle", "radius", "units"], "NM"),
            'plan.json: volume.outline_circle.radius.units: "NM" is not one of: M, FT',
        ),
        (
            _set(f3548_volume(), ["time_start", "value"], "2024-03-01T10:00:00"),
            'plan.json: time_start.value: "2024-03-01T10:00:00" has no UTC offset',
        ),
        (
            _set(f3548_volume(), ["time_start", "format"], "ISO8601"),
            'plan.json: time_start.format: must be "RFC3339", got "ISO8601"',
        ),
        (
            _set(f3548_volume(), ["time_end"], {"offset_from": {"starting_from": {"time_during_test": "x"}}}),
            "plan.json: time_end.value: is required (relative times such as offset_from are not supported",
        ),
        (_set(f3548_volume(), ["time_end"], KeyError), "plan.json: time_end: is required"),
        (
            _set(f3548_volume(), ["time_end", "value"], "2024-03-01T09:00:00Z"),
            "plan.json: time_start.value: start ",
        ),
        (
            _set(f3548_volume(), ["volume", "altitude_lower", "value"], 500),
            "plan.json: volume.altitude_lower.value: lower 500",
        ),
        ({"volumes": []}, "plan.json: volumes: an operation needs at least one volume"),
        (
            {"details": {"volumes": [f3548_volume()]}, "reference": {"id": 5}},
            "plan.json: reference.id: must be a string, got 5",
        ),
        (
            {"operational_intent": _set(_intent(), ["reference", "state"], "Flying")},
            'plan.json: operational_intent.reference.state: "Flying" is not one of: Accepted',
        ),
        ({"something": 1}, "plan.json: holds no F3548 volumes"),
        ("[1]", "plan.json: [0]: must be an object, got 1"),
    ],
)
def test_errors_name_file_and_path(doc: object, expected: str):
    error = error_of(doc)
    assert isinstance(error, ValidationError)
    assert str(error).startswith(expected), str(error)


def test_missing_id_and_party():
    with pytest.raises(FormatError, match=r"^plan.json: id: the document carries no operation id"):
        read_f3548_operation({"volumes": [f3548_volume()]}, party="p", source="plan.json")
    with pytest.raises(FormatError, match=r"^plan.json: party: the document names no party"):
        read_f3548_operation({"volumes": [f3548_volume()]}, operation_id="o", source="plan.json")


def test_geometry_faults_name_the_vertex():
    bow_tie = f3548_volume([(35.9, 36.6), (36.0, 36.7), (35.9, 36.7), (36.0, 36.6)])
    error = error_of({"volumes": [f3548_volume(), bow_tie]})
    assert isinstance(error, GeometryError)
    assert str(error).startswith("plan.json: volumes[1].volume.outline_polygon.vertices[2]: "), str(error)
    far = f3548_volume([(35.9, 36.6), (95.0, 36.7), (36.0, 36.7)])
    error = error_of([far])
    assert str(error).startswith("plan.json: [0].volume.outline_polygon.vertices[1]: latitude 95.0"), str(
        error
    )


def test_a_non_positive_radius_is_named():
    error = error_of(f3548_circle_volume(radius_m=0))
    assert isinstance(error, ValidationError)
    assert str(error).startswith("plan.json: volume.outline_circle.radius.value: "), str(error)


# --- constraints, read as zones ---------------------------------------------------------------

CONSTRAINT_ID = "5f0c2a36-2a7e-4d1b-9c55-8a3f2b1f9e10"


def _constraint(**details: object) -> dict:
    return {
        "reference": {"id": CONSTRAINT_ID, "manager": "uss.authority", "version": 1},
        "details": {"volumes": [f3548_volume()], **details},
    }


@pytest.mark.parametrize(
    "doc",
    [
        _constraint(type="no_fly"),  # Constraint
        {"constraint": _constraint(type="TFR")},  # GetConstraintDetailsResponse
        {"constraint_id": CONSTRAINT_ID, "constraint": _constraint(type="TFR"), "subscriptions": []},
        {"constraint_id": CONSTRAINT_ID, "constraint": {"details": {"volumes": [f3548_volume()]}}},
    ],
    ids=["Constraint", "GetConstraintDetailsResponse", "PutConstraintDetailsParameters", "put-no-reference"],
)
def test_constraint_documents_are_zones(doc: dict):
    assert is_f3548_constraint(doc)
    (zone,) = read_f3548_constraint(doc, source="c.json").zones
    assert zone.id == CONSTRAINT_ID and zone.kind is ZoneKind.NO_FLY
    assert zone.rule.entry is Entry.FORBIDDEN and zone.rule.activity is Activity.AIR
    assert zone.party == ("uss.authority" if "reference" in doc.get("constraint", doc) else None)
    assert zone.volumes == tuple(read_f3548_volumes(f3548_volume()))


def test_constraint_details_alone_take_the_id_given():
    details = {"volumes": [f3548_volume()], "type": "humanitarian_corridor"}
    (zone,) = read_f3548_constraint(details, default_id="corridor-1").zones
    assert (zone.id, zone.kind) == ("corridor-1", ZoneKind.HUMANITARIAN_CORRIDOR)
    with pytest.raises(FormatError, match="carries no id"):
        read_f3548_constraint(details)


@pytest.mark.parametrize(
    ("restriction", "kind", "entry"),
    [
        ("PROHIBITED", ZoneKind.NO_FLY, Entry.FORBIDDEN),
        ("REQ_AUTHORISATION", ZoneKind.DECONFLICTION, Entry.NOTICE),
        ("CONDITIONAL", ZoneKind.DECONFLICTION, Entry.NOTICE),
    ],
)
def test_a_geozone_sets_kind_and_entry_as_ed269_does(restriction: str, kind: ZoneKind, entry: Entry):
    geozone = {"identifier": "LSR01", "country": "CHE", "zone_authority": [], "name": "Range",
               "type": "COMMON", "restriction": restriction}  # fmt: skip
    (zone,) = read_f3548_constraint(_constraint(geozone=geozone)).zones
    assert (zone.kind, zone.rule.entry, zone.name) == (kind, entry, "Range")


def test_a_geozone_without_restriction_is_skipped_with_a_warning_and_a_bad_one_named():
    geozone = {"identifier": "LSR01", "restriction": "NO_RESTRICTION"}
    found = read_f3548_constraint(_constraint(geozone=geozone), source="c.json")
    assert found.zones == () and "NO_RESTRICTION restricts nothing" in str(found.warnings[0])
    with pytest.raises(FormatError, match=r"c\.json: details\.geozone\.restriction: \"NOPE\" is not one of"):
        read_f3548_constraint(_constraint(geozone={"restriction": "NOPE"}), source="c.json")


def test_a_constraint_volume_may_leave_out_a_limit_an_intent_volume_may_not():
    volume = f3548_volume()
    del volume["volume"]["altitude_upper"]
    (zone,) = read_f3548_constraint({"volumes": [volume], "type": "no_fly"}, default_id="z").zones
    assert zone.volumes[0].altitude.upper_m == math.inf
    assert zone.volumes[0].altitude.reference is AltitudeReference.W84
    with pytest.raises(FormatError, match=r"volumes\[0\]\.volume\.altitude_upper: is required"):
        read_f3548_operation({"volumes": [volume]}, party="p", operation_id="o")


def test_a_constraint_is_not_read_as_an_operation():
    with pytest.raises(FormatError, match="is an F3548 constraint"):
        read_f3548_operation(_constraint(type="no_fly"), party="p")


def test_priority_is_read_and_must_be_an_integer():
    def priority(value: object) -> int | None:
        details = {"volumes": [f3548_volume()], "priority": value}
        return read_f3548_operation(details, party="p", operation_id="o").priority

    assert priority(3) == 3 and priority(None) is None and priority(2.0) == 2
    for bad in ("high", 1.5, True):
        with pytest.raises(FormatError, match="priority: must be an integer"):
            priority(bad)
