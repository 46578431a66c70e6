"""Altitude references over HTTP: a W84 filing against an AMSL zone is compared through the
EGM96 geoid and the conflict body names the conversion; an AGL zone without a terrain model is
a 4xx problem naming the zone and both references, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_kit import World, op_doc, sqlite_url, square, zone_doc


@pytest.fixture
def world(tmp_path: Path, clock, monkeypatch) -> Iterator[World]:
    monkeypatch.delenv("TRUCELINE_TERRAIN", raising=False)
    w = World(sqlite_url(tmp_path), clock)
    for name in ("A", "B"):
        w.add(name)
    yield w
    w.close()


def _zone(world: World, zone_id: str, reference: str, upper_m: float) -> None:
    doc = zone_doc(zone_id, square(35.0, 48.4, 35.1, 48.5), party="A", upper_m=upper_m, entry="notice")
    doc["features"][0]["properties"]["altitude_reference"] = reference
    r = world.client.post("/zones", json={"document": doc, "signatories": []}, headers=world.auth("A"))
    assert r.status_code == 201, r.text
    r = world.client.post(f"/zones/{zone_id}/sign", json={"version": 1, "hash": r.json()["hash"]},
                          headers=world.auth("A"))  # fmt: skip
    assert r.json()["active"] is True, r.text


def _plan(op_id: str, lower_m: float, upper_m: float) -> dict:
    doc = op_doc(op_id, "B", square(35.02, 48.42, 35.04, 48.44), lower_m=lower_m, upper_m=upper_m)
    doc["features"][0]["properties"]["altitude_reference"] = "W84"
    return doc


def test_a_w84_filing_against_an_amsl_zone_names_the_conversion(world: World) -> None:
    # Dnipro: the geoid is about +20 m, so 500 m AMSL is about 520 m W84
    _zone(world, "z-amsl", "AMSL", 500.0)
    r = world.client.post("/operations", json=_plan("op-low", 510.0, 600.0), headers=world.auth("B"))
    assert r.status_code == 201, r.text
    (conflict,) = r.json()["conflicts"]
    assert conflict["b"] == "z-amsl" and conflict["altitude_conversion"] == "EGM96"
    assert conflict["altitude_reference"] == "W84"
    r = world.client.post("/operations", json=_plan("op-high", 530.0, 600.0), headers=world.auth("B"))
    assert r.status_code == 201 and r.json()["conflicts"] == [], r.text


def test_an_agl_zone_without_terrain_is_a_clear_problem(world: World) -> None:
    _zone(world, "z-agl", "AGL", 150.0)
    r = world.client.post("/operations", json=_plan("op", 100.0, 200.0), headers=world.auth("B"))
    assert 400 <= r.status_code < 500, r.text
    problem = r.json()
    assert problem["field"] == "altitude_reference"
    assert "zone 'z-agl'" in problem["detail"] and "AGL with one in W84" in problem["detail"]


def test_openapi_describes_altitude_conversion(world: World) -> None:
    schema = world.client.get("/openapi.json").json()["components"]["schemas"]["ConflictOut"]
    assert "altitude_conversion" in schema["properties"]
