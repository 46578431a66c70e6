"""Volumes and their cells: the rows every zone and operation keeps its 4D volumes in.

Volumes keep their shape as the JSON record of ``truceline.domain.codec`` (exact round
trip) and also their altitudes and times as plain columns, so a query can filter before
decoding. The cell table is an ordinary (cell id, volume id) table so that any SQL engine
indexes it alike. ``zones`` and ``operations`` write an owner's row with its volumes here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import fields
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Text, bindparam, cast, delete, insert, select

from truceline.domain.codec import (
    schedule_from_record,
    schedule_to_record,
    shape_to_record,
    time_from_text,
    time_to_text,
)
from truceline.geo.altitude import AltitudeBand, AltitudeReference
from truceline.geo.cells import cover, remember_cover
from truceline.geo.pair_discs import ShapeDiscs, remember_discs, shape_discs
from truceline.geo.shapes import shape_bounds, stored_shape
from truceline.geo.timewindow import Schedule, TimeWindow
from truceline.geo.volume import Volume4D
from truceline.store.schema import operations, volume_cells, volumes, zones

T = TypeVar("T")

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
        x0, y0, x1, y1 = shape_bounds(volume.shape)
        discs = shape_discs(volume.shape)
        schedule = volume.time.schedule
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
                "schedule": None if schedule is None else schedule_to_record(schedule),
                "min_lon": x0,
                "min_lat": y0,
                "max_lon": x1,
                "max_lat": y1,
                "disc_lon": discs.lon,
                "disc_lat": discs.lat,
                "disc_inner_m": discs.inner_m,
                "disc_outer_m": discs.outer_m,
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


def trusted(cls: type[T], **values: Any) -> T:
    """An instance of the frozen dataclass ``cls`` with these field values, its
    ``__post_init__`` (validation, normalisation) not run: for rows this store wrote, which
    were validated when filed. Every field must be given, in the form the constructor would
    have left it (enums as enums, derived fields computed).

    Why: start-up reads 100,000 volumes back, and their constructors' checks of values that
    passed them when filed were a quarter of it (1.3 s of 4.8, bench/startup.py)."""
    expected = _FIELD_COUNTS.get(cls)
    if expected is None:
        expected = _FIELD_COUNTS[cls] = len(fields(cls))  # type: ignore[arg-type]
    if len(values) != expected:
        raise TypeError(f"{cls.__name__} has {expected} fields, {len(values)} given")
    instance = object.__new__(cls)
    for name, value in values.items():
        object.__setattr__(instance, name, value)
    return instance


_FIELD_COUNTS: dict[type, int] = {}
_REFERENCES = {str(reference): reference for reference in AltitudeReference}


def read_volumes(conn: Connection, owner_kind: str) -> dict[str, list[Volume4D]]:
    """Every stored volume of ``owner_kind`` by owner id, in order, as the index needs them:
    shapes built without validating them again (they were, when saved), with their stored
    bounds, discs and cell covering remembered, so that indexing them computes no geometry
    (the start-up of a server with 100,000 volumes: issue 13); bands, windows and volumes
    built as ``trusted`` rows."""
    coverings = _coverings(conn, owner_kind)
    query = select(*_VOLUME_COLUMNS).where(volumes.c.owner_kind == owner_kind)
    by_owner: dict[str, list[Volume4D]] = {}
    for r in conn.execute(query.order_by(volumes.c.owner_id, volumes.c.idx)).all():
        shape = stored_shape(orjson.loads(r.shape))
        if r.min_lon is not None:  # null in rows written before revision 0008
            shape._cache["bounds"] = (r.min_lon, r.min_lat, r.max_lon, r.max_lat)
        if r.disc_outer_m is not None:  # null before revision 0012: the exact test decides
            remember_discs(shape, ShapeDiscs(r.disc_lon, r.disc_lat, r.disc_inner_m, r.disc_outer_m))
        cells = coverings.get((r.owner_id, r.idx))
        if cells:
            remember_cover(shape, cells)
        lower, upper, end = r.altitude_lower_m, r.altitude_upper_m, r.time_end
        lower_text, _, upper_text = r.altitude_reference.partition("/")  # "AMSL" or "AGL/AMSL"
        start_time = time_from_text(r.time_start, "time_start")
        end_time = None if end is None else time_from_text(end, "time_end")
        by_owner.setdefault(r.owner_id, []).append(
            trusted(
                Volume4D,
                shape=shape,
                altitude=trusted(
                    AltitudeBand,
                    lower_m=-math.inf if lower is None else lower,
                    upper_m=math.inf if upper is None else upper,
                    reference=_REFERENCES[upper_text or lower_text],
                    lower_reference=_REFERENCES[lower_text] if upper_text else None,
                ),
                time=trusted(
                    TimeWindow,
                    start=start_time,
                    end=end_time,
                    schedule=_schedule(r.schedule),
                    _start_s=start_time.timestamp(),
                    _end_s=math.inf if end_time is None else end_time.timestamp(),
                ),
            )
        )
    return by_owner


_VOLUME_COLUMNS = (
    # the shape's JSON as text, parsed by orjson: a third of json's time, for 100,000 rows
    volumes.c.owner_id, volumes.c.idx, cast(volumes.c.shape, Text).label("shape"), volumes.c.altitude_lower_m,
    volumes.c.altitude_upper_m, volumes.c.altitude_reference, volumes.c.time_start, volumes.c.time_end,
    volumes.c.min_lon, volumes.c.min_lat, volumes.c.max_lon, volumes.c.max_lat,
    volumes.c.disc_lon, volumes.c.disc_lat, volumes.c.disc_inner_m, volumes.c.disc_outer_m,
    # as text too: nearly every row holds JSON null, which the JSON type would parse row by row
    cast(volumes.c.schedule, Text).label("schedule"),
)  # fmt: skip


def _schedule(text: str | None) -> Schedule | None:
    """A row's schedule from its JSON text (``null`` or SQL NULL: none)."""
    if text is None or text == "null":
        return None
    return schedule_from_record(orjson.loads(text))


def _coverings(conn: Connection, owner_kind: str) -> dict[tuple[str, int], list[int]]:
    """(owner id, volume index) -> the cells stored for it, in one read of the cell table."""
    query = select(volume_cells.c.owner_id, volume_cells.c.idx, volume_cells.c.cell).where(
        volume_cells.c.owner_kind == owner_kind
    )
    found: dict[tuple[str, int], list[int]] = {}
    for owner_id, idx, cell in conn.execute(query).all():
        found.setdefault((owner_id, idx), []).append(cell)
    return found
