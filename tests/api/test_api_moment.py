"""`?at=` on GET /zones and /operations: the picture as the register knew it at that moment
(service/moment.py): a zone proposed later is absent, one signed later shows as proposed, one
amended later shows its old version, one withdrawn later as it was; operations as the version
in force then; imports by their windows alone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_kit import World, op_doc, sqlite_url, square, zone_doc

from truceline.domain.clock import ms_text, to_ms
from truceline.io.geojson import read_operations, read_zones
from truceline.service.importing import import_features

RING_1 = square(36.0, 35.0, 36.5, 35.5)
RING_2 = square(36.0, 35.0, 36.8, 35.5)  # the amended border: 0.3 degrees further east


# On PostgreSQL too: the operations' query of a moment is a grouped one (store/operations.py).
@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path, clock: object) -> Iterator[World]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    w = World(url, clock)
    for name in ("A", "B", "C"):
        w.add(name)
    w.add("G", "guarantor")
    yield w
    w.close()


def later(world: World, hours: float = 1.0) -> str:
    """Move the register's clock on by ``hours`` and give the moment in between, RFC 3339."""
    world.clock.now += timedelta(hours=hours / 2)
    moment = ms_text(to_ms(world.clock.now))
    world.clock.now += timedelta(hours=hours / 2)
    return moment


