"""Builders of small, valid documents for the format tests, and hypothesis strategies.

Each builder returns a fresh dict, so a test may break one field without touching others.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from truceline.domain.activity import Activity
from truceline.domain.operation import Operation, OperationState
from truceline.domain.zone import RESTRICTS_ALL, RESTRICTS_OTHERS, Entry, Zone, ZoneKind, ZoneRule
from truceline.geo.altitude import AltitudeBand, AltitudeReference
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D

# A square of about 11 km near Idlib, closed (lon, lat).
SQUARE = [[36.6, 35.9], [36.7, 35.9], [36.7, 36.0], [36.6, 36.0], [36.6, 35.9]]


def zone_feature(fid: str = "z-idlib", **props: object) -> dict:
    properties = {
        "kind": "de_escalation",
        "restricts": "all",
        "activity": "any",
        "entry": "forbidden",
        "altitude_lower_m": 0,
        "altitude_upper_m": 3000,
        "time_start": "2017-05-06T00:00:00Z",
        "time_end": None,
        "party": "guarantors",
    }
    properties.update(props)
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in SQUARE]]},
        "properties": properties,
    }


def operation_feature(fid: str = "op-1", **props: object) -> dict:
    properties = {
        "activity": "air",
        "altitude_lower_m": 100,
        "altitude_upper_m": 1500,
        "time_start": "2017-06-01T08:00:00Z",
        "time_end": "2017-06-01T10:00:00Z",
        "party": "north",
    }
    properties.update(props)
    return {
        "type": "Feature",
        "id": fid,
        "geometry": {"type": "Point", "coordinates": [36.65, 35.95]},
        "properties": {"radius_m": 2000, **properties},
    }


def collection(*features: dict) -> dict:
    return {"type": "FeatureCollection", "features": list(features)}


def f3548_volume(
    vertices: list[tuple[float, float]] | None = None,
    *,
    lower: float = 0,
    upper: float = 120,
    start: str = "2024-03-01T10:00:00Z",
    end: str = "2024-03-01T11:00:00Z",
) -> dict:
    """An F3548 Volume4D with an open polygon given as (lat, lng) pairs."""
    vertices = vertices or [(35.9, 36.6), (35.9, 36.7), (36.0, 36.7), (36.0, 36.6)]
    return {
        "volume": {
            "outline_polygon": {"vertices": [{"lat": lat, "lng": lng} for lat, lng in vertices]},
            "altitude_lower": {"value": lower, "reference": "W84", "units": "M"},
            "altitude_upper": {"value": upper, "reference": "W84", "units": "M"},
        },
        "time_start": {"value": start, "format": "RFC3339"},
        "time_end": {"value": end, "format": "RFC3339"},
    }


def f3548_circle_volume(lat: float = 35.95, lng: float = 36.65, radius_m: float = 500) -> dict:
    volume = f3548_volume()
    del volume["volume"]["outline_polygon"]
    volume["volume"]["outline_circle"] = {
        "center": {"lat": lat, "lng": lng},
        "radius": {"value": radius_m, "units": "M"},
    }
    return volume


def ed269_zone(identifier: str = "SYR01", **fields: object) -> dict:
    zone = {
        "identifier": identifier,
        "country": "SYR",
        "name": "Sample zone",
        "type": "COMMON",
        "restriction": "PROHIBITED",
        "reason": ["OTHER"],
        "applicability": [
            {
                "permanent": "NO",
                "startDateTime": "2024-03-01T00:00:00Z",
                "endDateTime": "2024-04-01T00:00:00Z",
                "dailyPeriod": [{"day": [], "startTime": None, "endTime": None}],
            }
        ],
        "zoneAuthority": [{"name": "Authority", "email": "a@example.org"}],
        "geometry": [
            {
                "uomDimensions": "M",
                "lowerLimit": 0,
                "lowerVerticalReference": "AMSL",
                "upperLimit": 500,
                "upperVerticalReference": "AMSL",
                "horizontalProjection": {"type": "Polygon", "coordinates": [[list(p) for p in SQUARE]]},
            }
        ],
    }
    zone.update(fields)
    return zone


# -- hypothesis strategies for valid domain objects ------------------------------------

ids = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_", min_size=1, max_size=12)
# Any storable text (domain.text: everything but NUL and lone surrogates, which
# are refused), in every script.
free_names = st.text(
    alphabet=st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=20
)
party_names = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ abcdefghij", min_size=1, max_size=10).filter(
    lambda s: s.strip() != ""
)


@st.composite
def polygons(draw: st.DrawFn) -> Polygon:
    """A small star-shaped polygon (simple by construction) away from poles and antimeridian."""
    lon0 = draw(st.floats(-170, 170))
    lat0 = draw(st.floats(-70, 70))
    gaps = draw(st.lists(st.floats(0.3, 1.0), min_size=3, max_size=8))
    scale = 2 * math.pi / sum(gaps)
    ring = []
    angle = draw(st.floats(0, 1))
    for gap in gaps:
        radius = draw(st.floats(0.01, 0.3))
        ring.append((lon0 + radius * math.cos(angle), lat0 + radius * math.sin(angle)))
        angle += gap * scale
    return Polygon((*ring, ring[0]))


circles = st.builds(
    Circle,
    center=st.tuples(st.floats(-170, 170), st.floats(-70, 70)),
    radius_m=st.floats(1, 50_000),
)


@st.composite
def bands(draw: st.DrawFn) -> AltitudeBand:
    lower = draw(st.one_of(st.just(-math.inf), st.floats(-500, 10_000)))
    base = 0.0 if lower == -math.inf else lower
    upper = draw(st.one_of(st.just(math.inf), st.floats(1, 20_000).map(lambda d: base + d)))
    return AltitudeBand(lower, upper, draw(st.sampled_from(AltitudeReference)))


@st.composite
def windows(draw: st.DrawFn, *, standing: bool) -> TimeWindow:
    start = draw(st.datetimes(datetime(1971, 1, 1), datetime(2100, 1, 1), timezones=st.just(UTC)))
    if standing and draw(st.booleans()):
        return TimeWindow(start, None)
    length = draw(st.integers(1, 10**13))  # microseconds
    return TimeWindow(start, start + timedelta(microseconds=length))


def volumes(*, standing: bool) -> st.SearchStrategy[Volume4D]:
    return st.builds(Volume4D, st.one_of(polygons(), circles), bands(), windows(standing=standing))


@st.composite
def zones(draw: st.DrawFn, ident: str) -> Zone:
    party = draw(st.one_of(st.none(), party_names))
    choices = [st.just(RESTRICTS_ALL), st.lists(party_names, min_size=1, max_size=3).map(tuple)]
    if party is not None:
        choices.append(st.just(RESTRICTS_OTHERS))
    rule = ZoneRule(draw(st.one_of(*choices)), draw(st.sampled_from(Activity)), draw(st.sampled_from(Entry)))
    return Zone(
        ident,
        draw(st.sampled_from(ZoneKind)),
        tuple(draw(st.lists(volumes(standing=True), min_size=1, max_size=3))),
        rule,
        party,
        draw(free_names),
    )


@st.composite
def operations(draw: st.DrawFn, ident: str) -> Operation:
    return Operation(
        ident,
        draw(party_names),
        draw(st.sampled_from([Activity.AIR, Activity.GROUND])),
        tuple(draw(st.lists(volumes(standing=False), min_size=1, max_size=3))),
        draw(st.sampled_from(OperationState)),
        draw(free_names),
    )


@st.composite
def zones_and_operations(draw: st.DrawFn) -> tuple[list[Zone], list[Operation]]:
    names = draw(st.lists(ids, min_size=0, max_size=5, unique=True))
    split = draw(st.integers(0, len(names)))
    return (
        [draw(zones(n)) for n in names[:split]],
        [draw(operations(n)) for n in names[split:]],
    )
