"""Deadlines: escalate unacknowledged messages, and expire zones whose time has passed.

``tick(service, now)`` is driven by the injected clock: the server calls it every second in
a background task, tests call it with a fake clock. A message a recipient has not
acknowledged by its deadline escalates: the delivery is re-sent to that recipient at the
next priority (with a new deadline), and the sender and every guarantor are told, all in
the ledger (``message.escalated`` and a ``message.escalated`` template message). After
``MAX_ESCALATIONS`` a delivery is left to the people who were told.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection, select

from truceline.domain.party import Role
from truceline.ledger.entries import EntryDraft, time_ms
from truceline.service.auth import OPERATOR
from truceline.service.hotline import ACK_WITHIN_S, PRIORITIES, message_draft
from truceline.service.projection import MESSAGE_ESCALATED, ZONE_EXPIRED
from truceline.service.service import Service
from truceline.service.texts import template_body
from truceline.store.service_tables import deliveries, messages, zone_negotiations

MAX_ESCALATIONS = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXPIRING_STATES = ("proposed", "active", "rejected")
_INFORMED_ROLES = ("party", "guarantor", "humanitarian", "observer")


@dataclass
class TickResult:
    escalated: list[tuple[str, str]] = field(default_factory=list)  # (message id, recipient id)
    expired: list[str] = field(default_factory=list)  # zone ids


def next_priority(priority: str) -> str:
    return PRIORITIES[min(PRIORITIES.index(priority) + 1, len(PRIORITIES) - 1)]


def _due(conn: Connection, at_ms: int) -> list[tuple[object, object]]:
    rows = conn.execute(
        select(deliveries, messages.c.sender, messages.c.thread_id)
        .select_from(deliveries.join(messages, messages.c.id == deliveries.c.message_id))
        .where(
            deliveries.c.acked_ms.is_(None),
            deliveries.c.escalate.is_(True),
            deliveries.c.deadline_ms <= at_ms,
            deliveries.c.escalations < MAX_ESCALATIONS,
        )
        .order_by(deliveries.c.deadline_ms, deliveries.c.message_id, deliveries.c.recipient)
        .limit(500)  # a bounded batch per tick; the next tick takes the rest
    ).all()
    return rows  # type: ignore[return-value]


def tick(service: Service, now: datetime) -> TickResult:
    """Escalate every delivery overdue at ``now`` and expire every zone ended by ``now``,
    in one ledger batch. Cheap when nothing is due (two indexed queries, no write)."""
    at_ms = time_ms(now)
    with service.read() as conn:
        nothing_due = not _due(conn, at_ms) and not _expiring(conn, at_ms)
    if nothing_due:
        return TickResult()

    def build(conn: Connection, entry_now: datetime) -> tuple[list[EntryDraft], TickResult]:
        result = TickResult()
        drafts: list[EntryDraft] = []
        parties = Service.parties_by_id(conn)
        guarantors = {p.id for p in parties.values() if p.role is Role.GUARANTOR}
        for row in _due(conn, at_ms):
            priority = next_priority(row.priority)  # type: ignore[attr-defined]
            escalations = row.escalations + 1  # type: ignore[attr-defined]
            recipient = row.recipient  # type: ignore[attr-defined]
            sender = row.sender  # type: ignore[attr-defined]
            notified = sorted((guarantors | ({sender} if sender else set())) - {recipient})
            drafts.append(
                EntryDraft(
                    MESSAGE_ESCALATED,
                    OPERATOR,
                    {
                        "message_id": row.message_id,  # type: ignore[attr-defined]
                        "recipient": recipient,
                        "escalations": escalations,
                        "priority": priority,
                        "ack_within_s": ACK_WITHIN_S[priority],
                        "notified": notified,
                        "deadline_ms": row.deadline_ms,  # type: ignore[attr-defined]
                    },
                )
            )
            if notified:
                deadline = _EPOCH + timedelta(milliseconds=row.deadline_ms)  # type: ignore[attr-defined]
                overdue_min = max(0, (at_ms - row.deadline_ms) // 60_000)  # type: ignore[attr-defined]
                late = parties.get(recipient)
                body = template_body(
                    "message.escalated",
                    message=row.message_id,  # type: ignore[attr-defined]
                    party=late.name if late else recipient,
                    deadline=deadline,
                    overdue_min=int(overdue_min),
                )
                drafts.append(
                    message_draft(
                        entry_now,
                        sender=None,
                        recipients=notified,
                        priority=priority,
                        body=body,
                        about={"kind": "message", "id": row.message_id},  # type: ignore[attr-defined]
                        thread_id=row.thread_id,  # type: ignore[attr-defined]
                        in_reply_to=row.message_id,  # type: ignore[attr-defined]
                        escalate=False,  # an escalation notice does not escalate in turn
                    )[1]
                )
            result.escalated.append((row.message_id, recipient))  # type: ignore[attr-defined]
        informed = [p.id for p in parties.values() if p.role.value in _INFORMED_ROLES]
        for zone in _expiring(conn, at_ms):
            drafts.append(EntryDraft(ZONE_EXPIRED, OPERATOR, {"zone_id": zone.zone_id}))
            told = set(informed) | {p.id for p in parties.values() if p.name in zone.required}
            if told:
                body = template_body(
                    "zone.expired",
                    zone=zone.zone_id,
                    zone_name=zone.name or zone.zone_id,
                    end=_EPOCH + timedelta(milliseconds=zone.ends_ms),
                )
                drafts.append(
                    message_draft(
                        entry_now,
                        sender=None,
                        recipients=told,
                        priority="routine",
                        body=body,
                        about={"kind": "zone", "id": zone.zone_id},
                    )[1]
                )
            result.expired.append(zone.zone_id)
        return drafts, result

    return service.commit(build)[1]


def _expiring(conn: Connection, at_ms: int) -> list[object]:
    return conn.execute(
        select(zone_negotiations)
        .where(
            zone_negotiations.c.state.in_(_EXPIRING_STATES),
            zone_negotiations.c.ends_ms.is_not(None),
            zone_negotiations.c.ends_ms <= at_ms,
        )
        .order_by(zone_negotiations.c.zone_id)
    ).all()  # type: ignore[return-value]
