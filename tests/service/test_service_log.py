"""The log facade (service/log.py): what api and cli read of the ledger, as typed results."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from service_kit import Desk

from truceline.errors import ValidationError
from truceline.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from truceline.service import log


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:
    d = Desk(tmp_path, clock)
    for name in ("A", "B", "C"):
        d.add(name)
    yield d
    d.close()


def test_a_page_holds_the_entries_as_hashed_and_stops_at_the_end(desk: Desk) -> None:
    assert log.size(desk.service) == 3
    page = log.page(desk.service, 1, None, limit=1000)
    assert (page.tree_size, page.start) == (3, 1)
    assert [json.loads(e)["type"] for e in page.entries] == ["party.registered"] * 2
    by_stop, by_limit = log.page(desk.service, 0, 2, limit=1000), log.page(desk.service, 0, None, limit=2)
    assert by_stop.entries == by_limit.entries and len(by_stop.entries) == 2
    assert log.page(desk.service, 3, None, limit=10).entries == []
    with pytest.raises(ValidationError) as raised:
        log.page(desk.service, 4, None, limit=10)
    assert raised.value.field == "start"


def test_the_proofs_verify_against_the_roots_of_the_log(desk: Desk) -> None:
    with desk.register.engine.connect() as conn:
        roots = {n: desk.register.ledger.root(conn, n) for n in (1, 2, 3)}
    first = log.page(desk.service, 0, 1, limit=1).entries[0].encode("utf-8")
    found = log.inclusion(desk.service, 0, 3)
    assert found.leaf_hash == leaf_hash(first)
    verify_inclusion(found.leaf_hash, 0, 3, list(found.inclusion_path), roots[3])
    step = log.consistency(desk.service, 1, 3)
    verify_consistency(1, 3, list(step.consistency_path), roots[1], roots[3])
    with pytest.raises(ValidationError) as raised:
        log.inclusion(desk.service, 3, 3)
    assert raised.value.field == "index"
    with pytest.raises(ValidationError) as raised:
        log.consistency(desk.service, 3, 2)
    assert raised.value.field == "first"
