"""Leases on the scan's shards in a JetStream KV bucket (the real NATS server on 127.0.0.1:4222;
skipped when it is not running, except on CI). The clock is injected: expiry is decided by
the lease values, so advancing it stands for the seconds passing."""

from __future__ import annotations

import asyncio
import os
import socket
import uuid

import pytest

from truceline.bus.leases import RENEW_S, TTL_S, Leases, fair_share, lease_bucket

NATS_URL = os.environ.get("TRUCELINE_TEST_NATS", "nats://127.0.0.1:4222")
N = 32


def _reachable() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 4222), timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(
    not _reachable() and not os.environ.get("CI"), reason=f"no NATS at {NATS_URL}"
)


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def _with_bucket(scenario) -> None:  # type: ignore[no-untyped-def]
    import nats

    nc = await nats.connect(NATS_URL)
    js = nc.jetstream()
    name = f"test_leases_{uuid.uuid4().hex[:12]}"
    try:
        await scenario(await lease_bucket(js, name))
    finally:
        await js.delete_key_value(name)
        await nc.close()


def test_compare_and_set_gives_each_shard_one_owner_and_a_silent_holders_shards_move() -> None:
    clock = Clock()

    async def scenario(kv) -> None:  # type: ignore[no-untyped-def]
        a, b = Leases(kv, "a", N, clock=clock), Leases(kv, "b", N, clock=clock)
        # Both greedy at once (each asks for every shard): the races on create are won once each.
        greedy = (a.cycle(N, release_excess=False), b.cycle(N, release_excess=False))
        held_a, held_b = await asyncio.gather(*greedy)
        assert held_a.isdisjoint(held_b) and held_a | held_b == set(range(N))
        table = await a.read()
        assert {s for s, lease in table.items() if lease.owner == "a"} == held_a
        # Balance: each releases down to the fair share, then takes up to it.
        share = fair_share(N, 2)
        for _ in range(2):
            held_a, held_b = await a.cycle(share), await b.cycle(share)
        assert len(held_a) == len(held_b) == share and held_a.isdisjoint(held_b)
        # "a" stops renewing. Before its leases expire nobody may take them...
        clock.now += TTL_S - 0.1
        held_b = await b.cycle(N)
        assert len(held_b) == share
        # ... and "a" itself stops counting them as its own a margin before that.
        assert a.owned() == frozenset()
        # Expired: "b" takes them at its next cycle (a renewal period later at most), so within
        # TTL_S + RENEW_S of a's last renewal: under 5 s.
        clock.now += 0.2
        assert TTL_S + RENEW_S < 5.0
        assert await b.cycle(N) == frozenset(range(N))
        # "a" comes back: every lease it thought it held is lost, none is taken twice.
        assert await a.cycle(share, release_excess=False) == frozenset()
        assert {lease.owner for lease in (await b.read()).values()} == {"b"}

    asyncio.run(_with_bucket(scenario))


def test_a_released_shard_is_free_at_once() -> None:
    clock = Clock()

    async def scenario(kv) -> None:  # type: ignore[no-untyped-def]
        a, b = Leases(kv, "a", N, clock=clock), Leases(kv, "b", N, clock=clock)
        await a.cycle(N)
        await a.release_all()
        assert a.owned() == frozenset() and await a.read() == {}
        assert await b.cycle(N) == frozenset(range(N))

    asyncio.run(_with_bucket(scenario))
