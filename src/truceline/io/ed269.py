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

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import time
from typing import Any

from truceline.domain.activity import Activity
from truceline.domain.clock import EPOCH
from truceline.domain.zone import RESTRICTS_ALL, Entry, Zone, ZoneKind, ZoneRule
from truceline.errors import TrucelineError
from truceline.geo.altitude import (
    AltitudeBand,
    AltitudeLimit,
    AltitudeModel,
    AltitudeReference,
    LimitReference,
    band_from_limits,
    to_metres,
)
from truceline.geo.shapes import Circle, Polygon, Shape, shape_bounds
from truceline.geo.timewindow import WEEKDAYS, DailyPeriod, Schedule, TimeWindow, time_zone_named
from truceline.geo.units import FOOT_M
from truceline.geo.volume import Volume4D
from truceline.io.documents import ED318_REFUSAL, is_ed318
from truceline.io.features import Features, ReadWarning
from truceline.io.fields import Node, Source, describe, fields_named, format_rfc3339, load_json

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

# ED-269 limits an identifier to 7 characters; longer ones are read, with a warning.
MAX_IDENTIFIER_CHARS = 7

# ED-269 times of day: "hh:mmS" by the standard, "hh:mm:ss.ssS" in its examples, where S is
# "Z", an offset, or (local wall-clock time) nothing.
_TIME_OF_DAY = re.compile(r"(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|z|[+-]\d{2}:?\d{2})?")


def read_ed269(
    document: Source, *, party: str | None = None, time_zone: str | None = None, source: str | None = None
) -> Features:
    """Zones from an ED-269 document: ``{"UASZoneList": [...]}``, ``{"features": [...]}`` or
    a bare list of UASZoneVersion. ``party`` becomes each zone's party (ED-269 has none).

    Every zone restricts all parties' air activity; ``restriction`` sets its kind and entry
    (see RESTRICTIONS). ``time_zone`` (an IANA name) is the zone's time zone for daily
    periods written without an offset, unless the zone names its own in
    ``extendedProperties.timeZone``. Returns Features whose ``warnings`` name what was read
    conservatively or left out. Raises a TrucelineError naming file, zone and field.
    """
    raw, label = load_json(document, name=source)
    try:
        items = _zone_list(Node(raw))
    except TrucelineError as error:
        raise error.located(label) from None

    zones: list[Zone] = []
    warnings: list[ReadWarning] = []
    seen: dict[str, str] = {}  # identifier -> where its first zone is
    for index, item in enumerate(items):
        node = Node(item.value)
        where = f"{label}: zone {index}"
        try:
            node.object()
            if _skipped(node, where, warnings):
                continue  # a zone that restricts nothing never blocks the file
            identifier = node.child("identifier").string()
            where = f"{where} (identifier {describe(identifier)})"
            if identifier in seen:
                raise node.child("identifier").error(
                    f"{describe(identifier)} is used by two zones: {seen[identifier]} and zone {index}"
                    f"{_named(node)}; identifiers must be unique"
                )
            seen[identifier] = f"zone {index}{_named(node)}"
            zones.append(_read_zone(node, identifier, party, time_zone, where, warnings))
        except TrucelineError as error:
            raise error.located(where) from None
    return Features(zones=tuple(zones), warnings=tuple(warnings))


def _named(node: Node) -> str:
    name = node.value.get("name") if isinstance(node.value, dict) else None
    return f" (name {describe(name)})" if isinstance(name, str) and name else ""


def _skipped(node: Node, where: str, warnings: list[ReadWarning]) -> bool:
    """Whether the zone is NO_RESTRICTION: then it is skipped with a warning, before any
    other field is read (a fault in a zone we would not use must not refuse the file)."""
    restriction = node.child("restriction")
    if restriction.value != "NO_RESTRICTION":
        return False
    ident = node.value.get("identifier") if isinstance(node.value, dict) else None
    if isinstance(ident, str):
        where = f"{where} (identifier {describe(ident)})"
    skipped = "NO_RESTRICTION restricts nothing; the zone is skipped"
    warnings.append(ReadWarning(where, restriction.path, skipped))
    return True


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
    if is_ed318(obj):
        raise root.error(ED318_REFUSAL)
    if obj.get("type") == "FeatureCollection" or any(
        isinstance(i.value, dict) and i.value.get("type") == "Feature" for i in items
    ):
        raise root.child("type").error(
            "this is a GeoJSON FeatureCollection (ED-318 or the Truceline profile), not ED-269"
        )
    return items


