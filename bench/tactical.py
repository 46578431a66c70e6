"""Benchmark: pruned state-based conflict detection vs the plain NumPy all-pairs baseline.

Synthetic snapshots of N aircraft in a 1000 km x 1000 km box centred at 48°N 8°E, altitudes
uniform in FL100-FL400, ground speed 120-260 m/s, random headings; 70 % level, 30 % climbing or
descending at 2.5-12.5 m/s; each aircraft its own party. Defaults: 5 NM, 1000 ft, 300 s.

Run: .venv/bin/python bench/tactical.py [--sizes 1000 5000 ...] [--baseline-max 20000]
Prints time per full scan (best of --repeat), peak traced memory (tracemalloc: NumPy and
Python), peak RSS added by one scan in a fresh process (which also counts the compiled broad
phase's buffers), the candidates the exact test sees, and the ratio against the all-pairs
baseline run in the same process on the same data, with the pair sets and every number compared.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import tracemalloc

import numpy as np

from truceline.domain.track import PRESSURE_CODE, TrackBatch
from truceline.engines.allpairs import AllPairsDetector
from truceline.engines.tactical import (
    DetectionSettings,
    PairFilter,
    StateBasedDetector,
    kinematics,
    sorted_view,
)


def synthetic(n: int, seed: int = 0, box_m: float = 1_000_000.0, lat0: float = 48.0, lon0: float = 8.0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-box_m / 2, box_m / 2, n)
    y = rng.uniform(-box_m / 2, box_m / 2, n)
    lat = lat0 + np.degrees(y / 6_371_000.0)
    lon = lon0 + np.degrees(x / (6_371_000.0 * np.cos(np.radians(lat))))
    alt = rng.uniform(100 * 30.48, 400 * 30.48, n)
    vs = np.where(rng.random(n) < 0.3, rng.choice([-1.0, 1.0], n) * rng.uniform(2.5, 12.5, n), 0.0)
    ids = np.array([f"{k:06x}" for k in range(n)], dtype=object)
    return TrackBatch(
        ids=ids,
        parties=ids.copy(),
        t=np.zeros(n),
        lat=lat,
        lon=lon,
        alt_m=alt,
        gs=rng.uniform(120.0, 260.0, n),
        trk=rng.uniform(0.0, 360.0, n),
        vs=vs,
        on_ground=np.zeros(n, dtype=bool),
        alt_ref=np.full(n, PRESSURE_CODE, dtype=np.uint8),
    )


FIELDS = ("a_index", "b_index", "tcpa_s", "dcpa_m", "dalt_m", "tlos_s", "los", "dist_m", "dz_m")


def timed(fn, repeat: int):
    best = float("inf")
    out = None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return out, best, peak


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident set size of this process, from /proc (Linux)."""
    fields = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def scan_rss_mib(n: int) -> float:
    """Peak RSS added by one pruned scan of N tracks, measured in a fresh process (tracemalloc
    does not see the compiled broad phase's buffers): the process's peak RSS, reset just before
    the scan, minus its RSS then."""
    out = subprocess.run([sys.executable, __file__, "--scan-rss", str(n)], check=True,
                         capture_output=True, text=True)
    return float(out.stdout.split()[-1])


def _scan_rss(n: int) -> None:
    detector = StateBasedDetector(DetectionSettings(pairs=PairFilter.ALL))
    detector.detect(synthetic(100, seed=1))  # compiled code loaded before measuring
    batch = synthetic(n, seed=n)
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # resets the peak RSS (VmHWM) to the current RSS
    before, _ = rss_mib()
    detector.detect(batch)
    _, peak = rss_mib()
    print(f"{peak - before:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[1000, 5000, 10000, 20000, 50000])
    ap.add_argument("--baseline-max", type=int, default=20000,
                    help="largest N for the all-pairs baseline (above: extrapolated as N²)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--scan-rss", type=int, help=argparse.SUPPRESS)  # the child of scan_rss_mib
    args = ap.parse_args()
    if args.scan_rss:
        _scan_rss(args.scan_rss)
        return
    settings = DetectionSettings(pairs=PairFilter.ALL)
    pruned = StateBasedDetector(settings)
    allpairs = AllPairsDetector(settings)
    t0 = time.perf_counter()
    pruned.detect(synthetic(100, seed=1))
    print(f"first call (numba compile, or load from its cache): {time.perf_counter() - t0:.2f} s")
    print(f"{'N':>6} {'pairs':>8} {'pruned ms':>10} {'peak MiB':>9} {'RSS MiB':>8} {'cands':>9} "
          f"{'all-pairs ms':>13} {'peak MiB':>9} {'speed-up':>9}  same pairs")
    last_ap: tuple[int, float] | None = None
    for n in args.sizes:
        batch = synthetic(n, seed=n)
        res, t_p, mem_p = timed(lambda b=batch: pruned.detect(b), args.repeat)
        rss_p = scan_rss_mib(n)
        kin = kinematics(sorted_view(batch)[0])
        ncand = pruned.candidates(kin)[0].size
        head = f"{n:>6} {len(res):>8} {t_p * 1e3:>10.1f} {mem_p / 2**20:>9.1f} {rss_p:>8.1f} {ncand:>9}"
        if n <= args.baseline_max:
            ref, t_a, mem_a = timed(lambda b=batch: allpairs.detect(b), 1)
            same = ref.pair_set() == res.pair_set() and all(
                np.array_equal(getattr(ref, f), getattr(res, f), equal_nan=True) for f in FIELDS)
            last_ap = (n, t_a)
            print(f"{head} {t_a * 1e3:>13.0f} {mem_a / 2**20:>9.1f} {t_a / t_p:>8.0f}x  {same}")
        else:
            assert last_ap is not None
            est = last_ap[1] * (n / last_ap[0]) ** 2
            print(f"{head} {'~' + format(est * 1e3, '.0f'):>13} {'-':>9} {est / t_p:>7.0f}x~  "
                  f"(baseline extrapolated as N² from N={last_ap[0]})")


if __name__ == "__main__":
    main()
