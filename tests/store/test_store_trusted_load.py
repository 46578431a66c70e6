"""The trusted load path (store.volumes.trusted): operations read back at start-up without
their constructors equal the ones filed, field for field, with their discs remembered."""

from __future__ import annotations

import math
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from truceline.domain.operation import Operation
from truceline.geo.altitude import AltitudeBand
from truceline.geo.pair_discs import shape_discs
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.timewindow import DailyPeriod, Schedule, TimeWindow
from truceline.geo.volume import Volume4D
from truceline.service.register import open_register
from truceline.store import operations as operation_store
from truceline.store.volumes import trusted

T0 = datetime(2017, 7, 10, tzinfo=UTC)
SQUARE = Polygon(((36.0, 33.0), (36.2, 33.0), (36.2, 33.2), (36.0, 33.2), (36.0, 33.0)))


def _operations() -> list[Operation]:
    weekly = Schedule("Europe/Zurich", (DailyPeriod(frozenset(range(5)), time(8), time(18)),))
    volumes = (
        Volume4D(Circle((36.5, 33.5), 2_000.0), AltitudeBand(0.0, 1_000.0),
                 TimeWindow(T0, T0 + timedelta(hours=2))),
        Volume4D(SQUARE, AltitudeBand(-math.inf, 3_000.0, "W84"), TimeWindow(T0, None, weekly)),
        Volume4D(SQUARE, AltitudeBand(50.0, 900.0, "AMSL", "AGL"), TimeWindow(T0 + timedelta(minutes=5))),
        Volume4D(SQUARE, AltitudeBand(100.0, math.inf, "AGL"), TimeWindow(T0, T0 + timedelta(days=1))),
    )
    return [
        Operation("op-a", "alpha", "air", volumes[:2], name="first", priority=3),
        Operation("op-b", "bravo", "ground", volumes[2:], state="accepted"),
    ]


def test_operations_read_back_equal_the_ones_filed(tmp_path: Path) -> None:
    register = open_register(f"sqlite:///{tmp_path / 'trusted.db'}", lambda: T0)
    filed = _operations()
    with register.engine.begin() as conn:
        for operation in filed:
            operation_store.insert_operation(conn, operation)
    with register.engine.connect() as conn:
        loaded = operation_store.load_operations(conn)
    register.engine.dispose()
    assert loaded == filed
    for got, want in zip(loaded, filed, strict=True):
        assert (type(got.activity), type(got.state)) == (type(want.activity), type(want.state))
        for a, b in zip(got.volumes, want.volumes, strict=True):
            assert (a.time.start_s, a.time.end_s) == (b.time.start_s, b.time.end_s)
            assert a.altitude.reference_text == b.altitude.reference_text
            assert shape_discs(a.shape) == shape_discs(b.shape)  # remembered, not computed


def test_a_trusted_row_must_give_every_field() -> None:
    with pytest.raises(TypeError, match="AltitudeBand has 4 fields, 3 given"):
        trusted(AltitudeBand, lower_m=0.0, upper_m=1.0, reference="AMSL")