def _read_zone(
    node: Node,
    identifier: str,
    party: str | None,
    time_zone: str | None,
    where: str,
    warnings: list[ReadWarning],
) -> Zone:
    if len(identifier) > MAX_IDENTIFIER_CHARS:
        warnings.append(
            ReadWarning(
                where,
                node.child("identifier").path,
                f"is {len(identifier)} characters long; ED-269 allows {MAX_IDENTIFIER_CHARS} (read as given)",
            )
        )
    authority = node.child("zoneAuthority")
    if not authority.present or authority.is_null or authority.value == []:
        warnings.append(
            ReadWarning(where, authority.path, "is missing: ED-269 requires the zone's authority")
        )
    name = node.child("name").optional_string(non_empty=False) or ""
    restriction = node.child("restriction")
    text = restriction.string()
    mapping = RESTRICTIONS.get(text)
    if mapping is None:  # NO_RESTRICTION was skipped before
        raise restriction.error(f"{describe(text)} is not one of: {', '.join(RESTRICTIONS)}")
    zone_time_zone = _zone_time_zone(node) or time_zone
    windows = [_window(a, zone_time_zone) for a in node.child("applicability").items(non_empty=True)]
    shapes = [_airspace_volume(g) for g in node.child("geometry").items(non_empty=True)]
    volumes = tuple(_volume(shape, band, window, path) for shape, band, path in shapes for window in windows)
    kind, entry = mapping
    rule = ZoneRule(RESTRICTS_ALL, Activity.AIR, entry)
    return Zone(identifier, kind, volumes, rule, party, name)


def _zone_time_zone(node: Node) -> str | None:
    """``extendedProperties.timeZone`` (an IANA name), the zone's own time zone, if given."""
    extended = node.child("extendedProperties")
    if not isinstance(extended.value, dict) or "timeZone" not in extended.value:
        return None
    given = extended.child("timeZone")
    text = given.string()
    time_zone_named(text, field=given.path)  # refused here, naming the field, if unknown
    return text


def _volume(shape: Shape, band: AltitudeBand, window: TimeWindow, path: str) -> Volume4D:
    with fields_named({}, default=path):
        return Volume4D(shape, band, window)


def _window(node: Node, time_zone: str | None) -> TimeWindow:
    """One ApplicableTimePeriod as a time window (see docs/formats.md for permanent zones),
    with its daily periods as a weekly schedule."""
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
    schedule = _schedule(node, time_zone)
    with fields_named({"time_start": start_node.path, "time_end": end_node.path}, default=node.path):
        return TimeWindow(start, end, schedule)


