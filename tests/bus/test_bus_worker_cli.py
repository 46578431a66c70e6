"""``truceline worker``'s bad input: one line on stderr and exit 2, before anything connects."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from truceline.bus.workers import WorkerStatus, newest_time
from truceline.cli import app
from truceline.config import ScanClock, load_worker_config
from truceline.errors import ValidationError

runner = CliRunner()


@pytest.mark.parametrize(("args", "env", "said"), [
    (["--clock", "sundial"], {"TRUCELINE_BUS": "nats://127.0.0.1:4222"}, "--clock: must be wall or tracks"),
    ([], {"TRUCELINE_BUS": ""}, "a worker needs a NATS server"),
    (["--bus", "inprocess"], {}, "a worker needs a NATS server"),
    (["--bus", "nats://127.0.0.1:1"], {}, "no NATS server at nats://127.0.0.1:1"),
    (["--bus", "nats://127.0.0.1:x"], {}, "Port could not be cast"),
    (["--name", "a b"], {"TRUCELINE_BUS": "nats://127.0.0.1:4222"}, "--name: must be 1 to 64"),
    ([], {"TRUCELINE_BUS": "nats://127.0.0.1:4222", "TRUCELINE_SCAN_CLOCK": "moon"}, "TRUCELINE_SCAN_CLOCK"),
    ([], {"TRUCELINE_BUS": "nats://127.0.0.1:4222", "TRUCELINE_WORKER_GROUP": "a.b"},
     "TRUCELINE_WORKER_GROUP"),
])  # fmt: skip
def test_bad_input_is_one_line_and_exit_2(args: list[str], env: dict[str, str], said: str) -> None:
    result = runner.invoke(app, ["worker", *args], env=env)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and said in lines[0] and "Traceback" not in result.output


def test_the_worker_settings_read_from_the_environment() -> None:
    assert load_worker_config({}).clock is ScanClock.WALL and not load_worker_config({}).external
    config = load_worker_config({"TRUCELINE_SCAN_CLOCK": "TRACKS", "TRUCELINE_WORKERS": "external",
                                 "TRUCELINE_WORKER_GROUP": "cell-2"})
    assert (config.clock, config.external, config.group) == (ScanClock.TRACKS, True, "cell-2")
    with pytest.raises(ValidationError) as raised:
        load_worker_config({"TRUCELINE_SCAN_CLOCK": "sun"})
    assert raised.value.field == "TRUCELINE_SCAN_CLOCK"
    with pytest.raises(ValidationError) as raised:
        load_worker_config({"TRUCELINE_WORKERS": "some"})
    assert raised.value.field == "TRUCELINE_WORKERS"


def test_a_message_time_is_read_without_taking_it() -> None:
    body = b'{"states": [{"id": "a", "time": 10.0}, {"id": "b", "time": 12}, {"id": "c", "time": "x"}]}'
    assert newest_time({}, body) == 12.0
    assert newest_time({}, b"not json") is None and newest_time({}, b'{"states": []}') is None
    csv = (b"time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk,baroaltitude,"
           b"geoaltitude,lastposupdate,lastcontact\n1633608001,398564,48.36,1.41,198.0,16.2,-13.0,AFR9455,False,"
           b",,1054,6172.2,,,\n")
    assert newest_time({"Content-Type": "text/csv"}, csv) == 1633608001.0


def test_a_status_round_trips() -> None:
    status = WorkerStatus("w", 1.0, "wall", None, (1, 2), 3, None, 4)
    assert WorkerStatus.from_json(status.to_json()) == status
    assert status.alive(2.0) and not status.alive(10.0)
