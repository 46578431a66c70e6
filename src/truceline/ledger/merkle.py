"""RFC 9162 section 2.1 Merkle tree: hashing, tree shape, proof generation and verification.

Pure code: no I/O. The tree is described by *perfect subtrees*: the node ``(level, index)``
covers leaves ``[index * 2**level, (index + 1) * 2**level)``. Every hash the RFC's
recursive definitions need (MTH of a subtree, the entries of an audit path or a
consistency proof) is the right fold, with ``node_hash``, of a short list of perfect
subtrees, so a store that keeps the hash of every perfect subtree answers any root or
proof with O(log n) lookups and no rehashing. Generation is therefore split in two:
``*_ranges`` say which leaf ranges a proof needs, ``range_nodes`` which perfect subtrees
make each range, and ``fold`` hashes them once the caller has fetched them.

Verification follows RFC 9162 sections 2.1.3.2 and 2.1.4.2 step by step; the preconditions
and edge cases (empty trees, equal sizes) follow transparency-dev/merkle's ``proof``
package, whose published test vectors we pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from truceline.errors import ValidationError, VerificationError

HASH_SIZE = 32
LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
# MTH({}) = SHA-256(), the root of the empty tree (RFC 9162 section 2.1.1).
EMPTY_ROOT = hashlib.sha256(b"").digest()

Node = tuple[int, int]
"""A perfect subtree ``(level, index)``: leaves ``[index << level, (index + 1) << level)``."""


class RootMismatchError(VerificationError):
    """A recomputed root differs from the expected one; carries both."""

    def __init__(self, message: str, *, expected: bytes, computed: bytes, field: str = "root_hash"):
        super().__init__(
            f"{message}: expected {expected.hex() or '(empty)'}, computed {computed.hex() or '(empty)'}",
            field=field,
        )
        self.expected = expected
        self.computed = computed


def leaf_hash(entry: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


def split_point(n: int) -> int:
    """The largest power of two strictly smaller than ``n``. Requires n >= 2."""
    if n < 2:
        raise ValueError(f"split_point requires n >= 2, got {n}")
    return 1 << ((n - 1).bit_length() - 1)


# --- tree shape -------------------------------------------------------------------------


def range_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees that make up the leaf range ``[start, end)``, left to right.

    Requires 0 <= start < end, and ``[start, end)`` to be a subtree of the RFC tree of
    some size (always true for the ranges ``*_ranges`` return: every such range is either
    perfect, or ends at the tree size and starts at a multiple of its largest part). For
    those ranges the sizes strictly decrease, and ``fold`` of their hashes is MTH(range).
    """
    if not 0 <= start < end:
        raise ValueError(f"range_nodes requires 0 <= start < end, got [{start}, {end})")
    nodes: list[Node] = []
    while start < end:
        # Largest aligned power of two that starts at `start` and fits before `end`.
        level = (end - start).bit_length() - 1
        while start & ((1 << level) - 1):
            level -= 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """Right fold with node_hash: h0, h1, h2 -> node(h0, node(h1, h2)). Requires len >= 1."""
    if not hashes:
        raise ValueError("fold requires at least one hash")
    result = hashes[-1]
    for h in reversed(hashes[:-1]):
        result = node_hash(h, result)
    return result


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form PATH(index, D[size]) (RFC 9162 2.1.3.1), leaf to root.

    Requires 0 <= index < size.
    """
    if not 0 <= index < size:
        raise ValidationError(f"requires 0 <= index < size, got index {index}, size {size}", field="index")
    siblings: list[tuple[int, int]] = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = split_point(hi - lo)
        if index < lo + k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo += k
    siblings.reverse()
    return siblings


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """Leaf ranges whose MTHs form PROOF(size1, D[size2]) (RFC 9162 2.1.4.1), in proof order.

    Requires 0 < size1 <= size2; the proof for size1 == size2 is empty.
    """
    if not 0 < size1 <= size2:
        raise ValidationError(f"requires 0 < size1 <= size2, got size1 {size1}, size2 {size2}", field="size1")
    if size1 == size2:
        return []
    # SUBPROOF(m, D[lo:hi], b) unrolled: siblings are collected top-down, then reversed.
    siblings: list[tuple[int, int]] = []
    lo, hi, m, complete = 0, size2, size1, True
    while m != hi - lo:
        k = split_point(hi - lo)
        if m <= k:
            siblings.append((lo + k, hi))
            hi = lo + k
        else:
            siblings.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    siblings.reverse()
    # SUBPROOF(m, D[m], false) = {MTH(D[m])}; with b still true the old root is known.
    return siblings if complete else [(lo, hi), *siblings]


NodeFetcher = Callable[[Sequence[Node]], Mapping[Node, bytes]]
"""Returns the hash of each requested perfect subtree (one batched read in a store)."""


def hash_ranges(ranges: Sequence[tuple[int, int]], fetch: NodeFetcher) -> list[bytes]:
    """MTH of each range, from one call to ``fetch`` for all the perfect subtrees needed."""
    per_range = [range_nodes(lo, hi) for lo, hi in ranges]
    wanted = sorted({node for nodes in per_range for node in nodes})
    found = fetch(wanted) if wanted else {}
    missing = [node for node in wanted if node not in found]
    if missing:
        raise VerificationError(f"tree store lacks the subtree hashes {missing[:5]}", field="nodes")
    return [fold([found[node] for node in nodes]) for nodes in per_range]


def root_from_nodes(size: int, fetch: NodeFetcher) -> bytes:
    """MTH(D[0:size]) from stored perfect subtrees. Requires size >= 0."""
    if size < 0:
        raise ValidationError(f"requires size >= 0, got {size}", field="size")
    if size == 0:
        return EMPTY_ROOT
    return hash_ranges([(0, size)], fetch)[0]


# --- building from leaves -----------------------------------------------------------------


class CompactRange:
    """The perfect subtrees covering ``[0, size)`` (at most log2(size) + 1 of them).

    Appending a leaf merges equal-sized neighbours, so an append is O(log n) hashes and
    reports every perfect subtree it completes (what a store writes). The root is the
    right fold of the covering.
    """

    def __init__(self, size: int = 0, hashes: Sequence[bytes] = ()):
        """Resume from the covering of ``[0, size)``: ``hashes`` in ``range_nodes(0, size)`` order."""
        nodes = range_nodes(0, size) if size else []
        if len(nodes) != len(hashes):
            raise ValidationError(
                f"a covering of size {size} has {len(nodes)} subtrees, got {len(hashes)}", field="hashes"
            )
        self.size = size
        self._stack: list[tuple[int, int, bytes]] = [
            (level, index, h) for (level, index), h in zip(nodes, hashes, strict=True)
        ]

    def append(self, leaf: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf hash; returns the new perfect subtrees (level, index, hash), leaf first."""
        created = [(0, self.size, leaf)]
        level, index, h = created[0]
        while self._stack and self._stack[-1][0] == level:
            _, left_index, left = self._stack.pop()
            level, index, h = level + 1, left_index >> 1, node_hash(left, h)
            created.append((level, index, h))
        self._stack.append((level, index, h))
        self.size += 1
        return created

    def root(self) -> bytes:
        return fold([h for _, _, h in self._stack]) if self._stack else EMPTY_ROOT

    def copy(self) -> CompactRange:
        """An independent copy (to go back to, should later appends be undone)."""
        other = CompactRange.__new__(CompactRange)
        other.size, other._stack = self.size, list(self._stack)
        return other


