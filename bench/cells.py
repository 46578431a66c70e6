"""H3 versus S2 cell coverings for the candidate index (geo/cells.py).

Covers a few hundred random shapes (circles and star polygons, 100 m to 100 km across, in
the Syria box lon 35-42, lat 32-37.5) with
- H3 as geo.cells.cover does it ("overlap": H3's overlap containment on the shape grown by
  10 m) at res 5, 6, 7, and its fallback ("disk": boundary samples + neighbours + fill) at 6;
- S2 (s2sphere, pure Python) RegionCoverer at a fixed level, on a cap for circles and on the
  bounding lat/lng rectangle for polygons (s2sphere has no polygon region), levels 9, 10, 11;
then indexes INDEXED shapes and runs QUERIES candidate searches, printing time per covering,
cells per shape, candidates per query, and the true conflicts per query (shapes_conflict) as
the floor any index must return. The baseline is S2 at the level closest in cell area to
H3 res 6 (level 10, ~81 km² vs ~36 km²); ratios are H3 / baseline.

Run: .venv/bin/python bench/cells.py [--shapes 300] [--indexed 2000] [--queries 200]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Callable

import s2sphere

from truceline.geo.cells import cover
from truceline.geo.geodesy import GEOD
from truceline.geo.horizontal import shapes_conflict
from truceline.geo.shapes import Circle, Polygon, Shape, shape_bounds

BOX = (35.0, 32.0, 42.0, 37.5)
S2_RADIUS_M = 6_300_000.0  # small on purpose: the cap must contain the ellipsoidal circle


def random_shape(rng: random.Random) -> Shape:
    lon = rng.uniform(BOX[0] + 1, BOX[2] - 1)
    lat = rng.uniform(BOX[1] + 1, BOX[3] - 1)
    radius_m = math.exp(rng.uniform(math.log(50.0), math.log(50_000.0)))  # 100 m to 100 km across
    if rng.random() < 0.4:
        return Circle((lon, lat), radius_m)
    n = rng.randint(4, 12)
    # one vertex per sector: every angular gap is under 180 degrees, so the star is simple
    azimuths = [(i + rng.uniform(0.1, 0.9)) * 360.0 / n for i in range(n)]
    ring = []
    for az in azimuths:
        lo, la, _ = GEOD.fwd(lon, lat, az, radius_m * rng.uniform(0.4, 1.0))
        ring.append((float(lo), float(la)))
    return Polygon((*ring, ring[0]))


def s2_cover(shape: Shape, level: int) -> list[int]:
    coverer = s2sphere.RegionCoverer()
    coverer.min_level = level
    coverer.max_level = level
    coverer.max_cells = 1_000_000
    region: s2sphere.Cap | s2sphere.LatLngRect
    if isinstance(shape, Circle):
        axis = s2sphere.LatLng.from_degrees(shape.center[1], shape.center[0]).to_point()
        region = s2sphere.Cap.from_axis_angle(axis, s2sphere.Angle.from_radians(shape.radius_m / S2_RADIUS_M))
    else:
        b = shape_bounds(shape)
        region = s2sphere.LatLngRect.from_point_pair(
            s2sphere.LatLng.from_degrees(b[1], b[0]), s2sphere.LatLng.from_degrees(b[3], b[2])
        )
    return [c.id() for c in coverer.get_covering(region)]


def measure(name: str, fn: Callable[[Shape], list[int]], shapes: list[Shape]) -> tuple[float, float]:
    times, counts = [], []
    for s in shapes:
        for k in [k for k in s._cache if isinstance(k, tuple) and k[0] == "cells"]:
            del s._cache[k]  # time the covering itself, not the memo
        t0 = time.perf_counter()
        cells = fn(s)
        times.append(time.perf_counter() - t0)
        counts.append(len(cells))
    med_ms = statistics.median(times) * 1e3
    p95_ms = sorted(times)[int(0.95 * len(times))] * 1e3
    print(
        f"{name:12s} covering: median {med_ms:7.3f} ms  p95 {p95_ms:8.3f} ms"
        f"  cells/shape: median {statistics.median(counts):6.0f}  max {max(counts):6d}"
    )
    return med_ms, statistics.median(counts)


def candidates_per_query(
    fn: Callable[[Shape], list[int]], indexed: list[Shape], queries: list[Shape]
) -> float:
    by_cell: dict[int, set[int]] = defaultdict(set)
    for i, s in enumerate(indexed):
        for c in fn(s):
            by_cell[c].add(i)
    total = 0
    for q in queries:
        found: set[int] = set()
        for c in fn(q):
            found |= by_cell.get(c, set())
        total += len(found)
    return total / len(queries)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", type=int, default=300)
    ap.add_argument("--indexed", type=int, default=2000)
    ap.add_argument("--queries", type=int, default=200)
    args = ap.parse_args()
    rng = random.Random(7)
    shapes = [random_shape(rng) for _ in range(args.shapes)]
    indexed = [random_shape(rng) for _ in range(args.indexed)]
    queries = [random_shape(rng) for _ in range(args.queries)]

    methods: dict[str, Callable[[Shape], list[int]]] = {}
    for res in (5, 6, 7):
        methods[f"h3 res {res}"] = lambda s, r=res: cover(s, r, method="overlap")
    methods["h3disk res 6"] = lambda s: cover(s, 6, method="disk")
    for level in (9, 10, 11):
        methods[f"s2 level {level}"] = lambda s, lv=level: s2_cover(s, lv)

    print(f"{args.shapes} shapes covered; {args.indexed} indexed, {args.queries} queries")
    timing = {name: measure(name, fn, shapes) for name, fn in methods.items()}

    true_hits = sum(sum(1 for s in indexed if shapes_conflict(q, s)) for q in queries) / len(queries)
    print(f"true conflicts per query (floor): {true_hits:.1f}")
    cands = {}
    for name, fn in methods.items():
        cands[name] = candidates_per_query(fn, indexed, queries)
        print(f"{name:12s} candidates per query: {cands[name]:8.1f}")

    base = "s2 level 10"
    print(f"baseline {base}: covering {timing[base][0]:.3f} ms, {cands[base]:.1f} candidates per query")
    for name in ("h3 res 5", "h3 res 6", "h3 res 7", "h3disk res 6"):
        print(
            f"{name} / baseline: covering time x{timing[name][0] / timing[base][0]:.3f},"
            f" candidates x{cands[name] / cands[base]:.2f}"
        )


if __name__ == "__main__":
    main()
