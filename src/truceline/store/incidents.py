"""Incidents' rows: each report, the zones it is attributed to, the corroborations
suggested between reports, and every step of each (``service.projection`` writes them).

Reads return frozen dataclasses; writers are the projector's and run inside the caller's
transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Row, func, insert, select, update

from truceline.store.schema import incident_links, incident_steps, incident_zones, incidents


@dataclass(frozen=True, slots=True)
class IncidentRow:
    id: str
    instance_id: str
    reporter: str  # party id
    category: str
    observation: str
    state: str
    verified: bool
    observed_start_ms: int
    observed_end_ms: int
    lon: float
    lat: float
    uncertainty_m: float
    record: dict[str, Any]
    content_hash: str
    deprecated_id: str | None
    superseded_by: str | None
    seq: int
    time_ms: int


@dataclass(frozen=True, slots=True)
class ZoneLinkRow:
    incident_id: str
    zone_id: str
    relation: str  # inside | possibly_inside


@dataclass(frozen=True, slots=True)
class LinkRow:
    incident_id: str
    other_id: str
    gap_m: float
    gap_s: float
    seq: int


@dataclass(frozen=True, slots=True)
class StepRow:
    seq: int
    incident_id: str
    step: str
    party_id: str | None
    reason: str | None
    time_ms: int


@dataclass(frozen=True, slots=True)
class Filter:
    """What ``find`` selects; None: any. ``since``/``until`` bound the observed time (ms):
    a report counts when its observed range meets [since, until)."""

    zone_id: str | None = None
    since_ms: int | None = None
    until_ms: int | None = None
    category: str | None = None
    state: str | None = None
    current_only: bool = False  # leave out reports an edit replaced


def _incident(row: Row[Any]) -> IncidentRow:
    return IncidentRow(**{c.name: row._mapping[c] for c in incidents.columns})


# --- reads ------------------------------------------------------------------------------


def by_id(conn: Connection, incident_id: str) -> IncidentRow | None:
    row = conn.execute(select(incidents).where(incidents.c.id == incident_id)).first()
    return None if row is None else _incident(row)


def by_instance(conn: Connection, instance_id: str) -> IncidentRow | None:
    row = conn.execute(select(incidents).where(incidents.c.instance_id == instance_id)).first()
    return None if row is None else _incident(row)


def find(conn: Connection, where: Filter, limit: int | None = None) -> list[IncidentRow]:
    """The reports ``where`` selects, oldest observation first (then by id)."""
    query = select(incidents)
    if where.zone_id is not None:
        query = query.join(incident_zones, incident_zones.c.incident_id == incidents.c.id).where(
            incident_zones.c.zone_id == where.zone_id
        )
    if where.since_ms is not None:
        query = query.where(incidents.c.observed_end_ms >= where.since_ms)
    if where.until_ms is not None:
        query = query.where(incidents.c.observed_start_ms < where.until_ms)
    if where.category is not None:
        query = query.where(incidents.c.category == where.category)
    if where.state is not None:
        query = query.where(incidents.c.state == where.state)
    if where.current_only:
        query = query.where(incidents.c.superseded_by.is_(None))
    query = query.order_by(incidents.c.observed_start_ms, incidents.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [_incident(r) for r in conn.execute(query)]


def observed_between(conn: Connection, start_ms: int, end_ms: int) -> list[IncidentRow]:
    """Current reports (not withdrawn, not replaced) whose observed range meets [start, end]."""
    query = (
        select(incidents)
        .where(
            incidents.c.observed_start_ms <= end_ms,
            incidents.c.observed_end_ms >= start_ms,
            incidents.c.state != "withdrawn",
            incidents.c.superseded_by.is_(None),
        )
        .order_by(incidents.c.observed_start_ms, incidents.c.id)
    )
    return [_incident(r) for r in conn.execute(query)]


def zones_of(conn: Connection, incident_ids: Sequence[str]) -> dict[str, list[ZoneLinkRow]]:
    """Incident id -> the zones it is attributed to, by zone id."""
    found: dict[str, list[ZoneLinkRow]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return found
    query = (
        select(incident_zones)
        .where(incident_zones.c.incident_id.in_(list(incident_ids)))
        .order_by(incident_zones.c.incident_id, incident_zones.c.zone_id)
    )
    for r in conn.execute(query):
        found[r.incident_id].append(ZoneLinkRow(r.incident_id, r.zone_id, r.relation))
    return found


def relations_in_zone(conn: Connection, zone_id: str) -> dict[str, str]:
    """Incident id -> its relation to ``zone_id`` (inside | possibly_inside)."""
    query = select(incident_zones.c.incident_id, incident_zones.c.relation).where(
        incident_zones.c.zone_id == zone_id
    )
    return {r.incident_id: r.relation for r in conn.execute(query)}


def links_of(conn: Connection, incident_ids: Sequence[str]) -> dict[str, list[LinkRow]]:
    """Incident id -> the corroborations suggested for it, oldest first."""
    found: dict[str, list[LinkRow]] = {i: [] for i in incident_ids}
    if not incident_ids:
        return found
    query = (
        select(incident_links)
        .where(incident_links.c.incident_id.in_(list(incident_ids)))
        .order_by(incident_links.c.incident_id, incident_links.c.seq)
    )
    for r in conn.execute(query):
        found[r.incident_id].append(LinkRow(**{c.name: r._mapping[c] for c in incident_links.columns}))
    return found


def steps_of(conn: Connection, incident_id: str) -> list[StepRow]:
    query = select(incident_steps).where(
        incident_steps.c.incident_id == incident_id
    ).order_by(incident_steps.c.seq)
    return [StepRow(**{c.name: r._mapping[c] for c in incident_steps.columns}) for r in conn.execute(query)]


def step_counts_by_party(conn: Connection, step: str, incident_ids: Sequence[str]) -> dict[str, int]:
    """Party id -> how many of ``incident_ids`` it took ``step`` on (e.g. disputed)."""
    if not incident_ids:
        return {}
    query = (
        select(incident_steps.c.party_id, func.count(func.distinct(incident_steps.c.incident_id)))
        .where(incident_steps.c.step == step, incident_steps.c.incident_id.in_(list(incident_ids)))
        .group_by(incident_steps.c.party_id)
    )
    return {party: int(n) for party, n in conn.execute(query) if party is not None}


# --- the projector's writes -------------------------------------------------------------


def add_incident(conn: Connection, row: IncidentRow, zones: Sequence[ZoneLinkRow]) -> None:
    conn.execute(insert(incidents).values(**{c.name: getattr(row, c.name) for c in incidents.columns}))
    if zones:
        conn.execute(
            insert(incident_zones),
            [{"incident_id": z.incident_id, "zone_id": z.zone_id, "relation": z.relation} for z in zones],
        )


def set_incident(conn: Connection, incident_id: str, **values: Any) -> None:
    conn.execute(update(incidents).where(incidents.c.id == incident_id).values(**values))


def add_links(conn: Connection, rows: Sequence[LinkRow]) -> None:
    if rows:
        values = [{c.name: getattr(r, c.name) for c in incident_links.columns} for r in rows]
        conn.execute(insert(incident_links), values)


def add_step(conn: Connection, row: StepRow) -> None:
    conn.execute(
        insert(incident_steps).values(**{c.name: getattr(row, c.name) for c in incident_steps.columns})
    )
