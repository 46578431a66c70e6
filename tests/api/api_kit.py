"""Shared helpers of the API tests: an app on a fresh database, parties, documents."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from truceline.api.app import create_app
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service


def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'truceline.db'}"


class World:
    """An app on one database, with a token per party name."""

    def __init__(self, url: str, clock: Any) -> None:
        self.clock = clock
        self.register = open_register(url, clock)
        self.service = Service(self.register)
        self.app = create_app(self.service, clock, tick_interval_s=None, keepalive_s=0.2)
        self.client = TestClient(self.app, raise_server_exceptions=False)
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, str] = {}

    def add(
        self,
        name: str,
        role: str = "party",
        language: str = "en",
        request_key: str | None = None,
        uss_manager: str | None = None,
    ) -> str:
        registered = add_party(self.service, name, role, language, request_key, uss_manager=uss_manager)
        party, token = registered.party, registered.token
        self.tokens[name] = token
        self.ids[name] = party.id
        return token

    def auth(self, name: str, **headers: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[name]}", **headers}

    def close(self) -> None:
        self.client.close()
        self.register.engine.dispose()


def square(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def zone_doc(
    zone_id: str,
    ring: list[list[list[float]]],
    *,
    party: str | None = None,
    name: str = "",
    kind: str = "de_escalation",
    restricts: str | Sequence[str] = "others",
    entry: str = "forbidden",
    lower_m: float = 0,
    upper_m: float = 15000,
    start: str = "2017-07-10T00:00:00Z",
    end: str | None = "2017-07-12T00:00:00Z",
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "kind": kind,
        "restricts": restricts if isinstance(restricts, str) else list(restricts),
        "activity": "any",
        "entry": entry,
        "altitude_lower_m": lower_m,
        "altitude_upper_m": upper_m,
        "altitude_reference": "AMSL",
        "time_start": start,
        "time_end": end,
    }
    if party is not None:
        props["party"] = party
    if name:
        props["name"] = name
    feature = {
        "type": "Feature",
        "id": zone_id,
        "geometry": {"type": "Polygon", "coordinates": ring},
        "properties": props,
    }
    return {"type": "FeatureCollection", "features": [feature]}


def op_doc(
    op_id: str,
    party: str,
    ring: list[list[list[float]]],
    *,
    name: str = "",
    lower_m: float = 1000,
    upper_m: float = 3000,
    start: str = "2017-07-10T08:00:00Z",
    end: str = "2017-07-10T10:00:00Z",
    activity: str = "air",
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "party": party,
        "activity": activity,
        "altitude_lower_m": lower_m,
        "altitude_upper_m": upper_m,
        "altitude_reference": "AMSL",
        "time_start": start,
        "time_end": end,
    }
    if name:
        props["name"] = name
    feature = {
        "type": "Feature",
        "id": op_id,
        "geometry": {"type": "Polygon", "coordinates": ring},
        "properties": props,
    }
    return {"type": "FeatureCollection", "features": [feature]}


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def running_server(app: FastAPI, startup_s: float = 15.0) -> Iterator[str]:
    """Serve ``app`` with uvicorn on a free loopback port in a thread; yields its base URL."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.config.port}"
    deadline = time.monotonic() + startup_s
    try:
        while True:  # bounded start-up wait
            try:
                if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start within {startup_s} s")
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
