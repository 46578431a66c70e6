"""Reading and writing the projection tables: parties, zones, operations, volumes, cells.

Callers pass a Connection inside their own transaction, so the service can write a ledger
entry and its projection atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, delete, insert, select

from truceline.domain.codec import (
    rule_from_record,
    rule_to_record,
    shape_to_record,
    time_to_text,
    volume_from_record,
)
from truceline.domain.operation import Operation
from truceline.domain.party import Party
from truceline.domain.zone import Zone
from truceline.geo.cells import cover
from truceline.geo.volume import Volume4D
from truceline.store.projection_tables import (
    PROJECTION_TABLES,
    conflicts,
    operations,
    parties,
    volume_cells,
    volumes,
    zones,
)
from truceline.store.service_tables import SERVICE_TABLES


def save_party(
    conn: Connection, party: Party, public_key: str | None = None, token_hash: str | None = None
) -> None:
    conn.execute(
        insert(parties).values(
            id=party.id,
            name=party.name,
            role=str(party.role),
            language=party.language,
            public_key=public_key,
            token_hash=token_hash,
        )
    )


def load_parties(conn: Connection) -> list[Party]:
    rows = conn.execute(select(parties).order_by(parties.c.id))
    return [Party(r.id, r.name, r.role, r.language) for r in rows]


def _write_volumes(conn: Connection, owner_kind: str, owner_id: str, items: Sequence[Volume4D]) -> None:
    for idx, volume in enumerate(items):
        conn.execute(
            insert(volumes).values(
                owner_kind=owner_kind,
                owner_id=owner_id,
                idx=idx,
                shape=shape_to_record(volume.shape),
                altitude_lower_m=volume.altitude.lower_m,
                altitude_upper_m=volume.altitude.upper_m,
                altitude_reference=str(volume.altitude.reference),
                time_start=time_to_text(volume.time.start),
                time_end=None if volume.time.end is None else time_to_text(volume.time.end),
            )
        )
        key = {"owner_kind": owner_kind, "owner_id": owner_id, "idx": idx}
        conn.execute(insert(volume_cells), [{"cell": c, **key} for c in sorted(set(cover(volume.shape)))])


def _delete_volumes(conn: Connection, owner_kind: str, owner_id: str) -> None:
    conn.execute(
        delete(volume_cells).where(
            volume_cells.c.owner_kind == owner_kind, volume_cells.c.owner_id == owner_id
        )
    )
    conn.execute(delete(volumes).where(volumes.c.owner_kind == owner_kind, volumes.c.owner_id == owner_id))


def _read_volumes(conn: Connection, owner_kind: str) -> dict[str, list[Volume4D]]:
    rows = conn.execute(
        select(volumes).where(volumes.c.owner_kind == owner_kind).order_by(volumes.c.owner_id, volumes.c.idx)
    )
    by_owner: dict[str, list[Volume4D]] = {}
    for r in rows:
        by_owner.setdefault(r.owner_id, []).append(
            volume_from_record(
                {
                    "shape": r.shape,
                    "altitude_lower_m": r.altitude_lower_m,
                    "altitude_upper_m": r.altitude_upper_m,
                    "altitude_reference": r.altitude_reference,
                    "time_start": r.time_start,
                    "time_end": r.time_end,
                }
            )
        )
    return by_owner


def save_zone(conn: Connection, zone: Zone, state: str = "active") -> None:
    """Insert or replace ``zone`` with its volumes and cell covering."""
    delete_zone(conn, zone.id)
    conn.execute(
        insert(zones).values(
            id=zone.id,
            kind=str(zone.kind),
            name=zone.name,
            party=zone.party,
            rule=rule_to_record(zone.rule),
            state=state,
        )
    )
    _write_volumes(conn, "zone", zone.id, zone.volumes)


def delete_zone(conn: Connection, zone_id: str) -> None:
    _delete_volumes(conn, "zone", zone_id)
    conn.execute(delete(zones).where(zones.c.id == zone_id))


def load_zones(conn: Connection, state: str | None = None) -> list[Zone]:
    query = select(zones).order_by(zones.c.id)
    if state is not None:
        query = query.where(zones.c.state == state)
    by_owner = _read_volumes(conn, "zone")
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


def save_operation(conn: Connection, operation: Operation) -> None:
    """Insert or replace ``operation`` with its volumes and cell covering."""
    delete_operation(conn, operation.id)
    conn.execute(
        insert(operations).values(
            id=operation.id,
            party=operation.party,
            activity=str(operation.activity),
            state=str(operation.state),
            name=operation.name,
        )
    )
    _write_volumes(conn, "operation", operation.id, operation.volumes)


def delete_operation(conn: Connection, operation_id: str) -> None:
    _delete_volumes(conn, "operation", operation_id)
    conn.execute(delete(operations).where(operations.c.id == operation_id))


def load_operations(conn: Connection) -> list[Operation]:
    by_owner = _read_volumes(conn, "operation")
    return [
        Operation(
            id=r.id,
            party=r.party,
            activity=r.activity,
            volumes=tuple(by_owner.get(r.id, ())),
            state=r.state,
            name=r.name,
        )
        for r in conn.execute(select(operations).order_by(operations.c.id))
    ]


def volume_owners_in_cells(conn: Connection, cells: Iterable[int]) -> set[tuple[str, str]]:
    """(owner_kind, owner_id) of every stored volume whose covering shares one of ``cells``."""
    cell_list = list(cells)
    if not cell_list:
        return set()
    query = (
        select(volume_cells.c.owner_kind, volume_cells.c.owner_id)
        .where(volume_cells.c.cell.in_(cell_list))
        .distinct()
    )
    return {(r.owner_kind, r.owner_id) for r in conn.execute(query)}


def clear_projections(conn: Connection) -> None:
    """Empty every projection table (before a rebuild from the ledger)."""
    for table in (*SERVICE_TABLES, *PROJECTION_TABLES):
        conn.execute(delete(table))


def save_conflict(conn: Connection, record: dict, seq: int) -> None:
    key = (record["kind"], record["a"], record["b"])
    conn.execute(
        delete(conflicts).where(conflicts.c.kind == key[0], conflicts.c.a == key[1], conflicts.c.b == key[2])
    )
    conn.execute(insert(conflicts).values(kind=key[0], a=key[1], b=key[2], record=record, seq=seq))


def load_conflicts(conn: Connection) -> list[dict]:
    rows = conn.execute(select(conflicts.c.record).order_by(conflicts.c.kind, conflicts.c.a, conflicts.c.b))
    return [r.record for r in rows]


def snapshot(conn: Connection) -> dict[str, list[tuple]]:
    """Every projection row in a fixed order: two snapshots are equal iff the tables are."""
    result = {}
    for table in (*PROJECTION_TABLES, *SERVICE_TABLES):
        order = [c for c in table.primary_key.columns]
        rows = conn.execute(select(table).order_by(*order))
        result[table.name] = [tuple(r) for r in rows]
    return result
