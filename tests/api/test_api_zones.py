"""Who a zone binds, over HTTP, on SQLite and on PostgreSQL: a zone signed by its proposer
alone is declared, not recognised, by the others; imported zones are listed like negotiated
ones and bind every party they restrict; signatories must hold a role that signs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_kit import World, op_doc, sqlite_url, square, zone_doc

from truceline.io.geojson import read_zones
from truceline.service.importing import import_features


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path, clock: object) -> Iterator[World]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    w = World(url, clock)
    for name in ("A", "B", "C"):
        w.add(name)
    w.add("G", "guarantor")
    w.add("Obs", "observer")
    w.add("Aud", "auditor")
    w.add("root", "admin")
    yield w
    w.close()


def _propose_and_sign(world: World, zone_id: str, ring: list, signatories: list[str]) -> None:
    r = world.client.post(
        "/zones",
        json={"document": zone_doc(zone_id, ring, party="A"), "signatories": signatories},
        headers=world.auth("A"),
    )
    assert r.status_code == 201, r.text
    for name in r.json()["required"]:
        signed = world.client.post(
            f"/zones/{zone_id}/sign", json={"version": 1, "hash": r.json()["hash"]}, headers=world.auth(name)
        )
        assert signed.status_code == 200, signed.text


def test_a_zone_its_proposer_signed_alone_does_not_refuse_the_others(world: World) -> None:
    _propose_and_sign(world, "claim", square(36.0, 35.0, 36.5, 35.5), [])
    inside = square(36.1, 35.1, 36.2, 35.2)
    r = world.client.post("/operations", json=op_doc("op-b", "B", inside), headers=world.auth("B"))
    assert r.status_code == 201, r.text
    assert [(c["kind"], c["b"], c["entry"]) for c in r.json()["conflicts"]] == [
        ("declared_zone", "claim", "forbidden")
    ]
    [message_id] = r.json()["messages"]
    for name in ("A", "B"):
        seen = world.client.get(f"/messages/{message_id}", headers=world.auth(name)).json()
        assert seen["body"]["template"] == "conflict.declared_zone" and "claim" in seen["text"]
    listed = {z["id"]: z for z in world.client.get("/zones", headers=world.auth("C")).json()}
    assert (listed["claim"]["origin"], listed["claim"]["binds"]) == ("negotiated", ["A"])
    assert world.client.post("/zones/claim/withdraw", headers=world.auth("A")).status_code == 200
    withdrawn = world.client.get("/zones/claim", headers=world.auth("C")).json()
    assert (withdrawn["state"], withdrawn["binds"]) == ("withdrawn", [])


def test_imported_zones_are_listed_and_bind_every_party_they_restrict(world: World) -> None:
    agreed = zone_doc("imp", square(38.0, 35.0, 38.5, 35.5), party="A", name="Agreed")
    import_features(world.service, read_zones(agreed, source="x"), [])
    _propose_and_sign(world, "neg", square(36.0, 35.0, 36.5, 35.5), ["B"])

    listed = world.client.get("/zones", headers=world.auth("Obs")).json()
    assert [(z["id"], z["origin"], z["state"], z["binds"]) for z in listed] == [
        ("imp", "imported", "active", "all"),
        ("neg", "negotiated", "active", ["A", "B"]),
    ]
    imp = next(z for z in listed if z["id"] == "imp")
    assert (imp["name"], imp["proposer"], imp["active_version"], imp["ends_at"]) == (
        "Agreed", "A", 1, "2017-07-12T00:00:00Z",
    )  # fmt: skip
    assert [z["id"] for z in world.client.get("/zones?state=proposed", headers=world.auth("A")).json()] == []
    one = world.client.get("/zones/imp", headers=world.auth("C"))
    assert one.status_code == 200 and one.json()["steps"] == [] and one.json()["binds"] == "all"
    [version] = world.client.get("/zones/imp/versions", headers=world.auth("C")).json()
    assert version["hash"] == imp["current_hash"] and version["author"] == "operator"
    diff = world.client.get("/zones/imp/diff?from=1&to=1", headers=world.auth("C")).json()
    assert diff["properties"]["added_km2"] == 0
    # It is not negotiated: signing it is a conflict, not a missing zone.
    r = world.client.post(
        "/zones/imp/sign", json={"version": 1, "hash": imp["current_hash"]}, headers=world.auth("B")
    )
    assert r.status_code == 409 and r.json()["field"] == "zone_id" and "imported" in r.json()["detail"]

    # Binding on C, who signed nothing: refused, as before.
    r = world.client.post(
        "/operations", json=op_doc("op-c", "C", square(38.1, 35.1, 38.2, 35.2)), headers=world.auth("C")
    )
    assert r.status_code == 409 and [c["kind"] for c in r.json()["conflicts"]] == ["zone"]


@pytest.mark.parametrize("role_party", ["Obs", "Aud", "root"])
def test_signatories_must_hold_a_role_that_signs(world: World, role_party: str) -> None:
    document = zone_doc("z", square(36, 35, 36.5, 35.5), party="A")
    r = world.client.post(
        "/zones", json={"document": document, "signatories": ["G", role_party]}, headers=world.auth("A")
    )
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "signatories[1]" and "cannot sign" in r.json()["detail"]
    assert world.client.get("/zones", headers=world.auth("A")).json() == []
