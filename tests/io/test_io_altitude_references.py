"""Real plans against real zones: F3548 plans in W84 against ED-269 zones in AMSL or AGL,
starting from the Swiss ED-269 sample in shared/data (the InterUSS test suite's), read as
published (each limit with its own reference) and checked through `truceline check`.

The conflict cases follow InterUSS's flight-intent checks (a plan inside, above, below,
beside and after a zone), with the plans in W84 as F3548 writes them and the zones in AMSL as
ED-269 authorities publish them. Near Geneva the EGM96 geoid is 49.7..49.9 m above the
ellipsoid, so a plan whose W84 numbers clear an AMSL limit by less than that still meets it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shared_data import SHARED_DATA
from truceline.cli import app
from truceline.engines.strategic import conflict_record, find_conflicts
from truceline.errors import AltitudeReferenceError
from truceline.geo.altitude import AltitudeModel, AltitudeReference
from truceline.geo.geoid import egm96
from truceline.geo.terrain import open_terrain
from truceline.io.ed269 import read_ed269
from truceline.io.f3548 import read_f3548_operation

SWISS = SHARED_DATA / "zones" / "cis_source_sample_ed269.json"
runner = CliRunner()
# the sample's polygon (lon 6.1665..6.1708, lat 46.2123..46.2180), its centre and the geoid there
CENTRE = (6.1686, 46.2151)
START, END = "2024-03-01T10:00:00Z", "2024-03-01T11:00:00Z"


def swiss(**limits: object) -> dict:
    """The Swiss sample with its one volume's limits replaced (and a time window within reach)."""
    document = json.loads(SWISS.read_text())
    geometry = document["UASZoneList"][0]["geometry"][0]
    geometry.update(limits)
    return document


