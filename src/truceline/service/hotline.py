"""The hotline: messages from party to parties, with priorities, acknowledgement deadlines,
replies and threads.

Automatic messages (every conflict, every zone step) carry a template id and parameters and
are rendered in each reader's language; a duty officer's message is free text in its own
language and is never translated. Each recipient must acknowledge by a deadline that
depends on the priority; ``escalation`` deals with the ones that do not.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from truceline.domain.clock import ms_text, to_ms
from truceline.domain.ids import uuid7
from truceline.domain.message import Priority
from truceline.errors import ConflictError, NotFoundError, ValidationError
from truceline.ledger.entries import EntryDraft, EntryType
from truceline.service.auth import OPERATOR, Principal
from truceline.service.service import PartyRow, Service
from truceline.service.texts import free_body, render_text
from truceline.store import alerts as alert_store
from truceline.store import hotline as store
from truceline.store.alerts import AlertRow
from truceline.store.hotline import DeliveryRow, MessageRow

PRIORITIES: tuple[str, ...] = tuple(Priority)  # in rising order (domain/message.py)
MAX_TEXT_CHARS = 10_000


def check_priority(priority: str, field: str = "priority") -> Priority:
    return Priority.parse(priority, field)


@dataclass(frozen=True, slots=True)
class MessageDraft:
    """A ``message.sent`` draft and the id of the message it sends."""

    message_id: str
    draft: EntryDraft


def message_draft(
    now: datetime,
    *,
    sender: str | None,
    recipients: Iterable[str],
    priority: str,
    body: Mapping[str, Any],
    about: Mapping[str, Any] | None = None,
    thread_id: str | None = None,
    in_reply_to: str | None = None,
    author: str = OPERATOR,
    request: Mapping[str, Any] | None = None,
    escalate: bool = True,
    ack_within_s: int | None = None,
) -> MessageDraft:
    """A ``message.sent`` draft, with its message's id. Recipients are party ids.

    ``escalate=False`` is for what informs and asks nothing (a zone activated, an
    escalation notice): it has no acknowledgement deadline (``ack_within_s`` null) and
    never escalates, though a reader may still acknowledge it. ``ack_within_s``: a deadline
    of the sender's choosing (a humanitarian notification's ``acknowledge_within_s``) in
    place of the priority's."""
    message_id = uuid7(to_ms(now))
    payload: dict[str, Any] = {
        "message_id": message_id,
        "thread_id": thread_id or message_id,
        "in_reply_to": in_reply_to,
        "sender": sender,
        "recipients": sorted(set(recipients)),
        "priority": check_priority(priority).value,
        "ack_within_s": (ack_within_s or Priority(priority).ack_within_s) if escalate else None,
        "body": dict(body),
        "about": dict(about) if about is not None else None,
    }
    if not escalate:
        payload["escalate"] = False
    if request is not None:
        payload["request"] = dict(request)
    return MessageDraft(message_id, EntryDraft(EntryType.MESSAGE_SENT, author, payload))


def _recipient_ids(conn: Connection, names: list[str], sender: Principal) -> list[str]:
    by_name = Service.parties_by_name(conn)
    if not isinstance(names, list) or not names:
        raise ValidationError("must name at least one party", field="to")
    ids = []
    for i, name in enumerate(names):
        row = by_name.get(name)
        if row is None:
            raise ValidationError(f"no party named {name!r}", field=f"to[{i}]")
        if row.id == sender.id:
            raise ValidationError("a party does not write to itself", field=f"to[{i}]")
        ids.append(row.id)
    return ids


def _check_text(text: str, language: str) -> dict[str, Any]:
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationError(f"longer than {MAX_TEXT_CHARS} characters", field="text")
    return free_body(text, language)


def send(
    service: Service,
    principal: Principal,
    to: list[str],
    text: str,
    language: str,
    priority: str = "routine",
    request: Mapping[str, Any] | None = None,
) -> str:
    """A duty officer's message to parties (by name); returns its id."""
    body = _check_text(text, language)
    check_priority(priority)

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], str]:
        recipients = _recipient_ids(conn, to, principal)
        told = message_draft(
            now,
            sender=principal.id,
            recipients=recipients,
            priority=priority,
            body=body,
            author=principal.id,
            request=request,
        )
        return [told.draft], told.message_id

    return service.commit(build)


