"""Humanitarian notifications' rows: each notification, its versions, the parties' responses.

Reads return frozen dataclasses. Writers are the projector's
(``truceline.service.projection``) and run inside the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, insert, or_, select, update

from truceline.store.schema import notification_responses, notification_versions, notifications


@dataclass(frozen=True, slots=True)
class NotificationRow:
    id: str
    kind: str
    notifier: str  # party id
    name: str
    organisation: str
    on_conflict: str
    current_version: int
    current_hash: str
    recipients: list[str]  # party ids
    message_id: str
    start_ms: int
    end_ms: int | None
    seq: int


@dataclass(frozen=True, slots=True)
class VersionRow:
    notification_id: str
    version: int
    hash: str  # hex SHA-256 leaf hash of the entry that notified this version
    record: dict[str, Any]
    seq: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class ResponseRow:
    seq: int
    notification_id: str
    party_id: str
    state: str  # acknowledged | disputed
    version: int
    hash: str
    reason: str | None
    time_ms: int


_NOTIFICATION_COLUMNS = tuple(c.name for c in notifications.columns)
_VERSION_COLUMNS = tuple(c.name for c in notification_versions.columns)
_RESPONSE_COLUMNS = tuple(c.name for c in notification_responses.columns)


def _notification(row: Row[Any]) -> NotificationRow:
    return NotificationRow(**{n: row._mapping[n] for n in _NOTIFICATION_COLUMNS})


def _version(row: Row[Any]) -> VersionRow:
    return VersionRow(**{n: row._mapping[n] for n in _VERSION_COLUMNS})


def _response(row: Row[Any]) -> ResponseRow:
    return ResponseRow(**{n: row._mapping[n] for n in _RESPONSE_COLUMNS})


# --- reads ------------------------------------------------------------------------------


def notification(conn: Connection, notification_id: str) -> NotificationRow | None:
    row = conn.execute(select(notifications).where(notifications.c.id == notification_id)).first()
    return None if row is None else _notification(row)


def all_notifications(conn: Connection) -> list[NotificationRow]:
    """Every notification, oldest first."""
    return [_notification(r) for r in conn.execute(select(notifications).order_by(notifications.c.seq))]


def overlapping(conn: Connection, start_ms: int, end_ms: int | None) -> list[NotificationRow]:
    """The notifications whose volumes may be in force during ``[start_ms, end_ms)``
    (``end_ms`` None: open), oldest first."""
    still = or_(notifications.c.end_ms.is_(None), notifications.c.end_ms > start_ms)
    query = select(notifications).where(still)
    if end_ms is not None:
        query = query.where(notifications.c.start_ms < end_ms)
    return [_notification(r) for r in conn.execute(query.order_by(notifications.c.seq))]


def versions(conn: Connection, notification_ids: Sequence[str] | None = None) -> list[VersionRow]:
    """The versions of the notifications (all when None), in log order."""
    query = select(notification_versions).order_by(notification_versions.c.seq)
    if notification_ids is not None:
        query = query.where(notification_versions.c.notification_id.in_(list(notification_ids)))
    return [_version(r) for r in conn.execute(query)]


def current_version(conn: Connection, notification_id: str) -> VersionRow | None:
    row = conn.execute(
        select(notification_versions)
        .where(notification_versions.c.notification_id == notification_id)
        .order_by(notification_versions.c.version.desc())
        .limit(1)
    ).first()
    return None if row is None else _version(row)


def responses(conn: Connection, notification_ids: Sequence[str] | None = None) -> list[ResponseRow]:
    """The parties' responses to the notifications (all when None), in log order."""
    query = select(notification_responses).order_by(notification_responses.c.seq)
    if notification_ids is not None:
        query = query.where(notification_responses.c.notification_id.in_(list(notification_ids)))
    return [_response(r) for r in conn.execute(query)]


# --- the projector's writes -------------------------------------------------------------


def add_notification(conn: Connection, row: NotificationRow, version: VersionRow) -> None:
    conn.execute(insert(notifications), {n: getattr(row, n) for n in _NOTIFICATION_COLUMNS})
    add_version(conn, version)


def add_version(conn: Connection, row: VersionRow) -> None:
    conn.execute(insert(notification_versions), {n: getattr(row, n) for n in _VERSION_COLUMNS})


def set_current(conn: Connection, notification_id: str, **values: Any) -> None:
    conn.execute(update(notifications).where(notifications.c.id == notification_id).values(**values))


def add_response(conn: Connection, row: ResponseRow) -> None:
    conn.execute(insert(notification_responses), {n: getattr(row, n) for n in _RESPONSE_COLUMNS})
