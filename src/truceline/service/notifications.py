"""Humanitarian notification: sites and movements told to every party concerned, each
acknowledgement signed, and operations checked against them both ways.

- ``submit``: a humanitarian party notifies a site or a movement. One ``notification.submitted``
  entry (its leaf hash is the version's hash), one hotline message to every party concerned
  with a deadline (``acknowledge_within_s``; escalated as every hotline message is, by
  ``escalation.tick``), and a ``humanitarian`` conflict for each live operation it meets,
  told to that operation's party and to the notifier. A movement notified later than the
  lead time before its departure is accepted with a warning, never refused.
- ``acknowledge`` / ``dispute``: a party states that it received version ``hash`` (which must
  be the current one), or disputes it with a reason; either also acknowledges the hotline
  message, so that escalation stops. Nobody may deny: a notification is not a request.
- ``operation_conflicts``: the filing check (``service.filing``) asks this module which
  notifications a plan meets; a notifier's ``on_conflict: refuse`` makes the filing refused.
- ``status`` / ``status_from_export``: the board-of-inquiry question, answered from the
  database or from a ``log export`` folder alone: which notifications were in force within
  ``radius_m`` of a point at ``at``, which version each party had acknowledged by then, with
  the inclusion proofs of those entries and the signed tree head they lead to.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from truceline.domain.clock import ms_text, to_ms
from truceline.domain.ids import uuid7
from truceline.domain.notification import (
    LeadTimes,
    Movement,
    Notification,
    OnConflict,
    ResponseState,
    Site,
    notification_from_record,
    notification_to_record,
)
from truceline.domain.operation import Operation
from truceline.domain.party import ACKNOWLEDGING_ROLES, LOG_READER_ROLES
from truceline.domain.text import MAX_TEXT_CHARS, check_text
from truceline.errors import (
    AltitudeReferenceError,
    ConflictError,
    ForbiddenError,
    NotFoundError,
    ValidationError,
)
from truceline.geo.timewindow import time_overlap
from truceline.geo.volume import Volume4D, horizontal_overlap_m2, overlap, shape_bounds
from truceline.io.notifications import hxl_csv, notification_feature, read_notification
from truceline.ledger.entries import Entry, EntryDraft, EntryType
from truceline.ledger.export import ENTRIES_FILE, verify_export
from truceline.ledger.merkle import MemoryTree
from truceline.ledger.proofs import InclusionProof
from truceline.ledger.sth import SignedTreeHead
from truceline.service.auth import OPERATOR, Principal
from truceline.service.hotline import MessageDraft, message_draft
from truceline.service.service import PartyRow, Service
from truceline.service.texts import template_body
from truceline.store import hotline as hotline_store
from truceline.store import notifications as store
from truceline.store.notifications import NotificationRow, ResponseRow, VersionRow

KIND = "humanitarian"  # the conflict kind
DEFAULT_LEADS = LeadTimes()
HASH_HEX_CHARS = 64
MAX_STATUS_RADIUS_M = 100_000.0

# Decoded notifications by version hash (a hash names one record forever): a filing checks
# the ones in force without decoding and buffering every route again.
_DECODED: dict[str, Notification] = {}
_DECODED_MAX = 4096


def decoded(version: VersionRow) -> Notification:
    found = _DECODED.get(version.hash)
    if found is None:
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
        found = _DECODED[version.hash] = notification_from_record(version.record)
    return found


@dataclass(frozen=True, slots=True)
class NoticeWarning:
    """What was accepted but falls short of the agreed practice (a late notification)."""

    field: str
    message: str


@dataclass(frozen=True, slots=True)
class SubmitResult:
    id: str
    version: int
    hash: str
    kind: str
    recipients: list[str]  # party names
    message_id: str
    warnings: list[NoticeWarning]
    conflicts: list[dict[str, Any]]
    messages: list[str]


# --- the 4D check, both ways -------------------------------------------------------------


def _bounds_meet(a: Volume4D, b: Volume4D) -> bool:
    aw, as_, ae, an = shape_bounds(a.shape)
    bw, bs, be, bn = shape_bounds(b.shape)
    return aw <= be and bw <= ae and as_ <= bn and bs <= an


def _meeting(a: Volume4D, b: Volume4D) -> tuple[float, Volume4D] | None:
    """(overlap area m², operation volume) when an operation's volume ``a`` meets a
    notification's ``b``. Where the altitude references cannot be related, the band is not
    compared: the conflict is reported (the side a conversion's doubt must fall on)."""
    if not (a.time.start_s < b.time.end_s and b.time.start_s < a.time.end_s) or not _bounds_meet(a, b):
        return None
    try:
        found = overlap(a, b)
    except AltitudeReferenceError:
        area = horizontal_overlap_m2(a.shape, b.shape)
        return None if area is None else (area, a)
    return None if found is None else (found.area_m2, a)


def conflict_record(operation: Operation, notification: Notification) -> dict[str, Any] | None:
    """The ``humanitarian`` conflict record of an operation and a notification, or None when
    no volume of one meets a volume of the other. ``a``: the operation, ``b``: the
    notification; the figures are those of the largest overlap."""
    best: tuple[float, Volume4D, Volume4D] | None = None
    for a in operation.volumes:
        for b in notification.volumes():
            met = _meeting(a, b)
            if met is not None and (best is None or met[0] > best[0]):
                best = (met[0], a, b)
    if best is None:
        return None
    area, a, b = best
    window = time_overlap(a.time, b.time) or a.time
    lower, upper = a.altitude.lower_m, a.altitude.upper_m
    if a.altitude.reference == b.altitude.reference:  # else the operation's own band (not compared)
        lower, upper = max(lower, b.altitude.lower_m), min(upper, b.altitude.upper_m)
    return {
        "kind": KIND,
        "a": operation.id,
        "b": notification.id,
        "a_party": operation.party,
        "b_party": notification.notifier,
        "time_start": _text(window.start),
        "time_end": None if window.end is None else _text(window.end),
        "altitude_lower_m": None if math.isinf(lower) else lower,
        "altitude_upper_m": None if math.isinf(upper) else upper,
        "altitude_reference": str(a.altitude.reference),
        "area_m2": round(area, 3),
        "notification_kind": str(notification.kind),
        "on_conflict": str(notification.on_conflict),
    }


def _text(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _conflict_message(
    conn: Connection, record: Mapping[str, Any], notification: Notification, operation_party_id: str | None,
    notifier_id: str, now: datetime,
) -> MessageDraft:  # fmt: skip
    body = template_body(
        "conflict.humanitarian",
        operation=record["a"],
        party=record["a_party"],
        notification=notification.id,
        notification_name=notification.name,
        organisation=notification.organisation,
        start=datetime.fromisoformat(record["time_start"]),
        end=datetime.fromisoformat(record["time_end"] or record["time_start"]),
    )
    recipients = {notifier_id} | ({operation_party_id} if operation_party_id else set())
    about = {"kind": "conflict", "id": f"{KIND}:{record['a']}:{record['b']}"}
    # Sent by the register: both sides learn of it at once, and must acknowledge it.
    return message_draft(now, sender=None, recipients=recipients, priority="urgent", body=body, about=about)


@dataclass(frozen=True, slots=True)
class OperationCheck:
    """What the notifications in force say of one plan (``service.filing`` uses it)."""

    records: list[dict[str, Any]] = field(default_factory=list)
    refused: bool = False  # one of them is set to refuse

    def drafts(self, conn: Connection, plan: Operation, now: datetime) -> tuple[list[EntryDraft], list[str]]:
        """The ``conflict.detected`` entries and the messages to the filer and the notifiers."""
        by_name = Service.parties_by_name(conn)
        drafts: list[EntryDraft] = []
        message_ids: list[str] = []
        for record in self.records:
            row = store.notification(conn, record["b"])
            version = store.current_version(conn, record["b"])
            if row is None or version is None:  # pragma: no cover - the check read them just now
                continue
            drafts.append(EntryDraft(EntryType.CONFLICT_DETECTED, OPERATOR, {"conflict": record}))
            filer = by_name.get(plan.party)
            filer_id = filer.id if filer else None
            told = _conflict_message(conn, record, decoded(version), filer_id, row.notifier, now)
            drafts.append(told.draft)
            message_ids.append(told.message_id)
        return drafts, message_ids


Extent = tuple[float, float, float, float]  # west, south, east, north (degrees)
_EXTENTS: dict[str, Extent] = {}  # by version hash, as _DECODED


def _extent(volumes: Iterable[Volume4D]) -> Extent:
    bounds = [shape_bounds(v.shape) for v in volumes]
    return (min(b[0] for b in bounds), min(b[1] for b in bounds), max(b[2] for b in bounds),
            max(b[3] for b in bounds))  # fmt: skip


def _notification_extent(version_hash: str, notification: Notification) -> Extent:
    found = _EXTENTS.get(version_hash)
    if found is None:
        if len(_EXTENTS) >= _DECODED_MAX:
            _EXTENTS.clear()
        found = _EXTENTS[version_hash] = _extent(notification.volumes())
    return found


def _in_force(conn: Connection, rows: list[NotificationRow]) -> list[tuple[NotificationRow, Notification]]:
    """The current version of each row, decoded; a record is read only for a version not
    decoded yet (the row names its current version's hash)."""
    found = {r.id: _DECODED[r.current_hash] for r in rows if r.current_hash in _DECODED}
    missing = [r.id for r in rows if r.id not in found]
    if missing:
        hashes = {r.id: r.current_hash for r in rows}
        for version in store.versions(conn, missing):
            if version.hash == hashes[version.notification_id]:
                found[version.notification_id] = decoded(version)
    return [(r, found[r.id]) for r in rows if r.id in found]


def operation_conflicts(conn: Connection, plan: Operation) -> OperationCheck:
    """The ``humanitarian`` conflicts of a plan with the notifications in force during it:
    those whose time window meets the plan's (SQL), whose extent meets the plan's, then the
    exact 4D test."""
    starts = [v.time.start for v in plan.volumes]
    ends = [v.time.end for v in plan.volumes]
    end_ms = None if any(e is None for e in ends) else to_ms(max(e for e in ends if e is not None))
    records, refused = [], False
    west, south, east, north = _extent(plan.volumes)
    for row, notification in _in_force(conn, store.overlapping(conn, to_ms(min(starts)), end_ms)):
        if notification.notifier == plan.party:
            continue  # the notifier's own operations, as a new notification skips them
        w, s, e, n = _notification_extent(row.current_hash, notification)
        if w > east or e < west or s > north or n < south:
            continue
        record = conflict_record(plan, notification)
        if record is not None:
            records.append(record)
            refused = refused or notification.on_conflict is OnConflict.REFUSE
    return OperationCheck(records, refused)


# --- notifying -----------------------------------------------------------------------------


def _recipients(conn: Connection, notification: Notification, notifier: Principal) -> list[PartyRow]:
    parties = Service.party_rows(conn)
    if not notification.parties:
        return [p for p in parties if p.role in ACKNOWLEDGING_ROLES and p.id != notifier.id]
    by_name = {p.name: p for p in parties}
    found = []
    for i, name in enumerate(notification.parties):
        row = by_name.get(name)
        if row is None:
            raise ValidationError(f"no party named {name!r}", field=f"properties.parties[{i}]")
        if row.id == notifier.id:
            raise ValidationError("the notifier does not notify itself", field=f"properties.parties[{i}]")
        found.append(row)
    return found


def _lead_warnings(notification: Notification, now: datetime, leads: LeadTimes) -> list[NoticeWarning]:
    subject = notification.subject
    if not isinstance(subject, Movement):
        return []
    lead_s = notification.lead_time_s(now) or 0.0
    wanted = leads.of(subject.emergency)
    if lead_s >= wanted:
        return []
    what = "an emergency movement's" if subject.emergency else "a movement's"
    return [
        NoticeWarning(
            "properties.departure",
            f"notified {lead_s / 3600:.1f} h before departure; {what} lead time is {wanted / 3600:g} h. "
            "Accepted: notification informs, it is never refused for being late.",
        )
    ]


def _delivery_body(notification: Notification) -> dict[str, Any]:
    subject = notification.subject
    if isinstance(subject, Site):
        return template_body(
            "humanitarian.site", site=notification.id, site_name=notification.name,
            organisation=notification.organisation,
        )  # fmt: skip
    return template_body(
        "humanitarian.convoy", convoy=notification.id, organisation=notification.organisation,
        start=subject.departure, end=subject.arrival,
    )  # fmt: skip


def submit(
    service: Service,
    principal: Principal,
    feature: object,
    leads: LeadTimes = DEFAULT_LEADS,
    request: Mapping[str, Any] | None = None,
) -> SubmitResult:
    """Notify a site (Point) or a movement (LineString) to every party concerned."""
    notification = read_notification(feature, principal.name, uuid7(to_ms(service.clock())))
    notification.volumes()  # the corridor is built here, outside the writer

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], SubmitResult]:
        recipients = _recipients(conn, notification, principal)
        if not recipients:
            raise ConflictError(
                "there is no party to notify (register the parties first)", field="properties.parties"
            )
        told = message_draft(
            now,
            sender=principal.id,
            recipients=[r.id for r in recipients],
            priority=notification.priority,
            body=_delivery_body(notification),
            about={"kind": "notification", "id": notification.id},
            author=principal.id,
            ack_within_s=notification.ack_within_s,
        )
        payload: dict[str, Any] = {
            "notification_id": notification.id,
            "version": 1,
            "notification": notification_to_record(notification),
            "recipients": sorted(r.id for r in recipients),
            "message_id": told.message_id,
        }
        if request is not None:
            payload["request"] = dict(request)
        drafts = [EntryDraft(EntryType.NOTIFICATION_SUBMITTED, principal.id, payload), told.draft]
        # Checked against the operations already filed: each one it meets is a conflict.
        by_name = Service.parties_by_name(conn)
        records, message_ids = [], []
        for operation in service.indexed().operations:
            if operation.party == principal.name:
                continue
            record = conflict_record(operation, notification)
            if record is None:
                continue
            records.append(record)
            drafts.append(EntryDraft(EntryType.CONFLICT_DETECTED, OPERATOR, {"conflict": record}))
            filer = by_name.get(operation.party)
            conflict_told = _conflict_message(
                conn, record, notification, filer.id if filer else None, principal.id, now
            )
            drafts.append(conflict_told.draft)
            message_ids.append(conflict_told.message_id)
        result = SubmitResult(
            id=notification.id,
            version=1,
            hash="",  # the entry's leaf hash: known once appended
            kind=str(notification.kind),
            recipients=sorted(r.name for r in recipients),
            message_id=told.message_id,
            warnings=_lead_warnings(notification, now, leads),
            conflicts=records,
            messages=message_ids,
        )
        return drafts, result

    committed = service.commit_entries(build)
    entry = committed.entries[0]
    result: SubmitResult = committed.result
    if len(_DECODED) < _DECODED_MAX:
        _DECODED[entry.leaf_hash.hex()] = notification  # its volumes built: filings reuse them
    return SubmitResult(**{**_fields(result), "hash": entry.leaf_hash.hex()})


