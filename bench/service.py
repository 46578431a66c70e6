"""The service under load (issue 5's benchmark): filing operations over HTTP against
10,000 active zones and 10,000 operations, on SQLite and then on PostgreSQL.

For each database: a real `truceline serve` process on loopback; an open-loop client that
sends filings at a fixed rate (200/s by default) for a bounded time and measures each
latency from its SCHEDULED send time (so queueing counts: no coordinated omission); then
the time from a conflicting filing to the SSE message arriving at the other party.

Baselines measured in the same run against the same server: GET /health (the floor of the
HTTP stack and the database round trip), and the strategic check alone in this process
(StrategicIndex.check on the same data), to show where a filing's time goes.

Run: .venv/bin/python bench/service.py [--rate 200] [--seconds 10] [--skip-postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import sqlalchemy

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone, ZoneRule
from truceline.engines.strategic import StrategicIndex
from truceline.geo.altitude import AltitudeBand
from truceline.geo.cells import clear_cover_cache
from truceline.geo.shapes import Circle, square_around
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.service.importing import import_features
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service

T0 = datetime(2027, 3, 1, tzinfo=UTC)
REGION = (34.5, 30.0, 43.5, 37.5)
PARTIES = [f"party-{i}" for i in range(8)]
WARMUP_FILINGS = 50
PG_URL = os.environ.get("TRUCELINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def random_volume(rng: np.random.Generator, half_m: float) -> Volume4D:
    lon = float(rng.uniform(REGION[0], REGION[2]))
    lat = float(rng.uniform(REGION[1], REGION[3]))
    shape = Circle((lon, lat), half_m) if rng.random() < 0.3 else square_around(lon, lat, half_m)
    lower = float(rng.uniform(0, 9000))
    start = T0 + timedelta(minutes=int(rng.integers(0, 7 * 24 * 60)))
    return Volume4D(
        shape,
        AltitudeBand(lower, lower + float(rng.uniform(300, 2000))),
        TimeWindow(start, start + timedelta(minutes=int(rng.integers(30, 240)))),
    )


def scenario(n_zones: int, n_operations: int, seed: int) -> tuple[list[Zone], list[Operation]]:
    rng = np.random.default_rng(seed)
    zones = [
        Zone(
            f"zone-{i:05d}",
            "deconfliction",
            (random_volume(rng, float(rng.uniform(1_000, 10_000))),),
            # Mostly notice zones (a filing is accepted and the parties told); one in ten forbids.
            ZoneRule("others", "any", "forbidden" if i % 10 == 0 else "notice"),
            party=PARTIES[i % len(PARTIES)],
        )
        for i in range(n_zones)
    ]
    operations = [
        Operation(
            f"op-{i:05d}",
            PARTIES[i % len(PARTIES)],
            "air",
            (random_volume(rng, float(rng.uniform(500, 5000))),),
        )
        for i in range(n_operations)
    ]
    return zones, operations


def filing_body(volume: Volume4D, op_id: str, party: str) -> dict:
    shape = volume.shape
    if isinstance(shape, Circle):
        geometry = {"type": "Point", "coordinates": list(shape.center)}
        extra = {"radius_m": shape.radius_m}
    else:
        geometry = {"type": "Polygon", "coordinates": [[list(p) for p in shape.ring]]}
        extra = {}
    props = {
        "party": party,
        "activity": "air",
        "altitude_lower_m": volume.altitude.lower_m,
        "altitude_upper_m": volume.altitude.upper_m,
        "time_start": volume.time.start.isoformat().replace("+00:00", "Z"),
        "time_end": volume.time.end.isoformat().replace("+00:00", "Z"),
        **extra,
    }
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "id": op_id, "geometry": geometry, "properties": props}],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare(url: str, n_zones: int, n_operations: int) -> tuple[dict[str, str], list[Zone], list[Operation]]:
    """Load the zones and operations through the ledger; register the parties; their tokens."""
    register = open_register(url, lambda: datetime.now(UTC))
    service = Service(register)
    tokens = {name: add_party(service, name).token for name in PARTIES}
    zones, operations = scenario(n_zones, n_operations, seed=7)
    t = time.perf_counter()
    # Through the operator's import, as `truceline import`: the operations a forbidden zone
    # binds them out of are refused, so the rest of the run uses the stored ones only.
    result = import_features(service, zones, operations)
    refused = {r.operation.id for r in result.refused}
    print(
        f"  loaded {n_zones:,} zones and {n_operations:,} operations ({len(refused):,} refused by a "
        f"forbidden zone) in {time.perf_counter() - t:.1f} s"
    )
    register.engine.dispose()
    return tokens, zones, [o for o in operations if o.id not in refused]


def start_server(url: str, keys_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {**os.environ, "TRUCELINE_KEYS_DIR": str(keys_dir)}
    truceline = Path(sys.executable).with_name("truceline")
    proc = subprocess.Popen(
        [str(truceline), "serve", "--db", url, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(os.environ.get("TRUCELINE_BENCH_LOG", os.devnull), "w"),  # noqa: SIM115
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return proc, base
        except httpx.TransportError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start within 120 s")


class LeanClient:
    """A minimal HTTP/1.1 client over keep-alive connections on loopback: the load
    generator must cost far less than the server it measures (httpx's async client costs
    ~5 ms of CPU a request, as much as the server, on the same two cores). Requests are
    prebuilt bytes; a response is read by its Content-Length."""

    def __init__(self, base: str, connections: int) -> None:
        host, port = base.removeprefix("http://").split(":")
        self.host, self.port, self.size = host, int(port), connections
        self.pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = asyncio.Queue()

    async def open(self) -> None:
        for _ in range(self.size):
            self.pool.put_nowait(await asyncio.open_connection(self.host, self.port))

    async def close(self) -> None:
        while not self.pool.empty():
            _reader, writer = self.pool.get_nowait()
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()

    def post(self, path: str, body: dict, token: str) -> bytes:
        """The bytes of a POST of ``body`` as JSON (built ahead of its send time)."""
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        return head.encode() + data

    async def send(self, request: bytes) -> int:
        """Send ``request`` on a free connection (waiting for one); the response's status."""
        reader, writer = await self.pool.get()
        try:
            try:
                return await self._exchange(reader, writer, request)
            except (asyncio.IncompleteReadError, ConnectionError):
                # The server closed an idle keep-alive connection: a new one, once.
                writer.close()
                reader, writer = await asyncio.open_connection(self.host, self.port)
                return await self._exchange(reader, writer, request)
        finally:
            self.pool.put_nowait((reader, writer))

    @staticmethod
    async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        await reader.readexactly(length)
        return int(lines[0].split()[1])


