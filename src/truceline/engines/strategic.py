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
from dataclasses import dataclass
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
from truceline.geo.cells import CellIndex
from truceline.geo.horizontal import prepare_shape
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


@dataclass(frozen=True, slots=True)
class Conflict:
    """One conflict per pair. For ``zone`` and ``declared_zone``: ``a`` is the operation id
    and ``b`` the zone id; for ``operation``: the two operation ids, ``a < b``. ``overlap``
    is the largest overlap (by horizontal area) among the pair's volumes."""

    kind: ConflictKind
    a: str
    b: str
    a_party: str
    b_party: str | None
    overlap: Overlap
    entry: Entry | None = None  # the zone's entry rule, for zone conflicts
    a_volume: int = 0  # index of the volume of ``a`` with the largest overlap
    b_volume: int = 0
    # Operation conflicts: which side has the higher F3548 priority, "a", "b" or "equal";
    # None when either gives none (or for a zone conflict).
    priority: str | None = None


# Zone and operation volumes share one cell index (one lookup per plan volume). Each indexed
# volume has a slot: an int key in the cell index and a row in numpy columns holding its
# band, time window, reference and bounds, so the candidates of a check are filtered in one
# compiled pass (``_possible``); only survivors reach Python and the exact test.
_ZONE, _OPERATION = "z", "o"

# No time tiers in the cell index (CellIndex can split keys by tier): a check takes every
# key of the cells it meets in one compiled pass (CellIndex.candidate_keys) and ``_possible``
# drops those apart in time as cheaply as their bounds. Measured at 20,000 volumes: 38 us
# (p50) for that against 41 us for the tiered set lookups it replaced, and the load no
# longer files each volume under every 6-hour slice its window touches.


class _Columns:
    """Per-slot numbers for the compiled rejection (``_possible``), growable; freed slots are reused."""

    def __init__(self, capacity: int = 1024) -> None:
        # lower_m, upper_m, start_s, end_s, min_lon, min_lat, max_lon, max_lat
        self.values = np.zeros((capacity, 8), dtype=np.float64)
        self.reference = np.zeros(capacity, dtype=np.int32)
        self.owner: list[tuple[str, str, int] | None] = [None] * capacity
        self._free = list(range(capacity - 1, -1, -1))
        self._reference_codes: dict[str, int] = {}

    def reference_code(self, band: AltitudeBand, *, query: bool = False) -> int:
        # A band with two references is never judged here (nor a query with one): its limits
        # cannot be compared with another band's as plain numbers.
        if band.lower_reference is not None:
            return -2 if query else -1
        return self._reference_codes.setdefault(str(band.reference), len(self._reference_codes))

    def add(self, owner: tuple[str, str, int], volume: Volume4D) -> int:
        if not self._free:
            self._grow()
        slot = self._free.pop()
        a, t = volume.altitude, volume.time
        self.values[slot] = (a.lower_m, a.upper_m, t.start_s, t.end_s, *shape_bounds(volume.shape))
        self.reference[slot] = self.reference_code(a)
        self.owner[slot] = owner
        return slot

    def add_many(self, owners: Sequence[tuple[str, str, int]], volumes: Sequence[Volume4D]) -> list[int]:
        """``add`` for each (owner, volume), the rows written in one numpy assignment."""
        while len(self._free) < len(owners):
            self._grow()
        slots = [self._free.pop() for _ in owners]
        rows = []
        codes = []
        for volume in volumes:
            a, t = volume.altitude, volume.time
            rows.append((a.lower_m, a.upper_m, t.start_s, t.end_s, *shape_bounds(volume.shape)))
            codes.append(self.reference_code(a))
        if slots:
            index = np.array(slots, dtype=np.intp)
            self.values[index] = np.array(rows, dtype=np.float64)
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
        self.owner.extend([None] * old)
        self._free.extend(range(2 * old - 1, old - 1, -1))

    def possible(self, slots: np.ndarray, volume: Volume4D) -> np.ndarray:
        """The slots that may conflict with ``volume``: those surely apart in time, altitude or
        bounds are dropped, with ``overlap``'s own verdicts (half-open times, bands meeting at a
        boundary apart, bounds as geo.horizontal compares them). Bands in another reference
        are never judged here, so ``overlap`` raises on them as it must."""
        a, t = volume.altitude, volume.time
        x0, y0, x1, y1 = shape_bounds(volume.shape)
        query = np.array((a.lower_m, a.upper_m, t.start_s, t.end_s, x0, y0, x1, y1))
        return _possible(self.values, self.reference, slots, query, self.reference_code(a, query=True))


