"""``truceline replay FILE --nats URL``: a slice of the Paris recording (5 minutes of the busy
stretch from 13:30Z, three parties) published step by step over NATS JetStream, signed with
each party's request key, to one ``truceline worker`` on the tracks clock and a PostgreSQL
database: the worker commits the alerts the offline ``truceline replay`` of the same slice with
the worker's settings prints (kind, subject, opening and closing times); a second run of the
same feed is all duplicates to JetStream (deterministic ``Nats-Msg-Id``) and changes nothing;
bad input is one line on stderr and exit 2."""

from __future__ import annotations

import asyncio
import base64
import csv
import json
import os
import signal
import subprocess
import sys
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_bus_workers import NATS_URL, PARIS, SRC, START, _reachable, _until, _worker, committed, drop_buckets

from truceline.config import load_config
from truceline.engines.tactical import EpisodeChange, EpisodeEvent
from truceline.io.statevectors import read_state_vectors
from truceline.ledger.keys import raw_public_key
from truceline.service.live_detection import LiveSettings
from truceline.service.parties import add_party
from truceline.service.partition import N_SHARDS
from truceline.service.register import open_register
from truceline.service.replay import replay
from truceline.service.replay_feed import feed_steps, step_times
from truceline.tactical_command import TacticalArgs, scan_options

END = START + 5 * 60
PARTIES = ("north", "south", "east")


nats_needed = pytest.mark.skipif(not _reachable() and not os.environ.get("CI"),
                                 reason=f"no NATS at {NATS_URL}")


def recording(path: Path, first_s: float, last_s: float) -> Path:
    """The rows of the Paris recording in [first_s, last_s], each aircraft dealt to one of three
    parties by its address (the recording has no party column; a feeder needs a key per party)."""
    with PARIS.open(newline="") as source, path.open("w", newline="") as out:
        rows = csv.reader(source)
        writer = csv.writer(out)
        writer.writerow([*next(rows), "party"])
        for row in rows:
            if first_s <= float(row[0]) <= last_s:
                writer.writerow([*row, PARTIES[zlib.crc32(row[1].encode()) % len(PARTIES)]])
    return path


def write_keys(folder: Path, ids: dict[str, str], keys: dict[str, Ed25519PrivateKey]) -> Path:
    """The ``--keys`` file: {party: {"id", "key": PEM file beside it}}."""
    document = {}
    for party, key in keys.items():
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
        (folder / f"{party}.pem").write_bytes(pem)
        document[party] = {"id": ids[party], "key": f"{party}.pem"}
    path = folder / "keys.json"
    path.write_text(json.dumps(document))
    return path