def root_from_leaves(leaf_hashes: Iterable[bytes]) -> bytes:
    """MTH of the given leaf hashes, streaming, in O(log n) memory."""
    compact = CompactRange()
    for leaf in leaf_hashes:
        compact.append(leaf)
    return compact.root()


class MemoryTree:
    """Leaf hashes held in memory; perfect subtree hashes computed on demand and cached.

    For offline verification (the export holds entries, not nodes) and for tests.
    """

    def __init__(self, leaf_hashes: Iterable[bytes] = ()):
        self.leaves = list(leaf_hashes)
        self._cache: dict[Node, bytes] = {}

    def perfect(self, node: Node) -> bytes:
        """Hash of a perfect subtree. Requires it to lie within the leaves."""
        level, index = node
        if level == 0:
            return self.leaves[index]
        if node not in self._cache:
            left = self.perfect((level - 1, 2 * index))
            right = self.perfect((level - 1, 2 * index + 1))
            self._cache[node] = node_hash(left, right)
        return self._cache[node]

    def fetch(self, nodes: Sequence[Node]) -> dict[Node, bytes]:
        return {node: self.perfect(node) for node in nodes}

    def root(self, size: int | None = None) -> bytes:
        """MTH(D[0:size]). Requires 0 <= size <= len(leaves)."""
        size = len(self.leaves) if size is None else size
        _check_size(size, len(self.leaves))
        return root_from_nodes(size, self.fetch)

    def inclusion_proof(self, index: int, size: int) -> list[bytes]:
        """Requires 0 <= index < size <= len(leaves)."""
        _check_size(size, len(self.leaves))
        return hash_ranges(inclusion_ranges(index, size), self.fetch)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        """Requires 0 < size1 <= size2 <= len(leaves)."""
        _check_size(size2, len(self.leaves))
        return hash_ranges(consistency_ranges(size1, size2), self.fetch)


