"""Helpers of the service tests: a Service on a fresh SQLite file, principals, documents."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from truceline.service.auth import Principal, principal_for_token
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service


class Desk:
    def __init__(self, tmp_path: Path, clock: Any) -> None:
        self.clock = clock
        self.register = open_register(f"sqlite:///{tmp_path / 'service.db'}", clock)
        self.service = Service(self.register)
        self.people: dict[str, Principal] = {}

    def add(self, name: str, role: str = "party", language: str = "en") -> Principal:
        token = add_party(self.service, name, role, language).token
        with self.service.read() as conn:
            self.people[name] = principal_for_token(conn, token)
        return self.people[name]

    def __getitem__(self, name: str) -> Principal:
        return self.people[name]

    def entry_types(self) -> list[str]:
        with self.register.engine.connect() as conn:
            return [e.type for e in self.register.ledger.entries(conn)]

    def close(self) -> None:
        self.register.engine.dispose()


def square(west: float, south: float, east: float, north: float) -> list[list[list[float]]]:
    return [[[west, south], [east, south], [east, north], [west, north], [west, south]]]


def feature_collection(
    feature_id: str, ring: list[list[list[float]]], props: dict[str, Any]
) -> dict[str, Any]:
    feature = {
        "type": "Feature",
        "id": feature_id,
        "geometry": {"type": "Polygon", "coordinates": ring},
        "properties": props,
    }
    return {"type": "FeatureCollection", "features": [feature]}


def zone(
    zone_id: str,
    party: str,
    ring: list[list[list[float]]],
    *,
    entry: str = "forbidden",
    end: str | None = "2017-07-12T00:00:00Z",
    restricts: Any = "others",
) -> dict[str, Any]:
    return feature_collection(
        zone_id,
        ring,
        {
            "kind": "deconfliction",
            "party": party,
            "restricts": restricts,
            "activity": "any",
            "entry": entry,
            "altitude_lower_m": 0,
            "altitude_upper_m": 10000,
            "altitude_reference": "AMSL",
            "time_start": "2017-07-10T00:00:00Z",
            "time_end": end,
        },
    )


def operation(
    op_id: str,
    party: str,
    ring: list[list[list[float]]],
    *,
    name: str = "",
    activity: str = "air",
    start: str = "2017-07-10T08:00:00Z",
    end: str = "2017-07-10T10:00:00Z",
) -> dict[str, Any]:
    props: dict[str, Any] = {
        "party": party,
        "activity": activity,
        "altitude_lower_m": 500,
        "altitude_upper_m": 3000,
        "altitude_reference": "AMSL",
        "time_start": start,
        "time_end": end,
    }
    if name:
        props["name"] = name
    return feature_collection(op_id, ring, props)
