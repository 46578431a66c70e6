"""Humanitarian notifications as GeoJSON (RFC 7946) Features, and their HXL-tagged CSV.

A site is a Feature with a Point; a movement, a Feature with a LineString (docs/humanitarian.md
lists the properties). Reading names the member at fault (``properties.corridor_m``) and
never fills in what is missing, except the documented defaults.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from truceline.domain.message import Priority
from truceline.domain.notification import (
    DEFAULT_CEILING_M,
    DEFAULT_TIME_MARGIN_S,
    Movement,
    Notification,
    Site,
    Subject,
)
from truceline.errors import FormatError, ValidationError

SITE_PROPERTIES = frozenset({"site_type", "protection_radius_m", "valid_from", "valid_to"})
MOVEMENT_PROPERTIES = frozenset(
    {"departure", "arrival", "waypoint_times", "corridor_m", "time_margin_s", "vehicles"}
    | {"markings", "emergency"}
)
COMMON_PROPERTIES = frozenset(
    {"name", "organisation", "ceiling_m", "priority", "acknowledge_within_s", "on_conflict", "parties"}
)

# HXL hashtags (Humanitarian Exchange Language 1.1): the second row of the CSV.
HXL_COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "#meta+id"),
    ("organisation", "#org+name"),
    ("name", "#loc+name"),
    ("type", "#loc+type"),
    ("latitude", "#geo+lat"),
    ("longitude", "#geo+lon"),
    ("start", "#date+start"),
    ("end", "#date+end"),
    ("status", "#status"),
)


def _time(props: Mapping[str, Any], name: str, *, required: bool = True) -> datetime | None:
    value = props.get(name)
    if value is None:
        if required:
            raise ValidationError("is missing", field=f"properties.{name}")
        return None
    return _parse_time(value, f"properties.{name}")


def _parse_time(value: object, field: str) -> datetime:
    if not isinstance(value, str):
        raise ValidationError(f"must be an RFC 3339 time, got {value!r}", field=field)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError(f"not an RFC 3339 time: {value!r}", field=field) from None
    if moment.tzinfo is None:
        raise ValidationError("has no timezone; give UTC explicitly (e.g. ...Z)", field=field)
    return moment


def _number(props: Mapping[str, Any], name: str, default: float | None = None) -> float:
    value = props.get(name, default)
    if value is None:
        raise ValidationError("is missing", field=f"properties.{name}")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"must be a number, got {value!r}", field=f"properties.{name}")
    return float(value)


def _integer(props: Mapping[str, Any], name: str, default: int | None) -> int | None:
    value = props.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(f"must be a whole number, got {value!r}", field=f"properties.{name}")
    return value


def _position(value: object, field: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise ValidationError("must be [lon, lat] (an altitude may follow)", field=field)
    for part in value:
        if isinstance(part, bool) or not isinstance(part, int | float) or not math.isfinite(part):
            raise ValidationError(f"must hold numbers, got {part!r}", field=field)
    return (float(value[0]), float(value[1]))


def read_notification(feature: object, notifier: str, notification_id: str) -> Notification:
    """The notification a Feature describes, notified by the party named ``notifier``.
    Raises ValidationError (FormatError) naming the member at fault."""
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        raise FormatError('must be a GeoJSON Feature ("type": "Feature")', field="type")
    geometry = feature.get("geometry")
    if not isinstance(geometry, Mapping):
        raise FormatError("must be a Point or a LineString", field="geometry")
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        raise FormatError("must be an object", field="properties")
    kind = geometry.get("type")
    coordinates = geometry.get("coordinates")
    specific = SITE_PROPERTIES if kind == "Point" else MOVEMENT_PROPERTIES
    unknown = sorted(set(props) - COMMON_PROPERTIES - specific)
    if unknown:
        other = "a LineString (a movement)" if kind == "Point" else "a Point (a site)"
        known = unknown[0] in SITE_PROPERTIES | MOVEMENT_PROPERTIES
        raise ValidationError(
            f"is only for {other}" if known else "is not a notification property",
            field=f"properties.{unknown[0]}",
        )
    subject: Subject
    if kind == "Point":
        subject = Site(
            _position(coordinates, "geometry.coordinates"),
            props.get("site_type"),  # type: ignore[arg-type]  # checked by Site
            _number(props, "protection_radius_m"),
            _time(props, "valid_from"),  # type: ignore[arg-type]
            _time(props, "valid_to", required=False),
        )
    elif kind == "LineString":
        subject = _movement(coordinates, props)
    else:
        raise FormatError(
            f"a notification is a Point (a site) or a LineString (a movement), got {kind!r}",
            field="geometry.type",
        )
    parties = props.get("parties", [])
    if not isinstance(parties, list) or not all(isinstance(p, str) for p in parties):
        raise ValidationError("must be a list of party names", field="properties.parties")
    emergency = bool(getattr(subject, "emergency", False))
    priority = props.get("priority", Priority.URGENT if emergency else Priority.HIGH)
    return Notification(
        notification_id,
        notifier,
        props.get("name", ""),
        props.get("organisation", ""),
        subject,
        _number(props, "ceiling_m", DEFAULT_CEILING_M),
        priority,
        _integer(props, "acknowledge_within_s", None),
        props.get("on_conflict", "warn"),
        tuple(parties),
    )


def _movement(coordinates: object, props: Mapping[str, Any]) -> Movement:
    if not isinstance(coordinates, list):
        raise ValidationError("must be a list of positions", field="geometry.coordinates")
    route = [_position(p, f"geometry.coordinates[{k}]") for k, p in enumerate(coordinates)]
    emergency = props.get("emergency", False)
    if not isinstance(emergency, bool):
        raise ValidationError(f"must be true or false, got {emergency!r}", field="properties.emergency")
    markings = props.get("markings", "")
    if not isinstance(markings, str):
        raise ValidationError("must be a text", field="properties.markings")
    options: dict[str, Any] = {
        "corridor_m": _number(props, "corridor_m"),
        "time_margin_s": _integer(props, "time_margin_s", DEFAULT_TIME_MARGIN_S),
        "vehicles": _integer(props, "vehicles", None),
        "markings": markings,
        "emergency": emergency,
    }
    given = props.get("waypoint_times")
    if given is not None:
        if "departure" in props or "arrival" in props:
            raise ValidationError(
                "give either waypoint_times or departure and arrival, not both",
                field="properties.waypoint_times",
            )
        if not isinstance(given, list):
            raise ValidationError("must be a list of RFC 3339 times", field="properties.waypoint_times")
        times = tuple(_parse_time(t, f"properties.waypoint_times[{k}]") for k, t in enumerate(given))
        return Movement(tuple(route), times, **options)
    departure = _time(props, "departure")
    arrival = _time(props, "arrival")
    if len(route) < 2:
        raise ValidationError(
            f"a route has at least 2 waypoints, got {len(route)}", field="geometry.coordinates"
        )
    return Movement.spread(route, departure, arrival, **options)  # type: ignore[arg-type]


def notification_feature(n: Notification) -> dict[str, Any]:
    """The GeoJSON Feature of a notification (what ``read_notification`` reads back)."""
    s = n.subject
    props: dict[str, Any] = {
        "name": n.name,
        "organisation": n.organisation,
        "ceiling_m": n.ceiling_m,
        "priority": str(n.priority),
        "acknowledge_within_s": n.acknowledge_within_s,
        "on_conflict": str(n.on_conflict),
        "parties": list(n.parties),
    }
    if isinstance(s, Site):
        geometry: dict[str, Any] = {"type": "Point", "coordinates": list(s.position)}
        props.update(
            site_type=str(s.site_type),
            protection_radius_m=s.protection_radius_m,
            valid_from=_text(s.valid_from),
            valid_to=_text(s.valid_to),
        )
    else:
        geometry = {"type": "LineString", "coordinates": [list(p) for p in s.route]}
        props.update(
            waypoint_times=[_text(t) for t in s.times],
            corridor_m=s.corridor_m,
            time_margin_s=s.time_margin_s,
            vehicles=s.vehicles,
            markings=s.markings,
            emergency=s.emergency,
        )
    return {"type": "Feature", "id": n.id, "geometry": geometry, "properties": props}


def _text(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.isoformat().replace("+00:00", "Z")


def hxl_csv(rows: Iterable[Sequence[object]]) -> str:
    """The HXL-tagged CSV: a header row, the hashtag row, then ``rows`` (in HXL_COLUMNS order)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180
    writer.writerow([name for name, _tag in HXL_COLUMNS])
    writer.writerow([tag for _name, tag in HXL_COLUMNS])
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return out.getvalue()
