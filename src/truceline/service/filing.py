"""Filing operations: check a party's plan against the zones in force and the other parties'
operations, then accept it (telling every party concerned of each conflict) or refuse it.

A conflict with an active zone whose entry is ``forbidden`` refuses the filing when the
zone binds the filing party (it signed the version in force, or the operator imported the
zone); the refusal is still written to the ledger (the party was told in the answer, and
can prove it was). In a zone the party has not signed the conflict is ``declared_zone``:
accepted, and told to both sides (docs/zones.md). Any other conflict is accepted and
becomes a hotline message from the register to the parties concerned. Updates are new
versions checked the same way; cancellation keeps the history.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from truceline.domain.clock import ms_text
from truceline.domain.codec import operation_from_record, operation_to_record
from truceline.domain.operation import Operation, OperationState
from truceline.domain.party import Role
from truceline.domain.zone import Entry as ZoneEntry
from truceline.domain.zone import Zone
from truceline.engines.strategic import Conflict, ConflictKind, StrategicIndex, conflict_record
from truceline.errors import ConflictError, ForbiddenError, FormatError, NotFoundError, ValidationError
from truceline.i18n import Measure
from truceline.io.documents import document_format, exactly_one
from truceline.io.f3548 import read_f3548_document, read_f3548_operation
from truceline.io.f3548_out import f3548_entity_id
from truceline.io.geojson import read_operations
from truceline.ledger.entries import EntryDraft, EntryType
from truceline.service import moment, notifications
from truceline.service.auth import OPERATOR, Principal
from truceline.service.hotline import MessageDraft, message_draft
from truceline.service.need_to_know import full, visible_operations
from truceline.service.service import Service
from truceline.service.texts import template_body
from truceline.store import database
from truceline.store import operations as operation_store
from truceline.store import parties as party_store
from truceline.store import zones as zone_store
from truceline.store.operations import HistoryRow

_LIVE = ("planned", "accepted", "active")


def read_operation_document(
    document: object,
    party: str,
    manager_party: Callable[[str], str | None] | None = None,
    operation_id: str | None = None,
) -> Operation:
    """The one operation of a GeoJSON profile or F3548 document, filed by ``party``.

    F3548: ``reference.manager``, when given, must name ``party`` (its name, or the
    ``uss_manager`` alias that ``manager_party`` maps to it); ``operation_id`` (the URL's)
    is the id of a document that carries none, or whose id is the F3548 id written for it
    (``io.f3548_out.f3548_entity_id``), so a written intent can be filed back.
    """
    kind = document_format(document)
    if kind == "geojson":
        operation = exactly_one(read_operations(document, source="body"), "operation")  # type: ignore[arg-type]
        if operation.party != party:
            raise ValidationError(
                f"names party {operation.party!r}, but the operation is filed by {party!r}",
                field="properties.party",
            )
    elif kind == "f3548":
        found = read_f3548_document(document, source="body")  # type: ignore[arg-type]
        manager = found.manager
        if manager and manager != party and (manager_party is None or manager_party(manager) != party):
            raise ValidationError(
                f"names manager {manager!r}, but the operation is filed by {party!r} "
                "(whose uss_manager alias it is not)",
                field="reference.manager",
            )
        ident = found.operation_id
        if operation_id is not None and ident in (None, f3548_entity_id(operation_id)):
            ident = operation_id
        operation = read_f3548_operation(
            document,  # type: ignore[arg-type]
            party=party,
            operation_id=ident,
            source="body",
        )
    else:
        raise FormatError(
            "an operation is a GeoJSON FeatureCollection or an F3548 document", field="document"
        )
    return replace(operation, state=OperationState.ACCEPTED)


@dataclass(frozen=True, slots=True)
class FilingResult:
    operation_id: str
    version: int
    accepted: bool
    conflicts: list[dict[str, Any]]
    messages: list[str]


def _forbidding(conflict: Conflict) -> bool:
    return conflict.kind is ConflictKind.ZONE and conflict.entry is ZoneEntry.FORBIDDEN


def _finite(value: float | None, fallback: float) -> float:
    return fallback if value is None or not math.isfinite(value) else value


def _conflict_message(
    conn: Connection,
    service: Service,
    conflict: Conflict,
    plan: Operation,
    principal: Principal,
    now: datetime,
    zone: Zone | None = None,
) -> MessageDraft | None:
    """The hotline message for one accepted conflict, to every party concerned (``zone``:
    the zone of a zone conflict, when it is not in the index yet)."""
    by_name = Service.parties_by_name(conn)
    about = {"kind": "conflict", "id": f"{conflict.kind}:{conflict.a}:{conflict.b}"}
    if conflict.kind is ConflictKind.OPERATION:
        other_id = conflict.b if conflict.a == plan.id else conflict.a
        other = service.index.operation(other_id)
        other_party = (
            other.party if other else (conflict.b_party if conflict.a == plan.id else conflict.a_party)
        )
        o = conflict.overlap
        lower = _finite(o.altitude.lower_m, 0.0)
        upper = _finite(o.altitude.upper_m, lower)
        end = o.time.end or o.time.start
        body = template_body(
            "conflict.operation",
            operation=plan.id,
            party=plan.party,
            other_operation=other_id,
            other_party=other_party or "?",
            start=o.time.start,
            end=end,
            lower_m=lower,
            upper_m=upper,
            area_km2=Measure(round(o.area_m2 / 1e6, 6), "km2"),
        )
        names = {plan.party, other_party}
    else:
        zone = zone or service.index.zone(conflict.b)
        zone_name = (zone.name if zone else "") or conflict.b
        body = template_body(
            "conflict.zone",
            operation=plan.id,
            party=plan.party,
            zone=conflict.b,
            zone_name=zone_name,
            entry=str(conflict.entry),
        )
        if conflict.kind is ConflictKind.DECLARED_ZONE:
            # A zone the filing party has not signed: declared by its proposer, not recognised.
            body = template_body(
                "conflict.declared_zone",
                operation=plan.id,
                party=plan.party,
                zone=conflict.b,
                zone_name=zone_name,
                declared_by=conflict.b_party or "?",
            )
        names = {plan.party, conflict.b_party}
        negotiated = zone_store.negotiation(conn, conflict.b)
        if negotiated is not None:
            names |= set(negotiated.required)
    recipients = {by_name[n].id for n in names if n in by_name}
    if not recipients:
        return None
    # Sent by the register (no sender party): the filer learns of the conflict in its answer
    # and is told here with the others, not "by" itself.
    return message_draft(now, sender=None, recipients=recipients, priority="high", body=body, about=about)


def _latest_version(conn: Connection, operation_id: str) -> int:
    """The version of the operation's latest step (a refused one too), 0 if it has none."""
    row = operation_store.last_step(conn, operation_id)
    return 0 if row is None else row.version


def _file(
    service: Service,
    principal: Principal,
    document: object,
    request: Mapping[str, Any] | None,
    update_of: str | None,
    url_id: str | None = None,
) -> FilingResult:
    """``update_of``: the operation a PUT updates; ``url_id``: the id the URL gives (the
    same, or a POST's), which the document must carry or leave to it."""
    url_id = url_id or update_of

    def manager_party(manager: str) -> str | None:
        with service.read() as conn:
            return party_store.manager_party(conn, manager)

    plan = read_operation_document(document, principal.name, manager_party, url_id)
    if url_id is not None and plan.id != url_id:
        raise ValidationError(f"is {plan.id!r}, but this is operation {url_id!r}", field="id")
    operation_store.prepare_operation(plan)  # here, not in the writer's queue

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], FilingResult]:
        if update_of is None:
            # A refused or cancelled operation keeps its id.
            if operation_store.id_taken(conn, plan.id):
                raise ConflictError(f"operation {plan.id!r} already exists; update it with PUT", field="id")
            version = 0
        else:
            stored = operation_store.operation_row(conn, plan.id)
            version = _latest_version(conn, plan.id)
            if stored is None:
                raise NotFoundError(f"no operation {plan.id!r}", field="operation_id")
            if stored.party != principal.name:
                raise ForbiddenError("only the filing party may update its operation", field="operation_id")
            if stored.state not in _LIVE:
                raise ConflictError(f"operation {plan.id!r} is {stored.state}", field="operation_id")
        version += 1
        conflicts = service.index.check(plan)
        records = [conflict_record(c) for c in conflicts]
        # Humanitarian sites and movements in force (service/notifications.py): a conflict
        # each, told to both sides; a notifier's ``on_conflict: refuse`` refuses the filing.
        humanitarian = notifications.operation_conflicts(conn, plan)
        zone_records = list(records)
        records += humanitarian.records
        base: dict[str, Any] = {
            "operation": operation_to_record(plan),
            "version": version,
            "conflicts": records,
        }
        if request is not None:
            base["request"] = dict(request)
        drafts: list[EntryDraft] = []
        message_ids: list[str] = []
        if any(_forbidding(c) for c in conflicts) or humanitarian.refused:
            # The refusal is told in the result (not accepted) and proven by this entry; a hotline
            # message from the filer to itself would only escalate against it.
            refused = {**base, "update": update_of is not None}
            drafts.append(EntryDraft(EntryType.OPERATION_REFUSED, principal.id, refused))
            return drafts, FilingResult(plan.id, version, False, records, message_ids)
        kind = EntryType.OPERATION_UPDATED if update_of else EntryType.OPERATION_FILED
        drafts.append(EntryDraft(kind, principal.id, base))
        for conflict, record in zip(conflicts, zone_records, strict=True):
            drafts.append(EntryDraft(EntryType.CONFLICT_DETECTED, OPERATOR, {"conflict": record}))
            told = _conflict_message(conn, service, conflict, plan, principal, now)
            if told is not None:
                message_ids.append(told.message_id)
                drafts.append(told.draft)
        told_drafts, told_ids = humanitarian.drafts(conn, plan, now)
        drafts += told_drafts
        message_ids += told_ids
        return drafts, FilingResult(plan.id, version, True, records, message_ids)

    return service.commit(build, decoded=(plan,))


