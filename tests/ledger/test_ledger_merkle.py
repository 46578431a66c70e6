"""Merkle tree properties against a naive RFC 9162 implementation written here from the RFC."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_testkit import NOW

from truceline.errors import ValidationError, VerificationError
from truceline.ledger import EntryDraft
from truceline.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    MemoryTree,
    RootMismatchError,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)


def naive_mth(leaves: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1, straight from the definition (inputs are entry bytes)."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return hashlib.sha256(b"\x00" + leaves[0]).digest()
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + naive_mth(leaves[:k]) + naive_mth(leaves[k:])).digest()


def data(n: int) -> list[bytes]:
    return [f"entry {i}".encode() for i in range(n)]


def flip(blob: bytes, bit: int) -> bytes:
    bit %= len(blob) * 8
    return blob[: bit // 8] + bytes([blob[bit // 8] ^ (1 << (bit % 8))]) + blob[bit // 8 + 1 :]


def test_known_roots():
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    # RFC 6962 reference tree of 8 leaves (the CT test inputs), root from the CT test suite.
    leaves = [
        bytes.fromhex(h)
        for h in (
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        )
    ]
    root = MemoryTree([leaf_hash(x) for x in leaves]).root()
    assert root.hex() == "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 300), data_=st.data())
def test_every_proof_verifies_against_naive_root(size: int, data_: st.DataObject):
    entries = data(size)
    tree = MemoryTree([leaf_hash(e) for e in entries])
    root = naive_mth(entries)
    assert tree.root() == root
    index = data_.draw(st.integers(0, size - 1), label="index")
    verify_inclusion(leaf_hash(entries[index]), index, size, tree.inclusion_proof(index, size), root)
    size1 = data_.draw(st.integers(1, size), label="size1")
    proof = tree.consistency_proof(size1, size)
    verify_consistency(size1, size, proof, naive_mth(entries[:size1]), root)


def test_all_proofs_small_trees():
    for size in range(1, 34):
        entries = data(size)
        tree = MemoryTree([leaf_hash(e) for e in entries])
        root = naive_mth(entries)
        for index in range(size):
            verify_inclusion(leaf_hash(entries[index]), index, size, tree.inclusion_proof(index, size), root)
        for size1 in range(1, size + 1):
            proof = tree.consistency_proof(size1, size)
            verify_consistency(size1, size, proof, naive_mth(entries[:size1]), root)


@settings(max_examples=80, deadline=None)
@given(size=st.integers(2, 200), data_=st.data())
def test_flipped_bit_fails_inclusion(size: int, data_: st.DataObject):
    entries = data(size)
    tree = MemoryTree([leaf_hash(e) for e in entries])
    root = tree.root()
    index = data_.draw(st.integers(0, size - 1), label="index")
    leaf = leaf_hash(entries[index])
    proof = tree.inclusion_proof(index, size)
    where = data_.draw(st.sampled_from(["leaf", "root", "proof"]), label="where")
    bit = data_.draw(st.integers(0, 255), label="bit")
    if where == "leaf":
        leaf = flip(leaf, bit)
    elif where == "root":
        root = flip(root, bit)
    else:
        i = data_.draw(st.integers(0, len(proof) - 1), label="proof index")
        proof[i] = flip(proof[i], bit)
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, index, size, proof, root)


@settings(max_examples=80, deadline=None)
@given(size2=st.integers(2, 200), data_=st.data())
def test_flipped_bit_fails_consistency(size2: int, data_: st.DataObject):
    entries = data(size2)
    tree = MemoryTree([leaf_hash(e) for e in entries])
    size1 = data_.draw(st.integers(1, size2 - 1), label="size1")
    root1, root2 = tree.root(size1), tree.root(size2)
    proof = tree.consistency_proof(size1, size2)
    where = data_.draw(st.sampled_from(["root1", "root2", "proof"]), label="where")
    bit = data_.draw(st.integers(0, 255), label="bit")
    if where == "root1":
        root1 = flip(root1, bit)
    elif where == "root2":
        root2 = flip(root2, bit)
    else:
        i = data_.draw(st.integers(0, len(proof) - 1), label="proof index")
        proof[i] = flip(proof[i], bit)
    with pytest.raises(VerificationError):
        verify_consistency(size1, size2, proof, root1, root2)


def test_wrong_index_or_size_fails():
    entries = data(11)
    tree = MemoryTree([leaf_hash(e) for e in entries])
    proof = tree.inclusion_proof(5, 11)
    verify_inclusion(leaf_hash(entries[5]), 5, 11, proof, tree.root())
    # A size with the same path shape (9..16 for index 5) cannot be told apart by the
    # verifier: the root is what pins the size. Sizes of another shape must fail.
    for index, size in ((4, 11), (6, 11), (11, 11), (5, 8), (5, 17), (5, 5)):
        with pytest.raises(VerificationError):
            verify_inclusion(leaf_hash(entries[5]), index, size, proof, tree.root())


def test_mismatch_error_carries_both_roots():
    tree = MemoryTree([leaf_hash(e) for e in data(5)])
    wrong = bytes(32)
    with pytest.raises(RootMismatchError) as caught:
        verify_inclusion(tree.leaves[2], 2, 5, tree.inclusion_proof(2, 5), wrong)
    assert caught.value.expected == wrong and caught.value.computed == tree.root()


def test_generation_preconditions_are_named():
    tree = MemoryTree([leaf_hash(e) for e in data(4)])
    with pytest.raises(ValidationError, match="requires 0 <= index < size"):
        tree.inclusion_proof(4, 4)
    with pytest.raises(ValidationError, match="requires 0 < size1 <= size2"):
        tree.consistency_proof(0, 4)
    with pytest.raises(ValidationError, match="requires 0 < size1 <= size2"):
        tree.consistency_proof(3, 2)


def test_compact_range_reports_every_perfect_subtree():
    compact = CompactRange()
    created: set[tuple[int, int]] = set()
    for i in range(37):
        created |= {(level, index) for level, index, _ in compact.append(leaf_hash(b"%d" % i))}
    expected = {(level, index) for level in range(6) for index in range(37 >> level)}
    assert created == expected


def test_stored_subtrees_give_naive_root_at_every_size(ledger):
    """Root and proofs from the database's stored subtree hashes equal the naive ones, sizes 1..N."""
    n = 70
    with ledger.engine.begin() as conn:
        # Batches of varying length, so appends resume from stored frontiers of every shape.
        sizes, i = [], 0
        while i < n:
            batch = min(1 + i % 5, n - i)
            ledger.append(conn, [EntryDraft("test.added", "system", {"i": i + j}) for j in range(batch)], NOW)
            i += batch
            sizes.append(i)
    with ledger.engine.connect() as conn:
        entries = [e.canonical for e in ledger.entries(conn)]
        assert len(entries) == n
        assert ledger.root(conn) == naive_mth(entries)
        for size in range(0, n + 1):
            root = naive_mth(entries[:size])
            assert ledger.root(conn, size) == root, size
            if size:
                index = (size * 7) % size
                proof = ledger.inclusion_proof(conn, index, size)
                verify_inclusion(leaf_hash(entries[index]), index, size, proof, root)
                size1 = 1 + (size * 5) % size
                verify_consistency(
                    size1, size, ledger.consistency_proof(conn, size1, size), naive_mth(entries[:size1]), root
                )
        assert ledger.verify(conn) == n