def _message_row(conn: Connection, message_id: str) -> MessageRow:
    row = store.message(conn, message_id)
    if row is None:
        raise NotFoundError(f"no message {message_id!r}", field="message_id")
    return row


def _visible(row: MessageRow, principal: Principal) -> bool:
    return row.sender == principal.id or principal.id in row.recipients


def reply(
    service: Service,
    principal: Principal,
    message_id: str,
    text: str,
    language: str,
    priority: str | None = None,
    request: Mapping[str, Any] | None = None,
) -> str:
    """Reply to a message the caller received (to its sender and the other recipients),
    in the same thread; returns the new message id."""
    body = _check_text(text, language)
    if priority is not None:
        check_priority(priority)

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], str]:
        original = _message_row(conn, message_id)
        if not _visible(original, principal):
            raise NotFoundError(f"no message {message_id!r}", field="message_id")
        everyone = set(original.recipients) | ({original.sender} if original.sender else set())
        recipients = everyone - {principal.id}
        if not recipients:
            raise ConflictError("nobody else to reply to", field="message_id")
        told = message_draft(
            now,
            sender=principal.id,
            recipients=recipients,
            priority=priority or original.priority,
            body=body,
            thread_id=original.thread_id,
            in_reply_to=original.id,
            author=principal.id,
            request=request,
        )
        return [told.draft], told.message_id

    return service.commit(build)


def acknowledge(
    service: Service, principal: Principal, message_id: str, request: Mapping[str, Any] | None = None
) -> None:
    """Acknowledge a message the caller received. A second acknowledgement is a ConflictError."""

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], None]:
        delivery = store.delivery(conn, message_id, principal.id)
        if delivery is None:
            raise NotFoundError(f"no message {message_id!r} addressed to you", field="message_id")
        if delivery.acked_ms is not None:
            raise ConflictError("already acknowledged", field="message_id")
        payload: dict[str, Any] = {"message_id": message_id, "party_id": principal.id}
        if request is not None:
            payload["request"] = dict(request)
        return [EntryDraft(EntryType.MESSAGE_ACKNOWLEDGED, principal.id, payload)], None

    service.commit(build)


def deadline_ms(delivery: DeliveryRow) -> int | None:
    """A delivery's acknowledgement deadline, or None for one that never had any: a message
    that only informs (``message_draft(escalate=False)``) does not escalate and has never
    escalated. A delivery that escalated to the end keeps its last, lapsed deadline."""
    if not delivery.escalate and delivery.escalations == 0:
        return None
    return int(delivery.deadline_ms)


@dataclass(frozen=True, slots=True)
class View:
    """How a message is shown to one reader."""

    principal: Principal
    language: str
    names: dict[str, PartyRow]

    def name(self, party_id: str | None) -> str | None:
        if party_id is None:
            return None
        found = self.names.get(party_id)
        return found.name if found else party_id


@dataclass(frozen=True, slots=True)
class DeliveryState:
    """A message's delivery to one recipient: its (possibly escalated) priority, deadline
    (RFC 3339; None: it only informs) and acknowledgement."""

    party: str | None
    priority: str
    deadline: str | None
    acknowledged_at: str | None
    escalations: int

    @classmethod
    def of(cls, delivery: DeliveryRow, view: View) -> DeliveryState:
        return cls(
            party=view.name(delivery.recipient),
            priority=delivery.priority,
            deadline=ms_text(deadline_ms(delivery)),
            acknowledged_at=ms_text(delivery.acked_ms),
            escalations=delivery.escalations,
        )


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message as one reader sees it, its text rendered in the reader's language.

    ``received``: the reader's own delivery, when the reader is a recipient (its priority
    is then the one shown); ``deliveries``: every recipient's, for the sender of a message
    read alone (``get_message``), else None.
    """

    id: str
    thread_id: str
    in_reply_to: str | None
    sender: str | None  # None: the register itself
    to: list[str | None]
    sent_at: str
    priority: str
    text: str
    language: str
    rtl: bool
    body: dict[str, Any]
    about: dict[str, Any] | None
    seq: int
    received: DeliveryState | None = None
    deliveries: list[DeliveryState] | None = None


def message_view(row: MessageRow, delivery: DeliveryRow | None, view: View) -> MessageView:
    """``row`` as ``view``'s reader sees it; ``delivery``: its delivery to that reader, if any."""
    text = render_text(row.body, view.language)
    received = None if delivery is None else DeliveryState.of(delivery, view)
    return MessageView(
        id=row.id,
        thread_id=row.thread_id,
        in_reply_to=row.in_reply_to,
        sender=view.name(row.sender),
        to=[view.name(r) for r in row.recipients],
        sent_at=ms_text(row.time_ms),
        priority=row.priority if received is None else received.priority,
        text=text.text,
        language=text.language,
        rtl=text.rtl,
        body=row.body,
        about=row.about,
        seq=row.seq,
        received=received,
    )