def ok(r: Any, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json()


def zones_at(world: World, at: str | None, reader: str = "B", **params: str) -> dict[str, dict[str, Any]]:
    query = {**params, **({"at": at} if at else {})}
    return {z["id"]: z for z in ok(world.client.get("/zones", params=query, headers=world.auth(reader)))}


def propose(world: World, zone_id: str, ring: list[list[list[float]]], **kw: Any) -> dict[str, Any]:
    body = {"document": zone_doc(zone_id, ring, party="A", **kw), "signatories": ["B"]}
    return ok(world.client.post("/zones", json=body, headers=world.auth("A")), 201)


def sign(world: World, name: str, zone_id: str, version: int, digest: str) -> dict[str, Any]:
    body = {"version": version, "hash": digest}
    return ok(world.client.post(f"/zones/{zone_id}/sign", json=body, headers=world.auth(name)))


def counter(world: World, name: str, zone_id: str, ring: list[list[list[float]]]) -> dict[str, Any]:
    body = {"document": zone_doc(zone_id, ring, party="A")}
    return ok(world.client.post(f"/zones/{zone_id}/versions", json=body, headers=world.auth(name)), 201)


def shown_ring(world: World, zone: dict[str, Any]) -> Any:
    """The ring of the version a picture draws (in force, else current), as the map picks it."""
    version = zone["active_version"] or zone["current_version"]
    versions = ok(world.client.get(f"/zones/{zone['id']}/versions", headers=world.auth("B")))
    (record,) = [v["zone"] for v in versions if v["version"] == version]
    return [[list(p) for p in record["volumes"][0]["shape"]["ring"]]]


def test_a_zone_proposed_after_the_moment_is_absent_then(world: World) -> None:
    before = later(world)
    propose(world, "z1", RING_1)  # its window, 2017-07-10 to 07-12, covers both moments
    after = later(world)
    assert zones_at(world, before) == {}
    assert list(zones_at(world, after)) == ["z1"]


def test_a_zone_active_now_that_was_only_proposed_then_shows_as_proposed(world: World) -> None:
    p = propose(world, "z1", RING_1)
    sign(world, "A", "z1", 1, p["hash"])
    proposed_then = later(world)
    assert sign(world, "B", "z1", 1, p["hash"])["active"] is True
    now = zones_at(world, None)["z1"]
    assert (now["state"], now["active_version"], now["binds"]) == ("active", 1, ["A", "B"])
    then = zones_at(world, proposed_then)["z1"]
    assert then["state"] == "proposed" and then["active_version"] is None
    assert then["signed_current"] == ["A"] and then["binds"] == []
    # The same fields as without `at`, only their values of then.
    assert then.keys() == now.keys()
    assert {k: then[k] for k in ("current_version", "current_hash", "required", "ends_at", "origin")} == {
        k: now[k] for k in ("current_version", "current_hash", "required", "ends_at", "origin")
    }
    # ?state= is the state of then too.
    assert list(zones_at(world, proposed_then, state="proposed")) == ["z1"]
    assert zones_at(world, proposed_then, state="active") == {}


def test_a_zone_amended_later_shows_its_old_version_then(world: World) -> None:
    p = propose(world, "z1", RING_1)
    sign(world, "A", "z1", 1, p["hash"])
    sign(world, "B", "z1", 1, p["hash"])
    v1_in_force = later(world)
    v2 = counter(world, "B", "z1", RING_2)
    sign(world, "A", "z1", 2, v2["hash"])
    v2_on_the_table = later(world)
    sign(world, "B", "z1", 2, v2["hash"])
    now = zones_at(world, None)["z1"]
    assert (now["active_version"], now["current_version"]) == (2, 2)
    assert shown_ring(world, now) == RING_2

    then = zones_at(world, v1_in_force)["z1"]
    assert (then["state"], then["active_version"], then["current_version"]) == ("active", 1, 1)
    assert then["current_hash"] == p["hash"] and then["signed_current"] == ["A", "B"]
    assert shown_ring(world, then) == RING_1
    # Version 2 proposed and signed by A only: version 1 still in force, and drawn.
    between = zones_at(world, v2_on_the_table)["z1"]
    assert (between["state"], between["active_version"], between["current_version"]) == ("active", 1, 2)
    assert between["current_hash"] == v2["hash"] and between["signed_current"] == ["A"]
    assert between["binds"] == ["A", "B"]
    assert shown_ring(world, between) == RING_1


def test_an_amended_version_with_another_window_is_listed_by_the_window_of_then(world: World) -> None:
    p = propose(world, "z1", RING_1, start="2017-07-11T00:00:00Z", end="2017-07-12T00:00:00Z")
    sign(world, "A", "z1", 1, p["hash"])
    sign(world, "B", "z1", 1, p["hash"])
    moment = later(world)  # 2017-07-10, before version 1's window: not in force then
    v2 = counter(world, "B", "z1", RING_2)  # version 2 starts at 00:00 on the 10th
    sign(world, "A", "z1", 2, v2["hash"])
    sign(world, "B", "z1", 2, v2["hash"])
    assert "z1" in zones_at(world, ms_text(to_ms(world.clock.now)))
    assert zones_at(world, moment) == {}


def test_a_zone_withdrawn_or_rejected_later_shows_as_it_was(world: World) -> None:
    p = propose(world, "z1", RING_1)
    sign(world, "A", "z1", 1, p["hash"])
    sign(world, "B", "z1", 1, p["hash"])
    q = propose(world, "z2", square(37.0, 35.0, 37.5, 35.5))
    active_then = later(world)
    ok(world.client.post("/zones/z1/withdraw", headers=world.auth("A")))
    body = {"version": 1, "hash": q["hash"], "reason": "too far north"}
    ok(world.client.post("/zones/z2/reject", json=body, headers=world.auth("B")))
    after = later(world)
    then = zones_at(world, active_then)
    assert (then["z1"]["state"], then["z1"]["binds"]) == ("active", ["A", "B"])
    assert then["z2"]["state"] == "proposed"
    afterwards = zones_at(world, after)
    assert (afterwards["z1"]["state"], afterwards["z1"]["binds"]) == ("withdrawn", [])
    assert afterwards["z2"]["state"] == "rejected"


@pytest.mark.parametrize("bad", ["10:42", "2017-07-10T10:42:00", "0.5", "2017-07-10T25:00:00Z"])
def test_a_bad_moment_is_still_a_422_problem_naming_at(world: World, bad: str) -> None:
    for path in ("/zones", "/operations"):
        r = world.client.get(path, params={"at": bad}, headers=world.auth("A"))
        assert r.status_code == 422, r.text
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.json()["field"] == "at"


def ops_at(world: World, at: str, reader: str = "A") -> dict[str, dict[str, Any]]:
    found = ok(world.client.get("/operations", params={"at": at}, headers=world.auth(reader)))
    return {o["id"]: o for o in found}


def test_an_operation_filed_later_is_absent_and_one_cancelled_later_is_shown(world: World) -> None:
    # The windows open at once so that every moment below is inside them.
    window = {"start": "2017-07-10T00:00:00Z", "end": "2017-07-11T00:00:00Z"}
    doc = op_doc("op1", "A", square(36.0, 35.0, 36.2, 35.2), **window)
    before_filing = later(world)
    ok(world.client.post("/operations", json=doc, headers=world.auth("A")), 201)
    filed = later(world)
    moved = op_doc("op1", "A", square(36.1, 35.0, 36.3, 35.2), **window)
    ok(world.client.put("/operations/op1", json=moved, headers=world.auth("A")))
    updated = later(world)
    ok(world.client.post("/operations/op1/cancel", headers=world.auth("A")))
    cancelled = later(world)

    assert ops_at(world, before_filing) == {}
    (v1,) = ops_at(world, filed).values()
    assert v1["volumes"][0]["shape"]["ring"][0] == [36.0, 35.0] and v1["state"] == "accepted"
    (v2,) = ops_at(world, updated).values()  # cancelled later: shown as it was
    assert v2["volumes"][0]["shape"]["ring"][0] == [36.1, 35.0] and v2["state"] == "accepted"
    assert ops_at(world, cancelled) == {}
    assert ok(world.client.get("/operations", headers=world.auth("A"))) == []


def test_need_to_know_applies_to_the_picture_of_then(world: World) -> None:
    window = {"start": "2017-07-10T00:00:00Z", "end": "2017-07-11T00:00:00Z"}
    ok(world.client.post("/operations", json=op_doc("b1", "B", square(36.0, 35.0, 36.2, 35.2), **window),
                         headers=world.auth("B")), 201)
    ok(world.client.post("/operations", json=op_doc("c1", "C", square(38.0, 35.0, 38.2, 35.2), **window),
                         headers=world.auth("C")), 201)
    # A's own operation over B's: A may see B's volume (redacted), never C's far away one.
    ok(world.client.post("/operations", json=op_doc("a1", "A", square(36.1, 35.1, 36.3, 35.3), **window),
                         headers=world.auth("A")), 201)
    overlapping = later(world)
    ok(world.client.post("/operations/a1/cancel", headers=world.auth("A")))
    alone = later(world)
    then = ops_at(world, overlapping, "A")
    assert sorted(then) == ["a1", "b1"] and then["b1"]["redacted"] is True and "state" not in then["b1"]
    assert ops_at(world, alone, "A") == {}  # nothing of A's concerns B's any more
    assert sorted(ops_at(world, alone, "G")) == ["b1", "c1"]  # a guarantor sees every volume


def test_imports_are_shown_by_their_windows_whatever_the_import_s_time(world: World) -> None:
    world.clock.now = datetime.fromisoformat("2026-01-01T00:00:00+00:00")  # long after the windows
    zones = read_zones(zone_doc("imp", RING_1, party="A", restricts="all"), source="test")
    operations = read_operations(
        op_doc("op-imp", "C", square(38.0, 35.0, 38.2, 35.2), start="2017-07-10T08:00:00Z",
               end="2017-07-10T10:00:00Z"), source="test")
    import_features(world.service, zones, operations)
    assert zones_at(world, "2017-07-10T09:00:00Z")["imp"]["state"] == "active"
    assert list(ops_at(world, "2017-07-10T09:00:00Z", "C")) == ["op-imp"]
    assert ops_at(world, "2017-07-10T10:00:00Z", "C") == {}  # [start, end)
    assert zones_at(world, "2017-07-12T00:00:00Z") == {}
