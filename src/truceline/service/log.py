"""The log for its readers: its size, pages of entries, inclusion and consistency proofs.

The api and the cli read the ledger through these, never through ``service.ledger`` and a
connection of their own: each call is one read of one committed state of the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from truceline.errors import ValidationError
from truceline.ledger.proofs import ConsistencyProof, InclusionProof
from truceline.service.service import Service


@dataclass(frozen=True, slots=True)
class LogPage:
    """Entries [start, start + len(entries)) of a log of ``tree_size`` entries, each as its
    canonical JSON text (the Merkle leaf input)."""

    tree_size: int
    start: int
    entries: list[str]


def size(service: Service) -> int:
    """The number of entries committed now."""
    with service.read() as conn:
        return service.ledger.size(conn)


def page(service: Service, start: int, stop: int | None, limit: int) -> LogPage:
    """Entries from ``start`` to ``stop`` (exclusive; None: as many as ``limit``), at most
    ``limit`` of them and never past the end. Requires ``start`` <= the log's size, else a
    ValidationError naming ``start``."""
    with service.read() as conn:
        tree_size = service.ledger.size(conn)
        if start > tree_size:
            raise ValidationError(f"{start} is past the end of the log ({tree_size})", field="start")
        end = min(tree_size, stop if stop is not None else start + limit, start + limit)
        items = [e.canonical.decode("utf-8") for e in service.ledger.entries(conn, start, max(start, end))]
    return LogPage(tree_size, start, items)


def inclusion(service: Service, index: int, tree_size: int) -> InclusionProof:
    """The inclusion proof of entry ``index`` in the tree of ``tree_size`` entries. Requires
    ``index`` < ``tree_size``, else a ValidationError naming ``index``."""
    if index >= tree_size:
        raise ValidationError(f"index {index} must be below size {tree_size}", field="index")
    with service.read() as conn:
        proof = service.ledger.inclusion_proof(conn, index, tree_size)
        leaf = service.ledger.entry(conn, index).leaf_hash
    return InclusionProof(leaf_index=index, tree_size=tree_size, leaf_hash=leaf, inclusion_path=tuple(proof))


def consistency(service: Service, first: int, second: int) -> ConsistencyProof:
    """The consistency proof between the trees of ``first`` and ``second`` entries. Requires
    ``first`` <= ``second``, else a ValidationError naming ``first``."""
    if first > second:
        raise ValidationError(f"first ({first}) must not exceed second ({second})", field="first")
    with service.read() as conn:
        proof = service.ledger.consistency_proof(conn, first, second)
    return ConsistencyProof(tree_size_1=first, tree_size_2=second, consistency_path=tuple(proof))
