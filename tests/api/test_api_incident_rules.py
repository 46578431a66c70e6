"""The rules of a report, over HTTP: each fault named by its field (422), an edit through
``deprecated_id`` by its reporter only, a bearing report turned into its area, withdrawal,
the roles, and the corroboration window as configured."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_kit import World, sqlite_url, square, zone_doc
from fastapi.testclient import TestClient

from truceline.api.app import create_app
from truceline.config import IncidentSettings


def instance() -> str:
    return f"uuid:{uuid.uuid4()}"


def feature(lon: float = 36.2, lat: float = 35.2, **props: Any) -> dict[str, Any]:
    properties = {
        "instance_id": instance(),
        "observed_start": "2017-07-10T08:00:00Z",
        "uncertainty_m": 100,
        "category": "shelling",
        "observation": "heard",
        **props,
    }
    return {
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties
    }


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    for name, role in (("O1", "observer"), ("O2", "observer"), ("A", "party"), ("R", "auditor")):
        w.add(name, role)
    yield w
    w.close()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"instance_id": "not-a-uuid"}, "properties.instance_id"),
        ({"instance_id": "uuid:6f1c2b9e-3d4a-1c5b-8e7f-0a1b2c3d4e5f"}, "properties.instance_id"),  # v1
        ({"category": "rumour"}, "properties.category"),
        ({"observation": "dreamt"}, "properties.observation"),
        ({"observed_start": "2017-07-10T08:00:00"}, "properties.observed_start"),  # no offset
        ({"observed_end": "2017-07-10T07:00:00Z"}, "properties.observed_end"),
        ({"fatalities": [5, 2]}, "properties.fatalities"),
        ({"fatalities": -1}, "properties.fatalities"),
        ({"count": 2.5}, "properties.count"),
        ({"uncertainty_m": -3}, "properties.uncertainty_m"),
        ({"description": "Smoke"}, "properties.language"),
        ({"fatalites": 3}, "properties.fatalites"),
        ({"bearing_deg": 90}, "properties.uncertainty_m"),  # a located point or a bearing, not both
        ({"uncertainty_m": 0, "bearing_deg": 90, "distance_min_m": 10}, "properties.distance_max_m"),
        (
            {
                "uncertainty_m": 0, "bearing_deg": 400, "distance_min_m": 0, "distance_max_m": 10
            }, "properties.bearing_deg"
        ),
        ({"distance_max_m": 10}, "properties.distance_max_m"),
        (
            {
                "evidence": [{"sha256": "zz", "media_type": "image/jpeg", "size": 1}]
            }, "properties.evidence[0].sha256"
        ),
        ({"direction_of_fire_deg": 360}, "properties.direction_of_fire_deg"),
    ],
)
def test_each_fault_is_a_422_naming_its_field(world: World, change: dict[str, Any], field: str) -> None:
    body = feature()
    body["properties"].update(change)
    r = world.client.post("/incidents", json=body, headers=world.auth("O1"))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == field, r.json()


def test_geometry_faults_are_named_and_nothing_is_fixed(world: World) -> None:
    bow_tie = [[[36.0, 35.0], [36.1, 35.1], [36.1, 35.0], [36.0, 35.1], [36.0, 35.0]]]
    body = feature()
    body["geometry"] = {"type": "Polygon", "coordinates": bow_tie}
    r = world.client.post("/incidents", json=body, headers=world.auth("O1"))
    assert r.status_code == 422 and r.json()["field"].startswith("geometry.coordinates[0]"), r.text
    body["geometry"] = {"type": "LineString", "coordinates": [[36.0, 35.0], [36.1, 35.1]]}
    r = world.client.post("/incidents", json=body, headers=world.auth("O1"))
    assert r.status_code == 422 and r.json()["field"] == "geometry.type"
    body["geometry"] = {"type": "Point", "coordinates": [200.0, 35.0]}
    r = world.client.post("/incidents", json=body, headers=world.auth("O1"))
    assert r.status_code == 422 and r.json()["field"] == "geometry.coordinates"


def test_an_edit_replaces_the_reporters_own_report_only(world: World) -> None:
    client = world.client
    original = feature(description="Two impacts", language="en")
    first = client.post("/incidents", json=original, headers=world.auth("O1")).json()
    old_instance = original["properties"]["instance_id"]
    # Another observer cannot edit it.
    theirs = feature(deprecated_id=old_instance)
    r = client.post("/incidents", json=theirs, headers=world.auth("O2"))
    assert r.status_code == 403 and r.json()["field"] == "properties.deprecated_id"
    # The reporter can: a new report naming the old instance.
    edit = feature(description="Three impacts", language="en", deprecated_id=old_instance)
    r = client.post("/incidents", json=edit, headers=world.auth("O1"))
    assert r.status_code == 201, r.text
    assert r.json()["deprecated_id"] == old_instance
    old = client.get(f"/incidents/{first['id']}", headers=world.auth("A")).json()
    assert old["superseded_by"] == r.json()["id"]
    # The chain is linear: the replaced one cannot be replaced again, nor stepped on.
    again = feature(deprecated_id=old_instance)
    assert client.post("/incidents", json=again, headers=world.auth("O1")).status_code == 409
    assert client.post(f"/incidents/{first['id']}/withdraw", headers=world.auth("O1")).status_code == 409
    unknown = feature(deprecated_id=instance())
    assert client.post("/incidents", json=unknown, headers=world.auth("O1")).status_code == 422
    # The same instance id from another reporter is not a resend: 409.
    r = client.post("/incidents", json=original, headers=world.auth("O2"))
    assert r.status_code == 409


def test_a_bearing_and_distance_band_becomes_a_sector_attributed_to_the_zone(world: World) -> None:
    client = world.client
    document = zone_doc("z", square(36.0, 35.0, 36.5, 35.5), party="A")
    proposed = client.post("/zones", json={"document": document}, headers=world.auth("A")).json()
    client.post("/zones/z/sign", json={"version": 1, "hash": proposed["hash"]}, headers=world.auth("A"))
    # The observer stands just outside the southern border and hears shelling 1-4.5 km north.
    heard = feature(36.2, 34.995, uncertainty_m=0, bearing_deg=0, distance_min_m=1000, distance_max_m=4500)
    r = client.post("/incidents", json=heard, headers=world.auth("O1"))
    assert r.status_code == 201, r.text
    assert r.json()["zones"] == [{"zone_id": "z", "relation": "inside"}]
    assert 35.0 < r.json()["latitude"] < 35.03
    # Heard from further south, the band crosses the border: possibly inside.
    heard = feature(36.2, 34.975, uncertainty_m=0, bearing_deg=0, distance_min_m=1000, distance_max_m=4500)
    r = client.post("/incidents", json=heard, headers=world.auth("O1"))
    assert r.json()["zones"] == [{"zone_id": "z", "relation": "possibly_inside"}]


def test_withdrawal_is_final_and_roles_are_kept(world: World) -> None:
    client = world.client
    r = client.post("/incidents", json=feature(), headers=world.auth("O1"))
    incident = r.json()["id"]
    assert client.post("/incidents", json=feature(), headers=world.auth("R")).status_code == 403  # an auditor
    assert client.post(
        f"/incidents/{incident}/verify", headers=world.auth("O1")
    ).status_code == 403  # its reporter
    assert client.post(f"/incidents/{incident}/verify", headers=world.auth("A")).status_code == 403  # a party
    r = client.post(f"/incidents/{incident}/withdraw", json={"reason": "Misheard"}, headers=world.auth("O1"))
    assert r.status_code == 200 and r.json()["state"] == "withdrawn"
    assert client.post(f"/incidents/{incident}/verify", headers=world.auth("O2")).status_code == 409
    assert client.post(
        f"/incidents/{incident}/dispute", json={"reason": "x"}, headers=world.auth("A")
    ).status_code == 409
    assert client.get("/incidents/nothing", headers=world.auth("A")).status_code == 404
    assert client.get("/incidents?state=withdrawn", headers=world.auth("R")).json()[0]["id"] == incident


def test_the_corroboration_window_is_the_configured_one(world: World) -> None:
    five_minutes = IncidentSettings(corroboration_distance_m=2000, corroboration_window_s=300)
    narrow = create_app(world.service, world.clock, tick_interval_s=None, incident_settings=five_minutes)
    client = TestClient(narrow, raise_server_exceptions=False)
    client.post("/incidents", json=feature(), headers=world.auth("O1"))
    ten_minutes = feature(36.201, 35.2, observed_start="2017-07-10T08:10:00Z")
    r = client.post("/incidents", json=ten_minutes, headers=world.auth("O2"))
    assert r.json()["corroborations"] == [] and r.json()["grade"] == "single_source"
    # Under the default (30 min), the same pair is suggested.
    r = world.client.post("/incidents", json=feature(36.201, 35.2, observed_start="2017-07-10T08:10:00Z"),
                          headers=world.auth("O2"))  # fmt: skip
    assert len(r.json()["corroborations"]) == 1
    client.close()


def test_stats_need_a_span_and_a_known_period(world: World) -> None:
    client = world.client
    document = zone_doc("z", square(36.0, 35.0, 36.5, 35.5), party="A")
    proposed = client.post("/zones", json={"document": document}, headers=world.auth("A")).json()
    client.post("/zones/z/sign", json={"version": 1, "hash": proposed["hash"]}, headers=world.auth("A"))
    r = client.get("/zones/z/incidents/stats?from=2017-07-10&to=2017-07-10", headers=world.auth("A"))
    assert r.status_code == 422 and r.json()["field"] == "to"
    r = client.get("/zones/z/incidents/stats?from=yesterday&to=2017-07-10", headers=world.auth("A"))
    assert r.status_code == 422 and r.json()["field"] == "from"
    r = client.get("/zones/z/incidents/stats?from=2017-07-03&to=2017-07-17&by=week", headers=world.auth("A"))
    assert [p["start"] for p in r.json()["periods"]] == ["2017-07-03T00:00:00Z", "2017-07-10T00:00:00Z"]
