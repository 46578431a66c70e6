"""KML export of zones, operations and conflicts, for Google Earth (humanitarian and observer
staff), written with simplekml.

One Placemark per volume (zones and operations) and one per conflict (the overlap of its
two volumes), in three Folders. Each is styled by what it is (zone kind, operation,
conflict), carries its time window as a ``TimeSpan`` (Google Earth's time slider) and its
fields as ``ExtendedData``. A volume is drawn as its outline at the upper limit, extruded
to the ground; ``altitudeMode`` follows the band's reference: AGL is ``relativeToGround``,
AMSL ``absolute`` (KML's sea level); W84 heights are drawn as ``absolute`` too (KML has no
ellipsoid mode: off by the geoid separation, up to about 100 m, and said so in the
description); so are flight levels (pressure altitude, off by the day's QNH; said so too);
a band without an upper limit is drawn flat on the ground (``clampToGround``). The mode is the
upper limit's reference (the one drawn); a band with two is described as ``"AGL/AMSL"``.
Circles are geodesic polygons within CIRCLE_TOLERANCE_M (KML has no circle). Coordinates
have 7 decimals, as in the GeoJSON output.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import simplekml

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone, ZoneKind
from truceline.engines.strategic import Conflict, conflict_record
from truceline.geo.altitude import AltitudeBand, AltitudeReference
from truceline.geo.shapes import shape_to_polygon_ring
from truceline.geo.volume import Volume4D, overlap_geometry
from truceline.io.fields import format_rfc3339
from truceline.io.geojson import CIRCLE_TOLERANCE_M, rfc7946_geometry

# KML colours are aabbggrr. Zones by kind; operations and conflicts apart from every zone.
KIND_COLOURS: Mapping[str, str] = {
    ZoneKind.NO_FLY: "ff0000ff",  # red
    ZoneKind.DE_ESCALATION: "ff0080ff",  # orange
    ZoneKind.DECONFLICTION: "ff00ffff",  # yellow
    ZoneKind.HUMANITARIAN_CORRIDOR: "ff00c000",  # green
    ZoneKind.PROTECTED_SITE: "ffff8000",  # blue
    "operation": "ffc0c0c0",  # grey
    "conflict": "ffff00ff",  # magenta
}
FILL_ALPHA = "60"  # areas are translucent so what lies under them shows

ALTITUDE_MODES: Mapping[AltitudeReference, str] = {
    AltitudeReference.AGL: simplekml.AltitudeMode.relativetoground,
    AltitudeReference.AMSL: simplekml.AltitudeMode.absolute,
    AltitudeReference.W84: simplekml.AltitudeMode.absolute,
    # KML has no pressure altitude: a flight level is drawn as that many metres above sea level
    AltitudeReference.FL: simplekml.AltitudeMode.absolute,
}


def write_kml(
    zones: Iterable[Zone] = (),
    operations: Iterable[Operation] = (),
    conflicts: Sequence[Conflict] = (),
    *,
    name: str = "Truceline",
) -> str:
    """The KML document (text) of ``zones``, ``operations`` and ``conflicts``. Requires each
    conflict's ``a`` (and ``b`` for an operation conflict) among ``operations`` and a zone
    conflict's ``b`` among ``zones``: the overlap is drawn from their volumes."""
    zones, operations = list(zones), list(operations)
    kml = simplekml.Kml(name=name)
    styles: dict[str, simplekml.Style] = {}

    folder = kml.newfolder(name="Zones")
    for zone in zones:
        fields = {"id": zone.id, "kind": str(zone.kind), "party": zone.party, "entry": str(zone.rule.entry),
                  "restricts": _text(zone.rule.restricts), "activity": str(zone.rule.activity)}  # fmt: skip
        for index, volume in enumerate(zone.volumes):
            _volume(folder, _style(styles, str(zone.kind)), _label(zone.name or zone.id, index, zone.volumes),
                    volume, fields)  # fmt: skip

    folder = kml.newfolder(name="Operations")
    for operation in operations:
        fields = {"id": operation.id, "party": operation.party, "activity": str(operation.activity),
                  "state": str(operation.state)}  # fmt: skip
        for index, volume in enumerate(operation.volumes):
            label = _label(operation.name or operation.id, index, operation.volumes)
            _volume(folder, _style(styles, "operation"), label, volume, fields)

    folder = kml.newfolder(name="Conflicts")
    zones_by_id = {z.id: z for z in zones}
    operations_by_id = {o.id: o for o in operations}
    for conflict in conflicts:
        a_shape = operations_by_id[conflict.a].volumes[conflict.a_volume].shape
        other = zones_by_id[conflict.b] if conflict.kind.of_zone else operations_by_id[conflict.b]
        geometry = rfc7946_geometry(overlap_geometry(a_shape, other.volumes[conflict.b_volume].shape))
        record = conflict_record(conflict)
        placemark = folder.newmultigeometry(name=f"{conflict.kind}: {conflict.a} / {conflict.b}")
        for rings in geometry["coordinates"]:
            placemark.newpolygon(
                outerboundaryis=[tuple(p) for p in rings[0]],
                innerboundaryis=[[tuple(p) for p in ring] for ring in rings[1:]],
                altitudemode=simplekml.AltitudeMode.clamptoground,
            )
        placemark.style = _style(styles, "conflict")
        placemark.timespan.begin = record["time_start"]
        if record["time_end"] is not None:
            placemark.timespan.end = record["time_end"]
        _extended(placemark, record)
        placemark.description = _description(record)
    return kml.kml()


