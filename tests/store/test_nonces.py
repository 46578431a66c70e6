"""Claiming a signed request's nonce: once per party, whoever races for it; stale ones pruned."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from truceline.store.database import create_schema, open_engine
from truceline.store.nonces import claim_nonce


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def engine(request: pytest.FixtureRequest, tmp_path: Path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'n.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    engine = open_engine(url)
    create_schema(engine)
    yield engine
    engine.dispose()


def _claim(engine, party: str, nonce: str, created_s: int, prune_before_s: int = 0) -> bool:
    with engine.begin() as conn:
        return claim_nonce(conn, party, nonce, created_s, prune_before_s)


def test_a_nonce_is_claimed_once_per_party(engine) -> None:
    assert _claim(engine, "p1", "nonce-0001", 1000)
    assert not _claim(engine, "p1", "nonce-0001", 1000)
    assert _claim(engine, "p2", "nonce-0001", 1000)  # another party's nonces are its own
    # Pruning drops the party's rows created before the cut only.
    assert _claim(engine, "p1", "nonce-0002", 5000, prune_before_s=2000)
    assert _claim(engine, "p1", "nonce-0001", 5000)  # pruned: the window had long passed
    assert not _claim(engine, "p2", "nonce-0001", 5000)  # p2's row was not pruned


def test_racing_claims_of_one_nonce_let_exactly_one_through(engine) -> None:
    results: list[bool] = []
    start = threading.Barrier(6)

    def run() -> None:
        start.wait()
        results.append(_claim(engine, "p1", "raced-nonce", 1000))

    threads = [threading.Thread(target=run) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results) == [False] * 5 + [True]