def file_operation(
    service: Service,
    principal: Principal,
    document: object,
    request: Mapping[str, Any] | None = None,
    operation_id: str | None = None,
) -> FilingResult:
    """File a new operation (``operation_id``: the URL's, for a document that carries no
    id). The result says whether it was accepted: a refusal is recorded too, and is a
    result, not an error."""
    return _file(service, principal, document, request, None, operation_id)


def update_operation(
    service: Service,
    principal: Principal,
    operation_id: str,
    document: object,
    request: Mapping[str, Any] | None = None,
) -> FilingResult:
    """A new version of an accepted operation, checked again; a refused update leaves the
    previous version in force."""
    return _file(service, principal, document, request, operation_id)


@dataclass(frozen=True, slots=True)
class Cancelled:
    operation_id: str
    state: OperationState = OperationState.CANCELLED


def cancel_operation(
    service: Service, principal: Principal, operation_id: str, request: Mapping[str, Any] | None = None
) -> Cancelled:
    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], Cancelled]:
        stored = operation_store.operation_row(conn, operation_id)
        if stored is None:
            raise NotFoundError(f"no operation {operation_id!r}", field="operation_id")
        if stored.party != principal.name:
            raise ForbiddenError("only the filing party may cancel its operation", field="operation_id")
        if stored.state not in _LIVE:
            raise ConflictError(f"operation {operation_id!r} is {stored.state}", field="operation_id")
        # The version in force (a refused update is not in force).
        current = in_force(conn, operation_id)
        version = current.version if current is not None else 1
        payload: dict[str, Any] = {"operation_id": operation_id, "party": principal.name, "version": version}
        if request is not None:
            payload["request"] = dict(request)
        return [EntryDraft(EntryType.OPERATION_CANCELLED, principal.id, payload)], Cancelled(operation_id)

    return service.commit(build)


