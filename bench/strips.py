"""Covering cost of long thin shapes (issue 13: the 60-degree strip took 17 s in H3's
h3shape_to_cells_experimental, the 90-degree one 120 s, holding the GIL). Prints, for each
strip, the resolution, cell count and time of geo.cells.cover (median of --repeat runs, the
cache emptied each time); --with-h3 also times H3's overlap mode on the 60-degree strip.

Run: .venv/bin/python bench/strips.py [--repeat 5] [--with-h3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import h3.api.basic_int as h3

from truceline.geo.cells import clear_cover_cache, cover
from truceline.geo.shapes import Polygon

STRIPS = {
    "60 x 0.03 deg (the issue's)": ((0.0, 10.0), (60.0, 10.0), (60.0, 10.03), (0.0, 10.03), (0.0, 10.0)),
    "90 x 0.03 deg (north-south)": ((0.0, -45.0), (0.03, -45.0), (0.03, 45.0), (0.0, 45.0), (0.0, -45.0)),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--with-h3", action="store_true")
    args = parser.parse_args()
    for name, ring in STRIPS.items():
        times = []
        for _ in range(args.repeat):
            shape = Polygon(ring)  # a new object: no memo
            clear_cover_cache()
            t = time.perf_counter()
            cells = cover(shape)
            times.append(time.perf_counter() - t)
        print(
            f"{name}: {len(cells):,} cells at resolution {h3.get_resolution(cells[0])}, "
            f"covered in {statistics.median(times) * 1000:.0f} ms (median of {args.repeat})"
        )
        if args.with_h3 and name.startswith("60"):
            t = time.perf_counter()
            cover(Polygon(ring), method="overlap")
            print(f"  H3 overlap mode on the same strip: {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
