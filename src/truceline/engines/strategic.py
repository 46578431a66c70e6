"""Strategic deconfliction: planned operations against zones and against each other.

Pure computation: zones and operations in, conflicts out. A cell index proposes candidate
pairs and the exact 4D test (``truceline.geo.volume.overlap``) decides, so the result is
the same as a brute-force scan of every pair (the tests hold it to that).

Who a zone binds is data the caller passes (``add_zone(zone, bound)``): a zone binds every
party it restricts (``bound=None``, an operator's import) or only the named parties (the
signatories of a negotiated version in force). A restricted party the zone does not bind
gets a ``declared_zone`` conflict instead of a ``zone`` one: the zone is declared, not
recognised by it (docs/zones.md).

Altitudes in different references are compared through ``conversions`` (default: the EGM96
geoid alone, ``geo.altitude.AltitudeModel()``); a pair it cannot relate raises an
AltitudeReferenceError naming the zone or operation, and each conflict says which
conversion it took (``altitude_conversion``).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
from numba import njit

from truceline.domain.codec import time_to_text
from truceline.domain.operation import Operation
from truceline.domain.zone import Entry, Zone
from truceline.errors import AltitudeReferenceError
from truceline.geo.altitude import AltitudeBand, AltitudeModel, Conversions
from truceline.geo.cells import Box, BucketArrays, CellIndex
from truceline.geo.horizontal import prepare_shape
from truceline.geo.pair_discs import ShapeDiscs, known_discs, pair_verdict, shape_discs
from truceline.geo.shapes import shape_bounds
from truceline.geo.volume import Overlap, Volume4D, overlap


class ConflictKind(StrEnum):
    ZONE = "zone"  # an operation inside a zone whose rule applies to it and that binds its party
    DECLARED_ZONE = "declared_zone"  # the same, in a zone its party has not signed: not binding
    OPERATION = "operation"  # operations of different parties that intersect

    @property
    def of_zone(self) -> bool:
        """Whether ``b`` of such a conflict is a zone (binding or declared)."""
        return self is not ConflictKind.OPERATION


class _Measure:
    """The volume pairs behind one conflict and, once asked for, the largest overlap among
    them. A pair proven to conflict by its discs (geo.pair_discs) comes without its overlap:
    the check decides without the exact test, and the overlap (time, band, area) is computed
    by whoever first reads it (a record, a report). Pairs are kept in the order found."""

    __slots__ = ("_best", "_conversions", "_pairs")

    def __init__(self, conversions: Conversions) -> None:
        # (a_volume, b_volume, the plan's volume, the other's, its overlap if known)
        self._pairs: list[tuple[int, int, Volume4D, Volume4D, Overlap | None]] = []
        self._conversions = conversions
        self._best: tuple[Overlap, int, int] | None = None

    def add(
        self, a_volume: int, b_volume: int, plan: Volume4D, other: Volume4D, found: Overlap | None
    ) -> None:
        self._pairs.append((a_volume, b_volume, plan, other, found))
        self._best = None

    def best(self) -> tuple[Overlap, int, int]:
        """The overlap with the largest area (the first of equals) and its volume indices."""
        if self._best is None:
            best: tuple[Overlap, int, int] | None = None
            for a_volume, b_volume, plan, other, found in self._pairs:
                if found is None:
                    # in the plan's reference, as the exact test in ``check`` gives it
                    found = overlap(plan, other, self._conversions)
                    if found is None:  # never: the discs prove it; kept so a bug cannot invent one
                        raise AssertionError("a pair proven to conflict has no overlap")
                if best is None or found.area_m2 > best[0].area_m2:
                    best = (found, a_volume, b_volume)
            assert best is not None
            self._best = best
        return self._best

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Measure) and self.best() == other.best()

    def __repr__(self) -> str:
        return repr(self.best())


@dataclass(frozen=True, slots=True)
class Conflict:
    """One conflict per pair. For ``zone`` and ``declared_zone``: ``a`` is the operation id
    and ``b`` the zone id; for ``operation``: the two operation ids, ``a < b``. ``overlap``
    is the largest overlap (by horizontal area) among the pair's volumes, ``a_volume`` and
    ``b_volume`` the indices of its volumes; all three computed when first read."""

    kind: ConflictKind
    a: str
    b: str
    a_party: str
    b_party: str | None
    measure: _Measure = field(repr=False)
    entry: Entry | None = None  # the zone's entry rule, for zone conflicts
    # Operation conflicts: which side has the higher F3548 priority, "a", "b" or "equal";
    # None when either gives none (or for a zone conflict).
    priority: str | None = None

    @property
    def overlap(self) -> Overlap:
        return self.measure.best()[0]

    @property
    def a_volume(self) -> int:
        """Index of the volume of ``a`` with the largest overlap."""
        return self.measure.best()[1]

    @property
    def b_volume(self) -> int:
        return self.measure.best()[2]


# Zone and operation volumes share one cell index (one lookup per plan volume). Each indexed
# volume has a slot: an int key in the cell index and a row in numpy columns holding its
# band, time window, reference, bounds and discs, so the candidates of a check are filtered
# and most of them settled in one compiled pass (``_sift``); only what is left open reaches
# the exact test.
_ZONE, _OPERATION = "z", "o"

# No time tiers in the cell index (CellIndex can split keys by tier): a check takes every
# key of the cells it meets in one compiled pass (``_sift``), which drops those apart in time
# as cheaply as their bounds. Measured at 20,000 volumes: 38 us
# (p50) for that against 41 us for the tiered set lookups it replaced, and the load no
# longer files each volume under every 6-hour slice its window touches.


class _Columns:
    """Per-slot numbers for the compiled filter (``_sift``), growable; freed slots are reused."""

    def __init__(self, capacity: int = 1024) -> None:
        # lower_m, upper_m, start_s, end_s, min_lon, min_lat, max_lon, max_lat
        self.values = np.zeros((capacity, 8), dtype=np.float64)
        self.reference = np.zeros(capacity, dtype=np.int32)
        # what the pair verdict needs: the shape's discs (geo.pair_discs: lon, lat, inner_m,
        # outer_m) and "plain": 1.0 for one altitude reference and no weekly schedule, so that
        # the band and window compared as plain numbers are the exact test's own verdict
        self.slot_data = np.zeros((capacity, 5), dtype=np.float64)
        # a slot already met by this query (== mark): cells share keys, no unique() needed
        self.stamp = np.zeros(capacity, dtype=np.int64)
        self.mark = 0
        # a query's output: at most every slot once
        self.found = np.empty(capacity, dtype=np.int64)
        self.owner: list[tuple[str, str, int] | None] = [None] * capacity
        self._free = list(range(capacity - 1, -1, -1))
        self._reference_codes: dict[str, int] = {}

    def reference_code(self, band: AltitudeBand, *, query: bool = False) -> int:
        # A band with two references is never judged here (nor a query with one): its limits
        # cannot be compared with another band's as plain numbers.
        if band.lower_reference is not None:
            return -2 if query else -1
        return self._reference_codes.setdefault(str(band.reference), len(self._reference_codes))

    def _row(self, volume: Volume4D, discs: ShapeDiscs) -> tuple[tuple[float, ...], tuple[float, ...]]:
        a, t = volume.altitude, volume.time
        values = (a.lower_m, a.upper_m, t.start_s, t.end_s, *shape_bounds(volume.shape))
        plain = float(a.lower_reference is None and t.schedule is None)
        return values, (discs.lon, discs.lat, discs.inner_m, discs.outer_m, plain)

    def add(self, owner: tuple[str, str, int], volume: Volume4D) -> int:
        if not self._free:
            self._grow()
        slot = self._free.pop()
        values, slot_data = self._row(volume, shape_discs(volume.shape))
        self.values[slot] = values
        self.slot_data[slot] = slot_data
        self.reference[slot] = self.reference_code(volume.altitude)
        self.owner[slot] = owner
        return slot

    def add_many(self, owners: Sequence[tuple[str, str, int]], volumes: Sequence[Volume4D]) -> list[int]:
        """``add`` for each (owner, volume), the rows written in one numpy assignment. Discs
        not known (stored before revision 0012, or a polygon whose densified ring is not
        computed) are not computed here: such a volume's pairs go to the exact test."""
        while len(self._free) < len(owners):
            self._grow()
        slots = [self._free.pop() for _ in owners]
        rows, data_rows, codes = [], [], []
        for volume in volumes:
            values, slot_data = self._row(volume, known_discs(volume.shape))
            rows.append(values)
            data_rows.append(slot_data)
            codes.append(self.reference_code(volume.altitude))
        if slots:
            index = np.array(slots, dtype=np.intp)
            self.values[index] = np.array(rows, dtype=np.float64)
            self.slot_data[index] = np.array(data_rows, dtype=np.float64)
            self.reference[index] = np.array(codes, dtype=np.int32)
        for slot, owner in zip(slots, owners, strict=True):
            self.owner[slot] = owner
        return slots

    def remove(self, slot: int) -> None:
        self.owner[slot] = None
        self._free.append(slot)

    def _grow(self) -> None:
        old = len(self.owner)
        self.values = np.concatenate([self.values, np.zeros_like(self.values)])
        self.reference = np.concatenate([self.reference, np.zeros_like(self.reference)])
        self.slot_data = np.concatenate([self.slot_data, np.zeros_like(self.slot_data)])
        self.stamp = np.concatenate([self.stamp, np.zeros_like(self.stamp)])
        self.owner.extend([None] * old)
        self._free.extend(range(2 * old - 1, old - 1, -1))

    def rows(self, slots: np.ndarray) -> np.ndarray:
        """The slots' rows kept beside them in the cell index's buckets (``_sift`` reads them
        in order): lower_m, upper_m, start_s, end_s, the bounds, the reference's code, the
        slot itself (floats hold these ints exactly)."""
        return np.column_stack(
            [self.values[slots], self.reference[slots].astype(np.float64), slots.astype(np.float64)]
        )

    def sift(
        self, buckets: list[tuple[Box, BucketArrays]], volume: Volume4D
    ) -> tuple[np.ndarray, np.ndarray]:
        """The slots of the cells in ``buckets`` (CellIndex.bucket_arrays) that may conflict
        with ``volume``, each once, in slot order, and for each whether it surely does.
        Dropped: those surely apart in time, altitude or bounds, with ``overlap``'s own
        verdicts (half-open times, bands meeting at a boundary apart, bounds as geo.horizontal
        compares them), and, for a plain pair (see ``slot_data``), those whose discs are apart.
        Sure: a plain pair, meeting in time and altitude, whose discs prove the shapes
        conflict (geo.pair_discs). Bands in another reference are never judged here, so
        ``overlap`` raises on them as it must."""
        a, t = volume.altitude, volume.time
        x0, y0, x1, y1 = shape_bounds(volume.shape)
        d = shape_discs(volume.shape)
        plain = a.lower_reference is None and t.schedule is None
        self.mark += 1
        if len(self.found) < len(self.owner):
            self.found = np.empty(len(self.owner), dtype=np.int64)
        # one array of numbers: each argument costs numba's dispatcher about 0.3 us (measured)
        query = np.array((a.lower_m, a.upper_m, t.start_s, t.end_s, x0, y0, x1, y1, d.lon, d.lat,
                          d.inner_m, d.outer_m, self.reference_code(a, query=True), float(plain),
                          float(self.mark), 0.0, 0.0, 0.0, 0.0))
        n = 0
        for box, (boxes, ptr, _, rows) in buckets:
            query[15:19] = box
            n = _sift(boxes, ptr, rows, query, self.slot_data, self.stamp, self.found, n)
        # slot * 2 + sure: sorted, in slot order, as a set of keys would give them (which of a
        # pair's equal overlaps is reported must not depend on the order cells were met)
        coded = np.sort(self.found[:n])
        return coded >> 1, (coded & 1).astype(np.bool_)


