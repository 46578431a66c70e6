"""A filed operation and a proposed zone are one item: the API and the CLI say how many a
document holds instead (one rule, io.documents.exactly_one)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_kit import World, op_doc, sqlite_url, square, zone_doc
from typer.testing import CliRunner

from truceline.cli import app as cli_app


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("A")
    yield w
    w.close()


def _two_operations() -> dict:
    first = op_doc("op-1", "A", square(36.0, 35.0, 36.1, 35.1))
    second = op_doc("op-2", "A", square(36.2, 35.0, 36.3, 35.1))
    return {"type": "FeatureCollection", "features": first["features"] + second["features"]}


def test_a_filing_of_two_operations_is_refused_naming_the_document(world: World) -> None:
    response = world.client.post("/operations", json=_two_operations(), headers=world.auth("A"))
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["field"] == "document"
    assert "must hold exactly one operation, found 2" in body["detail"]
    assert world.register.operations() == []  # nothing stored


def test_a_proposal_of_no_zone_is_refused_naming_the_document(world: World) -> None:
    empty = {"type": "FeatureCollection", "features": []}
    response = world.client.post("/zones", json={"document": empty}, headers=world.auth("A"))
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "document"
    assert "must hold exactly one zone, found 0" in response.json()["detail"]
    one = zone_doc("z-1", square(36.0, 35.0, 36.5, 35.5), party="A")
    assert world.client.post("/zones", json={"document": one}, headers=world.auth("A")).status_code == 201


def test_ops_file_update_of_two_operations_is_one_line_and_exit_2(tmp_path: Path) -> None:
    plan = tmp_path / "two.geojson"
    plan.write_text(json.dumps(_two_operations()), encoding="utf-8")
    # No server is reached: the file is read before any request.
    result = CliRunner().invoke(
        cli_app, ["ops", "file", str(plan), "--update", "--url", "http://127.0.0.1:9", "--token", "tl_x"]
    )
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        f"truceline: error: {plan}: document: must hold exactly one operation, found 2"
    )
