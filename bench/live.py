"""Benchmark: the live picture in one process: reports ingested per second (JSON and CSV
batches, ``service.tracks``) and the time of one scan (``LiveScanner.scan``), with 1,000 and
20,000 live tracks.

Baselines, measured in the same run on the same data: for JSON ingest, ``json.loads`` of the
same bodies (the floor of any JSON ingest); for CSV, ``io.statevectors.parse_state_vectors``
alone; for the scan, the tactical detector alone on the same batch (the scan adds episodes and
the alert records). In-process only: no HTTP, no NATS, no database (a scan that opens alerts
commits them; here the scanner is pure, so it does not).

Synthetic picture: N aircraft in a 1000 km x 1000 km box at 48°N 8°E, FL100-FL400, 120-260 m/s,
random headings, 10 parties (each reports its own tracks in batches of 500).

HTTP end to end (``--parts http``): a ``truceline serve`` process (SQLite, or PostgreSQL with
``--http-db postgres``) scanning every 2 s; the N tracks posted as JSON, then CSV, batches of
500 to ``POST /tracks`` with the 10 parties' tokens over keep-alive httpx clients
(``--http-clients`` threads), in rounds (every track once a round, each report a millisecond
later than its previous one, so all N stay live). The first round and the first scan's alerts
(cold start) are left out of the rate and reported apart. Baseline: the same bodies ingested
by this process (parse + ``submit_json``/``submit_csv``): what HTTP costs on top.

NATS end to end (``--parts nats``): one or two ``truceline worker`` processes (``--workers``;
PostgreSQL, wall clock) and the same batches signed and published on ``TRACKS``
(``bus.tracks.publish_batch``). The rate runs from the first publish until the last worker has
taken the last message. A worker publishes no count of what it took, and its status's
``pending`` counts what the server has not yet delivered, not what the worker has not yet
taken (the client buffers what is delivered), so here every message carries its own report
time (a millisecond apart) and a worker's status gives the newest report time of its last scan
(heartbeat - ``behind_s``): that names the last message it had taken when it scanned. The end
lies between two scans (2 s apart): printed are an estimate (the take rate seen across the
run's scans, extrapolated) and the bounds. Every worker takes every message, so a second
worker does not share the ingest; it halves each worker's scan (shards).

The e2e pictures keep the density of the 1,000-track one (a box of 1000 km x 1000 km per
1,000 tracks), so the first scan of 20,000 tracks opens hundreds of alerts, not 18,500.

Latency (``--latency N``): a ``truceline serve`` process on a temporary SQLite file, scanning
every 2 s, with ``--latency-load M`` background tracks kept live (each reported once per scan
interval by a thread of this process; 0: none); N times, A
and B report two converging tracks, and the time from B's report (the one that creates the
conflict) to ``conflict.opened`` on A's ``/stream`` is measured; printed with its p50 and p99
against the goal of one scan interval plus 200 ms.

With ``--latency-nats`` the same samples go over NATS instead: a ``serve`` with
``TRUCELINE_BUS`` and ``TRUCELINE_WORKERS=external`` holds A's stream on PostgreSQL, one
``truceline worker`` scans and commits.

Run: .venv/bin/python bench/live.py [--parts inproc http nats] [--sizes 1000 20000] [--repeat 3]
     [--workers 1 2] [--http-db sqlite|postgres] [--latency 20]
     [--latency-load 0 20000] [--latency-nats]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from truceline.domain.clock import to_epoch_s
from truceline.domain.party import Role
from truceline.engines.tactical import StateBasedDetector
from truceline.io.statevectors import parse_state_vectors
from truceline.service.auth import Principal
from truceline.service.live_detection import LiveScanner
from truceline.service.tracks import TrackPicture, submit_csv, submit_json

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
PARTIES = 10
BATCH = 500
# The end-to-end parts.
SRC = Path(__file__).resolve().parents[1] / "src"
PG_ADMIN = os.environ.get("TRUCELINE_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
NATS_URL = os.environ.get("TRUCELINE_BENCH_NATS", "nats://127.0.0.1:4222")
STAMP_TEXT = b"1000000000.125"  # the time in prebuilt bodies, replaced by each batch's own
SCAN_INTERVAL_S = 2.0  # serve's and worker's default
# Reports are stamped a little in the past and the tracks kept for 10 minutes, so a run that
# falls behind measures its backlog instead of seeing its reports refused as old.
TRACK_MAX_AGE_S = 600.0


def synthetic_states(n: int, seed: int = 0, half_m: float = 500_000.0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-half_m, half_m, n), rng.uniform(-half_m, half_m, n)
    lat = 48.0 + np.degrees(y / 6_371_000.0)
    lon = 8.0 + np.degrees(x / (6_371_000.0 * np.cos(np.radians(lat))))
    t = to_epoch_s(NOW)
    return [
        {"id": f"{k:06x}", "time": t, "lat": float(lat[k]), "lon": float(lon[k]),
         "alt_m": float(rng.uniform(3048, 12192)), "alt_ref": "W84", "velocity": float(rng.uniform(120, 260)),
         "heading": float(rng.uniform(0, 360)), "vertrate": 0.0, "onground": False}
        for k in range(n)
    ]  # fmt: skip


def batches(states: list[dict[str, object]]) -> list[tuple[Principal, list[dict[str, object]]]]:
    out = []
    for p in range(PARTIES):
        mine = states[p::PARTIES]
        principal = Principal(f"id-{p}", f"P{p}", Role.PARTY, "en")
        out += [(principal, mine[i:i + BATCH]) for i in range(0, len(mine), BATCH)]
    return out


def csv_body(rows: list[dict[str, object]]) -> bytes:
    lines = ["time,icao24,lat,lon,velocity,heading,vertrate,onground,geoaltitude"]
    lines += [
        f"{r['time']},{r['id']},{r['lat']},{r['lon']},{r['velocity']},{r['heading']},0,False,{r['alt_m']}"
        for r in rows
    ]
    return ("\n".join(lines) + "\n").encode()


def best(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    import tempfile

    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--parts", nargs="*", choices=("inproc", "http", "nats"), default=["inproc"],
                        help="in-process ingest and scan; HTTP to a serve process; NATS to worker processes")
    parser.add_argument("--http-db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--http-clients", type=int, default=1, help="client threads posting at once")
    parser.add_argument("--http-reports", type=int, default=100_000, help="reports per HTTP run")
    parser.add_argument("--nats-reports", type=int, default=200_000, help="reports per NATS run")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--latency", type=int, default=0, help="report-to-stream samples (0: none)")
    parser.add_argument("--latency-load", type=int, nargs="+", default=[0],
                        help="background tracks kept live during the latency samples")
    parser.add_argument("--latency-nats", action="store_true",
                        help="the latency samples also over NATS, with a worker scanning")
    args = parser.parse_args()
    if "inproc" in args.parts:
        print("reports ingested per second (one thread); scan: time per scan of the whole picture")
        print(f"{'tracks':>7} {'what':<6} {'ours':>12} {'baseline':>12} {'ratio':>6}  (baseline)")
        for n in args.sizes:
            run(n, args.repeat)
    folder = Path(tempfile.mkdtemp(prefix="truceline-live-"))
    if "http" in args.parts:
        http_part(args.sizes, args.http_reports, args.repeat, args.http_clients, args.http_db, folder)
    if "nats" in args.parts:
        nats_part(args.sizes, args.nats_reports, args.repeat, args.workers, folder)
    if args.latency:
        print()
        for load in args.latency_load:
            latency(args.latency, load, folder)
        if args.latency_nats:
            latency_nats(args.latency, folder)


def latency(samples: int, load: int, folder: Path, scan_interval_s: float = SCAN_INTERVAL_S) -> None:
    """Report -> ``conflict.opened`` on the other party's ``/stream``, against a ``truceline
    serve`` process (SQLite); with ``load`` background tracks from 10 other parties kept live
    (every one reported once per scan interval, from a thread of this process)."""
    env = child_env(folder)
    url = f"sqlite:///{folder / f'latency-{uuid.uuid4().hex[:8]}.db'}"
    names = ["A", "B", *(f"P{p}" for p in range(PARTIES) if load)]
    parties = dict(zip(names, register_parties(url, names, request_keys=False), strict=True))
    tokens = {name: p.token for name, p in parties.items()}
    proc, url, _ = start_serve(url, env, folder / "latency-serve.log")
    arrived: dict[str, float] = {}
    ready = threading.Event()
    done = threading.Event()

    offered: list[float] = []

    def keep_live(work: list[Batch]) -> None:  # every background track once per scan interval
        clients = [[httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[f'P{p}']}"},
                                 timeout=120) for p in range(PARTIES)]]
        while not done.is_set():
            began = time.perf_counter()
            try:
                post_rounds(clients, work, "json", [now_ms() - 1000])
            except (httpx.HTTPError, RuntimeError):
                if done.is_set():  # the server is stopping
                    return
                raise
            offered.append(time.perf_counter() - began)
            done.wait(max(0.0, scan_interval_s - (time.perf_counter() - began)))

    loader = threading.Thread(target=keep_live, args=(e2e_batches(load),), daemon=True)
    try:
        threading.Thread(target=listen_stream, args=(url, tokens["A"], arrived, ready), daemon=True).start()
        ready.wait(10)
        if load:
            loader.start()
            time.sleep(3 * scan_interval_s)  # the background's alerts opened first (not measured)
        found = []
        a_client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['A']}"})
        b_client = httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens['B']}"})
        for k in range(samples):
            t = time.time()
            lat = -60.0 + k * 0.5  # one pair per half degree of latitude: no pair meets another's
            a = {"id": f"a{k}", "time": t, "lat": lat, "lon": 0.0, "alt_m": 3000.0, "alt_ref": "W84",
                 "velocity": 200.0, "heading": 0.0, "vertrate": 0.0}
            b = {**a, "id": f"b{k}", "lat": lat + 0.15, "heading": 180.0}
            a_client.post("/tracks", json={"states": [a]})
            start = time.perf_counter()
            b_client.post("/tracks", json={"states": [b]})
            for _ in range(400):  # bounded: 10 s
                if f"a{k}" in arrived:
                    found.append(arrived[f"a{k}"] - start)
                    break
                time.sleep(0.025)
            time.sleep((k % 4) * 0.37)  # reports land at different points of the scan period
    finally:
        done.set()
        if loader.is_alive():
            loader.join(60)
        stop(proc)
    background = ""
    if load:
        background = (f", {load} background tracks live (a round posted in {np.median(offered):.2f} s "
                      f"median, {load / scan_interval_s:.0f} reports/s offered)")
    print_latency(found, samples, scan_interval_s, background)


def latency_nats(samples: int, folder: Path, scan_interval_s: float = SCAN_INTERVAL_S) -> None:
    """Report -> ``conflict.opened`` on the other party's ``/stream`` when the reports go over
    NATS and a ``truceline worker`` scans: ``serve`` (PostgreSQL, ``TRUCELINE_BUS``,
    ``TRUCELINE_WORKERS=external``) holds the stream, one worker commits the alert."""
    env = child_env(folder)
    group = f"bench_{uuid.uuid4().hex[:10]}"
    with database("postgres", folder) as db:
        parties = dict(zip("AB", register_parties(db, ["A", "B"], request_keys=True), strict=True))
        served = {**env, "TRUCELINE_BUS": NATS_URL, "TRUCELINE_WORKERS": "external",
                  "TRUCELINE_WORKER_GROUP": group}
        proc, url, _ = start_serve(db, served, folder / "latency-nats-serve.log")
        worker = start_worker(db, env, group, "w1", folder / "latency-nats-worker.log")
        arrived: dict[str, float] = {}
        ready = threading.Event()
        listener = threading.Thread(target=listen_stream, args=(url, parties["A"].token, arrived, ready),
                                    daemon=True)
        listener.start()
        ready.wait(10)
        try:
            found = asyncio.run(_nats_samples(samples, parties, group, arrived))
        finally:
            stop(worker)
            stop(proc)
            asyncio.run(nats_cleanup(group, list(parties.values())))
    print_latency(found, samples, scan_interval_s, ", reports over NATS, one `truceline worker` scanning")


async def _nats_samples(samples: int, parties: dict[str, Party], group: str, arrived: dict[str, float]
                        ) -> list[float]:
    import nats

    from truceline.bus.tracks import publish_batch
    from truceline.bus.workers import read_workers
    from truceline.service.partition import N_SHARDS

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    try:
        for _ in range(1200):  # bounded: the worker holds every shard
            view = await read_workers(js, group)
            if len(view.leases) == N_SHARDS and {x.owner for x in view.leases} == {"w1"}:
                break
            await asyncio.sleep(0.1)
        found = []
        for k in range(samples):
            t = time.time()
            lat = -60.0 + k * 0.5
            a = {"id": f"a{k}", "time": t, "lat": lat, "lon": 0.0, "alt_m": 3000.0, "alt_ref": "W84",
                 "velocity": 200.0, "heading": 0.0, "vertrate": 0.0}
            b = {**a, "id": f"b{k}", "lat": lat + 0.15, "heading": 180.0}
            for name, state in (("A", a), ("B", b)):
                if name == "B":
                    start = time.perf_counter()
                await publish_batch(js, parties[name].id, parties[name].key,
                                    json.dumps({"states": [state]}).encode(), f"bench-{uuid.uuid4()}")
            for _ in range(1200):  # bounded: 30 s (a stream's keep-alive is 15 s)
                if f"a{k}" in arrived:
                    found.append(arrived[f"a{k}"] - start)
                    break
                await asyncio.sleep(0.025)
            await asyncio.sleep((k % 4) * 0.37)
        return found
    finally:
        await nc.close()


def listen_stream(url: str, token: str, arrived: dict[str, float], ready: threading.Event) -> None:
    """Note when each ``conflict.opened`` reaches ``token``'s ``/stream`` (by its first track)."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.stream("GET", url + "/stream", headers=headers, timeout=None) as r:
        ready.set()
        kind = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "conflict.opened":
                arrived[json.loads(line[6:])["alert"]["subject"][0]] = time.perf_counter()


