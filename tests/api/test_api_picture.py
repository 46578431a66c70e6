"""GET /picture and the TAK bridge: each reader sees its own tracks as friends and the others'
as neutral, only those that concern it (need-to-know), and a TCP client of ``truceline tak``
reads CoT events (XML and TAK protocol v1) that a CoT parser accepts, stale honoured."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import takproto
from api_kit import World, free_port, running_server, sqlite_url

from truceline.cli.tak import run_bridge
from truceline.domain.clock import to_epoch_s

KM_PER_DEG_LAT = 111.2


@pytest.fixture
def world(tmp_path: Path, clock: object) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("A")
    w.add("B")
    w.add("G", "guarantor")
    yield w
    w.close()


def state(track_id: str, t: float, lat: float, heading: float = 0.0, **extra: Any) -> dict[str, Any]:
    return {"id": track_id, "time": t, "lat": lat, "lon": 36.0, "alt_m": 3000.0, "alt_ref": "W84",
            "velocity": 200.0, "heading": heading, "vertrate": 0.0, "onground": False, **extra}


def report(world: World) -> float:
    """A's a1 and B's b1 converging (20 km apart), B's b2 1,000 km away; one scan."""
    t = to_epoch_s(world.clock.now)
    d_deg = 20.0 / KM_PER_DEG_LAT
    for name, states in (("A", [state("a1", t, 35.0, callsign="ALPHA1")]),
                         ("B", [state("b1", t, 35.0 + d_deg, 180.0), state("b2", t, 44.0)])):
        r = world.client.post("/tracks", json={"states": states}, headers=world.auth(name))
        assert r.status_code == 202 and r.json()["refused"] == [], r.text
    world.app.state.live.tick(world.clock.now)
    return t


def picture(world: World, name: str) -> dict[str, Any]:
    r = world.client.get("/picture", headers=world.auth(name))
    assert r.status_code == 200, r.text
    return r.json()


def test_each_reader_sees_its_own_as_friends_and_only_the_others_that_concern_it(world: World) -> None:
    report(world)
    seen = {name: {t["id"]: t["own"] for t in picture(world, name)["tracks"]} for name in ("A", "B", "G")}
    assert seen["A"] == {"a1": True, "b1": False}  # b2 is 1,000 km away: none of A's business
    assert seen["B"] == {"a1": False, "b1": True, "b2": True}
    assert seen["G"] == {"a1": False, "b1": False, "b2": False}  # the guarantor watches it all
    # The conflict a1 / b1 was told to A and B, so each sees it; the guarantor sees every alert.
    for name in ("A", "B", "G"):
        alerts = picture(world, name)["alerts"]
        assert [(a["kind"], a["subject"]) for a in alerts] == [("conflict", ["a1", "b1"])]
    mine = next(t for t in picture(world, "A")["tracks"] if t["id"] == "a1")
    assert mine["callsign"] == "ALPHA1" and mine["hae_m"] == 3000.0 and mine["alt_ref"] == "W84"


def test_an_auditor_may_not_read_the_picture(world: World) -> None:
    world.add("X", "auditor")
    assert world.client.get("/picture", headers=world.auth("X")).status_code == 403
    assert world.client.get("/picture").status_code == 401


def _xml_events(data: bytes) -> list[Any]:
    head = b"<?xml"
    return [takproto.parse_proto(bytearray(head + chunk)) for chunk in data.split(head) if chunk.strip()]


def _stream_events(data: bytes) -> list[Any]:
    """Split TAK protocol v1 stream framing: 0xbf, a varint length, the message."""
    events, i = [], 0
    while i < len(data):
        assert data[i] == 0xBF
        length, shift, j = 0, 0, i + 1
        while True:
            byte = data[j]
            length |= (byte & 0x7F) << shift
            j += 1
            shift += 7
            if not byte & 0x80:
                break
        if j + length > len(data):
            break  # a partial last frame
        events.append(takproto.parse_proto(bytearray(data[i:j + length])))
        i = j + length
    return events


def _read_tak(port: int, timeout_s: float = 20.0) -> bytes:
    """What a TAK client connected to the bridge receives until the bridge stops."""
    deadline = time.monotonic() + timeout_s
    while True:  # bounded wait for the bridge to listen
        try:
            conn = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    data = b""
    with conn:
        conn.settimeout(timeout_s)
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


@pytest.mark.parametrize("protocol", ["xml", "1"])
def test_a_tak_client_reads_the_partys_picture_from_the_bridge(world: World, protocol: str) -> None:
    t = report(world)
    port = free_port()
    with running_server(world.app) as url:
        bridge = threading.Thread(target=lambda: asyncio.run(
            run_bridge("127.0.0.1", port, url, world.tokens["A"], protocol, 0.1, rounds=10)), daemon=True)
        bridge.start()
        data = _read_tak(port)
        bridge.join(timeout=20)
    events = _xml_events(data) if protocol == "xml" else _stream_events(data)
    by_uid = {m.cotEvent.uid: m.cotEvent for m in events}
    assert by_uid["truceline.track.a1"].type == "a-f-A"  # A's own
    assert by_uid["truceline.track.b1"].type == "a-n-A"  # B's: neutral, not hostile
    assert "truceline.track.b2" not in by_uid  # need-to-know: far from every track of A
    a1 = by_uid["truceline.track.a1"]
    assert a1.staleTime == round((t + world.app.state.picture.max_age_s) * 1000)  # report + max age
    assert a1.detail.contact.callsign == "ALPHA1" and a1.hae == 3000.0
    assert [e.type for u, e in by_uid.items() if u.startswith("truceline.alert.")] == ["b-a-o-tbl"]


def test_the_bridge_deletes_what_left_the_picture(world: World) -> None:
    from truceline.cli.tak import TakBridge

    report(world)
    bridge = TakBridge("xml")
    first = picture(world, "A")
    assert len(bridge.refresh(first)) == 3  # a1, b1 and the alert
    later = {**first, "alerts": [], "tracks": [t for t in first["tracks"] if t["id"] == "a1"]}
    sent = {m.cotEvent.uid: m.cotEvent for m in _xml_events(b"".join(bridge.refresh(later)))}
    deleted = {e.detail.xmlDetail for u, e in sent.items() if e.type == "t-x-d-d"}
    assert len(deleted) == 2 and all("__forcedelete" in d for d in deleted)
    assert any('uid="truceline.track.b1"' in d for d in deleted)
    assert "truceline.track.a1" in sent
