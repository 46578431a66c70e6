"""``truceline worker``: processes that share the continuous scan over NATS JetStream.

Each worker

- reads every message of the ``TRACKS`` stream (an ordered consumer of its own: all workers
  see all tracks; a skipped message is read from the stream by number, ``_in_order``) into a
  picture of its own, with the checks of ``bus.tracks.take_message`` (signature, party, rows):
  on the wall clock from the moment it starts, on the tracks clock from the reports of the
  picture's age on (``track_max_age_s`` before it starts);
- on the tracks clock, joins the group only once that picture is the group's
  (``_check_joined``): the reports delivered at its start taken and the steps scanned (with no
  shard) up to the slowest worker's. Until then it publishes no status and holds no lease, so a
  worker added to a running replay takes its share without a gap;
- holds leases on some of the scan's shards (``bus.leases``, bucket ``truceline_leases_<group>``),
  its fair share of them, and scans only its share (``service.worker_detection``): findings
  whose cell is in its shards, from the tracks of its cells and their halo;
- publishes its status in the bucket ``truceline_workers_<group>`` (key: its name): its
  heartbeat, the time it last scanned, its shards, the open alerts it holds with their
  episode state (``Carried``, so a new holder carries them on exactly), its consumer lag
  (messages pending in its consumer, and how far its last scan is behind the newest report).
  ``GET /workers`` and ``/metrics`` read these buckets (``read_workers``).

Clocks (``--clock``, ``TRUCELINE_SCAN_CLOCK``):

- ``wall`` (default): a scan every ``scan_interval_s`` at the wall clock, as ``serve`` does;
- ``tracks`` (replays, tests): the scan time is the newest report's time; a step is scanned
  when a report of a later time arrives (or no message came for ``idle_s``), so every worker
  scans the same steps with the same tracks, and before scanning a step a worker waits until
  every live worker has scanned the previous one and every shard is held by a live worker
  (after a SIGKILL: until the dead worker's leases expired and were taken). A worker taking a
  shard scans its last step again with it (``rescan_previous``: the dead worker may not have
  scanned it). With this barrier the alerts are those of a single process scanning the same
  steps (tests/bus/test_bus_workers.py), a killed worker or not.

A worker killed with SIGKILL stops renewing: its leases expire ``ttl_s`` (3 s) after its last
renewal and the others take them at their next cycle (within 4 s). SIGTERM releases them at
once. Alerts are committed through the service into the shared database; a worker that
opens an alert another already opened is corrected in the commit (``worker_detection``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.concurrency import run_in_threadpool

from truceline.bus.leases import RENEW_S, TTL_S, Lease, Leases, fair_share, lease_bucket
from truceline.bus.nats import NatsBridge
from truceline.bus.notify import Notifier
from truceline.bus.schedule import fixed_rate
from truceline.bus.tracks import STREAM, SUBJECTS, FeedCounts, Refused, ensure_stream, take_message
from truceline.domain.clock import from_epoch_s
from truceline.service.live_detection import LiveSettings
from truceline.service.partition import N_SHARDS
from truceline.service.service import Service
from truceline.service.tracks import TrackPicture
from truceline.service.worker_detection import Carried, StepResult, WorkerDetection

_log = logging.getLogger("truceline.bus.workers")

CLOCKS = ("wall", "tracks")
DEFAULT_GROUP = "default"


def bucket_names(group: str) -> tuple[str, str]:
    """The lease and status buckets of a group of workers."""
    return f"truceline_leases_{group}", f"truceline_workers_{group}"


@dataclass(frozen=True, slots=True)
class WorkerStatus:
    name: str
    heartbeat_s: float  # wall clock
    clock: str
    scanned_s: float | None  # the scan time of its last step
    shards: tuple[int, ...]
    pending: int  # messages of TRACKS not yet delivered to it
    behind_s: float | None  # newest report taken - newest report scanned (tracks clock), or wall - it
    steps: int
    stopped: bool = False
    carried: tuple[Carried, ...] = ()

    def to_json(self) -> bytes:
        return json.dumps({
            "name": self.name, "heartbeat_s": self.heartbeat_s, "clock": self.clock,
            "scanned_s": self.scanned_s, "shards": list(self.shards), "pending": self.pending,
            "behind_s": self.behind_s, "steps": self.steps, "stopped": self.stopped,
            "carried": [c.as_json() for c in self.carried],
        }).encode()  # fmt: skip

    @classmethod
    def from_json(cls, data: bytes) -> WorkerStatus:
        v = json.loads(data)
        return cls(str(v["name"]), float(v["heartbeat_s"]), str(v["clock"]), v["scanned_s"],
                   tuple(int(s) for s in v["shards"]), int(v["pending"]), v["behind_s"], int(v["steps"]),
                   bool(v["stopped"]), tuple(Carried.from_json(c) for c in v["carried"]))

    def alive(self, now_s: float, ttl_s: float = TTL_S) -> bool:
        return not self.stopped and now_s - self.heartbeat_s < ttl_s


@dataclass(frozen=True, slots=True)
class WorkersView:
    """What ``GET /workers`` shows: each worker's status and each shard's lease."""

    workers: list[WorkerStatus]
    leases: list[Lease]
    read_at_s: float


async def read_workers(js: Any, group: str, n_shards: int = N_SHARDS, wall: Callable[[], float] = time.time
                       ) -> WorkersView:
    """The group's buckets as they are now (empty when no worker ever ran)."""
    from nats.js.errors import BucketNotFoundError, KeyNotFoundError

    lease_name, status_name = bucket_names(group)
    workers: list[WorkerStatus] = []
    leases: list[Lease] = []
    try:
        status_kv = await js.key_value(status_name)
        for key in await _bucket_keys(js, status_name):
            with contextlib.suppress(KeyNotFoundError, ValueError, KeyError, TypeError):
                workers.append(WorkerStatus.from_json((await status_kv.get(key)).value))
    except Exception as error:  # no bucket yet
        _log.debug("workers bucket: %s", error)
    with contextlib.suppress(BucketNotFoundError):
        leases = list((await Leases(await js.key_value(lease_name), "", n_shards).read()).values())
    return WorkersView(sorted(workers, key=lambda w: w.name), sorted(leases, key=lambda x: x.shard), wall())


