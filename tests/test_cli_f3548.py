"""`truceline check --format f3548` and F3548 files in `check` / `import`: the output
validates against the F3548 schemas (tests/f3548_schema.py), documents without a manager
take `--party`, a USS manager name maps to its party by the `uss_manager` alias, constraints
read as zones, and what `check` writes can be checked again with the same verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from f3548_schema import check_constraint, check_operational_intent, volume4d
from truceline.cli import app
from truceline.domain.clock import utc_now
from truceline.service.register import open_register

runner = CliRunner()


def zone_file(tmp_path: Path, reference: str = "W84", end: str | None = "2017-07-11T00:00:00Z") -> Path:
    ring = [[36.0, 35.0], [36.5, 35.0], [36.5, 35.5], [36.0, 35.5], [36.0, 35.0]]
    properties = {
        "kind": "no_fly",
        "restricts": "all",
        "activity": "any",
        "entry": "forbidden",
        "altitude_lower_m": 0,
        "altitude_upper_m": 5000,
        "altitude_reference": reference,
        "time_start": "2017-07-10T00:00:00Z",
        "time_end": end,
        "party": "G",
    }
    geometry = {"type": "Polygon", "coordinates": [ring]}
    feature = {"type": "Feature", "id": f"nfz-{reference}", "geometry": geometry, "properties": properties}
    path = tmp_path / f"zones-{reference}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def write(tmp_path: Path, name: str, document: Any) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def check(*args: str) -> Any:
    return runner.invoke(app, ["check", *args])


def test_check_format_f3548_validates_against_the_f3548_schemas(tmp_path: Path):
    plan = write(tmp_path, "op-a.json", {"volumes": [volume4d(36.1, 35.1, 36.2, 35.2)], "priority": 4})
    other = write(tmp_path, "op-b.json", [volume4d(36.15, 35.15, 36.25, 35.25)])
    result = check(
        "--zones", str(zone_file(tmp_path)), "--plans", str(plan), "--plans", str(other),
        "--party", "A", "--format", "f3548",
    )  # fmt: skip
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    intents = [check_operational_intent(d) for d in report["operational_intents"]]
    assert [i.reference.manager for i in intents] == ["A", "A"]
    assert [i.details.get("priority") for i in intents] == [4, None]
    [constraint] = [check_constraint(d) for d in report["constraints"]]
    assert constraint.reference.manager == "G" and constraint.details.type == "no_fly"
    kinds = sorted((c["kind"], c["a"], c["b"]) for c in report["conflicts"])
    assert kinds == [("zone", "op-a", "nfz-W84"), ("zone", "op-b", "nfz-W84")]  # one party: no op pair
    assert report["warnings"] == []


def test_zones_f3548_cannot_express_are_left_out_with_a_warning(tmp_path: Path):
    plan = write(tmp_path, "op-a.json", {"volumes": [volume4d(37.1, 36.1, 37.2, 36.2)]})
    zones = zone_file(tmp_path, end=None)  # a standing zone: F3548 needs an end time
    result = check("--zones", str(zones), "--plans", str(plan), "--party", "A", "--format", "f3548")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["constraints"] == []
    [warning] = report["warnings"]
    assert (warning["where"], warning["field"]) == ("zone nfz-W84: volumes[0]", "time_end")
    assert "zone nfz-W84: volumes[0]: time_end: is open" in result.stderr


def test_a_plan_f3548_cannot_express_is_one_line_and_exit_2(tmp_path: Path):
    plan = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "op-agl",
                "geometry": {"type": "Point", "coordinates": [36.65, 35.95]},
                "properties": {
                    "party": "A", "activity": "air", "radius_m": 500, "altitude_lower_m": 0,
                    "altitude_upper_m": 100, "altitude_reference": "AGL",
                    "time_start": "2017-07-10T08:00:00Z", "time_end": "2017-07-10T09:00:00Z",
                },
            }
        ],
    }
    result = check("--plans", str(write(tmp_path, "plan.geojson", plan)), "--format", "f3548")
    assert result.exit_code == 2
    line = result.stderr.strip()
    # AGL needs the terrain model, and none is configured
    assert "\n" not in line and "operation op-agl: volumes[0]: altitude_reference: is AGL" in line
    assert "TRUCELINE_TERRAIN" in line


def test_an_amsl_zone_is_written_as_a_w84_constraint_with_a_warning(tmp_path: Path):
    plan = write(tmp_path, "op-a.json", {"volumes": [volume4d(37.1, 36.1, 37.2, 36.2)]})
    result = check("--zones", str(zone_file(tmp_path, "AMSL")), "--plans", str(plan), "--party", "A",
                   "--format", "f3548")  # fmt: skip
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert len([check_constraint(d) for d in report["constraints"]]) == 1
    volume = report["constraints"][0]["details"]["volumes"][0]["volume"]
    # 0 to 5000 m AMSL where the geoid is some +20 to +30 m: widened outward in W84
    assert volume["altitude_lower"]["reference"] == "W84" and 15 < volume["altitude_lower"]["value"] < 35
    assert 5015 < volume["altitude_upper"]["value"] < 5035
    [warning] = report["warnings"]
    assert (warning["where"], warning["field"]) == ("zone nfz-AMSL: volumes[0]", "altitude_reference")
    assert "through EGM96" in warning["message"] and "through EGM96" in result.stderr


def test_a_document_without_manager_needs_party_and_a_manager_must_agree_with_it(tmp_path: Path):
    bare = write(tmp_path, "bare.json", [volume4d(36.1, 35.1, 36.2, 35.2)])
    result = check("--plans", str(bare))
    assert result.exit_code == 2 and "--party" in result.stderr, result.output
    assert check("--plans", str(bare), "--party", "A").exit_code == 0
    volumes = [volume4d(36, 35, 36.1, 35.1)]
    document = {"reference": {"id": "op-m", "manager": "uss.b"}, "details": {"volumes": volumes}}
    managed = write(tmp_path, "managed.json", document)
    result = check("--plans", str(managed), "--party", "A")
    assert result.exit_code == 2 and "reference.manager" in result.stderr and "'uss.b'" in result.stderr


def test_what_check_writes_checks_again_with_the_same_verdict(tmp_path: Path):
    zones = zone_file(tmp_path)
    plan = write(tmp_path, "op-a.json", {"volumes": [volume4d(36.1, 35.1, 36.2, 35.2)]})
    first = check("--zones", str(zones), "--plans", str(plan), "--party", "A", "--format", "f3548")
    [intent] = json.loads(first.stdout)["operational_intents"]
    [constraint] = json.loads(first.stdout)["constraints"]
    again = check(
        "--zones", str(write(tmp_path, "constraint.json", constraint)),
        "--plans", str(write(tmp_path, "intent.json", intent)), "--format", "json",
    )  # fmt: skip
    assert again.exit_code == 1, again.output
    [conflict] = json.loads(again.stdout)["conflicts"]
    assert conflict["a"] == intent["reference"]["id"] and conflict["b"] == constraint["reference"]["id"]
    assert conflict["a_party"] == "A" and conflict["b_party"] == "G"


def test_constraints_with_a_geozone_read_as_zones(tmp_path: Path):
    geozone = {"identifier": "LSR01", "country": "CHE", "zone_authority": [], "name": "Range",
               "type": "COMMON", "restriction": "PROHIBITED"}  # fmt: skip
    response = {"constraint": {
        "reference": {"id": "5f0c2a36-2a7e-4d1b-9c55-8a3f2b1f9e10", "manager": "uss.authority"},
        "details": {"volumes": [volume4d(36.0, 35.0, 36.5, 35.5, 0, 2000)], "geozone": geozone},
    }}  # fmt: skip
    zones = write(tmp_path, "constraint.json", response)
    plan = write(tmp_path, "op-a.json", {"volumes": [volume4d(36.1, 35.1, 36.2, 35.2)]})
    result = check("--zones", str(zones), "--plans", str(plan), "--party", "A", "--format", "json")
    assert result.exit_code == 1, result.output
    [conflict] = json.loads(result.stdout)["conflicts"]
    assert (conflict["b"], conflict["b_party"], conflict["entry"]) == (
        "5f0c2a36-2a7e-4d1b-9c55-8a3f2b1f9e10", "uss.authority", "forbidden"
    )
    geozone["restriction"] = "NO_RESTRICTION"
    zones.write_text(json.dumps(response))
    result = check("--zones", str(zones), "--plans", str(plan), "--party", "A", "--format", "json")
    assert result.exit_code == 0 and "NO_RESTRICTION restricts nothing" in result.stderr
    # a constraint given as a plan is read as a zone, not as an operation
    geozone["restriction"] = "PROHIBITED"
    zones.write_text(json.dumps(response))
    result = check("--plans", str(zones), "--party", "A")
    assert result.exit_code == 2 and "only operations" in result.stderr, result.output


def test_import_maps_a_uss_manager_to_its_party_by_the_alias(tmp_path: Path):
    db = str(tmp_path / "t.db")
    added = runner.invoke(app, ["party", "add", "North", "--uss-manager", "uss.north.example", "--db", db])
    assert added.exit_code == 0, added.output
    intent = {"reference": {"id": "op-n", "manager": "uss.north.example"},
              "details": {"volumes": [volume4d(36.1, 35.1, 36.2, 35.2)], "priority": 9}}  # fmt: skip
    bare = [volume4d(37.1, 36.1, 37.2, 36.2)]
    files = [str(write(tmp_path, "op-n.json", intent)), str(write(tmp_path, "op-bare.json", bare))]
    result = runner.invoke(app, ["import", *files, "--party", "North", "--db", db])
    assert result.exit_code == 0, result.output
    register = open_register(f"sqlite:///{db}", utc_now)
    try:
        stored = {o.id: (o.party, o.priority) for o in register.operations()}
    finally:
        register.engine.dispose()
    assert stored == {"op-n": ("North", 9), "op-bare": ("North", None)}
