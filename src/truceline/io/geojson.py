"""Truceline's GeoJSON profile for zones and operations (read and write).

The profile is documented in docs/formats.md; in short: a FeatureCollection whose Features
are each one volume of a zone (``properties.kind`` present) or of an operation (no
``kind``). Geometry is a Polygon (one ring, lon/lat) or a Point with ``radius_m`` (an exact
geodesic circle). Altitudes are metres (``altitude_lower_m``), feet (``altitude_lower_ft``)
or a value with its units (``altitude_lower: {"value": 500, "units": "ft"}``); null means no
limit on that side. Volumes with the same ``zone`` (or ``operation``) property form one zone
(or operation); without it the Feature's ``id`` is the zone or operation id.

Every error names the file, the feature (index and id) and the field, e.g.
``zones.geojson: feature 3 (id "z-idlib"): properties.altitude_lower_m: must be a number, got "abc"``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from truceline.domain.activity import Activity
from truceline.domain.operation import Operation, OperationState
from truceline.domain.zone import RESTRICTS_ALL, RESTRICTS_OTHERS, Entry, Zone, ZoneKind, ZoneRule
from truceline.errors import FormatError, TrucelineError, ValidationError
from truceline.geo.altitude import AltitudeBand, AltitudeReference, to_metres
from truceline.geo.shapes import Circle, Polygon, Shape
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.features import Features
from truceline.io.fields import Node, Source, describe, fields_named, format_rfc3339, load_json

# Properties that only a zone may carry, and only an operation may carry.
ZONE_ONLY = ("restricts", "entry", "zone")
OPERATION_ONLY = ("operation", "state")


# Units accepted for a length given as ``{"value": .., "units": ..}``.
LENGTH_UNITS = ("m", "ft")


@dataclass(frozen=True, slots=True)
class _Part:
    """One Feature read: its zone or operation, holding just this Feature's volume."""

    index: int
    where: str
    item: Zone | Operation

    @property
    def is_zone(self) -> bool:
        return isinstance(self.item, Zone)


def _attributes(item: Zone | Operation) -> dict[str, object]:
    """What the Features of one zone or operation must agree on, by property name."""
    if isinstance(item, Zone):
        restricts = item.rule.restricts
        return {
            "kind": item.kind,
            "restricts": restricts if isinstance(restricts, str) else list(restricts),
            "activity": item.rule.activity,
            "entry": item.rule.entry,
            "party": item.party,
            "name": item.name,
        }
    return {"party": item.party, "activity": item.activity, "state": item.state, "name": item.name}


# -- reading ---------------------------------------------------------------------------


def read_geojson(document: Source, *, source: str | None = None) -> Features:
    """Read a profile FeatureCollection into zones and operations.

    ``document`` is a path, JSON text, bytes or a parsed dict; ``source`` names it in errors
    (default: the file name). Raises a TrucelineError subclass naming file, feature and field.
    """
    doc, label = load_json(document, name=source)
    return _build(_read_parts(doc, label))


def read_zones(document: Source, *, source: str | None = None) -> list[Zone]:
    """The zones of a profile file; an operation feature in it is an error (it is located)."""
    doc, label = load_json(document, name=source)
    parts = _read_parts(doc, label)
    for part in parts:
        if not part.is_zone:
            raise FormatError(
                "is an operation (no properties.kind) but this file is read for zones",
                field="properties.kind",
                where=part.where,
            )
    return list(_build(parts).zones)


def read_operations(document: Source, *, source: str | None = None) -> list[Operation]:
    """The operations of a profile file; a zone feature in it is an error (it is located)."""
    doc, label = load_json(document, name=source)
    parts = _read_parts(doc, label)
    for part in parts:
        if part.is_zone:
            raise FormatError(
                "is a zone (it has properties.kind) but this file is read for operations",
                field="properties.kind",
                where=part.where,
            )
    return list(_build(parts).operations)


