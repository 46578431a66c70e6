"""What the ED-269 reader read as given but warns of (an identifier over ED-269's 7
characters) or skipped (a NO_RESTRICTION zone) is told: one line each on stderr for check,
import, conflicts and replay, and a ``warnings`` list in check's JSON and GeoJSON."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from ed269_documents import ed269_day_zone
from truceline.cli import app

runner = CliRunner()

RING = [[36.0, 33.0], [36.2, 33.0], [36.2, 33.2], [36.0, 33.2], [36.0, 33.0]]
DAILY_WARNING = (
    'truceline: warning: {file}: zone 0 (identifier "DAILY-08"): identifier: is 8 characters long; '
    "ED-269 allows 7 (read as given)"
)
SKIPPED_WARNING = (
    'truceline: warning: {file}: zone 1 (identifier "FREE"): restriction: NO_RESTRICTION restricts '
    "nothing; the zone is skipped"
)


def _zone(identifier: str, restriction: str, daily: list[dict[str, Any]]) -> dict[str, Any]:
    return ed269_day_zone(identifier, restriction, daily, [RING])


def _ed269(folder: Path) -> Path:
    zones = [
        _zone("DAILY-08", "PROHIBITED", [{"day": ["MON", "FRI"], "startTime": "08:00Z", "endTime": "12:00Z"}]),  # noqa: E501
        _zone("FREE", "NO_RESTRICTION", []),
    ]
    path = folder / "zones-ed269.json"
    path.write_text(json.dumps({"UASZoneList": zones}))
    return path


def _plan(folder: Path, hour: int = 9) -> Path:
    feature = {
        "type": "Feature",
        "id": "p1",
        "geometry": {"type": "Polygon", "coordinates": [RING]},
        "properties": {
            "party": "B", "activity": "air", "altitude_lower_m": 100, "altitude_upper_m": 500,
            "altitude_reference": "AMSL",
            "time_start": f"2017-07-10T{hour:02}:00:00Z", "time_end": f"2017-07-10T{hour:02}:30:00Z",
        },
    }  # fmt: skip
    path = folder / "plan.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def _warning_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("truceline: warning:")]


def test_check_prints_each_warning_on_stderr(tmp_path: Path) -> None:
    zones, plan = _ed269(tmp_path), _plan(tmp_path)
    result = runner.invoke(app, ["check", "--zones", str(zones), "--plans", str(plan)])
    # Monday 09:00Z is inside the daily MON,FRI 08:00Z-12:00Z: a conflict.
    assert result.exit_code == 1, result.output
    assert _warning_lines(result.stderr) == [
        DAILY_WARNING.format(file=zones.name), SKIPPED_WARNING.format(file=zones.name)
    ]


def test_check_honours_the_daily_period(tmp_path: Path) -> None:
    zones, plan = _ed269(tmp_path), _plan(tmp_path, hour=14)
    # Monday 14:00Z is outside the daily 08:00Z-12:00Z: no conflict.
    result = runner.invoke(app, ["check", "--zones", str(zones), "--plans", str(plan)])
    assert result.exit_code == 0, result.output
    assert "No conflict." in result.stdout


def test_check_json_and_geojson_carry_the_warnings(tmp_path: Path) -> None:
    zones, plan = _ed269(tmp_path), _plan(tmp_path)
    result = runner.invoke(app, ["check", "--zones", str(zones), "--plans", str(plan), "--format", "json"])
    assert result.exit_code == 1, result.output
    answer = json.loads(result.stdout)
    assert [c["b"] for c in answer["conflicts"]] == ["DAILY-08"]
    assert answer["conflicts"][0]["time_start"] == "2017-07-10T09:00:00Z"
    assert answer["warnings"] == [
        {
            "where": f'{zones.name}: zone 0 (identifier "DAILY-08")',
            "field": "identifier",
            "message": "is 8 characters long; ED-269 allows 7 (read as given)",
        },
        {
            "where": f'{zones.name}: zone 1 (identifier "FREE")',
            "field": "restriction",
            "message": "NO_RESTRICTION restricts nothing; the zone is skipped",
        },
    ]
    result = runner.invoke(app, ["check", "--zones", str(zones), "--plans", str(plan), "--format", "geojson"])
    report = json.loads(result.stdout)
    assert report["type"] == "FeatureCollection" and report["warnings"] == answer["warnings"]


def test_import_prints_each_warning_on_stderr(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys"))
    zones = _ed269(tmp_path)
    result = runner.invoke(app, ["import", str(zones), "--db", str(tmp_path / "t.db")])
    assert result.exit_code == 0, result.output
    assert "Imported 1 zones" in result.stdout
    assert _warning_lines(result.stderr) == [
        DAILY_WARNING.format(file=zones.name), SKIPPED_WARNING.format(file=zones.name)
    ]


def test_conflicts_prints_the_warnings_of_its_zone_files(tmp_path: Path) -> None:
    states = tmp_path / "states.csv"
    columns = "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,baroaltitude,geoaltitude"
    states.write_text(f"{columns},lastposupdate\n1499688000,abc123,33.1,36.1,200,90,0,T1,False,1000,1000,1499688000\n")
    zones = _ed269(tmp_path)
    # Tracks report geoaltitude (W84): bands in W84 compare without a conversion.
    zones.write_text(zones.read_text().replace('"AMSL"', '"WGS84"'))
    result = runner.invoke(app, ["conflicts", str(states), "--zones", str(zones)])
    assert result.exit_code in (0, 1), result.output
    assert _warning_lines(result.stderr) == [
        DAILY_WARNING.format(file=zones.name), SKIPPED_WARNING.format(file=zones.name)
    ]