@dataclass(frozen=True, slots=True)
class HistoryStep:
    """One step of an operation: its ledger entry (``seq``), the version and record it
    concerned (no record for a cancellation), the conflict records found, and when."""

    seq: int
    step: str  # filed | updated | refused | cancelled
    version: int
    operation: dict[str, Any] | None
    conflicts: list[dict[str, Any]]
    at: str


def history(service: Service, principal: Principal, operation_id: str, full: bool) -> list[HistoryStep]:
    """Every step of an operation (filed, updated, refused, cancelled), oldest first. Only
    its own party (or ``full`` readers) may read it."""
    with service.read() as conn:
        rows = operation_store.history(conn, operation_id)
    if not rows or (not full and rows[0].party != principal.name):
        raise NotFoundError(f"no operation {operation_id!r}", field="operation_id")
    return [HistoryStep(r.seq, r.step, r.version, r.record, r.conflicts, ms_text(r.time_ms)) for r in rows]


def in_force(conn: Connection, operation_id: str) -> HistoryRow | None:
    """The history row of the version in force: the last one filed or updated (a refused
    update is not in force), or None."""
    return operation_store.last_step(conn, operation_id, ("filed", "updated"))


def load_operation(conn: Connection, operation_id: str) -> Operation | None:
    """The version in force of a stored operation (with its current state), or None."""
    stored = operation_store.operation_row(conn, operation_id)
    if stored is None:
        return None
    last = in_force(conn, operation_id)
    if last is None or last.record is None:
        return None
    return replace(operation_from_record(last.record), state=stored.state)


