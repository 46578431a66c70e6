"""The CLI meets the same text rules as the API: a party name that impersonates another,
a NUL or an over-long id in a file to import are one line naming the field, exit 2, and
nothing is stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from truceline.cli import app

runner = CliRunner()


def _operation_file(folder: Path, op_id: str, name: str) -> Path:
    ring = [[36.0, 33.0], [36.1, 33.0], [36.1, 33.1], [36.0, 33.1], [36.0, 33.0]]
    feature = {
        "type": "Feature", "id": op_id,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {
            "party": "A", "activity": "air", "name": name,
            "altitude_lower_m": 0, "altitude_upper_m": 1000, "altitude_reference": "AMSL",
            "time_start": "2017-07-10T08:00:00Z", "time_end": "2017-07-10T10:00:00Z",
        },
    }  # fmt: skip
    path = folder / "op.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    return path


def _log_size(db: Path) -> int:
    result = runner.invoke(app, ["log", "export", str(db.parent / "export"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    return len((db.parent / "export" / "entries.jsonl").read_text().splitlines())


@pytest.mark.parametrize("name", ["A\u202eB", "A\u200b", "A\x00"])
def test_party_add_refuses_an_impersonating_name(tmp_path: Path, name: str) -> None:
    db = tmp_path / "t.db"
    assert runner.invoke(app, ["party", "add", "A", "--role", "party", "--db", str(db)]).exit_code == 0
    before = _log_size(db)
    result = runner.invoke(app, ["party", "add", name, "--role", "party", "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert "name:" in result.output and "Traceback" not in result.output
    assert _log_size(db) == before


@pytest.mark.parametrize(
    ("op_id", "name", "field"),
    [("op\x00", "", "id"), ("o" * 201, "", "id"), ("op", "n" * 10_001, "properties.name")],
    ids=["nul-id", "long-id", "long-name"],
)
def test_import_refuses_unstorable_texts(tmp_path: Path, op_id: str, name: str, field: str) -> None:
    db = tmp_path / "t.db"
    assert runner.invoke(app, ["party", "add", "A", "--role", "party", "--db", str(db)]).exit_code == 0
    before = _log_size(db)
    result = runner.invoke(app, ["import", str(_operation_file(tmp_path, op_id, name)), "--db", str(db)])
    assert result.exit_code == 2, result.output
    assert f"{field}:" in result.output, result.output
    assert _log_size(db) == before