def plan(name: str, lower_m: float, upper_m: float, *, east_m: float = 0.0, start: str = START,
         end: str = END, radius_m: float = 100.0) -> dict:  # fmt: skip
    """An F3548 OperationalIntent (W84 metres) over a circle near the sample's centre."""
    lon = CENTRE[0] + east_m / (111_320.0 * math.cos(math.radians(CENTRE[1])))
    volume = {
        "volume": {
            "outline_circle": {
                "center": {"lat": CENTRE[1], "lng": lon}, "radius": {"value": radius_m, "units": "M"}
            },
            "altitude_lower": {"value": lower_m, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": upper_m, "reference": "W84", "units": "M"},
        },
        "time_start": {"value": start, "format": "RFC3339"},
        "time_end": {"value": end, "format": "RFC3339"},
    }
    reference = {
        "id": name, "manager": "uss-north", "uss_availability": "Normal", "version": 1, "state": "Accepted",
        "ovn": "ovn-1", "time_start": volume["time_start"], "time_end": volume["time_end"],
        "uss_base_url": "https://uss.example.org", "subscription_id": "sub-1",
    }  # fmt: skip
    return {"reference": reference, "details": {"volumes": [volume], "priority": 0}}


def test_the_geoid_near_the_sample():
    low, high = egm96().height_range((6.16, 46.21, 6.18, 46.22))
    assert 49.6 < low < high < 50.0


def test_the_swiss_sample_meets_every_w84_plan_without_terrain():
    # lower "0" AGL is the ground and the upper limit is null: nothing to convert
    (zone,) = read_ed269(SWISS).zones
    assert zone.volumes[0].altitude.references() == set()
    plans = [read_f3548_operation(plan("high", 3000.0, 3100.0))]
    (conflict,) = find_conflicts([zone], plans)
    assert conflict_record(conflict)["altitude_conversion"] is None


def test_lower_agl_with_upper_amsl_reads():
    """ED-269 allows each limit its own reference; a file mixing them was refused before."""
    document = swiss(lowerLimit="0", lowerVerticalReference="AGL", upperLimit="600",
                     upperVerticalReference="AMSL")  # fmt: skip
    (zone,) = read_ed269(document).zones
    band = zone.volumes[0].altitude
    assert (band.lower_m, band.upper_m, band.reference) == (-math.inf, 600.0, AltitudeReference.AMSL)


# name, W84 lower, W84 upper, east offset (m), time, whether it meets the zone 400..600 m AMSL
CASES = [
    ("inside", 470.0, 600.0, 0.0, START, True),
    ("numbers-above-ceiling", 610.0, 700.0, 0.0, START, True),  # 610 W84 is about 560 AMSL
    ("above-ceiling", 655.0, 700.0, 0.0, START, False),  # 605 AMSL
    ("numbers-inside-below-floor", 300.0, 440.0, 0.0, START, False),  # up to 390 AMSL
    ("reaches-floor", 300.0, 460.0, 0.0, START, True),  # up to 410 AMSL
    ("beside", 470.0, 600.0, 600.0, START, False),
    ("after", 470.0, 600.0, 0.0, "2024-03-01T11:00:00Z", False),
]


def amsl_document() -> dict:
    document = swiss(lowerLimit="400", lowerVerticalReference="AMSL", upperLimit="600",
                     upperVerticalReference="AMSL")  # fmt: skip
    document["UASZoneList"][0]["applicability"] = [
        {"permanent": "NO", "startDateTime": "2024-03-01T00:00:00Z", "endDateTime": "2024-03-01T11:00:00Z"}
    ]
    return document


@pytest.mark.parametrize(
    ("name", "lower", "upper", "east_m", "start", "meets"), CASES, ids=[c[0] for c in CASES]
)
def test_interuss_style_cases_w84_plans_against_an_amsl_zone(name, lower, upper, east_m, start, meets):
    (zone,) = read_ed269(amsl_document()).zones
    end = "2024-03-01T12:00:00Z" if start != START else END
    operation = read_f3548_operation(plan(name, lower, upper, east_m=east_m, start=start, end=end))
    found = find_conflicts([zone], [operation])
    assert bool(found) is meets
    if found:
        assert conflict_record(found[0])["altitude_conversion"] == "EGM96"


def test_check_reports_the_conversion_in_json_and_geojson(tmp_path):
    zones = tmp_path / "swiss-amsl.json"
    zones.write_text(json.dumps(amsl_document()))
    plans = tmp_path / "intent.json"
    plans.write_text(json.dumps(plan("numbers-above-ceiling", 610.0, 700.0)))
    args = ["check", "--zones", str(zones), "--plans", str(plans)]
    result = runner.invoke(app, [*args, "--format", "json"])
    assert result.exit_code == 1, result.stderr
    (record,) = json.loads(result.stdout)["conflicts"]
    assert record["altitude_conversion"] == "EGM96" and record["altitude_reference"] == "W84"
    # the zone's 600 m AMSL ceiling is about 650 m W84 there (plus the 0.5 m margin)
    assert 649.5 < record["altitude_upper_m"] < 651.0
    result = runner.invoke(app, [*args, "--format", "geojson"])
    assert result.exit_code == 1
    (feature,) = json.loads(result.stdout)["features"]
    assert feature["properties"]["altitude_conversion"] == "EGM96"


def agl_document() -> dict:
    document = swiss(lowerLimit="50", lowerVerticalReference="AGL", upperLimit="600",
                     upperVerticalReference="AMSL")  # fmt: skip
    document["UASZoneList"][0]["identifier"] = "LSXX2"
    return document


def test_a_lower_limit_above_ground_needs_terrain_and_the_error_names_file_zone_and_references(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("TRUCELINE_TERRAIN", raising=False)
    zones = tmp_path / "swiss-agl.json"
    zones.write_text(json.dumps(agl_document()))
    plans = tmp_path / "intent.json"
    plans.write_text(json.dumps(plan("p", 400.0, 500.0)))
    result = runner.invoke(app, ["check", "--zones", str(zones), "--plans", str(plans)])
    assert result.exit_code == 2
    line = result.stderr.strip()
    assert line.startswith(f"truceline: error: {zones}: zone 'LSXX2': ")
    assert "an altitude in AGL with one in W84" in line and "TRUCELINE_TERRAIN" in line
    assert len(line.splitlines()) == 1


def write_flat_tile(folder: Path, height_m: int) -> Path:
    folder.mkdir(exist_ok=True)
    np.full((121, 121), height_m, dtype=">i2").tofile(folder / "N46E006.hgt")
    return folder


def test_a_lower_limit_above_ground_through_a_terrain_model(tmp_path, monkeypatch):
    (zone,) = read_ed269(agl_document()).zones
    band = zone.volumes[0].altitude
    assert band.reference_text == "AGL/AMSL" and band.lower_m == 50.0
    model = AltitudeModel(terrain=open_terrain(write_flat_tile(tmp_path / "dem", 375)))
    # floor: 50 m over 375 m ground, less the 16 m terrain margin, is 409 m AMSL, about 458.5 m W84
    below = read_f3548_operation(plan("below", 300.0, 450.0))
    reaching = read_f3548_operation(plan("reaching", 300.0, 470.0))
    found = find_conflicts([zone], [below, reaching], model)
    assert [c.a for c in found] == ["reaching"]
    assert conflict_record(found[0])["altitude_conversion"] == "terrain+EGM96"
    with pytest.raises(AltitudeReferenceError, match="zone 'LSXX2'"):
        find_conflicts([zone], [below])
    # and `check` finds the same through TRUCELINE_TERRAIN
    monkeypatch.setenv("TRUCELINE_TERRAIN", str(tmp_path / "dem"))
    zones = tmp_path / "swiss-agl.json"
    zones.write_text(json.dumps(agl_document()))
    plans = tmp_path / "intent.json"
    plans.write_text(json.dumps(plan("reaching", 300.0, 470.0)))
    result = runner.invoke(app, ["check", "--zones", str(zones), "--plans", str(plans), "--format", "json"])
    assert result.exit_code == 1, result.stderr
    assert json.loads(result.stdout)["conflicts"][0]["altitude_conversion"] == "terrain+EGM96"


def test_a_bad_terrain_setting_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUCELINE_TERRAIN", str(tmp_path / "nowhere"))
    plans = tmp_path / "intent.json"
    plans.write_text(json.dumps(plan("p", 400.0, 500.0)))
    result = runner.invoke(app, ["check", "--zones", str(SWISS), "--plans", str(plans)])
    assert result.exit_code == 2
    assert "TRUCELINE_TERRAIN: no such file or folder" in result.stderr


def test_check_takes_a_qnh(tmp_path):
    plans = tmp_path / "intent.json"
    plans.write_text(json.dumps(plan("p", 400.0, 500.0)))
    result = runner.invoke(app, ["check", "--zones", str(SWISS), "--plans", str(plans), "--qnh", "5"])
    assert result.exit_code == 2 and "qnh: must be between 850 and 1100 hPa" in result.stderr