def list_operations(
    service: Service, principal: Principal, at: datetime | None = None
) -> list[dict[str, Any]]:
    """The live operations as ``principal`` may see them (``need_to_know``). ``at`` (the map's
    slider): the operations as the register knew them at that moment (``service/moment.py``:
    each as its version in force then, in its state then), those with a volume in force
    then, with those volumes only."""
    if at is None:
        held = service.live()
        operations, zones = held.operations, held.zones
        with service.read() as conn:
            members = zone_store.required_by_zone(conn)
        return visible_operations(principal, operations, zones, members)
    with database.snapshot(service.engine) as conn:  # the operations and zones of then, as one
        operations = moment.operations_at(conn, at)
        zones = moment.active_zones_at(conn, at)
        members = zone_store.required_by_zone(conn)
    # Need-to-know as now, over the picture of then; and before the volumes are cut to the
    # moment, not after: what a reader may see of another's operation depends on all of its
    # own operations live then, not only those with a volume in force at ``at``.
    visible = visible_operations(principal, operations, zones, members)
    in_force = {
        o.id: {i for i, v in enumerate(o.volumes) if moment.volume_in_force_at(v, at)} for o in operations
    }
    found = []
    for item in visible:
        kept = [v for v in item["volumes"] if v["index"] in in_force.get(item["id"], set())]
        if kept:
            found.append({**item, "volumes": kept})
    return found


def get_operation(service: Service, principal: Principal, operation_id: str) -> dict[str, Any]:
    """One operation as ``principal`` may see it; NotFoundError when it may see none of it."""
    held = service.live()
    operations, zones = held.operations, held.zones
    wanted = [o for o in operations if o.id == operation_id]
    if not wanted:
        with service.read() as conn:
            stored = load_operation(conn, operation_id)
        if stored is not None and (stored.party == principal.name or principal.role is Role.ADMIN):
            return full(stored)
        raise NotFoundError(f"no operation {operation_id!r}", field="operation_id")
    with service.read() as conn:
        members = zone_store.required_by_zone(conn)
    # The reader's own operations and zones decide what it may see of this one.
    visible = visible_operations(
        principal,
        [*wanted, *[o for o in operations if o.party == principal.name and o.id != operation_id]],
        zones,
        members,
    )
    for item in visible:
        if item["id"] == operation_id:
            return item
    raise NotFoundError(f"no operation {operation_id!r}", field="operation_id")


def activation_drafts(
    conn: Connection,
    service: Service,
    zone: Zone,
    principal: Principal,
    now: datetime,
    bound: list[str] | None = None,
) -> list[EntryDraft]:
    """When ``zone`` comes into force: its conflicts with the live operations already filed
    (recorded, and told to the operations' parties and the zone's members). Those
    operations stay accepted; the parties concerned now know. O(live operations).
    ``bound``: the parties the zone binds (its signatories); None: every party it restricts."""
    alone = StrategicIndex(service.altitude)
    alone.add_zone(zone, bound)
    operations = service.indexed().operations
    drafts: list[EntryDraft] = []
    for operation in operations:
        for conflict in alone.check(operation):
            record = conflict_record(conflict)
            drafts.append(EntryDraft(EntryType.CONFLICT_DETECTED, OPERATOR, {"conflict": record}))
            told = _conflict_message(conn, service, conflict, operation, principal, now, zone)
            if told is not None:
                drafts.append(told.draft)
    return drafts
