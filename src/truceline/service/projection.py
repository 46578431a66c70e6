"""The service's entry types and the projection rows each one causes.

``project(conn, entry)`` is a pure function of the entry (and of rows earlier entries
wrote): no clock, no randomness, no database counters. ``Register.rebuild`` replays the
log through it, so the tables it writes come back identical.

Payloads (the contract of the log; docs/api.md lists them):

- ``party.registered``: ``party_id``, ``name``, ``role``, ``language``, ``token_hash``,
  optional ``request_key`` (base64 raw Ed25519 key that signs the party's HTTP requests).
- ``party.revoked``: ``party_id``, optional ``reason``: its token admits no one any more.
- ``party.token_rotated``: ``party_id``, ``token_hash`` (the new token's SHA-256); the
  old token admits no one any more.
- ``zone.proposed`` / ``zone.counter_proposed``: ``zone_id``, ``version``, ``hash``,
  ``zone`` (the zone record), ``party_id``; proposals add ``required`` (party names).
- ``zone.signed``: ``zone_id``, ``version``, ``hash``, ``party_id``.
- ``zone.rejected``: the same and ``reason``.
- ``zone.activated``: ``zone_id``, ``version``, ``hash``, ``zone``, ``signatories`` (the
  names that signed the version: whom it binds; docs/zones.md).
- ``zone.withdrawn`` (``party_id``) / ``zone.expired``: ``zone_id``.
- ``operation.filed`` / ``operation.updated``: ``operation`` (record), ``version``,
  ``conflicts``; ``operation.refused``: the same and ``update`` (bool). An operator's
  import writes them with author ``operator`` (``operation.filed`` of an import logged
  before imports were checked carries ``operation`` only);
  ``operation.cancelled``: ``operation_id``, ``party``, ``version``.
- ``message.sent``: ``message_id``, ``thread_id``, ``in_reply_to``, ``sender`` (party id or
  null), ``recipients`` (party ids), ``priority``, ``ack_within_s``, ``body``, ``about``,
  optional ``escalate`` (false for what only informs: escalation notices, zone activated,
  withdrawn or expired; such a message has ``ack_within_s`` null, no deadline, and is
  acknowledged, never escalated).
- ``message.acknowledged``: ``message_id``, ``party_id``.
- ``message.escalated``: ``message_id``, ``recipient``, ``escalations``, ``priority``,
  ``ack_within_s``, ``notified`` (party ids told in the escalation message).
- ``message.unacknowledged``: ``message_id``, ``recipient``, ``notified`` (party ids told),
  ``deadline_ms`` (the last deadline, lapsed): after the last escalation the recipient
  still has not acknowledged; the delivery escalates no more.

Any of these may also carry ``request``: the party's own signed HTTP request (RFC 9421),
kept for non-repudiation: ``{"method", "path", "query", "body", "content_digest",
"signature_input", "signature"}`` as received (``truceline.service.request_signatures``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, or_, select, update

from truceline.domain.codec import operation_from_record, zone_from_record
from truceline.ledger.entries import Entry
from truceline.store import projections
from truceline.store.schema import (
    EVENTS_PER_ENTRY,
    conflicts,
    deliveries,
    events,
    messages,
    operation_history,
    operations,
    parties,
    party_request_keys,
    party_revocations,
    retired_tokens,
    zone_negotiations,
    zone_signatures,
    zone_steps,
    zone_versions,
)

PARTY_REGISTERED = "party.registered"
PARTY_REVOKED = "party.revoked"
PARTY_TOKEN_ROTATED = "party.token_rotated"
ZONE_PROPOSED = "zone.proposed"
ZONE_COUNTER_PROPOSED = "zone.counter_proposed"
ZONE_SIGNED = "zone.signed"
ZONE_REJECTED = "zone.rejected"
ZONE_ACTIVATED = "zone.activated"
ZONE_WITHDRAWN = "zone.withdrawn"
ZONE_EXPIRED = "zone.expired"
OPERATION_FILED = "operation.filed"
OPERATION_UPDATED = "operation.updated"
OPERATION_REFUSED = "operation.refused"
OPERATION_CANCELLED = "operation.cancelled"
MESSAGE_SENT = "message.sent"
MESSAGE_ACKNOWLEDGED = "message.acknowledged"
MESSAGE_ESCALATED = "message.escalated"
MESSAGE_UNACKNOWLEDGED = "message.unacknowledged"


def ends_ms(zone_record: dict[str, Any]) -> int | None:
    """Milliseconds since the epoch when the last volume of a zone record ends (None: open)."""
    ends = []
    for volume in zone_from_record(zone_record).volumes:
        if volume.time.end is None:
            return None
        ends.append(int(volume.time.end.timestamp() * 1000))
    return max(ends)


# Inserts built once (building ``insert(...).values(...)`` costs more than running it).
_INSERT_EVENT = insert(events)
_INSERT_HISTORY = insert(operation_history)
_INSERT_MESSAGE = insert(messages)
_INSERT_DELIVERY = insert(deliveries)
_DROP_CONFLICTS = delete(conflicts).where(
    or_(conflicts.c.a == bindparam("operation_id"), conflicts.c.b == bindparam("operation_id"))
)


def _event_row(entry: Entry, k: int, recipient: str, kind: str, message_id: str) -> dict[str, Any]:
    return {
        "id": entry.seq * EVENTS_PER_ENTRY + k,
        "recipient": recipient,
        "kind": kind,
        "message_id": message_id,
        "seq": entry.seq,
        "time_ms": entry.time_ms,
    }


def _add_event(conn: Connection, entry: Entry, k: int, recipient: str, kind: str, message_id: str) -> None:
    conn.execute(_INSERT_EVENT, _event_row(entry, k, recipient, kind, message_id))


def _step(conn: Connection, entry: Entry, step: str, reason: str | None = None) -> None:
    p = entry.payload
    conn.execute(
        insert(zone_steps).values(
            seq=entry.seq,
            zone_id=p["zone_id"],
            step=step,
            party_id=p.get("party_id"),
            version=p.get("version"),
            reason=reason,
            time_ms=entry.time_ms,
        )
    )


def _set_zone(conn: Connection, zone_id: str, entry: Entry, **values: Any) -> None:
    conn.execute(
        update(zone_negotiations)
        .where(zone_negotiations.c.zone_id == zone_id)
        .values(seq=entry.seq, **values)
    )


def _history(conn: Connection, entry: Entry, step: str, operation_id: str, party: str, version: int) -> None:
    p = entry.payload
    conn.execute(
        _INSERT_HISTORY,
        {
            "seq": entry.seq,
            "operation_id": operation_id,
            "step": step,
            "version": version,
            "party": party,
            "record": p.get("operation"),
            "conflicts": p.get("conflicts", []),
            "time_ms": entry.time_ms,
        },
    )


def _drop_conflicts_of(conn: Connection, operation_id: str) -> None:
    conn.execute(_DROP_CONFLICTS, {"operation_id": operation_id})


def project(conn: Connection, entry: Entry) -> None:
    """Write the service projection rows ``entry`` causes (the register's own rows for
    parties, zones, operations and conflicts are written by ``register.project``)."""
    p = entry.payload
    t = entry.type
    if t == PARTY_REGISTERED:
        if p.get("request_key"):
            conn.execute(
                insert(party_request_keys).values(party_id=p["party_id"], request_key=p["request_key"])
            )
    elif t == PARTY_REVOKED:
        conn.execute(
            insert(party_revocations).values(
                party_id=p["party_id"], reason=p.get("reason"), seq=entry.seq, time_ms=entry.time_ms
            )
        )
        _retire_token(conn, entry, p["party_id"], "revoked", None)
    elif t == PARTY_TOKEN_ROTATED:
        _retire_token(conn, entry, p["party_id"], "rotated", p["token_hash"])
    elif t == ZONE_PROPOSED:
        record = p["zone"]
        conn.execute(
            insert(zone_negotiations).values(
                zone_id=p["zone_id"],
                kind=record["kind"],
                name=record.get("name", ""),
                proposer=p["party_id"],
                proposer_name=record.get("party") or "",
                required=sorted(p["required"]),
                state="proposed",
                current_version=p["version"],
                active_version=None,
                ends_ms=ends_ms(record),
                seq=entry.seq,
            )
        )
        _version(conn, entry)
        _step(conn, entry, "proposed")
    elif t == ZONE_COUNTER_PROPOSED:
        _version(conn, entry)
        state = conn.execute(
            select(zone_negotiations.c.state).where(zone_negotiations.c.zone_id == p["zone_id"])
        ).scalar_one()
        values: dict[str, Any] = {"current_version": p["version"]}
        if state != "active":
            # While a version is in force it stays so until every signatory signs the new one.
            values.update(state="proposed", ends_ms=ends_ms(p["zone"]), name=p["zone"].get("name", ""))
        _set_zone(conn, p["zone_id"], entry, **values)
        _step(conn, entry, "counter_proposed")
    elif t == ZONE_SIGNED:
        conn.execute(
            insert(zone_signatures).values(
                zone_id=p["zone_id"], version=p["version"], party_id=p["party_id"], seq=entry.seq
            )
        )
        _step(conn, entry, "signed")
    elif t == ZONE_REJECTED:
        state = conn.execute(
            select(zone_negotiations.c.state).where(zone_negotiations.c.zone_id == p["zone_id"])
        ).scalar_one()
        if state != "active":
            _set_zone(conn, p["zone_id"], entry, state="rejected")
        _step(conn, entry, "rejected", p["reason"])
    elif t == ZONE_ACTIVATED:
        zone = zone_from_record(p["zone"])
        projections.save_zone(conn, zone, state="active")
        _set_zone(
            conn,
            p["zone_id"],
            entry,
            state="active",
            active_version=p["version"],
            ends_ms=ends_ms(p["zone"]),
            name=zone.name,
        )
        _step(conn, entry, "activated")
    elif t in (ZONE_WITHDRAWN, ZONE_EXPIRED):
        # The zones table holds the zones in force: a withdrawn or expired one leaves it.
        projections.delete_zone(conn, p["zone_id"])
        _set_zone(conn, p["zone_id"], entry, state="withdrawn" if t == ZONE_WITHDRAWN else "expired")
        _step(conn, entry, t.split(".")[1])
    elif t == OPERATION_FILED:
        # register.project saved the operation and ``conflict.detected`` entries its conflicts.
        record = p["operation"]
        _history(conn, entry, "filed", record["id"], record["party"], p.get("version", 1))
    elif t == OPERATION_UPDATED:
        record = p["operation"]
        _drop_conflicts_of(conn, record["id"])
        projections.save_operation(conn, operation_from_record(record))
        _history(conn, entry, "updated", record["id"], record["party"], p["version"])
    elif t == OPERATION_REFUSED:
        record = p["operation"]
        _history(conn, entry, "refused", record["id"], record["party"], p["version"])
    elif t == OPERATION_CANCELLED:
        _drop_conflicts_of(conn, p["operation_id"])
        conn.execute(update(operations).where(operations.c.id == p["operation_id"]).values(state="cancelled"))
        _history(conn, entry, "cancelled", p["operation_id"], p["party"], p["version"])
    elif t == MESSAGE_SENT:
        _message(conn, entry)
    elif t == MESSAGE_ACKNOWLEDGED:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.message_id == p["message_id"], deliveries.c.recipient == p["party_id"])
            .values(acked_ms=entry.time_ms)
        )
        sender = conn.execute(select(messages.c.sender).where(messages.c.id == p["message_id"])).scalar()
        if sender is not None and sender != p["party_id"]:
            _add_event(conn, entry, 0, sender, "acknowledged", p["message_id"])
    elif t == MESSAGE_ESCALATED:
        conn.execute(
            update(deliveries)
            .where(deliveries.c.message_id == p["message_id"], deliveries.c.recipient == p["recipient"])
            .values(
                priority=p["priority"],
                deadline_ms=entry.time_ms + p["ack_within_s"] * 1000,
                escalations=p["escalations"],
            )
        )
        # Re-sent to the late recipient, at its new priority.
        _add_event(conn, entry, 0, p["recipient"], "escalated", p["message_id"])
    elif t == MESSAGE_UNACKNOWLEDGED:
        # The people told were told once: this delivery is due for nothing more (the
        # ledger, not a process's memory, is what keeps a restarted server from repeating it).
        conn.execute(
            update(deliveries)
            .where(deliveries.c.message_id == p["message_id"], deliveries.c.recipient == p["recipient"])
            .values(escalate=False)
        )


def _retire_token(conn: Connection, entry: Entry, party_id: str, reason: str, new_hash: str | None) -> None:
    """Move the party's current token hash to ``retired_tokens`` and put ``new_hash`` (None:
    no token at all) in its place."""
    old = conn.execute(select(parties.c.token_hash).where(parties.c.id == party_id)).scalar()
    if old is not None:
        conn.execute(
            insert(retired_tokens).values(token_hash=old, party_id=party_id, reason=reason, seq=entry.seq)
        )
    conn.execute(update(parties).where(parties.c.id == party_id).values(token_hash=new_hash))


def _version(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    conn.execute(
        insert(zone_versions).values(
            zone_id=p["zone_id"],
            version=p["version"],
            hash=p["hash"],
            record=p["zone"],
            author=entry.author,
            seq=entry.seq,
            time_ms=entry.time_ms,
        )
    )


def _message(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    conn.execute(
        _INSERT_MESSAGE,
        {
            "id": p["message_id"],
            "thread_id": p["thread_id"],
            "in_reply_to": p.get("in_reply_to"),
            "sender": p.get("sender"),
            "recipients": list(p["recipients"]),
            "priority": p["priority"],
            "body": p["body"],
            "about": p.get("about"),
            "seq": entry.seq,
            "time_ms": entry.time_ms,
        },
    )
    # A message that asks nothing has no deadline; the column holds the sending time then,
    # never read, since such a delivery does not escalate (``hotline.deadline_ms``).
    deadline = entry.time_ms + (p["ack_within_s"] or 0) * 1000
    recipients = list(p["recipients"])
    if not recipients:
        return
    conn.execute(
        _INSERT_DELIVERY,
        [
            {
                "message_id": p["message_id"],
                "recipient": recipient,
                "priority": p["priority"],
                "deadline_ms": deadline,
                "acked_ms": None,
                "escalations": 0,
                "escalate": bool(p.get("escalate", True)),
            }
            for recipient in recipients
        ],
    )
    conn.execute(
        _INSERT_EVENT,
        [
            _event_row(entry, k, recipient, "message", p["message_id"])
            for k, recipient in enumerate(recipients)
        ],
    )