async def _bucket_keys(js: Any, bucket: str) -> list[str]:
    """The keys of a KV bucket, from its stream's subjects. Not nats-py's ``KeyValue.keys``:
    it watches the bucket until a marker of the initial values' end, and under load it was
    seen to miss a key or give one twice (``GET /metrics`` without a live worker's gauges,
    CI of 2026-12-08); the stream's own count of messages by subject has no such race. A
    deleted key's subject stays (its delete marker): the caller's ``get`` says it is gone."""
    prefix = f"$KV.{bucket}."
    info = await js.stream_info(f"KV_{bucket}", subjects_filter=prefix + ">")
    return sorted(subject.removeprefix(prefix) for subject in (info.state.subjects or {}))


def newest_time(headers: dict[str, str], body: bytes) -> float | None:
    """The newest state time in a message's body, read without taking it (None: unreadable)."""
    try:
        if headers.get("Content-Type", "").split(";")[0].strip().lower() == "text/csv":
            from truceline.io.statevectors import parse_state_vectors

            rows = parse_state_vectors(body, "body", keep_every=True).rows
            return float(rows.t.max()) if len(rows) else None
        states = json.loads(body)["states"]
        times = [s["time"] for s in states if isinstance(s, dict) and isinstance(s.get("time"), int | float)]
        return float(max(times)) if times else None
    except Exception:  # a bad body is the feed's to refuse and count
        return None


@dataclass(frozen=True, slots=True)
class _Delivered:
    """One message of ``TRACKS`` as a worker takes it: from its consumer, or read from the
    stream by number to fill a gap the consumer left (``Worker._in_order``)."""

    subject: str
    headers: dict[str, str]
    data: bytes
    stream_seq: int | None
    pending: int | None  # messages of the stream not yet delivered (from the consumer only)

    @classmethod
    def of(cls, message: Any) -> _Delivered:
        try:
            metadata = message.metadata
            seq, pending = int(metadata.sequence.stream), int(metadata.num_pending)
        except Exception:  # not a JetStream message (no reply subject to read it from)
            seq = pending = None
        return cls(message.subject, dict(message.headers or {}), message.data, seq, pending)