def _view(conn: Connection, principal: Principal, language: str) -> View:
    return View(principal, language, Service.parties_by_id(conn))


def inbox(
    service: Service, principal: Principal, language: str, pending_only: bool = False, limit: int = 100
) -> list[MessageView]:
    """Messages addressed to the caller, newest first (only unacknowledged ones if asked)."""
    with service.read() as conn:
        rows = store.inbox(conn, principal.id, pending_only, limit)
        view = _view(conn, principal, language)
        return [message_view(r.message, r.delivery, view) for r in rows]


def get_message(service: Service, principal: Principal, message_id: str, language: str) -> MessageView:
    with service.read() as conn:
        row = _message_row(conn, message_id)
        if not _visible(row, principal):
            raise NotFoundError(f"no message {message_id!r}", field="message_id")
        view = _view(conn, principal, language)
        found = message_view(row, store.delivery(conn, message_id, principal.id), view)
        if row.sender != principal.id:
            return found
        # The sender sees who has acknowledged.
        deliveries = [DeliveryState.of(d, view) for d in store.deliveries_of(conn, message_id)]
        return replace(found, deliveries=deliveries)


def thread(service: Service, principal: Principal, thread_id: str, language: str) -> list[MessageView]:
    """The messages of a thread that the caller sent or received, oldest first."""
    with service.read() as conn:
        rows = store.thread_messages(conn, thread_id)
        visible = [r for r in rows if _visible(r, principal)]
        if not visible:
            raise NotFoundError(f"no thread {thread_id!r}", field="thread_id")
        view = _view(conn, principal, language)
        own = store.deliveries_to(conn, principal.id, [r.id for r in visible])
        return [message_view(r, own.get(r.id), view) for r in visible]


EVENT_BATCH = 200  # events per read of the live stream


@dataclass(frozen=True, slots=True)
class AlertView:
    """A live alert as the stream shows it (``conflict.opened`` and the like): what it is
    about, whom it told, and the latest detection with the states that caused it."""

    id: str
    kind: str  # conflict | incursion | nonconformance
    state: str  # open | closed
    subject: list[str]
    parties: list[str | None]  # names
    opened_at: str
    updated_at: str
    closed_at: str | None
    latest: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LiveEvent:
    """One event of a reader's live feed: ``message`` is the message it is about as that
    reader sees it, None if the message is not stored; ``alert`` the live alert of an alert
    event (``<kind>.opened|updated|closed``), as it stands now."""

    id: int
    kind: str  # message | escalated | acknowledged | conflict.opened | incursion.closed | ...
    seq: int
    message: MessageView | None
    alert: AlertView | None = None


def pending_events(service: Service, principal: Principal, after_id: int, language: str) -> list[LiveEvent]:
    """The caller's live events after ``after_id``, oldest first, at most EVENT_BATCH."""
    with service.read() as conn:
        rows = store.events_after(conn, principal.id, after_id, EVENT_BATCH)
        if not rows:
            return []
        ids = sorted({r.message_id for r in rows})
        by_id = store.messages_by_id(conn, ids)
        own = store.deliveries_to(conn, principal.id, ids)
        view = _view(conn, principal, language)
        found = {m: message_view(row, own.get(m), view) for m, row in by_id.items()}
        about = alert_store.alerts_by_message(conn, sorted({r.message_id for r in rows if "." in r.kind}))
        shown = {m: _alert_view(a, view) for m, a in about.items()}
        return [
            LiveEvent(r.id, r.kind, r.seq, found.get(r.message_id), shown.get(r.message_id) if "." in r.kind
                      else None)
            for r in rows
        ]


def _alert_view(row: AlertRow, view: View) -> AlertView:
    return AlertView(
        id=row.id,
        kind=row.kind,
        state=row.state,
        subject=list(row.subject),
        parties=[view.name(p) for p in row.parties],
        opened_at=ms_text(row.opened_ms),
        updated_at=ms_text(row.updated_ms),
        closed_at=ms_text(row.closed_ms),
        latest=row.latest,
    )
