"""Filing in the service: notice zones, updates and cancellation with history, refused
updates, need-to-know views, F3548 bodies."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from service_kit import Desk, operation, square, zone

from truceline.errors import ConflictError, ForbiddenError, NotFoundError, ValidationError
from truceline.service import filing, hotline, negotiation
from truceline.service.service import Service


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:
    d = Desk(tmp_path, clock)
    for name in ("A", "B", "C"):
        d.add(name)
    d.add("G", "guarantor")
    d.add("Aid", "humanitarian")
    d.add("root", "admin")
    yield d
    d.close()


def _activate(desk: Desk, doc: dict, zone_id: str, signatories: list[str]) -> None:
    proposal = negotiation.propose(desk.service, desk["A"], doc, signatories)
    for name in proposal.required:
        negotiation.sign(desk.service, desk[name], zone_id, 1, proposal.hash)


def _inbox_templates(desk: Desk, name: str) -> list[str]:
    return [m.body.get("template", "") for m in hotline.inbox(desk.service, desk[name], "en")]


def test_notice_zone_accepts_and_tells_its_members(desk: Desk) -> None:
    _activate(desk, zone("notice", "A", square(36, 35, 36.5, 35.5), entry="notice"), "notice", ["B", "C"])
    result = filing.file_operation(
        desk.service, desk["C"], operation("op-c", "C", square(36.1, 35.1, 36.2, 35.2))
    )
    assert result.accepted and [c["entry"] for c in result.conflicts] == ["notice"]
    for name in ("A", "B", "C"):
        assert "conflict.zone" in _inbox_templates(desk, name), name
    assert "conflict.zone" not in _inbox_templates(desk, "G")


def test_update_and_cancel_keep_history(desk: Desk) -> None:
    _activate(desk, zone("nofly", "A", square(36, 35, 36.5, 35.5)), "nofly", ["C"])
    first = filing.file_operation(desk.service, desk["C"], operation("op", "C", square(37, 35, 37.2, 35.2)))
    assert first.accepted and first.version == 1
    moved = filing.update_operation(
        desk.service, desk["C"], "op", operation("op", "C", square(37.5, 35, 37.7, 35.2))
    )
    assert moved.accepted and moved.version == 2
    # An update into the no-fly zone is refused, and the previous version stays in force.
    refused = filing.update_operation(
        desk.service, desk["C"], "op", operation("op", "C", square(36.1, 35, 36.3, 35.2))
    )
    assert not refused.accepted and refused.version == 3
    live = {o.id: o for o in desk.service.live().operations}
    assert live["op"].volumes[0].shape.ring[0] == (37.5, 35.0)
    with pytest.raises(ForbiddenError):
        filing.cancel_operation(desk.service, desk["B"], "op")
    filing.cancel_operation(desk.service, desk["C"], "op")
    assert "op" not in {o.id for o in desk.service.live().operations}
    with pytest.raises(ConflictError):
        filing.cancel_operation(desk.service, desk["C"], "op")
    steps = [(h.step, h.version) for h in filing.history(desk.service, desk["C"], "op", full=False)]
    assert steps == [("filed", 1), ("updated", 2), ("refused", 3), ("cancelled", 2)]
    with pytest.raises(NotFoundError):
        filing.history(desk.service, desk["B"], "op", full=False)
    with pytest.raises(ConflictError):
        filing.file_operation(desk.service, desk["C"], operation("op", "C", square(38, 35, 38.2, 35.2)))


def test_a_cancelled_operation_no_longer_conflicts(desk: Desk) -> None:
    filing.file_operation(desk.service, desk["A"], operation("a", "A", square(37, 35, 37.2, 35.2)))
    filing.cancel_operation(desk.service, desk["A"], "a")
    assert (
        filing.file_operation(
            desk.service, desk["B"], operation("b", "B", square(37.1, 35.1, 37.3, 35.3))
        ).conflicts
        == []
    )


def test_need_to_know(desk: Desk) -> None:
    # Zone zb belongs to A, with B as a signatory.
    _activate(desk, zone("zb", "A", square(40, 30, 40.5, 30.5), entry="notice", restricts=["C"]), "zb", ["B"])
    two_volumes = operation("a", "A", square(37, 35, 37.2, 35.2), name="Secret mission")
    second = dict(two_volumes["features"][0])
    second = {
        **second,
        "id": "a#2",
        "geometry": {"type": "Polygon", "coordinates": square(38, 35, 38.2, 35.2)},
    }
    two_volumes["features"][0]["id"] = "a#1"
    for feature in (two_volumes["features"][0], second):
        feature["properties"] = {**feature["properties"], "operation": "a"}
    two_volumes["features"].append(second)
    assert filing.file_operation(desk.service, desk["A"], two_volumes).accepted
    filing.file_operation(desk.service, desk["B"], operation("b", "B", square(37.1, 35.1, 37.3, 35.3)))
    filing.file_operation(desk.service, desk["C"], operation("c", "C", square(40.1, 30.1, 40.2, 30.2)))

    def view(name: str) -> dict[str, dict]:
        return {o["id"]: o for o in filing.list_operations(desk.service, desk[name])}

    b_view = view("B")
    assert b_view["b"]["redacted"] is False
    # B sees only the volume of A's operation that conflicts with its own, and no mission.
    assert b_view["a"]["redacted"] is True and [v["index"] for v in b_view["a"]["volumes"]] == [0]
    assert "name" not in b_view["a"] and "state" not in b_view["a"]
    # B signed zone zb, so C's operation inside it is shown to B (volumes only).
    assert b_view["c"]["redacted"] is True
    assert set(view("C")) == {"c"}
    assert view("A")["a"]["name"] == "Secret mission"
    assert {o["redacted"] for o in view("G").values()} == {True}
    assert view("root")["a"]["name"] == "Secret mission"
    with pytest.raises(NotFoundError):
        filing.get_operation(desk.service, desk["C"], "a")
    assert filing.get_operation(desk.service, desk["B"], "a")["redacted"] is True


def test_f3548_body_and_party_checks(desk: Desk) -> None:
    document = {
        "reference": {"id": "f-op", "manager": "Aid"},
        "details": {
            "volumes": [
                {
                    "volume": {
                        "outline_circle": {
                            "center": {"lat": 35.0, "lng": 39.0},
                            "radius": {"value": 2000, "units": "M"},
                        },
                        "altitude_lower": {"value": 0, "reference": "W84", "units": "M"},
                        "altitude_upper": {"value": 120, "reference": "W84", "units": "M"},
                    },
                    "time_start": {"value": "2017-07-10T08:00:00Z", "format": "RFC3339"},
                    "time_end": {"value": "2017-07-10T09:00:00Z", "format": "RFC3339"},
                }
            ]
        },
    }
    result = filing.file_operation(desk.service, desk["Aid"], document)
    assert result.accepted and result.operation_id == "f-op"
    with pytest.raises(ValidationError):
        filing.file_operation(
            desk.service, desk["B"], {**document, "reference": {"id": "g-op", "manager": "Aid"}}
        )
    with pytest.raises(ValidationError):
        filing.file_operation(desk.service, desk["B"], operation("x", "A", square(37, 35, 37.2, 35.2)))


def test_a_restarted_service_loads_its_index_ready_to_query(desk: Desk) -> None:
    _activate(desk, zone("nofly", "A", square(36, 35, 36.5, 35.5)), "nofly", [])
    first = operation("op-c", "C", square(37, 35, 37.2, 35.2))
    assert filing.file_operation(desk.service, desk["C"], first).accepted
    restarted = Service(desk.register)
    cells = restarted.index._cells
    assert cells._bucket_arrays and set(cells._bucket_arrays) == set(cells._cells_by_bucket)
    second = operation("op-b", "B", square(37.1, 35.1, 37.3, 35.3))
    clash = filing.file_operation(restarted, desk["B"], second)
    assert [(c["a"], c["b"]) for c in clash.conflicts] == [("op-b", "op-c")]


def test_a_refusal_is_told_in_the_answer_not_by_the_filer_to_itself(desk: Desk) -> None:
    _activate(desk, zone("no-fly", "A", square(36, 35, 36.5, 35.5)), "no-fly", ["B"])
    before = desk.entry_types().count("message.sent")
    # B signed the zone, so it binds B: B's filing inside is refused.
    result = filing.file_operation(
        desk.service, desk["B"], operation("op-b", "B", square(36.1, 35.1, 36.2, 35.2))
    )
    assert not result.accepted and result.messages == []
    assert [c["entry"] for c in result.conflicts] == ["forbidden"]
    assert desk.entry_types()[-1] == "operation.refused"
    assert desk.entry_types().count("message.sent") == before
    assert "operation.refused" not in _inbox_templates(desk, "B")


def test_conflict_messages_come_from_the_register(desk: Desk) -> None:
    first = operation("op-a", "A", square(36.0, 35.0, 36.2, 35.2))
    assert filing.file_operation(desk.service, desk["A"], first).accepted
    result = filing.file_operation(
        desk.service, desk["B"], operation("op-b", "B", square(36.1, 35.1, 36.3, 35.3))
    )
    [message_id] = result.messages
    for name in ("A", "B"):
        got = hotline.get_message(desk.service, desk[name], message_id, "en")
        assert got.sender is None and set(got.to) == {"A", "B"}, name
        assert got.received.deadline is not None  # a conflict asks each side to acknowledge
    # Either side's reply reaches the other.
    reply = hotline.reply(desk.service, desk["A"], message_id, "We hold at FL100.", "en")
    assert hotline.get_message(desk.service, desk["B"], reply, "en").to == ["B"]


def _conflict_templates(desk: Desk, name: str, operation_id: str) -> list[str]:
    return [
        m.body["template"]
        for m in hotline.inbox(desk.service, desk[name], "en")
        if m.body.get("template", "").startswith("conflict.")
        and m.body["params"].get("operation") == operation_id
    ]


def test_a_zone_signed_alone_binds_only_its_proposer(desk: Desk) -> None:
    # A declares a forbidden zone restricting everyone else, and signs it alone.
    _activate(desk, zone("claim", "A", square(36, 35, 36.5, 35.5)), "claim", [])
    inside = operation("op-c", "C", square(36.1, 35.1, 36.2, 35.2))
    result = filing.file_operation(desk.service, desk["C"], inside)
    assert result.accepted, result
    assert [(c["kind"], c["b"], c["entry"]) for c in result.conflicts] == [
        ("declared_zone", "claim", "forbidden")
    ]
    # Both sides are told, over the hotline; nobody else.
    assert _conflict_templates(desk, "C", "op-c") == ["conflict.declared_zone"]
    assert _conflict_templates(desk, "A", "op-c") == ["conflict.declared_zone"]
    assert _conflict_templates(desk, "B", "op-c") == []
    [message] = [m for m in hotline.inbox(desk.service, desk["C"], "en") if m.id == result.messages[0]]
    assert "declared by A" in message.text and "op-c" in message.text
    recorded = [(c["kind"], c["a"], c["b"]) for c in desk.register.conflicts()]
    assert recorded == [("declared_zone", "op-c", "claim")]
    assert "op-c" in {o.id for o in desk.service.live().operations}


def test_a_signed_zone_refuses_its_signatories_and_declares_to_the_others(desk: Desk) -> None:
    _activate(desk, zone("z", "A", square(36, 35, 36.5, 35.5)), "z", ["B", "G"])
    inside = square(36.1, 35.1, 36.2, 35.2)

    def verdicts(service: Service, prefix: str) -> dict[str, tuple[bool, list[str]]]:
        out = {}
        for name in ("B", "C"):
            r = filing.file_operation(service, desk[name], operation(f"{prefix}-{name}", name, inside))
            out[name] = (r.accepted, [c["kind"] for c in r.conflicts if c["b"] == "z"])
        return out

    expected = {"B": (False, ["zone"]), "C": (True, ["declared_zone"])}
    assert verdicts(desk.service, "first") == expected
    # A restarted server reads who signed from its tables and gives the same verdicts ...
    assert verdicts(Service(desk.register), "restarted") == expected
    # ... and so does a second server that learns of the activation from the log.
    other = Service(desk.register)
    _activate(desk, zone("z2", "A", square(38, 35, 38.5, 35.5)), "z2", ["B"])
    inside2 = square(38.1, 35.1, 38.2, 35.2)
    b = filing.file_operation(other, desk["B"], operation("late-B", "B", inside2))
    c = filing.file_operation(other, desk["C"], operation("late-C", "C", inside2))
    assert not b.accepted and [x["kind"] for x in b.conflicts] == ["zone"]
    assert c.accepted and [x["kind"] for x in c.conflicts if x["b"] == "z2"] == ["declared_zone"]


def test_the_activation_entry_names_who_the_version_binds(desk: Desk) -> None:
    _activate(desk, zone("z", "A", square(36, 35, 36.5, 35.5)), "z", ["B"])
    with desk.register.engine.connect() as conn:
        [activated] = [e for e in desk.register.ledger.entries(conn) if e.type == "zone.activated"]
    assert activated.payload["signatories"] == ["A", "B"]
