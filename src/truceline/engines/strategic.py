"""Strategic deconfliction: planned operations against zones and against each other.

Pure computation: zones and operations in, conflicts out. A cell index proposes candidate
pairs and the exact 4D test (``truceline.geo.volume.overlap``) decides, so the result is
the same as a brute-force scan of every pair (the tests hold it to that).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from truceline.domain.codec import time_to_text
from truceline.domain.operation import Operation
from truceline.domain.zone import Entry, Zone
from truceline.geo.altitude import ReferenceConversions
from truceline.geo.cells import CellIndex
from truceline.geo.volume import Overlap, Volume4D, overlap


class ConflictKind(StrEnum):
    ZONE = "zone"  # an operation inside a zone whose rule applies to it
    OPERATION = "operation"  # operations of different parties that intersect


@dataclass(frozen=True, slots=True)
class Conflict:
    """One conflict per pair. For ``zone``: ``a`` is the operation id and ``b`` the zone id;
    for ``operation``: the two operation ids, ``a < b``. ``overlap`` is the largest overlap
    (by horizontal area) among the pair's volumes."""

    kind: ConflictKind
    a: str
    b: str
    a_party: str
    b_party: str | None
    overlap: Overlap
    entry: Entry | None = None  # the zone's entry rule, for zone conflicts
    a_volume: int = 0  # index of the volume of ``a`` with the largest overlap
    b_volume: int = 0


# Zone and operation volumes share one cell index (one covering of the plan per check);
# a key names the kind, the owner and the volume's index.
_ZONE, _OPERATION = "z", "o"


def _key(kind: str, owner: str, index: int) -> str:
    return f"{kind}\x1f{owner}\x1f{index}"


def _owner(key: str) -> tuple[str, str, int]:
    kind, owner, index = key.split("\x1f")
    return kind, owner, int(index)


def _band_key(volume: Volume4D) -> tuple[float, float, float, float, str]:
    a, t = volume.altitude, volume.time
    return (a.lower_m, a.upper_m, t.start_s, t.end_s, str(a.reference))


def _apart(a: tuple[float, float, float, float, str], b: tuple[float, float, float, float, str]) -> bool:
    """True when the two volumes surely share no time or no altitude: the same verdict as
    ``overlap`` (half-open times, bands meeting at a boundary apart). Bands in different
    references are never judged here, so ``overlap`` raises on them as it must."""
    return a[4] == b[4] and (a[0] >= b[1] or b[0] >= a[1] or a[2] >= b[3] or b[2] >= a[3])


def _larger(current: Conflict | None, candidate: Conflict) -> Conflict:
    if current is None or candidate.overlap.area_m2 > current.overlap.area_m2:
        return candidate
    return current


class StrategicIndex:
    """Zones and operations indexed by cell, ready to check new plans against.

    Not thread-safe; build one per worker. Checking a plan does not add it: call
    ``add_operation`` once it is accepted.
    """

    def __init__(self, conversions: ReferenceConversions | None = None) -> None:
        self.conversions = conversions
        self._zones: dict[str, Zone] = {}
        self._operations: dict[str, Operation] = {}
        self._cells = CellIndex()
        # Per volume key: (lower_m, upper_m, start_s, end_s, reference), so most candidates
        # are rejected by plain float comparisons before the geometric test.
        self._bands: dict[str, tuple[float, float, float, float, str]] = {}

    def add_zone(self, zone: Zone) -> None:
        self.remove_zone(zone.id)
        self._zones[zone.id] = zone
        for i, volume in enumerate(zone.volumes):
            self._cells.add(_key(_ZONE, zone.id, i), volume.shape)
            self._bands[_key(_ZONE, zone.id, i)] = _band_key(volume)

    def remove_zone(self, zone_id: str) -> None:
        old = self._zones.pop(zone_id, None)
        if old is not None:
            for i in range(len(old.volumes)):
                self._cells.remove(_key(_ZONE, zone_id, i))
                del self._bands[_key(_ZONE, zone_id, i)]

    def add_operation(self, operation: Operation) -> None:
        self.remove_operation(operation.id)
        self._operations[operation.id] = operation
        for i, volume in enumerate(operation.volumes):
            self._cells.add(_key(_OPERATION, operation.id, i), volume.shape)
            self._bands[_key(_OPERATION, operation.id, i)] = _band_key(volume)

    def remove_operation(self, operation_id: str) -> None:
        old = self._operations.pop(operation_id, None)
        if old is not None:
            for i in range(len(old.volumes)):
                self._cells.remove(_key(_OPERATION, operation_id, i))
                del self._bands[_key(_OPERATION, operation_id, i)]

    def check(self, plan: Operation) -> list[Conflict]:
        """Every conflict of ``plan`` with the indexed zones and other parties' operations."""
        by_pair: dict[tuple[ConflictKind, str, str], Conflict] = {}
        for i, volume in enumerate(plan.volumes):
            band = _band_key(volume)
            for key in self._cells.candidates(volume.shape):
                if _apart(band, self._bands[key]):
                    continue
                kind, owner_id, j = _owner(key)
                if kind == _ZONE:
                    zone = self._zones[owner_id]
                    if not zone.rule.applies_to(zone.party, plan.party, plan.activity):
                        continue
                    found = self._overlap(volume, zone.volumes[j])
                    if found is None:
                        continue
                    conflict = Conflict(
                        ConflictKind.ZONE, plan.id, owner_id, plan.party, zone.party, found,
                        zone.rule.entry, i, j,
                    )  # fmt: skip
                else:
                    other = self._operations[owner_id]
                    if other.id == plan.id or other.party == plan.party:
                        continue
                    found = self._overlap(volume, other.volumes[j])
                    if found is None:
                        continue
                    conflict = _operation_conflict(plan, i, other, j, found)
                pair = (conflict.kind, conflict.a, conflict.b)
                by_pair[pair] = _larger(by_pair.get(pair), conflict)
        return sort_conflicts(by_pair.values())

    def _overlap(self, a: Volume4D, b: Volume4D) -> Overlap | None:
        return overlap(a, b, self.conversions)


def _operation_conflict(x: Operation, xi: int, y: Operation, yi: int, found: Overlap) -> Conflict:
    """The conflict between two operations, named in sorted order (a < b)."""
    if y.id < x.id:
        x, xi, y, yi = y, yi, x, xi
    return Conflict(ConflictKind.OPERATION, x.id, y.id, x.party, y.party, found, None, xi, yi)


def sort_conflicts(conflicts: Iterable[Conflict]) -> list[Conflict]:
    return sorted(conflicts, key=lambda c: (c.kind != ConflictKind.ZONE, c.a, c.b))


def find_conflicts(
    zones: Sequence[Zone],
    operations: Sequence[Operation],
    conversions: ReferenceConversions | None = None,
) -> list[Conflict]:
    """Every conflict among ``operations`` and between them and ``zones``, each pair once."""
    index = StrategicIndex(conversions)
    for zone in zones:
        index.add_zone(zone)
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
    ``area_m2``, plus ``entry`` for zone conflicts and the parties for context."""
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
        "area_m2": round(o.area_m2, 3),
    }
    if conflict.kind is ConflictKind.ZONE:
        record["entry"] = str(conflict.entry)
    return record


def _rfc3339(value: datetime) -> str:
    text = time_to_text(value)
    return text.replace(".000000Z", "Z")