def feeder(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1",
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run([sys.executable, "-m", "truceline", "replay", *args], capture_output=True,
                          text=True, timeout=180, env=env)


Keyed = tuple[set[tuple[Any, ...]], set[tuple[Any, ...]], set[tuple[Any, ...]]]


def offline(path: Path, max_age_s: float, clear_after_s: float) -> Keyed:
    """What the offline ``truceline replay PATH --start --end --max-age --clear-after`` finds (its
    own options, from its flags' defaults): opened as ((kind, *subject), at), closed by a gap as
    (key, at), and the keys it closes only because the data ended."""
    options = scan_options(TacticalArgs(max_age_s=max_age_s, clear_after_s=clear_after_s))
    assert options.settings == LiveSettings().detection  # the minima and look-ahead of the worker
    events: list[EpisodeEvent] = []
    replay(read_state_vectors(path, max_position_age_s=max_age_s), options=options, on_event=events.append,
           start_s=START, end_s=END)
    opened = {(e.episode.key, e.time_s) for e in events if e.change is EpisodeChange.OPENED}
    closes = [e for e in events if e.change is EpisodeChange.CLOSED]
    by_gap = {(e.episode.key, e.time_s) for e in closes if e.time_s - e.episode.last_seen_s > clear_after_s}
    at_end = {e.episode.key for e in closes if e.time_s - e.episode.last_seen_s <= clear_after_s}
    return opened, by_gap, at_end


def in_ledger(url: str, clock: Any) -> Keyed:
    """The worker's alerts in the same shape: opened, closed, and the keys still open."""
    opened, closed = committed(url, clock)
    key_of = {alert_id: (kind, *subject) for alert_id, kind, subject, _at in opened}
    still = {alert_id for alert_id, *_ in opened} - {alert_id for alert_id, _at in closed}
    return ({(key_of[a], at) for a, _k, _s, at in opened}, {(key_of[a], at) for a, at in closed},
            {key_of[a] for a in still})


@pytest.mark.postgres
@nats_needed
def test_a_feed_over_nats_raises_the_offline_replays_alerts_and_a_rerun_is_duplicates(
        postgres_url: str, clock: Any, tmp_path: Path) -> None:
    config = load_config()  # the worker's environment: its max age
    max_age_s, clear_after_s = config.track_max_age_s, LiveSettings().clear_after_s
    path = recording(tmp_path / "paris-slice.csv", START - 2 * max_age_s, END + 60)
    register = open_register(postgres_url, clock)
    keys = {p: Ed25519PrivateKey.generate() for p in PARTIES}
    ids = {p: add_party(register, p, request_key=base64.b64encode(raw_public_key(k.public_key())).decode()
                        ).party.id for p, k in keys.items()}
    register.engine.dispose()
    keys_file = write_keys(tmp_path, ids, keys)
    sv = read_state_vectors(path, max_position_age_s=max_age_s)
    grid = step_times(sv, 5.0, START, END)
    steps = list(feed_steps(sv, 5.0, max_age_s=max_age_s, start_s=START, end_s=END))
    batches = sum(len(s.batches) for s in steps)  # one message per party and step: none over 5,000 rows
    group = f"test_{uuid.uuid4().hex[:10]}"
    worker = _worker(postgres_url, group, "w1", tmp_path / "w1.log")
    command = [str(path), "--nats", NATS_URL, "--keys", str(keys_file), "--start", str(START),
               "--end", str(END), "--max-age", str(max_age_s)]

    async def scenario() -> tuple[Any, Any, Any, Any]:
        import nats

        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        try:
            await _until(js, group, lambda v: any(w.name == "w1" and not w.stopped for w in v.workers)
                         and len(v.leases) == N_SHARDS and {lease.owner for lease in v.leases} == {"w1"},
                         90, "the worker holding every shard")
            first = await asyncio.to_thread(feeder, *command)
            started = time.monotonic()
            done = await _until(js, group, lambda v: v.workers[0].scanned_s == grid[-1], 120,
                                "the worker through the last step")
            # Again, well within the stream's 120 s duplicate window: every batch is a duplicate.
            second = await asyncio.to_thread(feeder, *command)
            assert time.monotonic() - started < 100
            await asyncio.sleep(1.5)  # three times the worker's idle scan
            after = await _until(js, group, lambda v: bool(v.workers), 10, "the worker's status")
            return first, second, done, after
        finally:
            await nc.close()

    try:
        first, second, done, after = asyncio.run(scenario())
        before_rerun = in_ledger(postgres_url, clock)
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=15)
        except subprocess.TimeoutExpired:
            worker.kill()
        asyncio.run(drop_buckets(group))
    log = (tmp_path / "w1.log").read_text()
    assert "Traceback" not in log, log
    assert first.returncode == 0, first.stderr
    summary = f"Published {len(grid)} steps of 5 s to {NATS_URL}: {sum(s.states for s in steps)} states in " \
              f"{batches} batches from 3 parties"
    assert first.stdout.strip() == f"{summary} (no duplicate).", first.stdout
    assert second.returncode == 0, second.stderr
    again = f"{summary} ({batches} duplicates, already in the stream and not taken again)."
    assert second.stdout.strip() == again, second.stdout

    opened, closed, still_open = in_ledger(postgres_url, clock)
    want_opened, want_closed, want_open_at_end = offline(path, max_age_s, clear_after_s)
    assert len(want_opened) >= 20 and len(want_closed) >= 10  # the slice is busy enough to mean something
    scanned = "\n".join(line for line in log.splitlines() if " scanned " in line)
    assert opened == want_opened, (sorted(want_opened - opened, key=lambda o: o[1]),
                                   sorted(opened - want_opened, key=lambda o: o[1]), scanned)
    assert closed == want_closed, (sorted(want_closed - closed, key=lambda c: c[1]),
                                   sorted(closed - want_closed, key=lambda c: c[1]), scanned)
    assert still_open == want_open_at_end  # what the offline replay closes because its data ended
    # Every step scanned, at the step's time (the recording reports on the 5 s grid here), and
    # no other time; a step may be scanned twice (again with the reports that came after a
    # pause of the feeder: a loaded machine), which changes nothing already stepped.
    times = {float(line.split(" scanned ")[1].split()[0]) for line in scanned.splitlines()}
    assert times == set(grid) and done.workers[0].steps >= len(grid) and done.workers[0].pending == 0
    # The second run was not a second report: nothing new delivered, scanned or committed.
    assert after.workers[0].steps == done.workers[0].steps
    assert (opened, closed, still_open) == before_rerun


