"""The map's reads: GET /tracks (the live picture with trails), GET /alerts (open live alerts),
`?at=` on GET /zones and /operations (the time slider), and stream tickets (how a browser's
EventSource authenticates without a header), each with its problem+json on bad input."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_kit import World, op_doc, sqlite_url, square, zone_doc

from truceline.domain.clock import to_epoch_s
from truceline.service.tracks import TRAIL_POINTS

KM_PER_DEG_LAT = 111.2


@pytest.fixture
def world(tmp_path: Path, clock: object) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("A")
    w.add("B", language="fr")
    w.add("C")
    w.add("G", "guarantor")
    yield w
    w.close()


def state(track_id: str, t: float, lat: float, **extra: Any) -> dict[str, Any]:
    return {"id": track_id, "time": t, "lat": lat, "lon": 36.0, "alt_m": 3000.0, "alt_ref": "AMSL",
            "velocity": 200.0, "heading": 0.0, "vertrate": 0.0, "onground": False, **extra}


def post_tracks(world: World, name: str, states: list[dict[str, Any]]) -> None:
    r = world.client.post("/tracks", json={"states": states}, headers=world.auth(name))
    assert r.status_code == 202 and r.json()["refused"] == [], r.text


def problem(r: Any, status: int, field: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["field"] == field, body
    return body


def test_the_live_picture_has_each_track_with_party_callsign_heading_and_a_short_trail(world: World) -> None:
    t0 = to_epoch_s(world.clock.now)
    for k in range(TRAIL_POINTS + 3):  # more reports than a trail keeps
        post_tracks(world, "A", [state("a1", t0 + k, 35.0 + 0.01 * k, callsign="ALPHA1", heading=10.0)])
    post_tracks(world, "B", [state("b1", t0 + 1, 34.0, heading=200.0)])
    r = world.client.get("/tracks", headers=world.auth("G"))  # a guarantor sees every track
    assert r.status_code == 200, r.text
    a1, b1 = r.json()
    assert (a1["id"], a1["party"], a1["callsign"], a1["heading"]) == ("a1", "A", "ALPHA1", 10.0)
    assert (b1["id"], b1["party"], b1["callsign"], b1["heading"]) == ("b1", "B", "", 200.0)
    # The last TRAIL_POINTS positions, oldest first, the latest being the track's own.
    assert len(a1["trail"]) == TRAIL_POINTS
    assert [p[0] for p in a1["trail"]] == sorted(p[0] for p in a1["trail"])
    assert a1["trail"][-1] == [a1["time"], a1["lon"], a1["lat"]]
    assert a1["trail"][0][0] == t0 + 3
    assert b1["trail"] == [[b1["time"], 36.0, 34.0]]


def test_a_party_sees_its_own_tracks_and_only_the_others_that_concern_it(world: World) -> None:
    """Need-to-know, as GET /picture: another party's track is shown to a party only within
    reach of one of its own tracks (both speeds times the look-ahead, plus the minimum)."""
    t = to_epoch_s(world.clock.now)
    post_tracks(world, "A", [state("a1", t, 35.0)])
    post_tracks(world, "B", [state("b-near", t, 35.5), state("b-far", t, 20.0)])  # 56 km; 1,670 km
    post_tracks(world, "C", [state("c1", t, 5.0)])

    def seen(name: str) -> set[str]:
        r = world.client.get("/tracks", headers=world.auth(name))
        assert r.status_code == 200, r.text
        return {track["id"] for track in r.json()}

    assert seen("A") == {"a1", "b-near"}
    assert seen("B") == {"a1", "b-near", "b-far"}
    assert seen("C") == {"c1"}
    assert seen("G") == {"a1", "b-near", "b-far", "c1"}


def test_a_silent_track_leaves_the_picture_with_its_trail(world: World) -> None:
    t0 = to_epoch_s(world.clock.now)
    post_tracks(world, "A", [state("a1", t0, 35.0)])
    world.clock.now += timedelta(seconds=120)  # past the picture's 60 s
    assert world.client.get("/tracks", headers=world.auth("A")).json() == []
    post_tracks(world, "B", [state("a1", to_epoch_s(world.clock.now), 35.0)])  # the id is free again
    (again,) = world.client.get("/tracks", headers=world.auth("G")).json()
    assert again["party"] == "B" and len(again["trail"]) == 1


def test_reading_tracks_needs_a_token_and_takes_no_query(world: World) -> None:
    problem(world.client.get("/tracks"), 401, "Authorization")
    problem(world.client.get("/tracks?since=1", headers=world.auth("A")), 422, "since")
    problem(world.client.get("/alerts?state=open", headers=world.auth("A")), 422, "state")


def test_open_alerts_are_listed_to_the_parties_told_and_to_guarantors(world: World) -> None:
    d_deg = 20.0 / KM_PER_DEG_LAT  # head-on, 20 km apart: a conflict within the look-ahead
    t = to_epoch_s(world.clock.now)
    post_tracks(world, "A", [state("a1", t, 35.0)])
    post_tracks(world, "B", [state("b1", t, 35.0 + d_deg, heading=180.0)])
    world.app.state.live.tick(world.clock.now)
    seen = {n: world.client.get("/alerts", headers=world.auth(n)).json() for n in ("A", "B", "C", "G")}
    (alert,) = seen["A"]
    assert alert["kind"] == "conflict" and alert["state"] == "open"
    assert alert["subject"] == ["a1", "b1"] and sorted(alert["parties"]) == ["A", "B"]
    assert alert["latest"]["data"]["tlos_s"] > 0
    assert seen["B"] == seen["A"] and seen["G"] == seen["A"]
    assert seen["C"] == []  # not told of it


def test_zones_at_a_moment_are_those_with_a_volume_in_force_then(world: World) -> None:
    # Proposed at the clock's 06:00, before its window opens: the window alone decides here.
    doc = zone_doc("z1", square(36.0, 35.0, 36.5, 35.5), party="A",
                   start="2017-07-10T12:00:00Z", end="2017-07-12T00:00:00Z")
    r = world.client.post("/zones", json={"document": doc, "signatories": ["B"]}, headers=world.auth("A"))
    assert r.status_code == 201, r.text

    def listed(at: str) -> list[str]:
        answer = world.client.get("/zones", params={"at": at}, headers=world.auth("B"))
        assert answer.status_code == 200, answer.text
        return [z["id"] for z in answer.json()]

    assert listed("2017-07-10T11:59:59Z") == []
    assert listed("2017-07-10T12:00:00Z") == ["z1"]  # [start, end)
    assert listed("2017-07-11T12:00:00+02:00") == ["z1"]
    assert listed("2017-07-12T00:00:00Z") == []
    every = world.client.get("/zones", headers=world.auth("B")).json()
    assert [z["id"] for z in every] == ["z1"]
    # With ?state= too: both filters hold.
    r = world.client.get("/zones", params={"at": "2017-07-11T00:00:00Z", "state": "active"},
                         headers=world.auth("B"))
    assert r.json() == []


@pytest.mark.parametrize("bad", ["2017-07-11T00:00:00", "yesterday", "2017-13-01T00:00:00Z", ""])
def test_a_moment_without_an_offset_or_not_a_time_is_a_422_naming_at(world: World, bad: str) -> None:
    for path in ("/zones", "/operations"):
        problem(world.client.get(path, params={"at": bad}, headers=world.auth("A")), 422, "at")


def test_operations_at_a_moment_keep_the_volumes_in_force_then(world: World) -> None:
    doc = op_doc("op1", "A", square(36.0, 35.0, 36.2, 35.2),
                 start="2017-07-10T08:00:00Z", end="2017-07-10T10:00:00Z")
    r = world.client.post("/operations", json=doc, headers=world.auth("A"))
    assert r.status_code == 201, r.text

    def listed(at: str) -> list[dict[str, Any]]:
        answer = world.client.get("/operations", params={"at": at}, headers=world.auth("A"))
        assert answer.status_code == 200, answer.text
        return answer.json()

    (op,) = listed("2017-07-10T09:00:00Z")
    assert op["id"] == "op1" and [v["index"] for v in op["volumes"]] == [0] and op["redacted"] is False
    assert listed("2017-07-10T07:59:59Z") == []
    assert listed("2017-07-10T10:00:00Z") == []
    assert [o["id"] for o in world.client.get("/operations", headers=world.auth("A")).json()] == ["op1"]


def test_a_stream_ticket_opens_the_stream_once_and_never_shows_the_token(world: World) -> None:
    r = world.client.post("/stream/tickets", headers=world.auth("A"))
    assert r.status_code == 201, r.text
    ticket = r.json()["ticket"]
    assert world.tokens["A"] not in ticket and r.json()["expires_in_s"] > 0
    opened = world.client.get("/stream", params={"ticket": ticket, "once": "true"})
    assert opened.status_code == 200, opened.text
    assert opened.headers["content-type"].startswith("text/event-stream")
    # Once only: a second use, or a ticket this server never issued, is a 401 naming it.
    body = problem(world.client.get("/stream", params={"ticket": ticket, "once": "true"}), 401, "ticket")
    assert body["type"] == "urn:truceline:problem:unauthorized"
    problem(world.client.get("/stream", params={"ticket": "st_nothing", "once": "true"}), 401, "ticket")
    # Two tickets in one URL are refused (and both spent) rather than one picked.
    t1 = world.client.post("/stream/tickets", headers=world.auth("A")).json()["ticket"]
    t2 = world.client.post("/stream/tickets", headers=world.auth("A")).json()["ticket"]
    problem(world.client.get(f"/stream?ticket={t1}&ticket={t2}&once=true"), 401, "ticket")
    # Asking for one needs the token.
    problem(world.client.post("/stream/tickets"), 401, "Authorization")


def test_a_ticket_admits_the_party_it_was_issued_to_and_expires(world: World) -> None:
    sent = world.client.post("/messages", json={"to": ["B"], "text": "hello", "language": "en"},
                             headers=world.auth("A"))
    assert sent.status_code == 201, sent.text
    ticket = world.client.post("/stream/tickets", headers=world.auth("B")).json()["ticket"]
    events = world.client.get("/stream", params={"ticket": ticket, "once": "true"}).text
    assert "event: message" in events and "hello" in events
    book = world.app.state.stream_tickets
    book.ttl_s = 0.0  # issued already expired
    stale = world.client.post("/stream/tickets", headers=world.auth("B")).json()["ticket"]
    problem(world.client.get("/stream", params={"ticket": stale, "once": "true"}), 401, "ticket")
