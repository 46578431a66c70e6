"""EUROCAE ED-269 geographical zones (JSON): a list of UASZoneVersion read into Zones.

Field names follow ED-269 as modelled by interuss/uas_standards ``eurocae_ed269.py`` and the
real file in shared/data/zones (``UASZoneList``, ``geometry[]`` of UASZoneAirspaceVolume,
``applicability[]``). What each field becomes, and what we do with what Truceline cannot
represent exactly (daily schedules, null limits, permanent zones), is in docs/formats.md;
the choices are conservative: they may over-report a conflict, never miss one.

Errors name the file, the zone (index and identifier) and the field, e.g.
``zones.json: zone 0 (identifier "LSXX"): geometry[0].lowerLimit: must be a number, got "abc"``.
"""

from __future__ import annotations

from truceline.domain.activity import Activity
from truceline.domain.clock import EPOCH
from truceline.domain.zone import RESTRICTS_ALL, Entry, Zone, ZoneKind, ZoneRule
from truceline.errors import TrucelineError
from truceline.geo.altitude import (
    AltitudeBand,
    AltitudeLimit,
    AltitudeReference,
    LimitReference,
    band_from_limits,
    to_metres,
)
from truceline.geo.shapes import Circle, Polygon, Shape
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.features import Features, ReadWarning
from truceline.io.fields import Node, Source, describe, fields_named, load_json

# A permanent zone with no startDateTime has stood "forever": we start it at the epoch,
# so it overlaps every operation (over-reports rather than misses).
PERMANENT_START = EPOCH

# restriction -> (kind, entry); None: the zone restricts nothing and is skipped with a warning.
# ED-318 spells REQ_AUTHORIZATION with a z; both are accepted.
RESTRICTIONS: dict[str, tuple[ZoneKind, Entry] | None] = {
    "PROHIBITED": (ZoneKind.NO_FLY, Entry.FORBIDDEN),
    "REQ_AUTHORISATION": (ZoneKind.DECONFLICTION, Entry.NOTICE),
    "REQ_AUTHORIZATION": (ZoneKind.DECONFLICTION, Entry.NOTICE),
    "CONDITIONAL": (ZoneKind.DECONFLICTION, Entry.NOTICE),
    "NO_RESTRICTION": None,
}

VERTICAL_REFERENCES = {
    "AGL": AltitudeReference.AGL,
    "AMSL": AltitudeReference.AMSL,
    "WGS84": AltitudeReference.W84,  # ED-318 adds it; ED-269 has AGL and AMSL
}

# uomDimensions: ED-269 writes M / FT, ED-318 m / ft.
UOM_DIMENSIONS = {"M": "m", "FT": "ft", "m": "m", "ft": "ft"}


def read_ed269(document: Source, *, party: str | None = None, source: str | None = None) -> Features:
    """Zones from an ED-269 document: ``{"UASZoneList": [...]}``, ``{"features": [...]}`` or
    a bare list of UASZoneVersion. ``party`` becomes each zone's party (ED-269 has none).

    Every zone restricts all parties' air activity; ``restriction`` sets its kind and entry
    (see RESTRICTIONS). Returns Features whose ``warnings`` name what was read
    conservatively. Raises a TrucelineError naming file, zone and field.
    """
    raw, label = load_json(document, name=source)
    try:
        items = _zone_list(Node(raw))
    except TrucelineError as error:
        raise error.located(label) from None

    zones: list[Zone] = []
    warnings: list[ReadWarning] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        node = Node(item.value)
        where = f"{label}: zone {index}"
        try:
            node.object()
            identifier = node.child("identifier").string()
            where = f"{where} (identifier {describe(identifier)})"
            if identifier in seen:
                raise node.child("identifier").error(f"repeats the identifier of zone {seen[identifier]}")
            seen[identifier] = index
            zone = _read_zone(node, identifier, party, where, warnings)
        except TrucelineError as error:
            raise error.located(where) from None
        if zone is not None:
            zones.append(zone)
    return Features(zones=tuple(zones), warnings=tuple(warnings))


