"""Volumes and their cells: the rows every zone and operation keeps its 4D volumes in.

Volumes keep their shape as the JSON record of ``truceline.domain.codec`` (exact round
trip) and also their altitudes and times as plain columns, so a query can filter before
decoding. The cell table is an ordinary (cell id, volume id) table so that any SQL engine
indexes it alike. ``zones`` and ``operations`` write an owner's row with its volumes here.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, bindparam, delete, insert, select

from truceline.domain.codec import shape_to_record, time_to_text, volume_from_record
from truceline.geo.cells import cover
from truceline.geo.volume import Volume4D
from truceline.store.schema import operations, volume_cells, volumes, zones

# Statements built once: building one (``insert(...).values(...)``) costs several times
# what executing it on SQLite does, and a filing writes half a dozen.
_INSERT_VOLUMES = insert(volumes)
_INSERT_CELLS = insert(volume_cells)
_DELETE_CELLS = delete(volume_cells).where(
    volume_cells.c.owner_kind == bindparam("of_kind"), volume_cells.c.owner_id == bindparam("of_id")
)
_DELETE_VOLUMES = delete(volumes).where(
    volumes.c.owner_kind == bindparam("of_kind"), volumes.c.owner_id == bindparam("of_id")
)
_DELETE_ZONE = delete(zones).where(zones.c.id == bindparam("of_id"))
_DELETE_OPERATION = delete(operations).where(operations.c.id == bindparam("of_id"))


def write_volumes(conn: Connection, owner_kind: str, owner_id: str, items: Sequence[Volume4D]) -> None:
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
                "altitude_reference": volume.altitude.reference_text,  # fits String(8): "AGL/AMSL"
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


def delete_owner(conn: Connection, owner_kind: str, owner_id: str) -> None:
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


def read_volumes(conn: Connection, owner_kind: str) -> dict[str, list[Volume4D]]:
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
