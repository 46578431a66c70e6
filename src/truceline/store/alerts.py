"""Live alerts' rows: one per episode (a pair in conflict, a track in a zone, a track off its
operation), open until the situation ends. Written by the projector (``alert.opened``,
``alert.updated``, ``alert.closed``), read by the live detection (to resume the open ones
after a restart) and the live stream (to say what an event is about)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from truceline.store.schema import alerts

OPEN = "open"
CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class AlertRow:
    id: str
    kind: str  # conflict | incursion | nonconformance
    subject: list[str]  # the episode's key
    parties: list[str]  # party ids told
    message_id: str
    state: str  # open | closed
    opened_ms: int
    updated_ms: int
    closed_ms: int | None
    latest: dict[str, Any]  # {"data": ..., "states": [...]}
    seq: int


_COLUMNS = tuple(c.name for c in alerts.columns)


def _row(row: Row[Any]) -> AlertRow:
    m = row._mapping
    return AlertRow(**{name: m[alerts.c[name]] for name in _COLUMNS})


def open_alerts(conn: Connection) -> list[AlertRow]:
    """The alerts still open, oldest first."""
    query = select(alerts).where(alerts.c.state == OPEN).order_by(alerts.c.opened_ms, alerts.c.id)
    rows = conn.execute(query)
    return [_row(r) for r in rows]


def alert(conn: Connection, alert_id: str) -> AlertRow | None:
    row = conn.execute(select(alerts).where(alerts.c.id == alert_id)).first()
    return None if row is None else _row(row)


def alerts_by_message(conn: Connection, message_ids: Sequence[str]) -> dict[str, AlertRow]:
    """The alert each of ``message_ids`` opened (message id -> row), where there is one."""
    if not message_ids:
        return {}
    rows = conn.execute(select(alerts).where(alerts.c.message_id.in_(list(message_ids))))
    return {r.message_id: _row(r) for r in rows}


# --- the projector's writes -------------------------------------------------------------


def add_alert(conn: Connection, row: AlertRow) -> None:
    conn.execute(insert(alerts), {name: getattr(row, name) for name in _COLUMNS})


def set_latest(conn: Connection, alert_id: str, latest: dict[str, Any], at_ms: int, seq: int) -> None:
    values = {"latest": latest, "updated_ms": at_ms, "seq": seq}
    conn.execute(update(alerts).where(alerts.c.id == alert_id).values(**values))


def close_alert(conn: Connection, alert_id: str, latest: dict[str, Any], at_ms: int, seq: int) -> None:
    conn.execute(
        update(alerts)
        .where(alerts.c.id == alert_id)
        .values(latest=latest, updated_ms=at_ms, closed_ms=at_ms, state=CLOSED, seq=seq)
    )
