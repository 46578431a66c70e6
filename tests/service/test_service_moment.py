"""The picture at a moment (service/moment.py, domain/negotiation.py): folding a negotiation's
steps gives, at the time of each step, the row the projector had written by then; the fold
only ever moves forward in time; operations at a moment are their versions in force then."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from service_kit import Desk, operation, square, zone

from truceline.domain.clock import to_ms
from truceline.domain.negotiation import negotiation_at
from truceline.domain.zone import ZoneState
from truceline.service import filing, moment, negotiation
from truceline.store import zones as zone_store


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:
    d = Desk(tmp_path, clock)
    for name in ("A", "B", "C"):
        d.add(name)
    yield d
    d.close()


def _row(desk: Desk, zone_id: str) -> tuple[str, int, int | None]:
    with desk.service.read() as conn:
        row = zone_store.negotiation(conn, zone_id)
    assert row is not None
    return row.state, row.current_version, row.active_version


def test_the_fold_at_each_step_is_the_row_the_projector_had_written_then(desk: Desk) -> None:
    s = desk.service
    seen: list[tuple[int, tuple[str, int, int | None]]] = []

    def then() -> None:
        desk.clock.now += timedelta(minutes=10)
        seen.append((to_ms(desk.clock.now), _row(desk, "z")))

    p = negotiation.propose(s, desk["A"], zone("z", "A", square(36, 35, 36.5, 35.5)), ["B", "C"])
    then()
    negotiation.sign(s, desk["A"], "z", 1, p.hash)
    then()
    negotiation.reject(s, desk["B"], "z", 1, p.hash, "further south")
    then()
    v2 = negotiation.counter_propose(s, desk["B"], "z", zone("z", "A", square(36, 35, 36.4, 35.5)))
    then()
    for name in ("A", "B", "C"):
        negotiation.sign(s, desk[name], "z", 2, v2.hash)
        then()
    v3 = negotiation.counter_propose(s, desk["C"], "z", zone("z", "A", square(36, 35, 36.3, 35.5)))
    then()
    negotiation.reject(s, desk["A"], "z", 3, v3.hash, "no")  # version 2 stays in force
    then()
    negotiation.withdraw(s, desk["A"], "z")
    then()
    with s.read() as conn:
        steps = zone_store.steps(conn, "z")
    assert negotiation_at(steps, steps[0].time_ms - 1) is None
    for at_ms, (state, current, active) in seen:
        stood = negotiation_at(steps, at_ms)
        assert stood is not None
        assert (stood.state, stood.current_version, stood.active_version) == (state, current, active)
    assert [r[1][0] for r in seen] == [
        "proposed", "proposed", "rejected", "proposed", "proposed", "proposed", "active", "active",
        "active", "withdrawn",
    ]
    # Everything folded is the row of now.
    stood = negotiation_at(steps)
    assert stood is not None and (stood.state, stood.current_version, stood.active_version) == _row(desk, "z")


@dataclass(frozen=True)
class _Step:
    step: str
    party_id: str | None
    version: int | None
    time_ms: int


@st.composite
def negotiations(draw: st.DrawFn) -> list[_Step]:
    """A negotiation as the commands allow it: proposed first, then signatures, rejections
    and counter-proposals of the current version, activations, and perhaps an end."""
    steps = [_Step("proposed", "A", 1, 0)]
    current, active = 1, None
    for _ in range(draw(st.integers(0, 12))):
        kind = draw(st.sampled_from(["signed", "rejected", "counter_proposed", "activated", "end"]))
        if kind == "end":
            steps.append(_Step(draw(st.sampled_from(["withdrawn", "expired"])), None, None, 0))
            break
        if kind == "counter_proposed":
            current += 1
        if kind == "activated":
            if active == current:
                continue
            active = current
        steps.append(_Step(kind, draw(st.sampled_from(["A", "B"])), current, 0))
    gaps = draw(st.lists(st.integers(0, 3), min_size=len(steps), max_size=len(steps)))
    times = [sum(gaps[: i + 1]) for i in range(len(steps))]  # non-decreasing, ties allowed
    return [_Step(s.step, s.party_id, s.version, t) for s, t in zip(steps, times, strict=True)]


@given(negotiations(), st.integers(-1, 40), st.integers(-1, 40))
def test_a_negotiation_at_a_moment_only_moves_forward(steps: list[_Step], t1: int, t2: int) -> None:
    early, late = sorted((t1, t2))
    a, b = negotiation_at(steps, early), negotiation_at(steps, late)
    # Known from its proposal on, and from then on at every later moment.
    assert (a is None) == (early < steps[0].time_ms)
    assert (b is None) == (late < steps[0].time_ms)
    if a is None or b is None:
        return
    assert a.current_version <= b.current_version
    assert (a.active_version or 0) <= (b.active_version or 0)
    assert set(a.signatures) <= set(b.signatures)  # a signature is never taken back
    if a.state.final:
        assert b == a  # nothing happens to a withdrawn or expired zone
    if a.state == ZoneState.ACTIVE:
        assert b.state in (ZoneState.ACTIVE, ZoneState.WITHDRAWN, ZoneState.EXPIRED)
    # The moment's picture is the fold of the steps recorded by then, no more.
    assert a == negotiation_at([s for s in steps if s.time_ms <= early])


def test_operations_at_a_moment_are_the_version_in_force_then(desk: Desk) -> None:
    s = desk.service
    filing.file_operation(s, desk["A"], operation("op", "A", square(36, 35, 36.2, 35.2)))
    desk.clock.now += timedelta(minutes=10)
    first = desk.clock.now
    filing.update_operation(s, desk["A"], "op", operation("op", "A", square(36.1, 35, 36.3, 35.2)))
    desk.clock.now += timedelta(minutes=10)
    second = desk.clock.now
    filing.cancel_operation(s, desk["A"], "op")
    desk.clock.now += timedelta(minutes=10)
    with s.read() as conn:
        at_first = moment.operations_at(conn, first)
        at_second = moment.operations_at(conn, second)
        now = moment.operations_at(conn, desk.clock.now)
    assert [o.volumes[0].shape.ring[0][0] for o in at_first] == [36.0]
    assert [o.volumes[0].shape.ring[0][0] for o in at_second] == [36.1]
    assert now == []