def _read_parts(doc: object, label: str) -> list[_Part]:
    root = Node(doc)
    try:
        root.object()
        kind = root.child("type").string()
        if kind != "FeatureCollection":
            raise root.child("type").error(f'must be "FeatureCollection", got {describe(kind)}')
        features = root.child("features").items()
    except TrucelineError as error:
        raise error.located(label) from None

    parts: list[_Part] = []
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(features):
        feature = Node(item.value)
        where = f"{label}: feature {index}"
        try:
            fid = _feature_id(feature)
            where = f"{where} (id {describe(fid)})"
            if fid in seen_ids:
                raise feature.child("id").error(f"repeats the id of feature {seen_ids[fid]}")
            seen_ids[fid] = index
            parts.append(_read_feature(feature, index, fid, where))
        except TrucelineError as error:
            raise error.located(where) from None
    return parts


def _feature_id(feature: Node) -> str:
    kind = feature.child("type")
    if kind.string() != "Feature":
        raise kind.error(f'must be "Feature", got {describe(kind.value)}')
    return feature.child("id").string()


def _read_feature(feature: Node, index: int, fid: str, where: str) -> _Part:
    props = feature.child("properties")
    props.object()
    is_zone = props.has("kind")
    shape = _read_shape(feature.child("geometry"), props)
    band = _read_band(props)
    time = _read_time(props, standing_allowed=is_zone)
    with fields_named({}, default="geometry"):
        volume = Volume4D(shape, band, time)

    name = props.child("name").optional_string(non_empty=False) or ""
    item: Zone | Operation
    if is_zone:
        for key in OPERATION_ONLY:
            if props.has(key):
                raise props.child(key).error("is for operations; a zone (it has kind) cannot carry it")
        kind = props.child("kind").enum(ZoneKind)
        rule = _read_rule(props)
        party = props.child("party").optional_string()
        if rule.restricts == RESTRICTS_OTHERS and party is None:
            raise props.child("party").error('is required when restricts is "others"')
        group = props.child("zone").string() if props.has("zone") else fid
        with fields_named(_PROPERTY_NAMES):
            item = Zone(group, kind, (volume,), rule, party, name)
    else:
        for key in ZONE_ONLY:
            if props.has(key):
                raise props.child(key).error("is for zones; add properties.kind to make this feature a zone")
        activity = props.child("activity").enum(Activity)
        if activity is Activity.ANY:
            raise props.child("activity").error('an operation is either "air" or "ground", not "any"')
        state = OperationState.PLANNED
        if props.has("state"):
            state = props.child("state").enum(OperationState)
        group = props.child("operation").string() if props.has("operation") else fid
        party = props.child("party").string()
        with fields_named(_PROPERTY_NAMES):
            item = Operation(group, party, activity, (volume,), state, name)
    return _Part(index, where, item)


_PROPERTY_NAMES = {
    k: f"properties.{k}" for k in ("kind", "restricts", "activity", "entry", "party", "name", "state")
}


def _read_shape(geometry: Node, props: Node) -> Shape:
    geometry.object()
    kind = geometry.child("type").string()
    coordinates = geometry.child("coordinates")
    if kind == "Polygon":
        for key in ("radius_m", "radius_ft", "radius"):
            if props.has(key):
                raise props.child(key).error("is only for a Point geometry (a circle)")
        rings = coordinates.items(non_empty=True)
        if len(rings) > 1:
            raise rings[1].error("polygons with holes are not supported (give one exterior ring)")
        ring = tuple(_position(p) for p in rings[0].items(non_empty=True))
        with fields_named({"ring": "geometry.coordinates[0]"}, default="geometry"):
            return Polygon(ring)
    if kind == "Point":
        center = _position(coordinates)
        radius_m, radius_path = _length(props, "radius", "a circle's radius", nullable=False)
        with fields_named({"radius_m": radius_path, "center": "geometry.coordinates"}, default="geometry"):
            return Circle(center, radius_m)
    raise geometry.child("type").error(
        f"{describe(kind)} is not supported (Polygon, or Point with properties.radius_m)"
    )


def _position(node: Node) -> tuple[float, float]:
    values = node.items()
    if len(values) != 2:
        hint = "; altitudes go in properties.altitude_*" if len(values) == 3 else ""
        raise node.error(f"must be [longitude, latitude], got {len(values)} numbers{hint}")
    return (values[0].number(), values[1].number())


