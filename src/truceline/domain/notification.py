"""Humanitarian notifications: a site with its protection area, or a movement along a route.

A notification is informative, never a request for permission (docs/humanitarian.md): per
party it is ``delivered``, ``acknowledged`` (the party signs the notification's version, its
ledger entry hash) or ``disputed`` with a reason ("coordinates wrong"). There is no
"denied". Both kinds become 4D volumes, so operations are checked against them as against
zones:

- a site: the geodesic circle of ``protection_radius_m`` around it, from the ground to
  ``ceiling_m``, from ``valid_from`` to ``valid_to`` (open: standing);
- a movement: the corridor of half-width ``corridor_m`` along the geodesic route, cut into
  pieces (``geo.corridor``), each held from the time it is entered minus ``time_margin_s``
  to the time it is left plus the margin, from the ground to ``ceiling_m``.

"From the ground": the band's lower limit is unlimited (``-inf``) and its reference is
AMSL, so every ground or air activity below the ceiling meets it whatever the terrain.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from truceline.domain.activity import parse_enum
from truceline.domain.message import Priority
from truceline.domain.text import MAX_NAME_CHARS, MAX_TEXT_CHARS, check_identifier, check_text
from truceline.errors import ValidationError
from truceline.geo.altitude import AltitudeBand, AltitudeReference
from truceline.geo.corridor import corridor_pieces, leg_lengths_m, position_at
from truceline.geo.geodesy import distance_m
from truceline.geo.shapes import Circle, Coordinate
from truceline.geo.timewindow import TimeWindow, require_utc
from truceline.geo.volume import Volume4D, distance_to_shape_m

DEFAULT_CEILING_M = 15_000.0  # AMSL: above every zone the theatre uses; the safe side
DEFAULT_TIME_MARGIN_S = 1_800  # a convoy half an hour early or late is still protected
MAX_RADIUS_M = 50_000.0  # a protection radius or a corridor half-width, at most
MAX_TIME_MARGIN_S = 86_400
MIN_ACKNOWLEDGE_S = 1  # short deadlines are allowed: a test, a drill
MAX_ACKNOWLEDGE_S = 7 * 86_400
MAX_WAYPOINTS = 1_000
MAX_PARTIES = 100


class SiteType(StrEnum):
    HOSPITAL = "hospital"
    CLINIC = "clinic"
    SCHOOL = "school"
    WAREHOUSE = "warehouse"
    CAMP = "camp"
    OFFICE = "office"
    WATER = "water"
    POWER = "power"
    OTHER = "other"


class NotificationKind(StrEnum):
    SITE = "site"
    MOVEMENT = "movement"


class ResponseState(StrEnum):
    """A party's state for one notification. Never "denied": notification informs."""

    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    DISPUTED = "disputed"


class OnConflict(StrEnum):
    """What a filed operation meeting the notification gets: accepted with the conflict
    told to both sides (``warn``), or refused (``refuse``), as a forbidding zone does."""

    WARN = "warn"
    REFUSE = "refuse"


@dataclass(frozen=True, slots=True)
class LeadTimes:
    """How long before departure a movement should be notified (config.py reads them)."""

    normal_s: int = 48 * 3600
    emergency_s: int = 24 * 3600

    def of(self, emergency: bool) -> int:
        return self.emergency_s if emergency else self.normal_s


def _positive_m(value: float, name: str, maximum: float = MAX_RADIUS_M) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"must be a number of metres, got {value!r}", field=name)
    if not 0 < value <= maximum:
        raise ValidationError(f"must be above 0 and at most {maximum:g} m, got {value:g}", field=name)
    return float(value)


