"""truceline convert (GeoJSON, ED-269, KML, OpenAir out), check --format kml and
--time-zone, on the real files of shared/data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml import etree
from typer.testing import CliRunner

from shared_data import SHARED_DATA
from truceline.cli import app
from truceline.io.ed269 import read_ed269
from truceline.io.geojson import read_geojson
from truceline.io.openair import read_openair

runner = CliRunner()
SWISS = SHARED_DATA / "zones" / "cis_source_sample_ed269.json"
FRANCE = SHARED_DATA / "openair" / "france.txt"
KML = {"k": "http://www.opengis.net/kml/2.2"}
RING = [[36.0, 33.0], [36.2, 33.0], [36.2, 33.2], [36.0, 33.2], [36.0, 33.0]]


def test_ed269_to_geojson_and_back():
    result = runner.invoke(app, ["convert", str(SWISS)])
    assert result.exit_code == 0, result.output
    zones = read_geojson(json.loads(result.stdout)).zones
    original = read_ed269(SWISS).zones
    assert [z.id for z in zones] == [z.id for z in original]
    assert zones[0].rule == original[0].rule
    assert zones[0].volumes[0].altitude == original[0].volumes[0].altitude


def test_circles_as_polygons_and_openair_to_ed269(tmp_path: Path):
    circle = tmp_path / "circle.txt"
    circle.write_text("AC P\nAN P1\nAL GND\nAH 1000FT AMSL\nV X=45:00:00 N 006:00:00 E\nDC 2\n")
    point = json.loads(runner.invoke(app, ["convert", str(circle)]).stdout)
    assert point["features"][0]["geometry"]["type"] == "Point"
    polygon = json.loads(runner.invoke(app, ["convert", str(circle), "--circles", "polygon"]).stdout)
    assert polygon["features"][0]["geometry"]["type"] == "Polygon"
    out = tmp_path / "zones.json"
    result = runner.invoke(app, ["convert", str(circle), "--format", "ed269", "--output", str(out)])
    assert result.exit_code == 0, result.output
    (zone,) = read_ed269(out).zones
    assert zone.id == "circle-1" and zone.volumes[0].shape.radius_m == 2 * 1852.0


def test_the_real_files_flight_levels_to_ed269_are_converted_with_a_warning(tmp_path: Path):
    # TMA BALE 1 of the French file: AL 1000FT AGL, AH FL145; the polygon as the file draws it
    lines = FRANCE.read_text(encoding="utf-8").splitlines()
    start = lines.index("AN TMA BALE 1") - 2
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("AC"))
    record = tmp_path / "bale.txt"
    record.write_text("\n".join(lines[start:end]) + "\n", encoding="utf-8")
    out = tmp_path / "bale.json"
    result = runner.invoke(app, ["convert", str(record), "--format", "ed269", "--qnh", "1013.25",
                                 "--output", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "FL145 is not an ED-269 reference" in result.stderr and "QNH 1013.25 hPa" in result.stderr
    (zone,) = read_ed269(out).zones
    band = zone.volumes[0].altitude
    assert band.reference_text == "AGL/AMSL" and band.lower_m == 1000 * 0.3048
    # FL145 at standard pressure is 4419.6 m AMSL; 4 % is allowed for the temperature, upward
    assert band.upper_m == pytest.approx(14500 * 0.3048 * 1.04)


def test_openair_out_reads_back():
    result = runner.invoke(app, ["convert", str(SWISS), "--format", "openair"])
    assert result.exit_code == 0, result.output
    (zone,) = read_openair("back.txt", text=result.stdout).zones
    assert zone.name == "LSXX City Sample"


def test_kml_out_parses(tmp_path: Path):
    result = runner.invoke(app, ["convert", str(SWISS), "--format", "kml"])
    assert result.exit_code == 0, result.output
    root = etree.fromstring(result.stdout.encode())
    assert len(root.xpath("//k:Folder[k:name='Zones']/k:Placemark", namespaces=KML)) == 1


def test_zone_only_formats_refuse_operations_in_one_line(tmp_path: Path):
    plan = _plan(tmp_path, 9)
    result = runner.invoke(app, ["convert", str(plan), "--format", "ed269"])
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "truceline: error: --format: ed269 holds zones only; 1 operations given (e.g. 'p1')"
    )


def _plan(folder: Path, hour_utc: int) -> Path:
    feature = {
        "type": "Feature", "id": "p1", "geometry": {"type": "Polygon", "coordinates": [RING]},
        "properties": {"party": "B", "activity": "air", "altitude_lower_m": 100, "altitude_upper_m": 500,
                       "time_start": f"2026-03-30T{hour_utc:02}:00:00Z",
                       "time_end": f"2026-03-30T{hour_utc:02}:30:00Z"},
    }  # fmt: skip
    path = folder / f"plan-{hour_utc}.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def _local_zone(folder: Path) -> Path:
    zone = {
        "identifier": "OFFICE", "country": "CHE", "name": "Office hours", "type": "COMMON",
        "restriction": "PROHIBITED", "zoneAuthority": [{"name": "A"}],
        "applicability": [{"permanent": "YES", "dailyPeriod": [
            {"day": ["MON", "TUE", "WED", "THU", "FRI"], "startTime": "08:00", "endTime": "18:00"}]}],
        "geometry": [{"uomDimensions": "M", "lowerLimit": 0, "lowerVerticalReference": "AMSL",
                      "upperLimit": 3000, "upperVerticalReference": "AMSL",
                      "horizontalProjection": {"type": "Polygon", "coordinates": [RING]}}],
    }  # fmt: skip
    path = folder / "office.json"
    path.write_text(json.dumps({"UASZoneList": [zone]}))
    return path


def test_check_honours_local_daily_periods_with_time_zone(tmp_path: Path):
    zones = _local_zone(tmp_path)
    # Monday 30 March 2026, CEST (UTC+2): 07:00Z is 09:00 local, 18:00Z is 20:00 local
    for hour_utc, expected in ((7, 1), (18, 0)):
        args = ["check", "--zones", str(zones), "--plans", str(_plan(tmp_path, hour_utc)), "--time-zone",
                "Europe/Zurich"]  # fmt: skip
        result = runner.invoke(app, args)
        assert result.exit_code == expected, result.output
    # without a time zone, a local time is an error naming the field
    result = runner.invoke(app, ["check", "--zones", str(zones), "--plans", str(_plan(tmp_path, 7))])
    assert result.exit_code == 2
    assert "applicability[0].dailyPeriod[0].startTime" in result.stderr and "--time-zone" in result.stderr


def test_check_writes_kml_with_the_conflicts(tmp_path: Path):
    zones = _local_zone(tmp_path)
    plan = _plan(tmp_path, 7)
    args = ["check", "--zones", str(zones), "--plans", str(plan), "--time-zone", "Europe/Zurich"]
    args += ["--format", "kml"]
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    root = etree.fromstring(result.stdout.encode())
    (conflict,) = root.xpath("//k:Folder[k:name='Conflicts']/k:Placemark", namespaces=KML)
    assert conflict.findtext("k:TimeSpan/k:begin", namespaces=KML) == "2026-03-30T07:00:00Z"
