"""Operations' rows: the stored operations (``projections`` writes them with their volumes),
each operation's history of steps, and the conflicts that name an operation.

Reads return frozen dataclasses; writers are the projector's and run inside the caller's
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, bindparam, exists, func, insert, select, update

from truceline.domain.activity import Activity
from truceline.domain.operation import Operation, OperationState
from truceline.geo.cells import cover
from truceline.store import volumes
from truceline.store.schema import ledger_entries, operation_history, operations


@dataclass(frozen=True, slots=True)
class OperationRow:
    """An operation's own row (its volumes are in ``projections``)."""

    id: str
    party: str  # party name
    activity: str
    state: str
    name: str


@dataclass(frozen=True, slots=True)
class HistoryRow:
    seq: int
    operation_id: str
    step: str  # filed | updated | refused | cancelled
    version: int
    party: str  # party name
    record: dict[str, Any] | None  # the operation record (None for a cancellation)
    conflicts: list[dict[str, Any]]
    time_ms: int


def _history(row: Row[Any]) -> HistoryRow:
    return HistoryRow(**{c.name: row._mapping[c] for c in operation_history.columns})


# --- reads ------------------------------------------------------------------------------


def operation_row(conn: Connection, operation_id: str) -> OperationRow | None:
    row = conn.execute(select(operations).where(operations.c.id == operation_id)).first()
    return None if row is None else OperationRow(row.id, row.party, row.activity, row.state, row.name)


# Built once (a filing runs it): is the id taken, by a stored operation or by any step of
# one's history (a refused or cancelled operation keeps its id)?
_ID_TAKEN = select(
    exists().where(operations.c.id == bindparam("operation_id"))
    | exists().where(operation_history.c.operation_id == bindparam("operation_id"))
)


def id_taken(conn: Connection, operation_id: str) -> bool:
    return bool(conn.execute(_ID_TAKEN, {"operation_id": operation_id}).scalar())


def history(conn: Connection, operation_id: str) -> list[HistoryRow]:
    """Every step of an operation, oldest first."""
    rows = conn.execute(
        select(operation_history)
        .where(operation_history.c.operation_id == operation_id)
        .order_by(operation_history.c.seq)
    )
    return [_history(r) for r in rows]


def last_step(conn: Connection, operation_id: str, steps: tuple[str, ...] | None = None) -> HistoryRow | None:
    """The operation's latest step (``steps``: the latest of those kinds), None if none."""
    query = select(operation_history).where(operation_history.c.operation_id == operation_id)
    if steps is not None:
        query = query.where(operation_history.c.step.in_(steps))
    row = conn.execute(query.order_by(operation_history.c.seq.desc()).limit(1)).first()
    return None if row is None else _history(row)


def last_steps_of_unstored(conn: Connection) -> list[HistoryRow]:
    """For each operation with a history but no stored row, its latest step; in the order
    of each operation's first step."""
    rows = conn.execute(
        select(operation_history)
        .where(~operation_history.c.operation_id.in_(select(operations.c.id)))
        .order_by(operation_history.c.seq)
    )
    last = {h.operation_id: h for h in map(_history, rows)}
    return list(last.values())


def in_force_at(conn: Connection, at_ms: int, known_from_start: str) -> list[HistoryRow]:
    """For each operation, the step of its version in force at ``at_ms``: the latest filed or
    updated step recorded at or before it, or whose entry ``known_from_start`` wrote (an
    author whose filings count whatever their time: the operator's imports), leaving out the
    operations cancelled at or before ``at_ms``; by operation id."""
    counted = (operation_history.c.time_ms <= at_ms) | (ledger_entries.c.author == known_from_start)
    latest = (
        select(func.max(operation_history.c.seq).label("seq"))
        .select_from(operation_history.join(ledger_entries, ledger_entries.c.seq == operation_history.c.seq))
        .where(operation_history.c.step.in_(("filed", "updated")), counted)
        .group_by(operation_history.c.operation_id)
    )
    cancelled = select(operation_history.c.operation_id).where(
        operation_history.c.step == "cancelled", operation_history.c.time_ms <= at_ms
    )
    rows = conn.execute(
        select(operation_history)
        .where(operation_history.c.seq.in_(latest), operation_history.c.operation_id.not_in(cancelled))
        .order_by(operation_history.c.operation_id)
    )
    return [_history(r) for r in rows]


# --- the projector's writes -------------------------------------------------------------

_INSERT_HISTORY = insert(operation_history)
def add_history(conn: Connection, row: HistoryRow) -> None:
    conn.execute(_INSERT_HISTORY, {c.name: getattr(row, c.name) for c in operation_history.columns})


def set_state(conn: Connection, operation_id: str, state: str) -> None:
    conn.execute(update(operations).where(operations.c.id == operation_id).values(state=state))


# --- the stored operations, with their volumes ------------------------------------------

_INSERT_OPERATION = insert(operations)


def prepare_operation(operation: Operation) -> None:
    """Compute ahead what saving ``operation`` needs most time for: its volumes' cell
    coverings (memoised on the shapes, so the save reuses them). A service calls this
    before taking its writer's lock: a covering is about a quarter of the writer's time
    for a filing, and every queued filing waits for the writer."""
    for volume in operation.volumes:
        cover(volume.shape)


def save_operation(conn: Connection, operation: Operation) -> None:
    """Insert or replace ``operation`` with its volumes and cell covering."""
    delete_operation(conn, operation.id)
    insert_operation(conn, operation)


def insert_operation(conn: Connection, operation: Operation) -> None:
    """Insert ``operation``, known not to be stored (a new filing), with its volumes and
    cell covering; one statement fewer than ``save_operation`` (a wrong guess fails on the
    primary key, it never duplicates)."""
    conn.execute(
        _INSERT_OPERATION,
        {
            "id": operation.id,
            "party": operation.party,
            "activity": str(operation.activity),
            "state": str(operation.state),
            "name": operation.name,
            "priority": operation.priority,
        },
    )
    volumes.write_volumes(conn, "operation", operation.id, operation.volumes)


def delete_operation(conn: Connection, operation_id: str) -> None:
    volumes.delete_owner(conn, "operation", operation_id)


def load_operations(conn: Connection) -> list[Operation]:
    """Every stored operation with its volumes, built as ``volumes.trusted`` rows (validated
    when filed; start-up reads 100,000 of them)."""
    by_owner = volumes.read_volumes(conn, "operation")
    activities = {str(a): a for a in Activity}
    states = {str(s): s for s in OperationState}
    return [
        volumes.trusted(
            Operation,
            id=r.id,
            party=r.party,
            activity=activities[r.activity],
            volumes=tuple(by_owner.get(r.id, ())),
            state=states[r.state],
            name=r.name,
            priority=r.priority,
        )
        for r in conn.execute(select(operations).order_by(operations.c.id))
    ]