@njit(cache=True)
def _sift(
    boxes: np.ndarray, ptr: np.ndarray, rows: np.ndarray, query: np.ndarray, slot_data: np.ndarray,
    stamp: np.ndarray, found: np.ndarray, n: int,
) -> int:  # fmt: skip
    """One bucket's part of ``_Columns.sift``: appends slot * 2 + sure to ``found`` from ``n``
    on and returns the new count. Compiled: a check meets some hundreds of keys (repeats
    included), each row read in order beside its key."""
    lower, upper, start, end, x0, y0, x1, y1 = query[:8]
    q_lon, q_lat, q_inner, q_outer = query[8], query[9], query[10], query[11]
    query_reference, query_plain, mark = query[12], query[13] == 1.0, int(query[14])
    q0, q1, q2, q3 = query[15], query[16], query[17], query[18]
    for i in range(boxes.shape[0]):
        if not (boxes[i, 0] <= q2 and q0 <= boxes[i, 2] and boxes[i, 1] <= q3 and q1 <= boxes[i, 3]):
            continue  # the cell's box misses the query box
        for k in range(ptr[i], ptr[i + 1]):
            v = rows[k]
            same = v[8] == query_reference
            if same and (
                v[0] >= upper or lower >= v[1] or v[2] >= end or start >= v[3]
                or v[6] < x0 or x1 < v[4] or v[7] < y0 or y1 < v[5]
            ):  # fmt: skip
                continue  # surely apart in altitude, time or bounds
            slot = int(v[9])
            if stamp[slot] == mark:
                continue  # met already in another cell
            stamp[slot] = mark
            verdict = 0
            if same and query_plain and slot_data[slot, 4] == 1.0:
                d = slot_data[slot]
                verdict = pair_verdict(q_lon, q_lat, q_inner, q_outer, d[0], d[1], d[2], d[3])
                if verdict < 0:
                    continue
            found[n] = 2 * slot + (1 if verdict > 0 else 0)
            n += 1
    return n


