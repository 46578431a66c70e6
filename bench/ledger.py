"""Ledger benchmark: appends/s on SQLite (batches of 1 and 100), proof generation at 10^6
entries, against the baseline of recomputing the root from scratch, in the same run.

    .venv/bin/python bench/ledger.py [--entries 1000000]

Targets (issue 4): >= 10,000 entries/s batched; proofs < 1 ms at 10^6 entries.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from truceline.ledger import EntryDraft, Ledger
from truceline.ledger.merkle import CompactRange, leaf_hash, verify_consistency, verify_inclusion
from truceline.store.database import open_engine
from truceline.store.schema import ledger_entries

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def draft(i: int) -> EntryDraft:
    return EntryDraft(
        "operation.filed", "party-blue", {"operation_id": f"op-{i}", "altitude_m": 1200 + i % 500}
    )


def append_rate(ledger: Ledger, batch: int, batches: int, start: int) -> float:
    began = time.perf_counter()
    for b in range(batches):
        with ledger.engine.begin() as conn:
            first = start + b * batch
            ledger.append(conn, [draft(first + k) for k in range(batch)], T0 + timedelta(seconds=first))
    return batch * batches / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--proofs", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = open_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        ledger = Ledger(engine, Ed25519PrivateKey.generate())
        ledger.create_tables()

        rate_1 = append_rate(ledger, 1, 500, 0)
        rate_100 = append_rate(ledger, 100, 100, 500)
        print(f"append, batches of 1   : {rate_1:10,.0f} entries/s (one commit, fsync'd, per entry)")
        print(f"append, batches of 100 : {rate_100:10,.0f} entries/s (target >= 10,000)")

        size = 500 + 100 * 100
        began = time.perf_counter()
        while size < args.entries:
            batch = min(10_000, args.entries - size)
            with engine.begin() as conn:
                ledger.append(conn, [draft(size + k) for k in range(batch)], T0 + timedelta(seconds=size))
            size += batch
        build_s = time.perf_counter() - began
        print(
            f"build to {size:,} entries  : {build_s:.1f} s in batches of 10,000 "
            f"({(size - 10_500) / build_s:,.0f} entries/s)"
        )

        rng = random.Random(1)
        with engine.connect() as conn:
            root = ledger.root(conn)
            # Baseline: the root recomputed from every stored entry, as without subtree hashes.
            began = time.perf_counter()
            compact = CompactRange()
            for (canonical,) in conn.execute(
                select(ledger_entries.c.canonical).order_by(ledger_entries.c.seq)
            ):
                compact.append(leaf_hash(canonical))
            baseline_s = time.perf_counter() - began
            assert compact.root() == root, "stored root differs from the recomputed one"

            incl, cons, roots = [], [], []
            for _ in range(args.proofs):
                index = rng.randrange(size)
                t = time.perf_counter()
                proof = ledger.inclusion_proof(conn, index, size)
                incl.append(time.perf_counter() - t)
                m = rng.randrange(1, size)
                t = time.perf_counter()
                cproof = ledger.consistency_proof(conn, m, size)
                cons.append(time.perf_counter() - t)
                t = time.perf_counter()
                old_root = ledger.root(conn, m)
                roots.append(time.perf_counter() - t)
            # The last ones must verify (a wrong fast proof is no result).
            leaf = leaf_hash(ledger.entry(conn, index).canonical)
            verify_inclusion(leaf, index, size, proof, root)
            verify_consistency(m, size, cproof, old_root, root)

    print(
        f"root from scratch      : {baseline_s * 1000:10,.1f} ms (baseline: read and hash {size:,} entries)"
    )
    for name, times in (
        ("inclusion proof", incl),
        ("consistency proof", cons),
        ("root at a past size", roots),
    ):
        mean, p99 = statistics.fmean(times), sorted(times)[int(len(times) * 0.99)]
        print(
            f"{name:<23}: mean {mean * 1000:6.3f} ms, p99 {p99 * 1000:6.3f} ms (target < 1 ms); "
            f"{baseline_s / mean:,.0f}x faster than the baseline"
        )
    print(f"batched/single append ratio: {rate_100 / rate_1:.1f}x")


if __name__ == "__main__":
    main()
