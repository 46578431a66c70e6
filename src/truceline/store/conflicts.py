"""Open conflicts found by the strategic check, each with the entry that reported it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select

from truceline.store.schema import conflicts

_DELETE_CONFLICT = delete(conflicts).where(
    conflicts.c.kind == bindparam("of_kind"),
    conflicts.c.a == bindparam("of_a"),
    conflicts.c.b == bindparam("of_b"),
)
_INSERT_CONFLICT = insert(conflicts)


def save_conflict(conn: Connection, record: dict[str, Any], seq: int) -> None:
    conn.execute(_DELETE_CONFLICT, {"of_kind": record["kind"], "of_a": record["a"], "of_b": record["b"]})
    conn.execute(
        _INSERT_CONFLICT,
        {"kind": record["kind"], "a": record["a"], "b": record["b"], "record": record, "seq": seq},
    )


def load_conflicts(conn: Connection) -> list[dict[str, Any]]:
    rows = conn.execute(select(conflicts.c.record).order_by(conflicts.c.kind, conflicts.c.a, conflicts.c.b))
    return [r.record for r in rows]


_DROP_CONFLICTS = delete(conflicts).where(
    or_(conflicts.c.a == bindparam("operation_id"), conflicts.c.b == bindparam("operation_id"))
)


def drop_conflicts_of(conn: Connection, operation_id: str) -> None:
    """Delete the open conflicts that name the operation (it changed, or is cancelled)."""
    conn.execute(_DROP_CONFLICTS, {"operation_id": operation_id})
