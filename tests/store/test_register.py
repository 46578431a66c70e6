"""The register writes zones and operations through the ledger; projections round-trip
exactly, bad input changes nothing, and a rebuild from the log gives identical tables."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from shared_data import SHARED_DATA
from truceline.cli import app
from truceline.domain.operation import Operation
from truceline.domain.zone import Zone, ZoneRule
from truceline.errors import AltitudeReferenceError, ValidationError
from truceline.geo.altitude import AltitudeBand
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.timewindow import DailyPeriod, Schedule, TimeWindow
from truceline.geo.volume import Volume4D
from truceline.service.importing import import_features, refusals
from truceline.service.register import Register, open_register
from truceline.service.service import Service
from truceline.store import operations as operation_store
from truceline.store import projections
from truceline.store import zones as zone_store

T0 = datetime(2017, 7, 10, tzinfo=UTC)
SCENARIOS = Path(__file__).parents[2] / "src" / "truceline" / "scenarios"
runner = CliRunner()


def state(register: Register) -> tuple[dict, int]:
    with register.engine.connect() as conn:
        return projections.snapshot(conn), register.ledger.size(conn)


floats = st.floats(allow_nan=False, allow_infinity=False)
rings = st.builds(
    lambda lon, lat, dx, dy: Polygon(
        ((lon, lat), (lon + dx, lat), (lon + dx, lat + dy), (lon, lat + dy), (lon, lat))
    ),
    st.floats(35, 42),
    st.floats(32, 37),
    st.floats(1e-3, 0.5),
    st.floats(1e-3, 0.5),
)
circles = st.builds(
    lambda lon, lat, r: Circle((lon, lat), r), st.floats(35, 42), st.floats(32, 37), st.floats(1, 50_000)
)
# ED-269 daily periods: a window may hold a weekly schedule, stored with its volume
schedules = st.sampled_from([
    None,
    Schedule("Europe/Zurich", (DailyPeriod(frozenset(range(5)), time(8), time(18)),)),
    Schedule("+03:00", (DailyPeriod(frozenset({4, 5}), time(22), time(6)),)),
])  # fmt: skip
volumes = st.builds(
    lambda shape, lower, height, start_us, length_us, standing, ref, schedule: Volume4D(
        shape,
        AltitudeBand.of_text(lower, lower + height, ref),
        TimeWindow(
            T0 + timedelta(microseconds=start_us),
            None if standing else T0 + timedelta(microseconds=start_us + length_us),
            schedule,
        ),
    ),
    st.one_of(rings, circles),
    st.floats(-500, 20_000),
    st.floats(0, 10_000),
    st.integers(0, 10**12),
    st.integers(1, 10**11),
    st.booleans(),
    # a band whose limits have their own references is stored as "LOWER/UPPER" (String(8))
    st.sampled_from(["AMSL", "AGL", "W84", "FL", "AGL/AMSL", "AMSL/FL", "AMSL/W84"]),
    schedules,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone_volumes=st.lists(volumes, min_size=1, max_size=3),
    op_volumes=st.lists(volumes, min_size=1, max_size=3),
    restricts=st.sampled_from(["all", "others", ("A", "Ω ünïcode")]),
)
def test_zones_and_operations_round_trip_exactly(
    tmp_path: Path, clock, zone_volumes, op_volumes, restricts
) -> None:
    register = open_register(f"sqlite:///{tmp_path}/rt-{clock.now.timestamp()}.db", clock)
    zone = Zone(
        "z-1", "de_escalation", tuple(zone_volumes), ZoneRule(restricts, "air", "notice"), "A", "Zone ü"
    )
    op = Operation("op-1", "B", "ground", tuple(op_volumes), name="convoy")
    with register.engine.begin() as conn:
        zone_store.save_zone(conn, zone)
        operation_store.save_operation(conn, op)
    assert register.zones() == [zone]
    assert register.operations() == [op]


def read_scenario() -> tuple[list[Zone], list[Operation]]:
    from truceline.cli import read_files

    read = read_files([SCENARIOS / "syria-2017-zones.geojson", SCENARIOS / "syria-2017-operations.geojson"])
    return list(read.zones), list(read.operations)


def exercise(register: Register) -> None:
    """Import the demo scenario, then check that bad input changes nothing and that a
    rebuild from the log reproduces the projections exactly."""
    zones, operations = read_scenario()
    register.register_party("Russian Federation", "party", "ru")
    service = Service(register)
    result = import_features(service, zones, operations)
    # As on a server: the operations inside a forbidden zone that binds them are refused.
    refused = {r.operation.id for r in result.refused}
    assert refused == {"op-ru-patrol-idlib", "op-sy-move-ghouta", "op-tr-drone-latakia"}
    assert result.zones == len(zones) and result.operations == len(operations) - len(refused)
    assert len(result.conflicts) == len(register.conflicts()) > 0
    assert register.zones() == sorted(zones, key=lambda z: z.id)
    assert {o.id for o in register.operations()} == {o.id for o in operations} - refused
    assert {r.operation.id for r in refusals(service)} == refused
    before = state(register)

    # A duplicate id (a refused operation's too), then an incomparable altitude reference:
    # refused, nothing written.
    with pytest.raises(ValidationError, match="already stored"):
        import_features(service, [zones[0]], [])
    with pytest.raises(ValidationError, match="already stored"):
        import_features(service, [], [next(o for o in operations if o.id == "op-ru-patrol-idlib")])
    agl = Operation(
        "op-agl",
        "Turkey",
        "air",
        (Volume4D(zones[0].volumes[0].shape, AltitudeBand(0, 100, "AGL"), zones[0].volumes[0].time),),
    )
    with pytest.raises(AltitudeReferenceError):
        import_features(service, [], [agl])
    with pytest.raises(ValidationError, match="already registered"):
        register.register_party("Russian Federation")
    assert state(register) == before

    assert register.rebuild() == before[1]
    assert state(register) == before


@pytest.mark.postgres
def test_a_band_with_two_references_round_trips_on_postgresql(
    postgres_url: str, tmp_path: Path, clock, monkeypatch
) -> None:
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys"))
    register = open_register(postgres_url, clock)
    try:
        band = AltitudeBand(50.0, 800.0, "AMSL", "AGL")
        zone = Zone("z-mixed", "no_fly", (Volume4D(Circle((36.0, 35.0), 900.0), band, TimeWindow(T0, None)),),
                    ZoneRule("all", "air", "forbidden"))  # fmt: skip
        with register.engine.begin() as conn:
            zone_store.save_zone(conn, zone)
        assert [z for z in register.zones() if z.id == "z-mixed"] == [zone]
    finally:
        register.engine.dispose()


def test_import_and_rebuild_on_sqlite(tmp_path: Path, clock) -> None:
    exercise(open_register(f"sqlite:///{tmp_path}/t.db", clock))


@pytest.mark.postgres
def test_import_and_rebuild_on_postgresql(postgres_url: str, tmp_path: Path, clock, monkeypatch) -> None:
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys"))
    register = open_register(postgres_url, clock)
    try:
        exercise(register)
    finally:
        register.engine.dispose()


def test_demo_runs_twice_and_writes_its_report(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    first = runner.invoke(app, ["demo"])
    assert first.exit_code == 0, first.output
    assert "forbidden" in first.stdout and "op-ru-patrol-idlib" in first.stdout
    # Its zones are imported, binding every party they restrict: three operations refused.
    assert "3 operations refused" in first.stdout
    report = json.loads((tmp_path / "demo-report.geojson").read_text())
    pairs = {(f["properties"]["a"], f["properties"]["b"]): f["properties"] for f in report["features"]}
    assert pairs[("op-ru-patrol-idlib", "dez-1-idlib")]["refused"] is True
    assert pairs[("op-ru-convoy-tanf", "dcz-al-tanf")]["refused"] is False
    assert ("op-us-isr-east", "op-ru-isr-west") not in pairs  # they only touch along the river
    assert all(f["geometry"]["type"] in ("Polygon", "MultiPolygon") for f in report["features"])
    second = runner.invoke(app, ["demo"])
    assert second.exit_code == 0
    assert "already in this database" in second.stdout and "3 operations refused" in second.stdout
    assert (tmp_path / "truceline-data" / "truceline.db").exists()


def test_import_command_refuses_bad_files_and_keeps_the_store(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    good = runner.invoke(app, ["import", str(SCENARIOS / "syria-2017-zones.geojson"), "--db", db])
    assert good.exit_code == 0, good.output
    assert "Imported 9 zones" in good.stdout
    bad = tmp_path / "bad.geojson"
    feature = {
        "type": "Feature",
        "id": "bad-op",
        "geometry": {"type": "Polygon", "coordinates": [[[36, 33], [37, 33], [37, 34], [36, 34]]]},
        "properties": {
            "party": "A",
            "activity": "air",
            "altitude_lower_m": 0,
            "altitude_upper_m": 10,
            "time_start": "2017-07-10T08:00:00Z",
            "time_end": "2017-07-10T09:00:00Z",
        },
    }
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    ops_file = SCENARIOS / "syria-2017-operations.geojson"
    refused = runner.invoke(app, ["import", str(ops_file), str(bad), "--db", db])
    assert refused.exit_code == 2
    assert "bad.geojson" in refused.stderr and "bad-op" in refused.stderr
    register = open_register(f"sqlite:///{db}", lambda: T0)
    assert register.operations() == []
    assert len(register.zones()) == 9


def test_real_ed269_sample_imports_with_its_unlimited_upper_limit(tmp_path: Path) -> None:
    from truceline.io.ed269 import read_ed269

    sample = SHARED_DATA / "zones" / "cis_source_sample_ed269.json"
    db = str(tmp_path / "ed269.db")
    result = runner.invoke(app, ["import", str(sample), "--db", db])
    assert result.exit_code == 0, result.output
    register = open_register(f"sqlite:///{db}", lambda: T0)
    [zone] = register.zones()
    assert zone == read_ed269(sample).zones[0]
    assert zone.volumes[0].altitude.upper_m == float("inf")
    # Its band runs from the ground (0 m AGL) with no upper limit: it meets an AMSL plan with no
    # terrain model (nothing flies below the surface), and no conversion is needed.
    plan = tmp_path / "plan.geojson"
    lon, lat = zone.volumes[0].shape.ring[0]
    feature = {
        "type": "Feature",
        "id": "p",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {
            "radius_m": 500,
            "party": "A",
            "activity": "air",
            "altitude_lower_m": 0,
            "altitude_upper_m": 100,
            "time_start": "2024-01-01T00:00:00Z",
            "time_end": "2024-01-01T01:00:00Z",
        },
    }
    plan.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    checked = runner.invoke(app, ["check", "--zones", str(sample), "--plans", str(plan), "--format", "json"])
    assert checked.exit_code == 1, checked.stderr
    [conflict] = json.loads(checked.stdout)["conflicts"]
    assert conflict["altitude_reference"] == "AMSL" and conflict["altitude_conversion"] is None
    feature["properties"]["altitude_reference"] = "AGL"
    plan.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    checked = runner.invoke(app, ["check", "--zones", str(sample), "--plans", str(plan), "--format", "json"])
    assert checked.exit_code == 1
    answer = json.loads(checked.stdout)
    [conflict] = answer["conflicts"]
    assert answer["warnings"] == []  # the real sample's daily periods are empty: nothing to say
    assert conflict["b"] == "LSXX" and conflict["altitude_upper_m"] == 100 and conflict["entry"] == "notice"


def _features_file(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _op_feature(op_id: str, party: str, west: float, south: float) -> dict:
    ring = [[west, south], [west + 0.1, south], [west + 0.1, south + 0.1], [west, south + 0.1], [west, south]]
    return {
        "type": "Feature",
        "id": op_id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "party": party,
            "activity": "air",
            "altitude_lower_m": 1000,
            "altitude_upper_m": 3000,
            "altitude_reference": "AMSL",
            "time_start": "2017-07-10T08:00:00Z",
            "time_end": "2017-07-10T09:00:00Z",
        },
    }


def test_import_refuses_what_the_server_would_refuse(tmp_path: Path) -> None:
    """An operation inside an imported forbidden zone that restricts its party is refused,
    as a filing would be: recorded as refused, not stored; exit 1."""
    db = str(tmp_path / "refuse.db")
    zones_file = SCENARIOS / "syria-2017-zones.geojson"
    assert runner.invoke(app, ["import", str(zones_file), "--db", db]).exit_code == 0
    # Inside Hmeimim's no-fly zone (restricts every party but Russia's) and outside it.
    plans = _features_file(
        tmp_path / "plans.geojson",
        [_op_feature("op-tr-in", "Turkey", 35.9, 35.35), _op_feature("op-tr-out", "Turkey", 39.0, 36.5)],
    )
    result = runner.invoke(app, ["import", str(plans), "--db", db])
    assert result.exit_code == 1, result.output
    assert "1 operations refused" in result.stdout and "nfz-hmeimim" in result.stdout
    register = open_register(f"sqlite:///{db}", lambda: T0)
    assert [o.id for o in register.operations()] == ["op-tr-out"]
    with register.engine.connect() as conn:
        types = [e.type for e in register.ledger.entries(conn)]
    assert types.count("operation.refused") == 1 and types.count("operation.filed") == 1
    # The refused id stays taken, as on a server.
    again = runner.invoke(app, ["import", str(plans), "--db", db])
    assert again.exit_code == 2 and "already stored" in again.stderr


def test_import_meets_a_negotiated_zone_as_a_filing_does(tmp_path: Path, clock) -> None:
    """A negotiated zone binds its signatories only, for an imported operation too."""
    from truceline.service import negotiation
    from truceline.service.auth import principal_for_token
    from truceline.service.parties import add_party

    db = tmp_path / "negotiated.db"
    service = Service(open_register(f"sqlite:///{db}", clock))
    people = {}
    for name in ("A", "B", "C"):
        token = add_party(service, name, "party", "en").token
        with service.read() as conn:
            people[name] = principal_for_token(conn, token)
    # A's zone restricts every other party; A and B sign it, C does not.
    document = {"type": "FeatureCollection", "features": [_op_feature("z", "A", 36.0, 35.0)]}
    document["features"][0]["properties"] = {
        "kind": "deconfliction", "party": "A", "restricts": "others", "activity": "any",
        "entry": "forbidden", "altitude_lower_m": 0, "altitude_upper_m": 10000,
        "altitude_reference": "AMSL", "time_start": "2017-07-10T00:00:00Z", "time_end": None,
    }  # fmt: skip
    document["features"][0]["geometry"]["coordinates"] = [
        [[36.0, 35.0], [36.5, 35.0], [36.5, 35.5], [36.0, 35.5], [36.0, 35.0]]
    ]
    proposal = negotiation.propose(service, people["A"], document, ["B"])
    for name in ("A", "B"):
        negotiation.sign(service, people[name], "z", 1, proposal.hash)
    service.engine.dispose()

    inside = [_op_feature("op-b", "B", 36.1, 35.1), _op_feature("op-c", "C", 36.2, 35.2)]
    plans = _features_file(tmp_path / "plans.geojson", inside)
    result = runner.invoke(app, ["import", str(plans), "--db", str(db)])
    assert result.exit_code == 1, result.output  # op-b: B signed z, so z binds it
    register = open_register(f"sqlite:///{db}", clock)
    assert [o.id for o in register.operations()] == ["op-c"]
    kinds = {(c["kind"], c["a"], c["b"]) for c in register.conflicts()}
    assert ("declared_zone", "op-c", "z") in kinds


def test_zones_imported_after_operations_record_their_conflicts(tmp_path: Path, clock) -> None:
    """A zone imported over live operations does not refuse them after the fact: its
    conflicts with them are recorded (and told), as when a negotiated zone comes into force."""
    zones, operations = read_scenario()
    service = Service(open_register(f"sqlite:///{tmp_path}/later.db", clock))
    drone = next(o for o in operations if o.id == "op-tr-drone-latakia")
    assert import_features(service, [], [drone]).conflicts == []
    result = import_features(service, zones, [])
    assert [(c["kind"], c["a"], c["b"], c["entry"]) for c in result.conflicts] == [
        ("zone", "op-tr-drone-latakia", "nfz-hmeimim", "forbidden")
    ]
    recorded = [(c["a"], c["b"]) for c in service.register.conflicts()]
    assert recorded == [("op-tr-drone-latakia", "nfz-hmeimim")]
    assert [o.id for o in service.register.operations()] == ["op-tr-drone-latakia"]
    service.engine.dispose()


def test_an_import_naming_an_id_twice_writes_nothing(tmp_path: Path, clock) -> None:
    zones, operations = read_scenario()
    service = Service(open_register(f"sqlite:///{tmp_path}/twice.db", clock))
    with pytest.raises(ValidationError, match="appears twice"):
        import_features(service, [], [operations[0], operations[0]])
    with pytest.raises(ValidationError, match="appears twice"):
        import_features(service, [zones[0], zones[0]], [])
    assert state(service.register)[1] == 0
    service.engine.dispose()