def _label(name: str, index: int, volumes: Sequence[Volume4D]) -> str:
    return name if len(volumes) == 1 else f"{name} #{index + 1}"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ", ".join(value)  # type: ignore[arg-type]


def _style(styles: dict[str, simplekml.Style], key: str) -> simplekml.Style:
    """One shared style per kind (every Placemark of a kind refers to it)."""
    if key not in styles:
        style = simplekml.Style()
        colour = KIND_COLOURS[key]
        style.linestyle.color = colour
        style.linestyle.width = 2
        style.polystyle.color = FILL_ALPHA + colour[2:]
        styles[key] = style
    return styles[key]


def _volume(
    folder: simplekml.Folder, style: simplekml.Style, label: str, volume: Volume4D, fields: dict[str, Any]
) -> None:
    band = volume.altitude
    flat = math.isinf(band.upper_m)
    height = 0.0 if flat else band.upper_m
    ring = [(round(lon, 7) + 0.0, round(lat, 7) + 0.0, height) for lon, lat in _outline(volume)]
    placemark = folder.newpolygon(name=label, outerboundaryis=ring)
    placemark.altitudemode = simplekml.AltitudeMode.clamptoground if flat else ALTITUDE_MODES[band.reference]
    placemark.extrude = 0 if flat else 1
    placemark.style = style
    placemark.timespan.begin = format_rfc3339(volume.time.start)
    if volume.time.end is not None:
        placemark.timespan.end = format_rfc3339(volume.time.end)
    record = {**fields, **_band(band), "time_start": placemark.timespan.begin,
              "time_end": None if volume.time.end is None else placemark.timespan.end}  # fmt: skip
    if volume.time.schedule is not None:
        schedule = volume.time.schedule
        record["schedule"] = "; ".join(
            f"{','.join(p.day_names)} {p.start:%H:%M}-{p.end:%H:%M}" for p in schedule.periods
        ) + f" ({schedule.time_zone})"
    _extended(placemark, record)
    placemark.description = _description(record)


def _outline(volume: Volume4D) -> list[tuple[float, float]]:
    ring = shape_to_polygon_ring(volume.shape, CIRCLE_TOLERANCE_M)
    # counter-clockwise, as in the GeoJSON output (KML asks for it of outer boundaries too)
    area = sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1))
    return ring if area > 0 else ring[::-1]


def _band(band: AltitudeBand) -> dict[str, Any]:
    out: dict[str, Any] = {
        "altitude_lower_m": None if math.isinf(band.lower_m) else band.lower_m,
        "altitude_upper_m": None if math.isinf(band.upper_m) else band.upper_m,
        "altitude_reference": band.reference_text,
    }
    if band.reference is AltitudeReference.W84:
        out["altitude_note"] = "heights above the WGS84 ellipsoid, drawn as above sea level"
    elif band.reference is AltitudeReference.FL:
        out["altitude_note"] = "a flight level (pressure altitude), drawn as metres above sea level"
    return out


def _extended(placemark: Any, record: Mapping[str, Any]) -> None:
    for key, value in record.items():
        placemark.extendeddata.newdata(key, "" if value is None else str(value))


def _description(record: Mapping[str, Any]) -> str:
    return "\n".join(f"{key}: {'-' if value is None else value}" for key, value in record.items())


__all__ = ["ALTITUDE_MODES", "KIND_COLOURS", "write_kml"]
