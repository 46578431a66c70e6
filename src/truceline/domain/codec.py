"""Plain-JSON records of zones, operations and volumes.

One encoding for everything that stores or signs them (store rows, ledger payloads), so
that a value read back equals the value written: floats are kept as JSON numbers (shortest
round-trip repr) and times as RFC 3339 UTC strings with microseconds.
"""

from __future__ import annotations

import math
from datetime import datetime, time
from typing import Any

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone, ZoneRule
from truceline.errors import ValidationError
from truceline.geo.altitude import AltitudeBand
from truceline.geo.shapes import Circle, Polygon, Shape
from truceline.geo.timewindow import WEEKDAYS, DailyPeriod, Schedule, TimeWindow
from truceline.geo.volume import Volume4D

Record = dict[str, Any]


def time_to_text(value: datetime) -> str:
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


def time_from_text(text: str, field: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationError(f"not an RFC 3339 time: {text!r}", field=field) from None


def shape_to_record(shape: Shape) -> Record:
    if isinstance(shape, Circle):
        return {"type": "Circle", "center": list(shape.center), "radius_m": shape.radius_m}
    return {"type": "Polygon", "ring": [list(p) for p in shape.ring]}


def shape_from_record(record: Record) -> Shape:
    if record.get("type") == "Circle":
        lon, lat = record["center"]
        return Circle((float(lon), float(lat)), float(record["radius_m"]))
    if record.get("type") == "Polygon":
        return Polygon(tuple((float(lon), float(lat)) for lon, lat in record["ring"]))
    raise ValidationError(f"unknown shape type {record.get('type')!r}", field="shape.type")


def _finite_or_none(value: float) -> float | None:
    # JSON (and RFC 8785) has no infinity: an unlimited altitude limit is written null.
    return None if math.isinf(value) else value


def schedule_to_record(schedule: Schedule) -> Record:
    """``{"time_zone": "Europe/Zurich", "periods": [{"days": ["MON", ...], "start": "08:00",
    "end": "18:00"}]}``: wall-clock times in the schedule's zone."""
    return {
        "time_zone": schedule.time_zone,
        "periods": [
            {"days": p.day_names, "start": p.start.isoformat("minutes"), "end": p.end.isoformat("minutes")}
            for p in schedule.periods
        ],
    }


def schedule_from_record(record: Record) -> Schedule:
    periods = []
    for period in record["periods"]:
        try:
            days = frozenset(WEEKDAYS.index(d) for d in period["days"])
            start, end = time.fromisoformat(period["start"]), time.fromisoformat(period["end"])
        except (TypeError, ValueError):
            raise ValidationError(f"not a daily period: {period!r}", field="schedule.periods") from None
        periods.append(DailyPeriod(days, start, end))
    return Schedule(record["time_zone"], tuple(periods))


def volume_to_record(volume: Volume4D) -> Record:
    record = {
        "shape": shape_to_record(volume.shape),
        "altitude_lower_m": _finite_or_none(volume.altitude.lower_m),
        "altitude_upper_m": _finite_or_none(volume.altitude.upper_m),
        "altitude_reference": str(volume.altitude.reference),
        "time_start": time_to_text(volume.time.start),
        "time_end": None if volume.time.end is None else time_to_text(volume.time.end),
    }
    # only when there is one: the records (and ledger hashes) of unscheduled volumes are unchanged
    if volume.time.schedule is not None:
        record["schedule"] = schedule_to_record(volume.time.schedule)
    return record


def volume_from_record(record: Record) -> Volume4D:
    end = record.get("time_end")
    return Volume4D(
        shape_from_record(record["shape"]),
        AltitudeBand(
            -math.inf if record["altitude_lower_m"] is None else float(record["altitude_lower_m"]),
            math.inf if record["altitude_upper_m"] is None else float(record["altitude_upper_m"]),
            record["altitude_reference"],
        ),
        TimeWindow(
            time_from_text(record["time_start"], "time_start"),
            None if end is None else time_from_text(end, "time_end"),
            None if record.get("schedule") is None else schedule_from_record(record["schedule"]),
        ),
    )


def rule_to_record(rule: ZoneRule) -> Record:
    restricts = rule.restricts if isinstance(rule.restricts, str) else list(rule.restricts)
    return {"restricts": restricts, "activity": str(rule.activity), "entry": str(rule.entry)}


def rule_from_record(record: Record) -> ZoneRule:
    restricts = record["restricts"]
    return ZoneRule(
        restricts if isinstance(restricts, str) else tuple(restricts),
        record["activity"],
        record["entry"],
    )


def zone_to_record(zone: Zone) -> Record:
    return {
        "id": zone.id,
        "kind": str(zone.kind),
        "name": zone.name,
        "party": zone.party,
        "rule": rule_to_record(zone.rule),
        "volumes": [volume_to_record(v) for v in zone.volumes],
    }


def zone_from_record(record: Record) -> Zone:
    return Zone(
        id=record["id"],
        kind=record["kind"],
        volumes=tuple(volume_from_record(v) for v in record["volumes"]),
        rule=rule_from_record(record["rule"]),
        party=record.get("party"),
        name=record.get("name", ""),
    )


def operation_to_record(operation: Operation) -> Record:
    record: Record = {
        "id": operation.id,
        "party": operation.party,
        "activity": str(operation.activity),
        "state": str(operation.state),
        "name": operation.name,
        "volumes": [volume_to_record(v) for v in operation.volumes],
    }
    # Only when given: a record without priority hashes as it did before priorities existed.
    if operation.priority is not None:
        record["priority"] = operation.priority
    return record


def operation_from_record(record: Record) -> Operation:
    return Operation(
        id=record["id"],
        party=record["party"],
        activity=record["activity"],
        volumes=tuple(volume_from_record(v) for v in record["volumes"]),
        state=record.get("state", "planned"),
        name=record.get("name", ""),
        priority=record.get("priority"),
    )
