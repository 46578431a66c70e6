"""Start-up reads the stored coverings and bounds back (issue 13): a restarted service
computes no covering and gives the same index answers as the one that filed; on SQLite and
on the real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from service_kit import operation, square
from sqlalchemy import update

from truceline.domain.operation import Operation
from truceline.geo import cells
from truceline.geo.altitude import AltitudeBand
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.service import filing
from truceline.service.auth import principal_for_token
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service
from truceline.store.schema import volumes

STRIP = [[[0.0, 10.0], [60.0, 10.0], [60.0, 10.03], [0.0, 10.03], [0.0, 10.0]]]


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'startup.db'}"
    else:
        yield request.getfixturevalue("postgres_url")


class CoverCalls:
    """Counts every computation of a covering (the cache by value emptied first)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.count = 0
        cells.clear_cover_cache()
        for name in ("_cover_small", "_cover_wall", "_cover_overlap", "_cover_disk"):
            original = getattr(cells, name)
            monkeypatch.setattr(cells, name, self._counting(original))

    def _counting(self, original):  # type: ignore[no-untyped-def]
        def counted(*args, **kwargs):  # type: ignore[no-untyped-def]
            self.count += 1
            return original(*args, **kwargs)

        return counted


def _filed(service: Service, clock) -> list[Operation]:  # type: ignore[no-untyped-def]
    """Operations of three parties filed through the service: squares around Damascus, some
    overlapping, and the issue's thin strip."""
    people = {}
    for name in ("A", "B", "C"):
        token = add_party(service, name, "party", "en").token
        with service.read() as conn:
            people[name] = principal_for_token(conn, token)
    rng = np.random.default_rng(4)
    for i in range(30):
        west, south = float(rng.uniform(36.0, 36.6)), float(rng.uniform(33.2, 33.7))
        side = float(rng.uniform(0.01, 0.2))
        party = "ABC"[i % 3]
        doc = operation(f"op-{i}", party, square(west, south, west + side, south + side))
        assert filing.file_operation(service, people[party], doc).accepted
    strip = operation("strip", "A", STRIP)
    assert filing.file_operation(service, people["A"], strip).accepted
    return service.index.live().operations


def _probes() -> list[Operation]:
    rng = np.random.default_rng(9)
    window = TimeWindow(datetime(2017, 7, 10, 7, tzinfo=UTC), datetime(2017, 7, 10, 12, tzinfo=UTC))
    band = AltitudeBand(0.0, 5000.0)
    centres = zip(rng.uniform(36.0, 36.8, 40).tolist(), rng.uniform(33.2, 33.9, 40).tolist(), strict=True)
    shapes: list[Circle | Polygon] = [Circle(c, float(rng.uniform(100, 20_000))) for c in centres]
    shapes += [Circle((lon, 10.015), 500.0) for lon in (1.0, 30.0, 59.9)]  # on the strip
    return [Operation(f"probe-{i}", "Z", "air", (Volume4D(s, band, window),)) for i, s in enumerate(shapes)]


def _answers(service: Service, probes: list[Operation]) -> list[list[tuple[str, str, str]]]:
    return [[(str(c.kind), c.a, c.b) for c in service.index.check(p)] for p in probes]


def _coverings(service: Service) -> dict[str, list[list[int]]]:
    held = service.index.live()
    return {o.id: [cells.cover(v.shape) for v in o.volumes] for o in held.operations}


def test_a_restart_reads_the_coverings_back_and_gives_the_same_answers(url, clock, monkeypatch):
    first = Service(open_register(url, clock))
    filed = _filed(first, clock)
    probes = _probes()
    before = _answers(first, probes)
    assert sum(map(len, before)) > 10  # the probes meet the filed operations
    coverings = _coverings(first)
    first.engine.dispose()

    calls = CoverCalls(monkeypatch)
    second = Service(open_register(url, clock))
    assert calls.count == 0  # nothing covered again at start-up
    assert {o.id for o in second.index.live().operations} == {o.id for o in filed}
    assert _answers(second, probes) == before
    assert _coverings(second) == coverings and calls.count == 0
    second.engine.dispose()


def test_rows_written_before_the_bounds_were_stored_still_load(url, clock, monkeypatch):
    first = Service(open_register(url, clock))
    _filed(first, clock)
    probes = _probes()
    before = _answers(first, probes)
    with first.engine.begin() as conn:  # as a database upgraded to revision 0008 has them
        conn.execute(update(volumes).values(min_lon=None, min_lat=None, max_lon=None, max_lat=None))
    first.engine.dispose()
    calls = CoverCalls(monkeypatch)
    second = Service(open_register(url, clock))
    assert calls.count == 0  # the coverings are still read back; only the bounds computed
    assert _answers(second, probes) == before
    second.engine.dispose()
