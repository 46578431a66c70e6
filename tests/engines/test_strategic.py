"""The strategic engine against a brute-force reference, and its rules on hand-made cases."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone, ZoneRule
from truceline.engines.strategic import ConflictKind, Held, StrategicIndex, conflict_record, find_conflicts
from truceline.errors import AltitudeReferenceError
from truceline.geo.altitude import AltitudeBand
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D, overlap

T0 = datetime(2017, 7, 10, tzinfo=UTC)


def square(lon: float, lat: float, half_deg: float) -> Polygon:
    return Polygon(
        (
            (lon - half_deg, lat - half_deg),
            (lon + half_deg, lat - half_deg),
            (lon + half_deg, lat + half_deg),
            (lon - half_deg, lat + half_deg),
            (lon - half_deg, lat - half_deg),
        )
    )


def vol(shape, lower=0.0, upper=1000.0, start_h=0.0, end_h: float | None = 2.0) -> Volume4D:
    end = None if end_h is None else T0 + timedelta(hours=end_h)
    return Volume4D(shape, AltitudeBand(lower, upper), TimeWindow(T0 + timedelta(hours=start_h), end))


def brute_force(
    zones: list[Zone], operations: list[Operation], bound: dict[str, set[str]] | None = None
) -> set[tuple[str, str, str]]:
    """Every pair, every volume pair, the exact test: the definition of the result. A zone
    named in ``bound`` binds only those parties; the others get ``declared_zone``."""
    found = set()
    for op in operations:
        for zone in zones:
            if zone.rule.applies_to(zone.party, op.party, op.activity) and any(
                overlap(a, b) is not None for a in op.volumes for b in zone.volumes
            ):
                binding = bound is None or zone.id not in bound or op.party in bound[zone.id]
                found.add(("zone" if binding else "declared_zone", op.id, zone.id))
        for other in operations:
            if (
                other.party != op.party
                and op.id < other.id
                and any(overlap(a, b) is not None for a in op.volumes for b in other.volumes)
            ):
                found.add(("operation", op.id, other.id))
    return found


shapes = st.builds(
    lambda kind, lon, lat, size: Circle((lon, lat), size * 111_000) if kind else square(lon, lat, size),
    st.booleans(),
    st.floats(36.0, 37.0),
    st.floats(33.0, 34.0),
    st.floats(0.01, 0.3),
)
# Starts and lengths around the engine's 6-hour time tiers (windows ending exactly on a
# tier boundary, spanning several tiers, longer than it lists, standing without an end).
volumes = st.builds(
    lambda shape, lower, height, start, length: vol(
        shape, lower, lower + height, start, None if length is None else start + length
    ),
    shapes,
    st.sampled_from([0.0, 500.0, 1000.0, 2000.0]),
    st.sampled_from([500.0, 1000.0, 3000.0]),
    st.sampled_from([0.0, 1.0, 2.0, 3.0, 5.5, 6.0, 11.9]),
    st.sampled_from([1.0, 2.0, 4.0, 0.5, 6.0, 60.0, None]),
)


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[list[Zone], list[Operation]]:
    parties = ["A", "B", "C"]
    zones = [
        Zone(
            f"z{i}",
            "no_fly",
            tuple(draw(st.lists(volumes, min_size=1, max_size=2))),
            ZoneRule(
                draw(st.sampled_from(["all", "others", ("B",), ("A", "C")])),
                draw(st.sampled_from(["air", "ground", "any"])),
                draw(st.sampled_from(["forbidden", "notice"])),
            ),
            party=draw(st.sampled_from(parties)),
        )
        for i in range(draw(st.integers(0, 4)))
    ]
    operations = [
        Operation(
            f"o{i}",
            draw(st.sampled_from(parties)),
            draw(st.sampled_from(["air", "ground"])),
            tuple(draw(st.lists(volumes, min_size=1, max_size=3))),
        )
        for i in range(draw(st.integers(0, 8)))
    ]
    return zones, operations


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_engine_agrees_with_brute_force(scenario: tuple[list[Zone], list[Operation]]) -> None:
    zones, operations = scenario
    found = {(str(c.kind), c.a, c.b) for c in find_conflicts(zones, operations)}
    assert found == brute_force(zones, operations)


@settings(max_examples=60, deadline=None)
@given(scenarios(), st.data())
def test_a_zone_binds_only_the_parties_given(
    scenario: tuple[list[Zone], list[Operation]], data: st.DataObject
) -> None:
    zones, operations = scenario
    # Some zones are negotiated (bound: their signatories), the others imported (bound: all).
    bound = {
        z.id: set(data.draw(st.sets(st.sampled_from(["A", "B", "C"])), label=z.id))
        for z in zones
        if data.draw(st.booleans(), label=f"{z.id} negotiated")
    }
    conflicts = find_conflicts(zones, operations, bound=bound)
    assert {(str(c.kind), c.a, c.b) for c in conflicts} == brute_force(zones, operations, bound)
    # The same pairs as when every zone binds every party: only the kind differs.
    assert {(c.a, c.b) for c in conflicts} == {(c.a, c.b) for c in find_conflicts(zones, operations)}


def test_a_declared_zone_conflict_keeps_the_entry_rule_and_sorts_with_zones() -> None:
    shape = square(36.5, 33.5, 0.1)
    zone = Zone("z", "de_escalation", (vol(shape),), ZoneRule("others", "any", "forbidden"), party="A")
    index = StrategicIndex()
    index.add_zone(zone, bound={"A", "B"})
    assert index.binds("z", "B") and not index.binds("z", "C")
    index.add_operation(Operation("a-op", "A", "air", (vol(shape),)))
    # "a-op" < "b-op", but zone conflicts, declared ones too, come first
    [declared, crossing] = index.check(Operation("b-op", "C", "air", (vol(shape),)))
    assert (declared.kind, declared.b, str(declared.entry)) == (ConflictKind.DECLARED_ZONE, "z", "forbidden")
    assert conflict_record(declared)["kind"] == "declared_zone"
    assert conflict_record(declared)["entry"] == "forbidden"
    assert crossing.kind is ConflictKind.OPERATION and not crossing.kind.of_zone
    [bound, _crossing] = index.check(Operation("c-op", "B", "air", (vol(shape),)))
    assert bound.kind is ConflictKind.ZONE
    # Adding the zone again without ``bound`` (an operator's import) binds everyone it restricts.
    index.add_zone(zone)
    assert index.binds("z", "C")
    assert index.check(Operation("d-op", "C", "ground", (vol(shape),)))[0].kind is ConflictKind.ZONE


def test_one_conflict_per_pair_reports_the_largest_overlap() -> None:
    zone = Zone("z", "no_fly", (vol(square(36.5, 33.5, 0.2)),), ZoneRule("all", "any", "forbidden"))
    small = vol(square(36.7, 33.7, 0.01))  # straddles the zone's corner: a small overlap
    large = vol(square(36.5, 33.5, 0.05))  # wholly inside
    op = Operation("op", "A", "air", (small, large))
    conflicts = find_conflicts([zone], [op])
    assert len(conflicts) == 1
    expected = overlap(large, zone.volumes[0])
    assert expected is not None
    assert math.isclose(conflicts[0].overlap.area_m2, expected.area_m2, rel_tol=1e-9)
    assert conflicts[0].a_volume == 1


def test_operation_pairs_are_named_in_sorted_order_and_same_party_is_ignored() -> None:
    shape = square(36.5, 33.5, 0.1)
    ops = [
        Operation("zulu", "A", "air", (vol(shape),)),
        Operation("alpha", "B", "air", (vol(shape),)),
        Operation("mike", "A", "ground", (vol(shape),)),
    ]
    conflicts = find_conflicts([], ops)
    assert [(c.a, c.b) for c in conflicts] == [("alpha", "mike"), ("alpha", "zulu")]
    assert all(c.kind is ConflictKind.OPERATION for c in conflicts)


def test_zone_rule_restricts_only_the_named_parties_and_activity() -> None:
    shape = square(36.5, 33.5, 0.1)
    zone = Zone("z", "deconfliction", (vol(shape),), ZoneRule("others", "ground", "notice"), party="A")
    ops = [
        Operation("own-ground", "A", "ground", (vol(shape),)),
        Operation("other-air", "B", "air", (vol(shape),)),
        Operation("other-ground", "C", "ground", (vol(shape, 500, 600),)),
    ]
    zone_conflicts = [c for c in find_conflicts([zone], ops) if c.kind is ConflictKind.ZONE]
    assert [(c.a, c.b, str(c.entry)) for c in zone_conflicts] == [("other-ground", "z", "notice")]


def test_bands_in_different_references_are_never_judged_apart_silently() -> None:
    # numerically apart (0-100 m AGL against 500-900 m AMSL) but not comparable: an error
    zone_volume = Volume4D(square(36.5, 33.5, 0.1), AltitudeBand(0.0, 100.0, "AGL"), TimeWindow(T0))
    zone = Zone("z", "no_fly", (zone_volume,), ZoneRule("all", "any", "forbidden"))
    plan = Operation("p", "A", "air", (vol(square(36.5, 33.5, 0.05), 500.0, 900.0),))
    index = StrategicIndex()
    index.add_zone(zone)
    with pytest.raises(AltitudeReferenceError):
        index.check(plan)


def test_the_index_answers_what_it_holds_through_its_public_accessors() -> None:
    shape = square(36.5, 33.5, 0.1)
    zone = Zone("z", "no_fly", (vol(shape),), ZoneRule("all", "any", "forbidden"), party="A")
    first = Operation("op-1", "A", "air", (vol(shape),))
    second = Operation("op-2", "B", "air", (vol(shape),))
    index = StrategicIndex()
    index.add_zone(zone)
    index.add_operation(first)
    index.add_operation(second)
    assert index.zone("z") is zone and index.zone("nope") is None
    assert index.operation("op-2") is second and index.operation("z") is None
    held = index.live()
    assert held.zones == [zone] and held.operations == [first, second]
    # Copies: what a caller does to them leaves the index as it was.
    held.operations.clear()
    index.remove_operation("op-1")
    assert index.live() == Held([zone], [second])