def print_latency(found: list[float], samples: int, scan_interval_s: float, how: str) -> None:
    if not found:
        print(f"latency: no alert reached the stream{how}")
        return
    ms = np.array(found) * 1000.0
    goal = scan_interval_s * 1000.0 + 200.0
    print(f"report -> conflict.opened on the other party's /stream, {len(found)}/{samples} samples, "
          f"scan every {scan_interval_s:.0f} s{how}: p50 {np.percentile(ms, 50):.0f} ms, "
          f"p99 {np.percentile(ms, 99):.0f} ms, max {ms.max():.0f} ms (goal: p99 <= {goal:.0f} ms; "
          f"p99/goal {np.percentile(ms, 99) / goal:.2f})")


def run(n: int, repeat: int) -> None:
    work = batches(synthetic_states(n))
    bodies = [json.dumps({"states": rows}).encode() for _, rows in work]
    csvs = [csv_body(rows) for _, rows in work]

    def ingest_json() -> None:
        picture = TrackPicture()
        for (principal, _), body in zip(work, bodies, strict=True):
            submit_json(picture, principal, json.loads(body)["states"], NOW)
        assert len(picture) == n

    def parse_only() -> None:
        for body in bodies:
            json.loads(body)

    def ingest_csv() -> None:
        picture = TrackPicture()
        for (principal, _), body in zip(work, csvs, strict=True):
            submit_csv(picture, principal, body, NOW)
        assert len(picture) == n

    def read_only() -> None:
        for body in csvs:
            parse_state_vectors(body, "body")

    ours, base = best(ingest_json, repeat), best(parse_only, repeat)
    print(f"{n:>7} {'json':<6} {n / ours:>10.0f}/s {n / base:>10.0f}/s {ours / base:>6.1f}  (json.loads)")
    ours, base = best(ingest_csv, repeat), best(read_only, repeat)
    print(f"{n:>7} {'csv':<6} {n / ours:>10.0f}/s {n / base:>10.0f}/s {ours / base:>6.1f}  "
          "(parse_state_vectors)")
    picture = TrackPicture()
    for principal, rows in work:
        submit_json(picture, principal, rows, NOW)
    print(f"{n:>7} {'scan':<6} {scan_figures(picture, repeat)}")


