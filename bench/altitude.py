"""The cost of converting altitude references in a strategic check: plans in W84 against
stored volumes in AMSL (each candidate pair through the EGM96 geoid, geo.altitude) against the
baseline of the same plans in AMSL (no conversion), on the same index, in the same run.

Mixed references skip the compiled altitude rejection (strategic._possible compares numbers
in one reference only), so the W84 plans send more candidates to the exact test; the geoid's
height range is memoised per area. Both runs must find the same conflicts where the bands are
far from each other's limits (the conversion only widens bands by the geoid and its margin).

Run: .venv/bin/python bench/altitude.py [--volumes 20000] [--checks 200]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from strategic import build
from truceline.domain.operation import Operation
from truceline.engines.strategic import StrategicIndex
from truceline.geo.altitude import AltitudeBand, AltitudeModel, AltitudeReference


def as_w84(plan: Operation) -> Operation:
    volumes = tuple(
        replace(v, altitude=AltitudeBand(v.altitude.lower_m, v.altitude.upper_m, AltitudeReference.W84))
        for v in plan.volumes
    )
    return replace(plan, volumes=volumes)


def timed(index: StrategicIndex, plans: list[Operation]) -> tuple[float, int]:
    start = time.perf_counter()
    found = sum(len(index.check(p)) for p in plans)
    return (time.perf_counter() - start) / len(plans), found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volumes", type=int, default=20_000)
    parser.add_argument("--checks", type=int, default=200)
    args = parser.parse_args()
    operations, zones = build(args.volumes, seed=7)
    index = StrategicIndex(AltitudeModel())
    for zone in zones:
        index.add_zone(zone)
    for operation in operations[: -args.checks]:
        index.add_operation(operation)
    index.build_query_arrays()
    plans = operations[-args.checks :]
    w84 = [as_w84(p) for p in plans]
    timed(index, plans[:20])  # compile and warm both paths
    timed(index, w84[:20])
    base_s, base_n = timed(index, plans)
    conv_s, conv_n = timed(index, w84)
    print(f"stored volumes: {args.volumes - args.checks}, plans checked: {args.checks}")
    print(f"baseline, plans in AMSL (no conversion): {base_s * 1e3:.3f} ms a check, {base_n} conflicts")
    print(f"plans in W84 (EGM96 per candidate pair): {conv_s * 1e3:.3f} ms a check, {conv_n} conflicts")
    print(f"ratio W84/AMSL: {conv_s / base_s:.2f}x")


if __name__ == "__main__":
    main()
