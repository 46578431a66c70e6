"""Structured logs: one access line per request (party, method, path, status,
duration_ms), as JSON, at the level and in the format of TRUCELINE_LOG_LEVEL/FORMAT."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_kit import World, sqlite_url

from truceline.api.access_log import ACCESS_LOGGER, configure_logging
from truceline.config import LogFormat, load_config
from truceline.errors import ValidationError


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("admin", "admin")
    yield w
    w.close()


def _access(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == ACCESS_LOGGER]


def test_each_request_gets_one_access_line_naming_the_party(world: World, caplog) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    assert world.client.get("/zones", headers=world.auth("admin")).status_code == 200
    assert world.client.get("/health").status_code == 200
    assert world.client.get("/zones").status_code == 401
    assert world.client.post("/health").status_code == 405
    lines = [(r.party, r.method, r.path, r.status) for r in _access(caplog)]
    admin = world.ids["admin"]
    assert lines == [
        (admin, "GET", "/zones", 200),
        (None, "GET", "/health", 200),
        (None, "GET", "/zones", 401),
        (None, "POST", "/health", 405),
    ]
    assert all(isinstance(r.duration_ms, float) and r.duration_ms >= 0 for r in _access(caplog))


def test_no_access_line_below_the_level(world: World, caplog) -> None:
    caplog.set_level(logging.WARNING, logger=ACCESS_LOGGER)
    world.client.get("/health")
    assert _access(caplog) == []


def test_json_format_is_one_object_a_line(world: World) -> None:
    handler = configure_logging(load_config({"TRUCELINE_LOG_FORMAT": "json"}))
    stream = io.StringIO()
    handler.setStream(stream)
    try:
        world.client.get("/health")
    finally:
        logging.getLogger("truceline").removeHandler(handler)
    (line,) = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert line["logger"] == ACCESS_LOGGER and line["level"] == "info"
    assert (line["party"], line["method"], line["path"], line["status"]) == (None, "GET", "/health", 200)
    assert line["duration_ms"] >= 0 and line["time"].endswith("+00:00")


def test_log_level_and_format_come_from_the_environment() -> None:
    assert (load_config({}).log_level, load_config({}).log_format) == ("info", LogFormat.JSON)
    config = load_config({"TRUCELINE_LOG_LEVEL": "WARNING", "TRUCELINE_LOG_FORMAT": "text"})
    assert (config.log_level, config.log_format) == ("warning", LogFormat.TEXT)
    for name, value in (("TRUCELINE_LOG_LEVEL", "loud"), ("TRUCELINE_LOG_FORMAT", "xml")):
        with pytest.raises(ValidationError) as caught:
            load_config({name: value})
        assert caught.value.field == name
