"""Zones' rows: the zones in force (``projections`` writes them with their volumes) and
the negotiations behind them: each negotiation, its versions, signatures and steps.

Reads return frozen dataclasses; writers are the projector's and run inside the caller's
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, Table, insert, select, update

from truceline.domain.codec import rule_from_record, rule_to_record
from truceline.domain.zone import Zone
from truceline.store import volumes
from truceline.store.schema import zone_negotiations, zone_signatures, zone_steps, zone_versions, zones


@dataclass(frozen=True, slots=True)
class NegotiationRow:
    zone_id: str
    kind: str
    name: str
    proposer: str  # party id
    proposer_name: str
    required: list[str]  # sorted party names whose signature is needed
    state: str  # proposed | active | rejected | withdrawn | expired
    current_version: int
    active_version: int | None
    ends_ms: int | None  # when the version in force (or proposed) ends; None: open
    seq: int  # the last entry that changed it


@dataclass(frozen=True, slots=True)
class VersionRow:
    zone_id: str
    version: int
    hash: str  # SHA-256 hex of the RFC 8785 zone record
    record: dict[str, Any]
    author: str  # party id
    seq: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class StepRow:
    seq: int
    zone_id: str
    step: str  # proposed | counter_proposed | signed | rejected | activated | withdrawn | expired
    party_id: str | None
    version: int | None
    reason: str | None
    time_ms: int


def _values(row: object, table: Table) -> dict[str, Any]:
    """A typed row's fields as the table's column values (the fields are named after them)."""
    return {c.name: getattr(row, c.name) for c in table.columns}


def _negotiation(row: Row[Any]) -> NegotiationRow:
    return NegotiationRow(**{c.name: row._mapping[c] for c in zone_negotiations.columns})


# --- reads ------------------------------------------------------------------------------


def negotiation(conn: Connection, zone_id: str) -> NegotiationRow | None:
    row = conn.execute(select(zone_negotiations).where(zone_negotiations.c.zone_id == zone_id)).first()
    return None if row is None else _negotiation(row)


def negotiations(conn: Connection, state: str | None = None) -> list[NegotiationRow]:
    """Every negotiated zone by id (``state``: in that state only)."""
    query = select(zone_negotiations).order_by(zone_negotiations.c.zone_id)
    if state is not None:
        query = query.where(zone_negotiations.c.state == state)
    return [_negotiation(r) for r in conn.execute(query)]


def expiring(conn: Connection, states: tuple[str, ...], at_ms: int) -> list[NegotiationRow]:
    """The negotiations in one of ``states`` whose time ends at or before ``at_ms``, by id."""
    query = (
        select(zone_negotiations)
        .where(
            zone_negotiations.c.state.in_(states),
            zone_negotiations.c.ends_ms.is_not(None),
            zone_negotiations.c.ends_ms <= at_ms,
        )
        .order_by(zone_negotiations.c.zone_id)
    )
    return [_negotiation(r) for r in conn.execute(query)]


def negotiated_ids(conn: Connection) -> set[str]:
    return set(conn.execute(select(zone_negotiations.c.zone_id)).scalars())


def is_negotiated(conn: Connection, zone_id: str) -> bool:
    query = select(zone_negotiations.c.zone_id).where(zone_negotiations.c.zone_id == zone_id)
    return conn.execute(query).first() is not None


def required_by_zone(conn: Connection) -> dict[str, set[str]]:
    """Negotiated zone id -> names of the parties whose signature it needs."""
    rows = conn.execute(select(zone_negotiations.c.zone_id, zone_negotiations.c.required))
    return {r.zone_id: set(r.required) for r in rows}


def stored_state(conn: Connection, zone_id: str) -> str | None:
    """The state of the zone in the zones table (imported or in force), None if not there."""
    return conn.execute(select(zones.c.state).where(zones.c.id == zone_id)).scalar()


def version(conn: Connection, zone_id: str, version_: int) -> VersionRow | None:
    row = conn.execute(
        select(zone_versions).where(zone_versions.c.zone_id == zone_id, zone_versions.c.version == version_)
    ).first()
    return None if row is None else VersionRow(**{c.name: row._mapping[c] for c in zone_versions.columns})


def versions(conn: Connection, zone_id: str) -> list[VersionRow]:
    rows = conn.execute(
        select(zone_versions).where(zone_versions.c.zone_id == zone_id).order_by(zone_versions.c.version)
    )
    return [VersionRow(**{c.name: r._mapping[c] for c in zone_versions.columns}) for r in rows]


def signers(conn: Connection, zone_id: str, version_: int) -> set[str]:
    """Ids of the parties that signed ``version_`` of the zone."""
    query = select(zone_signatures.c.party_id).where(
        zone_signatures.c.zone_id == zone_id, zone_signatures.c.version == version_
    )
    return set(conn.execute(query).scalars())


def signers_in_force(conn: Connection, zone_id: str | None = None) -> dict[str, list[str]]:
    """Negotiated zone id -> ids of the parties that signed its version in force, in the
    order they signed; zones without one in force are absent. ``zone_id``: that one only."""
    query = (
        select(zone_signatures.c.zone_id, zone_signatures.c.party_id)
        .select_from(
            zone_signatures.join(
                zone_negotiations,
                (zone_negotiations.c.zone_id == zone_signatures.c.zone_id)
                & (zone_negotiations.c.active_version == zone_signatures.c.version),
            )
        )
        .order_by(zone_signatures.c.zone_id)
    )
    if zone_id is not None:
        query = query.where(zone_signatures.c.zone_id == zone_id)
    found: dict[str, list[str]] = {}
    for row in conn.execute(query):
        found.setdefault(row.zone_id, []).append(row.party_id)
    return found


def _step_row(r: Row[Any]) -> StepRow:
    return StepRow(**{c.name: r._mapping[c] for c in zone_steps.columns})


def steps(conn: Connection, zone_id: str) -> list[StepRow]:
    rows = conn.execute(select(zone_steps).where(zone_steps.c.zone_id == zone_id).order_by(zone_steps.c.seq))
    return [_step_row(r) for r in rows]


def steps_by_zone(conn: Connection) -> dict[str, list[StepRow]]:
    """Every negotiation's steps, oldest first, by zone id."""
    found: dict[str, list[StepRow]] = {}
    for r in conn.execute(select(zone_steps).order_by(zone_steps.c.seq)):
        row = _step_row(r)
        found.setdefault(row.zone_id, []).append(row)
    return found


