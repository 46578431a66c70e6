"""The register: where a request becomes ledger entries and projection rows.

Every state change goes through ``Register``: it validates, appends the entries to the
ledger and writes the projections they cause, in one transaction. The projections are a
pure function of the entries (``projection.project``, the one projector), which is what
``rebuild`` relies on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import Connection, Engine

from truceline.domain.clock import to_ms
from truceline.domain.ids import uuid7
from truceline.domain.operation import Operation
from truceline.domain.party import Party
from truceline.domain.zone import Zone
from truceline.errors import ValidationError
from truceline.ledger.entries import Entry, EntryDraft, EntryType
from truceline.ledger.log import Appender, Ledger
from truceline.ledger.sth import SignedTreeHead
from truceline.service.projection import project
from truceline.store import conflicts, database, operations, parties, projections, zones

Clock = Callable[[], datetime]
T = TypeVar("T")
Build = Callable[[Connection, datetime], tuple[Sequence[EntryDraft], T]]

# The author of entries made by the register's operator (imports, automatic checks).
OPERATOR = "operator"

def lock_log(conn: Connection, ledger: Ledger) -> Appender:
    """Take the log's write lock before reading its size, so a writer sees every entry
    another process appended; returns the transaction's appender. SQLite: BEGIN IMMEDIATE
    (the driver would otherwise begin only at the first write, after a first SAVEPOINT,
    which would then commit on its own); PostgreSQL: the appender reads the head row locked
    for update."""
    database.begin_writing(conn)
    return ledger.appender(conn)


@dataclass(frozen=True, slots=True)
class Committed(Generic[T]):
    """What a committed command wrote (its entries, in log order) and what it returned."""

    entries: list[Entry]
    result: T


class Committer(Protocol):
    """What runs a command: a ``Service`` (group commit, strategic index) or a ``Register``
    alone (one transaction, for a process that serves nothing). ``commit`` returns the
    command's result; ``commit_entries`` its entries too."""

    def commit(self, build: Build[T]) -> T: ...

    def commit_entries(self, build: Build[T]) -> Committed[T]: ...


class Register:
    def __init__(self, engine: Engine, ledger: Ledger, clock: Clock) -> None:
        self.engine = engine
        self.ledger = ledger
        self.clock = clock

    def commit(self, build: Build[T]) -> T:
        """``commit_entries``, for the command's result only."""
        return self.commit_entries(build).result

    def commit_entries(self, build: Build[T]) -> Committed[T]:
        """Run one command (``build(conn, now)`` returns its drafts and result) in its own
        transaction, with the locking and projections of a ``Service`` batch of one but no
        strategic index to load: ``truceline party add`` beside a busy server reads no zone
        or operation. ``build`` refuses by raising; nothing is written then."""
        with self.engine.begin() as conn:
            appender = lock_log(conn, self.ledger)
            now = self.clock()
            drafts, result = build(conn, now)
            entries = appender.append(list(drafts), now) if drafts else []
            for entry in entries:
                project(conn, entry)
            appender.flush()
        return Committed(entries, result)

    def _append(self, conn: Connection, drafts: Sequence[EntryDraft]) -> list[Entry]:
        entries = self.ledger.append(conn, drafts, self.clock())
        for entry in entries:
            project(conn, entry)
        return entries

    def register_party(
        self, name: str, role: str = "party", language: str = "en", public_key: str | None = None
    ) -> Party:
        now = self.clock()
        party = Party(uuid7(to_ms(now)), name, role, language)
        payload: dict[str, Any] = {
            "party_id": party.id,
            "name": party.name,
            "role": str(party.role),
            "language": party.language,
        }
        if public_key is not None:
            payload["public_key"] = public_key
        with self.engine.begin() as conn:
            if any(p.name == name for p in parties.load_parties(conn)):
                raise ValidationError(f"a party named {name!r} is already registered", field="name")
            self._append(conn, [EntryDraft(EntryType.PARTY_REGISTERED, OPERATOR, payload)])
        return party

    def parties(self) -> list[Party]:
        with self.engine.connect() as conn:
            return parties.load_parties(conn)

    def zones(self) -> list[Zone]:
        with database.snapshot(self.engine) as conn:  # the zones and their volumes, as one
            return zones.load_zones(conn)

    def operations(self) -> list[Operation]:
        with database.snapshot(self.engine) as conn:
            return operations.load_operations(conn)

    def conflicts(self) -> list[dict[str, Any]]:
        with self.engine.connect() as conn:
            return conflicts.load_conflicts(conn)

    def tree_head(self) -> SignedTreeHead:
        """A signed tree head for the whole log, now."""
        with self.engine.connect() as conn:
            return self.ledger.signed_tree_head(conn, self.clock())

    def rebuild(self) -> int:
        """Recreate every projection from the ledger alone; returns the number of entries read."""
        with self.engine.begin() as conn:
            projections.clear_projections(conn)
            count = 0
            for entry in self.ledger.entries(conn):
                project(conn, entry)
                count += 1
        return count


def open_register(url: str, clock: Clock) -> Register:
    """The register on the database at ``url`` (created if new), with the log key from
    ``keys_location(url)`` (generated there for a log with no entry yet). Raises
    LogKeyError when that key is not the log's."""
    from truceline.ledger.keys import keys_location
    from truceline.ledger.log import open_ledger
    from truceline.store.database import create_schema, open_engine

    location = keys_location(url)
    engine = open_engine(url)
    create_schema(engine)
    return Register(engine, open_ledger(engine, location), clock)