@dataclass(slots=True)
class _Progress:
    scanned_s: float | None = None
    pending_step: float | None = None  # tracks clock: the newest time taken
    dirty: bool = False  # tracks clock: reports of the scanned step arrived after its scan
    newest_scanned_s: float | None = None
    steps: int = 0
    pending: int = 0
    shards: frozenset[int] = field(default_factory=frozenset)


class Worker:
    """One worker (see the module docstring). ``run`` until ``stop``."""

    def __init__(self, url: str, service: Service, name: str, *, group: str = DEFAULT_GROUP,
                 clock: str = "wall", settings: LiveSettings | None = None, scan_interval_s: float = 2.0,
                 track_max_age_s: float = 60.0, n_shards: int = N_SHARDS, ttl_s: float = TTL_S,
                 renew_s: float = RENEW_S, idle_s: float = 0.5,
                 wall: Callable[[], float] = time.time) -> None:
        if clock not in CLOCKS:
            raise ValueError(f"clock must be wall or tracks, got {clock!r}")
        self.url = url
        self.service = service
        self.name = name
        self.group = group
        self.clock = clock
        self.scan_interval_s = scan_interval_s
        self.n_shards = n_shards
        self.ttl_s = ttl_s
        self.renew_s = renew_s
        self.idle_s = idle_s
        self.wall = wall
        self.picture = TrackPicture(max_age_s=track_max_age_s)
        self.detection = WorkerDetection(service, self.picture, settings, n_shards)
        self.counts = FeedCounts()
        self.statuses: dict[str, WorkerStatus] = {}
        self.progress = _Progress()
        self.last_step: StepResult | None = None
        self._changed = asyncio.Event()
        self._stop = asyncio.Event()
        self._leases: Leases | None = None
        self._js: Any = None
        self._held_alerts: tuple[Carried, ...] = ()  # as the last step left them (published)
        self._history_taken = False  # the reports of the picture's age, delivered at the start
        self._history_until = 0  # the stream sequence of the last of them
        self._joined = asyncio.Event()  # see _check_joined
        self._next_seq: int | None = None  # the stream sequence expected next (Worker._in_order)
        self._status_kv: Any = None

    def stop(self) -> None:
        self._stop.set()

    async def run(self) -> None:
        import nats
        from nats.js.api import ConsumerConfig, DeliverPolicy

        async def connection_error(error: Exception) -> None:  # one line, not nats-py's traceback
            _log.warning("NATS: %s", error or type(error).__name__)

        nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1,
                                error_cb=connection_error)
        # The servers' streams learn of the alerts it commits as of their own commits: a wake-up
        # on truceline.events (without it a `/stream` would see them at its next keep-alive).
        bridge = NatsBridge(self.url, Notifier())
        await bridge.start()
        self.service.subscribers.append(bridge.publish)
        tasks: list[asyncio.Task[Any]] = []
        try:
            js = self._js = nc.jetstream()
            await ensure_stream(js)
            lease_name, status_name = bucket_names(self.group)
            self._leases = Leases(await lease_bucket(js, lease_name), self.name, self.n_shards, self.ttl_s,
                                  clock=self.wall)
            self._status_kv = await lease_bucket(js, status_name)
            watcher = await self._status_kv.watchall()
            tasks.append(asyncio.create_task(self._watch(watcher)))
            queue: asyncio.Queue[Any] = asyncio.Queue()

            async def received(message: Any) -> None:
                await queue.put(message)

            if self.clock == "tracks":
                # From the reports of the picture's age on: a worker that joins a running group
                # (or restarts) builds the picture the others have before it takes a share, so
                # the group's alerts stay exactly a single process's. The newest message now:
                # once it is taken, so are all those of its start (a count of pending messages
                # would not do: on a busy stream it need never come to 0).
                since = datetime.fromtimestamp(self.wall() - self.picture.max_age_s, UTC)
                self._history_until = int((await js.stream_info(STREAM)).state.last_seq)
                config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=since)
            else:
                # The wall clock (live feeds): from now on. Reading a minute of a busy feed back
                # (20,000 reports/s: 1.2 million messages) would hold every live report behind it
                # for minutes; live tracks report every few seconds, so the picture fills from
                # the live feed within one report interval (docs/operations.md, "Workers").
                self._history_until = 0
                config = ConsumerConfig(deliver_policy=DeliverPolicy.NEW)
            subscription = await js.subscribe(SUBJECTS, cb=received, ordered_consumer=True, config=config)
            if self.clock == "wall" or int((await subscription.consumer_info()).num_pending) == 0:
                self._history_taken = True
            tasks.append(asyncio.create_task(self._lease_loop()))
            tasks.append(asyncio.create_task(self._consume(queue)))
            await self._check_joined()
            if self.clock == "wall":
                tasks.append(asyncio.create_task(self._wall_scans()))
            await self._stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            with contextlib.suppress(Exception):
                if self._leases is not None:
                    await self._leases.release_all()
                await self._put_status(stopped=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(nc.drain(), 5.0)
            self.service.subscribers.remove(bridge.publish)
            await bridge.stop()

    # -- the buckets -----------------------------------------------------------------------

    async def _watch(self, watcher: Any) -> None:
        async for entry in watcher:
            if entry is None or entry.value is None or not entry.value:
                continue
            with contextlib.suppress(ValueError, KeyError, TypeError):
                status = WorkerStatus.from_json(entry.value)
                self.statuses[status.name] = status
                self._changed.set()

    def members(self) -> list[str]:
        now = self.wall()
        alive = {n for n, s in self.statuses.items() if s.alive(now, self.ttl_s)}
        return sorted(alive | {self.name})

    async def _check_joined(self) -> None:
        """Join the group (publish a status, take a share) once the picture is the group's: the
        reports of the picture's age taken and, with the tracks clock, the steps scanned up to
        the group's slowest worker (so the barrier of ``_ready`` holds from the first step on)."""
        if self._joined.is_set() or not self._history_taken:
            return
        if self.clock == "tracks":
            now = self.wall()
            others = [s.scanned_s for n, s in self.statuses.items()
                      if n != self.name and s.alive(now, self.ttl_s) and s.scanned_s is not None]
            scanned = self.progress.scanned_s
            if others and (scanned is None or scanned < min(others)):
                return
        _log.info("%s joins group %s", self.name, self.group)
        self._joined.set()

    async def _lease_loop(self) -> None:
        assert self._leases is not None
        await self._joined.wait()
        await self._put_status()
        await asyncio.sleep(self.renew_s)  # see who else is there before taking a share
        while True:
            try:
                share = fair_share(self.n_shards, len(self.members()))
                await self._leases.cycle(share)
                await self._put_status()
                self._changed.set()
            except Exception:  # NATS away for a moment: the next cycle retries
                _log.exception("lease cycle failed")
            await asyncio.sleep(self.renew_s)

    async def _put_status(self, stopped: bool = False) -> None:
        if not self._joined.is_set():
            return  # not part of the group yet: nobody waits for it, nobody counts it
        p = self.progress
        status = WorkerStatus(
            self.name, self.wall(), self.clock, p.scanned_s, tuple(sorted(p.shards)), p.pending,
            self._behind(), p.steps, stopped, self._held_alerts,
        )
        self.statuses[self.name] = status
        await self._status_kv.put(self.name, status.to_json())

    def _behind(self) -> float | None:
        p = self.progress
        if p.newest_scanned_s is None:
            return None
        reference = p.pending_step if self.clock == "tracks" else self.wall()
        return max(0.0, (reference or p.newest_scanned_s) - p.newest_scanned_s)

    # -- tracks in -------------------------------------------------------------------------

    async def _consume(self, queue: asyncio.Queue[Any]) -> None:
        p = self.progress
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), self.idle_s)
            except TimeoutError:
                if self.clock == "tracks" and p.pending_step is not None and (
                        p.pending_step != p.scanned_s or p.dirty):
                    await self._scan(p.pending_step, "idle")
                await self._check_joined()
                continue
            for delivered in await self._in_order(message):
                await self._take(delivered)
            await self._check_joined()

    async def _in_order(self, message: Any) -> list[_Delivered]:
        """The message, preceded by any the consumer skipped. The worker's picture must hold
        every report: a report missing from one worker's picture is an alert missing from the
        register. An ordered consumer is meant to deliver every message in order, but a client
        can lose some (a slow-consumer episode, nats.go#2107), so the stream sequence is checked
        here and a gap is filled by reading the missing messages from the stream by number."""
        delivered = _Delivered.of(message)
        seq = delivered.stream_seq
        if seq is None or self._next_seq is None:
            self._next_seq = None if seq is None else seq + 1
            return [delivered]
        if seq < self._next_seq:  # delivered again after the consumer was recreated
            _log.debug("%s: message %d of %s again, dropped", self.name, seq, STREAM)
            return []
        missing = range(self._next_seq, seq)
        self._next_seq = seq + 1
        if not missing:
            return [delivered]
        _log.warning("%s: the consumer skipped messages %d to %d of %s; reading them from the stream",
                     self.name, missing.start, missing.stop - 1, STREAM)
        fetched = []
        for number in missing:
            try:
                raw = await self._js.get_msg(STREAM, seq=number)
            except Exception as error:  # deleted (its age), or another subject's: nothing to take
                _log.warning("%s: message %d of %s not read: %s", self.name, number, STREAM,
                             error or type(error).__name__)
                continue
            fetched.append(_Delivered(raw.subject, dict(raw.headers or {}), raw.data or b"", number, None))
        return [*fetched, delivered]

    async def _take(self, message: _Delivered) -> None:
        """Take one message into the picture; with the tracks clock, first scan the step it ends."""
        p = self.progress
        if message.pending is not None:
            p.pending = message.pending
        if message.stream_seq is not None and message.stream_seq >= self._history_until:
            self._history_taken = True  # taken or refused, the reports of its start are in
        headers = message.headers
        # Only the tracks clock steps by the reports' times: on the wall clock the body is not read twice.
        newest = newest_time(headers, message.data) if self.clock == "tracks" else None
        if self.clock == "tracks" and newest is not None and p.pending_step is not None and (
                newest > p.pending_step and (p.pending_step != p.scanned_s or p.dirty)
                and await self._would_take(message, newest)):
            await self._scan(p.pending_step, "later report")  # the step is complete
        if self.clock == "wall":
            now_s = self.wall()
        else:  # the tracks' time: a replay's states are not refused as old
            known = [t for t in (newest, p.pending_step) if t is not None]
            now_s = max(known) if known else self.wall()
        try:
            result = await run_in_threadpool(take_message, self.service, self.picture, message.subject,
                                             headers, message.data, from_epoch_s(now_s))
        except Refused as refused:
            self.counts.dropped[refused.reason] = self.counts.dropped.get(refused.reason, 0) + 1
            return
        except Exception:  # e.g. the clock reading of a message with no time
            _log.exception("track message not taken")
            return
        self.counts.messages += 1
        self.counts.accepted += result.accepted
        self.counts.refused_rows += len(result.refused)
        if result.accepted and newest is not None:
            if p.scanned_s is not None and newest <= p.scanned_s:
                p.dirty = True
            p.pending_step = newest if p.pending_step is None else max(p.pending_step, newest)

    async def _would_take(self, message: _Delivered, newest: float) -> bool:
        """Whether the message would be taken (checked on a scratch picture): a message that
        will be refused (another register's party, a bad signature) must not end a step."""
        scratch = TrackPicture(max_age_s=self.picture.max_age_s)
        try:
            result = await run_in_threadpool(take_message, self.service, scratch, message.subject,
                                             message.headers, message.data, from_epoch_s(newest))
        except Refused:
            return False
        except Exception as error:  # the real take meets it too, and logs it
            _log.warning("%s: message %s not checked: %s", self.name, message.stream_seq, error)
            return False
        return result.accepted > 0

    async def _wall_scans(self) -> None:
        async for _due in fixed_rate(self.scan_interval_s):  # however long a scan takes
            try:
                await self._scan(self.wall(), "wall clock")
            except Exception:  # a failed scan must not stop the next one; it is logged
                _log.exception("worker scan failed")

    # -- the scan --------------------------------------------------------------------------

    def _ready(self, previous_s: float | None) -> bool:
        """Tracks clock: every live worker scanned ``previous_s``, every shard is held by a live one."""
        assert self._leases is not None
        now = self.wall()
        alive = set(self.members())
        if previous_s is not None:
            for name in alive - {self.name}:
                scanned = self.statuses[name].scanned_s
                if scanned is None or scanned < previous_s:
                    return False
        if not self._joined.is_set():
            return True  # it scans with no shard: only its place behind the others matters
        mine = self._leases.owned()
        for shard in range(self.n_shards):
            if shard in mine:
                continue
            lease = self._leases.table.get(shard)
            if lease is None or lease.owner not in alive - {self.name} or lease.expires_s < now:
                return False
        return True

    async def _scan(self, at_s: float, why: str) -> None:
        p = self.progress
        if self.clock == "tracks":
            while not self._ready(p.scanned_s):
                self._changed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.05)
        assert self._leases is not None
        shards = self._leases.owned()
        carried = self._carried()
        taken = shards - p.shards

        def work() -> tuple[StepResult, tuple[Carried, ...]]:
            if taken:
                self.detection.rescan_previous(shards, carried)
            step = self.detection.step(at_s, shards, carried)
            return step, tuple(self.detection.carried())

        # The alerts it holds are read here, in the step's thread: read from the event loop they
        # would wait on the detection's lock for as long as a step runs, and with it every
        # heartbeat (the others would count this worker dead during a long step).
        step, self._held_alerts = await run_in_threadpool(work)
        self.last_step = step
        _log.debug("%s scanned %.1f (%s%s): %d shards, %d tracks, %d events, %d resumed, %d released, "
                   "%d pending, next message %s", self.name, at_s, why, ", dirty" if p.dirty else "",
                   len(shards), step.scanned, len(step.result.events), step.resumed, step.released, p.pending,
                   self._next_seq)
        p.shards, p.scanned_s, p.dirty = shards, at_s, False
        p.steps += 1
        if self.clock == "tracks":
            # The step's time is the newest report it scanned up to, whether or not its own
            # cells held a track then (a worker whose cells are empty is not behind).
            p.newest_scanned_s = at_s
        elif step.newest_s is not None:
            p.newest_scanned_s = step.newest_s
        await self._put_status()

    def _carried(self) -> dict[str, Carried]:
        """The open alerts' episode states published by the workers (their latest, by alert)."""
        out: dict[str, Carried] = {}
        for name, status in self.statuses.items():
            if name == self.name:
                continue
            for c in status.carried:
                if c.alert_id not in out or c.last_seen_s > out[c.alert_id].last_seen_s:
                    out[c.alert_id] = c
        return out




class WorkersReader:
    """The server's view of a group of workers (``GET /workers``, ``/metrics``): its own NATS
    connection, and the buckets read on demand (``refresh``)."""

    def __init__(self, url: str, group: str, n_shards: int = N_SHARDS, wall: Callable[[], float] = time.time
                 ) -> None:
        self.url = url
        self.group = group
        self.n_shards = n_shards
        self.wall = wall
        self.view: WorkersView | None = None
        self._nc: Any = None

    async def start(self) -> None:
        import nats

        self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1)

    async def refresh(self) -> WorkersView:
        if self._nc is None:
            raise RuntimeError("WorkersReader.start first")
        self.view = await read_workers(self._nc.jetstream(), self.group, self.n_shards, self.wall)
        return self.view

    async def stop(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.close(), 5.0)
            self._nc = None


__all__ = ["CLOCKS", "DEFAULT_GROUP", "Worker", "WorkerStatus", "WorkersReader", "WorkersView",
           "bucket_names", "newest_time", "read_workers"]
