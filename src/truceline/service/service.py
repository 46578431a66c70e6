"""The service: one place where a party's request becomes ledger entries.

``Service`` wraps the lead's ``Register`` (ledger + projections in one transaction) with
what a multi-party server needs: one writer at a time, an in-memory strategic index kept
in step with the log (so a filing never reloads every zone), and a hook that tells the
live stream that new entries were committed. The commands themselves live in one module
per idea: ``negotiation`` (zones), ``filing`` (operations), ``hotline`` (messages),
``escalation`` (deadlines and expiry), ``need_to_know`` (what a party may see).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, select

from truceline.domain.codec import operation_from_record, zone_from_record
from truceline.domain.operation import Operation
from truceline.domain.party import Role
from truceline.domain.zone import Zone
from truceline.engines.strategic import StrategicIndex
from truceline.errors import NotFoundError
from truceline.ledger.entries import Entry, EntryDraft, time_ms
from truceline.service import projection as p
from truceline.service.register import ZONE_IMPORTED, Register, project
from truceline.store import projections
from truceline.store.ledger_tables import ledger_head
from truceline.store.projection_tables import parties

T = TypeVar("T")
Build = Callable[[Connection, datetime], tuple[Sequence[EntryDraft], T]]

_INACTIVE_OPERATION_STATES = ("cancelled", "ended")


@dataclass(frozen=True, slots=True)
class PartyRow:
    id: str
    name: str
    role: Role
    language: str


class Service:
    """Commands and queries over one register. Thread-safe: writes are serialised (SQLite
    takes one writer; the strategic index is not thread-safe), reads run concurrently."""

    def __init__(self, register: Register) -> None:
        self.register = register
        self.engine = register.engine
        self.ledger = register.ledger
        self.clock = register.clock
        self._lock = threading.RLock()
        self.index = StrategicIndex()
        self._seen = 0  # entries of the log reflected in ``index``
        # Called (outside the lock) with the entries of every commit: the bus subscribes here.
        self.subscribers: list[Callable[[list[Entry]], None]] = []
        self.reload_index()

    # --- the strategic index, in step with the log ---------------------------------------

    def reload_index(self) -> None:
        """Rebuild the in-memory index from the projections (active zones, live operations)."""
        with self._lock, self.engine.connect() as conn:
            index = StrategicIndex()
            for zone in projections.load_zones(conn, state="active"):
                index.add_zone(zone)
            for operation in projections.load_operations(conn):
                if str(operation.state) not in _INACTIVE_OPERATION_STATES:
                    index.add_operation(operation)
            self.index = index
            self._seen = self.ledger.size(conn)

    def _index_apply(self, entry: Entry) -> None:
        payload = entry.payload
        imported = entry.type == ZONE_IMPORTED and payload.get("state", "active") == "active"
        if imported or entry.type == p.ZONE_ACTIVATED:
            self.index.add_zone(zone_from_record(payload["zone"]))
        elif entry.type in (p.ZONE_WITHDRAWN, p.ZONE_EXPIRED):
            self.index.remove_zone(payload["zone_id"])
        elif entry.type in (p.OPERATION_FILED, p.OPERATION_UPDATED):
            self.index.add_operation(operation_from_record(payload["operation"]))
        elif entry.type == p.OPERATION_CANCELLED:
            self.index.remove_operation(payload["operation_id"])

    def _catch_up(self, conn: Connection) -> None:
        """Apply entries another process appended (e.g. ``truceline import`` while serving)."""
        size = self.ledger.size(conn)
        if size > self._seen:
            for entry in self.ledger.entries(conn, self._seen, size):
                self._index_apply(entry)
            self._seen = size

    # --- writing ---------------------------------------------------------------------------

    def commit(self, build: Build[T]) -> tuple[list[Entry], T]:
        """Run ``build(conn, now)`` inside one transaction, append the drafts it returns,
        write their projections and update the index; returns (entries, build's result).

        ``build`` validates against the state it reads through ``conn`` and raises a
        TrucelineError to refuse (nothing is written then).
        """
        with self._lock:
            with self.engine.begin() as conn:
                # Another server process may append to the same PostgreSQL database: lock
                # the log's head first, so the check below sees every earlier entry.
                conn.execute(select(ledger_head.c.tree_size).with_for_update())
                self._catch_up(conn)
                now = self.clock()
                drafts, result = build(conn, now)
                entries = self.ledger.append(conn, list(drafts), now) if drafts else []
                for entry in entries:
                    project(conn, entry)
            # Committed: only now does the index take the entries in, so a refusal or a
            # rolled-back transaction never leaves it ahead of the log.
            try:
                for entry in entries:
                    self._index_apply(entry)
                self._seen += len(entries)
            except Exception:
                self.reload_index()
                raise
        if entries:
            for subscriber in list(self.subscribers):
                subscriber(entries)
        return entries, result

    # --- reading helpers shared by the command modules ----------------------------------------

    def live(self) -> tuple[list[Operation], list[Zone]]:
        """The live operations and active zones held by the index, as a consistent copy."""
        with self._lock:
            return list(self.index._operations.values()), list(self.index._zones.values())

    def read(self) -> Any:
        """A connection for queries (use as a context manager)."""
        return self.engine.connect()

    @staticmethod
    def party_rows(conn: Connection) -> list[PartyRow]:
        rows = conn.execute(
            select(parties.c.id, parties.c.name, parties.c.role, parties.c.language).order_by(parties.c.id)
        )
        return [PartyRow(r.id, r.name, Role(r.role), r.language) for r in rows]

    @classmethod
    def parties_by_name(cls, conn: Connection) -> dict[str, PartyRow]:
        return {row.name: row for row in cls.party_rows(conn)}

    @classmethod
    def parties_by_id(cls, conn: Connection) -> dict[str, PartyRow]:
        return {row.id: row for row in cls.party_rows(conn)}

    @classmethod
    def party(cls, conn: Connection, party_id: str) -> PartyRow:
        found = cls.parties_by_id(conn).get(party_id)
        if found is None:
            raise NotFoundError(f"no party {party_id!r}", field="party")
        return found


def now_ms(now: datetime) -> int:
    return time_ms(now)
