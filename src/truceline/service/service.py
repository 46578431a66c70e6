"""The service: one place where a party's request becomes ledger entries.

``Service`` wraps the lead's ``Register`` (ledger + projections in one transaction) with
what a multi-party server needs: one writer at a time, an in-memory strategic index kept
in step with the log (so a filing never reloads every zone), and a hook that tells the
live stream that new entries were committed. The commands themselves live in one module
per idea: ``negotiation`` (zones), ``filing`` (operations), ``hotline`` (messages),
``escalation`` (deadlines and expiry), ``need_to_know`` (what a party may see).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection

from truceline.domain.codec import operation_from_record, operation_to_record, zone_from_record
from truceline.domain.operation import Operation
from truceline.domain.party import Role
from truceline.domain.zone import ZoneState
from truceline.engines.strategic import Held, StrategicIndex, paused_collector
from truceline.ledger.entries import Entry, EntryType
from truceline.service.altitude import altitude_model
from truceline.service.events import EventLog, Observers
from truceline.service.principals import PrincipalCache
from truceline.service.projection import project
from truceline.service.register import Build, Committed, Register, lock_log
from truceline.store import database
from truceline.store import operations as operation_store
from truceline.store import parties as party_store
from truceline.store import zones as zone_store

T = TypeVar("T")

_INACTIVE_OPERATION_STATES = ("cancelled", "ended")

# Commands written in one transaction at most: bounds how long the first of them waits.
MAX_BATCH = 64


@dataclass(eq=False)
class _Job(Generic[T]):
    """One command waiting for (or written by) a group commit."""

    build: Build[T]
    decoded: dict[str, Operation]  # by id: an import brings thousands
    done: bool = False
    entries: list[Entry] = field(default_factory=list)
    result: Any = None
    error: BaseException | None = None


class _IndexFault(Exception):
    """The index could not take a job's entries in: the batch is rolled back."""

    def __init__(self, job: _Job[Any], error: Exception) -> None:
        super().__init__(str(error))
        self.job = job
        self.error = error


def _same(a: object, b: object) -> bool:
    """Equal JSON values, telling -0.0 from 0 (the ledger writes -0.0 as 0)."""
    if isinstance(a, float) or isinstance(b, float):
        return a == b and math.copysign(1.0, a) == math.copysign(1.0, b)  # type: ignore[arg-type]
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return (
            isinstance(b, list) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
        )
    return type(a) is type(b) and a == b


def _known(entry: Entry, decoded: dict[str, Operation]) -> Operation | None:
    """The operation of ``decoded`` (by id) that an ``operation.filed``/``updated`` entry
    carries: the one whose encoding is the entry's record exactly, so that decoding the
    record would give it (found once per entry: the projection and the index both use it)."""
    if not decoded or entry.type not in (EntryType.OPERATION_FILED, EntryType.OPERATION_UPDATED):
        return None
    record = entry.payload["operation"]
    operation = decoded.get(record.get("id"))  # type: ignore[arg-type]
    if operation is not None and _same(operation_to_record(operation), record):
        return operation
    return None


@dataclass(frozen=True, slots=True)
class PartyRow:
    id: str
    name: str
    role: Role
    language: str
    uss_manager: str | None = None