def _length(props: Node, stem: str, what: str, *, nullable: bool) -> tuple[float | None, str]:
    """A length given once as ``{stem}_m``, ``{stem}_ft`` or ``{stem}: {value, units}``.

    Returns (metres or None for null, the path it came from). Giving it twice is an error.
    """
    given = [key for key in (f"{stem}_m", f"{stem}_ft", stem) if props.has(key)]
    if not given:
        raise props.child(f"{stem}_m").error(
            f"is required ({what}: {stem}_m, {stem}_ft, or {stem} with value and units)"
        )
    if len(given) > 1:
        raise props.child(given[1]).error(f"gives {what} again (also properties.{given[0]})")
    node = props.child(given[0])
    if given[0] == stem:
        units_node = node.child("units")
        units = units_node.string()
        if units not in LENGTH_UNITS:
            raise units_node.error(f"{describe(units)} is not one of: {', '.join(LENGTH_UNITS)}")
        node = node.child("value")
    else:
        units = "ft" if given[0].endswith("_ft") else "m"
    if node.is_null:
        if not nullable:
            raise node.error("must be a number, got null")
        return None, node.path
    return to_metres(node.number(), units, field=node.path), node.path


def _read_band(props: Node) -> AltitudeBand:
    lower, lower_path = _length(props, "altitude_lower", "the lower limit", nullable=True)
    upper, upper_path = _length(props, "altitude_upper", "the upper limit", nullable=True)
    reference, lower_reference = AltitudeReference.AMSL, None
    if props.has("altitude_reference"):
        ref_node = props.child("altitude_reference")
        text = ref_node.string()
        if text.count("/") == 1:  # "AGL/AMSL": each limit its own reference (geo.altitude)
            lower_text, upper_text = text.split("/")
            lower_reference = Node(lower_text, ref_node.path).enum(AltitudeReference)
            reference = Node(upper_text, ref_node.path).enum(AltitudeReference)
        else:
            reference = ref_node.enum(AltitudeReference)
    names = {
        "altitude_lower": lower_path,
        "lower_m": lower_path,
        "altitude_upper": upper_path,
        "upper_m": upper_path,
        "altitude_reference": "properties.altitude_reference",
    }
    with fields_named(names, default="properties"):
        # null is "no limit on that side" (an ED-269 upperLimit of null, for instance)
        return AltitudeBand(
            -math.inf if lower is None else lower, math.inf if upper is None else upper, reference,
            lower_reference,
        )


def _read_time(props: Node, *, standing_allowed: bool) -> TimeWindow:
    start = props.child("time_start").time()
    end_node = props.child("time_end")
    if not end_node.present:
        hint = " (null for a standing zone)" if standing_allowed else ""
        raise end_node.error(f"is required{hint}")
    if end_node.is_null and not standing_allowed:
        raise end_node.error("an operation must end; only a zone may have a null time_end")
    end = None if end_node.is_null else end_node.time(round_up=True)
    with fields_named(
        {"time_start": "properties.time_start", "time_end": "properties.time_end"}, default="properties"
    ):
        return TimeWindow(start, end)


def _read_rule(props: Node) -> ZoneRule:
    restricts: str | tuple[str, ...] = RESTRICTS_ALL
    node = props.child("restricts")
    if node.present:
        if isinstance(node.value, str):
            restricts = node.string()
            if restricts not in (RESTRICTS_ALL, RESTRICTS_OTHERS):
                raise node.error(f'{describe(restricts)} must be "all", "others" or a list of party names')
        else:
            restricts = tuple(item.string() for item in node.items(non_empty=True))
    activity = props.child("activity").enum(Activity) if props.has("activity") else Activity.ANY
    entry = props.child("entry").enum(Entry) if props.has("entry") else Entry.FORBIDDEN
    with fields_named({k: f"properties.{k}" for k in ("restricts", "activity", "entry")}):
        return ZoneRule(restricts, activity, entry)


def _build(parts: list[_Part]) -> Features:
    """Group the volumes of each zone and operation and check that their Features agree."""
    groups: dict[tuple[bool, str], list[_Part]] = {}
    for part in parts:
        groups.setdefault((part.is_zone, part.item.id), []).append(part)
    zones: list[Zone] = []
    operations: list[Operation] = []
    for (is_zone, group), members in groups.items():
        first = members[0]
        expected = _attributes(first.item)
        for other in members[1:]:
            for key, value in _attributes(other.item).items():
                if value != expected[key]:
                    what = "zone" if is_zone else "operation"
                    raise FormatError(
                        f"{describe(value)} differs from {describe(expected[key])} in feature "
                        f"{first.index} of the same {what} {describe(group)}",
                        field=f"properties.{key}",
                        where=other.where,
                    )
        volumes = tuple(v for m in members for v in m.item.volumes)
        # the Features agree, so the first one's fields with every volume is the whole item
        if isinstance(first.item, Zone):
            zones.append(replace(first.item, volumes=volumes))
        else:
            operations.append(replace(first.item, volumes=volumes))
    return Features(tuple(zones), tuple(operations))