@contextmanager
def paused_collector() -> Iterator[None]:
    """The cyclic garbage collector off for a bulk load of long-lived objects (as it was
    after: a caller that had it off keeps it off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True, slots=True)
class Held:
    """What a strategic index holds: the zones in force and the live operations (named, so
    that no caller need remember an order)."""

    zones: list[Zone]
    operations: list[Operation]


class StrategicIndex:
    """Zones and operations indexed by cell, ready to check new plans against.

    Not thread-safe; build one per worker. Checking a plan does not add it: call
    ``add_operation`` once it is accepted.
    """

    def __init__(self, conversions: Conversions | None = None) -> None:
        self.conversions: Conversions = AltitudeModel() if conversions is None else conversions
        self._zones: dict[str, Zone] = {}
        # zone id -> the parties it binds; a zone absent here binds every party it restricts
        self._bound: dict[str, frozenset[str]] = {}
        self._operations: dict[str, Operation] = {}
        self._columns = _Columns()
        self._cells = CellIndex(rows=self._columns.rows)
        self._slots: dict[tuple[str, str], list[int]] = {}  # (kind, owner id) -> one slot per volume

    def add_zone(self, zone: Zone, bound: Iterable[str] | None = None) -> None:
        """Index ``zone``. ``bound``: the names of the parties it binds (the signatories of
        the version in force); None: it binds every party it restricts."""
        self.remove_zone(zone.id)
        self._zones[zone.id] = zone
        if bound is not None:
            self._bound[zone.id] = frozenset(bound)
        self._add(_ZONE, zone.id, zone.volumes)

    def remove_zone(self, zone_id: str) -> None:
        if self._zones.pop(zone_id, None) is not None:
            self._bound.pop(zone_id, None)
            self._remove(_ZONE, zone_id)

    def zone(self, zone_id: str) -> Zone | None:
        """The zone held under ``zone_id``, or None."""
        return self._zones.get(zone_id)

    def operation(self, operation_id: str) -> Operation | None:
        """The operation held under ``operation_id``, or None."""
        return self._operations.get(operation_id)

    def live(self) -> Held:
        """Copies of the zones and the operations held, in the order they were added."""
        return Held(list(self._zones.values()), list(self._operations.values()))

    def binds(self, zone_id: str, party: str) -> bool:
        """Whether the indexed zone ``zone_id`` binds ``party`` (were it restricted)."""
        bound = self._bound.get(zone_id)
        return bound is None or party in bound

    def add_operation(self, operation: Operation) -> None:
        self.remove_operation(operation.id)
        self._operations[operation.id] = operation
        self._add(_OPERATION, operation.id, operation.volumes)

    def remove_operation(self, operation_id: str) -> None:
        if self._operations.pop(operation_id, None) is not None:
            self._remove(_OPERATION, operation_id)

    def load(
        self, zones: Iterable[tuple[Zone, Iterable[str] | None]], operations: Iterable[Operation]
    ) -> None:
        """``add_zone(zone, bound)`` and ``add_operation`` for many at once (a start-up),
        then ``build_query_arrays``. Shapes are not prepared here: a stored shape's exact-test
        geometry is computed by the first check that meets it, so that start-up only reads
        (coverings and bounds remembered on the shapes by the store are used as they are).
        Ids are unique within one call."""
        # Without the cyclic collector meanwhile: every collection of the oldest generation
        # walks all that is loaded so far, so a load of 100,000 volumes spent most of its time
        # (41 s of 48, measured) collecting objects that are all alive.
        with paused_collector():
            self._load(zones, operations)
        self.build_query_arrays()

    def _load(
        self, zones: Iterable[tuple[Zone, Iterable[str] | None]], operations: Iterable[Operation]
    ) -> None:
        owners: list[tuple[str, str, int]] = []
        volumes: list[Volume4D] = []
        for zone, bound in zones:
            self.remove_zone(zone.id)
            self._zones[zone.id] = zone
            if bound is not None:
                self._bound[zone.id] = frozenset(bound)
            owners += [(_ZONE, zone.id, i) for i in range(len(zone.volumes))]
            volumes += zone.volumes
        for operation in operations:
            self.remove_operation(operation.id)
            self._operations[operation.id] = operation
            owners += [(_OPERATION, operation.id, i) for i in range(len(operation.volumes))]
            volumes += operation.volumes
        slots = self._columns.add_many(owners, volumes)
        for (kind, owner_id, _), slot in zip(owners, slots, strict=True):
            self._slots.setdefault((kind, owner_id), []).append(slot)
        self._cells.add_many(
            (slot, volume.shape, (0,))
            for slot, volume in zip(slots, volumes, strict=True)
        )

    def build_query_arrays(self) -> None:
        """Call after loading many zones and operations (see CellIndex.build_query_arrays)."""
        self._cells.build_query_arrays()

    def _add(self, kind: str, owner_id: str, volumes: Sequence[Volume4D]) -> None:
        slots = []
        for i, volume in enumerate(volumes):
            prepare_shape(volume.shape)
            slot = self._columns.add((kind, owner_id, i), volume)
            self._cells.add(slot, volume.shape)
            slots.append(slot)
        self._slots[(kind, owner_id)] = slots

    def _remove(self, kind: str, owner_id: str) -> None:
        for slot in self._slots.pop((kind, owner_id)):
            self._cells.remove(slot)
            self._columns.remove(slot)

    def check(self, plan: Operation) -> list[Conflict]:
        """Every conflict of ``plan`` with the indexed zones and other parties' operations.

        A candidate whose discs prove the conflict (geo.pair_discs, in ``_sift``) is not put
        through the exact test: its conflict's overlap is computed when first read."""
        by_pair: dict[tuple[ConflictKind, str, str], Conflict] = {}
        owners = self._columns.owner
        for i, volume in enumerate(plan.volumes):
            # every tier: the compiled filter below drops what is apart in time as cheaply
            buckets = self._cells.bucket_arrays(volume.shape)
            if not buckets:
                continue
            slots, sure = self._columns.sift(buckets, volume)
            for slot, certain in zip(slots.tolist(), sure.tolist(), strict=True):
                kind, owner_id, j = owners[slot]  # type: ignore[misc]  # a candidate slot is in use
                if kind == _ZONE:
                    zone = self._zones[owner_id]
                    if not zone.rule.applies_to(zone.party, plan.party, plan.activity):
                        continue
                    theirs = zone.volumes[j]
                    found = None if certain else self._overlap(volume, theirs, f"zone {owner_id!r}")
                    if found is None and not certain:
                        continue
                    binding = self.binds(owner_id, plan.party)
                    key = (ConflictKind.ZONE if binding else ConflictKind.DECLARED_ZONE, plan.id, owner_id)
                    conflict = by_pair.get(key)
                    if conflict is None:
                        conflict = by_pair[key] = Conflict(
                            key[0], plan.id, owner_id, plan.party, zone.party, _Measure(self.conversions),
                            zone.rule.entry,
                        )  # fmt: skip
                    conflict.measure.add(i, j, volume, theirs, found)
                else:
                    other = self._operations[owner_id]
                    if other.id == plan.id or other.party == plan.party:
                        continue
                    theirs = other.volumes[j]
                    found = None if certain else self._overlap(volume, theirs, f"operation {owner_id!r}")
                    if found is None and not certain:
                        continue
                    first, second = sorted((plan.id, other.id))
                    key = (ConflictKind.OPERATION, first, second)
                    conflict = by_pair.get(key)
                    if conflict is None:
                        conflict = by_pair[key] = _operation_conflict(plan, other, _Measure(self.conversions))
                    # named in sorted order (a < b), the overlap in the plan's reference
                    a_volume, b_volume = (i, j) if plan.id < other.id else (j, i)
                    conflict.measure.add(a_volume, b_volume, volume, theirs, found)
        return sort_conflicts(by_pair.values())

    def _overlap(self, a: Volume4D, b: Volume4D, what: str) -> Overlap | None:
        try:
            return overlap(a, b, self.conversions)
        except AltitudeReferenceError as error:
            raise error.located(what) from None