@njit(cache=True)
def _possible(
    values: np.ndarray, reference: np.ndarray, slots: np.ndarray, query: np.ndarray, query_reference: int
) -> np.ndarray:
    # compiled: a check has a few dozen candidates, where numpy's per-call overhead would
    # cost more than the comparisons themselves
    lower, upper, start, end, x0, y0, x1, y1 = query
    kept = np.empty(slots.shape[0], dtype=slots.dtype)
    n = 0
    for slot in slots:
        v = values[slot]
        apart = (
            v[0] >= upper or lower >= v[1] or v[2] >= end or start >= v[3]
            or v[6] < x0 or x1 < v[4] or v[7] < y0 or y1 < v[5]
        )  # fmt: skip
        if not (apart and reference[slot] == query_reference):
            kept[n] = slot
            n += 1
    return kept[:n]


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


def _larger(current: Conflict | None, candidate: Conflict) -> Conflict:
    if current is None or candidate.overlap.area_m2 > current.overlap.area_m2:
        return candidate
    return current


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
        self._cells = CellIndex()
        self._columns = _Columns()
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
        """Every conflict of ``plan`` with the indexed zones and other parties' operations."""
        by_pair: dict[tuple[ConflictKind, str, str], Conflict] = {}
        owners = self._columns.owner
        for i, volume in enumerate(plan.volumes):
            # every tier: the compiled filter below drops what is apart in time as cheaply
            slots = self._cells.candidate_keys(volume.shape)
            if not slots.size:
                continue
            for slot in self._columns.possible(slots, volume).tolist():
                kind, owner_id, j = owners[slot]  # type: ignore[misc]  # a candidate slot is in use
                if kind == _ZONE:
                    zone = self._zones[owner_id]
                    if not zone.rule.applies_to(zone.party, plan.party, plan.activity):
                        continue
                    found = self._overlap(volume, zone.volumes[j], f"zone {owner_id!r}")
                    if found is None:
                        continue
                    binding = self.binds(owner_id, plan.party)
                    kind = ConflictKind.ZONE if binding else ConflictKind.DECLARED_ZONE
                    conflict = Conflict(
                        kind, plan.id, owner_id, plan.party, zone.party, found, zone.rule.entry, i, j,
                    )  # fmt: skip
                else:
                    other = self._operations[owner_id]
                    if other.id == plan.id or other.party == plan.party:
                        continue
                    found = self._overlap(volume, other.volumes[j], f"operation {owner_id!r}")
                    if found is None:
                        continue
                    conflict = _operation_conflict(plan, i, other, j, found)
                pair = (conflict.kind, conflict.a, conflict.b)
                by_pair[pair] = _larger(by_pair.get(pair), conflict)
        return sort_conflicts(by_pair.values())

    def _overlap(self, a: Volume4D, b: Volume4D, what: str) -> Overlap | None:
        try:
            return overlap(a, b, self.conversions)
        except AltitudeReferenceError as error:
            raise error.located(what) from None


def _operation_conflict(x: Operation, xi: int, y: Operation, yi: int, found: Overlap) -> Conflict:
    """The conflict between two operations, named in sorted order (a < b)."""
    if y.id < x.id:
        x, xi, y, yi = y, yi, x, xi
    priority = _priority_side(x.priority, y.priority)
    return Conflict(ConflictKind.OPERATION, x.id, y.id, x.party, y.party, found, None, xi, yi, priority)


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