def tiny(tmp_path: Path) -> Path:
    """Two parties' rows of the recording's first seconds."""
    with PARIS.open(newline="") as source, (tmp_path / "tiny.csv").open("w", newline="") as out:
        rows = csv.reader(source)
        writer = csv.writer(out)
        writer.writerow([*next(rows), "party"])
        for n, row in zip(range(40), rows, strict=False):
            writer.writerow([*row, ("north", "south")[n % 2]])
    return tmp_path / "tiny.csv"


@pytest.mark.parametrize(("args", "message"), [
    (["--nats", "nats://127.0.0.1:9", "--keys", "{keys}"], "no NATS server at nats://127.0.0.1:9"),
    (["--nats", "nats://127.0.0.1:9", "--keys", "{short}"], "no key for the recording's party south"),
    (["--nats", "nats://127.0.0.1:9", "--keys", "{missing}"], "not a JSON file of keys"),
    (["--nats", "nats://127.0.0.1:9", "--keys", "{notjson}"], "not a JSON file of keys"),
    (["--nats", "nats://127.0.0.1:9", "--keys", "{badpem}"], "party 'south': "),
    (["--nats", "nats://127.0.0.1:9", "--keys", "{dotted}"], "cannot be a NATS subject token"),
    (["--nats", "nats://127.0.0.1:9"], "--nats needs the parties' keys"),
    (["--nats", "nats://127.0.0.1:9", "--to", "http://127.0.0.1:9", "--keys", "{keys}"], "--to and --nats"),
    (["--nats", "nats://127.0.0.1:9", "--token", "t", "--keys", "{keys}"], "--nats signs with --keys"),
    (["--nats", "http://127.0.0.1:9", "--keys", "{keys}"], "is not a NATS URL"),
    (["--keys", "{keys}"], "--keys goes with --nats"),
])
def test_replay_nats_refuses_bad_input_in_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    path = tiny(tmp_path)
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    (tmp_path / "k.pem").write_bytes(pem)
    (tmp_path / "bad.pem").write_text("not a key\n")
    files = {"keys": {"north": {"id": "n1", "key": "k.pem"}, "south": {"id": "s1", "key": "k.pem"}},
             "short": {"north": {"id": "n1", "key": "k.pem"}},
             "badpem": {"north": {"id": "n1", "key": "k.pem"}, "south": {"id": "s1", "key": "bad.pem"}},
             "dotted": {"north": {"id": "n.1", "key": "k.pem"}, "south": {"id": "s1", "key": "k.pem"}}}
    for name, document in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(document))
    (tmp_path / "notjson.json").write_text("{north: ")
    names = {n: str(tmp_path / f"{n}.json") for n in [*files, "notjson", "missing"]}
    done = feeder(str(path), *[a.format(**names) for a in args])
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "Traceback" not in done.stderr


def test_a_steps_messages_start_with_its_newest_report_and_their_ids_are_deterministic() -> None:
    from truceline.cli.replay_nats import PartyKey, step_batches
    from truceline.service.replay_feed import FeedStep

    def state(track: str, t: float) -> dict[str, Any]:
        return {"id": track, "time": t, "lat": 48.0, "lon": 2.0, "alt_m": 3000.0, "alt_ref": "pressure",
                "velocity": 200.0, "heading": 0.0, "vertrate": 0.0}

    key = Ed25519PrivateKey.generate()
    keys = {"north": PartyKey("n1", key), "south": PartyKey("s1", key)}
    step = FeedStep(1000.0, {"north": [state(f"a{i}", 990.0 + i) for i in range(10)],
                             "south": [state("b0", 995.0)]})
    batches = step_batches(step, keys, "0123456789abcdef", max_bytes=450)
    assert [b.party_id for b in batches].count("n1") > 2  # north's rows cut by size
    assert sum(b.states for b in batches) == 11
    # The newest report (north's last chunk, time 999) first, the others in their order after it.
    assert max(s["time"] for s in json.loads(batches[0].body)["states"]) == 999.0
    chunks = [b.chunk for b in batches if b.party_id == "n1"]
    assert chunks == [chunks[0], *sorted(chunks[1:])] and chunks[0] == max(chunks)
    assert all(len(b.body) <= 450 for b in batches)
    # The same step gives the same ids; another step, recording or body gives others.
    assert [b.msg_id for b in step_batches(step, keys, "0123456789abcdef", max_bytes=450)] == \
        [b.msg_id for b in batches]
    assert len({b.msg_id for b in batches}) == len(batches)
    assert batches[0].msg_id.startswith("replay-0123456789abcdef-1000000-n1-")
    other = step_batches(FeedStep(1005.0, step.batches), keys, "0123456789abcdef", max_bytes=450)
    assert not {b.msg_id for b in other} & {b.msg_id for b in batches}
    assert not {b.msg_id for b in step_batches(step, keys, "fedcba9876543210", max_bytes=450)} & {
        b.msg_id for b in batches}
