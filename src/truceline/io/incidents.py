"""Incident reports in and out: the GeoJSON Feature an observer posts, and the exports
(CSV with ACLED's column names where a column has an ACLED counterpart, and GeoJSON).

ACLED (the Armed Conflict Location & Event Data project) is what analysts already load;
its codebook names the columns ``event_id_cnty``, ``event_date``, ``event_type``,
``sub_event_type``, ``actor1``, ``actor2``, ``latitude``, ``longitude``, ``geo_precision``
(1 exact place, 2 near it, 3 a wider region), ``time_precision`` (1 the day, 2 the week,
3 the month), ``fatalities`` (its conservative figure: our range's low end), ``notes``,
``source`` and ``timestamp`` (when the record was made, Unix seconds). Truceline's own
columns follow them, prefixed ``truceline_``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from typing import Any

from truceline.domain.incident import Evidence, IncidentReport, Location, quantity
from truceline.errors import FormatError, ValidationError
from truceline.io.fields import parse_rfc3339

# Properties a report may carry (anything else is refused, naming it: a misspelt
# ``fatalites`` must not be dropped silently).
PROPERTIES = frozenset(
    {
        "instance_id", "deprecated_id", "observed_start", "observed_end", "uncertainty_m", "bearing_deg",
        "bearing_uncertainty_deg", "distance_min_m", "distance_max_m", "category", "observation", "count",
        "fatalities", "injured", "direction_of_fire_deg", "description", "language", "evidence",
        "attributed_to",
    }
)  # fmt: skip
_FEATURE_MEMBERS = frozenset({"type", "id", "geometry", "properties", "bbox"})


def _number(props: Mapping[str, Any], name: str) -> float | None:
    value = props.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValidationError(f"must be a number, got {value!r}", field=f"properties.{name}")
    return float(value)


def _text(props: Mapping[str, Any], name: str, *, required: bool = False) -> str | None:
    value = props.get(name)
    if value is None:
        if required:
            raise ValidationError("is required", field=f"properties.{name}")
        return None
    if not isinstance(value, str):
        raise ValidationError(f"must be a text, got {type(value).__name__}", field=f"properties.{name}")
    return value


def read_incident(feature: object, *, default_bearing_uncertainty_deg: float) -> IncidentReport:
    """The report of one GeoJSON Feature (RFC 7946) whose properties are the report's
    fields. Raises ValidationError (FormatError for a non-Feature) naming the member."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise FormatError("must be a GeoJSON Feature", field="type")
    unknown = sorted(set(feature) - _FEATURE_MEMBERS)
    if unknown:
        raise ValidationError("is not a member of a report Feature", field=unknown[0])
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or "coordinates" not in geometry:
        raise ValidationError(
            "must be a Point or Polygon geometry: an input locating nothing", field="geometry"
        )
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise ValidationError("must be an object holding the report", field="properties")
    unknown = sorted(set(props) - PROPERTIES)
    if unknown:
        raise ValidationError(f"is not a report field; expected one of {', '.join(sorted(PROPERTIES))}",
                              field=f"properties.{unknown[0]}")  # fmt: skip
    start_text = _text(props, "observed_start", required=True)
    start = parse_rfc3339(
        start_text or "", error=lambda m: ValidationError(m, field="properties.observed_start")
    )
    end_text = _text(props, "observed_end")
    end = start if end_text is None else parse_rfc3339(
        end_text, error=lambda m: ValidationError(m, field="properties.observed_end")
    )
    bearing = _number(props, "bearing_deg")
    half_width = _number(props, "bearing_uncertainty_deg")
    if bearing is not None and half_width is None:
        half_width = default_bearing_uncertainty_deg
    location = Location(
        kind=str(geometry.get("type")),
        coordinates=geometry["coordinates"],
        uncertainty_m=_number(props, "uncertainty_m") or 0.0,
        bearing_deg=bearing,
        bearing_uncertainty_deg=half_width,
        distance_min_m=_number(props, "distance_min_m"),
        distance_max_m=_number(props, "distance_max_m"),
    )
    evidence = props.get("evidence") or []
    if not isinstance(evidence, list):
        raise ValidationError("must be a list of {sha256, media_type, size}", field="properties.evidence")
    items = []
    for i, item in enumerate(evidence):
        if not isinstance(item, dict) or set(item) != {"sha256", "media_type", "size"}:
            raise ValidationError("must be {sha256, media_type, size}", field=f"properties.evidence[{i}]")
        if not isinstance(item["sha256"], str) or not isinstance(item["media_type"], str):
            raise ValidationError("sha256 and media_type must be texts", field=f"properties.evidence[{i}]")
        if isinstance(item["size"], bool) or not isinstance(item["size"], int):
            raise ValidationError("must be a whole number of bytes", field=f"properties.evidence[{i}].size")
        items.append(Evidence(item["sha256"], item["media_type"], item["size"]))
    return IncidentReport(
        instance_id=_text(props, "instance_id", required=True) or "",
        observed_start=start,
        observed_end=end,
        location=location,
        category=props.get("category"),  # type: ignore[arg-type]  # checked by the report
        observation=props.get("observation"),  # type: ignore[arg-type]
        count=quantity(props.get("count"), "count"),
        fatalities=quantity(props.get("fatalities"), "fatalities"),
        injured=quantity(props.get("injured"), "injured"),
        direction_of_fire_deg=_number(props, "direction_of_fire_deg"),
        description=_text(props, "description") or "",
        language=_text(props, "language"),
        evidence=tuple(items),
        deprecated_id=_text(props, "deprecated_id"),
        attributed_to=_text(props, "attributed_to"),
    )


