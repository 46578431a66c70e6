"""What a reader may see of the operations: need-to-know.

- ``admin``: every operation in full.
- ``party`` and ``humanitarian``: their own operations in full; another party's operation
  only as those of its volumes that conflict with one of the reader's own live operations
  or lie in an active zone the reader belongs to (it is the zone's party or a required
  signatory), and without its mission fields (name, state, versions).
- ``guarantor`` and ``observer``: every operation's volumes, without mission fields.
- ``auditor``: no operations here (the log endpoints serve auditors).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from truceline.domain.codec import operation_to_record, volume_to_record
from truceline.domain.operation import Operation
from truceline.domain.zone import Zone
from truceline.errors import AltitudeReferenceError
from truceline.geo.cells import CellIndex
from truceline.geo.volume import Volume4D, intersects
from truceline.service.auth import Principal

FULL_VIEW_ROLES = ("admin",)
VOLUMES_VIEW_ROLES = ("guarantor", "observer")
OWN_VIEW_ROLES = ("party", "humanitarian")
READER_ROLES = (*FULL_VIEW_ROLES, *VOLUMES_VIEW_ROLES, *OWN_VIEW_ROLES)


def redacted(operation: Operation, volume_indexes: Iterable[int]) -> dict[str, Any]:
    """Another party's operation: its id, party, activity and the listed volumes only."""
    return {
        "id": operation.id,
        "party": operation.party,
        "activity": str(operation.activity),
        "redacted": True,
        "volumes": [
            {"index": i, **volume_to_record(operation.volumes[i])} for i in sorted(set(volume_indexes))
        ],
    }


def full(operation: Operation) -> dict[str, Any]:
    record = operation_to_record(operation)
    record["volumes"] = [{"index": i, **v} for i, v in enumerate(record["volumes"])]
    return {**record, "redacted": False}


def _touches(a: Volume4D, b: Volume4D) -> bool:
    try:
        return intersects(a, b)
    except AltitudeReferenceError:
        # Bands in references that cannot be compared: show the volume rather than hide a
        # possible conflict from the party that may meet it.
        return True


class Concern:
    """The volumes that concern one reader (its live operations and its zones), indexed."""

    def __init__(self, own: Sequence[Volume4D]) -> None:
        self._volumes = list(own)
        self._index = CellIndex()
        for i, volume in enumerate(self._volumes):
            self._index.add(str(i), volume.shape)

    def concerned(self, volume: Volume4D) -> bool:
        return any(_touches(volume, self._volumes[int(k)]) for k in self._index.candidates(volume.shape))


def visible_operations(
    principal: Principal,
    operations: Sequence[Operation],
    zones: Sequence[Zone],
    zone_members: dict[str, set[str]],
) -> list[dict[str, Any]]:
    """The operations ``principal`` may see, each in full or redacted (see module doc).

    ``zones`` are the active zones; ``zone_members`` maps a zone id to the names of the
    parties that belong to it (its party and its required signatories).
    """
    role = principal.role.value
    if role in FULL_VIEW_ROLES:
        return [full(o) for o in operations]
    if role in VOLUMES_VIEW_ROLES:
        return [redacted(o, range(len(o.volumes))) for o in operations]
    if role not in OWN_VIEW_ROLES:
        return []
    own_volumes: list[Volume4D] = [v for o in operations if o.party == principal.name for v in o.volumes]
    for zone in zones:
        if zone.party == principal.name or principal.name in zone_members.get(zone.id, set()):
            own_volumes.extend(zone.volumes)
    concern = Concern(own_volumes)
    out = []
    for operation in operations:
        if operation.party == principal.name:
            out.append(full(operation))
            continue
        shown = [i for i, v in enumerate(operation.volumes) if concern.concerned(v)]
        if shown:
            out.append(redacted(operation, shown))
    return out
