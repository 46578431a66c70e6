"""What humanitarian notifications cost a filing: the mean time to file an operation (through
the service, on a SQLite file) with N notifications in force (sites and convoy routes in the
same region and time), against the baseline measured in the same run: the same filings with
none (after 10 warm-up filings each). Also the board-of-inquiry status query at a point,
from the database and offline from an export.

Run: PYTHONPATH=src .venv/bin/python bench/notifications.py [--notifications 300] [--filings 200]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from truceline.ledger.export import export_log
from truceline.service import filing, notifications
from truceline.service.auth import principal_for_token
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service

T0 = datetime(2027, 3, 1, tzinfo=UTC)
REGION = (35.5, 32.5, 41.5, 37.0)
WARMUP_FILINGS = 10


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=10)
        return self.now


def _text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def site(rng: np.random.Generator) -> dict[str, Any]:
    lon, lat = float(rng.uniform(REGION[0], REGION[2])), float(rng.uniform(REGION[1], REGION[3]))
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": "site", "organisation": "bench", "site_type": "hospital",
                       "protection_radius_m": 500, "valid_from": _text(T0)},
    }  # fmt: skip


def convoy(rng: np.random.Generator) -> dict[str, Any]:
    lon, lat = float(rng.uniform(REGION[0], REGION[2] - 0.5)), float(rng.uniform(REGION[1], REGION[3] - 0.5))
    route = [[lon, lat], [lon + 0.2, lat + 0.1], [lon + 0.4, lat]]
    start = T0 + timedelta(days=3, hours=float(rng.uniform(0, 48)))
    return {
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": route},
        "properties": {"name": "convoy", "organisation": "bench", "departure": _text(start),
                       "arrival": _text(start + timedelta(hours=4)), "corridor_m": 500},
    }  # fmt: skip


def operation(rng: np.random.Generator, k: int) -> dict[str, Any]:
    lon, lat = float(rng.uniform(REGION[0], REGION[2])), float(rng.uniform(REGION[1], REGION[3]))
    d = 0.02
    ring = [[lon, lat], [lon + d, lat], [lon + d, lat + d], [lon, lat + d], [lon, lat]]
    start = T0 + timedelta(days=3, hours=float(rng.uniform(0, 48)))
    end = start + timedelta(hours=2)
    props = {"party": "A", "activity": "air", "altitude_lower_m": 500, "altitude_upper_m": 3000,
             "altitude_reference": "AMSL", "time_start": _text(start), "time_end": _text(end)}  # fmt: skip
    feature = {"type": "Feature", "id": f"op-{k}", "geometry": {"type": "Polygon", "coordinates": [ring]},
               "properties": props}  # fmt: skip
    return {"type": "FeatureCollection", "features": [feature]}


def run(folder: Path, count: int, filings: int) -> tuple[float, float, float]:
    clock = Clock()
    service = Service(open_register(f"sqlite:///{folder / 'bench.db'}", clock))
    hum = add_party(service, "HUM", "humanitarian").token
    token = add_party(service, "A", "party").token
    add_party(service, "B", "party")
    with service.read() as conn:
        humanitarian, filer = principal_for_token(conn, hum), principal_for_token(conn, token)
    rng = np.random.default_rng(7)
    for i in range(count):
        notifications.submit(service, humanitarian, site(rng) if i % 2 else convoy(rng))
    rng = np.random.default_rng(11)
    for k in range(WARMUP_FILINGS):  # a server has decoded what is in force before this
        filing.file_operation(service, filer, operation(rng, -1 - k))
    started = time.perf_counter()
    for k in range(filings):
        filing.file_operation(service, filer, operation(rng, k))
    per_filing = (time.perf_counter() - started) / filings
    at = T0 + timedelta(days=4)
    started = time.perf_counter()
    notifications.status(service, humanitarian, at, 38.5, 34.7, 50_000.0)
    online = time.perf_counter() - started
    with service.read() as conn:
        export_log(conn, service.ledger, folder / "export", clock())
    started = time.perf_counter()
    notifications.status_from_export(folder / "export", at, 38.5, 34.7, 50_000.0)
    offline = time.perf_counter() - started
    service.engine.dispose()
    return per_filing, online, offline


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notifications", type=int, default=300)
    parser.add_argument("--filings", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as base, tempfile.TemporaryDirectory() as loaded:
        baseline, _, _ = run(Path(base), 0, args.filings)
        with_n, online, offline = run(Path(loaded), args.notifications, args.filings)
    print(f"filing, baseline (no notification): {baseline * 1e3:.2f} ms per filing")
    print(f"filing with {args.notifications} notifications in force: {with_n * 1e3:.2f} ms per filing "
          f"({with_n / baseline:.2f}x the baseline)")  # fmt: skip
    print(f"status query (50 km radius): {online * 1e3:.1f} ms from the database, "
          f"{offline * 1e3:.1f} ms offline from the export (verified first)")  # fmt: skip


if __name__ == "__main__":
    main()
