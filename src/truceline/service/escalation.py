"""Deadlines: escalate unacknowledged messages, and expire zones whose time has passed.

``tick(service, now)`` is driven by the injected clock: the server calls it every second in
a background task, tests call it with a fake clock. A message a recipient has not
acknowledged by its deadline escalates: the delivery is re-sent to that recipient at the
next priority (with a new deadline), and the sender and every guarantor are told, all in
the ledger (``message.escalated`` and a ``message.escalated`` template message). When the
deadline of the last of ``MAX_ESCALATIONS`` escalations lapses too, the sender and the
guarantors are told once that the message was never acknowledged
(``message.unacknowledged``, entry and template); its projection stops the delivery from
being due again, so neither a later tick nor a restarted server repeats it.

The figure of minutes overdue counts from the first deadline the recipient missed (the
message's own): each escalation sets a new deadline, and counting from that one would say
"0 minutes" at every step of a tick that runs every second.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, select

from truceline.domain.party import Role
from truceline.ledger.entries import EntryDraft, time_ms
from truceline.service.auth import OPERATOR
from truceline.service.hotline import ACK_WITHIN_S, PRIORITIES, message_draft
from truceline.service.projection import MESSAGE_ESCALATED, MESSAGE_UNACKNOWLEDGED, ZONE_EXPIRED
from truceline.service.service import PartyRow, Service
from truceline.service.texts import template_body
from truceline.store.schema import deliveries, messages, zone_negotiations

MAX_ESCALATIONS = 3
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EXPIRING_STATES = ("proposed", "active", "rejected")
_INFORMED_ROLES = ("party", "guarantor", "humanitarian", "observer")


@dataclass
class TickResult:
    escalated: list[tuple[str, str]] = field(default_factory=list)  # (message id, recipient id)
    expired: list[str] = field(default_factory=list)  # zone ids
    # (message id, recipient id): the last escalation lapsed too; sender and guarantors told
    unacknowledged: list[tuple[str, str]] = field(default_factory=list)


def next_priority(priority: str) -> str:
    return PRIORITIES[min(PRIORITIES.index(priority) + 1, len(PRIORITIES) - 1)]


def overdue_minutes(at_ms: int, deadline_ms: int) -> int:
    """Whole minutes from ``deadline_ms`` to ``at_ms`` (0 before the deadline)."""
    return max(0, (at_ms - deadline_ms) // 60_000)


def _first_deadline_ms(row: object) -> int:
    """The message's own deadline, the first one its recipient missed (the delivery's
    deadline moves with each escalation)."""
    return row.sent_ms + ACK_WITHIN_S[row.sent_priority] * 1000  # type: ignore[attr-defined,no-any-return]


def _due(conn: Connection, at_ms: int) -> list[tuple[object, object]]:
    """Deliveries whose deadline lapsed: to escalate (fewer than MAX_ESCALATIONS so far), or
    to declare unacknowledged (the last escalation's deadline lapsed too)."""
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
            deliveries.c.escalations <= MAX_ESCALATIONS,
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
            recipient = row.recipient  # type: ignore[attr-defined]
            sender = row.sender  # type: ignore[attr-defined]
            notified = sorted((guarantors | ({sender} if sender else set())) - {recipient})
            if row.escalations >= MAX_ESCALATIONS:  # type: ignore[attr-defined]
                drafts += _unacknowledged(row, parties, notified, at_ms, entry_now)
                result.unacknowledged.append((row.message_id, recipient))  # type: ignore[attr-defined]
                continue
            priority = next_priority(row.priority)  # type: ignore[attr-defined]
            escalations = row.escalations + 1  # type: ignore[attr-defined]
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
                first = _first_deadline_ms(row)
                late = parties.get(recipient)
                body = template_body(
                    "message.escalated",
                    message=row.message_id,  # type: ignore[attr-defined]
                    party=late.name if late else recipient,
                    deadline=_EPOCH + timedelta(milliseconds=first),
                    overdue_min=overdue_minutes(at_ms, first),
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
                        escalate=False,  # informs; asks nothing
                    )[1]
                )
            result.expired.append(zone.zone_id)
        return drafts, result

    return service.commit(build)[1]


def _unacknowledged(
    row: Any, parties: Mapping[str, PartyRow], notified: list[str], at_ms: int, now: datetime
) -> list[EntryDraft]:
    """The entry that ends a delivery's escalation, and the one notice to ``notified``."""
    drafts = [
        EntryDraft(
            MESSAGE_UNACKNOWLEDGED,
            OPERATOR,
            {
                "message_id": row.message_id,
                "recipient": row.recipient,
                "notified": notified,
                "deadline_ms": row.deadline_ms,
            },
        )
    ]
    if notified:
        first = _first_deadline_ms(row)
        late = parties.get(row.recipient)
        body = template_body(
            "message.unacknowledged",
            message=row.message_id,
            party=late.name if late else row.recipient,
            deadline=_EPOCH + timedelta(milliseconds=first),
            overdue_min=overdue_minutes(at_ms, first),
        )
        drafts.append(
            message_draft(
                now,
                sender=None,
                recipients=notified,
                priority="urgent",
                body=body,
                about={"kind": "message", "id": row.message_id},
                thread_id=row.thread_id,
                in_reply_to=row.message_id,
                escalate=False,  # the last word on it: nothing follows
            )[1]
        )
    return drafts


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