async def open_loop(base: str, tokens: dict[str, str], rate: float, seconds: float) -> dict:
    """Send filings at ``rate`` per second for ``seconds``; latency from the scheduled time."""
    rng = np.random.default_rng(11)
    n = int(rate * seconds)
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    client = LeanClient(base, connections=64)
    await client.open()
    # Every request is built before the clock starts: the client's own work stays off the
    # measured path.
    requests = []
    for i in range(n):
        party = PARTIES[i % len(PARTIES)]
        body = filing_body(random_volume(rng, float(rng.uniform(500, 5000))), f"load-{i:06d}", party)
        requests.append(client.post("/operations", body, tokens[party]))
    start = 0.0  # set after the warm-up

    async def one(i: int) -> None:
        scheduled = start + i / rate
        await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
        status = await client.send(requests[i])
        latencies.append((time.perf_counter() - scheduled) * 1000)
        statuses[status] = statuses.get(status, 0) + 1

    try:
        # Warm-up, not measured: the server's first filings compile its SQL statements and
        # warm its caches (cold, the first ones take ~150 ms and the queue behind them shows
        # in a 10 s run's p99). The target is the steady state.
        warm_rng = np.random.default_rng(13)
        for k in range(WARMUP_FILINGS):
            party = PARTIES[k % len(PARTIES)]
            body = filing_body(random_volume(warm_rng, 1000.0), f"warm-{k:04d}", party)
            await client.send(client.post("/operations", body, tokens[party]))
        start = time.perf_counter() + 0.2
        await asyncio.gather(*(one(i) for i in range(n)))
        elapsed = time.perf_counter() - start  # first scheduled send to last response
    finally:
        await client.close()
    return {"n": n, "elapsed_s": elapsed, "latencies": latencies, "statuses": statuses}


