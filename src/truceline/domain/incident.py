"""Incident reports of ceasefire observers: what was observed, where, when and how.

A report is filed once: its ``instance_id`` is made by the client (``uuid:<v4>``, as
ODK/OpenRosa's ``instanceID``), so a device that resends after a lost answer files nothing
twice; an edit is a new report whose ``deprecated_id`` names the instance it replaces (ODK's
edit chain). Nobody edits another's report.

Validation names the field as the GeoJSON Feature spells it (``properties.category``); the
reader of the Feature (``truceline.io.incidents``) turns text into these types first.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from truceline.domain.activity import parse_enum
from truceline.domain.clock import from_ms, ms_text, to_ms
from truceline.domain.text import MAX_NAME_CHARS, check_party_name, check_text
from truceline.errors import ValidationError
from truceline.geo.shapes import Polygon
from truceline.geo.uncertainty import Area, around_point, around_polygon, sector

INSTANCE_ID = re.compile(r"^uuid:[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")  # BCP 47, as far as we need
SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")
MEDIA_TYPE = re.compile(r"^[a-z]+/[A-Za-z0-9.+_-]+$")
MAX_UNCERTAINTY_M = 100_000.0  # beyond this a report locates nothing a zone could use
MAX_OBSERVED_SPAN = timedelta(days=31)
MAX_DESCRIPTION_CHARS = 4000
MAX_EVIDENCE = 50
MAX_QUANTITY = 1_000_000
# A bearing read off a 16-point compass ("south-south-east") is good to half a point.
DEFAULT_BEARING_UNCERTAINTY_DEG = 11.25


class Category(StrEnum):
    SHELLING = "shelling"
    AIR_STRIKE = "air_strike"
    SMALL_ARMS = "small_arms"
    GROUND_INCURSION = "ground_incursion"
    DRONE = "drone"
    EXPLOSION = "explosion"
    HEAVY_WEAPONS_MOVEMENT = "heavy_weapons_movement"
    ACCESS_DENIED = "access_denied"
    OTHER = "other"


class Observation(StrEnum):
    SEEN = "seen"
    HEARD = "heard"
    REPORTED = "reported"
    IMAGERY = "imagery"
    SENSOR = "sensor"


class State(StrEnum):
    """Each step from one to another is a ledger entry; ``withdrawn`` is final."""

    REPORTED = "reported"
    CORROBORATED = "corroborated"
    VERIFIED = "verified"
    DISPUTED = "disputed"
    WITHDRAWN = "withdrawn"


class Grade(StrEnum):
    """How well a report stands, computed: one source, an independent report near it in
    place and time, or verified by someone other than its reporter."""

    SINGLE_SOURCE = "single_source"
    CORROBORATED = "corroborated"
    VERIFIED = "verified"


class Relation(StrEnum):
    """A report's place against a zone: its uncertainty area wholly inside, crossing the
    border, or wholly outside."""

    INSIDE = "inside"
    POSSIBLY_INSIDE = "possibly_inside"
    OUTSIDE = "outside"


def grade_of(state: str, corroborated: bool, verified: bool) -> Grade:
    """The grade of a report: verified once verified (even if later disputed: the dispute is
    its own fact), else corroborated when an independent report was matched to it."""
    if verified:
        return Grade.VERIFIED
    if corroborated or state == State.CORROBORATED:
        return Grade.CORROBORATED
    return Grade.SINGLE_SOURCE


@dataclass(frozen=True, slots=True)
class Quantity:
    """A count that may be a range (``low`` to ``high``, equal when exact)."""

    low: int
    high: int

    def to_json(self) -> int | list[int]:
        return self.low if self.low == self.high else [self.low, self.high]


@dataclass(frozen=True, slots=True)
class Evidence:
    """A file that stays with the observer, named by its hash so it can be shown later."""

    sha256: str
    media_type: str
    size: int


@dataclass(frozen=True, slots=True)
class Location:
    """Where: a point or polygon (``coordinates`` as GeoJSON) with ``uncertainty_m``, or
    the observer's point with ``bearing_deg`` and the band ``distance_min_m`` to
    ``distance_max_m`` (``bearing_uncertainty_deg`` either side of the bearing)."""

    kind: str  # "Point" | "Polygon"
    coordinates: Any
    uncertainty_m: float = 0.0
    bearing_deg: float | None = None
    bearing_uncertainty_deg: float | None = None
    distance_min_m: float | None = None
    distance_max_m: float | None = None
    _area: list[Area] = field(default_factory=list, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        bearing = self.bearing_deg is not None
        if self.kind not in ("Point", "Polygon"):
            raise ValidationError(f"must be a Point or a Polygon, got {self.kind!r}", field="geometry.type")
        _finite_range(self.uncertainty_m, 0.0, MAX_UNCERTAINTY_M, "properties.uncertainty_m")
        if bearing:
            if self.kind != "Point":
                raise ValidationError("a bearing is taken from the observer's Point", field="geometry.type")
            if self.uncertainty_m:
                raise ValidationError(
                    "give uncertainty_m for a located point, or a bearing and distance band, not both",
                    field="properties.uncertainty_m",
                )
            _finite_range(self.bearing_deg, 0.0, 360.0, "properties.bearing_deg", high_open=True)
            _finite_range(self.bearing_uncertainty_deg, 0.0, 180.0, "properties.bearing_uncertainty_deg",
                          low_open=True)  # fmt: skip
            if self.distance_min_m is None or self.distance_max_m is None:
                missing = "distance_min_m" if self.distance_min_m is None else "distance_max_m"
                raise ValidationError("is needed with bearing_deg", field=f"properties.{missing}")
            _finite_range(self.distance_min_m, 0.0, MAX_UNCERTAINTY_M, "properties.distance_min_m")
            _finite_range(self.distance_max_m, 0.0, MAX_UNCERTAINTY_M, "properties.distance_max_m")
            if not self.distance_min_m < self.distance_max_m:  # type: ignore[operator]
                raise ValidationError(
                    f"must exceed distance_min_m ({self.distance_min_m}), got {self.distance_max_m}",
                    field="properties.distance_max_m",
                )
        else:
            for name in ("bearing_uncertainty_deg", "distance_min_m", "distance_max_m"):
                if getattr(self, name) is not None:
                    raise ValidationError("is given only with bearing_deg", field=f"properties.{name}")
        self.area  # noqa: B018 -- builds (and so validates) the geometry now, naming the field

    @property
    def area(self) -> Area:
        """The uncertainty area (memoised)."""
        if not self._area:
            self._area.append(self._make_area())
        return self._area[0]

    def _make_area(self) -> Area:
        from truceline.errors import GeometryError

        try:
            if self.kind == "Point":
                lon, lat = _position(self.coordinates, "geometry.coordinates")
                if self.bearing_deg is not None:
                    return sector(lon, lat, self.bearing_deg, self.bearing_uncertainty_deg or 0.0,
                                  self.distance_min_m or 0.0, self.distance_max_m or 0.0)  # fmt: skip
                return around_point(lon, lat, self.uncertainty_m)
            rings = self.coordinates
            if not isinstance(rings, list) or len(rings) != 1:
                raise ValidationError(
                    "must hold one ring (holes are not taken)", field="geometry.coordinates"
                )
            ring = tuple(_position(v, f"geometry.coordinates[0][{i}]") for i, v in enumerate(rings[0]))
            return around_polygon(Polygon(ring), self.uncertainty_m)
        except GeometryError as error:
            if error.field and error.field.startswith("ring"):
                error.field = "geometry.coordinates[0]" + error.field[4:]
            elif error.field and not error.field.startswith(("geometry", "properties")):
                section = "geometry" if error.field == "center" else "properties"
                error.field = f"{section}.{error.field}"
            raise

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"geometry": {"type": self.kind, "coordinates": self.coordinates}}
        if self.bearing_deg is not None:
            out.update(
                bearing_deg=self.bearing_deg,
                bearing_uncertainty_deg=self.bearing_uncertainty_deg,
                distance_min_m=self.distance_min_m,
                distance_max_m=self.distance_max_m,
            )
        else:
            out["uncertainty_m"] = self.uncertainty_m
        return out


def _position(value: object, name: str) -> tuple[float, float]:
    if not isinstance(value, list | tuple) or len(value) not in (2, 3):
        raise ValidationError("must be a position [lon, lat]", field=name)
    lon, lat = value[0], value[1]
    for v, axis, limit in ((lon, "lon", 180.0), (lat, "lat", 90.0)):
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or abs(v) > limit:
            raise ValidationError(f"{axis} must be a number within ±{limit:g}, got {v!r}", field=name)
    return float(lon), float(lat)


def _finite_range(
    value: object, low: float, high: float, name: str, *, low_open: bool = False, high_open: bool = False
) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError(f"must be a number, got {value!r}", field=name)
    if value < low or value > high or (low_open and value == low) or (high_open and value == high):
        lo, hi = ("(" if low_open else "["), (")" if high_open else "]")
        raise ValidationError(f"must be in {lo}{low:g}, {high:g}{hi}, got {value}", field=name)


@dataclass(frozen=True, slots=True)
class IncidentReport:
    """One report as its observer filed it (validated at construction, naming the field)."""

    instance_id: str
    observed_start: datetime
    observed_end: datetime
    location: Location
    category: Category
    observation: Observation
    count: Quantity | None = None
    fatalities: Quantity | None = None
    injured: Quantity | None = None
    direction_of_fire_deg: float | None = None
    description: str = ""
    language: str | None = None
    evidence: tuple[Evidence, ...] = ()
    deprecated_id: str | None = None
    attributed_to: str | None = None  # the party the observer attributes the act to (ACLED's actor1)

    def __post_init__(self) -> None:
        for name in ("instance_id", "deprecated_id"):
            value = getattr(self, name)
            if (value is not None or name == "instance_id") and (
                not isinstance(value, str) or not INSTANCE_ID.match(value)
            ):
                raise ValidationError(
                    f"must be uuid:<a lower-case UUID v4>, got {value!r}", field=f"properties.{name}"
                )
        if self.deprecated_id == self.instance_id:
            raise ValidationError(
                "must name another instance than this one", field="properties.deprecated_id"
            )
        object.__setattr__(self, "category", parse_enum(Category, self.category, "properties.category"))
        object.__setattr__(
            self, "observation", parse_enum(Observation, self.observation, "properties.observation")
        )
        to_ms(self.observed_start)  # aware, in range
        if self.observed_end < self.observed_start:
            raise ValidationError("must not be before observed_start", field="properties.observed_end")
        if self.observed_end - self.observed_start > MAX_OBSERVED_SPAN:
            raise ValidationError(f"is more than {MAX_OBSERVED_SPAN.days} days after observed_start",
                                  field="properties.observed_end")  # fmt: skip
        for name in ("count", "fatalities", "injured"):
            q = getattr(self, name)
            if q is not None and not (0 <= q.low <= q.high <= MAX_QUANTITY):
                raise ValidationError(
                    f"must be a whole number, or a range [low, high], from 0 to {MAX_QUANTITY}",
                    field=f"properties.{name}",
                )
        if self.direction_of_fire_deg is not None:
            _finite_range(
                self.direction_of_fire_deg, 0.0, 360.0, "properties.direction_of_fire_deg", high_open=True
            )
        check_text(self.description, "properties.description", MAX_DESCRIPTION_CHARS)
        if self.description.strip() and self.language is None:
            raise ValidationError("is needed with a description (a BCP 47 tag such as en or uk)",
                                  field="properties.language")  # fmt: skip
        if self.language is not None and not LANGUAGE_TAG.match(self.language):
            raise ValidationError(f"must be a BCP 47 tag such as en or zh-CN, got {self.language!r}",
                                  field="properties.language")  # fmt: skip
        if len(self.evidence) > MAX_EVIDENCE:
            raise ValidationError(f"at most {MAX_EVIDENCE} items", field="properties.evidence")
        for i, item in enumerate(self.evidence):
            where = f"properties.evidence[{i}]"
            if not SHA256_HEX.match(item.sha256):
                raise ValidationError("must be 64 lower-case hex digits", field=f"{where}.sha256")
            if not MEDIA_TYPE.match(item.media_type) or len(item.media_type) > 200:
                raise ValidationError("must be a media type such as image/jpeg", field=f"{where}.media_type")
            if not 0 <= item.size < 2**53:
                raise ValidationError("must be a size in bytes", field=f"{where}.size")
        if self.attributed_to is not None:
            check_party_name(self.attributed_to, "properties.attributed_to")
            if len(self.attributed_to) > MAX_NAME_CHARS:
                raise ValidationError(
                    f"at most {MAX_NAME_CHARS} characters", field="properties.attributed_to"
                )

    @property
    def area(self) -> Area:
        return self.location.area

    def to_record(self) -> dict[str, Any]:
        """The report as one JSON object: what the ledger keeps, and what tells a resend
        (the same record) from a change (another one)."""
        record: dict[str, Any] = {
            "instance_id": self.instance_id,
            "observed_start": ms_text(to_ms(self.observed_start)),
            "observed_end": ms_text(to_ms(self.observed_end)),
            **self.location.to_json(),
            "category": str(self.category),
            "observation": str(self.observation),
            "count": None if self.count is None else self.count.to_json(),
            "fatalities": None if self.fatalities is None else self.fatalities.to_json(),
            "injured": None if self.injured is None else self.injured.to_json(),
            "direction_of_fire_deg": self.direction_of_fire_deg,
            "description": self.description,
            "language": self.language,
            "evidence": [
                {"sha256": e.sha256, "media_type": e.media_type, "size": e.size} for e in self.evidence
            ],
            "deprecated_id": self.deprecated_id,
            "attributed_to": self.attributed_to,
        }
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> IncidentReport:
        """The report of ``to_record`` (the ledger's payload) again."""
        geometry = record["geometry"]
        location = Location(
            kind=geometry["type"],
            coordinates=geometry["coordinates"],
            uncertainty_m=record.get("uncertainty_m", 0.0) or 0.0,
            bearing_deg=record.get("bearing_deg"),
            bearing_uncertainty_deg=record.get("bearing_uncertainty_deg"),
            distance_min_m=record.get("distance_min_m"),
            distance_max_m=record.get("distance_max_m"),
        )
        return cls(
            instance_id=record["instance_id"],
            observed_start=_instant(record["observed_start"]),
            observed_end=_instant(record["observed_end"]),
            location=location,
            category=record["category"],
            observation=record["observation"],
            count=quantity(record.get("count"), "count"),
            fatalities=quantity(record.get("fatalities"), "fatalities"),
            injured=quantity(record.get("injured"), "injured"),
            direction_of_fire_deg=record.get("direction_of_fire_deg"),
            description=record.get("description", ""),
            language=record.get("language"),
            evidence=tuple(
                Evidence(e["sha256"], e["media_type"], e["size"]) for e in record.get("evidence", [])
            ),
            deprecated_id=record.get("deprecated_id"),
            attributed_to=record.get("attributed_to"),
        )


def _instant(text: str) -> datetime:
    return from_ms(to_ms(datetime.fromisoformat(text)))


def quantity(value: object, name: str) -> Quantity | None:
    """A count as JSON gives it: null (unknown), a whole number, or a range [low, high]."""
    if value is None:
        return None
    if isinstance(value, list) and len(value) == 2:
        low, high = value
    else:
        low = high = value
    for v in (low, high):
        if isinstance(v, bool) or not isinstance(v, int):
            raise ValidationError(
                f"must be null, a whole number or a range [low, high], got {value!r}",
                field=f"properties.{name}",
            )
    if low > high:  # type: ignore[operator]
        raise ValidationError(f"range [{low}, {high}] runs backwards", field=f"properties.{name}")
    return Quantity(low, high)  # type: ignore[arg-type]
