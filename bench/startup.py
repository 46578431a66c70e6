"""Start-up of the service (what `truceline serve` does before it answers) with many live
volumes stored (issue 13: "serve with 100,000 live volumes is ready in under 5 s").

Stores --volumes operations (one volume each, the shapes of bench/strategic.py) and 100 zones
in a fresh SQLite file through the store (their coverings written as every save writes them),
then times ``Service(register)`` on a freshly opened register: reading the zones, operations,
volumes and their stored coverings, and building the strategic index. Baseline, in the same
run: the same index built by computing every covering again (what start-up did before the
coverings were read back).

Run: .venv/bin/python bench/startup.py [--volumes 100000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from strategic import build
from truceline.engines.strategic import StrategicIndex
from truceline.geo.cells import clear_cover_cache
from truceline.service.register import open_register
from truceline.service.service import Service
from truceline.store import operations as operation_store
from truceline.store import zones as zone_store

TARGET_S = 5.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--volumes", type=int, default=100_000)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    operations, zones = build(args.volumes, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'startup.db'}"

        def clock() -> datetime:
            return datetime(2017, 7, 10, tzinfo=UTC)

        register = open_register(url, clock)
        t = time.perf_counter()
        with register.engine.begin() as conn:
            for zone in zones:
                zone_store.save_zone(conn, zone)
            for operation in operations:
                operation_store.insert_operation(conn, operation)
        register.engine.dispose()
        print(f"stored {len(operations) + len(zones):,} volumes in {time.perf_counter() - t:.1f} s")
        del operations, zones
        clear_cover_cache()

        register = open_register(url, clock)
        profile = cProfile.Profile() if args.profile else None
        t, cpu = time.perf_counter(), time.process_time()
        if profile:
            profile.enable()
        service = Service(register)
        if profile:
            profile.disable()
        ready_s = time.perf_counter() - t
        ready_cpu_s = time.process_time() - cpu
        held = service.index.live()
        # CPU time beside wall time: other processes' load on a shared machine inflates the wall
        print(f"Service start-up (reads + index from stored coverings): {ready_s:.2f} s "
              f"({ready_cpu_s:.2f} s CPU)")

        # Baseline: the index built from the same objects, every covering computed again.
        clear_cover_cache()
        fresh_zones = [replace(z, volumes=tuple(_copy(v) for v in z.volumes)) for z in held.zones]
        fresh = [replace(o, volumes=tuple(_copy(v) for v in o.volumes)) for o in held.operations]
        t, cpu = time.perf_counter(), time.process_time()
        index = StrategicIndex()
        for zone in fresh_zones:
            index.add_zone(zone)
        for operation in fresh:
            index.add_operation(operation)
        index.build_query_arrays()
        recompute_s = time.perf_counter() - t
        print(f"index with every covering recomputed (the old start-up's index part): {recompute_s:.2f} s "
              f"({time.process_time() - cpu:.2f} s CPU)")
        print(f"ratio: {recompute_s / ready_s:.1f}x; target < {TARGET_S:g} s -> "
              f"{'met' if ready_s < TARGET_S else 'NOT met'}")
        register.engine.dispose()
        if profile:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


def _copy(volume: object) -> object:
    """The volume with a new shape object (so no covering is remembered on it)."""
    from truceline.domain.codec import volume_from_record, volume_to_record

    return volume_from_record(volume_to_record(volume))


if __name__ == "__main__":
    main()
