"""The live stream: events in order with ids that grow, resume after a dropped connection
from Last-Event-ID (header or query) without loss or repetition, and live delivery of a
message committed while the stream is open."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from api_kit import World, running_server, sqlite_url

from truceline.api.app import create_app
from truceline.api.stream import stop_streams
from truceline.service.register import open_register


def _events(text: str) -> list[tuple[int, str, dict]]:
    out = []
    for block in text.split("\n\n"):
        fields = dict(
            line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":")
        )
        if "id" in fields:
            out.append((int(fields["id"]), fields["event"], json.loads(fields["data"])))
    return out


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("officer")
    w.add("other", language="uk")
    yield w
    w.close()


def _send(world: World, text: str, sender: str = "other", to: str = "officer") -> str:
    r = world.client.post(
        "/messages", json={"to": [to], "text": text, "language": "en"}, headers=world.auth(sender)
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_resume_from_last_event_id(world: World) -> None:
    first = [_send(world, f"message {i}") for i in range(3)]
    seen = _events(world.client.get("/stream?once=true", headers=world.auth("officer")).text)
    assert [e[2]["message"]["id"] for e in seen] == first
    assert [e[1] for e in seen] == ["message"] * 3
    ids = [e[0] for e in seen]
    assert ids == sorted(ids) and len(set(ids)) == 3

    # The connection drops after the second event; two more messages come meanwhile.
    later = [_send(world, f"later {i}") for i in range(2)]
    by_header = _events(
        world.client.get(
            "/stream?once=true", headers=world.auth("officer", **{"Last-Event-ID": str(ids[1])})
        ).text
    )
    assert [e[2]["message"]["id"] for e in by_header] == [first[2], *later]
    by_query = _events(
        world.client.get(f"/stream?once=true&last_event_id={ids[2]}", headers=world.auth("officer")).text
    )
    assert [e[2]["message"]["id"] for e in by_query] == later

    # The sender is told of the acknowledgement on its own stream.
    world.client.post(f"/messages/{first[0]}/ack", headers=world.auth("officer"))
    told = _events(world.client.get("/stream?once=true", headers=world.auth("other")).text)
    assert [(e[1], e[2]["message"]["id"]) for e in told] == [("acknowledged", first[0])]

    bad = world.client.get("/stream?once=true", headers=world.auth("officer", **{"Last-Event-ID": "x"}))
    assert bad.status_code == 422 and bad.json()["field"] == "Last-Event-ID"


def test_stream_events_survive_a_rebuild(world: World) -> None:
    _send(world, "before")
    before = world.client.get("/stream?once=true", headers=world.auth("officer")).text
    world.register.rebuild()
    assert world.client.get("/stream?once=true", headers=world.auth("officer")).text == before


def test_live_delivery_over_a_real_server(world: World, tmp_path: Path) -> None:
    # A second register on the same file, with a real clock, served by uvicorn.
    register = open_register(sqlite_url(tmp_path), lambda: datetime.now(UTC))
    # A long keep-alive: only the bus can wake the stream in time for this test.
    app = create_app(register, tick_interval_s=None, keepalive_s=60.0)
    try:
        with running_server(app) as url:
            received: list[tuple[int, str, dict]] = []
            opened = threading.Event()

            def listen() -> None:
                headers = world.auth("officer")
                with httpx.stream("GET", url + "/stream", headers=headers, timeout=10.0) as response:
                    buffer = ""
                    for chunk in response.iter_text():
                        opened.set()
                        buffer += chunk
                        received.extend(_events(buffer))
                        if received:
                            return

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            assert opened.wait(10.0)
            r = httpx.post(
                url + "/messages",
                json={"to": ["officer"], "text": "live", "language": "en", "priority": "urgent"},
                headers=world.auth("other"),
            )
            assert r.status_code == 201, r.text
            listener.join(10.0)
            assert [(e[1], e[2]["message"]["text"], e[2]["message"]["priority"]) for e in received] == [
                ("message", "live", "urgent")
            ]
    finally:
        register.engine.dispose()


def test_stop_streams_ends_an_open_stream_at_once_and_cleanly(world: World, tmp_path: Path) -> None:
    # What `truceline serve` calls on SIGTERM (test_api_shutdown runs the real process). A
    # keep-alive of 60 s: only stop_streams can end the stream within the test's wait.
    register = open_register(sqlite_url(tmp_path), lambda: datetime.now(UTC))
    app = create_app(register, tick_interval_s=None, keepalive_s=60.0)
    try:
        with running_server(app) as url:
            opened, ended = threading.Event(), threading.Event()
            outcome: list[object] = []

            def listen() -> None:
                try:
                    headers = world.auth("officer")
                    with httpx.stream("GET", url + "/stream", headers=headers, timeout=30.0) as response:
                        for _chunk in response.iter_text():
                            opened.set()
                    outcome.append("clean end")  # the chunked body ended, it was not cut
                except httpx.HTTPError as error:
                    outcome.append(error)
                finally:
                    ended.set()

            threading.Thread(target=listen, daemon=True).start()
            assert opened.wait(10.0)
            assert not ended.wait(0.3)  # open, and it stays open by itself
            stop_streams(app)
            assert ended.wait(10.0) and outcome == ["clean end"]
            streams_open = httpx.get(url + "/metrics").text
            assert "\ntruceline_streams_open 0.0\n" in streams_open
    finally:
        register.engine.dispose()
