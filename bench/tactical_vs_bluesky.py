"""Benchmark: `truceline conflicts` as a whole process vs BlueSky's C++ state-based detector.

The snapshot is bench/tactical.py's synthetic one (N aircraft in a 1000 km box at 48°N 8°E,
FL100-FL400, 120-260 m/s, 30 % climbing or descending), written as an OpenSky CSV. Both sides
use 5 NM / 1000 ft and a 300 s look-ahead on every pair (`--pairs all`: BlueSky has no parties).

- truceline: `python -m truceline conflicts FILE --format json --pairs all`, the whole process
  (interpreter start, imports, numba's cache, CSV parse, scan, JSON out), best of --repeat
  after one warm-up run (which fills numba's on-disk cache on a fresh machine).
- BlueSky: bluesky-simulator (PyPI; installed for this benchmark only, not a dependency of
  truceline): `bluesky.traffic.asas.cstatebased.detect` on the same snapshot, in a child
  process; its own time (the call alone) and its whole process (imports and CSV read too).

Ratios are printed against both BlueSky figures, measured in the same run. Pair sets: BlueSky
works on a flat earth (its `kwikqdrdist`), truceline on the ellipsoid (docs/tactical.md), so the
sets may differ on pairs whose verdict depends on the earth model; the pairs in one set only are
counted, and how many of them are such pairs (see EarthModel). A second line times the engine
alone (warm, in this process) at a 20-minute look-ahead (goal: under 1 s at 20,000 aircraft),
again with BlueSky's call on the same snapshot.

Run: .venv/bin/python bench/tactical_vs_bluesky.py [--n 20000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tactical import synthetic  # bench/tactical.py, beside this file
from truceline.engines.tactical import (
    DetectionSettings,
    PairFilter,
    StateBasedDetector,
    closest_approach,
    kinematics,
    sorted_view,
)

HEADER = ("time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,alert,spi,squawk,"
          "baroaltitude,geoaltitude,lastposupdate,lastcontact")

BLUESKY_CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
import csv
import numpy as np
from bluesky.traffic.asas import cstatebased
path, lookahead = sys.argv[1], float(sys.argv[2])
with open(path, newline="") as f:
    rows = list(csv.DictReader(f))
class Traffic: pass
ac = Traffic()
for name, column in (("lat", "lat"), ("lon", "lon"), ("trk", "heading"), ("gs", "velocity"),
                     ("alt", "baroaltitude"), ("vs", "vertrate")):
    setattr(ac, name, np.array([float(r[column]) for r in rows]))
ac.id = [r["icao24"] for r in rows]
n = len(ac.id)
t1 = time.perf_counter()
out = cstatebased.detect(ac, ac, np.full(n, 5 * 1852.0), np.full(n, 1000 * 0.3048), np.full(n, lookahead))
t2 = time.perf_counter()
pairs = sorted({tuple(sorted(p)) for p in out[0]})
print(json.dumps({"detect_s": t2 - t1, "process_s": t2 - t0, "pairs": pairs}))
"""


def write_snapshot(path: Path, n: int) -> None:
    b = synthetic(n, seed=n)
    lines = [HEADER]
    for k in range(n):
        lines.append(f"1000,{b.ids[k]},{b.lat[k]:.6f},{b.lon[k]:.6f},{b.gs[k]:.3f},{b.trk[k]:.3f},"
                     f"{b.vs[k]:.5f},C{k},False,,,{k % 7777:04d},{b.alt_m[k]:.2f},,,")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_truceline(path: Path, repeat: int) -> tuple[float, set[tuple[str, str]]]:
    command = [sys.executable, "-m", "truceline", "conflicts", str(path), "--format", "json",
               "--pairs", "all"]
    subprocess.run(command, capture_output=True)  # warm-up: numba's cache, the OS file cache
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        done = subprocess.run(command, capture_output=True)
        best = min(best, time.perf_counter() - t0)
        if done.returncode not in (0, 1):
            raise SystemExit(f"truceline failed: {done.stderr.decode()}")
        out = done.stdout
    assert out is not None
    pairs = {(r["a"], r["b"]) for r in json.loads(out)["conflicts"]}
    return best, pairs