def _fields(result: SubmitResult) -> dict[str, Any]:
    return {name: getattr(result, name) for name in SubmitResult.__slots__}


def _check_hash(version_hash: str) -> str:
    if (
        not isinstance(version_hash, str)
        or len(version_hash) != HASH_HEX_CHARS
        or any(c not in "0123456789abcdef" for c in version_hash)
    ):
        raise ValidationError("must be the version's hash: 64 lower-case hex digits", field="hash")
    return version_hash


def _respond(
    service: Service,
    principal: Principal,
    notification_id: str,
    version_hash: str,
    state: ResponseState,
    reason: str | None,
    request: Mapping[str, Any] | None,
) -> dict[str, Any]:
    _check_hash(version_hash)

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], dict[str, Any]]:
        row = store.notification(conn, notification_id)
        if row is None or not _visible(row, store.current_version(conn, notification_id), principal):
            raise NotFoundError(f"no notification {notification_id!r}", field="notification_id")
        if principal.id not in row.recipients:
            raise ForbiddenError("this notification was not delivered to you", field="notification_id")
        if version_hash != row.current_hash:
            raise ConflictError(
                f"names another version than the current one "
                f"({row.current_version}, hash {row.current_hash})",
                field="hash",
            )
        last = [r for r in store.responses(conn, [notification_id]) if r.party_id == principal.id]
        if last and last[-1].state == state and last[-1].hash == version_hash:
            raise ConflictError(f"already {state} (version {row.current_version})", field="notification_id")
        payload: dict[str, Any] = {
            "notification_id": notification_id,
            "party_id": principal.id,
            "version": row.current_version,
            "hash": version_hash,
        }
        if reason is not None:
            payload["reason"] = reason
        if request is not None:
            payload["request"] = dict(request)
        acknowledged = state is ResponseState.ACKNOWLEDGED
        kind = EntryType.NOTIFICATION_ACKNOWLEDGED if acknowledged else EntryType.NOTIFICATION_DISPUTED
        drafts = [EntryDraft(kind, principal.id, payload)]
        delivery = hotline_store.delivery(conn, row.message_id, principal.id)
        if delivery is not None and delivery.acked_ms is None:
            # The party answered: its hotline delivery stops escalating.
            ack = {"message_id": row.message_id, "party_id": principal.id}
            drafts.append(EntryDraft(EntryType.MESSAGE_ACKNOWLEDGED, principal.id, ack))
        if state is ResponseState.DISPUTED:
            version = store.current_version(conn, notification_id)
            name = decoded(version).name if version else notification_id
            body = template_body(
                "notification.disputed", notification=notification_id, notification_name=name,
                party=principal.name, reason=reason or "",
            )  # fmt: skip
            about = {"kind": "notification", "id": notification_id}
            told = message_draft(
                now, sender=None, recipients=[row.notifier], priority="high", body=body, about=about,
                thread_id=row.message_id, in_reply_to=row.message_id,
            )  # fmt: skip
            drafts.append(told.draft)
        result = {
            "id": notification_id,
            "party": principal.name,
            "state": str(state),
            "version": row.current_version,
            "hash": version_hash,
            "at": ms_text(to_ms(now)),
        }
        return drafts, result

    return service.commit(build)  # type: ignore[no-any-return]


