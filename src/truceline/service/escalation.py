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
from datetime import datetime

from sqlalchemy import Connection

from truceline.domain.clock import from_ms, to_ms
from truceline.domain.message import Priority
from truceline.domain.party import INFORMED_ROLES, Role
from truceline.domain.zone import ZoneState
from truceline.ledger.entries import EntryDraft, EntryType
from truceline.service.auth import OPERATOR
from truceline.service.hotline import message_draft
from truceline.service.service import PartyRow, Service
from truceline.service.texts import template_body
from truceline.store import hotline as hotline_store
from truceline.store import zones as zone_store
from truceline.store.hotline import DueRow
from truceline.store.zones import NegotiationRow

MAX_ESCALATIONS = 3
_EXPIRING_STATES = (ZoneState.PROPOSED, ZoneState.ACTIVE, ZoneState.REJECTED)


@dataclass
class TickResult:
    escalated: list[tuple[str, str]] = field(default_factory=list)  # (message id, recipient id)
    expired: list[str] = field(default_factory=list)  # zone ids
    # (message id, recipient id): the last escalation lapsed too; sender and guarantors told
    unacknowledged: list[tuple[str, str]] = field(default_factory=list)


def next_priority(priority: str) -> str:
    return Priority(priority).escalated.value


def overdue_minutes(at_ms: int, deadline_ms: int) -> int:
    """Whole minutes from ``deadline_ms`` to ``at_ms`` (0 before the deadline)."""
    return max(0, (at_ms - deadline_ms) // 60_000)


def _first_deadline_ms(row: DueRow) -> int:
    """The message's own deadline, the first one its recipient missed (the delivery's
    deadline moves with each escalation). Before the first escalation it is the delivery's
    own, which a sender may have chosen (a notification's ``acknowledge_within_s``)."""
    if row.delivery.escalations == 0:
        return int(row.delivery.deadline_ms)
    return row.sent_ms + Priority(row.sent_priority).ack_within_s * 1000


def _due(conn: Connection, at_ms: int) -> list[DueRow]:
    """Deliveries whose deadline lapsed: to escalate (fewer than MAX_ESCALATIONS so far), or
    to declare unacknowledged (the last escalation's deadline lapsed too). A bounded batch
    per tick; the next tick takes the rest."""
    return hotline_store.due(conn, at_ms, MAX_ESCALATIONS, limit=500)


def tick(service: Service, now: datetime) -> TickResult:
    """Escalate every delivery overdue at ``now`` and expire every zone ended by ``now``,
    in one ledger batch. Cheap when nothing is due (two indexed queries, no write)."""
    at_ms = to_ms(now)
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
            recipient = row.delivery.recipient
            sender = row.sender
            notified = sorted((guarantors | ({sender} if sender else set())) - {recipient})
            if row.delivery.escalations >= MAX_ESCALATIONS:
                drafts += _unacknowledged(row, parties, notified, at_ms, entry_now)
                result.unacknowledged.append((row.delivery.message_id, recipient))
                continue
            priority = next_priority(row.delivery.priority)
            escalations = row.delivery.escalations + 1
            drafts.append(
                EntryDraft(
                    EntryType.MESSAGE_ESCALATED,
                    OPERATOR,
                    {
                        "message_id": row.delivery.message_id,
                        "recipient": recipient,
                        "escalations": escalations,
                        "priority": priority,
                        "ack_within_s": Priority(priority).ack_within_s,
                        "notified": notified,
                        "deadline_ms": row.delivery.deadline_ms,
                    },
                )
            )
            if notified:
                first = _first_deadline_ms(row)
                late = parties.get(recipient)
                body = template_body(
                    "message.escalated",
                    message=row.delivery.message_id,
                    party=late.name if late else recipient,
                    deadline=from_ms(first),
                    overdue_min=overdue_minutes(at_ms, first),
                )
                drafts.append(
                    message_draft(
                        entry_now,
                        sender=None,
                        recipients=notified,
                        priority=priority,
                        body=body,
                        about={"kind": "message", "id": row.delivery.message_id},
                        thread_id=row.thread_id,
                        in_reply_to=row.delivery.message_id,
                        escalate=False,  # an escalation notice does not escalate in turn
                    ).draft
                )
            result.escalated.append((row.delivery.message_id, recipient))
        informed = [p.id for p in parties.values() if p.role in INFORMED_ROLES]
        for zone in _expiring(conn, at_ms):
            drafts.append(EntryDraft(EntryType.ZONE_EXPIRED, OPERATOR, {"zone_id": zone.zone_id}))
            told = set(informed) | {p.id for p in parties.values() if p.name in zone.required}
            if told:
                body = template_body(
                    "zone.expired",
                    zone=zone.zone_id,
                    zone_name=zone.name or zone.zone_id,
                    end=from_ms(zone.ends_ms),
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
                    ).draft
                )
            result.expired.append(zone.zone_id)
        return drafts, result

    return service.commit(build)


def _unacknowledged(
    row: DueRow, parties: Mapping[str, PartyRow], notified: list[str], at_ms: int, now: datetime
) -> list[EntryDraft]:
    """The entry that ends a delivery's escalation, and the one notice to ``notified``."""
    drafts = [
        EntryDraft(
            EntryType.MESSAGE_UNACKNOWLEDGED,
            OPERATOR,
            {
                "message_id": row.delivery.message_id,
                "recipient": row.delivery.recipient,
                "notified": notified,
                "deadline_ms": row.delivery.deadline_ms,
            },
        )
    ]
    if notified:
        first = _first_deadline_ms(row)
        late = parties.get(row.delivery.recipient)
        body = template_body(
            "message.unacknowledged",
            message=row.delivery.message_id,
            party=late.name if late else row.delivery.recipient,
            deadline=from_ms(first),
            overdue_min=overdue_minutes(at_ms, first),
        )
        drafts.append(
            message_draft(
                now,
                sender=None,
                recipients=notified,
                priority="urgent",
                body=body,
                about={"kind": "message", "id": row.delivery.message_id},
                thread_id=row.thread_id,
                in_reply_to=row.delivery.message_id,
                escalate=False,  # the last word on it: nothing follows
            ).draft
        )
    return drafts


def _expiring(conn: Connection, at_ms: int) -> list[NegotiationRow]:
    return zone_store.expiring(conn, _EXPIRING_STATES, at_ms)
