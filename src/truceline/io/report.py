"""The GeoJSON conflict report: one feature per conflict, its overlap as the geometry and
its JSON record (``truceline.engines.strategic.conflict_record``) as the properties."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone
from truceline.engines.strategic import Conflict, conflict_record
from truceline.geo.volume import overlap_geometry
from truceline.io.geojson import rfc7946_geometry


def conflict_report_geojson(
    conflicts: Sequence[Conflict],
    zones: Mapping[str, Zone],
    operations: Mapping[str, Operation],
) -> dict[str, Any]:
    """A FeatureCollection with one feature per conflict: the horizontal overlap of the two
    volumes that overlap most (by RFC 7946: rings oriented, 7 decimals), and the conflict
    record as properties."""
    features = []
    for conflict in conflicts:
        a_shape = operations[conflict.a].volumes[conflict.a_volume].shape
        other = zones[conflict.b] if conflict.kind.of_zone else operations[conflict.b]
        b_shape = other.volumes[conflict.b_volume].shape
        features.append(
            {
                "type": "Feature",
                "id": f"{conflict.kind}:{conflict.a}:{conflict.b}",
                "geometry": rfc7946_geometry(overlap_geometry(a_shape, b_shape)),
                "properties": conflict_record(conflict),
            }
        )
    return {"type": "FeatureCollection", "features": features}
