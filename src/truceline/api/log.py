"""The ledger for auditors: signed tree heads, entries and proofs (RFC 9162), verifiable
offline with `truceline log verify` or a few lines of any language."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from truceline.api.security import LOG_READERS, endpoint, service_of
from truceline.errors import ValidationError
from truceline.ledger.proofs import ConsistencyProof, InclusionProof

router = APIRouter(tags=["log"])
MAX_ENTRIES = 1000


@endpoint(router, "GET", "/log/sth", LOG_READERS)
async def sth(request: Request) -> dict[str, Any]:
    """A signed tree head of the whole log now (as `sth.json` of `truceline log export`)."""
    service = service_of(request)
    head = await run_in_threadpool(service.register.tree_head)
    return head.to_json()


@endpoint(router, "GET", "/log/entries", LOG_READERS)
async def entries(
    request: Request,
    start: int = Query(0, ge=0, le=2**53),
    stop: int | None = Query(None, ge=0, le=2**53, description=f"Exclusive; at most {MAX_ENTRIES} entries."),
) -> dict[str, Any]:
    """Entries [start, stop) as their canonical JSON text (each is a Merkle leaf input)."""
    service = service_of(request)

    def read() -> dict[str, Any]:
        with service.read() as conn:
            size = service.ledger.size(conn)
            end = min(size, stop if stop is not None else start + MAX_ENTRIES, start + MAX_ENTRIES)
            if start > size:
                raise ValidationError(f"{start} is past the end of the log ({size})", field="start")
            items = [
                e.canonical.decode("utf-8") for e in service.ledger.entries(conn, start, max(start, end))
            ]
            return {"tree_size": size, "start": start, "entries": items}

    return await run_in_threadpool(read)


@endpoint(router, "GET", "/log/proof/inclusion", LOG_READERS)
async def inclusion(
    request: Request, index: int = Query(ge=0, le=2**53), size: int = Query(ge=1, le=2**53)
) -> dict[str, Any]:
    """The inclusion proof of entry `index` in the tree of `size` entries."""
    service = service_of(request)

    def read() -> dict[str, Any]:
        if index >= size:
            raise ValidationError(f"index {index} must be below size {size}", field="index")
        with service.read() as conn:
            proof = service.ledger.inclusion_proof(conn, index, size)
            leaf = service.ledger.entry(conn, index).leaf_hash
        bundle = InclusionProof(leaf_index=index, tree_size=size, leaf_hash=leaf, inclusion_path=tuple(proof))
        return bundle.to_json()

    return await run_in_threadpool(read)


@endpoint(router, "GET", "/log/proof/consistency", LOG_READERS)
async def consistency(
    request: Request, first: int = Query(ge=1, le=2**53), second: int = Query(ge=1, le=2**53)
) -> dict[str, Any]:
    """The consistency proof between the trees of `first` and `second` entries."""
    service = service_of(request)

    def read() -> dict[str, Any]:
        if first > second:
            raise ValidationError(f"first ({first}) must not exceed second ({second})", field="first")
        with service.read() as conn:
            proof = service.ledger.consistency_proof(conn, first, second)
        bundle = ConsistencyProof(tree_size_1=first, tree_size_2=second, consistency_path=tuple(proof))
        return bundle.to_json()

    return await run_in_threadpool(read)
