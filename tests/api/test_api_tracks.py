"""POST /tracks and continuous detection over HTTP, on SQLite and the real PostgreSQL: rows
refused one by one, another party's track refused, and two converging tracks giving one alert
that is opened, updated and closed, told on the hotline, the stream and the log."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_kit import World, op_doc, running_server, sqlite_url, square, zone_doc

from truceline.api.app import create_app
from truceline.domain.clock import to_epoch_s
from truceline.store.projections import snapshot

KM_PER_DEG_LAT = 111.2


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path, clock: object) -> Iterator[World]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    w = World(url, clock)
    w.add("A")
    w.add("B", language="fr")
    w.add("G", "guarantor")
    yield w
    w.close()


def state(track_id: str, t: float, lat: float, lon: float = 36.0, **extra: Any) -> dict[str, Any]:
    return {"id": track_id, "time": t, "lat": lat, "lon": lon, "alt_m": 3000.0, "alt_ref": "AMSL",
            "velocity": 200.0, "heading": 0.0, "vertrate": 0.0, "onground": False, **extra}


def post(world: World, name: str, states: list[dict[str, Any]]) -> dict[str, Any]:
    r = world.client.post("/tracks", json={"states": states}, headers=world.auth(name))
    assert r.status_code == 202, r.text
    return r.json()


def now(world: World) -> float:
    return to_epoch_s(world.clock.now)


def test_json_rows_are_refused_one_by_one_and_the_good_ones_kept(world: World) -> None:
    t = now(world)
    answer = post(world, "A", [
        state("a1", t, 35.0),
        state("a2", t, 95.0),  # latitude out of range
        {**state("a3", t, 35.1), "velocity": "fast"},
        {**state("a4", t, 35.2), "alt_m": None},  # airborne without an altitude
        {**state("bad id!", t, 35.3)},
        {**state("a5", t, 35.4), "alt_ref": "QNH"},
        {**state("a6", t, 35.5), "colour": "red"},
        state("a7", t + 3600, 35.6),  # an hour ahead of the server's clock
        state("a8", t - 3600, 35.7),  # older than the picture keeps
    ])  # fmt: skip
    assert answer["accepted"] == 1
    assert [(r["index"], r["field"]) for r in answer["refused"]] == [
        (1, "lat"), (2, "velocity"), (3, "alt_m"), (4, "id"), (5, "alt_ref"), (6, "colour"), (7, "time"),
        (8, "time"),
    ]  # fmt: skip
    assert all(r["reason"] for r in answer["refused"])
    assert world.app.state.picture.held("a1").track.party == "A"
    assert len(world.app.state.picture) == 1


def test_csv_body_with_opensky_columns(world: World) -> None:
    t = int(now(world))
    body = (
        "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,geoaltitude\n"
        f"{t},4b1814,35.0,36.0,200,90,0,SWR123,False,3000\n"
        f"{t},4b1815,,36.0,200,90,0,SWR124,False,3000\n"
        f"{t},4b1816,35.0,36.0,200,90,0,SWR125\n"
        f"{t},4b1817,35.2,36.1,200,90,0,,False,3100\n"
    )
    r = world.client.post("/tracks", content=body, headers=world.auth("B", **{"Content-Type": "text/csv"}))
    assert r.status_code == 202, r.text
    assert r.json()["accepted"] == 2
    assert [(x["index"], x["field"]) for x in r.json()["refused"]] == [(1, "lat"), (2, "(row)")]
    held = world.app.state.picture.held("4b1814")
    assert (held.track.party, held.callsign, str(held.track.altitude_reference)) == ("B", "SWR123", "W84")


def test_a_csv_without_the_required_columns_and_an_empty_batch_are_422(world: World) -> None:
    csv = world.auth("A", **{"Content-Type": "text/csv"})
    r = world.client.post("/tracks", content="time,lat\n1,2\n", headers=csv)
    assert r.status_code == 422 and "icao24" in r.json()["detail"], r.text
    r = world.client.post("/tracks", json={"states": []}, headers=world.auth("A"))
    assert r.status_code == 422 and r.json()["field"] == "states", r.text
    r = world.client.post("/tracks", content="x", headers=world.auth("A", **{"Content-Type": "text/plain"}))
    assert r.status_code == 415 and "text/csv" in r.json()["detail"], r.text


def test_a_party_submits_only_its_own_tracks(world: World) -> None:
    t = now(world)
    post(world, "A", [state("a1", t, 35.0)])
    # Naming another party is refused whole: a party speaks for itself only.
    on_behalf = {"states": [state("b1", t, 35.0, party="A")]}
    r = world.client.post("/tracks", json=on_behalf, headers=world.auth("B"))
    assert r.status_code == 403 and r.json()["field"] == "states[0].party", r.text
    assert world.app.state.picture.held("b1") is None
    # A track id that A reports is refused for B, row by row; B's own row is kept.
    answer = post(world, "B", [state("a1", t + 1, 35.5), state("b2", t + 1, 35.0)])
    assert answer["accepted"] == 1 and [(x["index"], x["field"]) for x in answer["refused"]] == [(0, "id")]
    assert world.app.state.picture.held("a1").track.lat == 35.0
    # A guarantor reports no tracks.
    r = world.client.post("/tracks", json={"states": [state("g1", t, 35.0)]}, headers=world.auth("G"))
    assert r.status_code == 403, r.text


def _types(world: World) -> list[str]:
    with world.register.engine.connect() as conn:
        return [e.type for e in world.register.ledger.entries(conn, 0, world.register.ledger.size(conn))]


def _stream(world: World, name: str) -> list[tuple[str, dict[str, Any]]]:
    r = world.client.get("/stream", params={"once": "true"}, headers=world.auth(name))
    assert r.status_code == 200, r.text
    events = []
    for block in r.text.split("\n\n"):
        fields = [line for line in block.splitlines() if ": " in line and not line.startswith(":")]
        lines = dict(line.split(": ", 1) for line in fields)
        if "event" in lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def _scan(world: World) -> Any:
    return world.app.state.live.tick(world.clock.now)


def test_two_converging_tracks_give_one_alert_opened_updated_and_closed(world: World) -> None:
    live = world.app.state.live
    # A's track flies north, B's south, 20 km apart at 3,000 m: loss of 5 NM in about 27 s.
    d_deg = 20.0 / KM_PER_DEG_LAT
    t = now(world)
    post(world, "A", [state("a1", t, 35.0)])
    post(world, "B", [state("b1", t, 35.0 + d_deg, heading=180.0)])
    opened = _scan(world)
    assert [(e.change, e.finding.kind, e.finding.subject) for e in opened.events] == [
        ("opened", "conflict", ("a1", "b1"))
    ]
    alert_id = opened.events[0].alert_id
    # Still converging two seconds on: the same episode, nothing new told.
    world.clock.now += timedelta(seconds=2)
    t = now(world)
    post(world, "A", [state("a1", t, 35.0 + 0.4 / KM_PER_DEG_LAT)])
    post(world, "B", [state("b1", t, 35.0 + d_deg - 0.4 / KM_PER_DEG_LAT, heading=180.0)])
    assert _scan(world).events == []
    # Within 5 NM now: the alert is updated (a loss of separation), not raised again.
    world.clock.now += timedelta(seconds=28)
    t = now(world)
    post(world, "A", [state("a1", t, 35.0 + 6.0 / KM_PER_DEG_LAT)])
    post(world, "B", [state("b1", t, 35.0 + d_deg - 6.0 / KM_PER_DEG_LAT, heading=180.0)])
    updated = _scan(world)
    assert [(e.change, e.alert_id, e.finding.stage) for e in updated.events] == [("updated", alert_id, "los")]
    # They part: far apart and flying away from each other; the alert closes once it has not been
    # found for clear_after_s.
    world.clock.now += timedelta(seconds=2)
    t = now(world)
    post(world, "A", [state("a1", t, 34.0, heading=180.0)])
    post(world, "B", [state("b1", t, 36.5)])
    assert _scan(world).events == []
    world.clock.now += timedelta(seconds=live.settings.clear_after_s + 1)
    t = now(world)
    post(world, "A", [state("a1", t, 33.9, heading=180.0)])
    post(world, "B", [state("b1", t, 36.6)])
    closed = _scan(world)
    assert [(e.change, e.alert_id) for e in closed.events] == [("closed", alert_id)]
    assert _scan(world).events == []

    # The log: one opening, one update, one closing, each with the states that caused it.
    types = _types(world)
    counts = [types.count(f"alert.{change}") for change in ("opened", "updated", "closed")]
    assert counts == [1, 1, 1]
    # The hotline: one alert message to each side, in its language, and a closing note in its thread.
    inbox_b = world.client.get("/messages", headers=world.auth("B")).json()
    alerts_b = [m for m in inbox_b if m["about"] == {"kind": "alert", "id": alert_id}]
    assert [m["body"]["template"] for m in alerts_b] == ["alert.closed", "alert.tactical"]
    opening = alerts_b[1]
    assert opening["language"] == "fr" and "Alerte tactique" in opening["text"] and "a1" in opening["text"]
    assert alerts_b[0]["in_reply_to"] == opening["id"] and alerts_b[0]["deadline"] is None
    inbox_a = world.client.get("/messages", headers=world.auth("A")).json()
    assert [m["body"]["template"] for m in inbox_a if m["about"] == {"kind": "alert", "id": alert_id}] == [
        "alert.closed", "alert.tactical"]
    assert "has ended" in inbox_a[0]["text"]
    # The guarantor was not concerned.
    assert not [m for m in world.client.get("/messages", headers=world.auth("G")).json() if m["about"]]
    # The stream: typed events, with the alert as it stands.
    kinds = [(k, data.get("alert", {}).get("state")) for k, data in _stream(world, "A") if "." in k]
    assert kinds == [(f"conflict.{change}", "closed") for change in ("opened", "updated", "closed")]
    last = next(data for kind, data in _stream(world, "B") if kind == "conflict.closed")
    assert last["alert"]["subject"] == ["a1", "b1"]
    assert {s["id"] for s in last["alert"]["latest"]["states"]} == {"a1", "b1"}
    assert last["message"]["id"] == opening["id"]
    # The log verifies, and a rebuild gives the same tables.
    with world.register.engine.connect() as conn:
        assert world.register.ledger.verify(conn) == len(types)
        before = snapshot(conn)
    world.register.rebuild()
    with world.register.engine.connect() as conn:
        assert snapshot(conn) == before


def test_a_track_entering_a_zone_it_signed_and_one_it_did_not(world: World) -> None:
    for zone_id, ring, signatories in (("z-bound", square(36, 35, 36.5, 35.5), ["B", "G"]),
                                        ("z-declared", square(37, 35, 37.5, 35.5), [])):
        r = world.client.post(
            "/zones",
            json={"document": zone_doc(zone_id, ring, party="A", name=zone_id), "signatories": signatories},
            headers=world.auth("A"),
        )
        assert r.status_code == 201, r.text
        for name in r.json()["required"]:
            sign = {"version": 1, "hash": r.json()["hash"]}
            signed = world.client.post(f"/zones/{zone_id}/sign", json=sign, headers=world.auth(name))
            assert signed.status_code == 200, signed.text
    t = now(world)
    post(world, "B", [state("b1", t, 35.2, 36.2), state("b2", t, 34.95, 37.2)])
    found = {e.finding.subject: e for e in _scan(world).events}
    assert set(found) == {("b1", "z-bound"), ("b2", "z-declared")}
    assert found[("b1", "z-bound")].finding.data["binding"] is True
    assert found[("b1", "z-bound")].finding.stage == "inside"
    assert found[("b2", "z-declared")].finding.data["binding"] is False
    assert found[("b2", "z-declared")].finding.stage == "entering"
    inbox = world.client.get("/messages", headers=world.auth("B")).json()
    zone_alerts = [m for m in inbox if m["body"].get("template") == "alert.incursion"]
    texts = {m["body"]["params"]["zone"]: m["text"] for m in zone_alerts}
    assert "engage cette partie" in texts["z-bound"] and "ne l’engage donc pas" in texts["z-declared"]
    assert [k for k, _ in _stream(world, "A") if "." in k] == ["incursion.opened", "incursion.opened"]
    # The bound zone's signatories are told too (G signed it); the declared one has none but A.
    told_g = [d["alert"]["subject"] for k, d in _stream(world, "G") if k == "incursion.opened"]
    assert told_g == [["b1", "z-bound"]]


def test_the_server_scans_in_the_background_and_the_alert_reaches_the_stream(tmp_path: Path) -> None:
    world = World(sqlite_url(tmp_path), lambda: datetime.now(UTC))
    world.add("A")
    world.add("B")
    app = create_app(world.service, tick_interval_s=None, scan_interval_s=0.05, keepalive_s=0.2)
    try:
        with running_server(app) as url:
            t = to_epoch_s(datetime.now(UTC))
            for name, row in (("A", state("a1", t, 35.0)), ("B", state("b1", t, 35.1, heading=180.0))):
                r = httpx.post(url + "/tracks", json={"states": [row]}, headers=world.auth(name), timeout=10)
                assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
            received = ""
            with httpx.stream("GET", url + "/stream", headers=world.auth("B"), timeout=15.0) as r:
                # Ends at the first alert event, or after ~300 keep-alives (0.2 s each): bounded.
                for k, chunk in enumerate(r.iter_text()):
                    received += chunk
                    if "event: conflict.opened" in received or k > 300:
                        break
    finally:
        world.close()
    assert "event: conflict.opened" in received
    assert app.state.live.scans >= 1


def test_a_track_outside_its_filed_operation_is_non_conforming(world: World) -> None:
    plan = op_doc("op-a", "A", square(36, 35, 36.5, 35.5), lower_m=1000, upper_m=3500,
                  start="2017-07-10T05:00:00Z", end="2017-07-10T10:00:00Z")
    r = world.client.post("/operations", json=plan, headers=world.auth("A"))
    assert r.status_code == 201, r.text
    t = now(world)
    post(world, "A", [state("a1", t, 35.2, 36.2), {**state("a2", t, 35.3, 36.3), "alt_m": 5000.0}])
    (event,) = _scan(world).events
    found = (event.change, event.finding.kind, event.finding.subject)
    assert found == ("opened", "nonconformance", ("a2", "op-a"))
    assert event.finding.data["vertical_m"] == pytest.approx(1500.0)
    (message,) = [m for m in world.client.get("/messages", headers=world.auth("A")).json()
                  if m["body"].get("template") == "alert.non_conforming"]
    assert "op-a" in message["text"] and "1,500 m" in message["text"]
    assert [k for k, _ in _stream(world, "A") if "." in k] == ["nonconformance.opened"]