# --- exports ------------------------------------------------------------------------------

# Our category -> ACLED's (event_type, sub_event_type); where ACLED has no exact match, its
# catch-all of the nearest type, and our own category stays in truceline_category.
ACLED_TYPES: dict[str, tuple[str, str]] = {
    "shelling": ("Explosions/Remote violence", "Shelling/artillery/missile attack"),
    "air_strike": ("Explosions/Remote violence", "Air/drone strike"),
    "drone": ("Explosions/Remote violence", "Air/drone strike"),
    "explosion": ("Explosions/Remote violence", "Remote explosive/landmine/IED"),
    "small_arms": ("Battles", "Armed clash"),
    "ground_incursion": ("Strategic developments", "Other"),
    "heavy_weapons_movement": ("Strategic developments", "Other"),
    "access_denied": ("Strategic developments", "Other"),
    "other": ("Strategic developments", "Other"),
}
ACLED_COLUMNS = (
    "event_id_cnty", "event_date", "event_type", "sub_event_type", "actor1", "actor2", "latitude",
    "longitude", "geo_precision", "time_precision", "fatalities", "notes", "source", "timestamp",
)  # fmt: skip
OWN_COLUMNS = (
    "truceline_instance_id", "truceline_category", "truceline_observation", "truceline_state",
    "truceline_grade", "truceline_observed_start", "truceline_observed_end", "truceline_uncertainty_m",
    "truceline_fatalities_max", "truceline_injured_min", "truceline_injured_max", "truceline_count_min",
    "truceline_count_max", "truceline_language", "truceline_zones_inside", "truceline_zones_possibly_inside",
    "truceline_deprecated_id", "truceline_leaf_index",
)  # fmt: skip
CSV_COLUMNS = ACLED_COLUMNS + OWN_COLUMNS


def geo_precision(radius_m: float) -> int:
    """ACLED's geo_precision of an uncertainty radius: 1 within 1 km, 2 within 25 km, else 3."""
    return 1 if radius_m <= 1_000 else 2 if radius_m <= 25_000 else 3


def time_precision(span_s: float) -> int:
    """ACLED's time_precision of an observed span: 1 within a day, 2 a week, else 3."""
    return 1 if span_s <= 86_400 else 2 if span_s <= 7 * 86_400 else 3


def _low_high(value: Any) -> tuple[Any, Any]:
    if value is None:
        return "", ""
    return (value[0], value[1]) if isinstance(value, list) else (value, value)


def csv_row(incident: Mapping[str, Any]) -> dict[str, Any]:
    """One export row of an incident as the service lists it (``service.incidents``)."""
    report = incident["report"]
    event_type, sub_type = ACLED_TYPES[report["category"]]
    fatal_low, fatal_high = _low_high(report.get("fatalities"))
    injured_low, injured_high = _low_high(report.get("injured"))
    count_low, count_high = _low_high(report.get("count"))
    inside = [z["zone_id"] for z in incident["zones"] if z["relation"] == "inside"]
    possibly = [z["zone_id"] for z in incident["zones"] if z["relation"] == "possibly_inside"]
    return {
        "event_id_cnty": incident["id"],
        "event_date": report["observed_start"][:10],
        "event_type": event_type,
        "sub_event_type": sub_type,
        "actor1": report.get("attributed_to") or "",
        "actor2": "",
        "latitude": round(incident["latitude"], 6),
        "longitude": round(incident["longitude"], 6),
        "geo_precision": geo_precision(incident["uncertainty_m"]),
        "time_precision": time_precision(incident["observed_span_s"]),
        "fatalities": fatal_low,
        "notes": report.get("description") or "",
        "source": incident["reporter"],
        "timestamp": incident["reported_at_ms"] // 1000,
        "truceline_instance_id": report["instance_id"],
        "truceline_category": report["category"],
        "truceline_observation": report["observation"],
        "truceline_state": incident["state"],
        "truceline_grade": incident["grade"],
        "truceline_observed_start": report["observed_start"],
        "truceline_observed_end": report["observed_end"],
        "truceline_uncertainty_m": round(incident["uncertainty_m"], 1),
        "truceline_fatalities_max": fatal_high,
        "truceline_injured_min": injured_low,
        "truceline_injured_max": injured_high,
        "truceline_count_min": count_low,
        "truceline_count_max": count_high,
        "truceline_language": report.get("language") or "",
        "truceline_zones_inside": ";".join(inside),
        "truceline_zones_possibly_inside": ";".join(possibly),
        "truceline_deprecated_id": report.get("deprecated_id") or "",
        "truceline_leaf_index": incident["leaf_index"],
    }


def write_csv(incidents: Iterable[Mapping[str, Any]]) -> str:
    """The CSV text (RFC 4180, a header line first) of the incidents."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for incident in incidents:
        writer.writerow(csv_row(incident))
    return out.getvalue()


def feature_collection(incidents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The incidents as a GeoJSON FeatureCollection: each report's geometry as filed, its
    fields and the register's (state, grade, zones) as properties."""
    features = []
    for incident in incidents:
        report = dict(incident["report"])
        geometry = report.pop("geometry")
        properties = {
            **report,
            "id": incident["id"],
            "state": incident["state"],
            "grade": incident["grade"],
            "reporter": incident["reporter"],
            "zones": incident["zones"],
            "leaf_index": incident["leaf_index"],
        }
        features.append(
            {"type": "Feature", "id": incident["id"], "geometry": geometry, "properties": properties}
        )
    return {"type": "FeatureCollection", "features": features}
