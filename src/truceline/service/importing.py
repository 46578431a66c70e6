"""The operator's import (``truceline import``, the demo): zones and operations from files,
through the same command path as the API.

An imported zone is what the parties agreed, brought in by the operator: it binds every
party it restricts (no signatures; docs/zones.md). Its conflicts with the live operations
already filed are recorded and told, as when a negotiated zone comes into force. Each
imported operation is checked as a filing is (``filing``): against the zones in force, the
live operations and what this import brought before it, and a forbidden zone that binds
its party refuses it; the refusal is written to the ledger (``operation.refused``) and the
operation is not stored. The whole import is one command: one transaction, through
``Service.commit``, so it reads under the log's write lock and is all written or not at all.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from truceline.domain.codec import operation_from_record, operation_to_record, zone_to_record
from truceline.domain.operation import Operation
from truceline.domain.party import Role
from truceline.domain.zone import Zone
from truceline.engines.strategic import StrategicIndex, conflict_record, sort_conflicts
from truceline.errors import ValidationError
from truceline.ledger.entries import EntryDraft, EntryType
from truceline.service.auth import OPERATOR, Principal
from truceline.service.filing import _conflict_message, _forbidding
from truceline.service.service import Service
from truceline.store import operations as operation_store
from truceline.store import zones as zone_store

# The operator, as the author and sender of what an import causes.
OPERATOR_PRINCIPAL = Principal(OPERATOR, OPERATOR, Role.ADMIN, "en")


@dataclass(frozen=True, slots=True)
class Refusal:
    """An operation a zone that binds its party forbids: recorded as refused, not stored."""

    operation: Operation
    conflicts: list[dict[str, Any]]  # conflict records, the forbidding ones among them


@dataclass(frozen=True, slots=True)
class ImportResult:
    zones: int
    operations: int  # accepted and stored
    conflicts: list[dict[str, Any]]  # the conflict records written (``conflict.detected``)
    entries: int
    refused: list[Refusal] = field(default_factory=list)


def _check_ids(conn: Connection, zones: Sequence[Zone], operations: Sequence[Operation]) -> None:
    for what, ids in (("zone", [z.id for z in zones]), ("operation", [o.id for o in operations])):
        twice = sorted(i for i, n in Counter(ids).items() if n > 1)
        if twice:
            raise ValidationError(f"{what} id {twice[0]!r} appears twice", field="id")
    for zone in zones:
        if zone_store.stored_state(conn, zone.id) is not None or zone_store.is_negotiated(conn, zone.id):
            raise ValidationError(f"zone {zone.id!r} is already stored", field="id")
    for operation in operations:
        # A refused or cancelled operation keeps its id, as for a filing.
        if operation_store.id_taken(conn, operation.id):
            raise ValidationError(f"operation {operation.id!r} is already stored", field="id")


def import_features(service: Service, zones: Sequence[Zone], operations: Sequence[Operation]) -> ImportResult:
    """Import ``zones`` (active, binding every party they restrict) and ``operations``
    (each checked as a filing is), in one command. Raises (nothing written) on a taken id
    or a comparison that cannot be made (e.g. altitudes in references with no conversion)."""
    for operation in operations:
        operation_store.prepare_operation(operation)  # here, not in the writer's queue

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], ImportResult]:
        _check_ids(conn, zones, operations)
        drafts = [
            EntryDraft(EntryType.ZONE_IMPORTED, OPERATOR, {"zone": zone_to_record(z), "state": "active"})
            for z in zones
        ]
        # What this import brought so far: the service's index holds only what is committed.
        brought = StrategicIndex(service.altitude)
        for zone in zones:
            brought.add_zone(zone)  # binding every party it restricts
        brought.build_query_arrays()
        # The new zones against the live operations already filed, as when a zone comes into
        # force (filing.activation_drafts), in one pass over them for all the zones.
        for operation in service.indexed().operations if zones else ():
            for conflict in brought.check(operation):
                record = conflict_record(conflict)
                drafts.append(EntryDraft(EntryType.CONFLICT_DETECTED, OPERATOR, {"conflict": record}))
                zone = brought.zone(conflict.b)
                told = _conflict_message(conn, service, conflict, operation, OPERATOR_PRINCIPAL, now, zone)
                if told is not None:
                    drafts.append(told.draft)
        refused: list[Refusal] = []
        accepted = 0
        for operation in operations:
            conflicts = sort_conflicts([*service.index.check(operation), *brought.check(operation)])
            records = [conflict_record(c) for c in conflicts]
            base = {"operation": operation_to_record(operation), "version": 1, "conflicts": records}
            if any(_forbidding(c) for c in conflicts):
                drafts.append(EntryDraft(EntryType.OPERATION_REFUSED, OPERATOR, {**base, "update": False}))
                refused.append(Refusal(operation, records))
                continue
            drafts.append(EntryDraft(EntryType.OPERATION_FILED, OPERATOR, base))
            brought.add_operation(operation)
            accepted += 1
            for conflict, record in zip(conflicts, records, strict=True):
                drafts.append(EntryDraft(EntryType.CONFLICT_DETECTED, OPERATOR, {"conflict": record}))
                zone = brought.zone(conflict.b)
                told = _conflict_message(conn, service, conflict, operation, OPERATOR_PRINCIPAL, now, zone)
                if told is not None:
                    drafts.append(told.draft)
        recorded = [d.payload["conflict"] for d in drafts if d.type == EntryType.CONFLICT_DETECTED]
        return drafts, ImportResult(len(zones), accepted, recorded, 0, refused)

    done = service.commit_entries(build, decoded=tuple(operations))
    result = done.result
    return ImportResult(result.zones, result.operations, result.conflicts, len(done.entries), result.refused)


def refusals(service: Service) -> list[Refusal]:
    """The operations whose last step is a refusal and that were never stored (a refused
    update leaves its previous version stored, so it is not here), with the conflicts that
    refused them: what an import or a filing was refused."""
    with service.read() as conn:
        last = operation_store.last_steps_of_unstored(conn)
    refused = [r for r in last if r.step == "refused" and r.record is not None]
    return [Refusal(operation_from_record(r.record), list(r.conflicts)) for r in refused]