def scan_figures(picture: TrackPicture, repeat: int) -> str:
    """The first scan (every alert opens), a steady one (the same alerts go on: nothing told),
    and the detector alone on the same batch."""
    at = to_epoch_s(NOW)
    batch = picture.snapshot(at)
    detector = StateBasedDetector()
    detector.detect(batch)  # warm the compiled broad phase
    first = best(lambda: LiveScanner().scan(picture.snapshot(at), at), repeat)
    scanner = LiveScanner()
    opened = len(scanner.scan(picture.snapshot(at), at).events)
    steady = best(lambda: scanner.scan(picture.snapshot(at + 1.0), at + 1.0), repeat)
    alone = best(lambda: detector.detect(batch), repeat)
    return (f"first {first * 1000:.0f} ms ({opened} alerts opened), steady {steady * 1000:.0f} ms, "
            f"detector alone {alone * 1000:.0f} ms: steady/alone {steady / alone:.1f}")


# -- end to end: a real ``truceline serve``, real ``truceline worker`` processes ---------------



@dataclass(frozen=True)
class Party:
    id: str
    token: str
    key: Ed25519PrivateKey


@dataclass(frozen=True)
class Batch:
    party: int
    rows: int
    json: bytes  # with STAMP_TEXT as every row's time
    csv: bytes