# -- writing ---------------------------------------------------------------------------


def write_geojson(zones: Iterable[Zone] = (), operations: Iterable[Operation] = ()) -> dict[str, Any]:
    """The profile FeatureCollection for ``zones`` and ``operations`` (a JSON-ready dict).

    A zone or operation with one volume is one Feature whose ``id`` is its id; with several,
    Features ``{id}#1``, ``{id}#2``... carry ``zone`` (or ``operation``) = its id. Reading the
    result back gives equal objects. Raises ValidationError when two Features would share an
    id, or a limit cannot be written (an upper limit of -inf, a lower limit of +inf).
    """
    features: list[dict[str, Any]] = []
    for zone in zones:
        head: dict[str, Any] = {
            "kind": zone.kind.value,
            "restricts": zone.rule.restricts
            if isinstance(zone.rule.restricts, str)
            else list(zone.rule.restricts),
            "activity": zone.rule.activity.value,
            "entry": zone.rule.entry.value,
        }
        tail: dict[str, Any] = {}
        if zone.party is not None:
            tail["party"] = zone.party
        if zone.name:
            tail["name"] = zone.name
        features.extend(_features_of(zone.id, "zone", zone.volumes, head, tail))
    for operation in operations:
        head = {"activity": operation.activity.value, "state": operation.state.value}
        tail = {"party": operation.party}
        if operation.name:
            tail["name"] = operation.name
        features.extend(_features_of(operation.id, "operation", operation.volumes, head, tail))
    seen: set[str] = set()
    for feature in features:
        if feature["id"] in seen:
            raise ValidationError(f"two features would share the id {describe(feature['id'])}", field="id")
        seen.add(feature["id"])
    return {"type": "FeatureCollection", "features": features}


def save_geojson(path: str | Path, zones: Iterable[Zone] = (), operations: Iterable[Operation] = ()) -> None:
    """Write :func:`write_geojson` to ``path`` as UTF-8 JSON."""
    text = json.dumps(write_geojson(zones, operations), ensure_ascii=False, indent=1, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def _features_of(
    ident: str, group_key: str, volumes: tuple[Volume4D, ...], head: dict[str, Any], tail: dict[str, Any]
) -> list[dict[str, Any]]:
    out = []
    for number, volume in enumerate(volumes, start=1):
        props = dict(head)
        geometry = _geometry(volume.shape, props)
        props.update(_band(volume.altitude))
        props["time_start"] = format_rfc3339(volume.time.start)
        props["time_end"] = None if volume.time.end is None else format_rfc3339(volume.time.end)
        props.update(tail)
        fid = ident
        if len(volumes) > 1:
            props[group_key] = ident
            fid = f"{ident}#{number}"
        out.append({"type": "Feature", "id": fid, "geometry": geometry, "properties": props})
    return out


def _geometry(shape: Shape, props: dict[str, Any]) -> dict[str, Any]:
    if isinstance(shape, Circle):
        props["radius_m"] = shape.radius_m
        return {"type": "Point", "coordinates": [shape.center[0], shape.center[1]]}
    return {"type": "Polygon", "coordinates": [[[lon, lat] for lon, lat in shape.ring]]}


def _band(band: AltitudeBand) -> dict[str, Any]:
    if band.upper_m == -math.inf or band.lower_m == math.inf:
        raise ValidationError("an infinite band on the wrong side cannot be written", field="altitude")
    return {
        "altitude_lower_m": None if band.lower_m == -math.inf else band.lower_m,
        "altitude_upper_m": None if band.upper_m == math.inf else band.upper_m,
        "altitude_reference": band.reference_text,
    }


__all__ = ["Features", "read_geojson", "read_operations", "read_zones", "save_geojson", "write_geojson"]
