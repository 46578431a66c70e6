"""POST /zones and POST /zones/{id}/versions answer with the ED-269 reader's warnings (a
an identifier over ED-269's 7 characters), typed in the OpenAPI document."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_kit import World, sqlite_url, square, zone_doc

from ed269_documents import ed269_day_zone


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("A")
    w.add("B")
    yield w
    w.close()


def _ed269(identifier: str, restriction: str, daily: list[dict[str, Any]], upper_m: float = 3000) -> dict:
    return ed269_day_zone(identifier, restriction, daily, square(36.0, 33.0, 36.2, 33.2), upper_m)


MON_8_12 = [{"day": ["MON"], "startTime": "08:00Z", "endTime": "12:00Z"}]
DAILY = {
    "where": 'body: zone 0 (identifier "DAILY-08")',
    "field": "identifier",
    "message": "is 8 characters long; ED-269 allows 7 (read as given)",
}


def test_a_proposal_answers_with_the_readers_warnings(world: World) -> None:
    zones = [_ed269("DAILY-08", "PROHIBITED", MON_8_12), _ed269("FREE", "NO_RESTRICTION", [])]
    proposal = {"document": {"UASZoneList": zones}, "signatories": ["B"]}
    r = world.client.post("/zones", json=proposal, headers=world.auth("A"))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["zone_id"] == "DAILY-08" and body["required"] == ["A", "B"]
    assert body["warnings"] == [
        DAILY,
        {
            "where": 'body: zone 1 (identifier "FREE")',
            "field": "restriction",
            "message": "NO_RESTRICTION restricts nothing; the zone is skipped",
        },
    ]
    # A counter-proposal says the same of its own document.
    again = {"UASZoneList": [_ed269("DAILY-08", "PROHIBITED", MON_8_12, upper_m=2000)]}
    r = world.client.post("/zones/DAILY-08/versions", json={"document": again}, headers=world.auth("B"))
    assert r.status_code == 201, r.text
    assert r.json()["version"] == 2 and r.json()["warnings"] == [DAILY]


def test_a_geojson_proposal_has_no_warnings(world: World) -> None:
    document = zone_doc("z1", square(36.0, 33.0, 36.2, 33.2), party="A")
    r = world.client.post("/zones", json={"document": document}, headers=world.auth("A"))
    assert r.status_code == 201, r.text
    assert r.json()["warnings"] == []


def test_a_document_whose_only_zone_is_skipped_says_why(world: World) -> None:
    document = {"UASZoneList": [_ed269("FREE", "NO_RESTRICTION", [])]}
    r = world.client.post("/zones", json={"document": document}, headers=world.auth("A"))
    assert r.status_code == 422 and r.json()["field"] == "document"
    assert "found 0" in r.json()["detail"] and "NO_RESTRICTION restricts nothing" in r.json()["detail"]


def test_the_warnings_are_in_the_openapi_document(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    answer = document["paths"]["/zones"]["post"]["responses"]["201"]["content"]["application/json"]["schema"]
    model = document["components"]["schemas"][answer["$ref"].rsplit("/", 1)[1]]
    assert "warnings" in model["required"]
    warning = document["components"]["schemas"]["ReadWarningOut"]
    assert set(warning["properties"]) == {"where", "field", "message"}