class Service:
    """Commands and queries over one register. Thread-safe: writes are serialised (SQLite
    takes one writer; the strategic index is not thread-safe), reads run concurrently."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self.engine = register.engine
        self.ledger = register.ledger
        self.clock = register.clock
        self._lock = threading.RLock()  # the writer (and the index's guard)
        self._queue_lock = threading.Lock()
        self._queue: list[_Job[Any]] = []  # commands waiting for the next group commit
        # W84/AMSL by EGM96, AGL by TRUCELINE_TERRAIN, FL by TRUCELINE_QNH (service/altitude.py)
        self.altitude = altitude_model()
        self.index = StrategicIndex(self.altitude)
        self._seen = 0  # entries of the log reflected in ``index``
        # Called (outside the lock) with the entries of every commit: the bus subscribes here.
        self.subscribers: list[Callable[[list[Entry]], None]] = []
        # Told of every durable transaction and escalation (service/events.py): the event
        # log lines always, the api's metrics when an app serves this service.
        self.observers = Observers([EventLog()])
        # Callers' tokens -> principals; cleared by every committed change to a party, this
        # process's or (through ``refresh`` on each lookup) another's.
        self.principals = PrincipalCache(self.engine, refresh=self.refresh)
        self.reload_index()

    # --- the strategic index, in step with the log ---------------------------------------

    def reload_index(self) -> None:
        """Rebuild the in-memory index from the projections (active zones, live operations)."""
        # One snapshot for the zones, the operations, their volumes and the log's size:
        # another process committing between two of these reads would otherwise leave an
        # operation without its volumes, or entries the index holds but ``_seen`` skips.
        with self._lock, database.snapshot(self.engine) as conn, paused_collector():
            index = StrategicIndex(self.altitude)
            bound = self.signatories_in_force(conn)
            # The store gives the shapes with their stored coverings and bounds: loading
            # computes no geometry (100,000 volumes in seconds: bench/startup.py).
            index.load(
                ((zone, bound.get(zone.id)) for zone in zone_store.load_zones(conn, state=ZoneState.ACTIVE)),
                (
                    operation
                    for operation in operation_store.load_operations(conn)
                    if str(operation.state) not in _INACTIVE_OPERATION_STATES
                ),
            )
            self.index = index
            self._seen = self.ledger.size(conn)

    def _index_apply(self, entry: Entry, known: Operation | None = None) -> None:
        payload = entry.payload
        state = payload.get("state", ZoneState.ACTIVE)
        imported = entry.type == EntryType.ZONE_IMPORTED and state == ZoneState.ACTIVE
        if imported:
            self.index.add_zone(zone_from_record(payload["zone"]))  # binds all it restricts
        elif entry.type == EntryType.ZONE_ACTIVATED:
            # A negotiated version binds its signatories only. (An activation logged before
            # entries named them has none here; ``reload_index`` reads them from the tables.)
            signatories = payload.get("signatories")
            self.index.add_zone(zone_from_record(payload["zone"]), signatories)
        elif entry.type in (EntryType.ZONE_WITHDRAWN, EntryType.ZONE_EXPIRED):
            self.index.remove_zone(payload["zone_id"])
        elif entry.type in (EntryType.OPERATION_FILED, EntryType.OPERATION_UPDATED):
            self.index.add_operation(known or operation_from_record(payload["operation"]))
        elif entry.type == EntryType.OPERATION_CANCELLED:
            self.index.remove_operation(payload["operation_id"])

    def _catch_up(self, conn: Connection, size: int) -> None:
        """Apply entries another process appended (e.g. ``truceline import`` while serving);
        ``size``: the log's size, read under its write lock."""
        if size > self._seen:
            types: list[str] = []
            for entry in self.ledger.entries(conn, self._seen, size):
                self._index_apply(entry)
                types.append(entry.type)
            self._seen = size
            self.principals.entries_committed(types)

    def refresh(self) -> None:
        """Take in what other processes (another server, ``truceline import``) committed
        since this one last wrote or read, so that a query sees every committed entry.
        Costs one indexed read of the log's size when nothing changed."""
        with self.engine.connect() as conn:
            size = self.ledger.size(conn)
        if size <= self._seen:
            return
        with self._lock, self.engine.connect() as conn:
            self._catch_up(conn, self.ledger.size(conn))

    # --- writing ---------------------------------------------------------------------------

    def commit(self, build: Build[T], *, decoded: Sequence[Operation] = ()) -> T:
        """``commit_entries``, for the command's result only (what nearly every command wants)."""
        return self.commit_entries(build, decoded=decoded).result

    def commit_entries(self, build: Build[T], *, decoded: Sequence[Operation] = ()) -> Committed[T]:
        """Run ``build(conn, now)`` inside a transaction, append the drafts it returns,
        write their projections and update the index; returns the entries and build's result.

        ``build`` validates against the state it reads through ``conn`` and raises a
        TrucelineError to refuse (nothing of it is written then). ``decoded``: operations
        the drafts carry as records, already decoded (spares decoding them again; used only
        where the record is exactly theirs).

        Group commit: commands that arrive while one transaction is being written wait and
        then go together in the next one, each in its own savepoint (one refusal or error
        undoes that command only), in arrival order, each seeing the ones before it (their
        rows and the index), then ONE commit (one fsync). A command's result is returned
        only once its transaction is durable.
        """
        job = _Job(build, {operation.id: operation for operation in decoded})
        with self._queue_lock:
            self._queue.append(job)
        with self._lock:
            # Another thread's batch may have taken this job while we waited for the lock.
            while not job.done:
                self._run_batch()
        if job.error is not None:
            raise job.error
        if job.entries:
            for subscriber in list(self.subscribers):
                subscriber(job.entries)
        return Committed(job.entries, job.result)

    def _run_batch(self) -> None:
        """Take the waiting jobs (at most MAX_BATCH) and write them in one transaction.
        Caller holds ``_lock``."""
        with self._queue_lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        while batch:
            batch = self._write_batch(batch)

    def _write_batch(self, batch: list[_Job[Any]]) -> list[_Job[Any]]:
        """Write ``batch`` in one transaction and mark its jobs done; returns the jobs to
        run again when an index fault rolled the batch back (the faulty one fails)."""
        written: list[_Job[Any]] = []
        try:
            with self.engine.begin() as conn:
                # One log write for the whole batch: the appender reads the head once and
                # writes every job's entries at ``flush``, just before the commit.
                appender = lock_log(conn, self.ledger)
                self._catch_up(conn, appender.size)
                for job in batch:
                    job.entries, job.result, job.error = [], None, None  # a rerun starts afresh
                    now = self.clock()
                    mark = appender.mark()
                    try:
                        with conn.begin_nested():  # rolled back alone if this job fails
                            drafts, result = job.build(conn, now)
                            entries = appender.append(list(drafts), now) if drafts else []
                            knowns = [_known(entry, job.decoded) for entry in entries]
                            for entry, known in zip(entries, knowns, strict=True):
                                project(conn, entry, known)
                    except Exception as error:  # a refusal or fault of this job only
                        appender.undo_to(mark)  # its entries go with its savepoint
                        job.error = error
                        written.append(job)
                        continue
                    # The index takes the entries in before the next job's check: the batch
                    # gives the verdicts the jobs would get one after the other.
                    try:
                        for entry, known in zip(entries, knowns, strict=True):
                            self._index_apply(entry, known)
                    except Exception as error:
                        raise _IndexFault(job, error) from error
                    self._seen += len(entries)
                    job.entries, job.result = entries, result
                    written.append(job)
                appender.flush()
                tree_size = appender.size
                root_hash = appender.root_hash() if self.observers else b""
        except _IndexFault as fault:
            # Rolled back, and the index is ahead of the log: rebuild it. The faulty job
            # fails; the others run again in a new transaction.
            self.reload_index()
            fault.job.error, fault.job.done = fault.error, True
            return [job for job in batch if job is not fault.job]
        except BaseException as error:
            # The transaction failed (begin, a savepoint, the commit): nothing of the batch
            # was written. Every job fails with the cause; the index goes back to the log.
            for job in batch:
                job.entries, job.result, job.error, job.done = [], None, error, True
            self.reload_index()
            if not isinstance(error, Exception):
                raise
            return []
        # Committed: only now may the principal cache forget (a lookup racing the commit
        # could otherwise store the party as it was).
        committed = [e for job in written for e in job.entries]
        self.principals.entries_committed([e.type for e in committed])
        self.observers.committed(len(written), committed, tree_size, root_hash)
        for job in written:
            job.done = True
        return []

    def defer_checkpoints(self) -> bool:
        """For a long-running server: its commits stop checkpointing the WAL, and the server
        calls ``checkpoint`` off the request path instead. False when the database has
        nothing to defer (not a SQLite file)."""
        return database.defer_checkpoints(self.engine)

    def checkpoint(self) -> None:
        """Checkpoint the SQLite WAL (for a server whose commits no longer do it themselves:
        ``database.defer_checkpoints``). The bulk is copied alongside the writer; the rest
        under the writer's lock, so that this checkpoint completes and the next commit
        starts the WAL over (a checkpoint always racing new commits never completes, and
        the WAL would grow without end)."""
        database.checkpoint(self.engine)
        with self._lock:
            database.checkpoint(self.engine)

    # --- reading helpers shared by the command modules ----------------------------------------

    def live(self) -> Held:
        """For a query: the live operations and active zones as committed by any process,
        as a consistent copy."""
        self.refresh()
        return self.indexed()

    def indexed(self) -> Held:
        """The live operations and active zones the index holds now: inside a command,
        whose batch has already caught up with the log (and may hold entries not yet
        committed), this is the state the command is checked against."""
        with self._lock:
            return self.index.live()

    def binds(self, zone_id: str, party: str) -> bool:
        """Whether the zone in force ``zone_id`` binds the party named ``party`` (were it
        restricted): signatories of a negotiated version, everyone for an imported zone."""
        with self._lock:
            return self.index.binds(zone_id, party)

    def read(self) -> Any:
        """A connection for queries (use as a context manager)."""
        return self.engine.connect()

    @staticmethod
    def signatories_in_force(conn: Connection, zone_id: str | None = None) -> dict[str, list[str]]:
        """Negotiated zone id -> names of the parties that signed its version in force (the
        parties it binds); zones without one in force, and imported zones, are absent.
        ``zone_id``: that zone only."""
        names = {r.id: r.name for r in party_store.party_rows(conn)}
        signers = zone_store.signers_in_force(conn, zone_id)
        return {zone: sorted(names.get(s, s) for s in ids) for zone, ids in signers.items()}

    @staticmethod
    def party_rows(conn: Connection) -> list[PartyRow]:
        rows = party_store.party_rows(conn)
        return [PartyRow(r.id, r.name, Role(r.role), r.language, r.uss_manager) for r in rows]

    @classmethod
    def parties_by_name(cls, conn: Connection) -> dict[str, PartyRow]:
        return {row.name: row for row in cls.party_rows(conn)}

    @classmethod
    def parties_by_id(cls, conn: Connection) -> dict[str, PartyRow]:
        return {row.id: row for row in cls.party_rows(conn)}