def acknowledge(
    service: Service, principal: Principal, notification_id: str, version_hash: str,
    request: Mapping[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Sign receipt of the notification's current version (``version_hash``: its entry's leaf hash)."""
    state = ResponseState.ACKNOWLEDGED
    return _respond(service, principal, notification_id, version_hash, state, None, request)


def dispute(
    service: Service, principal: Principal, notification_id: str, version_hash: str, reason: str,
    request: Mapping[str, Any] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Dispute the current version, with a reason ("coordinates wrong"); the notifier is told."""
    if not isinstance(reason, str) or not reason.strip():
        raise ValidationError("must say why", field="reason")
    check_text(reason, "reason", MAX_TEXT_CHARS)
    state = ResponseState.DISPUTED
    return _respond(service, principal, notification_id, version_hash, state, reason, request)


# --- reading --------------------------------------------------------------------------------


def _visible(row: NotificationRow, version: VersionRow | None, principal: Principal) -> bool:
    """Everyone sees a notification sent to every party; one the notifier restricted to some
    parties is seen by the notifier, those parties and the log's readers (admin, auditors,
    guarantors)."""
    if principal.id == row.notifier or principal.id in row.recipients or principal.role in LOG_READER_ROLES:
        return True
    return version is not None and not version.record.get("parties")


def _party_states(
    row: NotificationRow, responses: Iterable[ResponseRow], names: Mapping[str, PartyRow],
    deliveries: Mapping[str, Any], notified_ms: int,
) -> list[dict[str, Any]]:  # fmt: skip
    last: dict[str, ResponseRow] = {}
    for r in responses:
        last[r.party_id] = r
    out = []
    for party_id in row.recipients:
        r = last.get(party_id)
        delivery = deliveries.get(party_id)
        out.append(
            {
                "party": names[party_id].name if party_id in names else party_id,
                "state": r.state if r else str(ResponseState.DELIVERED),
                "version": r.version if r else None,
                "hash": r.hash if r else None,
                "at": ms_text(r.time_ms if r else notified_ms),
                "reason": r.reason if r else None,
                "deadline": ms_text(delivery.deadline_ms) if delivery is not None else None,
                "escalations": delivery.escalations if delivery is not None else 0,
            }
        )
    return sorted(out, key=lambda p: p["party"])


def _summary_status(states: list[dict[str, Any]]) -> str:
    """One word for the HXL #status: how far the parties have answered."""
    counts = [p["state"] for p in states]
    if "disputed" in counts:
        return "disputed"
    if counts and all(s == "acknowledged" for s in counts):
        return "acknowledged"
    return "partly_acknowledged" if "acknowledged" in counts else "delivered"


def _notification_json(
    conn: Connection, row: NotificationRow, names: Mapping[str, PartyRow]
) -> dict[str, Any]:
    version = store.current_version(conn, row.id)
    assert version is not None  # written with the row
    notification = decoded(version)
    deliveries = {d.recipient: d for d in hotline_store.deliveries_of(conn, row.message_id)}
    states = _party_states(row, store.responses(conn, [row.id]), names, deliveries, version.time_ms)
    return {
        "id": row.id,
        "kind": row.kind,
        "name": row.name,
        "organisation": row.organisation,
        "notifier": names[row.notifier].name if row.notifier in names else row.notifier,
        "version": row.current_version,
        "hash": row.current_hash,
        "seq": version.seq,
        "notified_at": ms_text(version.time_ms),
        "on_conflict": row.on_conflict,
        "start": ms_text(row.start_ms),
        "end": ms_text(row.end_ms),
        "status": _summary_status(states),
        "feature": notification_feature(notification),
        "parties": states,
    }


def list_notifications(service: Service, principal: Principal) -> list[dict[str, Any]]:
    """The notifications the caller may see, oldest first."""
    with service.read() as conn:
        names = Service.parties_by_id(conn)
        return [
            _notification_json(conn, row, names)
            for row in store.all_notifications(conn)
            if _visible(row, store.current_version(conn, row.id), principal)
        ]


def get_notification(service: Service, principal: Principal, notification_id: str) -> dict[str, Any]:
    """One notification with each party's state and time; 404 when the caller may not see it."""
    with service.read() as conn:
        row = store.notification(conn, notification_id)
        if row is None or not _visible(row, store.current_version(conn, notification_id), principal):
            raise NotFoundError(f"no notification {notification_id!r}", field="notification_id")
        return _notification_json(conn, row, Service.parties_by_id(conn))


def hxl_export(service: Service, principal: Principal) -> str:
    """The notifications as HXL-tagged CSV (``io.notifications.HXL_COLUMNS``)."""
    rows = []
    for n in list_notifications(service, principal):
        lon, lat = _first_position(n["feature"])
        rows.append(
            [n["id"], n["organisation"], n["name"], n["feature"]["properties"].get("site_type", "movement"),
             lat, lon, n["start"], n["end"], n["status"]]
        )  # fmt: skip
    return hxl_csv(rows)


def _first_position(feature: Mapping[str, Any]) -> tuple[float, float]:
    coordinates = feature["geometry"]["coordinates"]
    point = coordinates if feature["geometry"]["type"] == "Point" else coordinates[0]
    return float(point[0]), float(point[1])


# --- the board-of-inquiry question ----------------------------------------------------------


@dataclass
class History:
    """What the status question reads: every notification version and response, the
    recipients of each notification, the parties' names, and each entry by its index."""

    versions: list[VersionRow] = field(default_factory=list)
    recipients: dict[str, list[str]] = field(default_factory=dict)
    notifiers: dict[str, str] = field(default_factory=dict)
    responses: list[ResponseRow] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)


