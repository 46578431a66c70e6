"""The hotline's rows: messages, their deliveries (one per recipient) and the live feed.

Reads return frozen dataclasses, never SQLAlchemy rows, so the service decides on typed
values. Writers are the projector's (``truceline.service.projection``): they take the
entry's fields and run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from truceline.store.schema import EVENTS_PER_ENTRY, deliveries, events, messages


@dataclass(frozen=True, slots=True)
class MessageRow:
    id: str
    thread_id: str
    in_reply_to: str | None
    sender: str | None  # party id; None for the register itself
    recipients: list[str]  # party ids
    priority: str
    body: dict[str, Any]
    about: dict[str, Any] | None
    seq: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    message_id: str
    recipient: str
    priority: str
    deadline_ms: int
    acked_ms: int | None
    escalations: int
    escalate: bool


@dataclass(frozen=True, slots=True)
class InboxRow:
    """A message with its delivery to the reader."""

    message: MessageRow
    delivery: DeliveryRow


@dataclass(frozen=True, slots=True)
class DueRow:
    """A delivery whose deadline lapsed, with what escalating it needs of its message."""

    delivery: DeliveryRow
    sender: str | None
    thread_id: str
    sent_ms: int
    sent_priority: str


@dataclass(frozen=True, slots=True)
class EventRow:
    id: int
    recipient: str
    kind: str  # message | escalated | acknowledged | <alert kind>.opened|updated|closed
    message_id: str
    seq: int
    time_ms: int


_MESSAGE_COLUMNS = tuple(c.name for c in messages.columns)
_DELIVERY_COLUMNS = tuple(c.name for c in deliveries.columns)


def _message(row: Row[Any]) -> MessageRow:
    m = row._mapping
    return MessageRow(**{name: m[messages.c[name]] for name in _MESSAGE_COLUMNS})


def _delivery(row: Row[Any]) -> DeliveryRow:
    m = row._mapping
    return DeliveryRow(**{name: m[deliveries.c[name]] for name in _DELIVERY_COLUMNS})


# --- reads ------------------------------------------------------------------------------


def message(conn: Connection, message_id: str) -> MessageRow | None:
    row = conn.execute(select(messages).where(messages.c.id == message_id)).first()
    return None if row is None else _message(row)


def messages_by_id(conn: Connection, message_ids: Sequence[str]) -> dict[str, MessageRow]:
    if not message_ids:
        return {}
    rows = conn.execute(select(messages).where(messages.c.id.in_(list(message_ids))))
    return {m.id: m for m in map(_message, rows)}


def thread_messages(conn: Connection, thread_id: str) -> list[MessageRow]:
    """The messages of a thread, oldest first."""
    rows = conn.execute(select(messages).where(messages.c.thread_id == thread_id).order_by(messages.c.seq))
    return [_message(r) for r in rows]


def sender_of(conn: Connection, message_id: str) -> str | None:
    return conn.execute(select(messages.c.sender).where(messages.c.id == message_id)).scalar()


def delivery(conn: Connection, message_id: str, recipient: str) -> DeliveryRow | None:
    row = conn.execute(
        select(deliveries).where(deliveries.c.message_id == message_id, deliveries.c.recipient == recipient)
    ).first()
    return None if row is None else _delivery(row)


def deliveries_of(conn: Connection, message_id: str) -> list[DeliveryRow]:
    """Every delivery of one message (what its sender sees)."""
    rows = conn.execute(
        select(deliveries).where(deliveries.c.message_id == message_id).order_by(deliveries.c.recipient)
    )
    return [_delivery(r) for r in rows]


def deliveries_to(conn: Connection, recipient: str, message_ids: Sequence[str]) -> dict[str, DeliveryRow]:
    """The deliveries of ``message_ids`` to ``recipient``, by message id."""
    if not message_ids:
        return {}
    rows = conn.execute(
        select(deliveries).where(
            deliveries.c.recipient == recipient, deliveries.c.message_id.in_(list(message_ids))
        )
    )
    return {d.message_id: d for d in map(_delivery, rows)}


def inbox(conn: Connection, recipient: str, pending_only: bool, limit: int) -> list[InboxRow]:
    """The messages delivered to ``recipient``, newest first (unacknowledged only if asked)."""
    query = (
        select(messages, deliveries)
        .select_from(messages.join(deliveries, deliveries.c.message_id == messages.c.id))
        .where(deliveries.c.recipient == recipient)
    )
    if pending_only:
        query = query.where(deliveries.c.acked_ms.is_(None))
    query = query.order_by(messages.c.seq.desc(), messages.c.id).limit(limit)
    return [InboxRow(_message(r), _delivery(r)) for r in conn.execute(query)]


def due(conn: Connection, at_ms: int, max_escalations: int, limit: int = 500) -> list[DueRow]:
    """Unacknowledged deliveries that escalate, whose deadline is at or before ``at_ms`` and
    that escalated at most ``max_escalations`` times, by deadline; at most ``limit``."""
    rows = conn.execute(
        select(
            deliveries,
            messages.c.sender,
            messages.c.thread_id,
            messages.c.time_ms.label("sent_ms"),
            messages.c.priority.label("sent_priority"),
        )
        .select_from(deliveries.join(messages, messages.c.id == deliveries.c.message_id))
        .where(
            deliveries.c.acked_ms.is_(None),
            deliveries.c.escalate.is_(True),
            deliveries.c.deadline_ms <= at_ms,
            deliveries.c.escalations <= max_escalations,
        )
        .order_by(deliveries.c.deadline_ms, deliveries.c.message_id, deliveries.c.recipient)
        .limit(limit)
    )
    return [DueRow(_delivery(r), r.sender, r.thread_id, r.sent_ms, r.sent_priority) for r in rows]


def events_after(conn: Connection, recipient: str, after_id: int, limit: int) -> list[EventRow]:
    """``recipient``'s live events after ``after_id``, oldest first, at most ``limit``."""
    rows = conn.execute(
        select(events)
        .where(events.c.recipient == recipient, events.c.id > after_id)
        .order_by(events.c.id)
        .limit(limit)
    )
    return [EventRow(r.id, r.recipient, r.kind, r.message_id, r.seq, r.time_ms) for r in rows]