def _check_size(size: int, tree_size: int) -> None:
    if not 0 <= size <= tree_size:
        raise ValidationError(f"requires 0 <= size <= {tree_size} (the tree size), got {size}", field="size")


# --- verification (RFC 9162 2.1.3.2 and 2.1.4.2) -----------------------------------------


def root_from_inclusion_proof(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes:
    """The root implied by an audit path (RFC 9162 2.1.3.2 steps 1-4).

    Requires 0 <= index < size, a 32-byte leaf hash and proof hashes, and a proof of exactly
    the length the tree shape implies; raises VerificationError naming the failed one.
    """
    if not 0 <= index < size:
        raise VerificationError(f"requires 0 <= index < size, got index {index}, size {size}", field="index")
    if len(leaf) != HASH_SIZE:
        raise VerificationError(f"leaf hash has {len(leaf)} bytes, want {HASH_SIZE}", field="leaf_hash")
    _check_proof_hashes(proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise VerificationError(
                f"proof has {len(proof)} hashes, more than a tree of size {size} needs", field="proof"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise VerificationError(
            f"proof has {len(proof)} hashes, fewer than a tree of size {size} needs", field="proof"
        )
    return r


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes) -> None:
    """Check that ``leaf`` is leaf ``index`` of the tree of ``size`` with ``root``.

    Requires 0 <= index < size. Raises VerificationError (RootMismatchError with both roots
    when the path leads elsewhere).
    """
    computed = root_from_inclusion_proof(leaf, index, size, proof)
    if computed != root:
        raise RootMismatchError("inclusion proof leads to another root", expected=root, computed=computed)


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Check that the tree of ``size2`` with ``root2`` extends the tree of ``size1`` with ``root1``.

    Requires 0 < size1 <= size2 (a consistency check against the empty tree proves
    nothing, so it is refused, as the published vectors expect). For equal sizes the
    proof must be empty and the roots equal. Raises VerificationError naming the fault;
    RootMismatchError carries both roots.
    """
    if size1 <= 0:
        raise VerificationError(f"requires 0 < size1, got size1 {size1}", field="size1")
    if size2 < size1:
        raise VerificationError(f"requires size1 <= size2, got {size1} > {size2}", field="size2")
    if size1 == size2:
        if proof:
            raise VerificationError("requires an empty proof when size1 == size2", field="proof")
        if root1 != root2:
            raise RootMismatchError("equal sizes but different roots", expected=root1, computed=root2)
        return
    # RFC 9162 2.1.4.2, step 1.
    if not proof:
        raise VerificationError("requires a non-empty proof when size1 < size2", field="proof")
    _check_proof_hashes(proof)
    for name, root in (("root1", root1), ("root2", root2)):
        if len(root) != HASH_SIZE:
            raise VerificationError(f"has {len(root)} bytes, want {HASH_SIZE}", field=name)
    path = list(proof)
    # Step 2: when size1 is a power of two the old root is itself a node of the new tree.
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    # Steps 3-4.
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    # Steps 5-6.
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise VerificationError(
                f"proof has {len(proof)} hashes, more than sizes {size1}, {size2} need", field="proof"
            )
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    # Step 7.
    if sn != 0:
        raise VerificationError(
            f"proof has {len(proof)} hashes, fewer than sizes {size1}, {size2} need", field="proof"
        )
    if fr != root1:
        raise RootMismatchError(
            "proof does not lead to the old root", expected=root1, computed=fr, field="root1"
        )
    if sr != root2:
        raise RootMismatchError(
            "proof does not lead to the new root", expected=root2, computed=sr, field="root2"
        )


def _check_proof_hashes(proof: Sequence[bytes]) -> None:
    for i, p in enumerate(proof):
        if len(p) != HASH_SIZE:
            raise VerificationError(f"has {len(p)} bytes, want {HASH_SIZE}", field=f"proof[{i}]")