def _check_query(lon: float, lat: float, radius_m: float) -> None:
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ValidationError(f"must be a longitude from -180 to 180, got {lon}", field="lon")
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValidationError(f"must be a latitude from -90 to 90, got {lat}", field="lat")
    if not (math.isfinite(radius_m) and 0.0 <= radius_m <= MAX_STATUS_RADIUS_M):
        raise ValidationError(
            f"must be from 0 to {MAX_STATUS_RADIUS_M:g} m, got {radius_m}", field="radius_m"
        )


def _answer(
    history: History,
    at: datetime,
    lon: float,
    lat: float,
    radius_m: float,
    prove: Callable[[int], InclusionProof],
    sth: SignedTreeHead,
    visible: Callable[[str], bool] = lambda _id: True,
) -> dict[str, Any]:
    """The answer, from a ``History``; ``prove(seq)``: the inclusion proof of entry ``seq``
    in the tree ``sth`` signs."""
    at_ms = to_ms(at)
    in_force: dict[str, VersionRow] = {}
    for version in history.versions:  # log order: a later version replaces an earlier one
        if version.time_ms <= at_ms:
            in_force[version.notification_id] = version
    out = []
    for notification_id, version in in_force.items():
        if not visible(notification_id):
            continue
        notification = decoded(version)
        if not notification.in_force_near(at, lon, lat, radius_m):
            continue
        answered: dict[str, ResponseRow] = {}
        for r in history.responses:
            if r.notification_id == notification_id and r.time_ms <= at_ms:
                answered[r.party_id] = r
        parties = []
        for party_id in sorted(history.recipients.get(notification_id, [])):
            r = answered.get(party_id)
            parties.append(
                {
                    "party": history.names.get(party_id, party_id),
                    "state": r.state if r else str(ResponseState.DELIVERED),
                    "version": r.version if r else None,
                    "hash": r.hash if r else None,
                    "at": ms_text(r.time_ms) if r else None,
                    "reason": r.reason if r else None,
                    "current_version_acknowledged": bool(
                        r and r.state == ResponseState.ACKNOWLEDGED and r.hash == version.hash
                    ),
                    "proof": prove(r.seq).to_json() if r else None,
                }
            )
        notifier = history.notifiers.get(notification_id, "")
        out.append(
            {
                "id": notification_id,
                "kind": str(notification.kind),
                "name": notification.name,
                "organisation": notification.organisation,
                "notifier": history.names.get(notifier, notifier),
                "version": version.version,
                "hash": version.hash,
                "notified_at": ms_text(version.time_ms),
                "feature": notification_feature(notification),
                "proof": prove(version.seq).to_json(),
                "parties": parties,
            }
        )
    return {
        "at": ms_text(at_ms),
        "lon": lon,
        "lat": lat,
        "radius_m": radius_m,
        "tree_size": sth.tree_size,
        "sth": sth.to_json(),
        "notifications": out,
    }