def _schedule(node: Node, time_zone: str | None) -> Schedule | None:
    """Daily periods (``dailyPeriod``, or ``schedule`` as uas_standards names it) as a weekly
    schedule. A period with no days and null times (the real sample) restricts nothing and is
    ignored; if every period is so, the window has no schedule."""
    keys = [k for k in ("schedule", "dailyPeriod") if node.has(k)]
    if len(keys) > 1:
        raise node.child("dailyPeriod").error("give schedule or dailyPeriod, not both")
    if not keys or node.child(keys[0]).is_null:
        return None
    periods: list[DailyPeriod] = []
    zones: list[tuple[str, str]] = []  # (zone, the path it came from)
    for period in node.child(keys[0]).items():
        period.object()
        days = period.child("day")
        day_nodes = days.items() if days.present and not days.is_null else []
        start_node, end_node = period.child("startTime"), period.child("endTime")
        if not day_nodes and all(n.value is None or n.value == "" for n in (start_node, end_node)):
            continue  # the empty period of the real sample: no daily restriction
        if not day_nodes:
            raise days.error("must list at least one day (MON..SUN, or ANY) when times are given")
        day_set: set[int] = set()
        for day in day_nodes:
            text = day.string()
            if text == "ANY":
                day_set.update(range(7))
            elif text in WEEKDAYS:
                day_set.add(WEEKDAYS.index(text))
            else:
                raise day.error(f"{describe(text)} is not one of: {', '.join(WEEKDAYS)}, ANY")
        start, start_zone = _time_of_day(start_node, time_zone)
        end, end_zone = _time_of_day(end_node, time_zone)
        zones += [(start_zone, start_node.path), (end_zone, end_node.path)]
        periods.append(DailyPeriod(frozenset(day_set), start, end))
    if not periods:
        return None
    first_zone, first_path = zones[0]
    for zone, path in zones[1:]:
        if zone != first_zone:
            raise Node(None, path).error(
                f"is in time zone {zone}, but {first_path} is in {first_zone}:"
                " the periods of one applicability share one time zone"
            )
    return Schedule(first_zone, tuple(periods))


def _time_of_day(node: Node, time_zone: str | None) -> tuple[time, str]:
    """A wall-clock time and its zone: ``08:00Z`` is UTC, ``08:00+01:00`` a fixed offset,
    ``08:00`` local time in ``time_zone`` (an error without one: the zone would be a guess)."""
    text = node.string()
    match = _TIME_OF_DAY.fullmatch(text.strip())
    if match is None:
        raise node.error(f'must be a time of day such as "08:00Z" or "08:00:00.00Z", got {describe(text)}')
    hour, minute, second, zone = match.groups()
    h, m, sec = int(hour), int(minute), int(second or 0)
    if (h, m, sec) == (24, 0, 0):
        h = 0  # the end of the day: a period ending at 24:00 runs to the next midnight
    if h > 23 or m > 59 or sec > 59:
        raise node.error(f"{describe(text)} is not a time of day")
    if zone in ("Z", "z"):
        name = "UTC"
    elif zone:
        name = f"{zone[:3]}:{zone[-2:]}"
    elif time_zone is None:
        raise node.error(
            f"{describe(text)} has no offset: a local time needs the zone's time zone"
            " (extendedProperties.timeZone, or --time-zone)"
        )
    else:
        name = time_zone
    return time(h, m, sec), name


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




# -- writing ---------------------------------------------------------------------------

# Entry -> restriction: forbidden entry is PROHIBITED, entry with notice REQ_AUTHORISATION
# (what the reader maps back; see RESTRICTIONS).
WRITTEN_RESTRICTIONS = {Entry.FORBIDDEN: "PROHIBITED", Entry.NOTICE: "REQ_AUTHORISATION"}

# The kind each written restriction reads back as; another kind is written with a warning.
READ_BACK_KINDS = {Entry.FORBIDDEN: ZoneKind.NO_FLY, Entry.NOTICE: ZoneKind.DECONFLICTION}

WRITTEN_REFERENCES = {AltitudeReference.AGL: "AGL", AltitudeReference.AMSL: "AMSL"}

# ED-269 requires a three-letter country; Truceline zones have none. "XXX" is ISO 3166's
# user-assigned code (the caller may give the real one).
UNKNOWN_COUNTRY = "XXX"


@dataclass(frozen=True, slots=True)
class Ed269Output:
    """What ``write_ed269`` wrote: the document, and a warning for each zone left out (it
    does not fit ED-269) or written with something ED-269 cannot say."""

    document: dict[str, Any]
    warnings: tuple[ReadWarning, ...] = ()


class _Unfit(Exception):
    """A zone ED-269 cannot express; the message says why."""