def health_latency(base: str, samples: int = 200) -> list[float]:
    out = []
    with httpx.Client(base_url=base) as client:
        for _ in range(samples):
            t = time.perf_counter()
            client.get("/health")
            out.append((time.perf_counter() - t) * 1000)
    return out


def notification_latency(
    base: str, tokens: dict[str, str], operations: list[Operation], samples: int
) -> tuple[list[float], int, int]:
    """Party X listens on /stream; party Y files an operation on top of one of X's: the time
    from sending the filing to the SSE event arriving at X. Also returns how many filings
    were refused (X's operation lies in a zone forbidding Y: no operation conflict to tell)
    and how many were accepted but never told within 5 s (lost: there should be none)."""
    listener, filer = PARTIES[0], PARTIES[1]
    targets = [o for o in operations if o.party == listener][:samples]
    arrived: list[float] = []
    event = threading.Event()
    stop = threading.Event()

    def listen() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the server stops at the end of the run
            read_stream()

    def read_stream() -> None:
        headers = {"Authorization": f"Bearer {tokens[listener]}"}
        with (
            httpx.Client(base_url=base, timeout=None) as client,
            client.stream("GET", "/stream", headers=headers) as r,
        ):
            for line in r.iter_lines():
                if stop.is_set():
                    return
                if line.startswith("data:") and '"conflict.operation"' in line:
                    arrived.append(time.perf_counter())
                    event.set()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    time.sleep(1.0)  # let the stream open and drain what is pending
    event.clear()
    arrived.clear()
    out = []
    refused = lost = 0
    with httpx.Client(base_url=base, timeout=30) as client:
        for k, target in enumerate(targets):
            event.clear()
            count = len(arrived)
            body = filing_body(target.volumes[0], f"notify-{k:04d}", filer)
            sent = time.perf_counter()
            response = client.post(
                "/operations", json=body, headers={"Authorization": f"Bearer {tokens[filer]}"}
            )
            if response.status_code == 409:
                refused += 1
            elif event.wait(5.0) and len(arrived) > count:
                out.append((arrived[count] - sent) * 1000)
            else:
                lost += 1
    stop.set()
    return out, refused, lost