# --- the projector's writes -------------------------------------------------------------

# Inserts built once (building ``insert(...).values(...)`` costs more than running it).
_INSERT_EVENT = insert(events)
_INSERT_MESSAGE = insert(messages)
_INSERT_DELIVERY = insert(deliveries)


def event_id(seq: int, k: int) -> int:
    """The id of the ``k``-th event of entry ``seq``: grows with the log, and a rebuild gives
    the same ids (the stream's Last-Event-ID stays valid)."""
    return seq * EVENTS_PER_ENTRY + k


def add_events(conn: Connection, rows: Sequence[EventRow]) -> None:
    if rows:
        conn.execute(
            _INSERT_EVENT,
            [
                {
                    "id": r.id,
                    "recipient": r.recipient,
                    "kind": r.kind,
                    "message_id": r.message_id,
                    "seq": r.seq,
                    "time_ms": r.time_ms,
                }
                for r in rows
            ],
        )


def add_message(conn: Connection, row: MessageRow, deliveries_: Sequence[DeliveryRow]) -> None:
    """A message and its deliveries, one statement each."""
    conn.execute(
        _INSERT_MESSAGE,
        {name: getattr(row, name) for name in _MESSAGE_COLUMNS},
    )
    if deliveries_:
        rows = [{name: getattr(d, name) for name in _DELIVERY_COLUMNS} for d in deliveries_]
        conn.execute(_INSERT_DELIVERY, rows)


def _set_delivery(conn: Connection, message_id: str, recipient: str, **values: Any) -> None:
    conn.execute(
        update(deliveries)
        .where(deliveries.c.message_id == message_id, deliveries.c.recipient == recipient)
        .values(**values)
    )


def set_acknowledged(conn: Connection, message_id: str, recipient: str, at_ms: int) -> None:
    _set_delivery(conn, message_id, recipient, acked_ms=at_ms)


def set_escalated(
    conn: Connection, message_id: str, recipient: str, priority: str, deadline_ms: int, escalations: int
) -> None:
    values = {"priority": priority, "deadline_ms": deadline_ms, "escalations": escalations}
    _set_delivery(conn, message_id, recipient, **values)


def stop_escalating(conn: Connection, message_id: str, recipient: str) -> None:
    _set_delivery(conn, message_id, recipient, escalate=False)