def write_ed269(
    zones: Iterable[Zone], *, country: str = UNKNOWN_COUNTRY, model: AltitudeModel | None = None
) -> Ed269Output:
    """An ED-269 document (``{"formatVersion": "1.0.0", "UASZoneList": [...]}``) for the
    zones that fit it; the others are left out, each with a warning saying why.

    A zone fits when it restricts every party's air activity (``restricts`` all, activity
    air or any), its limits are AGL or AMSL, each with its own reference (``"AGL/AMSL"``
    bands are written as such), and its volumes are every shape in every time window
    (ED-269's ``geometry`` x ``applicability``). A flight-level limit is converted to AMSL
    through ``model`` (outward: a floor lowered, a ceiling raised), with a warning; without
    a model that zone is left out. A W84 limit leaves the zone out. Reading the output gives
    the zones back (kind from the restriction: no_fly or deconfliction).
    """
    items: list[dict[str, Any]] = []
    warnings: list[ReadWarning] = []
    for zone in zones:
        where = f"zone {describe(zone.id)}"
        try:
            zone_warnings: list[ReadWarning] = []  # kept only if the zone is written
            items.append(_zone_item(zone, country, where, zone_warnings, model))
            warnings += zone_warnings
        except _Unfit as unfit:
            warnings.append(ReadWarning(where, unfit.args[0], f"{unfit.args[1]}; the zone is left out"))
    return Ed269Output({"formatVersion": "1.0.0", "UASZoneList": items}, tuple(warnings))


def _zone_item(
    zone: Zone, country: str, where: str, warnings: list[ReadWarning], model: AltitudeModel | None
) -> dict[str, Any]:
    rule = zone.rule
    if rule.restricts != RESTRICTS_ALL:
        raise _Unfit("restricts", f"restricts {describe(rule.restricts)}: an ED-269 zone restricts everyone")
    if rule.activity is Activity.GROUND:
        raise _Unfit("activity", "restricts ground activity: ED-269 zones are airspace")
    if rule.activity is Activity.ANY:
        warnings.append(ReadWarning(where, "activity", "any: ED-269 carries the air restriction only"))
    if READ_BACK_KINDS[rule.entry] is not zone.kind:
        warnings.append(
            ReadWarning(where, "kind", f"{zone.kind} is not expressed in ED-269; it reads back as "
                        f"{READ_BACK_KINDS[rule.entry]}")
        )  # fmt: skip
    if len(zone.id) > MAX_IDENTIFIER_CHARS:
        too_long = f"is over ED-269's {MAX_IDENTIFIER_CHARS} characters"
        warnings.append(ReadWarning(where, "identifier", too_long))
    windows = list(dict.fromkeys(v.time for v in zone.volumes))
    airspaces = list(dict.fromkeys((v.shape, v.altitude) for v in zone.volumes))
    product = [(shape, band, window) for shape, band in airspaces for window in windows]
    if [(v.shape, v.altitude, v.time) for v in zone.volumes] != product:
        raise _Unfit("volumes", "its volumes are not every shape in every time window (ED-269's form)")
    return {
        "identifier": zone.id,
        "country": country,
        "name": zone.name,
        "type": "COMMON",
        "restriction": WRITTEN_RESTRICTIONS[rule.entry],
        "zoneAuthority": [{"name": zone.party or "Truceline register"}],
        "applicability": [_written_window(w) for w in windows],
        "geometry": [_written_airspace(shape, band, model, where, warnings) for shape, band in airspaces],
        **_written_time_zone(windows),
    }


def _written_window(window: TimeWindow) -> dict[str, Any]:
    permanent = window.start == PERMANENT_START and window.end is None
    out: dict[str, Any] = {
        "permanent": "YES" if permanent else "NO",
        "startDateTime": None if permanent else format_rfc3339(window.start),
        "endDateTime": None if window.end is None else format_rfc3339(window.end),
    }
    if window.schedule is not None:
        suffix = _time_suffix(window.schedule.time_zone)
        out["dailyPeriod"] = [
            {
                "day": p.day_names,
                "startTime": p.start.isoformat("minutes") + suffix,
                "endTime": p.end.isoformat("minutes") + suffix,
            }
            for p in window.schedule.periods
        ]
    return out