def _zone_list(root: Node) -> list[Node]:
    if isinstance(root.value, list):
        return root.items()
    obj = root.object()
    if "UASZoneList" in obj and "features" in obj:
        raise root.child("features").error("give UASZoneList or features, not both")
    key = "UASZoneList" if "UASZoneList" in obj else "features"
    if key not in obj:
        raise root.child("UASZoneList").error("is required (the list of UASZoneVersion)")
    items = root.child(key).items()
    if obj.get("type") == "FeatureCollection" or any(
        isinstance(i.value, dict) and i.value.get("type") == "Feature" for i in items
    ):
        raise root.child("type").error(
            "this is a GeoJSON FeatureCollection (ED-318 or the Truceline profile), not ED-269"
        )
    return items


def _read_zone(
    node: Node, identifier: str, party: str | None, where: str, warnings: list[ReadWarning]
) -> Zone | None:
    name = node.child("name").optional_string(non_empty=False) or ""
    restriction = node.child("restriction")
    text = restriction.string()
    if text not in RESTRICTIONS:
        raise restriction.error(f"{describe(text)} is not one of: {', '.join(RESTRICTIONS)}")
    windows = [_window(a, where, warnings) for a in node.child("applicability").items(non_empty=True)]
    shapes = [_airspace_volume(g) for g in node.child("geometry").items(non_empty=True)]
    volumes = tuple(_volume(shape, band, window, path) for shape, band, path in shapes for window in windows)
    mapping = RESTRICTIONS[text]
    if mapping is None:
        skipped = f"{text} restricts nothing; the zone is skipped"
        warnings.append(ReadWarning(where, restriction.path, skipped))
        return None
    kind, entry = mapping
    rule = ZoneRule(RESTRICTS_ALL, Activity.AIR, entry)
    return Zone(identifier, kind, volumes, rule, party, name)


def _volume(shape: Shape, band: AltitudeBand, window: TimeWindow, path: str) -> Volume4D:
    with fields_named({}, default=path):
        return Volume4D(shape, band, window)


def _window(node: Node, where: str, warnings: list[ReadWarning]) -> TimeWindow:
    """One ApplicableTimePeriod as a time window (see docs/formats.md for permanent zones)."""
    node.object()
    permanent = node.child("permanent")
    flag = permanent.string()
    if flag not in ("YES", "NO"):
        raise permanent.error(f'must be "YES" or "NO", got {describe(flag)}')
    start_node, end_node = node.child("startDateTime"), node.child("endDateTime")
    # absent and null both mean "not given"
    start = start_node.time() if start_node.present and not start_node.is_null else None
    end = end_node.time(round_up=True) if end_node.present and not end_node.is_null else None
    if flag == "YES":
        if end is not None:
            raise end_node.error("a permanent zone (permanent YES) cannot end; give null")
        start = start or PERMANENT_START
    elif start is None:
        raise start_node.error('is required when permanent is "NO"')
    _schedules(node, where, warnings)
    with fields_named({"time_start": start_node.path, "time_end": end_node.path}, default=node.path):
        return TimeWindow(start, end)


def _schedules(node: Node, where: str, warnings: list[ReadWarning]) -> None:
    """Daily periods: an empty one (no days, null times) restricts nothing; any other is
    read as active all day, with a warning (we have no daily windows; this over-reports)."""
    keys = [k for k in ("schedule", "dailyPeriod") if node.has(k)]
    if len(keys) > 1:
        raise node.child("dailyPeriod").error("give schedule or dailyPeriod, not both")
    if not keys or node.child(keys[0]).is_null:
        return
    for period in node.child(keys[0]).items():
        period.object()
        days = period.child("day")
        day_list = [d.string() for d in days.items()] if days.present and not days.is_null else []
        times = [period.child(k).value for k in ("startTime", "endTime")]
        if not day_list and all(t is None or t == "" for t in times):
            continue
        shown = ",".join(day_list) or "every day"
        warnings.append(
            ReadWarning(
                where,
                period.path,
                f"daily period ({shown} {describe(times[0])}-{describe(times[1])}) read as active"
                " all day: Truceline has no daily windows, so this may over-report",
            )
        )


