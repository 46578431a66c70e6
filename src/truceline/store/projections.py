"""The projections as a whole: emptied before a rebuild, compared after one.

Each noun's rows are its own module's (``parties``, ``zones``, ``operations``, ``volumes``,
``conflicts``, ``hotline``); callers pass a Connection inside their own transaction, so the
service writes a ledger entry and its projection atomically.
"""

from __future__ import annotations

from sqlalchemy import Connection, delete, select

from truceline.store.schema import PROJECTION_TABLES, SERVICE_TABLES


def clear_projections(conn: Connection) -> None:
    """Empty every projection table (before a rebuild from the ledger)."""
    for table in (*SERVICE_TABLES, *PROJECTION_TABLES):
        conn.execute(delete(table))


def snapshot(conn: Connection) -> dict[str, list[tuple]]:
    """Every projection row in a fixed order: two snapshots are equal iff the tables are."""
    result = {}
    for table in (*PROJECTION_TABLES, *SERVICE_TABLES):
        order = [c for c in table.primary_key.columns]
        rows = conn.execute(select(table).order_by(*order))
        result[table.name] = [tuple(r) for r in rows]
    return result