def run_bluesky(path: Path, lookahead_s: float) -> dict | None:
    done = subprocess.run([sys.executable, "-c", BLUESKY_CHILD, str(path), str(lookahead_s)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        print(f"BlueSky could not run ({done.stderr.strip().splitlines()[-1:]}); "
              "install it with: pip install bluesky-simulator")
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


class EarthModel:
    """Tells whether a pair's verdict depends on the earth model: BlueSky's flat-earth distance
    (``kwikdist``) and truceline's ellipsoid differ by up to about 2 % of the distance between
    the two aircraft (docs/tactical.md), which moves the closest approach and the time of
    entry. A pair is such a pair when truceline's own exact test, with the horizontal minimum
    widened and narrowed by 2 % of the pair's current distance (plus 1 %) and the look-ahead by
    3 %, gives both verdicts."""

    def __init__(self, n: int, lookahead_s: float):
        srt, _ = sorted_view(synthetic(n, seed=n))
        self.k = kinematics(srt)
        self.index = {str(x): i for i, x in enumerate(srt.ids.tolist())}
        self.lookahead_s = lookahead_s

    def depends(self, pair: tuple[str, str]) -> bool:
        i = np.array([self.index[pair[0]]])
        j = np.array([self.index[pair[1]]])
        rh = 5 * 1852.0
        now = closest_approach(self.k, i, j, DetectionSettings(pairs=PairFilter.ALL))
        delta = 0.02 * float(now.dist_m[0]) / rh + 0.01
        verdicts = set()
        for f, g in ((1 + delta, 1.03), (max(1 - delta, 0.01), 0.97)):
            s = DetectionSettings(horizontal_m=rh * f, lookahead_s=self.lookahead_s * g, pairs=PairFilter.ALL)
            verdicts.add(bool(closest_approach(self.k, i, j, s).conflict[0]))
        return len(verdicts) == 2


def compare(ours: set, theirs: set, model: EarthModel) -> str:
    only_ours, only_theirs = ours - theirs, theirs - ours
    explained = sum(model.depends(p) for p in only_ours | only_theirs)
    return (f"pairs: truceline {len(ours)}, BlueSky {len(theirs)}, common {len(ours & theirs)}, "
            f"only truceline {len(only_ours)}, only BlueSky {len(only_theirs)}; of these differences "
            f"{explained} of {len(only_ours | only_theirs)} depend on the earth model")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    path = Path(tempfile.mkdtemp(prefix="truceline-bs-")) / f"snapshot-{args.n}.csv"
    write_snapshot(path, args.n)
    wall, ours = run_truceline(path, args.repeat)
    bs = run_bluesky(path, 300.0)
    print(f"N={args.n}, 5 NM / 1000 ft, 300 s look-ahead, all pairs")
    print(f"  truceline conflicts, whole process (best of {args.repeat}): {wall:.2f} s")
    if bs is not None:
        print(f"  BlueSky cstatebased.detect: call {bs['detect_s']:.2f} s, "
              f"whole process {bs['process_s']:.2f} s")
        print(f"  ratio: {bs['detect_s'] / wall:.1f}x against BlueSky's call alone, "
              f"{bs['process_s'] / wall:.1f}x against its whole process (goal >= 20x end to end)")
        print("  " + compare(ours, {tuple(p) for p in bs["pairs"]}, EarthModel(args.n, 300.0)))

    # the engine alone at a 20-minute look-ahead (warm: numba loaded, kinematics included)
    batch = synthetic(args.n, seed=args.n)
    detector = StateBasedDetector(DetectionSettings(pairs=PairFilter.ALL, lookahead_s=1200.0))
    detector.detect(synthetic(100, seed=1))
    best = float("inf")
    found = None
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        found = detector.detect(batch)
        best = min(best, time.perf_counter() - t0)
    assert found is not None
    print(f"N={args.n}, 1200 s look-ahead, engine alone (best of {args.repeat}): {best * 1e3:.0f} ms, "
          f"{len(found)} pairs (goal < 1 s: {'met' if best < 1.0 else 'NOT met'})")
    bs20 = run_bluesky(path, 1200.0)
    if bs20 is not None:
        print(f"  BlueSky cstatebased.detect, 1200 s: call {bs20['detect_s']:.2f} s; ratio "
              f"{bs20['detect_s'] / best:.0f}x")
        print("  " + compare(found.pair_set(), {tuple(p) for p in bs20["pairs"]}, EarthModel(args.n, 1200.0)))


if __name__ == "__main__":
    main()