def status(
    service: Service, principal: Principal, at: datetime, lon: float, lat: float, radius_m: float
) -> dict[str, Any]:
    """Which notifications were in force near (lon, lat) at ``at``, who had acknowledged which
    version by then, with the inclusion proofs of those entries in one signed tree head."""
    _check_query(lon, lat, radius_m)
    at_ms = to_ms(at)
    with service.read() as conn:
        rows = {r.id: r for r in store.overlapping(conn, at_ms, at_ms + 1)}
        ids = sorted(rows)
        history = History(
            versions=store.versions(conn, ids),
            recipients={i: list(r.recipients) for i, r in rows.items()},
            notifiers={i: r.notifier for i, r in rows.items()},
            responses=store.responses(conn, ids),
            names={p.id: p.name for p in Service.party_rows(conn)},
        )
        sth = service.ledger.signed_tree_head(conn, service.clock())
        size = sth.tree_size

        def prove(seq: int) -> InclusionProof:
            entry = service.ledger.entry(conn, seq)
            path = service.ledger.inclusion_proof(conn, seq, size)
            return InclusionProof(seq, size, entry.leaf_hash, tuple(path), entry.canonical)

        current = {v.notification_id: v for v in history.versions}

        def visible(notification_id: str) -> bool:
            return _visible(rows[notification_id], current.get(notification_id), principal)

        return _answer(history, at, lon, lat, radius_m, prove, sth, visible)


