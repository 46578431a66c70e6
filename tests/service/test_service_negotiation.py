"""Zone negotiation in the service: who may do what, rejection, withdrawal, expiry, diffs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from service_kit import Desk, operation, square, zone

from truceline.errors import ConflictError, ForbiddenError, ValidationError
from truceline.geo.difference import area_change
from truceline.geo.shapes import Polygon, shape_area_m2
from truceline.service import escalation, filing, negotiation


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:
    d = Desk(tmp_path, clock)
    for name in ("A", "B", "C"):
        d.add(name)
    d.add("G", "guarantor")
    yield d
    d.close()


def _activate(desk: Desk, zone_id: str, doc: dict, signatories: list[str]) -> None:
    proposal = negotiation.propose(desk.service, desk["A"], doc, signatories)
    for name in proposal.required:
        negotiation.sign(desk.service, desk[name], zone_id, 1, proposal.hash)


def test_only_required_signatories_act(desk: Desk) -> None:
    proposal = negotiation.propose(desk.service, desk["A"], zone("z", "A", square(36, 35, 36.5, 35.5)), ["B"])
    with pytest.raises(ForbiddenError):
        negotiation.sign(desk.service, desk["C"], "z", 1, proposal.hash)
    with pytest.raises(ForbiddenError):
        negotiation.counter_propose(desk.service, desk["C"], "z", zone("z", "A", square(36, 35, 36.6, 35.5)))
    with pytest.raises(ConflictError):  # the same version again
        negotiation.counter_propose(desk.service, desk["B"], "z", zone("z", "A", square(36, 35, 36.5, 35.5)))
    with pytest.raises(ValidationError):  # another zone's id
        negotiation.counter_propose(desk.service, desk["B"], "z", zone("y", "A", square(36, 35, 36.6, 35.5)))
    with pytest.raises(ConflictError):  # the id is taken
        negotiation.propose(desk.service, desk["B"], zone("z", "B", square(30, 30, 30.5, 30.5)), [])
    with pytest.raises(ForbiddenError):
        negotiation.withdraw(desk.service, desk["B"], "z")


def test_rejection_then_counter_proposal(desk: Desk) -> None:
    proposal = negotiation.propose(desk.service, desk["A"], zone("z", "A", square(36, 35, 36.5, 35.5)), ["B"])
    negotiation.reject(desk.service, desk["B"], "z", 1, proposal.hash, "Отступите на 5 км к югу")
    got = negotiation.get_zone(desk.service, "z")
    assert got.state == "rejected"
    last = got.steps[-1]
    assert (last.step, last.party, last.reason) == ("rejected", "B", "Отступите на 5 км к югу")
    with pytest.raises(ConflictError):
        negotiation.sign(desk.service, desk["A"], "z", 1, proposal.hash)
    v2 = negotiation.counter_propose(
        desk.service, desk["A"], "z", zone("z", "A", square(36, 34.95, 36.5, 35.45))
    )
    assert negotiation.get_zone(desk.service, "z").state == "proposed"
    for name in ("A", "B"):
        negotiation.sign(desk.service, desk[name], "z", 2, v2.hash)
    assert negotiation.get_zone(desk.service, "z").state == "active"
    # The rejecting party was told; the reason is kept as written, never translated.
    types = desk.entry_types()
    assert types.count("zone.rejected") == 1 and types.count("zone.activated") == 1


def test_withdrawal_stops_the_zone_constraining(desk: Desk) -> None:
    _activate(desk, "z", zone("z", "A", square(36, 35, 36.5, 35.5)), ["B", "C"])
    plan = operation("op-c", "C", square(36.1, 35.1, 36.2, 35.2))
    assert not filing.file_operation(desk.service, desk["C"], plan).accepted
    negotiation.withdraw(desk.service, desk["A"], "z")
    assert negotiation.get_zone(desk.service, "z").state == "withdrawn"
    plan2 = operation("op-c2", "C", square(36.1, 35.1, 36.2, 35.2))
    assert filing.file_operation(desk.service, desk["C"], plan2).accepted
    with pytest.raises(ConflictError):
        negotiation.withdraw(desk.service, desk["A"], "z")


def test_a_proposed_zone_does_not_constrain(desk: Desk) -> None:
    negotiation.propose(desk.service, desk["A"], zone("z", "A", square(36, 35, 36.5, 35.5)), ["B"])
    assert filing.file_operation(
        desk.service, desk["C"], operation("op", "C", square(36.1, 35.1, 36.2, 35.2))
    ).accepted


def test_activation_tells_operations_already_filed(desk: Desk) -> None:
    from truceline.service import hotline

    negotiation.propose(desk.service, desk["A"], zone("z", "A", square(36, 35, 36.5, 35.5)), ["B"])
    for name in ("B", "C"):
        assert filing.file_operation(
            desk.service, desk[name], operation(f"op-{name}", name, square(36.1, 35.1, 36.2, 35.2))
        ).accepted
    hash1 = negotiation.get_zone(desk.service, "z").current_hash
    for name in ("A", "B"):
        negotiation.sign(desk.service, desk[name], "z", 1, hash1)

    def told(name: str) -> set[tuple[str, str, str]]:
        return {
            (m.body["template"], m.body["params"]["operation"], m.body["params"]["zone"])
            for m in hotline.inbox(desk.service, desk[name], "en")
            if m.body.get("template", "").startswith("conflict.")
            and m.body["params"].get("zone") == "z"
        }

    # B signed the zone: bound by it. C did not: the zone is declared, not recognised, by C.
    assert told("B") == {("conflict.zone", "op-B", "z"), ("conflict.declared_zone", "op-C", "z")}
    assert told("C") == {("conflict.declared_zone", "op-C", "z")}
    kinds = {(c["kind"], c["a"], c["b"]) for c in desk.register.conflicts() if c["b"] == "z"}
    assert kinds == {("zone", "op-B", "z"), ("declared_zone", "op-C", "z")}


def test_expiry_at_clock_time(desk: Desk) -> None:
    _activate(desk, "z", zone("z", "A", square(36, 35, 36.5, 35.5), end="2017-07-10T12:00:00Z"), ["B"])
    assert escalation.tick(desk.service, desk.clock.now).expired == []
    desk.clock.now = desk.clock.now.replace(hour=12)
    assert escalation.tick(desk.service, desk.clock.now).expired == ["z"]
    assert negotiation.get_zone(desk.service, "z").state == "expired"
    assert "z" not in desk.service.live().zones and all(z.id != "z" for z in desk.service.live().zones)
    assert escalation.tick(desk.service, desk.clock.now + timedelta(seconds=1)).expired == []
    assert desk.entry_types().count("zone.expired") == 1


def test_index_follows_entries_appended_by_another_process(desk: Desk, clock) -> None:
    from truceline.io.geojson import read_zones
    from truceline.service.importing import import_features
    from truceline.service.register import open_register
    from truceline.service.service import Service

    # e.g. `truceline import` on the same database while the server runs
    other = Service(open_register(str(desk.register.engine.url), clock))
    import_features(other, read_zones(zone("imported", "A", square(36, 35, 36.5, 35.5)), source="x"), [])
    result = filing.file_operation(
        desk.service, desk["C"], operation("op", "C", square(36.1, 35.1, 36.2, 35.2))
    )
    assert not result.accepted and result.conflicts[0]["b"] == "imported"
    other.engine.dispose()


rectangles = st.tuples(
    st.floats(35.0, 36.0), st.floats(33.0, 34.0), st.floats(0.05, 0.5), st.floats(0.05, 0.5)
).map(
    lambda t: Polygon(
        ((t[0], t[1]), (t[0] + t[2], t[1]), (t[0] + t[2], t[1] + t[3]), (t[0], t[1] + t[3]), (t[0], t[1]))
    )
)


@settings(max_examples=25, deadline=None)
@given(rectangles, rectangles)
def test_diff_areas_balance(old: Polygon, new: Polygon) -> None:
    change = area_change([old], [new])
    # area(new) - area(old) = added - removed, within the planar approximation (<0.5 %)
    delta_km2 = (shape_area_m2(new) - shape_area_m2(old)) / 1e6
    scale = (shape_area_m2(new) + shape_area_m2(old)) / 1e6
    assert abs((change.added_km2 - change.removed_km2) - delta_km2) <= 0.005 * scale + 0.01
    assert area_change([old], [old]).added_km2 < 0.01


def _broadcasts(desk: Desk, name: str, template: str) -> list[dict]:
    from truceline.service import hotline

    return [m for m in hotline.inbox(desk.service, desk[name], "en") if m.body.get("template") == template]


def test_an_activation_is_told_to_everyone_but_the_party_that_caused_it(desk: Desk) -> None:
    proposal = negotiation.propose(desk.service, desk["A"], zone("z", "A", square(36, 35, 36.5, 35.5)), ["B"])
    negotiation.sign(desk.service, desk["A"], "z", 1, proposal.hash)
    negotiation.sign(desk.service, desk["B"], "z", 1, proposal.hash)  # B's signature activates it
    assert _broadcasts(desk, "B", "zone.activated") == []
    for name in ("A", "C", "G"):
        [told] = _broadcasts(desk, name, "zone.activated")
        # It informs and asks nothing: from the register, no deadline, never escalated.
        assert told.sender is None and told.received.deadline is None and told.priority == "high", name
    broadcast = _broadcasts(desk, "C", "zone.activated")[0].id
    later = desk.clock.now + timedelta(days=1)
    assert broadcast not in {m for m, _ in escalation.tick(desk.service, later).escalated}
    assert [m.priority for m in _broadcasts(desk, "C", "zone.activated")] == ["high"]


def test_withdrawal_and_expiry_are_told_without_deadline_or_escalation(desk: Desk) -> None:
    _activate(desk, "w", zone("w", "A", square(36, 35, 36.5, 35.5)), ["B"])
    negotiation.withdraw(desk.service, desk["A"], "w")
    _activate(desk, "x", zone("x", "A", square(30, 30, 30.5, 30.5), end="2017-07-10T12:00:00Z"), ["B"])
    desk.clock.now = desk.clock.now.replace(hour=12)
    assert escalation.tick(desk.service, desk.clock.now).expired == ["x"]
    assert _broadcasts(desk, "A", "zone.withdrawn") == []  # A withdrew it
    broadcasts = set()
    for name in ("B", "C", "G"):
        for template in ("zone.withdrawn", "zone.expired"):
            [told] = _broadcasts(desk, name, template)
            assert told.received.deadline is None, (name, template)
            broadcasts.add(told.id)
    result = escalation.tick(desk.service, desk.clock.now + timedelta(days=1))
    assert broadcasts.isdisjoint(m for m, _ in [*result.escalated, *result.unacknowledged])


@pytest.mark.parametrize("role", ["observer", "auditor", "admin"])
def test_signatories_must_hold_a_role_that_signs(desk: Desk, role: str) -> None:
    desk.add("X", role)
    with pytest.raises(ValidationError) as refused:
        negotiation.propose(desk.service, desk["A"], zone("z", "A", square(36, 35, 36.5, 35.5)), ["B", "X"])
    assert refused.value.field == "signatories[1]" and role in str(refused.value)
    assert "zone.proposed" not in desk.entry_types()
    # A guarantor (or a humanitarian organisation) signs.
    desk.add("H", "humanitarian")
    assert negotiation.propose(
        desk.service, desk["A"], zone("z", "A", square(36, 35, 36.5, 35.5)), ["G", "H"]
    ).required == ["A", "G", "H"]
