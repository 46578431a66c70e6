"""`truceline incidents export`: the reports of the local database as CSV with ACLED's
column names first, or as GeoJSON, to a file or standard output."""

from __future__ import annotations

import csv
import io
import json
import uuid
from pathlib import Path

from api_kit import World, sqlite_url
from typer.testing import CliRunner

from truceline.cli import app
from truceline.io.incidents import ACLED_COLUMNS, CSV_COLUMNS


def test_export_writes_csv_and_geojson(tmp_path: Path, clock) -> None:
    world = World(sqlite_url(tmp_path), clock)
    world.add("O1", "observer")
    for k, category in enumerate(("drone", "access_denied")):
        body = {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [36.2 + k / 10, 35.2]},
            "properties": {"instance_id": f"uuid:{uuid.uuid4()}", "observed_start": "2017-07-10T08:00:00Z",
                           "category": category, "observation": "seen", "fatalities": [1, 3]},
        }  # fmt: skip
        assert world.client.post("/incidents", json=body, headers=world.auth("O1")).status_code == 201
    world.close()
    db = str(tmp_path / "truceline.db")
    runner = CliRunner()
    result = runner.invoke(app, ["incidents", "export", "--db", db])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(rows[0]) == list(CSV_COLUMNS) and list(
        CSV_COLUMNS[: len(ACLED_COLUMNS)]
    ) == list(ACLED_COLUMNS)
    assert [r["sub_event_type"] for r in rows] == ["Air/drone strike", "Other"]
    assert [(r["fatalities"], r["truceline_fatalities_max"]) for r in rows] == [("1", "3"), ("1", "3")]
    out = tmp_path / "incidents.geojson"
    result = runner.invoke(app, ["incidents", "export", "--format", "geojson", "-o", str(out), "--db", db])
    assert result.exit_code == 0, result.output
    collection = json.loads(out.read_text(encoding="utf-8"))
    assert [f["properties"]["category"] for f in collection["features"]] == ["drone", "access_denied"]
    result = runner.invoke(app, ["incidents", "export", "--format", "kml", "--db", db])
    assert result.exit_code == 2