def _airspace_volume(node: Node) -> tuple[Shape, AltitudeBand, str]:
    """One UASZoneAirspaceVolume: its horizontal projection and altitude band."""
    node.object()
    uom_node = node.child("uomDimensions")
    uom_text = uom_node.string()
    if uom_text not in UOM_DIMENSIONS:
        raise uom_node.error(f"{describe(uom_text)} is not one of: M, FT")
    units = UOM_DIMENSIONS[uom_text]
    return _projection(node.child("horizontalProjection"), units), _band(node, units), node.path


def _limit(node: Node, units: str) -> float | None:
    """A limit in metres, or None for null/absent (no limit). Numeric strings are numbers."""
    if not node.present or node.is_null:
        return None
    return to_metres(node.number(numeric_string=True), units, field=node.path)


def _band(node: Node, units: str) -> AltitudeBand:
    """Each limit with its own reference (lowerVerticalReference AGL with upperVerticalReference
    AMSL is valid and common): the band keeps both (geo.altitude). A lower limit at or below
    0 m AGL is the ground (GND), which meets every band below the upper limit without a
    terrain model; a null limit is no limit."""
    lower_node, upper_node = node.child("lowerLimit"), node.child("upperLimit")
    lower, upper = _limit(lower_node, units), _limit(upper_node, units)
    lower_ref = _reference(node.child("lowerVerticalReference"))
    upper_ref = _reference(node.child("upperVerticalReference"))
    lower_limit = None
    if lower is not None:
        at_ground = lower_ref is AltitudeReference.AGL and lower <= 0.0
        lower_limit = AltitudeLimit.ground() if at_ground else AltitudeLimit(lower, LimitReference(lower_ref))
    upper_limit = None if upper is None else AltitudeLimit(upper, LimitReference(upper_ref))
    names = {
        "altitude_lower": lower_node.path,
        "lower_m": lower_node.path,
        "altitude_upper": upper_node.path,
        "upper_m": upper_node.path,
    }
    with fields_named(names, default=node.path):
        band = band_from_limits(lower_limit, upper_limit)
        if not band.references():  # ground to unlimited: keep the reference the file gives
            band = AltitudeBand(band.lower_m, band.upper_m, upper_ref)
        return band


def _reference(node: Node) -> AltitudeReference:
    text = node.string()
    if text not in VERTICAL_REFERENCES:
        raise node.error(f"{describe(text)} is not one of: {', '.join(VERTICAL_REFERENCES)}")
    return VERTICAL_REFERENCES[text]


def _projection(node: Node, units: str) -> Shape:
    node.object()
    kind_node = node.child("type")
    kind = kind_node.string()
    if kind == "Polygon":
        rings = node.child("coordinates").items(non_empty=True)
        if len(rings) > 1:
            raise rings[1].error("polygons with holes are not supported (give one exterior ring)")
        ring = tuple(_position(p) for p in rings[0].items(non_empty=True))
        with fields_named({"ring": rings[0].path}, default=node.path):
            return Polygon(ring)
    if kind == "Circle":
        center = node.child("center")
        radius = node.child("radius")
        radius_m = to_metres(radius.number(numeric_string=True), units, field=radius.path)
        position = _position(center)
        with fields_named({"radius_m": radius.path, "center": center.path}, default=node.path):
            return Circle(position, radius_m)
    raise kind_node.error(f'{describe(kind)} is not supported ("Polygon" or "Circle")')


def _position(node: Node) -> tuple[float, float]:
    values = node.items()
    if len(values) != 2:
        raise node.error(f"must be [longitude, latitude], got {len(values)} numbers")
    return (values[0].number(), values[1].number())


__all__ = ["PERMANENT_START", "RESTRICTIONS", "read_ed269"]