def _time_suffix(time_zone: str) -> str:
    """ED-269's zone suffix of a time of day: Z for UTC, the offset for a fixed one, none for
    local time (the IANA zone goes in extendedProperties.timeZone)."""
    if time_zone == "UTC":
        return "Z"
    return time_zone if time_zone[:1] in "+-" else ""


def _written_time_zone(windows: list[TimeWindow]) -> dict[str, Any]:
    schedules = [w.schedule for w in windows if w.schedule is not None]
    local = {s.time_zone for s in schedules if not _time_suffix(s.time_zone)}
    if len(local) > 1:
        raise _Unfit("volumes", f"its schedules are in several time zones ({', '.join(sorted(local))})")
    return {"extendedProperties": {"timeZone": local.pop()}} if local else {}


def _written_airspace(
    shape: Shape, band: AltitudeBand, model: AltitudeModel | None, where: str, warnings: list[ReadWarning]
) -> dict[str, Any]:
    """One UASZoneAirspaceVolume; each limit with its own reference (ED-269 has one per limit).
    A flight level is not an ED-269 reference: it is converted to AMSL through ``model``,
    outward, with a warning, or the zone is left out."""
    limits: list[tuple[float | int | None, str | None]] = []
    ends = ((band.lower_m, band.lower_ref, True), (band.upper_m, band.reference, False))
    for value, reference, lower in ends:
        if math.isinf(value):  # no limit: its own reference if ED-269 has it, else the other's
            limits.append((None, WRITTEN_REFERENCES.get(reference)))
            continue
        if reference is AltitudeReference.FL:
            value = _flight_level_as_amsl(value, lower, shape, model, where, warnings)
            reference = AltitudeReference.AMSL
        if reference not in WRITTEN_REFERENCES:
            raise _Unfit("altitude_reference", f"{reference}: ED-269 limits are AGL or AMSL")
        limits.append((_number(value), WRITTEN_REFERENCES[reference]))
    (lower_m, lower_ref), (upper_m, upper_ref) = limits
    lower_ref, upper_ref = lower_ref or upper_ref or "AMSL", upper_ref or lower_ref or "AMSL"
    projection: dict[str, Any]
    if isinstance(shape, Circle):
        projection = {"type": "Circle", "center": list(shape.center), "radius": _number(shape.radius_m)}
    else:
        projection = {"type": "Polygon", "coordinates": [[list(p) for p in shape.ring]]}
    return {
        "uomDimensions": "M",
        "lowerLimit": lower_m,
        "lowerVerticalReference": lower_ref,
        "upperLimit": upper_m,
        "upperVerticalReference": upper_ref,
        "horizontalProjection": projection,
    }


def _flight_level_as_amsl(
    value: float, lower: bool, shape: Shape, model: AltitudeModel | None, where: str,
    warnings: list[ReadWarning],
) -> float:  # fmt: skip
    level = f"FL{value / (100.0 * FOOT_M):g}"
    if model is None:
        raise _Unfit(
            "altitude_reference",
            f"{level} is a flight level, not an ED-269 reference (AGL or AMSL), and no altitude model"
            " is given to convert it",
        )
    # the one limit alone, so the other keeps its own reference
    alone = AltitudeBand(value, math.inf, AltitudeReference.FL) if lower else AltitudeBand(
        -math.inf, value, AltitudeReference.FL
    )
    converted = model.converted(alone, AltitudeReference.AMSL, shape_bounds(shape))
    amsl = converted.band.lower_m if lower else converted.band.upper_m
    field = "altitude_lower" if lower else "altitude_upper"
    warnings.append(
        ReadWarning(
            where, field, f"{level} is not an ED-269 reference: written as {amsl:.2f} m AMSL through"
            f" {converted.conversion}, {'lowered' if lower else 'raised'} by the model's range and margin",
        )
    )  # fmt: skip
    return amsl


def _number(value: float) -> float | int:
    # ED-269 types limits as integers: an integral value is written as one
    return int(value) if float(value).is_integer() else value


__all__ = [
    "MAX_IDENTIFIER_CHARS",
    "PERMANENT_START",
    "RESTRICTIONS",
    "Ed269Output",
    "read_ed269",
    "write_ed269",
]
