"""Three ``truceline worker`` processes on one PostgreSQL database, the Paris recording (a
6-minute slice: 77 steps, 48 alerts opened) replayed through NATS JetStream one time step at
a time: the alerts they commit are exactly those of one process scanning the same steps
(kind, subject, opening and closing times, alert ids), and again when one worker is killed
with SIGKILL halfway: none lost, none opened twice; and again when a third worker joins two
halfway (it reads the reports of the picture's age from the stream, then takes its share).
The workers scan at the tracks' time (``--clock tracks``), so the result does not depend on
how fast anything runs."""

from __future__ import annotations

import asyncio
import base64
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from shared_data import SHARED_DATA
from truceline.bus.leases import fair_share
from truceline.bus.tracks import publish_batch
from truceline.bus.workers import bucket_names, read_workers
from truceline.domain.clock import from_epoch_s
from truceline.domain.party import Role
from truceline.io.statevectors import read_state_vectors
from truceline.ledger.keys import raw_public_key
from truceline.service.auth import Principal
from truceline.service.live_detection import LiveScanner
from truceline.service.parties import add_party
from truceline.service.partition import N_SHARDS
from truceline.service.register import open_register
from truceline.service.tracks import TrackPicture, state_record, submit_json

NATS_URL = "nats://127.0.0.1:4222"
PARIS = SHARED_DATA / "adsb" / "paris_2021-10-07_1200-1500Z.csv"
START = 1633608000.0 + 90 * 60  # 13:30Z: the busiest stretch (arrivals at CDG and Orly)
END = START + 6 * 60
PARTIES = ("A", "B", "C")
SRC = Path(__file__).resolve().parents[2] / "src"


def _reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.postgres,
    pytest.mark.skipif(not _reachable() and not os.environ.get("CI"), reason=f"no NATS at {NATS_URL}"),
]

Steps = list[tuple[float, dict[str, list[dict[str, Any]]]]]


@pytest.fixture(scope="module")
def steps() -> Steps:
    """Each distinct report time of the slice, with each party's states at that time (the
    aircraft dealt to three parties by their address: pairs across parties are conflicts)."""
    rows = read_state_vectors(PARIS).rows
    chosen = np.flatnonzero((rows.t >= START) & (rows.t < END))
    by_time: dict[float, dict[str, list[dict[str, Any]]]] = collections.defaultdict(
        lambda: collections.defaultdict(list))
    for i in chosen.tolist():
        state = state_record(rows, i)
        del state["party"]
        by_time[float(rows.t[i])][PARTIES[int(str(rows.ids[i]), 16) % 3]].append(state)
    return [(t, dict(by_time[t])) for t in sorted(by_time)]


def single_process(steps: Steps) -> tuple[set[tuple[Any, ...]], set[tuple[str, float]]]:
    """The alerts one scanner gives over the same steps: (id, kind, subject, opened at) and
    (id, closed at)."""
    picture, scanner = TrackPicture(), LiveScanner()
    principals = {p: Principal(p, p, Role.PARTY, "en") for p in PARTIES}
    opened, closed = set(), set()
    for t, per_party in steps:
        for party, states in per_party.items():
            submit_json(picture, principals[party], states, from_epoch_s(t))
        for event in scanner.scan(picture.snapshot(t), t).events:
            f = event.finding
            if event.change.value == "opened":
                opened.add((event.alert_id, f.kind.value, f.subject, t))
            elif event.change.value == "closed":
                closed.add((event.alert_id, t))
    return opened, closed


def committed(url: str, clock: Any) -> tuple[list[tuple[Any, ...]], list[tuple[str, float]]]:
    register = open_register(url, clock)
    opened, closed = [], []
    with register.engine.connect() as conn:
        for entry in register.ledger.entries(conn):
            p = entry.payload
            if entry.type == "alert.opened":
                opened.append((p["alert_id"], p["kind"], tuple(p["subject"]), float(p["at_s"])))
            elif entry.type == "alert.closed":
                closed.append((p["alert_id"], float(p["at_s"])))
    register.engine.dispose()
    return opened, closed


async def drop_buckets(group: str) -> None:
    """Delete a test group's lease and status buckets (once its workers are gone)."""
    import nats

    nc = await nats.connect(NATS_URL)
    for bucket in bucket_names(group):
        await nc.jetstream().delete_key_value(bucket)
    await nc.close()


def _worker(url: str, group: str, name: str, log: Path) -> subprocess.Popen[bytes]:
    """A worker process logging each step it scans (debug) to ``log``: a file, not a pipe, so a
    chatty worker never blocks on a full pipe, and a failing run shows what each worker did."""
    env = {**os.environ, "TRUCELINE_DB": url, "TRUCELINE_BUS": NATS_URL, "TRUCELINE_SCAN_CLOCK": "tracks",
           "TRUCELINE_WORKER_GROUP": group, "TRUCELINE_LOG_LEVEL": "debug",
           "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    with log.open("wb") as err:
        return subprocess.Popen([sys.executable, "-m", "truceline", "worker", "--name", name], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)


async def _until(js: Any, group: str, condition, limit_s: float, what: str) -> Any:  # type: ignore[no-untyped-def]
    """Poll the workers' buckets (bounded) until ``condition(view)``; the assertions come after."""
    for _ in range(int(limit_s / 0.2)):
        view = await read_workers(js, group)
        if condition(view):
            return view
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what}: not reached in {limit_s} s; last view {view}")


