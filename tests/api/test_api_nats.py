"""Two server processes' worth of apps on one database, linked by NATS JetStream: a message
committed through one wakes the stream open on the other (the real NATS server on
127.0.0.1:4222; skipped when it is not running, except on CI)."""

from __future__ import annotations

import os
import socket
import threading
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from api_kit import World, running_server, sqlite_url

from truceline.api.app import create_app
from truceline.service.register import open_register

NATS_URL = os.environ.get("TRUCELINE_TEST_NATS", "nats://127.0.0.1:4222")


def _reachable() -> bool:
    host, port = NATS_URL.removeprefix("nats://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _reachable() and not os.environ.get("CI"), reason=f"no NATS server at {NATS_URL}")
def test_a_commit_on_one_server_wakes_a_stream_on_another(tmp_path: Path, clock) -> None:
    world = World(sqlite_url(tmp_path), clock)
    world.add("officer")
    world.add("other")
    registers = [open_register(sqlite_url(tmp_path), lambda: datetime.now(UTC)) for _ in range(2)]
    # Keep-alives far longer than the test: only a NATS wake-up can deliver in time.
    apps = [create_app(r, tick_interval_s=None, keepalive_s=60.0, bus_url=NATS_URL) for r in registers]
    try:
        with running_server(apps[0]) as listening_url, running_server(apps[1]) as writing_url:
            received: list[str] = []
            opened = threading.Event()

            def listen() -> None:
                with httpx.stream(
                    "GET", listening_url + "/stream", headers=world.auth("officer"), timeout=15.0
                ) as r:
                    for chunk in r.iter_text():
                        opened.set()
                        received.append(chunk)
                        if "event: message" in "".join(received):
                            return

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            assert opened.wait(10.0)
            r = httpx.post(
                writing_url + "/messages",
                json={"to": ["officer"], "text": "via the other server", "language": "en"},
                headers=world.auth("other"),
            )
            assert r.status_code == 201, r.text
            listener.join(10.0)
            assert "via the other server" in "".join(received)
    finally:
        for register in registers:
            register.engine.dispose()
        world.close()