def engine_only(zones: list[Zone], operations: list[Operation], checks: int) -> list[float]:
    clear_cover_cache()  # an earlier run in this process covered the same plans
    index = StrategicIndex()
    for z in zones:
        index.add_zone(z)
    for o in operations:
        index.add_operation(o)
    index.build_query_arrays()  # as the server's index is once loaded
    rng = np.random.default_rng(11)
    out = []
    for i in range(checks):
        plan = Operation(f"p{i}", PARTIES[i % 8], "air", (random_volume(rng, float(rng.uniform(500, 5000))),))
        t = time.perf_counter()
        index.check(plan)
        out.append((time.perf_counter() - t) * 1000)
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def server_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) the process has used so far; NaN where /proc is missing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(label: str, url: str, args: argparse.Namespace, workdir: Path) -> dict:
    print(f"== {label}", flush=True)
    tokens, zones, operations = prepare(url, args.zones, args.operations)
    proc, base = start_server(url, workdir / "keys")
    try:
        health = health_latency(base)
        cpu_before = server_cpu_s(proc.pid)
        result = asyncio.run(open_loop(base, tokens, args.rate, args.seconds))
        # Per filing, warm-up included: the server's CPU is what bounds the rate it can take.
        cpu_ms = (server_cpu_s(proc.pid) - cpu_before) * 1000 / (result["n"] + WARMUP_FILINGS)
        notify, refused, lost = notification_latency(base, tokens, operations, args.notify_samples)
    finally:
        proc.terminate()
        proc.wait(10)
    lat = result["latencies"]
    achieved = result["n"] / result["elapsed_s"]
    print(
        f"  filings: {result['n']} at {args.rate:.0f}/s offered, {achieved:.0f}/s achieved; "
        f"statuses {result['statuses']}; server CPU {cpu_ms:.2f} ms a filing"
    )
    print(
        f"  filing latency    p50 {pct(lat, 50):7.1f} ms   p99 {pct(lat, 99):7.1f} ms"
        f"   max {max(lat):7.1f} ms"
    )
    print(
        f"  baseline GET /health  p50 {pct(health, 50):7.2f} ms   p99 {pct(health, 99):7.2f} ms  "
        f"(filing p50 is {pct(lat, 50) / pct(health, 50):.1f}x the HTTP floor)"
    )
    engine = engine_only(zones, operations, 300)
    print(f"  baseline strategic check alone  p50 {pct(engine, 50):.2f} ms   p99 {pct(engine, 99):.2f} ms")
    print(
        f"  notification (filing sent -> SSE at the other party): {len(notify)} samples, "
        f"p50 {pct(notify, 50):.1f} ms   p99 {pct(notify, 99):.1f} ms; "
        f"refused by a zone (nothing to tell): {refused}; accepted but not told within 5 s: {lost}"
    )
    ok_latency = pct(lat, 99) < 50 and achieved >= 0.95 * args.rate
    ok_notify = bool(notify) and pct(notify, 99) < 100 and lost == 0
    # The issue sets the latency target on SQLite only; PostgreSQL is held to it for comparison.
    scope = "" if label.startswith("SQLite") else " (the target is set on SQLite; for comparison)"
    print(
        f"  targets: p99 < 50 ms at {args.rate:.0f} filings/s{scope} -> "
        f"{'met' if ok_latency else 'NOT met'}; "
        f"notification < 100 ms -> {'met' if ok_notify else 'NOT met'}",
        flush=True,
    )
    return {
        "label": label,
        "achieved": achieved,
        "p50": pct(lat, 50),
        "p99": pct(lat, 99),
        "cpu_ms": cpu_ms,
        "notify_p50": pct(notify, 50),
        "notify_p99": pct(notify, 99),
    }


def summary(rows: list[dict], rate: float) -> None:
    """One line a database: the figures issue 5 asks for, side by side."""
    print(f"\n== summary ({rate:.0f} filings/s offered; targets: p99 < 50 ms on SQLite, notify < 100 ms)")
    print(
        f"  {'database':<14} {'achieved/s':>10} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/filing':>14} "
        f"{'notify p50':>11} {'notify p99':>11}"
    )
    for r in rows:
        print(
            f"  {r['label']:<14} {r['achieved']:>10.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
            f"{r['cpu_ms']:>14.2f} {r['notify_p50']:>11.1f} {r['notify_p99']:>11.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--zones", type=int, default=10_000)
    parser.add_argument("--operations", type=int, default=10_000)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--notify-samples", type=int, default=30)
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        rows.append(run("SQLite (WAL)", f"sqlite:///{workdir}/bench.db", args, workdir))
        if not args.skip_postgres:
            admin = sqlalchemy.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
            name = f"truceline_bench_{uuid.uuid4().hex[:8]}"
            with admin.connect() as conn:
                conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
            try:
                pg_workdir = workdir / "pg"
                pg_workdir.mkdir()
                rows.append(run("PostgreSQL", PG_URL.rsplit("/", 1)[0] + f"/{name}", args, pg_workdir))
            finally:
                with admin.connect() as conn:
                    conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    summary(rows, args.rate)


if __name__ == "__main__":
    main()