def _balanced(view: Any, names: set[str]) -> bool:
    alive = {w.name for w in view.workers if not w.stopped}
    owners = collections.Counter(lease.owner for lease in view.leases)
    share = fair_share(N_SHARDS, len(names))
    return alive >= names and set(owners) == names and sum(owners.values()) == N_SHARDS and all(
        n >= share - 1 for n in owners.values())


def run_workers(url: str, clock: Any, steps: Steps, kill_at: int | None, logs: Path,
                join_at: int | None = None) -> tuple[list[Any], list[Any], Any]:
    """Three workers over the steps: w1 to w3 from the start, the one holding most shards killed
    with SIGKILL at step ``kill_at``; or w1 and w2 from the start and w3 started at step
    ``join_at``, the replay held until the three share the shards (a worker added to a running
    group)."""
    register = open_register(url, clock)
    keys = {p: Ed25519PrivateKey.generate() for p in PARTIES}
    public = {p: base64.b64encode(raw_public_key(k.public_key())).decode() for p, k in keys.items()}
    ids = {p: add_party(register, p, request_key=public[p]).party.id for p in PARTIES}
    register.engine.dispose()
    group = f"test_{uuid.uuid4().hex[:10]}"
    names = {"w1", "w2", "w3"}
    first = names if join_at is None else {"w1", "w2"}
    workers = {name: _worker(url, group, name, logs / f"{name}.log") for name in sorted(first)}

    async def scenario() -> Any:
        import nats

        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        try:
            await _until(js, group, lambda v: _balanced(v, first), 90, "the workers sharing the shards")
            print(f"balanced after {time.monotonic() - started:.1f} s")
            alive = set(first)
            for k, (_t, per_party) in enumerate(steps):
                if k == join_at:
                    workers["w3"] = _worker(url, group, "w3", logs / "w3.log")
                    alive.add("w3")
                    await _until(js, group, lambda v: _balanced(v, names), 90, "w3 taking its share")
                    print(f"w3 joined, balanced at step {k}")
                if k == kill_at:
                    view = await read_workers(js, group)
                    victim = max(names, key=lambda n: sum(lease.owner == n for lease in view.leases))
                    workers[victim].send_signal(signal.SIGKILL)
                    workers[victim].wait()
                    alive.discard(victim)
                for party, states in per_party.items():
                    body = json.dumps({"states": states}).encode()
                    await publish_batch(js, ids[party], keys[party], body, f"test-{uuid.uuid4()}")
            last = steps[-1][0]
            return await _until(
                js, group,
                lambda v: all(w.scanned_s == last for w in v.workers if w.name in alive)
                and {lease.owner for lease in v.leases} <= alive,
                120, "every worker through the last step")
        finally:
            await nc.close()

    started = time.monotonic()
    try:
        view = asyncio.run(scenario())
    finally:
        for process in workers.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in workers.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
        asyncio.run(drop_buckets(group))  # once the workers are gone: they keep writing until then
    for name in workers:
        err = (logs / f"{name}.log").read_text()
        assert "Traceback" not in err, (name, err)
    print(f"workers: {time.monotonic() - started:.1f} s")  # where the test's time goes (-s)
    opened, closed = committed(url, clock)
    return opened, closed, view


@pytest.mark.parametrize(("kill_at", "join_at"), [(None, None), (38, None), (None, 38)],
                         ids=["three-workers", "one-killed-halfway", "one-joins-halfway"])
def test_three_workers_give_exactly_the_single_process_alerts(postgres_url: str, clock, steps, kill_at,
                                                              join_at, tmp_path: Path) -> None:
    want_opened, want_closed = single_process(steps)
    assert len(want_opened) >= 40 and len(want_closed) >= 30  # the slice is busy enough to mean something
    opened, closed, view = run_workers(postgres_url, clock, steps, kill_at, tmp_path, join_at)
    # What each worker did, step by step, with its warnings: shown when the alerts differ.
    lines = [line for log in sorted(tmp_path.glob("*.log")) for line in log.read_text().splitlines()]
    steps_log = "\n".join(line for line in lines if " scanned " in line or "warning" in line.lower())
    assert len(opened) == len({o[0] for o in opened}), steps_log  # no alert opened twice
    assert len(closed) == len({c[0] for c in closed}), steps_log
    assert set(opened) == want_opened, (sorted(want_opened - set(opened), key=lambda o: o[3]),
                                        sorted(set(opened) - want_opened, key=lambda o: o[3]), steps_log)
    assert set(closed) == want_closed, (sorted(want_closed - set(closed), key=lambda c: c[1]),
                                        sorted(set(closed) - want_closed, key=lambda c: c[1]), steps_log)
    # The workers said how far behind they were: nothing pending, nothing unscanned at the end
    # (pending counts every message of TRACKS: true while nothing else publishes on this NATS
    # server meanwhile, as in CI, which runs one test at a time).
    assert all(w.pending == 0 and w.behind_s == 0.0 for w in view.workers if not w.stopped and w.steps), [
        (w.name, w.pending, w.behind_s) for w in view.workers]
