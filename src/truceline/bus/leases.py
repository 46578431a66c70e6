"""Leases on the scan's shards (service/partition.py) in a JetStream KV bucket: one key per
shard (``s07``), its value ``{"owner": worker name, "expires_s": wall-clock epoch seconds}``.

Every change is a compare-and-set: a free shard is taken with ``kv.create`` (fails if anyone
has it), a held one renewed, or an expired one taken over, with ``kv.update(last=revision)``
(fails if anyone wrote it since it was read), a released one deleted with ``last=revision``.
So two workers never both win a shard. A holder that stops renewing (SIGKILL) leaves its
shards to expire ``ttl_s`` after its last renewal; the others take them at their next cycle
(``renew_s`` later at most): with the defaults (3 s, 1 s) within 4 s.

The holder's own view is stricter than the takers': it counts a shard as held only until
``ttl_s - margin_s`` after its last successful renewal, so it stops scanning a shard before
anyone may take it (clocks on one host, or NTP-synchronised ones, differ by less than that).

Balance: a worker takes free or expired shards up to its fair share (``ceil(shards /
workers alive)``) and, when asked, releases what it holds above it, so a worker that joins
gets its share from the others.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_log = logging.getLogger("truceline.bus.leases")

TTL_S = 3.0
RENEW_S = 1.0
MARGIN_S = 0.5


def shard_key(shard: int) -> str:
    return f"s{shard:02d}"


@dataclass(frozen=True, slots=True)
class Lease:
    shard: int
    owner: str
    expires_s: float  # wall-clock epoch seconds
    revision: int


def fair_share(n_shards: int, workers: int) -> int:
    """Requires ``workers >= 1``: the shards each should hold, rounded up."""
    if workers < 1:
        raise ValueError(f"workers must be at least 1, got {workers}")
    return math.ceil(n_shards / workers)


async def lease_bucket(js: Any, name: str) -> Any:
    """The KV bucket ``name`` (created in memory, one value per key, if missing)."""
    from nats.js.api import KeyValueConfig, StorageType
    from nats.js.errors import BucketNotFoundError

    try:
        return await js.key_value(name)
    except BucketNotFoundError:
        return await js.create_key_value(KeyValueConfig(bucket=name, history=1, storage=StorageType.MEMORY))


class Leases:
    """One worker's leases on ``n_shards`` shards of bucket ``kv`` (see the module docstring)."""

    def __init__(self, kv: Any, name: str, n_shards: int, ttl_s: float = TTL_S, margin_s: float = MARGIN_S,
                 clock: Callable[[], float] = time.time) -> None:
        if not (0 < margin_s < ttl_s):
            raise ValueError(f"need 0 < margin_s < ttl_s, got {margin_s}, {ttl_s}")
        self.kv = kv
        self.name = name
        self.n_shards = n_shards
        self.ttl_s = ttl_s
        self.margin_s = margin_s
        self.clock = clock
        self.held: dict[int, int] = {}  # shard -> revision of our last write
        self.valid_until: dict[int, float] = {}  # shard -> when we stop counting it as ours
        self.table: dict[int, Lease] = {}  # the bucket as last read

    async def read(self) -> dict[int, Lease]:
        """Every shard's lease as the bucket has it now (missing: free)."""
        from nats.js.errors import KeyNotFoundError

        table: dict[int, Lease] = {}
        for shard in range(self.n_shards):
            try:
                entry = await self.kv.get(shard_key(shard))
            except KeyNotFoundError:
                continue
            try:
                value = json.loads(entry.value)
                owner, expires_s = str(value["owner"]), float(value["expires_s"])
                table[shard] = Lease(shard, owner, expires_s, int(entry.revision))
            except (ValueError, KeyError, TypeError):  # not ours to read: treat it as expired
                table[shard] = Lease(shard, "", 0.0, int(entry.revision))
        self.table = table
        return table

    def owned(self) -> frozenset[int]:
        """The shards this worker may scan now."""
        now = self.clock()
        return frozenset(s for s in self.held if self.valid_until.get(s, 0.0) > now)

    def _value(self, now: float) -> bytes:
        return json.dumps({"owner": self.name, "expires_s": now + self.ttl_s}).encode()

    async def cycle(self, share: int, release_excess: bool = True) -> frozenset[int]:
        """Renew what is held, release above ``share`` (if asked), take free or expired shards
        up to ``share``; returns the shards held."""
        from nats.js.errors import KeyWrongLastSequenceError

        table = await self.read()
        now = self.clock()
        for shard, revision in list(self.held.items()):
            lease = table.get(shard)
            if lease is None or lease.owner != self.name or lease.revision != revision:
                self._lost(shard, "taken by " + (lease.owner if lease else "nobody (deleted)"))
                continue
            try:
                self.held[shard] = await self.kv.update(shard_key(shard), self._value(now), last=revision)
                self.valid_until[shard] = now + self.ttl_s - self.margin_s
            except KeyWrongLastSequenceError:
                self._lost(shard, "written by another meanwhile")
        if release_excess:
            for shard in sorted(self.held, reverse=True)[: max(0, len(self.held) - share)]:
                await self.release(shard)
        for shard in range(self.n_shards):
            if len(self.held) >= share:
                break
            if shard in self.held:
                continue
            lease = table.get(shard)
            try:
                if lease is None:
                    revision = await self.kv.create(shard_key(shard), self._value(now))
                elif lease.expires_s < now:
                    revision = await self.kv.update(shard_key(shard), self._value(now), last=lease.revision)
                else:
                    continue
            except KeyWrongLastSequenceError:
                continue  # another worker was quicker
            self.held[shard] = revision
            self.valid_until[shard] = now + self.ttl_s - self.margin_s
            self.table[shard] = Lease(shard, self.name, now + self.ttl_s, revision)
        return self.owned()

    async def release(self, shard: int) -> None:
        """Give ``shard`` up at once (compare-and-set on our revision)."""
        revision = self.held.pop(shard, None)
        self.valid_until.pop(shard, None)
        if revision is None:
            return
        try:
            await self.kv.delete(shard_key(shard), last=revision)
        except Exception as error:  # written by another meanwhile: it is not ours anyway
            _log.info("release of shard %s: %s", shard, error)

    async def release_all(self) -> None:
        for shard in list(self.held):
            await self.release(shard)

    def _lost(self, shard: int, why: str) -> None:
        _log.warning("lease on shard %s lost: %s", shard, why)
        self.held.pop(shard, None)
        self.valid_until.pop(shard, None)


__all__ = ["RENEW_S", "TTL_S", "Lease", "Leases", "fair_share", "lease_bucket", "shard_key"]
