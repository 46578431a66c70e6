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

Latency (``--latency N``): a server on a temporary SQLite file, scanning every 2 s; N times, A
and B report two converging tracks, and the time from B's report (the one that creates the
conflict) to ``conflict.opened`` on A's ``/stream`` is measured; printed with its p50 and p99
against the goal of one scan interval plus 200 ms.

Run: .venv/bin/python bench/live.py [--sizes 1000 20000] [--repeat 3] [--latency 20]
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime

import numpy as np

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


def synthetic_states(n: int, seed: int = 0) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(-500_000, 500_000, n), rng.uniform(-500_000, 500_000, n)
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
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--latency", type=int, default=0, help="report-to-stream samples (0: none)")
    args = parser.parse_args()
    print("reports ingested per second (one thread); scan: time per scan of the whole picture")
    print(f"{'tracks':>7} {'what':<6} {'ours':>12} {'baseline':>12} {'ratio':>6}  (baseline)")
    for n in args.sizes:
        run(n, args.repeat)
    if args.latency:
        latency(args.latency)


def latency(samples: int, scan_interval_s: float = 2.0) -> None:
    import socket
    import tempfile
    import threading
    from pathlib import Path

    import httpx
    import uvicorn

    from truceline.api.app import create_app
    from truceline.domain.clock import utc_now
    from truceline.service.parties import add_party
    from truceline.service.register import open_register
    from truceline.service.service import Service

    folder = Path(tempfile.mkdtemp(prefix="truceline-live-"))
    service = Service(open_register(f"sqlite:///{folder / 'live.db'}", utc_now))
    tokens = {name: add_party(service, name, "party").token for name in ("A", "B")}
    app = create_app(service, tick_interval_s=None, scan_interval_s=scan_interval_s)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):  # bounded start-up wait
        try:
            if httpx.get(url + "/health", timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.05)
    arrived: dict[str, float] = {}
    ready = threading.Event()

    def listen() -> None:
        headers = {"Authorization": f"Bearer {tokens['A']}"}
        with httpx.stream("GET", url + "/stream", headers=headers, timeout=None) as r:
            ready.set()
            kind = ""
            for line in r.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "conflict.opened":
                    arrived[json.loads(line[6:])["alert"]["subject"][0]] = time.perf_counter()

    threading.Thread(target=listen, daemon=True).start()
    ready.wait(10)
    found = []
    for k in range(samples):
        t = to_epoch_s(utc_now())
        lat = -60.0 + k  # one pair per degree of latitude: no pair meets another's
        a = {"id": f"a{k}", "time": t, "lat": lat, "lon": 0.0, "alt_m": 3000.0, "alt_ref": "W84",
             "velocity": 200.0, "heading": 0.0, "vertrate": 0.0}
        b = {**a, "id": f"b{k}", "lat": lat + 0.15, "heading": 180.0}
        httpx.post(url + "/tracks", json={"states": [a]}, headers={"Authorization": f"Bearer {tokens['A']}"})
        start = time.perf_counter()
        httpx.post(url + "/tracks", json={"states": [b]}, headers={"Authorization": f"Bearer {tokens['B']}"})
        for _ in range(400):  # bounded: 10 s
            if f"a{k}" in arrived:
                found.append(arrived[f"a{k}"] - start)
                break
            time.sleep(0.025)
        time.sleep((k % 4) * 0.37)  # reports land at different points of the scan period
    server.should_exit = True
    if not found:
        print("latency: no alert reached the stream")
        return
    ms = np.array(found) * 1000.0
    goal = scan_interval_s * 1000.0 + 200.0
    print(f"report -> conflict.opened on the other party's /stream, {len(found)}/{samples} samples, "
          f"scan every {scan_interval_s:.0f} s: p50 {np.percentile(ms, 50):.0f} ms, "
          f"p99 {np.percentile(ms, 99):.0f} ms, max {ms.max():.0f} ms (goal: p99 <= {goal:.0f} ms)")


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

if __name__ == "__main__":
    main()
