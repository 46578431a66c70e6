"""ASTM F3548 views of what the register holds: an operation as the ``OperationalIntent``
and a zone as the ``Constraint`` that ``GET /operations/{id}`` and ``GET /zones/{id}`` give
for ``Accept: application/vnd.astm.f3548+json`` or ``?format=f3548`` (docs/formats.md).

Who may see what is decided as for the JSON answers (``filing.get_operation``,
``negotiation.get_zone``); this module only chooses the version and the manager's name
(the party's ``uss_manager`` alias, else its name) and hands them to ``io.f3548_out``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from truceline.domain.codec import operation_from_record, zone_from_record
from truceline.errors import ForbiddenError
from truceline.io.f3548_out import AltitudeNote, constraint, operational_intent
from truceline.service import filing, negotiation
from truceline.service.auth import Principal
from truceline.service.service import Service
from truceline.store import parties as party_store


@dataclass(frozen=True, slots=True)
class F3548View:
    """An F3548 document, and the volumes written in W84 through a conversion (F3548 knows no
    other reference: an AMSL, AGL or flight-level band is widened outward through the
    register's altitude model, so the written volume holds the true one)."""

    document: dict[str, Any]
    conversions: list[AltitudeNote]


def _manager(service: Service, party: str | None) -> str | None:
    if party is None:
        return None
    with service.read() as conn:
        row = party_store.party_by(conn, name=party)
    return None if row is None else row.uss_manager


def operational_intent_of(
    service: Service, principal: Principal, operation_id: str, uss_base_url: str
) -> F3548View:
    """The operation as an F3548 OperationalIntent; 404 as for JSON. A caller who may see
    only some of its volumes gets 403: F3548 has no intent without its state, and
    need-to-know withholds the state of another party's operation."""
    found = filing.get_operation(service, principal, operation_id)
    if found["redacted"]:
        raise ForbiddenError(
            f"operation {operation_id!r} is another party's: only the volumes that concern the "
            "caller are shown, and an F3548 operational intent needs its state; ask for JSON",
            field="format",
        )
    operation = operation_from_record(found)
    with service.read() as conn:
        in_force = filing.in_force(conn, operation_id)
    version = 1 if in_force is None else in_force.version
    notes: list[AltitudeNote] = []
    document = operational_intent(
        operation,
        manager=_manager(service, operation.party),
        version=version,
        uss_base_url=uss_base_url,
        model=service.altitude,
        notes=notes,
    )
    return F3548View(document, notes)


def constraint_of(service: Service, zone_id: str, uss_base_url: str) -> F3548View:
    """The zone as an F3548 Constraint: the version in force, else the current one."""
    found = negotiation.get_zone(service, zone_id)
    wanted = found.active_version or found.current_version
    record = next(v for v in negotiation.versions(service, zone_id) if v.version == wanted)
    zone = zone_from_record(record.zone)
    notes: list[AltitudeNote] = []
    document = constraint(
        zone,
        manager=_manager(service, zone.party),
        version=wanted,
        uss_base_url=uss_base_url,
        model=service.altitude,
        notes=notes,
    )
    return F3548View(document, notes)
