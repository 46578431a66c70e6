"""Reading and writing the projection tables: parties, zones, operations, volumes, cells.

Callers pass a Connection inside their own transaction, so the service can write a ledger
entry and its projection atomically.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, bindparam, delete, insert, select

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
from truceline.store.schema import (
    PROJECTION_TABLES,
    SERVICE_TABLES,
    conflicts,
    operations,
    parties,
    volume_cells,
    volumes,
    zones,
)


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


# Statements built once: building one (``insert(...).values(...)``) costs several times
# what executing it on SQLite does, and a filing writes half a dozen.
_INSERT_VOLUMES = insert(volumes)
_INSERT_CELLS = insert(volume_cells)
_INSERT_ZONE = insert(zones)
_INSERT_OPERATION = insert(operations)
_DELETE_CELLS = delete(volume_cells).where(
    volume_cells.c.owner_kind == bindparam("of_kind"), volume_cells.c.owner_id == bindparam("of_id")
)
_DELETE_VOLUMES = delete(volumes).where(
    volumes.c.owner_kind == bindparam("of_kind"), volumes.c.owner_id == bindparam("of_id")
)
_DELETE_ZONE = delete(zones).where(zones.c.id == bindparam("of_id"))
_DELETE_OPERATION = delete(operations).where(operations.c.id == bindparam("of_id"))


def _write_volumes(conn: Connection, owner_kind: str, owner_id: str, items: Sequence[Volume4D]) -> None:
    """The volumes' rows and their cells' rows: one statement each for all of them."""
    if not items:
        return
    rows = []
    cell_rows = []
    for idx, volume in enumerate(items):
        rows.append(
            {
                "owner_kind": owner_kind,
                "owner_id": owner_id,
                "idx": idx,
                "shape": shape_to_record(volume.shape),
                "altitude_lower_m": volume.altitude.lower_m,
                "altitude_upper_m": volume.altitude.upper_m,
                "altitude_reference": str(volume.altitude.reference),
                "time_start": time_to_text(volume.time.start),
                "time_end": None if volume.time.end is None else time_to_text(volume.time.end),
            }
        )
        cell_rows += [
            {"cell": c, "owner_kind": owner_kind, "owner_id": owner_id, "idx": idx}
            for c in sorted(set(cover(volume.shape)))
        ]
    conn.execute(_INSERT_VOLUMES, rows)
    if cell_rows:
        conn.execute(_INSERT_CELLS, cell_rows)


def prepare_operation(operation: Operation) -> None:
    """Compute ahead what saving ``operation`` needs most time for: its volumes' cell
    coverings (memoised on the shapes, so the save reuses them). A service calls this
    before taking its writer's lock: a covering is about a quarter of the writer's time
    for a filing, and every queued filing waits for the writer."""
    for volume in operation.volumes:
        cover(volume.shape)


def _delete_owner(conn: Connection, owner_kind: str, owner_id: str) -> None:
    """Delete an owner (zone or operation) row and, if there was one, its volumes and cells.
    Volumes are only ever written with their owner's row and deleted with it, so an owner
    that is not stored has none: a new filing's save costs one statement here, not three."""
    owner = {"of_id": owner_id}
    table_delete = _DELETE_ZONE if owner_kind == "zone" else _DELETE_OPERATION
    if conn.execute(table_delete, owner).rowcount == 0:
        return
    key = {"of_kind": owner_kind, "of_id": owner_id}
    conn.execute(_DELETE_CELLS, key)  # cells first: they reference their volume
    conn.execute(_DELETE_VOLUMES, key)


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
    _write_volumes(conn, "zone", zone.id, zone.volumes)


def delete_zone(conn: Connection, zone_id: str) -> None:
    _delete_owner(conn, "zone", zone_id)


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
    insert_operation(conn, operation)


def insert_operation(conn: Connection, operation: Operation) -> None:
    """Insert ``operation``, known not to be stored (a new filing), with its volumes and
    cell covering; one statement fewer than ``save_operation`` (a wrong guess fails on the
    primary key, it never duplicates)."""
    conn.execute(
        _INSERT_OPERATION,
        {
            "id": operation.id,
            "party": operation.party,
            "activity": str(operation.activity),
            "state": str(operation.state),
            "name": operation.name,
        },
    )
    _write_volumes(conn, "operation", operation.id, operation.volumes)


def delete_operation(conn: Connection, operation_id: str) -> None:
    _delete_owner(conn, "operation", operation_id)


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


_DELETE_CONFLICT = delete(conflicts).where(
    conflicts.c.kind == bindparam("of_kind"),
    conflicts.c.a == bindparam("of_a"),
    conflicts.c.b == bindparam("of_b"),
)
_INSERT_CONFLICT = insert(conflicts)


def save_conflict(conn: Connection, record: dict, seq: int) -> None:
    conn.execute(_DELETE_CONFLICT, {"of_kind": record["kind"], "of_a": record["a"], "of_b": record["b"]})
    conn.execute(
        _INSERT_CONFLICT,
        {"kind": record["kind"], "a": record["a"], "b": record["b"], "record": record, "seq": seq},
    )


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