def _operation_conflict(x: Operation, y: Operation, measure: _Measure) -> Conflict:
    """The conflict between two operations, named in sorted order (a < b)."""
    if y.id < x.id:
        x, y = y, x
    priority = _priority_side(x.priority, y.priority)
    return Conflict(ConflictKind.OPERATION, x.id, y.id, x.party, y.party, measure, None, priority)


def _priority_side(a: int | None, b: int | None) -> str | None:
    """Which side has priority (F3548: greater is higher): "a", "b", "equal", or None."""
    if a is None or b is None:
        return None
    return "a" if a > b else "b" if b > a else "equal"


def sort_conflicts(conflicts: Iterable[Conflict]) -> list[Conflict]:
    """Zone conflicts (binding or declared) first, then by ids."""
    return sorted(conflicts, key=lambda c: (not c.kind.of_zone, c.a, c.b))


def find_conflicts(
    zones: Sequence[Zone],
    operations: Sequence[Operation],
    conversions: Conversions | None = None,
    bound: Mapping[str, Iterable[str]] | None = None,
) -> list[Conflict]:
    """Every conflict among ``operations`` and between them and ``zones``, each pair once.
    ``bound``: zone id -> the parties it binds; a zone not named there binds every party it
    restricts."""
    index = StrategicIndex(conversions)
    for zone in zones:
        index.add_zone(zone, None if bound is None else bound.get(zone.id))
    for operation in operations:
        index.add_operation(operation)
    found: dict[tuple[ConflictKind, str, str], Conflict] = {}
    for operation in operations:
        for conflict in index.check(operation):
            found[(conflict.kind, conflict.a, conflict.b)] = conflict
    return sort_conflicts(found.values())


