"""`truceline check` end to end: exit codes, JSON contract, hand-made edge cases, and
agreement with a brute-force reference on random files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Geod
from typer.testing import CliRunner

from truceline.cli import app
from truceline.geo.volume import overlap
from truceline.io.geojson import read_geojson

runner = CliRunner()
GEOD = Geod(ellps="WGS84")


def feature(fid: str, geometry: dict, **props: Any) -> dict:
    base = {
        "altitude_lower_m": 0,
        "altitude_upper_m": 1000,
        "time_start": "2017-07-10T08:00:00Z",
        "time_end": "2017-07-10T10:00:00Z",
        "party": "A",
    }
    base.update(props)
    base = {k: v for k, v in base.items() if v is not ...}
    return {"type": "Feature", "id": fid, "geometry": geometry, "properties": base}


def zone(fid: str, geometry: dict, **props: Any) -> dict:
    defaults = {"kind": "no_fly", "restricts": "all", "activity": "any", "entry": "forbidden"}
    return feature(fid, geometry, **{**defaults, **props})


def plan(fid: str, geometry: dict, **props: Any) -> dict:
    return feature(fid, geometry, **{"activity": "air", "party": "B", **props})


def box(lon0: float, lat0: float, lon1: float, lat1: float) -> dict:
    ring = [[lon0, lat0], [lon1, lat0], [lon1, lat1], [lon0, lat1], [lon0, lat0]]
    return {"type": "Polygon", "coordinates": [ring]}


def point(lon: float, lat: float) -> dict:
    return {"type": "Point", "coordinates": [lon, lat]}


def write(path: Path, features: list[dict]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def run_check(tmp_path: Path, zones: list[dict], plans: list[dict]) -> tuple[int, Any, str]:
    zfile = write(tmp_path / "zones.geojson", zones)
    pfile = write(tmp_path / "plans.geojson", plans)
    result = runner.invoke(app, ["check", "--zones", str(zfile), "--plans", str(pfile), "--format", "json"])
    answer = json.loads(result.stdout) if result.exit_code in (0, 1) else None
    if answer is not None:
        assert answer["warnings"] == []  # GeoJSON profile files have nothing to warn of
    return result.exit_code, answer and answer["conflicts"], result.stderr


def test_conflicts_follow_the_json_contract(tmp_path: Path) -> None:
    code, data, _ = run_check(
        tmp_path,
        [zone("z1", box(36.0, 33.0, 36.5, 33.5), altitude_upper_m=5000)],
        [plan("p1", box(36.4, 33.4, 36.6, 33.6), altitude_lower_m=500, time_start="2017-07-10T09:00:00Z")],
    )
    assert code == 1
    [conflict] = data
    assert conflict["kind"] == "zone" and (conflict["a"], conflict["b"]) == ("p1", "z1")
    assert conflict["entry"] == "forbidden"
    assert conflict["time_start"] == "2017-07-10T09:00:00Z"
    assert conflict["time_end"] == "2017-07-10T10:00:00Z"
    assert (conflict["altitude_lower_m"], conflict["altitude_upper_m"]) == (500, 1000)
    # About 0.1 x 0.1 degree at 33.45 N: 9.3 km x 11.1 km.
    assert 95e6 < conflict["area_m2"] < 110e6


def test_no_conflict_exits_zero(tmp_path: Path) -> None:
    code, data, _ = run_check(
        tmp_path, [zone("z", box(36, 33, 36.1, 33.1))], [plan("p", box(37, 33, 37.1, 33.1))]
    )
    assert (code, data) == (0, [])


def test_touching_edges_do_not_conflict(tmp_path: Path) -> None:
    code, data, _ = run_check(
        tmp_path, [zone("z", box(36.0, 33.0, 36.5, 33.5))], [plan("p", box(36.5, 33.0, 37.0, 33.5))]
    )
    assert (code, data) == (0, [])


def test_touching_corner_does_not_conflict(tmp_path: Path) -> None:
    code, _, _ = run_check(
        tmp_path, [zone("z", box(36.0, 33.0, 36.5, 33.5))], [plan("p", box(36.5, 33.5, 37, 34))]
    )
    assert code == 0


def test_nested_zones_both_conflict(tmp_path: Path) -> None:
    code, data, _ = run_check(
        tmp_path,
        [zone("outer", box(36.0, 33.0, 37.0, 34.0)), zone("inner", box(36.4, 33.4, 36.6, 33.6))],
        [plan("p", box(36.45, 33.45, 36.55, 33.55))],
    )
    assert code == 1
    assert sorted(c["b"] for c in data) == ["inner", "outer"]
    # The plan lies inside both: the overlap is the plan's own area each time.
    assert data[0]["area_m2"] == pytest.approx(data[1]["area_m2"], rel=1e-6)


@pytest.mark.parametrize("radius_m", [500.0, 55_000.0])
@pytest.mark.parametrize(("offset_m", "expected"), [(-0.01, 1), (0.01, 0)])
def test_circle_against_polygon_near_the_circle_edge(
    tmp_path: Path, radius_m: float, offset_m: float, expected: int
) -> None:
    """A square whose nearest corner lies 1 cm inside (conflict) or outside (none) the circle."""
    lon0, lat0 = 38.633, 33.5
    lon, lat, _ = GEOD.fwd(lon0, lat0, 60.0, radius_m + offset_m)
    # The square extends away from the centre (north-east), its corner at (lon, lat).
    far_lon, far_lat, _ = GEOD.fwd(lon, lat, 60.0, 2000.0)
    ring = [[lon, lat], [far_lon, lat], [far_lon, far_lat], [lon, far_lat], [lon, lat]]
    code, _, _ = run_check(
        tmp_path,
        [zone("circle", point(lon0, lat0), radius_m=radius_m)],
        [plan("p", {"type": "Polygon", "coordinates": [ring]})],
    )
    assert code == expected


def test_altitude_bands_sharing_only_a_boundary_do_not_conflict(tmp_path: Path) -> None:
    code, _, _ = run_check(
        tmp_path,
        [zone("z", box(36, 33, 37, 34), altitude_lower_m=0, altitude_upper_m=3000)],
        [plan("p", box(36, 33, 37, 34), altitude_lower_m=3000, altitude_upper_m=6000)],
    )
    assert code == 0


def test_time_windows_meeting_end_to_start_do_not_conflict(tmp_path: Path) -> None:
    code, _, _ = run_check(
        tmp_path,
        [zone("z", box(36, 33, 37, 34), time_end="2017-07-10T10:00:00Z")],
        [plan("p", box(36, 33, 37, 34), time_start="2017-07-10T10:00:00Z", time_end="2017-07-10T11:00:00Z")],
    )
    assert code == 0


def test_feet_and_metres_compare_after_conversion(tmp_path: Path) -> None:
    # 1000 ft = 304.8 m: a plan from 300 m overlaps, one from 305 m does not.
    zones = [
        zone(
            "z",
            box(36, 33, 37, 34),
            altitude_lower_m=...,
            altitude_upper_m=...,
            altitude_lower_ft=0,
            altitude_upper_ft=1000,
        )
    ]
    low = plan("low", box(36, 33, 37, 34), altitude_lower_m=300, altitude_upper_m=400)
    high = plan("high", box(36, 33, 37, 34), altitude_lower_m=305, altitude_upper_m=400, party="C")
    code, data, _ = run_check(tmp_path, zones, [low, high])
    assert code == 1
    zone_hits = [c for c in data if c["kind"] == "zone"]
    assert [c["a"] for c in zone_hits] == ["low"]
    assert zone_hits[0]["altitude_upper_m"] == pytest.approx(304.8)


def test_agl_without_a_terrain_model_is_an_error_naming_file_zone_and_references(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRUCELINE_TERRAIN", raising=False)
    code, _, stderr = run_check(
        tmp_path,
        [zone("z", box(36, 33, 37, 34), altitude_reference="AGL")],
        [plan("p", box(36, 33, 37, 34), altitude_reference="AMSL")],
    )
    assert code == 2
    assert "zones.geojson: zone 'z'" in stderr
    assert "an altitude in AGL with one in AMSL" in stderr and "TRUCELINE_TERRAIN" in stderr


@pytest.mark.parametrize(
    ("geometry", "props", "needle"),
    [
        ({"type": "Polygon", "coordinates": [[[36, 33], [37, 33], [37, 34], [36, 34]]]}, {}, "clos"),
        (
            {"type": "Polygon", "coordinates": [[[36, 33], [37, 34], [37, 33], [36, 34], [36, 33]]]},
            {},
            "intersect",
        ),
        (box(36, 33, 37, 95), {}, "lat"),
        (box(36, 33, 37, 34), {"altitude_lower_m": 500, "altitude_upper_m": 100}, "altitude_lower"),
        (box(36, 33, 37, 34), {"time_start": "2017-07-10T11:00:00Z"}, "time_start"),
        (box(36, 33, 37, 34), {"time_start": "2017-07-10T08:00:00"}, "time_start"),
        (
            {
                "type": "Polygon",
                "coordinates": [[[179.5, 10], [-179.5, 10], [-179.5, 11], [179.5, 11], [179.5, 10]]],
            },
            {},
            "antimeridian",
        ),
    ],
)
def test_bad_plans_exit_2_with_one_clear_line(
    tmp_path: Path, geometry: dict, props: dict, needle: str
) -> None:
    code, _, stderr = run_check(tmp_path, [], [plan("bad-plan", geometry, **props)])
    assert code == 2
    line = stderr.strip()
    assert "\n" not in line
    assert "plans.geojson" in line and "bad-plan" in line
    assert needle in line.lower()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", "--plans", str(tmp_path / "nope.geojson")])
    assert result.exit_code == 2
    assert "nope.geojson" in result.stderr


# --- agreement with a brute-force reference ------------------------------------------------

coords = st.tuples(st.floats(36.0, 36.6), st.floats(33.0, 33.6))


@st.composite
def geometries(draw: st.DrawFn) -> tuple[dict, dict]:
    lon, lat = draw(coords)
    if draw(st.booleans()):
        return point(lon, lat), {"radius_m": draw(st.sampled_from([1000.0, 8000.0, 20000.0]))}
    size = draw(st.sampled_from([0.02, 0.1, 0.25]))
    return box(lon, lat, lon + size, lat + size), {}


@st.composite
def files(draw: st.DrawFn) -> tuple[list[dict], list[dict]]:
    def common() -> dict:
        start = draw(st.integers(6, 12))
        lower = draw(st.sampled_from([0, 1000, 2000]))
        return {
            "altitude_lower_m": lower,
            "altitude_upper_m": lower + draw(st.sampled_from([500, 1000, 3000])),
            "time_start": f"2017-07-10T{start:02d}:00:00Z",
            "time_end": f"2017-07-10T{start + draw(st.integers(1, 4)):02d}:00:00Z",
            "party": draw(st.sampled_from(["A", "B", "C"])),
        }

    zones = []
    for i in range(draw(st.integers(0, 3))):
        geometry, extra = draw(geometries())
        zones.append(
            zone(
                f"z{i}",
                geometry,
                **common(),
                **extra,
                restricts=draw(st.sampled_from(["all", "others", ["B"]])),
                activity=draw(st.sampled_from(["air", "ground", "any"])),
            )
        )
    plans = []
    for i in range(draw(st.integers(1, 6))):
        geometry, extra = draw(geometries())
        plans.append(
            plan(f"p{i}", geometry, **common(), **extra, activity=draw(st.sampled_from(["air", "ground"])))
        )
    return zones, plans


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files())
def test_check_agrees_with_brute_force(tmp_path: Path, scenario: tuple[list[dict], list[dict]]) -> None:
    zone_features, plan_features = scenario
    code, data, stderr = run_check(tmp_path, zone_features, plan_features)
    assert code in (0, 1), stderr
    zones = read_geojson({"type": "FeatureCollection", "features": zone_features}).zones
    ops = read_geojson({"type": "FeatureCollection", "features": plan_features}).operations
    expected = set()
    for op in ops:
        for z in zones:
            if z.rule.applies_to(z.party, op.party, op.activity) and overlap(op.volumes[0], z.volumes[0]):
                expected.add(("zone", op.id, z.id))
        for other in ops:
            if op.id < other.id and op.party != other.party and overlap(op.volumes[0], other.volumes[0]):
                expected.add(("operation", op.id, other.id))
    assert {(c["kind"], c["a"], c["b"]) for c in data} == expected
    assert code == (1 if expected else 0)