# --- the projector's writes -------------------------------------------------------------


def add_negotiation(conn: Connection, row: NegotiationRow) -> None:
    conn.execute(insert(zone_negotiations).values(**_values(row, zone_negotiations)))


def set_negotiation(conn: Connection, zone_id: str, seq: int, **values: Any) -> None:
    """Change a negotiation's columns (``values``), as entry ``seq`` does."""
    query = update(zone_negotiations).where(zone_negotiations.c.zone_id == zone_id)
    conn.execute(query.values(seq=seq, **values))


def negotiation_state(conn: Connection, zone_id: str) -> str:
    """Requires the negotiation to exist."""
    query = select(zone_negotiations.c.state).where(zone_negotiations.c.zone_id == zone_id)
    return str(conn.execute(query).scalar_one())


def add_version(conn: Connection, row: VersionRow) -> None:
    conn.execute(insert(zone_versions).values(**_values(row, zone_versions)))


def add_signature(conn: Connection, zone_id: str, version_: int, party_id: str, seq: int) -> None:
    values = {"zone_id": zone_id, "version": version_, "party_id": party_id, "seq": seq}
    conn.execute(insert(zone_signatures).values(**values))


def add_step(conn: Connection, row: StepRow) -> None:
    conn.execute(insert(zone_steps).values(**_values(row, zone_steps)))


# --- the zones in force, with their volumes ---------------------------------------------

_INSERT_ZONE = insert(zones)


def save_zone(conn: Connection, zone: Zone, state: str = "active") -> None:
    """Insert or replace ``zone`` with its volumes and cell covering."""
    delete_zone(conn, zone.id)
    conn.execute(
        _INSERT_ZONE,
        {
            "id": zone.id,
            "kind": str(zone.kind),
            "name": zone.name,
            "party": zone.party,
            "rule": rule_to_record(zone.rule),
            "state": state,
        },
    )
    volumes.write_volumes(conn, "zone", zone.id, zone.volumes)


def delete_zone(conn: Connection, zone_id: str) -> None:
    volumes.delete_owner(conn, "zone", zone_id)


def load_zones(conn: Connection, state: str | None = None) -> list[Zone]:
    query = select(zones).order_by(zones.c.id)
    if state is not None:
        query = query.where(zones.c.state == state)
    by_owner = volumes.read_volumes(conn, "zone")
    return [
        Zone(
            id=r.id,
            kind=r.kind,
            volumes=tuple(by_owner.get(r.id, ())),
            rule=rule_from_record(r.rule),
            party=r.party,
            name=r.name,
        )
        for r in conn.execute(query)
    ]