def conflict_record(conflict: Conflict) -> dict[str, Any]:
    """The JSON record of a conflict; a contract (docs/formats.md): ``kind``, ``a``, ``b``,
    ``time_start``, ``time_end`` (RFC 3339), ``altitude_lower_m``, ``altitude_upper_m``,
    ``area_m2``, ``altitude_conversion`` (the conversions between altitude references the
    verdict took, e.g. ``"EGM96"``; null: none), plus ``entry`` for zone conflicts (``zone``
    and ``declared_zone``), ``priority`` for operation conflicts (the side with the higher
    F3548 priority: "a", "b", "equal", or null when either gives none), and the parties for
    context."""
    o = conflict.overlap
    record: dict[str, Any] = {
        "kind": str(conflict.kind),
        "a": conflict.a,
        "b": conflict.b,
        "a_party": conflict.a_party,
        "b_party": conflict.b_party,
        "time_start": _rfc3339(o.time.start),
        "time_end": None if o.time.end is None else _rfc3339(o.time.end),
        "altitude_lower_m": None if math.isinf(o.altitude.lower_m) else o.altitude.lower_m,
        # An unlimited limit (math.inf) has no JSON spelling: null.
        "altitude_upper_m": None if math.isinf(o.altitude.upper_m) else o.altitude.upper_m,
        "altitude_reference": str(o.altitude.reference),
        "altitude_conversion": o.altitude_conversion,
        "area_m2": round(o.area_m2, 3),
    }
    if conflict.kind.of_zone:
        record["entry"] = str(conflict.entry)
    else:
        record["priority"] = conflict.priority
    return record


def _rfc3339(value: datetime) -> str:
    text = time_to_text(value)
    return text.replace(".000000Z", "Z")
