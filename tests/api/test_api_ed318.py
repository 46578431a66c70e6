"""An ED-318 document is refused with the one message docs/formats.md promises, from every
entry point: check, import, an operation filing, a zone proposal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_kit import World, sqlite_url
from typer.testing import CliRunner

from truceline.cli import app as cli_app
from truceline.io.documents import ED318_REFUSAL, document_format
from truceline.io.ed269 import read_ed269

# An ED-318 UASZone as a GeoJSON Feature (properties after ED-318's UASZone).
ED318 = {
    "type": "FeatureCollection",
    "name": "UASZones",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "identifier": "LSR01", "country": "CHE", "name": [{"text": "Zone", "lang": "en-GB"}],
                "type": "COMMON", "variant": "COMMON", "restriction": "PROHIBITED",
                "zoneAuthority": [{"name": [{"text": "FOCA", "lang": "en-GB"}]}],
            },
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[6.1, 46.2], [6.2, 46.2], [6.2, 46.3], [6.1, 46.2]]],
                "layer": {"upper": 120, "lower": 0, "uom": "m", "upperReference": "AGL",
                          "lowerReference": "AGL"},
            },
        }
    ],
}  # fmt: skip


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("A")
    yield w
    w.close()


def test_the_detector_and_the_ed269_reader_say_the_same():
    with pytest.raises(Exception, match="ED-318") as info:
        document_format(ED318)
    assert ED318_REFUSAL in str(info.value)
    with pytest.raises(Exception, match="ED-318") as again:
        read_ed269(ED318)
    assert ED318_REFUSAL in str(again.value)


def test_check_and_import_refuse_it_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys"))
    path = tmp_path / "zones-ed318.json"
    path.write_text(json.dumps(ED318))
    runner = CliRunner()
    check = ["check", "--zones", str(path), "--plans", str(path)]
    for args in (check, ["import", str(path), "--db", str(tmp_path / "t.db")]):
        result = runner.invoke(cli_app, args)
        assert result.exit_code == 2, result.output
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith(f"truceline: error: {path.name}: document: is an ED-318 document")
        assert ED318_REFUSAL in line


def test_a_filing_and_a_proposal_refuse_it(world: World) -> None:
    filed = world.client.post("/operations", json=ED318, headers=world.auth("A"))
    assert filed.status_code == 422, filed.text
    assert filed.json()["field"] == "document" and ED318_REFUSAL in filed.json()["detail"]
    proposed = world.client.post("/zones", json={"document": ED318}, headers=world.auth("A"))
    assert proposed.status_code == 422, proposed.text
    assert proposed.json()["field"] == "document" and ED318_REFUSAL in proposed.json()["detail"]
    assert world.register.operations() == [] and world.register.zones() == []
