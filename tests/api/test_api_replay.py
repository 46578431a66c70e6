"""``truceline replay FILE --to URL`` through a replay server (TRUCELINE_SCAN_CLOCK=tracks):
the same alerts, opened and closed at the same steps, as the offline replay of the same file
with the server's settings; and a wall-clock server refuses to be stepped."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
from api_kit import World, running_server, sqlite_url
from fastapi.testclient import TestClient

from shared_data import SHARED_DATA
from truceline.api.app import create_app
from truceline.config import ScanClock
from truceline.engines.tactical import EpisodeChange, EpisodeEvent
from truceline.io.statevectors import read_state_vectors
from truceline.service.replay import ScanOptions, replay
from truceline.service.replay_feed import step_times

PARIS = SHARED_DATA / "adsb" / "paris_2021-10-07_1200-1500Z.csv"
PARTIES = ("north", "south", "east")
SLICE_S = 1200  # 20 minutes: ~80 conflict episodes, a few seconds to feed


def paris_slice(path: Path) -> Path:
    """The recording's first ``SLICE_S`` seconds, each aircraft given one of three parties (the
    recording has no party column, and a server needs a token per party)."""
    with PARIS.open(newline="") as source, path.open("w", newline="") as out:
        rows = csv.reader(source)
        header = next(rows)
        writer = csv.writer(out)
        writer.writerow([*header, "party"])
        first = None
        for row in rows:
            first = first or int(row[0])
            if int(row[0]) > first + SLICE_S:
                break
            writer.writerow([*row, PARTIES[zlib.crc32(row[1].encode()) % len(PARTIES)]])
    return path


Alerts = tuple[set[tuple], set[tuple], set[tuple]]


def offline_alerts(path: Path, max_age_s: float, clear_after_s: float) -> Alerts:
    """(opened, closed by a gap) as (key, scan time) of the offline replay, and the keys of
    the episodes it closed only because the data ended."""
    events: list[EpisodeEvent] = []
    replay(read_state_vectors(path, max_position_age_s=max_age_s),
           options=ScanOptions(max_age_s=max_age_s, clear_after_s=clear_after_s), on_event=events.append)
    opened = {(e.episode.key, e.time_s) for e in events if e.change is EpisodeChange.OPENED}
    closes = [e for e in events if e.change is EpisodeChange.CLOSED]
    # Closed by a gap: not found for more than clear_after_s; the others were open when the data ended.
    by_gap = {(e.episode.key, e.time_s) for e in closes if e.time_s - e.episode.last_seen_s > clear_after_s}
    at_end = {e.episode.key for e in closes if e.time_s - e.episode.last_seen_s <= clear_after_s}
    return opened, by_gap, at_end


def server_alerts(world: World) -> Alerts:
    """(opened, closed) as (key, scan time) from the server's log, and the keys still open."""
    with world.register.engine.connect() as conn:
        entries = list(world.register.ledger.entries(conn, 0, world.register.ledger.size(conn)))
    keys: dict[str, tuple] = {}
    opened: set[tuple] = set()
    closed: set[tuple] = set()
    for entry in entries:
        payload = entry.payload
        if entry.type == "alert.opened":
            keys[payload["alert_id"]] = (payload["kind"], *payload["subject"])
            opened.add((keys[payload["alert_id"]], payload["at_s"]))
        elif entry.type == "alert.closed":
            closed.add((keys.pop(payload["alert_id"]), payload["at_s"]))
    return opened, closed, set(keys.values())


@pytest.fixture
def replay_world(tmp_path: Path, clock: object) -> World:
    world = World(sqlite_url(tmp_path), clock)
    # A replay server: the recording's time drives the picture, the feeder steps the scan.
    world.app = create_app(world.service, clock, tick_interval_s=None, scan_clock=ScanClock.TRACKS)
    world.client = TestClient(world.app, raise_server_exceptions=False)
    for name in PARTIES:
        world.add(name)
    yield world
    world.close()


def test_replay_to_a_server_raises_the_offline_replays_alerts(replay_world: World, tmp_path: Path) -> None:
    recording = paris_slice(tmp_path / "paris-slice.csv")
    live = replay_world.app.state.live.settings
    max_age_s = replay_world.app.state.picture.max_age_s
    tokens = tmp_path / "tokens.json"
    tokens.write_text(json.dumps(replay_world.tokens))
    with running_server(replay_world.app) as url:
        done = subprocess.run(
            [sys.executable, "-m", "truceline", "replay", str(recording), "--to", url,
             "--tokens", str(tokens), "--max-age", str(max_age_s)],
            capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
        )
    assert done.returncode == 0, done.stderr
    opened, closed, still_open = server_alerts(replay_world)
    expected_opened, expected_closed, at_end = offline_alerts(recording, max_age_s, live.clear_after_s)
    assert len(expected_opened) > 20 and len(expected_closed) > 10  # the slice is worth comparing
    assert opened == expected_opened
    assert closed == expected_closed
    # What the offline replay closes only because its data ended is still open on the server.
    assert still_open == at_end
    steps = len(step_times(read_state_vectors(recording), 5.0))
    assert f"Fed {steps} steps of 5 s" in done.stdout
    assert f"{len(expected_opened)} conflict opened" in done.stdout


def _state(track_id: str, t: float, lat: float) -> dict[str, object]:
    return {"id": track_id, "time": t, "lat": lat, "lon": 2.0, "alt_m": 3000.0, "alt_ref": "pressure",
            "velocity": 200.0, "heading": 0.0, "vertrate": 0.0}


