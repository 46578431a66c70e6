"""``StrategicIndex.load`` (start-up's bulk load) holds what adding one by one holds and
answers as brute force does; later adds and removes work on a loaded index."""

from __future__ import annotations

from hypothesis import given, settings
from test_strategic import brute_force, scenarios

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone
from truceline.engines.strategic import StrategicIndex


def _answers(index: StrategicIndex, operations: list[Operation]) -> set[tuple[str, str, str]]:
    return {(str(c.kind), c.a, c.b) for o in operations for c in index.check(o)}


@settings(max_examples=60, deadline=None)
@given(scenarios())
def test_a_loaded_index_answers_as_brute_force_and_as_one_built_by_adds(
    scenario: tuple[list[Zone], list[Operation]],
) -> None:
    zones, operations = scenario
    loaded, added = StrategicIndex(), StrategicIndex()
    loaded.load(((z, None) for z in zones), operations)
    for zone in zones:
        added.add_zone(zone)
    for operation in operations:
        added.add_operation(operation)
    assert _answers(loaded, operations) == _answers(added, operations) == brute_force(zones, operations)
    assert [o.id for o in loaded.live().operations] == [o.id for o in operations]
    # the loaded index keeps changing as any other: remove half, add them back
    for operation in operations[::2]:
        loaded.remove_operation(operation.id)
    kept = operations[1::2]
    assert _answers(loaded, kept) == brute_force(zones, kept)
    for operation in operations[::2]:
        loaded.add_operation(operation)
    assert _answers(loaded, operations) == brute_force(zones, operations)
