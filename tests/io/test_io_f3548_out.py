"""Writing F3548: every document validates against the F3548-21 schemas (tests/f3548_schema.py,
through InterUSS's uas-standards), and reading what was written gives the same volumes."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from io_documents import circles, ids, party_names, polygons, windows

from f3548_schema import UUID4, check_constraint, check_operational_intent
from truceline.domain.activity import Activity
from truceline.domain.operation import Operation, OperationState
from truceline.domain.zone import Zone, ZoneKind
from truceline.errors import FormatError
from truceline.geo.altitude import (
    ISA_QNH_RANGE_HPA,
    PRESSURE_TEMPERATURE_MARGIN,
    AltitudeBand,
    AltitudeModel,
    AltitudeReference,
    pressure_to_amsl_m,
)
from truceline.geo.geoid import GEOID_MARGIN_M, egm96
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.terrain import TERRAIN_MARGIN_M, open_terrain
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.f3548 import read_f3548_constraint, read_f3548_document, read_f3548_operation
from truceline.io.f3548_out import AltitudeNote, constraint, f3548_entity_id, operational_intent

START, END = datetime(2024, 3, 1, 10, tzinfo=UTC), datetime(2024, 3, 1, 11, 30, tzinfo=UTC)
SQUARE = Polygon(((36.6, 35.9), (36.7, 35.9), (36.7, 36.0), (36.6, 36.0), (36.6, 35.9)))


def w84(shape: object = SQUARE, lower: float = 0, upper: float = 120, end: datetime | None = END) -> Volume4D:
    return Volume4D(shape, AltitudeBand(lower, upper, AltitudeReference.W84), TimeWindow(START, end))


def test_an_operation_is_an_operational_intent_that_validates():
    operation = Operation(
        "op-7", "north", Activity.AIR, (w84(), w84(Circle((36.65, 35.95), 750.0), 50, 300)), priority=3
    )
    document = operational_intent(operation, manager="uss.north.example", version=4)
    parsed = check_operational_intent(document)
    reference = parsed.reference
    assert reference.manager == "uss.north.example" and reference.version == 4
    assert reference.state == "Accepted" and UUID4.match(reference.id)
    assert reference.time_start.value == "2024-03-01T10:00:00Z"
    assert reference.time_end.value == "2024-03-01T11:30:00Z"
    assert parsed.details.priority == 3
    polygon, circle = document["details"]["volumes"]
    assert polygon["volume"]["outline_polygon"]["vertices"][0] == {"lng": 36.6, "lat": 35.9}
    assert len(polygon["volume"]["outline_polygon"]["vertices"]) == 4  # left open
    assert circle["volume"]["outline_circle"]["radius"] == {"value": 750.0, "units": "M"}
    assert circle["volume"]["altitude_lower"] == {"value": 50, "reference": "W84", "units": "M"}
    assert circle["time_end"] == {"value": "2024-03-01T11:30:00Z", "format": "RFC3339"}


def test_the_manager_defaults_to_the_party_and_active_is_activated():
    operation = Operation("op-7", "north", Activity.AIR, (w84(),), OperationState.ACTIVE)
    reference = check_operational_intent(operational_intent(operation)).reference
    assert reference.manager == "north" and reference.state == "Activated"
    assert "priority" not in operational_intent(operation)["details"]


def test_ids_a_uuid4_is_kept_any_other_id_is_derived_the_same_each_time():
    kept = "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"
    assert f3548_entity_id(kept) == kept
    derived = f3548_entity_id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")  # a UUIDv7
    assert UUID4.match(derived) and derived == f3548_entity_id("0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b")
    assert f3548_entity_id("op-7") != f3548_entity_id("op-8")


@pytest.mark.parametrize(
    ("operation", "field"),
    [
        (Operation("o", "p", Activity.AIR, (w84(end=None),)), "time_end"),
        (Operation("o", "p", Activity.AIR, (w84(upper=math.inf),)), "altitude_upper"),
        (Operation("o", "p", Activity.AIR, (w84(lower=-math.inf),)), "altitude_lower"),
        (Operation("o", "p", Activity.AIR, (w84(lower=100, upper=100),)), "altitude_upper"),
        (Operation("o", "p", Activity.AIR, (w84(), w84(end=None))), "time_end"),
        (Operation("o", "p", Activity.AIR, (w84(),), OperationState.CANCELLED), "state"),
        (Operation("o", "p", Activity.AIR, (w84(),), OperationState.ENDED), "state"),
    ],
)
def test_what_f3548_cannot_say_is_refused_by_name(operation: Operation, field: str):
    with pytest.raises(FormatError) as info:
        operational_intent(operation)
    assert info.value.field == field and "operation o" in str(info.value)


def test_a_band_not_in_w84_is_refused_without_an_altitude_model():
    amsl = Volume4D(SQUARE, AltitudeBand(0, 120, AltitudeReference.AMSL), TimeWindow(START, END))
    with pytest.raises(FormatError, match=r"operation o: volumes\[1\]: altitude_reference: is AMSL"):
        operational_intent(Operation("o", "p", Activity.AIR, (w84(), amsl)))


def geoid_samples(shape: Polygon | Circle) -> np.ndarray:
    """EGM96 heights on a grid over the shape's box (a circle's: its centre +- the radius)."""
    if isinstance(shape, Circle):
        (lon, lat), r = shape.center, shape.radius_m / 111_500.0  # a degree of latitude is over 110.5 km
        dlon = r / math.cos(math.radians(lat))
        west, south, east, north = lon - dlon, lat - r, lon + dlon, lat + r
    else:
        lons, lats = zip(*shape.ring, strict=True)
        west, south, east, north = min(lons), min(lats), max(lons), max(lats)
    grid = np.meshgrid(np.linspace(west, east, 25), np.linspace(south, north, 25))
    return egm96().height_m(grid[0], grid[1])


@pytest.mark.parametrize("shape", [SQUARE, Circle((36.65, 35.95), 5000.0), Circle((-75.0, 10.0), 20_000.0)])
def test_an_amsl_zone_is_written_in_w84_containing_the_true_volume(shape):
    # W84 = AMSL + N: the floor goes down by the lowest N over the area, the ceiling up by the
    # highest, each past it by the stated margin
    band = AltitudeBand(100.0, 600.0, AltitudeReference.AMSL)
    zone = Zone("z-amsl", ZoneKind.NO_FLY, (Volume4D(shape, band, TimeWindow(START, END)),), party="A")
    notes: list[AltitudeNote] = []
    document = constraint(zone, model=AltitudeModel(), notes=notes)
    check_constraint(document)
    written = document["details"]["volumes"][0]["volume"]
    assert written["altitude_lower"]["reference"] == written["altitude_upper"]["reference"] == "W84"
    heights = geoid_samples(shape)
    lower, upper = written["altitude_lower"]["value"], written["altitude_upper"]["value"]
    assert lower <= 100.0 + heights.min() - GEOID_MARGIN_M + 1e-9
    assert upper >= 600.0 + heights.max() + GEOID_MARGIN_M - 1e-9
    assert upper - lower < 500.0 + 20.0  # widened by the geoid's spread there, not arbitrarily
    (note,) = notes
    assert note.where == "zone z-amsl: volumes[0]" and note.conversion == "EGM96"
    assert "AMSL 100 to 600 m written as W84" in note.message
    # read back: a W84 volume containing the AMSL one wherever it is
    ((back,),) = [z.volumes for z in read_f3548_constraint(document).zones]
    assert back.altitude == AltitudeBand(lower, upper, AltitudeReference.W84)


INNER = Polygon(((36.4, 36.4), (36.5, 36.4), (36.5, 36.5), (36.4, 36.5), (36.4, 36.4)))  # inside N36E036


def flat_terrain(folder: Path, height_m: int) -> Path:
    path = folder / "N36E036.hgt"  # one SRTM tile, flat at height_m
    np.full((121, 121), height_m, dtype=">i2").tofile(path)
    return folder


def test_agl_and_two_reference_bands_convert_through_the_configured_terrain(tmp_path):
    model = AltitudeModel(terrain=open_terrain(flat_terrain(tmp_path, 500)))
    bands = [
        AltitudeBand(50.0, 150.0, AltitudeReference.AGL),
        AltitudeBand(50.0, 1200.0, AltitudeReference.AMSL, AltitudeReference.AGL),  # "AGL/AMSL"
        AltitudeBand(-math.inf, 150.0, AltitudeReference.AGL),  # GND to 150 m AGL: no floor
    ]
    volumes = tuple(Volume4D(INNER, b, TimeWindow(START, END)) for b in bands)
    notes: list[AltitudeNote] = []
    document = constraint(Zone("z-agl", ZoneKind.NO_FLY, volumes, party="A"), model=model, notes=notes)
    check_constraint(document)
    written = [v["volume"] for v in document["details"]["volumes"]]
    n_low, n_high = geoid_samples(INNER).min(), geoid_samples(INNER).max()
    # AGL -> AMSL adds the ground (500 m, less/more its margin), AMSL -> W84 adds N
    assert written[0]["altitude_lower"]["value"] <= 550.0 + n_low - GEOID_MARGIN_M - TERRAIN_MARGIN_M + 1e-9
    assert written[0]["altitude_upper"]["value"] >= 650.0 + n_high + GEOID_MARGIN_M + TERRAIN_MARGIN_M - 1e-9
    assert written[1]["altitude_lower"]["value"] <= 550.0 + n_low - GEOID_MARGIN_M - TERRAIN_MARGIN_M + 1e-9
    assert written[1]["altitude_upper"]["value"] >= 1200.0 + n_high + GEOID_MARGIN_M - 1e-9
    assert "altitude_lower" not in written[2]  # the ground: no lower limit, in any reference
    assert [n.conversion for n in notes] == ["terrain+EGM96", "terrain+EGM96", "terrain+EGM96"]
    assert notes[1].original.reference_text == "AGL/AMSL"


def test_agl_without_a_terrain_model_names_the_zone_and_the_reference():
    band = AltitudeBand(50.0, 1200.0, AltitudeReference.AMSL, AltitudeReference.AGL)
    zone = Zone("z-agl", ZoneKind.NO_FLY, (Volume4D(INNER, band, TimeWindow(START, END)),), party="A")
    with pytest.raises(FormatError) as info:
        constraint(zone, model=AltitudeModel())
    assert info.value.field == "altitude_reference" and info.value.where == "zone z-agl: volumes[0]"
    assert "is AGL/AMSL" in str(info.value) and "TRUCELINE_TERRAIN" in str(info.value)


@pytest.mark.parametrize(("qnh", "name"), [(None, "ISA"), (1030.0, "QNH 1030 hPa")])
def test_flight_levels_convert_through_the_qnh_or_the_standard_atmosphere(qnh, name):
    band = AltitudeBand(-math.inf, 9500 * 0.3048, AltitudeReference.FL)  # GND to FL95
    zone = Zone("z-fl", ZoneKind.NO_FLY, (Volume4D(SQUARE, band, TimeWindow(START, END)),), party="A")
    notes: list[AltitudeNote] = []
    document = constraint(zone, model=AltitudeModel(qnh_hpa=qnh), notes=notes)
    check_constraint(document)
    ceiling = document["details"]["volumes"][0]["volume"]["altitude_upper"]["value"]
    highest_qnh = qnh or ISA_QNH_RANGE_HPA[1]
    amsl = pressure_to_amsl_m(9500 * 0.3048, highest_qnh) * (1 + PRESSURE_TEMPERATURE_MARGIN)
    assert ceiling >= amsl + geoid_samples(SQUARE).max() + GEOID_MARGIN_M - 1e-6
    assert notes[0].conversion == f"{name}+EGM96"


def test_a_zone_is_a_constraint_that_validates_an_unlimited_ceiling_left_out():
    circle = w84(Circle((36.65, 35.95), 900.0))
    zone = Zone("nfz-1", ZoneKind.NO_FLY, (w84(upper=math.inf), circle), party="A")
    document = constraint(zone)
    parsed = check_constraint(document)
    assert parsed.reference.manager == "A" and parsed.details.type == "no_fly"
    first = document["details"]["volumes"][0]["volume"]
    assert "altitude_upper" not in first and first["altitude_lower"]["value"] == 0
    with pytest.raises(FormatError, match=r"zone nfz-1: volumes\[0\]: time_end: is open"):
        constraint(replace(zone, volumes=(w84(end=None),)))


def test_what_is_written_reads_back_as_an_operation():
    volumes = (w84(), w84(Circle((36.65, 35.95), 750.0)))
    operation = Operation("op-7", "north", Activity.AIR, volumes, priority=2)
    document = operational_intent(operation, manager="north")
    read = read_f3548_operation(document)
    assert read.volumes == operation.volumes and read.priority == 2
    assert read.party == "north" and read.id == f3548_entity_id("op-7")
    assert read.state is OperationState.ACCEPTED


@st.composite
def w84_bands(draw: st.DrawFn) -> AltitudeBand:
    lower = draw(st.floats(-500, 10_000))
    return AltitudeBand(lower, lower + draw(st.floats(1, 20_000)), AltitudeReference.W84)


w84_volumes = st.builds(Volume4D, st.one_of(polygons(), circles), w84_bands(), windows(standing=False))


@given(
    ident=ids,
    party=party_names,
    volumes=st.lists(w84_volumes, min_size=1, max_size=4),
    priority=st.one_of(st.none(), st.integers(-(2**31), 2**31)),
    state=st.sampled_from([OperationState.PLANNED, OperationState.ACCEPTED, OperationState.ACTIVE]),
)
def test_round_trip_read_what_is_written_get_the_same_volumes(ident, party, volumes, priority, state):
    operation = Operation(ident, party, Activity.AIR, tuple(volumes), state, priority=priority)
    document = operational_intent(operation)
    check_operational_intent(document)
    read = read_f3548_document(document)
    assert read.volumes == operation.volumes
    assert read.priority == priority and read.manager == party


@st.composite
def open_w84_bands(draw: st.DrawFn) -> AltitudeBand:
    """A constraint's band may leave out either limit (unlimited)."""
    band = draw(w84_bands())
    lower = draw(st.sampled_from([band.lower_m, -math.inf]))
    upper = draw(st.sampled_from([band.upper_m, math.inf]))
    return AltitudeBand(lower, upper, AltitudeReference.W84)