def test_a_replay_server_takes_old_times_and_scans_only_forward(replay_world: World) -> None:
    client, auth = replay_world.client, replay_world.auth
    t = 1633608001.0  # 2021: refused as old by a wall-clock server
    r = client.post("/tracks", json={"states": [_state("n1", t, 48.0)]}, headers=auth("north"))
    assert r.status_code == 202 and r.json() == {"accepted": 1, "refused": []}
    # Within the max age of the newest report: kept; older than it: refused, as a live server would.
    r = client.post("/tracks", json={"states": [_state("s1", t - 30, 48.5), _state("s2", t - 61, 48.6)]},
                    headers=auth("south"))
    assert r.json()["accepted"] == 1 and r.json()["refused"][0]["index"] == 1
    # Read before any scan, the picture follows the recording's time, not the wall's (which
    # would drop every 2021 track as silent).
    seen = client.get("/picture", headers=auth("south")).json()
    assert seen["at_s"] == t and {tr["id"] for tr in seen["tracks"]} == {"n1", "s1"}  # n1 within reach
    # A scan before the newest report would see states "from the future": refused, naming `at`.
    r = client.post("/picture/scan", json={"at": t - 1}, headers=auth("north"))
    assert r.status_code == 409 and r.json()["field"] == "at"
    r = client.post("/picture/scan", json={"at": t + 4}, headers=auth("north"))
    assert r.status_code == 200, r.text
    assert r.json()["tracks"] == 2 and r.json()["at_s"] == t + 4
    r = client.post("/picture/scan", json={"at": t + 3}, headers=auth("north"))  # time goes forward
    assert r.status_code == 409 and "previous scan" in r.json()["detail"]
    r = client.post("/picture/scan", json={"at": "soon"}, headers=auth("north"))
    assert r.status_code == 422
    r = client.post("/tracks", json={"states": [_state("n9", 1e300, 48.0)]}, headers=auth("north"))
    assert r.status_code == 202 and r.json()["refused"][0]["field"] == "time"  # the clock stays
    r = client.post("/picture/scan", json={"at": 1e300}, headers=auth("north"))
    assert r.status_code == 422 and r.json()["field"] == "at"
    # Reading the picture follows the recording's time: the 2021 tracks are still there.
    r = client.post("/tracks", json={"states": [_state("n2", t + 5, 48.1)]}, headers=auth("north"))
    assert r.json()["accepted"] == 1
    assert {tr["id"] for tr in client.get("/picture", headers=auth("south")).json()["tracks"]} >= {"s1"}
    assert client.post("/picture/scan", json={"at": t + 5}, headers=auth("north")).json()["tracks"] == 3


def test_a_wall_clock_server_cannot_be_stepped(tmp_path: Path, clock: object) -> None:
    world = World(sqlite_url(tmp_path), clock)
    try:
        world.add("north")
        r = world.client.post("/picture/scan", json={"at": 1633608001.0}, headers=world.auth("north"))
        assert r.status_code == 409 and "TRUCELINE_SCAN_CLOCK" in r.json()["detail"]
    finally:
        world.close()


@pytest.mark.parametrize(("args", "message"), [
    ([], "--tokens FILE"),
    (["--tokens", "{tokens}", "--token", "x"], "--tokens FILE"),
    (["--tokens", "{short}"], "no token for the recording's party"),
    (["--tokens", "{bad}"], "must be a JSON object"),
])
def test_replay_to_refuses_missing_tokens_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    recording = paris_slice(tmp_path / "paris-slice.csv")
    files = {"tokens": {p: "t" for p in PARTIES}, "short": {"north": "t"}, "bad": ["t"]}
    for name, document in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(document))
    args = [a.format(**{n: str(tmp_path / f"{n}.json") for n in files}) for a in args]
    done = subprocess.run([sys.executable, "-m", "truceline", "replay", str(recording), "--to",
                           "http://127.0.0.1:9", *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_the_scan_clock_setting_is_wall_or_tracks() -> None:
    from truceline.config import load_config
    from truceline.errors import ValidationError

    assert load_config({}).scan_clock is ScanClock.WALL
    assert load_config({"TRUCELINE_SCAN_CLOCK": "Tracks"}).scan_clock is ScanClock.TRACKS
    with pytest.raises(ValidationError) as error:
        load_config({"TRUCELINE_SCAN_CLOCK": "gps"})
    assert error.value.field == "TRUCELINE_SCAN_CLOCK"


def test_replay_to_with_one_token_sends_every_row_as_its_party(replay_world: World, tmp_path: Path) -> None:
    recording = paris_slice(tmp_path / "paris-slice.csv")
    first, _last = read_state_vectors(recording).time_span_s
    with running_server(replay_world.app) as url:
        done = subprocess.run(
            [sys.executable, "-m", "truceline", "replay", str(recording), "--to", url,
             "--token", replay_world.tokens["north"], "--end", str(first + 60), "--max-age", "60"],
            capture_output=True, text=True, timeout=120,
        )
    assert done.returncode == 0, done.stderr
    assert "Fed 13 steps of 5 s" in done.stdout and "from 1 party; no alerts" in done.stdout
    # One party's tracks are that party's own business: no conflict between them.
    assert {t["party"] for t in replay_world.client.get(
        "/picture", headers=replay_world.auth("north")).json()["tracks"]} == {"north"}