def history_from_entries(entries: Iterable[Entry]) -> History:
    """The History a log's entries make (what the projections hold, from the entries alone)."""
    history = History()
    for entry in entries:
        p = entry.payload
        if entry.type == EntryType.PARTY_REGISTERED:
            history.names[p["party_id"]] = p["name"]
        elif entry.type == EntryType.NOTIFICATION_SUBMITTED:
            history.versions.append(
                VersionRow(p["notification_id"], p["version"], entry.leaf_hash.hex(), p["notification"],
                           entry.seq, entry.time_ms)
            )  # fmt: skip
            history.recipients[p["notification_id"]] = list(p["recipients"])
            history.notifiers[p["notification_id"]] = entry.author
        elif entry.type in (EntryType.NOTIFICATION_ACKNOWLEDGED, EntryType.NOTIFICATION_DISPUTED):
            state = "acknowledged" if entry.type == EntryType.NOTIFICATION_ACKNOWLEDGED else "disputed"
            history.responses.append(
                ResponseRow(entry.seq, p["notification_id"], p["party_id"], state, p["version"], p["hash"],
                            p.get("reason"), entry.time_ms)
            )  # fmt: skip
    return history


def status_from_export(
    directory: Path, at: datetime, lon: float, lat: float, radius_m: float
) -> dict[str, Any]:
    """The status answer from a ``log export`` folder alone: the export is verified first
    (every entry, its signatures, the root the signed tree head signs); the proofs are
    computed from its entries and lead to that head."""
    _check_query(lon, lat, radius_m)
    sth = verify_export(directory)
    with (directory / ENTRIES_FILE).open("rb") as lines:
        entries = [Entry.parse(line[:-1]) for line in lines]
    tree = MemoryTree(e.leaf_hash for e in entries)

    def prove(seq: int) -> InclusionProof:
        path = tree.inclusion_proof(seq, sth.tree_size)
        return InclusionProof(seq, sth.tree_size, entries[seq].leaf_hash, tuple(path), entries[seq].canonical)

    return _answer(history_from_entries(entries), at, lon, lat, radius_m, prove, sth)


def verify_status(answer: Mapping[str, Any], public_key: bytes | None = None) -> int:
    """Check every proof of a status answer against its signed tree head (and the head's
    signature, with ``public_key`` when given); returns how many proofs were checked.
    Raises VerificationError (FormatError) naming what fails."""
    sth = SignedTreeHead.from_json(answer["sth"])
    sth.verify(public_key)
    checked = 0
    for n in answer["notifications"]:
        proofs = [n["proof"], *[p["proof"] for p in n["parties"] if p["proof"] is not None]]
        for bundle in proofs:
            InclusionProof.from_json(bundle).verify(sth.root_hash)
            checked += 1
    return checked