def e2e_batches(n: int) -> list[Batch]:
    """N tracks from 10 parties in batches of 500, at the density of the 1,000-track picture
    (a box of 1000 km x 1000 km per 1,000 tracks: about 40 alerts per 1,000 tracks; the
    in-process picture's 1000 km box holds 20,000 tracks in 18,500 alerts, which would turn
    the first scan of a real server into minutes of commits)."""
    half_m = 500_000.0 * math.sqrt(n / 1000)
    states = [{**s, "time": float(STAMP_TEXT)} for s in synthetic_states(n, half_m=half_m)]
    out = []
    for p in range(PARTIES):
        mine = states[p::PARTIES]
        for i in range(0, len(mine), BATCH):
            rows = mine[i:i + BATCH]
            out.append(Batch(p, len(rows), json.dumps({"states": rows}).encode(), csv_body(rows)))
    assert all(STAMP_TEXT in b.json and STAMP_TEXT in b.csv for b in out)
    return out


def stamped(body: bytes, ms: int) -> bytes:
    return body.replace(STAMP_TEXT, f"{ms // 1000}.{ms % 1000:03d}".encode())


def now_ms() -> int:
    return int(time.time() * 1000)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_env(folder: Path) -> dict[str, str]:
    """The environment of the server and worker processes (and of this one's register): the
    log key in the run's folder, warnings only, this checkout's sources."""
    env = {**os.environ, "TRUCELINE_KEYS_DIR": str(folder / "keys"),
           "XDG_CONFIG_HOME": str(folder / "config"), "TRUCELINE_LOG_LEVEL": "warning",
           "TRUCELINE_TRACK_MAX_AGE_S": str(TRACK_MAX_AGE_S),
           "TRUCELINE_SCAN_INTERVAL_S": str(SCAN_INTERVAL_S),
           "PYTHONPATH": os.pathsep.join(p for p in (str(SRC), os.environ.get("PYTHONPATH", "")) if p)}
    os.environ["TRUCELINE_KEYS_DIR"] = env["TRUCELINE_KEYS_DIR"]
    return env


