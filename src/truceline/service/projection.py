"""The projector: the projection rows each entry type causes, one small function per type.

``project(conn, entry)`` is a pure function of the entry (and of rows earlier entries
wrote): no clock, no randomness, no database counters. Both a commit (``Register``,
``Service``) and ``truceline log rebuild`` run every entry through it, so the tables it
writes come back identical. The SQL is the store's (one module per noun); this module
only decides which rows an entry means. Entry types are ``truceline.ledger.entries.EntryType``.

Payloads (the contract of the log; docs/api.md lists them):

- ``zone.imported``: ``zone`` (record), optional ``state`` (default ``active``): written
  by the operator's import.
- ``conflict.detected``: ``conflict`` (the report record).
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

- ``incident.reported``: ``incident_id``, ``party_id`` (the reporter), ``report`` (the
  record of ``domain.incident.IncidentReport``), ``content_hash``, ``centre`` ([lon, lat]
  inside the uncertainty area), ``uncertainty_m`` (the area's reach from it), ``zones``
  (``[{zone_id, relation}]``, relation inside | possibly_inside), ``supersedes`` (the
  incident id an edit replaces, or null).
- ``incident.corroborated`` (author ``operator``: suggested by the register):
  ``incident_id``, ``other_id`` (an earlier report by another reporter), ``gap_m``, ``gap_s``.
- ``incident.verified`` / ``incident.disputed`` / ``incident.withdrawn``: ``incident_id``,
  ``party_id``, ``reason`` (required for a dispute; optional otherwise).
- ``notification.submitted``: ``notification_id``, ``version``, ``notification`` (the record
  of ``domain.notification``), ``recipients`` (party ids), ``message_id`` (the hotline message
  that delivers it). The entry's leaf hash is the version's hash, which parties acknowledge.
- ``notification.acknowledged``: ``notification_id``, ``party_id``, ``version``, ``hash``
  (hex leaf hash of the version acknowledged); ``notification.disputed``: the same and ``reason``.
- ``alert.opened``: ``alert_id``, ``kind`` (``conflict`` | ``incursion`` |
  ``nonconformance``), ``subject`` (the episode's key: track ids, and a zone or operation id),
  ``parties`` (party ids told), ``message_id`` (its hotline message, sent in the same commit),
  ``at_s`` (the scan's time, epoch seconds), ``data`` (what the engine found) and ``states``
  (the track states that caused it, as ``POST /tracks`` takes them).
- ``alert.updated``: ``alert_id``, ``at_s``, ``data``, ``states``: the episode persists and
  grown worse (a conflict became a loss of separation, a track went from heading into a zone
  to inside it) or was last logged ``update_every_s`` ago (service/live_detection.py).
- ``alert.closed``: ``alert_id``, ``at_s`` (the scan that found it over), ``last_seen_s``,
  ``data`` and ``states`` as last seen.

Any of these may also carry ``request``: the party's own signed HTTP request (RFC 9421),
kept for non-repudiation: ``{"method", "path", "query", "body", "content_digest",
"signature_input", "signature"}`` as received (``truceline.service.request_signatures``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from truceline.domain.clock import to_ms
from truceline.domain.codec import operation_from_record, zone_from_record
from truceline.domain.notification import notification_from_record
from truceline.domain.operation import Operation
from truceline.domain.party import Party
from truceline.domain.zone import ZoneState
from truceline.ledger.entries import Entry, EntryType
from truceline.store import alerts, conflicts, hotline, incidents, notifications, operations, parties, zones
from truceline.store.alerts import AlertRow
from truceline.store.hotline import DeliveryRow, EventRow, MessageRow
from truceline.store.notifications import NotificationRow, ResponseRow
from truceline.store.notifications import VersionRow as NotificationVersionRow
from truceline.store.operations import HistoryRow
from truceline.store.zones import NegotiationRow, StepRow, VersionRow

Projector = Callable[[Connection, Entry], None]


def ends_ms(zone_record: dict[str, Any]) -> int | None:
    """Milliseconds since the epoch when the last volume of a zone record ends (None: open)."""
    ends = []
    for volume in zone_from_record(zone_record).volumes:
        if volume.time.end is None:
            return None
        ends.append(to_ms(volume.time.end))
    return max(ends)


def _event(entry: Entry, k: int, recipient: str, kind: str, message_id: str) -> EventRow:
    return EventRow(hotline.event_id(entry.seq, k), recipient, kind, message_id, entry.seq, entry.time_ms)


def _step(conn: Connection, entry: Entry, step: str, reason: str | None = None) -> None:
    p = entry.payload
    row = StepRow(entry.seq, p["zone_id"], step, p.get("party_id"), p.get("version"), reason, entry.time_ms)
    zones.add_step(conn, row)


def _version(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    row = VersionRow(p["zone_id"], p["version"], p["hash"], p["zone"], entry.author, entry.seq, entry.time_ms)
    zones.add_version(conn, row)


def _history(conn: Connection, entry: Entry, step: str, operation_id: str, party: str, version: int) -> None:
    p = entry.payload
    record, conflicts = p.get("operation"), p.get("conflicts", [])
    row = HistoryRow(entry.seq, operation_id, step, version, party, record, conflicts, entry.time_ms)
    operations.add_history(conn, row)


# --- parties ----------------------------------------------------------------------------


def _party_registered(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    parties.save_party(
        conn,
        Party(p["party_id"], p["name"], p["role"], p["language"], p.get("uss_manager")),
        public_key=p.get("public_key"),
        token_hash=p.get("token_hash"),
    )
    if p.get("request_key"):
        parties.add_request_key(conn, p["party_id"], p["request_key"])


def _party_revoked(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    parties.add_revocation(conn, p["party_id"], p.get("reason"), entry.seq, entry.time_ms)
    parties.retire_token(conn, p["party_id"], "revoked", None, entry.seq)


def _party_token_rotated(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    parties.retire_token(conn, p["party_id"], "rotated", p["token_hash"], entry.seq)


# --- zones ------------------------------------------------------------------------------


def _zone_imported(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    zones.save_zone(conn, zone_from_record(p["zone"]), state=p.get("state", ZoneState.ACTIVE))


def _zone_proposed(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    record = p["zone"]
    zones.add_negotiation(
        conn,
        NegotiationRow(
            zone_id=p["zone_id"],
            kind=record["kind"],
            name=record.get("name", ""),
            proposer=p["party_id"],
            proposer_name=record.get("party") or "",
            required=sorted(p["required"]),
            state=ZoneState.PROPOSED,
            current_version=p["version"],
            active_version=None,
            ends_ms=ends_ms(record),
            seq=entry.seq,
        ),
    )
    _version(conn, entry)
    _step(conn, entry, "proposed")


def _zone_counter_proposed(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    _version(conn, entry)
    values: dict[str, Any] = {"current_version": p["version"]}
    if zones.negotiation_state(conn, p["zone_id"]) != ZoneState.ACTIVE:
        # While a version is in force it stays so until every signatory signs the new one.
        values.update(state=ZoneState.PROPOSED, ends_ms=ends_ms(p["zone"]), name=p["zone"].get("name", ""))
    zones.set_negotiation(conn, p["zone_id"], entry.seq, **values)
    _step(conn, entry, "counter_proposed")


def _zone_signed(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    zones.add_signature(conn, p["zone_id"], p["version"], p["party_id"], entry.seq)
    _step(conn, entry, "signed")


def _zone_rejected(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    if zones.negotiation_state(conn, p["zone_id"]) != ZoneState.ACTIVE:
        zones.set_negotiation(conn, p["zone_id"], entry.seq, state=ZoneState.REJECTED)
    _step(conn, entry, "rejected", p["reason"])


def _zone_activated(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    zone = zone_from_record(p["zone"])
    zones.save_zone(conn, zone, state=ZoneState.ACTIVE)
    zones.set_negotiation(
        conn,
        p["zone_id"],
        entry.seq,
        state=ZoneState.ACTIVE,
        active_version=p["version"],
        ends_ms=ends_ms(p["zone"]),
        name=zone.name,
    )
    _step(conn, entry, "activated")


def _zone_ended(state: ZoneState) -> Projector:
    def project_end(conn: Connection, entry: Entry) -> None:
        # The zones table holds the zones in force: a withdrawn or expired one leaves it.
        zone_id = entry.payload["zone_id"]
        zones.delete_zone(conn, zone_id)
        zones.set_negotiation(conn, zone_id, entry.seq, state=state)
        _step(conn, entry, state)

    return project_end


# --- operations and conflicts -----------------------------------------------------------


def _operation_filed(conn: Connection, entry: Entry, known: Operation | None = None) -> None:
    # ``conflict.detected`` entries carry its conflicts.
    p = entry.payload
    record = p["operation"]
    if known is not None:
        operations.insert_operation(conn, known)
    else:
        operations.save_operation(conn, operation_from_record(record))
    _history(conn, entry, "filed", record["id"], record["party"], p.get("version", 1))


def _operation_updated(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    record = p["operation"]
    conflicts.drop_conflicts_of(conn, record["id"])
    operations.save_operation(conn, operation_from_record(record))
    _history(conn, entry, "updated", record["id"], record["party"], p["version"])


def _operation_refused(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    record = p["operation"]
    _history(conn, entry, "refused", record["id"], record["party"], p["version"])


def _operation_cancelled(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    conflicts.drop_conflicts_of(conn, p["operation_id"])
    operations.set_state(conn, p["operation_id"], "cancelled")
    _history(conn, entry, "cancelled", p["operation_id"], p["party"], p["version"])


def _conflict_detected(conn: Connection, entry: Entry) -> None:
    conflicts.save_conflict(conn, entry.payload["conflict"], entry.seq)


# --- the hotline ------------------------------------------------------------------------


def _message_sent(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    recipients = list(p["recipients"])
    message = MessageRow(
        id=p["message_id"],
        thread_id=p["thread_id"],
        in_reply_to=p.get("in_reply_to"),
        sender=p.get("sender"),
        recipients=recipients,
        priority=p["priority"],
        body=p["body"],
        about=p.get("about"),
        seq=entry.seq,
        time_ms=entry.time_ms,
    )
    # A message that asks nothing has no deadline; the column holds the sending time then,
    # never read, since such a delivery does not escalate (``hotline.deadline_ms``).
    deadline = entry.time_ms + (p["ack_within_s"] or 0) * 1000
    escalate = bool(p.get("escalate", True))
    hotline.add_message(
        conn,
        message,
        [DeliveryRow(p["message_id"], r, p["priority"], deadline, None, 0, escalate) for r in recipients],
    )
    events = [_event(entry, k, r, "message", p["message_id"]) for k, r in enumerate(recipients)]
    hotline.add_events(conn, events)


def _message_acknowledged(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    hotline.set_acknowledged(conn, p["message_id"], p["party_id"], entry.time_ms)
    sender = hotline.sender_of(conn, p["message_id"])
    if sender is not None and sender != p["party_id"]:
        hotline.add_events(conn, [_event(entry, 0, sender, "acknowledged", p["message_id"])])


def _message_escalated(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    hotline.set_escalated(
        conn,
        p["message_id"],
        p["recipient"],
        priority=p["priority"],
        deadline_ms=entry.time_ms + p["ack_within_s"] * 1000,
        escalations=p["escalations"],
    )
    # Re-sent to the late recipient, at its new priority.
    hotline.add_events(conn, [_event(entry, 0, p["recipient"], "escalated", p["message_id"])])


def _message_unacknowledged(conn: Connection, entry: Entry) -> None:
    # The people told were told once: this delivery is due for nothing more (the ledger,
    # not a process's memory, is what keeps a restarted server from repeating it).
    p = entry.payload
    hotline.stop_escalating(conn, p["message_id"], p["recipient"])


# --- incidents --------------------------------------------------------------------------


def _incident_step(conn: Connection, entry: Entry, incident_id: str, step: str) -> None:
    p = entry.payload
    row = incidents.StepRow(entry.seq, incident_id, step, p.get("party_id"), p.get("reason"), entry.time_ms)
    incidents.add_step(conn, row)


def _incident_reported(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    report = p["report"]
    lon, lat = p["centre"]
    row = incidents.IncidentRow(
        id=p["incident_id"],
        instance_id=report["instance_id"],
        reporter=p["party_id"],
        category=report["category"],
        observation=report["observation"],
        state="reported",
        verified=False,
        observed_start_ms=to_ms(datetime.fromisoformat(report["observed_start"])),
        observed_end_ms=to_ms(datetime.fromisoformat(report["observed_end"])),
        lon=lon,
        lat=lat,
        uncertainty_m=p["uncertainty_m"],
        record=report,
        content_hash=p["content_hash"],
        deprecated_id=report.get("deprecated_id"),
        superseded_by=None,
        seq=entry.seq,
        time_ms=entry.time_ms,
    )
    zone_rows = [incidents.ZoneLinkRow(p["incident_id"], z["zone_id"], z["relation"]) for z in p["zones"]]
    incidents.add_incident(conn, row, zone_rows)
    if p.get("supersedes"):
        incidents.set_incident(conn, p["supersedes"], superseded_by=p["incident_id"])
    _incident_step(conn, entry, p["incident_id"], "reported")


def _incident_corroborated(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    pair = (p["incident_id"], p["other_id"])
    incidents.add_links(
        conn,
        [incidents.LinkRow(a, b, p["gap_m"], p["gap_s"], entry.seq) for a, b in (pair, pair[::-1])],
    )
    for incident_id in pair:
        row = incidents.by_id(conn, incident_id)
        if row is not None and row.state == "reported":  # a later state stands
            incidents.set_incident(conn, incident_id, state="corroborated")
    for incident_id in pair:
        _incident_step(conn, entry, incident_id, "corroborated")


def _incident_changed(step: str) -> Projector:
    def project_step(conn: Connection, entry: Entry) -> None:
        incident_id = entry.payload["incident_id"]
        values: dict[str, Any] = {"state": step}
        if step == "verified":
            values["verified"] = True
        incidents.set_incident(conn, incident_id, **values)
        _incident_step(conn, entry, incident_id, step)

    return project_step


# --- humanitarian notifications ---------------------------------------------------------


def _notification_submitted(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    notification = notification_from_record(p["notification"])
    end = notification.end
    digest = entry.leaf_hash.hex()
    row = NotificationRow(
        id=p["notification_id"],
        kind=str(notification.kind),
        notifier=entry.author,
        name=notification.name,
        organisation=notification.organisation,
        on_conflict=str(notification.on_conflict),
        current_version=p["version"],
        current_hash=digest,
        recipients=list(p["recipients"]),
        message_id=p["message_id"],
        start_ms=to_ms(notification.start),
        end_ms=None if end is None else to_ms(end),
        seq=entry.seq,
    )
    version = NotificationVersionRow(
        p["notification_id"], p["version"], digest, p["notification"], entry.seq, entry.time_ms
    )
    notifications.add_notification(conn, row, version)


def _notification_response(state: str) -> Projector:
    def project_response(conn: Connection, entry: Entry) -> None:
        p = entry.payload
        row = ResponseRow(
            entry.seq, p["notification_id"], p["party_id"], state, p["version"], p["hash"],
            p.get("reason"), entry.time_ms,
        )  # fmt: skip
        notifications.add_response(conn, row)

    return project_response


# --- live alerts --------------------------------------------------------------------------


def _alert_events(conn: Connection, entry: Entry, row: AlertRow, change: str) -> None:
    # One typed event per party told (``conflict.opened``, ``incursion.closed``, ...): the live
    # stream names it, and a map draws it from the alert the event carries.
    kind = f"{row.kind}.{change}"
    hotline.add_events(conn, [_event(entry, k, r, kind, row.message_id) for k, r in enumerate(row.parties)])


def _latest(payload: dict[str, Any]) -> dict[str, Any]:
    return {"at_s": payload["at_s"], "data": payload["data"], "states": payload["states"]}


def _alert_opened(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    row = AlertRow(
        id=p["alert_id"],
        kind=p["kind"],
        subject=list(p["subject"]),
        parties=list(p["parties"]),
        message_id=p["message_id"],
        state=alerts.OPEN,
        opened_ms=entry.time_ms,
        updated_ms=entry.time_ms,
        closed_ms=None,
        latest=_latest(p),
        seq=entry.seq,
    )
    alerts.add_alert(conn, row)
    _alert_events(conn, entry, row, "opened")


def _alert_updated(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    row = alerts.alert(conn, p["alert_id"])
    if row is None:  # an update of an alert this log never opened: nothing to show
        return
    alerts.set_latest(conn, row.id, _latest(p), entry.time_ms, entry.seq)
    _alert_events(conn, entry, row, "updated")


def _alert_closed(conn: Connection, entry: Entry) -> None:
    p = entry.payload
    row = alerts.alert(conn, p["alert_id"])
    if row is None:
        return
    latest = {**_latest(p), "last_seen_s": p["last_seen_s"]}
    alerts.close_alert(conn, row.id, latest, entry.time_ms, entry.seq)
    _alert_events(conn, entry, row, "closed")


# The one table: entry type -> what it writes. A type missing here (a later version's)
# stays in the log and projects nothing.
PROJECTORS: dict[str, Projector] = {
    EntryType.PARTY_REGISTERED: _party_registered,
    EntryType.PARTY_REVOKED: _party_revoked,
    EntryType.PARTY_TOKEN_ROTATED: _party_token_rotated,
    EntryType.ZONE_IMPORTED: _zone_imported,
    EntryType.ZONE_PROPOSED: _zone_proposed,
    EntryType.ZONE_COUNTER_PROPOSED: _zone_counter_proposed,
    EntryType.ZONE_SIGNED: _zone_signed,
    EntryType.ZONE_REJECTED: _zone_rejected,
    EntryType.ZONE_ACTIVATED: _zone_activated,
    EntryType.ZONE_WITHDRAWN: _zone_ended(ZoneState.WITHDRAWN),
    EntryType.ZONE_EXPIRED: _zone_ended(ZoneState.EXPIRED),
    EntryType.OPERATION_FILED: _operation_filed,
    EntryType.OPERATION_UPDATED: _operation_updated,
    EntryType.OPERATION_REFUSED: _operation_refused,
    EntryType.OPERATION_CANCELLED: _operation_cancelled,
    EntryType.CONFLICT_DETECTED: _conflict_detected,
    EntryType.MESSAGE_SENT: _message_sent,
    EntryType.MESSAGE_ACKNOWLEDGED: _message_acknowledged,
    EntryType.MESSAGE_ESCALATED: _message_escalated,
    EntryType.MESSAGE_UNACKNOWLEDGED: _message_unacknowledged,
    EntryType.INCIDENT_REPORTED: _incident_reported,
    EntryType.INCIDENT_CORROBORATED: _incident_corroborated,
    EntryType.INCIDENT_VERIFIED: _incident_changed("verified"),
    EntryType.INCIDENT_DISPUTED: _incident_changed("disputed"),
    EntryType.INCIDENT_WITHDRAWN: _incident_changed("withdrawn"),
    EntryType.NOTIFICATION_SUBMITTED: _notification_submitted,
    EntryType.NOTIFICATION_ACKNOWLEDGED: _notification_response("acknowledged"),
    EntryType.NOTIFICATION_DISPUTED: _notification_response("disputed"),
    EntryType.ALERT_OPENED: _alert_opened,
    EntryType.ALERT_UPDATED: _alert_updated,
    EntryType.ALERT_CLOSED: _alert_closed,
}


def project(conn: Connection, entry: Entry, known: Operation | None = None) -> None:
    """Write the projection rows ``entry`` causes. ``known``: the operation an
    ``operation.filed`` entry carries, already decoded by the caller that filed it in this
    transaction (decoding validates every shape again: about half a millisecond a volume;
    and filing refused a taken id, so there is no stored operation to replace)."""
    if known is not None and entry.type == EntryType.OPERATION_FILED:
        _operation_filed(conn, entry, known)
        return
    projector = PROJECTORS.get(entry.type)
    if projector is not None:
        projector(conn, entry)
