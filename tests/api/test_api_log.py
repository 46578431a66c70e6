"""The log endpoints for auditors: a signed tree head, entries, and proofs that verify
offline with the RFC 9162 functions."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_kit import World, sqlite_url

from truceline.ledger.canonical import b64decode
from truceline.ledger.merkle import leaf_hash, root_from_leaves, verify_consistency, verify_inclusion
from truceline.ledger.sth import SignedTreeHead


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("auditor", "auditor")
    for name in ("A", "B", "C"):
        w.add(name)
    w.client.post("/messages", json={"to": ["B"], "text": "hello", "language": "en"}, headers=w.auth("A"))
    yield w
    w.close()


def test_log_endpoints_verify(world: World) -> None:
    auth = world.auth("auditor")
    head = SignedTreeHead.from_json(world.client.get("/log/sth", headers=auth).json())
    head.verify()
    assert head.tree_size == 5
    listed = world.client.get("/log/entries?start=0", headers=auth).json()
    leaves = [leaf_hash(text.encode("utf-8")) for text in listed["entries"]]
    assert len(leaves) == listed["tree_size"] == 5
    assert root_from_leaves(leaves) == head.root_hash
    for index in range(5):
        proof = world.client.get(f"/log/proof/inclusion?index={index}&size=5", headers=auth).json()
        assert b64decode(proof["leaf_hash"], field="leaf_hash") == leaves[index]
        path = [b64decode(h, field="p") for h in proof["inclusion_path"]]
        verify_inclusion(leaves[index], index, 5, path, head.root_hash)
        assert (proof["leaf_index"], proof["tree_size"]) == (index, 5)
    older = root_from_leaves(leaves[:2])
    proof = world.client.get("/log/proof/consistency?first=2&second=5", headers=auth).json()
    assert (proof["tree_size_1"], proof["tree_size_2"]) == (2, 5)
    path = [b64decode(h, field="p") for h in proof["consistency_path"]]
    verify_consistency(2, 5, path, older, head.root_hash)
    assert (
        world.client.get("/log/entries?start=3&stop=4", headers=auth).json()["entries"]
        == listed["entries"][3:4]
    )
    bad = world.client.get("/log/proof/inclusion?index=5&size=5", headers=auth)
    assert bad.status_code == 422 and bad.json()["field"] == "index"
    assert world.client.get("/log/entries?start=9", headers=auth).status_code == 422
