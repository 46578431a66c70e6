"""Benchmark: `truceline replay` of a full day of en-route traffic, whole process.

A synthetic day shaped like the Paris recording's rows (OpenSky columns, baroaltitude only,
`geoaltitude`, `alert`, `spi`, `lastposupdate`, `lastcontact` empty): --aircraft flights (800)
spread over 24 h, each a straight en-route leg of about 29 minutes at FL290-FL390 and
200-250 m/s across a 600 km box centred on Paris, one state vector every 10 s (about 140,000
rows); 2 % climb or descend. Each aircraft is its own party.

Run: .venv/bin/python bench/replay_day.py [--aircraft 800] [--step 5] [--keep FILE]
Prints the file's shape, the wall time of the whole `truceline replay` process (cold start and
parsing included, as users run it) against the 30 s goal, and the replay's own summary line.
The progress bar shows when the command runs on a terminal (run the printed command by hand).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HEADER = ("time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk,"
          "baroaltitude,geoaltitude,lastposupdate,lastcontact")
DAY0 = 1633564800  # 2021-10-07T00:00:00Z, the Paris recording's day


def build_day(path: Path, aircraft: int, seed: int = 7) -> int:
    rng = np.random.default_rng(seed)
    r_earth = 6_371_000.0
    lat0, lon0 = 48.9, 2.4
    rows: list[str] = []
    for k in range(aircraft):
        start = DAY0 + int(rng.integers(0, 86_400 - 1800)) // 10 * 10
        n = int(rng.integers(150, 200))  # 25-33 minutes at 10 s
        gs = rng.uniform(200.0, 250.0)
        trk = rng.uniform(0.0, 360.0)
        x0, y0 = rng.uniform(-300_000.0, 300_000.0, 2)
        fl = int(rng.integers(29, 40)) * 1000
        alt0 = fl * 0.3048
        vs = rng.choice([-10.0, 10.0]) if rng.random() < 0.02 else 0.0
        t = np.arange(n) * 10.0
        x = x0 + gs * np.sin(np.radians(trk)) * t
        y = y0 + gs * np.cos(np.radians(trk)) * t
        lat = lat0 + np.degrees(y / r_earth)
        lon = lon0 + np.degrees(x / (r_earth * np.cos(np.radians(lat))))
        alt = np.clip(alt0 + vs * t, 3000.0, 13_000.0)
        icao = f"{0x300000 + k:06x}"
        for i in range(n):
            rows.append(f"{start + int(t[i])},{icao},{lat[i]:.6f},{lon[i]:.6f},{gs:.3f},{trk:.3f},{vs:.5f},"
                        f"TST{k:04d},False,,,{k % 7777:04d},{alt[i]:.2f},,,")
    rows.sort(key=lambda r: (int(r.split(",", 1)[0]), r.split(",", 2)[1]))  # as OpenSky writes them
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return len(rows)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--aircraft", type=int, default=800)
    ap.add_argument("--step", type=float, default=5.0, help="the replay step (default: the command's own)")
    ap.add_argument("--keep", type=Path, help="write the day here and keep it")
    args = ap.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="truceline-day-"))
    path = args.keep or folder / "day.csv"
    rows = build_day(path, args.aircraft)
    print(f"day file: {rows} state vectors of {args.aircraft} aircraft, {path.stat().st_size / 1e6:.1f} MB")
    command = [sys.executable, "-m", "truceline", "replay", str(path), "--step", f"{args.step:g}"]
    subprocess.run(command, check=True, capture_output=True)  # warms the numba and OS file caches
    t0 = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    summary = next(line for line in done.stdout.splitlines() if line.startswith("Replayed"))
    print(f"truceline replay, whole process: {wall:.1f} s (goal < 30 s: {'met' if wall < 30 else 'NOT met'})")
    print(f"  {summary}")
    print(f"  by hand, with the progress bar: {' '.join(command[1:])}")


if __name__ == "__main__":
    main()