@dataclass(frozen=True, slots=True)
class Site:
    """A fixed place: a hospital, a school, a warehouse ..."""

    position: Coordinate
    site_type: SiteType
    protection_radius_m: float
    valid_from: datetime
    valid_to: datetime | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "site_type", parse_enum(SiteType, self.site_type, "properties.site_type"))
        radius = _positive_m(self.protection_radius_m, "properties.protection_radius_m")
        object.__setattr__(self, "protection_radius_m", radius)
        object.__setattr__(self, "valid_from", require_utc(self.valid_from, "properties.valid_from"))
        if self.valid_to is not None:
            object.__setattr__(self, "valid_to", require_utc(self.valid_to, "properties.valid_to"))
            if self.valid_to <= self.valid_from:
                raise ValidationError("is not after valid_from", field="properties.valid_to")
        Circle(self.position, self.protection_radius_m)  # validates the position (GeometryError)

    @property
    def start(self) -> datetime:
        return self.valid_from

    @property
    def end(self) -> datetime | None:
        return self.valid_to


@dataclass(frozen=True, slots=True)
class Movement:
    """A movement along a route: a convoy, an evacuation. ``times``: when each waypoint is
    passed (given per waypoint, or spread over the route at a constant speed between
    ``departure`` and ``arrival``)."""

    route: tuple[Coordinate, ...]
    times: tuple[datetime, ...]
    corridor_m: float
    time_margin_s: int = DEFAULT_TIME_MARGIN_S
    vehicles: int | None = None
    markings: str = ""
    emergency: bool = False

    def __post_init__(self) -> None:
        route = tuple((float(lon), float(lat)) for lon, lat in self.route)
        object.__setattr__(self, "route", route)
        if not 2 <= len(route) <= MAX_WAYPOINTS:
            raise ValidationError(
                f"a route has 2 to {MAX_WAYPOINTS} waypoints, got {len(route)}", field="geometry.coordinates"
            )
        times = tuple(require_utc(t, f"properties.waypoint_times[{k}]") for k, t in enumerate(self.times))
        object.__setattr__(self, "times", times)
        object.__setattr__(self, "corridor_m", _positive_m(self.corridor_m, "properties.corridor_m"))
        margin = self.time_margin_s
        if isinstance(margin, bool) or not isinstance(margin, int) or not 0 <= margin <= MAX_TIME_MARGIN_S:
            raise ValidationError(
                f"must be a whole number of seconds from 0 to {MAX_TIME_MARGIN_S}, got {margin!r}",
                field="properties.time_margin_s",
            )
        if self.vehicles is not None and (isinstance(self.vehicles, bool) or self.vehicles < 0):
            raise ValidationError(f"must be a count >= 0, got {self.vehicles!r}", field="properties.vehicles")
        check_text(self.markings, "properties.markings", MAX_TEXT_CHARS)
        if len(times) != len(route):
            raise ValidationError(
                f"{len(times)} times for {len(route)} waypoints", field="properties.waypoint_times"
            )
        for k in range(1, len(times)):
            if times[k] <= times[k - 1]:
                raise ValidationError(
                    f"waypoint {k} is not passed after waypoint {k - 1}",
                    field=f"properties.waypoint_times[{k}]",
                )
        for k, point in enumerate(route):
            try:  # a position's range, checked with its index
                Circle(point, 1.0)
            except ValidationError as error:
                raise ValidationError(error.message, field=f"geometry.coordinates[{k}]") from None
        try:
            leg_lengths_m(route)
        except ValidationError as error:
            raise ValidationError(error.message, field=f"geometry.{error.field}") from None

    @classmethod
    def spread(
        cls, route: Sequence[Coordinate], departure: datetime, arrival: datetime, **kwargs: Any
    ) -> Movement:
        """A movement passing each waypoint at a constant speed from ``departure`` to ``arrival``."""
        departure = require_utc(departure, "properties.departure")
        arrival = require_utc(arrival, "properties.arrival")
        if arrival <= departure:
            raise ValidationError("is not after departure", field="properties.arrival")
        try:
            lengths = leg_lengths_m(route)
        except ValidationError as error:
            raise ValidationError(error.message, field=f"geometry.{error.field}") from None
        total = sum(lengths)
        span = (arrival - departure).total_seconds()
        times, run = [departure], 0.0
        for length in lengths[:-1]:
            run += length
            times.append(departure + timedelta(seconds=span * run / total))
        times.append(arrival)
        return cls(tuple(route), tuple(times), **kwargs)

    @property
    def departure(self) -> datetime:
        return self.times[0]

    @property
    def arrival(self) -> datetime:
        return self.times[-1]

    @property
    def start(self) -> datetime:
        return self.departure - timedelta(seconds=self.time_margin_s)

    @property
    def end(self) -> datetime:
        return self.arrival + timedelta(seconds=self.time_margin_s)

    def times_s(self) -> list[float]:
        return [t.timestamp() for t in self.times]

    def position_at(self, at: datetime) -> Coordinate | None:
        """Where the movement is scheduled to be at ``at`` (None before departure or after arrival)."""
        return position_at(self.route, self.times_s(), at.timestamp())


