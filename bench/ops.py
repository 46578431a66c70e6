"""What the platform items cost, each against its baseline measured in the same run:

1. the metrics middleware per request: a bare ASGI app, with and without it;
2. the service's observers per commit (the event log line and the metrics), called on a
   real entry, against the time of a commit (a message sent, without observers);
3. the stop of a real ``truceline serve`` on SIGTERM with an event stream open, against
   the same server's stop with none open.

    .venv/bin/python bench/ops.py [--requests 20000] [--commits 300] [--stops 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from truceline.api.metrics import Metrics, MetricsMiddleware
from truceline.service import hotline
from truceline.service.auth import principal_for_token
from truceline.service.events import EventLog, Observers
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service


async def _bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


def per_request_us(app: Any, requests: int) -> float:
    scope = {"type": "http", "method": "GET", "path": "/health", "headers": []}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b""}

    async def send(_message: dict[str, Any]) -> None:
        return None

    async def run() -> float:
        began = time.perf_counter()
        for _ in range(requests):
            await app(dict(scope), receive, send)
        return time.perf_counter() - began

    return asyncio.run(run()) / requests * 1e6


def commits_per_s(folder: Path, commits: int) -> float:
    """Messages sent one by one (a commit each) per second, with no observer."""
    folder.mkdir(exist_ok=True)
    service = Service(open_register(f"sqlite:///{folder / 'commits.db'}", _now))
    try:
        token = add_party(service, "A").token
        add_party(service, "B")
        with service.read() as conn:
            sender = principal_for_token(conn, token)
        service.observers = Observers()
        began = time.perf_counter()
        for k in range(commits):
            hotline.send(service, sender, ["B"], f"message {k}", "en", "routine")
        return commits / (time.perf_counter() - began)
    finally:
        service.engine.dispose()


def observer_us(folder: Path, calls: int) -> float:
    """Microseconds the observers (EventLog and Metrics) take per commit of one entry,
    called directly on a real entry: the commit-rate figures alone are mostly fsync noise."""
    service = Service(open_register(f"sqlite:///{folder / 'observed.db'}", _now))
    try:
        add_party(service, "A")
        with service.read() as conn:
            entries = list(service.ledger.entries(conn, 0, 1))
        observers = Observers([EventLog(), Metrics(service)])
        began = time.perf_counter()
        for k in range(calls):
            observers.committed(1, entries, k + 1, b"\x00" * 32)
        return (time.perf_counter() - began) / calls * 1e6
    finally:
        service.engine.dispose()


def _now() -> datetime:
    return datetime.now(UTC)


def stop_s(folder: Path, with_stream: bool) -> float:
    """Seconds from SIGTERM to the exit of a real ``truceline serve``."""
    db = str(folder / f"serve-{time.monotonic_ns()}.db")
    service = Service(open_register(f"sqlite:///{db}", _now))
    token = add_party(service, "watcher").token
    service.engine.dispose()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "truceline", "serve", "--port", str(port), "--db", db],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "TRUCELINE_LOG_LEVEL": "warning"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:  # bounded start-up wait
            try:
                httpx.get(url + "/health", timeout=1.0)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("truceline serve did not start") from None
                time.sleep(0.1)
        opened = threading.Event()
        if with_stream:

            def listen() -> None:
                headers = {"Authorization": f"Bearer {token}"}
                try:
                    with httpx.stream("GET", url + "/stream", headers=headers, timeout=30.0) as response:
                        for _chunk in response.iter_text():
                            opened.set()
                except httpx.HTTPError:
                    pass

            threading.Thread(target=listen, daemon=True).start()
            if not opened.wait(10):
                raise RuntimeError("the stream did not open")
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        return time.monotonic() - began
    finally:
        if process.poll() is None:
            process.kill()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--commits", type=int, default=300)
    parser.add_argument("--stops", type=int, default=3)
    args = parser.parse_args()
    # The event lines are built (INFO) and written nowhere: their cost, not a terminal's.
    events = logging.getLogger("truceline.events")
    events.setLevel(logging.INFO)
    events.addHandler(logging.NullHandler())
    events.propagate = False
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        service = Service(open_register(f"sqlite:///{folder / 'm.db'}", _now))
        bare = per_request_us(_bare, args.requests)
        measured = per_request_us(MetricsMiddleware(_bare, Metrics(service)), args.requests)
        service.engine.dispose()
        results["request_us"] = {"baseline_bare_app": round(bare, 2), "with_metrics": round(measured, 2)}
        results["request_us"]["added_us"] = round(measured - bare, 2)

        # The baseline: a commit's time, best of three runs without observers (commits/s
        # with and without them differ by less than the fsync noise between runs).
        plain = max(commits_per_s(folder / f"{k}", args.commits) for k in range(3))
        results["commit_baseline_per_s"] = round(plain, 1)
        cost = observer_us(folder, args.requests)
        results["observers_per_commit_us"] = {
            "event_log_and_metrics": round(cost, 1),
            "share_of_a_baseline_commit": round(cost / (1e6 / plain), 4),
        }

        quiet = statistics.median(stop_s(folder, with_stream=False) for _ in range(args.stops))
        streaming = statistics.median(stop_s(folder, with_stream=True) for _ in range(args.stops))
        results["sigterm_to_exit_s"] = {
            "baseline_no_stream": round(quiet, 3),
            "stream_open": round(streaming, 3),
            "ratio": round(streaming / quiet, 2),
        }
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