@contextlib.contextmanager
def database(kind: str, folder: Path) -> Iterator[str]:
    """A fresh database: a SQLite file in ``folder``, or a new PostgreSQL database (dropped after)."""
    if kind == "sqlite":
        yield f"sqlite:///{folder / f'live-{uuid.uuid4().hex[:8]}.db'}"
        return
    import sqlalchemy

    admin = sqlalchemy.create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"truceline_bench_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def register_parties(url: str, names: Sequence[str], request_keys: bool) -> list[Party]:
    """Parties with a token; with ``request_keys``, a request key too (NATS batches are signed
    with it; over HTTP a party holding one must sign its requests, so the HTTP ones hold none)."""
    from truceline.domain.clock import utc_now
    from truceline.ledger.keys import raw_public_key
    from truceline.service.parties import add_party
    from truceline.service.register import open_register

    register = open_register(url, utc_now)
    out = []
    for name in names:
        key = Ed25519PrivateKey.generate()
        public = base64.b64encode(raw_public_key(key.public_key())).decode()
        done = add_party(register, name, "party", request_key=public if request_keys else None)
        out.append(Party(done.party.id, done.token, key))
    register.engine.dispose()
    return out


def start_serve(url: str, env: dict[str, str], log: Path) -> tuple[subprocess.Popen[bytes], str, float]:
    """``truceline serve`` on ``url``; its URL and its start-up time (up to the first 200 of /health)."""
    port = free_port()
    started = time.perf_counter()
    with log.open("wb") as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "truceline", "serve", "--db", url, "--host", "127.0.0.1",
             "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=err)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base, time.perf_counter() - started
        except httpx.TransportError:
            time.sleep(0.1)
    stop(proc)
    raise RuntimeError(f"truceline serve did not start: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def spread(values: Sequence[float], unit: str = "/s") -> str:
    v = sorted(values)
    return f"{np.median(v):>8.0f}{unit} [{v[0]:.0f}-{v[-1]:.0f}]"


# -- HTTP -----------------------------------------------------------------------------------


def post_rounds(clients: list[list[httpx.Client]], work: list[Batch], fmt: str, stamps: list[int]
                ) -> tuple[float, int]:
    """Every batch once per stamp (a round), from ``len(clients)`` threads, each posting a fixed
    share of the batches (so a track's reports reach the server in order); wall seconds and
    rows accepted."""
    content = "text/csv" if fmt == "csv" else "application/json"
    bodies = [[stamped(b.csv if fmt == "csv" else b.json, ms) for b in work] for ms in stamps]  # not timed
    accepted = [0] * len(clients)
    failures: list[str] = []

    def share(j: int) -> None:
        for r in range(len(stamps)):
            for i in range(j, len(work), len(clients)):
                response = clients[j][work[i].party].post("/tracks", content=bodies[r][i],
                                                          headers={"Content-Type": content})
                if response.status_code != 202:
                    failures.append(f"{response.status_code} {response.text[:300]}")
                    return
                accepted[j] += response.json()["accepted"]

    threads = [threading.Thread(target=share, args=(j,)) for j in range(len(clients))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"POST /tracks: {failures[0]}")
    return elapsed, sum(accepted)


def inprocess_rounds(work: list[Batch], fmt: str, stamps: list[int], picture: TrackPicture) -> float:
    """The baseline: the same bodies into a TrackPicture in this process (parse + ingest)."""
    from truceline.domain.clock import utc_now

    principals = [Principal(f"id-{p}", f"P{p}", Role.PARTY, "en") for p in range(PARTIES)]
    bodies = [[stamped(b.csv if fmt == "csv" else b.json, ms) for b in work] for ms in stamps]
    now = utc_now()
    start = time.perf_counter()
    for r in range(len(stamps)):
        for b, body in zip(work, bodies[r], strict=True):
            if fmt == "csv":
                submit_csv(picture, principals[b.party], body, now)
            else:
                submit_json(picture, principals[b.party], json.loads(body)["states"], now)
    return time.perf_counter() - start


def http_part(sizes: Sequence[int], reports: int, repeat: int, n_clients: int, db: str, folder: Path) -> None:
    print(f"\nHTTP end to end: `truceline serve` on {db}, scan every {SCAN_INTERVAL_S:.0f} s, POST /tracks "
          f"in batches of {BATCH} from {PARTIES} parties, {n_clients} client thread(s) (keep-alive httpx);")
    print(f"about {reports} reports per run (rounds of all N tracks, each track once a round), "
          f"{repeat} runs: median [min-max]; baseline: the same bodies ingested in this process")
    print(f"{'tracks':>7} {'fmt':<5} {'HTTP reports/s':>26} {'in-process':>26} {'ratio':>6} "
          f"{'server CPU':>11}  cold start")
    env = child_env(folder)
    for n in sizes:
        work = e2e_batches(n)
        rounds = max(1, math.ceil(reports / n))
        with database(db, folder) as url:
            parties = register_parties(url, [f"P{p}" for p in range(PARTIES)], request_keys=False)
            proc, base, boot_s = start_serve(url, env, folder / f"serve-{n}.log")
            clients = [[httpx.Client(base_url=base, headers={"Authorization": f"Bearer {p.token}"},
                                     timeout=120) for p in parties] for _ in range(n_clients)]
            try:
                for fmt in ("json", "csv"):
                    cold_s, _ = post_rounds(clients, work, fmt, [now_ms() - 1000])
                    time.sleep(SCAN_INTERVAL_S + 1.0)  # the first scan opens the alerts: not in the rate
                    rates, base_rates, cpu = [], [], []
                    for _ in range(repeat):
                        stamps = [now_ms() - 1000 + r for r in range(rounds)]
                        cpu0 = cpu_s(proc.pid)
                        elapsed, accepted = post_rounds(clients, work, fmt, stamps)
                        cpu.append((cpu_s(proc.pid) - cpu0) / elapsed)
                        assert accepted == n * rounds, (accepted, n * rounds)
                        rates.append(accepted / elapsed)
                        picture = TrackPicture(max_age_s=TRACK_MAX_AGE_S)
                        inprocess_rounds(work, fmt, [now_ms() - 2000], picture)  # the tracks exist, as served
                        base_rates.append(n * rounds / inprocess_rounds(work, fmt, stamps, picture))
                    ratio = np.median(base_rates) / np.median(rates)
                    print(f"{n:>7} {fmt:<5} {spread(rates):>26} {spread(base_rates):>26} {ratio:>6.1f} "
                          f"{np.median(cpu) * 100:>9.0f} %  first round {n / cold_s:.0f}/s "
                          f"(server up in {boot_s:.1f} s)")
            finally:
                for row in clients:
                    for c in row:
                        c.close()
                stop(proc)


# -- NATS -----------------------------------------------------------------------------------


def start_worker(url: str, env: dict[str, str], group: str, name: str, log: Path) -> subprocess.Popen[bytes]:
    env = {**env, "TRUCELINE_DB": url, "TRUCELINE_BUS": NATS_URL, "TRUCELINE_WORKER_GROUP": group,
           "TRUCELINE_SCAN_CLOCK": "wall"}
    with log.open("wb") as err:
        return subprocess.Popen([sys.executable, "-m", "truceline", "worker", "--name", name], env=env,
                                stdout=subprocess.DEVNULL, stderr=err)


@dataclass
class Followed:
    """One run over NATS: when publishing started and ended (wall), and each worker's progress
    as its scans saw it: (scan time, messages taken by then)."""

    start_s: float
    published_s: float
    messages: int
    points: dict[str, list[tuple[float, int]]]
    cpu_s: dict[str, float]

    def taken_at(self, name: str) -> tuple[float, float, float]:
        """When ``name`` had taken the last message: an estimate and its bounds. The bounds are
        the scans either side of it (no later than the scan that first held every message, no
        earlier than the last one that did not, nor than the last publish); the estimate
        extrapolates the take rate of the scans made during the run (the backlog's drain)."""
        points = [p for p in self.points[name] if p[0] >= self.start_s]
        last = next(p for p in points if p[1] == self.messages)
        before = [p for p in points if p[1] < self.messages and p[0] < last[0]]
        low = max([self.published_s] + [p[0] for p in before])
        during = [p for p in before if p[1] > 0]
        if len(during) >= 2 and during[-1][1] > during[0][1]:
            rate = (during[-1][1] - during[0][1]) / (during[-1][0] - during[0][0])
            estimate = during[-1][0] + (self.messages - during[-1][1]) / rate
        else:
            estimate = (low + last[0]) / 2
        return min(max(estimate, low), last[0]), low, last[0]


async def follow_run(js: Any, group: str, names: Sequence[str], parties: list[Party], work: list[Batch],
                     rounds: int, pids: dict[str, int], limit_s: float = 300.0) -> Followed:
    """Publish ``rounds`` rounds of signed batches, each message stamped with its own time
    (a millisecond apart), and follow the workers' status bucket until every worker's last
    scan held the last message. A worker's status gives the newest report time of its last
    scan (heartbeat - behind_s): the stamp says which message that was, so how many it had
    taken when it scanned."""
    from truceline.bus.tracks import publish_batch
    from truceline.bus.workers import read_workers

    messages = rounds * len(work)
    t0 = now_ms() - messages - 2000  # every stamp in the past when published
    signed = [(parties[b.party], stamped(b.json, t0 + r * len(work) + i), f"bench-{uuid.uuid4()}")
              for r in range(rounds) for i, b in enumerate(work)]
    points: dict[str, list[tuple[float, int]]] = {n: [] for n in names}

    async def follow() -> None:
        for _ in range(int(limit_s / 0.1)):
            view = await read_workers(js, group)
            for w in view.workers:
                if w.name in points and w.scanned_s is not None and w.behind_s is not None:
                    newest = round((w.heartbeat_s - w.behind_s) * 1000) - t0
                    point = (w.scanned_s, min(max(newest + 1, 0), messages))
                    if not points[w.name] or points[w.name][-1][0] != w.scanned_s:
                        points[w.name].append(point)
            if all(p and p[-1][1] == messages and p[-1][0] >= start for p in points.values()):
                return
            await asyncio.sleep(0.1)
        raise RuntimeError(f"the workers did not take every message in {limit_s} s: {points}")

    cpu0 = {n: cpu_s(pid) for n, pid in pids.items()}
    start = time.time()
    follower = asyncio.create_task(follow())
    for party, body, msg_id in signed:
        await publish_batch(js, party.id, party.key, body, msg_id)
    published = time.time()
    await follower
    return Followed(start, published, messages, points, {n: cpu_s(pid) - cpu0[n] for n, pid in pids.items()})


def nats_part(sizes: Sequence[int], reports: int, repeat: int, worker_counts: Sequence[int],
              folder: Path) -> None:
    print(f"\nNATS end to end: signed JSON batches of {BATCH} published on TRACKS, `truceline worker` "
          f"processes (wall clock, scan every {SCAN_INTERVAL_S:.0f} s, PostgreSQL);")
    print(f"about {reports} reports per run, {repeat} runs: median [min-max]; reports/s from the first "
          "publish until the last worker has taken the last message (estimate, and the slowest and "
          "fastest the scans allow); each worker takes every message")
    print(f"{'tracks':>7} {'workers':>7} {'reports/s taken':>26} {'bounds (all runs)':>19} "
          f"{'published/s':>13} {'reports/CPU-s':>14}  cold start")
    env = child_env(folder)
    for n in sizes:
        work = e2e_batches(n)
        rounds = max(1, math.ceil(reports / n))
        for k in worker_counts:
            with database("postgres", folder) as url:
                parties = register_parties(url, [f"P{p}" for p in range(PARTIES)], request_keys=True)
                group = f"bench_{uuid.uuid4().hex[:10]}"
                names = [f"w{i + 1}" for i in range(k)]
                started = time.perf_counter()
                procs = {name: start_worker(url, env, group, name, folder / f"worker-{n}-{k}-{name}.log")
                         for name in names}
                try:
                    line = asyncio.run(nats_measure(n, k, work, rounds, repeat, parties, group, names, procs,
                                                    started))
                    print(line)
                finally:
                    for proc in procs.values():
                        stop(proc)
                    asyncio.run(nats_cleanup(group, parties))
                for name in names:
                    text = (folder / f"worker-{n}-{k}-{name}.log").read_text()
                    if "Traceback" in text:
                        print(f"  worker {name} logged a traceback: {text[-1500:]}")


async def nats_measure(n: int, k: int, work: list[Batch], rounds: int, repeat: int, parties: list[Party],
                       group: str, names: list[str], procs: dict[str, subprocess.Popen[bytes]],
                       started: float) -> str:
    import nats

    from truceline.bus.workers import read_workers
    from truceline.service.partition import N_SHARDS

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    try:
        for _ in range(1200):  # bounded: 120 s for the workers to start and share the shards
            view = await read_workers(js, group)
            alive = {w.name for w in view.workers if not w.stopped}
            owners = {x.owner for x in view.leases}
            if alive >= set(names) and len(view.leases) == N_SHARDS and owners == set(names):
                break
            if any(p.poll() is not None for p in procs.values()):
                raise RuntimeError("a worker exited")
            await asyncio.sleep(0.1)
        else:
            raise RuntimeError("the workers did not share the shards in 120 s")
        boot_s = time.perf_counter() - started
        pids = {name: p.pid for name, p in procs.items()}
        cold = await follow_run(js, group, names, parties, work, 1, pids)
        cold_s = max(cold.points[x][-1][0] for x in names) - cold.start_s  # includes the first scan's commits
        rates, lows, highs, published, per_cpu = [], [], [], [], []
        for _ in range(repeat):
            run = await follow_run(js, group, names, parties, work, rounds, pids)
            ends = [run.taken_at(x) for x in names]
            total = n * rounds
            rates.append(total / (max(e[0] for e in ends) - run.start_s))
            highs.append(total / (max(e[1] for e in ends) - run.start_s))
            lows.append(total / (max(e[2] for e in ends) - run.start_s))
            published.append(total / (run.published_s - run.start_s))
            per_cpu.append(total / np.mean(list(run.cpu_s.values())))
        bounds = f"{min(lows):.0f}-{max(highs):.0f}/s"
        return (f"{n:>7} {k:>7} {spread(rates):>26} {bounds:>19} {np.median(published):>11.0f}/s "
                f"{np.median(per_cpu):>14.0f}  all scanned {cold_s:.1f} s after the first publish "
                f"(workers up in {boot_s:.1f} s)")
    finally:
        await nc.close()


async def nats_cleanup(group: str, parties: list[Party]) -> None:
    """The group's buckets, and this run's messages from TRACKS (its parties' subjects only)."""
    import nats

    from truceline.bus.tracks import STREAM, subject_of
    from truceline.bus.workers import bucket_names

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    for bucket in bucket_names(group):
        with contextlib.suppress(Exception):
            await js.delete_key_value(bucket)
    for party in parties:
        with contextlib.suppress(Exception):
            await js.purge_stream(STREAM, subject=subject_of(party.id))
    await nc.close()


if __name__ == "__main__":
    main()