constraint_volumes = st.builds(
    Volume4D, st.one_of(polygons(), circles), open_w84_bands(), windows(standing=False)
)


@given(
    ident=ids,
    party=st.one_of(st.none(), party_names),
    kind=st.sampled_from(ZoneKind),
    volumes=st.lists(constraint_volumes, min_size=1, max_size=4),
)
def test_round_trip_of_a_constraint(ident, party, kind, volumes):
    zone = Zone(ident, kind, tuple(volumes), party=party)
    document = constraint(zone)
    check_constraint(document)
    (read,) = read_f3548_constraint(document).zones
    assert read.volumes == zone.volumes and read.kind is kind
    assert read.party == (party or "operator") and read.id == f3548_entity_id(ident)


@pytest.mark.parametrize(
    "spoil",
    [
        lambda d: d["reference"].update(state="Planned"),  # no such OperationalIntentState
        lambda d: d["reference"].update(id="op-7"),  # not a UUIDv4
        lambda d: d["reference"].pop("uss_base_url"),
        lambda d: d["details"].update(notes="x"),  # no such member
        lambda d: d["details"]["volumes"][0]["volume"]["altitude_lower"].update(reference="AMSL"),
        lambda d: d["details"]["volumes"][0]["time_start"].update(value="2024-03-01T10:00:00+01:00"),
        lambda d: d["details"]["volumes"][0]["volume"]["outline_polygon"]["vertices"].append(
            {"lng": 36.6, "lat": 35.9}  # closed
        ),
    ],
)
def test_the_schema_check_refuses_what_f3548_does_not_allow(spoil):
    document = operational_intent(Operation("op-7", "north", Activity.AIR, (w84(),)))
    spoil(document)
    with pytest.raises((AssertionError, jsonschema.ValidationError)):
        check_operational_intent(document)