Subject = Site | Movement


@dataclass(frozen=True, slots=True)
class Notification:
    """One version of a notification, as its notifier wrote it."""

    id: str
    notifier: str  # the notifying party's name
    name: str
    organisation: str
    subject: Subject
    ceiling_m: float = DEFAULT_CEILING_M
    priority: Priority = Priority.HIGH
    acknowledge_within_s: int | None = None  # None: the priority's deadline
    on_conflict: OnConflict = OnConflict.WARN
    parties: tuple[str, ...] = ()  # the parties it goes to (names); empty: every party concerned
    _volumes: list[tuple[Volume4D, ...]] = field(default_factory=list, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        check_identifier(self.id, "id")
        for name in ("name", "organisation"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value.strip():
                raise ValidationError("must not be empty", field=f"properties.{name}")
            check_text(value, f"properties.{name}", MAX_NAME_CHARS)
        object.__setattr__(self, "ceiling_m", _positive_m(self.ceiling_m, "properties.ceiling_m", 100_000.0))
        object.__setattr__(self, "priority", Priority.parse(self.priority, "properties.priority"))
        object.__setattr__(
            self, "on_conflict", parse_enum(OnConflict, self.on_conflict, "properties.on_conflict")
        )
        within = self.acknowledge_within_s
        if within is not None and (
            isinstance(within, bool)
            or not isinstance(within, int)
            or not MIN_ACKNOWLEDGE_S <= within <= MAX_ACKNOWLEDGE_S
        ):
            raise ValidationError(
                f"must be a whole number of seconds from {MIN_ACKNOWLEDGE_S} to {MAX_ACKNOWLEDGE_S}, "
                f"got {within!r}",
                field="properties.acknowledge_within_s",
            )
        parties = tuple(self.parties)
        if len(parties) > MAX_PARTIES or len(set(parties)) != len(parties):
            raise ValidationError(
                f"must name at most {MAX_PARTIES} parties, once each", field="properties.parties"
            )
        object.__setattr__(self, "parties", parties)

    @property
    def kind(self) -> NotificationKind:
        return NotificationKind.SITE if isinstance(self.subject, Site) else NotificationKind.MOVEMENT

    @property
    def ack_within_s(self) -> int:
        """Seconds each party has to acknowledge: the notification's own, else its priority's."""
        return self.acknowledge_within_s or self.priority.ack_within_s

    @property
    def start(self) -> datetime:
        return self.subject.start

    @property
    def end(self) -> datetime | None:
        return self.subject.end

    def volumes(self) -> tuple[Volume4D, ...]:
        """The 4D volumes it protects (computed once per value: a route's corridor costs a few ms)."""
        if not self._volumes:
            self._volumes.append(_volumes(self))
        return self._volumes[0]

    def lead_time_s(self, notified_at: datetime) -> float | None:
        """Seconds from notification to departure, for a movement (None for a site)."""
        if isinstance(self.subject, Movement):
            return (self.subject.departure - notified_at).total_seconds()
        return None

    def in_force_near(self, at: datetime, lon: float, lat: float, radius_m: float) -> bool:
        """Whether it protects, at ``at``, some place within ``radius_m`` of (lon, lat)."""
        if isinstance(self.subject, Site):
            site = self.subject
            if at < site.valid_from or (site.valid_to is not None and at >= site.valid_to):
                return False
            return distance_m(lon, lat, *site.position) <= site.protection_radius_m + radius_m
        at_s = at.timestamp()
        for volume in self.volumes():
            in_time = volume.time.start_s <= at_s < volume.time.end_s
            if in_time and distance_to_shape_m(lon, lat, volume.shape) <= radius_m:
                return True
        return False


def _band(notification: Notification) -> AltitudeBand:
    return AltitudeBand(-math.inf, notification.ceiling_m, AltitudeReference.AMSL)


def _volumes(notification: Notification) -> tuple[Volume4D, ...]:
    band = _band(notification)
    subject = notification.subject
    if isinstance(subject, Site):
        circle = Circle(subject.position, subject.protection_radius_m)
        return (Volume4D(circle, band, TimeWindow(subject.valid_from, subject.valid_to)),)
    margin = timedelta(seconds=subject.time_margin_s)
    origin = subject.times[0]
    volumes = []
    for piece in corridor_pieces(subject.route, subject.times_s(), subject.corridor_m):
        # Times from the departure's datetime plus a float offset: no drift of the epoch floats.
        start = origin + timedelta(seconds=piece.start_s - subject.times_s()[0]) - margin
        end = origin + timedelta(seconds=piece.end_s - subject.times_s()[0]) + margin
        if end <= start:  # a margin of 0 on a piece held an instant: keep it a millisecond
            end = start + timedelta(milliseconds=1)
        volumes.append(Volume4D(piece.polygon, band, TimeWindow(start, end)))
    return tuple(volumes)


# --- the record: how the ledger and the store keep a notification ---------------------------


def _time_text(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _time_of(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def notification_to_record(n: Notification) -> dict[str, Any]:
    """The plain-JSON record of a notification (exact round trip with ``notification_from_record``)."""
    record: dict[str, Any] = {
        "id": n.id,
        "kind": str(n.kind),
        "notifier": n.notifier,
        "name": n.name,
        "organisation": n.organisation,
        "ceiling_m": n.ceiling_m,
        "priority": str(n.priority),
        "acknowledge_within_s": n.acknowledge_within_s,
        "on_conflict": str(n.on_conflict),
        "parties": list(n.parties),
    }
    s = n.subject
    if isinstance(s, Site):
        record.update(
            position=list(s.position),
            site_type=str(s.site_type),
            protection_radius_m=s.protection_radius_m,
            valid_from=_time_text(s.valid_from),
            valid_to=_time_text(s.valid_to),
        )
    else:
        record.update(
            route=[list(p) for p in s.route],
            waypoint_times=[_time_text(t) for t in s.times],
            corridor_m=s.corridor_m,
            time_margin_s=s.time_margin_s,
            vehicles=s.vehicles,
            markings=s.markings,
            emergency=s.emergency,
        )
    return record


def notification_from_record(record: dict[str, Any]) -> Notification:
    subject: Subject
    if record["kind"] == NotificationKind.SITE:
        lon, lat = record["position"]
        subject = Site(
            (float(lon), float(lat)),
            record["site_type"],
            record["protection_radius_m"],
            _time_of(record["valid_from"]),  # type: ignore[arg-type]
            _time_of(record["valid_to"]),
        )
    else:
        subject = Movement(
            tuple((float(lon), float(lat)) for lon, lat in record["route"]),
            tuple(_time_of(t) for t in record["waypoint_times"]),  # type: ignore[misc]
            record["corridor_m"],
            record["time_margin_s"],
            record["vehicles"],
            record["markings"],
            record["emergency"],
        )
    return Notification(
        record["id"],
        record["notifier"],
        record["name"],
        record["organisation"],
        subject,
        record["ceiling_m"],
        record["priority"],
        record["acknowledge_within_s"],
        record["on_conflict"],
        tuple(record["parties"]),
    )
