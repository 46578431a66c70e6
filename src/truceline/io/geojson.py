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

What GIS tools save is read too: QGIS and GDAL write every attribute on every feature, null
where unused, so a null member is read as absent (``radius_m: null`` on a Polygon, ``kind:
null`` on an operation), except where null means something (an altitude limit, ``time_end``);
a Feature without an ``id`` takes ``properties.id``; a MultiPolygon of one polygon is that
polygon. Output follows RFC 7946: exterior rings counter-clockwise, holes clockwise,
coordinates to 7 decimals (about 1 cm, F3548's precision).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Any

from truceline.domain.activity import Activity
from truceline.domain.codec import schedule_to_record
from truceline.domain.operation import Operation, OperationState
from truceline.domain.zone import RESTRICTS_ALL, RESTRICTS_OTHERS, Entry, Zone, ZoneKind, ZoneRule
from truceline.errors import FormatError, TrucelineError, ValidationError
from truceline.geo.altitude import AltitudeBand, AltitudeReference, to_metres
from truceline.geo.shapes import Circle, Polygon, Shape, shape_to_polygon_ring
from truceline.geo.timewindow import WEEKDAYS, DailyPeriod, Schedule, TimeWindow, time_zone_named
from truceline.geo.volume import Volume4D
from truceline.io.features import Features
from truceline.io.fields import Node, Source, describe, fields_named, format_rfc3339, load_json

# Properties that only a zone may carry, and only an operation may carry.
ZONE_ONLY = ("restricts", "entry", "zone")
OPERATION_ONLY = ("operation", "state")


# Units accepted for a length given as ``{"value": .., "units": ..}``.
LENGTH_UNITS = ("m", "ft")

# RFC 7946 section 11.2: 7 decimals of a degree are about 1.1 cm, F3548's precision.
COORDINATE_DECIMALS = 7

# ``--circles polygon``: the written polygon's vertices are on the geodesic circle and its
# edges stray inward by at most this much (geo.geodesy.circle_points).
CIRCLE_TOLERANCE_M = 1.0

# Members whose null means something; any other null member is read as absent (GIS tools
# write every attribute on every feature).
MEANINGFUL_NULLS = frozenset(
    {
        "altitude_lower_m", "altitude_lower_ft", "altitude_lower",
        "altitude_upper_m", "altitude_upper_ft", "altitude_upper",
        "time_end",
    }
)  # fmt: skip

# The coordinate reference systems a ``crs`` member may name (RFC 7946 drops the member;
# GDAL still writes it): WGS84 longitude/latitude only.
LONLAT_CRS = frozenset({"urn:ogc:def:crs:OGC:1.3:CRS84", "urn:ogc:def:crs:EPSG::4326", "EPSG:4326"})


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
        _check_crs(root)
        features = root.child("features").items()
    except TrucelineError as error:
        raise error.located(label) from None

    parts: list[_Part] = []
    seen_ids: dict[str, int] = {}
    for index, item in enumerate(features):
        feature = Node(_without_unused_nulls(item.value))
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


def _check_crs(root: Node) -> None:
    """A legacy ``crs`` member (GDAL writes one) must name lon/lat WGS84: coordinates in any
    other system would be read as degrees they are not."""
    if not root.has("crs") or root.child("crs").is_null:
        return
    name = root.child("crs").child("properties").child("name")
    text = name.string()
    if text not in LONLAT_CRS:
        raise name.error(f"{describe(text)} is not WGS84 longitude/latitude (CRS84); reproject to EPSG:4326")


def _without_unused_nulls(value: object) -> object:
    """The Feature with its null members dropped, except those whose null means something
    (see MEANINGFUL_NULLS): what QGIS/GDAL write for an attribute a feature does not use."""
    if not isinstance(value, dict):
        return value
    feature = dict(value)
    if feature.get("id", 0) is None:
        del feature["id"]
    props = feature.get("properties")
    if isinstance(props, dict):
        feature["properties"] = {k: v for k, v in props.items() if v is not None or k in MEANINGFUL_NULLS}
    return feature


def _feature_id(feature: Node) -> str:
    kind = feature.child("type")
    if kind.string() != "Feature":
        raise kind.error(f'must be "Feature", got {describe(kind.value)}')
    props = feature.child("properties")
    own = props.child("id") if props.has("id") else None
    if not feature.has("id"):
        if own is None:
            raise feature.child("id").error("is required (the Feature's id, or properties.id)")
        return own.string()  # GIS tools keep the id as an attribute
    fid = feature.child("id").string()
    if own is not None and own.value != fid:
        raise own.error(f"{describe(own.value)} differs from the Feature's id {describe(fid)}")
    return fid


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
    if kind == "MultiPolygon":  # what QGIS saves a polygon layer as: one part is that polygon
        parts = coordinates.items(non_empty=True)
        if len(parts) > 1:
            raise parts[1].error("a MultiPolygon of several polygons is not supported (one Feature each)")
        coordinates, kind = parts[0], "Polygon"
    if kind == "Polygon":
        for key in ("radius_m", "radius_ft", "radius"):
            if props.has(key):
                raise props.child(key).error("is only for a Point geometry (a circle)")
        rings = coordinates.items(non_empty=True)
        if len(rings) > 1:
            raise rings[1].error("polygons with holes are not supported (give one exterior ring)")
        ring = tuple(_position(p) for p in rings[0].items(non_empty=True))
        with fields_named({"ring": rings[0].path}, default="geometry"):
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
    present = [key for key in (f"{stem}_m", f"{stem}_ft", stem) if props.has(key)]
    # a GIS file has every form as a column, null where unused: only the non-null ones count
    given = [key for key in present if not props.child(key).is_null] or present[:1]
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
    reference = AltitudeReference.AMSL
    if props.has("altitude_reference"):
        reference = props.child("altitude_reference").enum(AltitudeReference)
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
            -math.inf if lower is None else lower, math.inf if upper is None else upper, reference
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
    schedule = _read_schedule(props.child("schedule")) if props.has("schedule") else None
    with fields_named(
        {"time_start": "properties.time_start", "time_end": "properties.time_end"}, default="properties"
    ):
        return TimeWindow(start, end, schedule)


def _read_schedule(node: Node) -> Schedule:
    """``schedule``: ``{"time_zone": "Europe/Zurich", "periods": [{"days": ["MON", ...],
    "start": "08:00", "end": "18:00"}]}`` (wall-clock times in the zone; what ED-269's daily
    periods become, written so by write_geojson)."""
    zone_node = node.child("time_zone")
    time_zone = zone_node.string()
    time_zone_named(time_zone, field=zone_node.path)
    periods = []
    for period in node.child("periods").items(non_empty=True):
        days = []
        for day in period.child("days").items(non_empty=True):
            text = day.string()
            if text not in WEEKDAYS:
                raise day.error(f"{describe(text)} is not one of: {', '.join(WEEKDAYS)}")
            days.append(WEEKDAYS.index(text))
        clocks = []
        for key in ("start", "end"):
            clock = period.child(key)
            try:
                value = time.fromisoformat(clock.string())
            except ValueError:
                message = f'must be a wall-clock time such as "08:00", got {describe(clock.value)}'
                raise clock.error(message) from None
            if value.tzinfo is not None:
                raise clock.error("is a wall-clock time in time_zone: give no offset")
            clocks.append(value)
        periods.append(DailyPeriod(frozenset(days), clocks[0], clocks[1]))
    return Schedule(time_zone, tuple(periods))


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


class Circles(StrEnum):
    """How ``write_geojson`` writes a circle: ``point``, a Point with ``radius_m`` (exact, what
    Truceline reads back as the circle); ``polygon``, a geodesic polygon within
    CIRCLE_TOLERANCE_M of it, so that viewers draw an area, not a pin."""

    POINT = "point"
    POLYGON = "polygon"


def write_geojson(
    zones: Iterable[Zone] = (), operations: Iterable[Operation] = (), *, circles: Circles = Circles.POINT
) -> dict[str, Any]:
    """The profile FeatureCollection for ``zones`` and ``operations`` (a JSON-ready dict).

    A zone or operation with one volume is one Feature whose ``id`` is its id; with several,
    Features ``{id}#1``, ``{id}#2``... carry ``zone`` (or ``operation``) = its id. Rings are
    written by RFC 7946 (exterior counter-clockwise, 7 decimals); reading the result back
    gives equal objects up to that rounding and orientation (with ``circles`` POINT). Raises
    ValidationError when two Features would share an id, or a limit cannot be written (an
    upper limit of -inf, a lower limit of +inf).
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
        features.extend(_features_of(zone.id, "zone", zone.volumes, head, tail, circles))
    for operation in operations:
        head = {"activity": operation.activity.value, "state": operation.state.value}
        tail = {"party": operation.party}
        if operation.name:
            tail["name"] = operation.name
        features.extend(_features_of(operation.id, "operation", operation.volumes, head, tail, circles))
    seen: set[str] = set()
    for feature in features:
        if feature["id"] in seen:
            raise ValidationError(f"two features would share the id {describe(feature['id'])}", field="id")
        seen.add(feature["id"])
    return {"type": "FeatureCollection", "features": features}


def save_geojson(
    path: str | Path,
    zones: Iterable[Zone] = (),
    operations: Iterable[Operation] = (),
    *,
    circles: Circles = Circles.POINT,
) -> None:
    """Write :func:`write_geojson` to ``path`` as UTF-8 JSON."""
    document = write_geojson(zones, operations, circles=circles)
    text = json.dumps(document, ensure_ascii=False, indent=1, allow_nan=False)
    Path(path).write_text(text + "\n", encoding="utf-8")


def _features_of(
    ident: str,
    group_key: str,
    volumes: tuple[Volume4D, ...],
    head: dict[str, Any],
    tail: dict[str, Any],
    circles: Circles,
) -> list[dict[str, Any]]:
    out = []
    for number, volume in enumerate(volumes, start=1):
        props = dict(head)
        geometry = _geometry(volume.shape, props, circles)
        props.update(_band(volume.altitude))
        props["time_start"] = format_rfc3339(volume.time.start)
        props["time_end"] = None if volume.time.end is None else format_rfc3339(volume.time.end)
        if volume.time.schedule is not None:
            props["schedule"] = schedule_to_record(volume.time.schedule)
        props.update(tail)
        fid = ident
        if len(volumes) > 1:
            props[group_key] = ident
            fid = f"{ident}#{number}"
        out.append({"type": "Feature", "id": fid, "geometry": geometry, "properties": props})
    return out


def _geometry(shape: Shape, props: dict[str, Any], circles: Circles) -> dict[str, Any]:
    if isinstance(shape, Circle) and circles is Circles.POINT:
        props["radius_m"] = shape.radius_m
        return {"type": "Point", "coordinates": [_rounded(shape.center[0]), _rounded(shape.center[1])]}
    ring = shape_to_polygon_ring(shape, CIRCLE_TOLERANCE_M) if isinstance(shape, Circle) else shape.ring
    return rfc7946_geometry({"type": "Polygon", "coordinates": [ring]})


def _rounded(value: float) -> float:
    return round(float(value), COORDINATE_DECIMALS) + 0.0  # + 0.0: no "-0.0" in the output


def signed_area(ring: Sequence[Sequence[float]]) -> float:
    """Twice the signed planar area of a lon/lat ring (shoelace): positive when the ring
    runs counter-clockwise, as RFC 7946 section 3.1.6 reads it (in lon/lat, not on the sphere)."""
    return sum(
        ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1)
    )


def rfc7946_ring(ring: Sequence[Sequence[float]], *, exterior: bool) -> list[list[float]]:
    """``ring`` rounded to 7 decimals, repeated vertices (after rounding) dropped, and turned
    counter-clockwise if ``exterior``, clockwise if a hole. The first vertex stays first."""
    out: list[list[float]] = []
    for lon, lat in ring:
        point = [_rounded(lon), _rounded(lat)]
        if not out or point != out[-1]:
            out.append(point)
    if (signed_area(out) > 0) != exterior:
        out.reverse()
    return out


def rfc7946_geometry(geometry: dict[str, Any]) -> dict[str, Any]:
    """A Polygon or MultiPolygon geometry (or a Point) written by RFC 7946: rings oriented
    (exterior counter-clockwise, holes clockwise) and coordinates to 7 decimals."""
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return {"type": kind, "coordinates": [_rounded(c) for c in coordinates]}
    polygons = [coordinates] if kind == "Polygon" else coordinates
    oriented = [[rfc7946_ring(r, exterior=i == 0) for i, r in enumerate(rings)] for rings in polygons]
    return {"type": kind, "coordinates": oriented[0] if kind == "Polygon" else oriented}


def _band(band: AltitudeBand) -> dict[str, Any]:
    if band.upper_m == -math.inf or band.lower_m == math.inf:
        raise ValidationError("an infinite band on the wrong side cannot be written", field="altitude")
    return {
        "altitude_lower_m": None if band.lower_m == -math.inf else band.lower_m,
        "altitude_upper_m": None if band.upper_m == math.inf else band.upper_m,
        "altitude_reference": band.reference.value,
    }


__all__ = [
    "CIRCLE_TOLERANCE_M",
    "COORDINATE_DECIMALS",
    "Circles",
    "Features",
    "read_geojson",
    "read_operations",
    "read_zones",
    "rfc7946_geometry",
    "save_geojson",
    "signed_area",
    "write_geojson",
]
