"""ASTM F3548-21 Volume4D JSON, alone or inside the documents that carry it.

The field layout follows the F3548 OpenAPI (astm-utm/Protocol ``utm.yaml``, as generated in
interuss/uas_standards ``astm/f3548/v21/api.py``) and InterUSS's automated-testing
interfaces (``flight_planning/v1`` and ``scd/v1``). docs/formats.md lists every accepted
wrapping and what each field becomes. Errors name the file and the JSON path, e.g.
``plan.json: details.volumes[2].volume.altitude_lower.value: must be a number, got "abc"``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime

from truceline.domain.activity import Activity
from truceline.domain.operation import Operation, OperationState
from truceline.domain.zone import RESTRICTS_ALL, Entry, Zone, ZoneKind, ZoneRule
from truceline.errors import FormatError, TrucelineError
from truceline.geo.altitude import AltitudeBand, AltitudeReference, to_metres
from truceline.geo.shapes import Circle, Polygon, Shape
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.ed269 import RESTRICTIONS
from truceline.io.features import Features, ReadWarning
from truceline.io.fields import MISSING, Node, Source, describe, fields_named, load_json, rename_field

# F3548 Altitude.reference: W84 only; InterUSS flight planning adds SFC (the surface, i.e. AGL).
ALTITUDE_REFERENCES = {"W84": AltitudeReference.W84, "SFC": AltitudeReference.AGL}
# F3548 allows "M" only; "FT" is accepted as a documented extension.
LENGTH_UNITS = {"M": "m", "FT": "ft"}

# Document states -> OperationState. F3548 OperationalIntentState and InterUSS flight plan
# usage_state; Nonconforming and Contingent are still flying, hence active.
STATES = {
    "Accepted": OperationState.ACCEPTED,
    "Activated": OperationState.ACTIVE,
    "Nonconforming": OperationState.ACTIVE,
    "Contingent": OperationState.ACTIVE,
    "Planned": OperationState.PLANNED,
    "InUse": OperationState.ACTIVE,
    "Closed": OperationState.ENDED,
}


@dataclass(frozen=True, slots=True)
class F3548Document:
    """What a document says: its volumes (nominal then off-nominal) and, when it carries
    them, the operation id, the managing USS and the state."""

    volumes: tuple[Volume4D, ...]
    volumes_path: str
    operation_id: str | None = None
    manager: str | None = None
    state: OperationState | None = None
    priority: int | None = None  # OperationalIntentDetails.priority


def read_f3548_volumes(document: Source, *, source: str | None = None) -> list[Volume4D]:
    """Every Volume4D of ``document`` (any accepted wrapping), nominal then off-nominal."""
    return list(read_f3548_document(document, source=source).volumes)


def read_f3548_operation(
    document: Source,
    *,
    party: str | None = None,
    operation_id: str | None = None,
    activity: Activity | str = Activity.AIR,
    state: OperationState | str | None = None,
    source: str | None = None,
) -> Operation:
    """An Operation from an F3548 document.

    ``party``, ``operation_id`` and ``state`` given here win over the document's
    (``reference.manager``, ``reference.id`` or ``operational_intent_id``, and the
    document's state); when neither gives an id or a party it is an error. Off-nominal
    volumes are part of the operation (the aircraft may be there).
    """
    raw, label = load_json(document, name=source)
    doc = _located(raw, label)
    ident = operation_id or doc.operation_id
    owner = party or doc.manager
    if not ident:
        raise FormatError("the document carries no operation id; pass operation_id", field="id", where=label)
    if not owner:
        raise FormatError(
            "the document names no party (reference.manager); pass party", field="party", where=label
        )
    try:
        return Operation(
            ident,
            owner,
            activity,
            doc.volumes,
            state or doc.state or OperationState.PLANNED,
            priority=doc.priority,
        )
    except TrucelineError as error:
        if error.field == "volumes":
            error.field = doc.volumes_path
        raise error.located(label) from None


def read_f3548_document(document: Source, *, source: str | None = None) -> F3548Document:
    """Find the volumes in ``document``, whichever accepted wrapping holds them."""
    return _located(*load_json(document, name=source))


def _located(raw: object, label: str) -> F3548Document:
    if is_f3548_constraint(raw):
        raise FormatError(
            "is an F3548 constraint (a zone), not an operational intent; give it as a zone file",
            field="document",
            where=label,
        )
    try:
        return _read(Node(raw))
    except TrucelineError as error:
        raise error.located(label) from None


def _read(root: Node) -> F3548Document:
    if isinstance(root.value, list):
        return F3548Document(_volumes([root]), root.path)
    obj = root.object()
    if "volume" in obj:  # a single Volume4D
        return F3548Document((read_volume4d(root),), "volume")
    if "request" in obj:  # InterUSS FlightIntent (deprecated): {reference_time, request}
        return _read(root.child("request"))
    if "flight_plan" in obj:  # InterUSS flight_planning UpsertFlightPlanRequest
        return _read(root.child("flight_plan"))
    if "basic_information" in obj:  # InterUSS flight_planning FlightPlan / FlightInfo
        info = root.child("basic_information")
        area = info.child("area")
        usage = info.child("usage_state")
        return F3548Document(_volumes([area]), area.path, state=_state(usage) if usage.present else None)
    if "extents" in obj:  # PutOperationalIntentReferenceParameters (or a constraint's)
        extents = root.child("extents")
        volumes = (read_volume4d(extents),) if isinstance(extents.value, Mapping) else _volumes([extents])
        state = root.child("state")
        return F3548Document(volumes, extents.path, state=_state(state) if state.present else None)
    if "operational_intent" in obj:
        intent = root.child("operational_intent")
        intent.object()
        found = _read(intent)
        ident = root.child("operational_intent_id")
        if ident.present and found.operation_id is None:
            found = replace(found, operation_id=ident.string())
        return found
    if "details" in obj or "reference" in obj:  # OperationalIntent {reference, details}
        details = root.child("details")
        reference = root.child("reference")
        found = _read_details(details)
        if reference.present:
            reference.object()
            state = reference.child("state")
            return replace(
                found,
                operation_id=reference.child("id").string(),
                manager=reference.child("manager").optional_string(),
                state=_state(state) if state.present else None,
            )
        return found
    if "volumes" in obj or "off_nominal_volumes" in obj:
        return _read_details(root)
    raise root.error(
        "holds no F3548 volumes: expected a Volume4D (volume), a list of them, an operational "
        "intent (details.volumes), extents, operational_intent or basic_information.area"
    )


def _read_details(details: Node) -> F3548Document:
    """OperationalIntentDetails, or the SCD test injection (``state`` + ``volumes``)."""
    details.object()
    nominal = details.child("volumes")
    off_nominal = details.child("off_nominal_volumes")
    lists = [n for n in (nominal, off_nominal) if n.present and not n.is_null]
    if not lists:
        raise nominal.error("is required (with at least one Volume4D)")
    state = details.child("state")
    return F3548Document(
        _volumes(lists),
        nominal.path,
        state=_state(state) if state.present else None,
        priority=_priority(details.child("priority")),
    )


def _priority(node: Node) -> int | None:
    """F3548 Priority: an integer (greater is higher), or absent / null."""
    if not node.present or node.is_null:
        return None
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or (
        value != int(value)
    ):
        raise node.error(f"must be an integer, got {describe(value)}")
    return int(value)


def _volumes(lists: list[Node]) -> tuple[Volume4D, ...]:
    return tuple(read_volume4d(item) for node in lists for item in node.items())


def _state(node: Node) -> OperationState:
    text = node.string()
    if text not in STATES:
        raise node.error(f"{describe(text)} is not one of: {', '.join(STATES)}")
    return STATES[text]


def read_volume4d(node: Node, *, open_limits: bool = False) -> Volume4D:
    """One F3548 Volume4D: {volume: {outline_polygon | outline_circle, altitude_lower,
    altitude_upper}, time_start, time_end}. Times are required, and both altitudes unless
    ``open_limits`` (a constraint's volume, where an absent limit is unlimited); F3548
    requires them for an operational intent's volumes."""
    volume = node.child("volume")
    volume.object()
    shape = _shape(volume)
    band = _band(volume, open_limits=open_limits)
    start_node, end_node = node.child("time_start"), node.child("time_end")
    start = _time(start_node, round_up=False)
    end = _time(end_node, round_up=True)
    with fields_named({"time_start": start_node.path + ".value", "time_end": end_node.path + ".value"}):
        window = TimeWindow(start, end)
    with fields_named({}, default=volume.path):
        return Volume4D(shape, band, window)


def _shape(volume: Node) -> Shape:
    polygon, circle = volume.child("outline_polygon"), volume.child("outline_circle")
    has_polygon = polygon.present and not polygon.is_null
    has_circle = circle.present and not circle.is_null
    if has_polygon and has_circle:
        raise volume.error("gives both outline_polygon and outline_circle; F3548 needs exactly one")
    if has_polygon:
        vertices = polygon.child("vertices").items(non_empty=True)
        points = [_lat_lng(v) for v in vertices]
        if len(points) > 1 and points[-1] == points[0]:
            raise vertices[-1].error(
                "repeats the first vertex; F3548 polygons are not closed "
                "(the last vertex must differ from the first)"
            )
        # F3548 leaves the ring open; ours is closed (first == last)
        try:
            return Polygon((*points, points[0]))
        except TrucelineError as error:
            if error.field == f"ring[{len(points)}]":  # the closing vertex we added is vertex 0
                error.field = "ring[0]"
            raise rename_field(error, {"ring": vertices[0].path[:-3]}, default=polygon.path) from None
    if has_circle:
        center = circle.child("center")
        radius = circle.child("radius")
        radius_m = _length(radius)
        position = _lat_lng(center)
        with fields_named({"radius_m": radius.path + ".value", "center": center.path}, default=circle.path):
            return Circle(position, radius_m)
    raise volume.error("needs outline_polygon or outline_circle")


def _lat_lng(node: Node) -> tuple[float, float]:
    node.object()
    return (node.child("lng").number(), node.child("lat").number())


def _length(node: Node) -> float:
    """A {value, units} length in metres; units "M" (F3548) or "FT" (our extension)."""
    node.object()
    value = node.child("value").number()
    units = node.child("units")
    text = units.string()
    if text not in LENGTH_UNITS:
        raise units.error(f"{describe(text)} is not one of: {', '.join(LENGTH_UNITS)}")
    return to_metres(value, LENGTH_UNITS[text], field=node.path)


def _band(volume: Node, *, open_limits: bool = False) -> AltitudeBand:
    lower, upper = volume.child("altitude_lower"), volume.child("altitude_upper")
    if open_limits and (lower.value in (MISSING, None) or upper.value in (MISSING, None)):
        return _open_band(volume, lower, upper)
    lower_m, upper_m = _length(lower), _length(upper)
    lower_ref = _reference(lower.child("reference"))
    upper_ref_node = upper.child("reference")
    if _reference(upper_ref_node) is not lower_ref:
        raise upper_ref_node.error(
            f"{describe(upper_ref_node.value)} differs from altitude_lower.reference "
            f"{describe(lower.child('reference').value)}; one volume needs one reference"
        )
    names = {
        "altitude_lower": lower.path + ".value",
        "lower_m": lower.path + ".value",
        "altitude_upper": upper.path + ".value",
        "upper_m": upper.path + ".value",
    }
    with fields_named(names, default=volume.path):
        return AltitudeBand(lower_m, upper_m, lower_ref)


def _open_band(volume: Node, lower: Node, upper: Node) -> AltitudeBand:
    """A constraint's band with one limit or none: an absent limit is unlimited; the
    reference is the given limit's (W84, the only F3548 one, when neither is given)."""
    has_lower, has_upper = (n.value not in (MISSING, None) for n in (lower, upper))
    given = lower if has_lower else upper if has_upper else None
    reference = AltitudeReference.W84 if given is None else _reference(given.child("reference"))
    lower_m = _length(lower) if has_lower else -math.inf
    upper_m = _length(upper) if has_upper else math.inf
    names = {"altitude_lower": lower.path + ".value", "altitude_upper": upper.path + ".value"}
    with fields_named(names, default=volume.path):
        return AltitudeBand(lower_m, upper_m, reference)


def _reference(node: Node) -> AltitudeReference:
    text = node.string()
    if text not in ALTITUDE_REFERENCES:
        raise node.error(f"{describe(text)} is not one of: {', '.join(ALTITUDE_REFERENCES)}")
    return ALTITUDE_REFERENCES[text]


def _time(node: Node, *, round_up: bool) -> datetime:
    obj = node.object()
    if "value" not in obj:
        # InterUSS FlightInfoTemplate times are relative to the test run: nothing to read here
        raise node.child("value").error(
            "is required (relative times such as offset_from are not "
            "supported; give an absolute RFC 3339 value)"
        )
    fmt = node.child("format")
    if fmt.present and fmt.string() != "RFC3339":
        raise fmt.error(f'must be "RFC3339", got {describe(fmt.value)}')
    return node.child("value").time(round_up=round_up)


# --- constraints, read as zones -------------------------------------------------------------

# Members only a constraint has: ConstraintDetails.type and .geozone; the wrappers of
# GetConstraintDetailsResponse and PutConstraintDetailsParameters.
_CONSTRAINT_DETAILS = ("type", "geozone")
_CONSTRAINT_WRAPPERS = ("constraint", "constraint_id")


def is_f3548_constraint(document: object) -> bool:
    """Whether ``document`` is an F3548 Constraint, ConstraintDetails,
    GetConstraintDetailsResponse or PutConstraintDetailsParameters. Told apart by their
    own members: a Constraint whose details have neither ``type`` nor ``geozone`` reads as
    an operational intent (the two schemas are otherwise alike)."""
    if not isinstance(document, Mapping):
        return False
    if any(k in document for k in _CONSTRAINT_WRAPPERS):
        return True
    details = document.get("details", document)
    return isinstance(details, Mapping) and any(k in details for k in _CONSTRAINT_DETAILS)


def read_f3548_constraint(
    document: Source,
    *,
    zone_id: str | None = None,
    default_id: str | None = None,
    party: str | None = None,
    source: str | None = None,
) -> Features:
    """The zone of an F3548 constraint document (see ``is_f3548_constraint``).

    Its id: ``zone_id``, else ``constraint_id`` / ``reference.id`` / the geozone's
    ``identifier``, else ``default_id``; its party: ``party``, else ``reference.manager``.
    A ``geozone`` (ED-269 inside F3548) sets kind and entry as the ED-269 reader does
    (``io.ed269.RESTRICTIONS``; ``NO_RESTRICTION``: skipped with a warning) and names the
    zone; without one the kind is
    ``details.type`` when it is a Truceline kind (as ``io.f3548_out`` writes it), else
    ``no_fly``, and the zone forbids all air activity. The volumes are the constraint's.
    """
    raw, label = load_json(document, name=source)
    try:
        return _constraint(Node(raw), label, zone_id, default_id, party)
    except TrucelineError as error:
        raise error.located(label) from None


def _constraint(
    root: Node, label: str, zone_id: str | None, default_id: str | None, party: str | None
) -> Features:
    root.object()
    ident = root.child("constraint_id").optional_string()
    node = root.child("constraint") if root.has("constraint") else root
    if node.has("reference") or node.has("details"):
        reference = node.child("reference")
        if reference.present and not reference.is_null:
            reference.object()
            ident = ident or reference.child("id").optional_string()
            party = party or reference.child("manager").optional_string()
        details = node.child("details")
    else:
        details = node
    details.object()
    volumes_node = details.child("volumes")
    volumes = tuple(read_volume4d(item, open_limits=True) for item in volumes_node.items())
    if not volumes:
        raise volumes_node.error("is required (with at least one Volume4D)")
    kind_node = details.child("type")
    kind_text = kind_node.optional_string()
    kind = ZoneKind(kind_text) if kind_text in set(ZoneKind) else ZoneKind.NO_FLY
    rule = ZoneRule(RESTRICTS_ALL, Activity.AIR, Entry.FORBIDDEN)
    name = ""
    geozone = details.child("geozone")
    if geozone.present and not geozone.is_null:
        geozone.object()
        identifier = geozone.child("identifier").optional_string()
        ident = ident or identifier
        name = geozone.child("name").optional_string(non_empty=False) or ""
        restriction = geozone.child("restriction")
        text = restriction.string()
        if text not in RESTRICTIONS:
            raise restriction.error(f"{describe(text)} is not one of: {', '.join(RESTRICTIONS)}")
        mapping = RESTRICTIONS[text]
        if mapping is None:
            where = f"{label}: constraint {describe(zone_id or ident)}"
            warning = ReadWarning(where, restriction.path, f"{text} restricts nothing; the zone is skipped")
            return Features(warnings=(warning,))
        kind, entry = mapping
        rule = ZoneRule(RESTRICTS_ALL, Activity.AIR, entry)
    ident = zone_id or ident or default_id
    if not ident:
        raise FormatError("is required: the constraint carries no id", field="reference.id")
    with fields_named({}, default="document"):
        zone = Zone(ident, kind, volumes, rule, party, name)
    return Features(zones=(zone,))
