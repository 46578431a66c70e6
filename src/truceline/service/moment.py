"""The picture at a past moment (the map's time slider): the zones and operations as the
register knew them then.

A negotiated zone is shown with the version and the state its negotiation had at that moment
(its steps recorded by then, folded: ``domain/negotiation.py``); a party's operation with
its version filed by then, unless it had been cancelled by then. A zone proposed, or an
operation filed, after the moment is not in its picture.

Imports are the exception, on purpose. ``zone.imported`` entries and the operator's filings
of an import (``truceline import``, ``truceline demo``) bring in zones agreed and plans made
outside the register: the import's time says when the register was told, not when they
held. Such a zone or operation is shown at a moment by its volumes' windows alone, in the
state the import gave (a party's later update or cancellation of an imported operation
still counts from its own time). The demo shows why: it imports the scenario of 10 July
2017 at the system clock's time (its register runs on the wall clock, as a server's does;
the log's times are evidence of when entries were written, and are never back-dated), so
"as the register knew it then" alone would show an empty map at every moment of the
scenario, which is not what a reader of that day expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from truceline.domain.clock import to_ms
from truceline.domain.codec import operation_from_record, zone_from_record
from truceline.domain.negotiation import NegotiationAt, negotiation_at
from truceline.domain.operation import Operation
from truceline.domain.zone import Zone, ZoneState
from truceline.geo.volume import Volume4D
from truceline.service.auth import OPERATOR
from truceline.store import operations as operation_store
from truceline.store import zones as zone_store
from truceline.store.zones import NegotiationRow, VersionRow

# What an operation at a moment must not be to be shown (as the live index: service.py).
_CLOSED_STATES = ("cancelled", "ended")


@dataclass(frozen=True, slots=True)
class ZoneAt:
    """A negotiated zone at a moment: its negotiation then (``stood``), the version a picture
    shows (``shown``: in force, else current) as a zone, and the current version's row."""

    row: NegotiationRow
    stood: NegotiationAt
    shown: Zone
    shown_version: VersionRow
    current: VersionRow


def volume_in_force_at(volume: Volume4D, at: datetime) -> bool:
    """Whether ``volume`` is in force at ``at`` (its ``[start, end)`` window and schedule)."""
    t = at.timestamp()
    return next(volume.time.intervals(t, t + 0.001), None) is not None


def in_force_at(owner: Zone | Operation, at: datetime) -> bool:
    """Whether one of a zone's or an operation's volumes is in force at ``at``."""
    return any(volume_in_force_at(v, at) for v in owner.volumes)


def negotiated_at(conn: Connection, at: datetime) -> list[ZoneAt]:
    """Every negotiated zone the register knew of at ``at``, as its negotiation stood then,
    by id (whatever its volumes' windows: the caller chooses)."""
    at_ms = to_ms(at)
    steps = zone_store.steps_by_zone(conn)
    found = []
    for row in zone_store.negotiations(conn):
        stood = negotiation_at(steps.get(row.zone_id, []), at_ms)
        if stood is None:
            continue  # proposed after the moment
        shown = zone_store.version(conn, row.zone_id, stood.shown_version)
        current = (shown if stood.current_version == stood.shown_version
                   else zone_store.version(conn, row.zone_id, stood.current_version))
        if shown is None or current is None:  # a step names its version's entry: never
            continue
        found.append(ZoneAt(row, stood, zone_from_record(shown.record), shown, current))
    return found


def active_zones_at(conn: Connection, at: datetime) -> list[Zone]:
    """The zones active at ``at`` (what need-to-know looks at then): the negotiated ones in
    force then, as that version, and the imported ones the import made active."""
    negotiated = [z.shown for z in negotiated_at(conn, at) if z.stood.state == ZoneState.ACTIVE]
    ids = zone_store.negotiated_ids(conn)
    imported = [z for z in zone_store.load_zones(conn, ZoneState.ACTIVE) if z.id not in ids]
    return sorted([*negotiated, *imported], key=lambda z: z.id)


def operations_at(conn: Connection, at: datetime) -> list[Operation]:
    """The operations live at ``at``: each as its version in force then, in its state then
    (the version's own, as filed), by id; a cancelled or ended one is left out."""
    rows = operation_store.in_force_at(conn, to_ms(at), OPERATOR)
    return [
        operation_from_record(row.record)
        for row in rows
        if row.record is not None and row.record.get("state") not in _CLOSED_STATES
    ]
