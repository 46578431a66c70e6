"""The ledger for auditors: signed tree heads, entries and proofs (RFC 9162), verifiable
offline with `truceline log verify` or a few lines of any language."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.responses import Out
from truceline.api.security import LOG_READERS, endpoint, service_of
from truceline.errors import ValidationError
from truceline.ledger.canonical import b64encode

router = APIRouter(tags=["log"])
MAX_ENTRIES = 1000
_B64 = "Base64 of the 32 bytes."


class TreeHeadOut(Out):
    """A signed tree head (RFC 9162 style; docs/ledger.md says what is signed)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "tree_size": 42,
                    "root_hash": "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
                    "timestamp": 1767225600000,
                    "public_key": "MCowBQYDK2VwAyEA…",
                    "signature": "…",
                }
            ]
        }
    )
    tree_size: int
    root_hash: str = Field(description=_B64)
    timestamp: int = Field(description="Milliseconds since the epoch.")
    public_key: str = Field(description="Base64 of the log's Ed25519 public key.")
    signature: str = Field(description="Base64 Ed25519 signature of the tree head.")


class EntriesOut(Out):
    tree_size: int
    start: int
    entries: list[str] = Field(description="Each entry's canonical JSON text (a Merkle leaf input).")


class InclusionOut(Out):
    index: int
    tree_size: int
    leaf_hash: str = Field(description=_B64)
    proof: list[str] = Field(description="The audit path, each hash base64.")


class ConsistencyOut(Out):
    first: int
    second: int
    proof: list[str] = Field(description="The consistency proof, each hash base64.")


@endpoint(router, "GET", "/log/sth", LOG_READERS, operation_id="get_tree_head")
async def sth(request: Request) -> TreeHeadOut:
    """A signed tree head of the whole log now (as `sth.json` of `truceline log export`)."""
    service = service_of(request)
    head = await run_in_threadpool(service.register.tree_head)
    return TreeHeadOut.of(head.to_json())


@endpoint(router, "GET", "/log/entries", LOG_READERS, operation_id="list_log_entries")
async def entries(
    request: Request,
    start: int = Query(0, ge=0, le=2**53),
    stop: int | None = Query(None, ge=0, le=2**53, description=f"Exclusive; at most {MAX_ENTRIES} entries."),
) -> EntriesOut:
    """Entries [start, stop) as their canonical JSON text (each is a Merkle leaf input)."""
    service = service_of(request)

    def read() -> EntriesOut:
        with service.read() as conn:
            size = service.ledger.size(conn)
            end = min(size, stop if stop is not None else start + MAX_ENTRIES, start + MAX_ENTRIES)
            if start > size:
                raise ValidationError(f"{start} is past the end of the log ({size})", field="start")
            items = [
                e.canonical.decode("utf-8") for e in service.ledger.entries(conn, start, max(start, end))
            ]
            return EntriesOut(tree_size=size, start=start, entries=items)

    return await run_in_threadpool(read)


@endpoint(router, "GET", "/log/proof/inclusion", LOG_READERS, operation_id="get_inclusion_proof")
async def inclusion(
    request: Request, index: int = Query(ge=0, le=2**53), size: int = Query(ge=1, le=2**53)
) -> InclusionOut:
    """The inclusion proof of entry `index` in the tree of `size` entries."""
    service = service_of(request)

    def read() -> InclusionOut:
        if index >= size:
            raise ValidationError(f"index {index} must be below size {size}", field="index")
        with service.read() as conn:
            proof = service.ledger.inclusion_proof(conn, index, size)
            leaf = service.ledger.entry(conn, index).leaf_hash
        return InclusionOut(
            index=index, tree_size=size, leaf_hash=b64encode(leaf), proof=[b64encode(h) for h in proof]
        )

    return await run_in_threadpool(read)


@endpoint(router, "GET", "/log/proof/consistency", LOG_READERS, operation_id="get_consistency_proof")
async def consistency(
    request: Request, first: int = Query(ge=1, le=2**53), second: int = Query(ge=1, le=2**53)
) -> ConsistencyOut:
    """The consistency proof between the trees of `first` and `second` entries."""
    service = service_of(request)

    def read() -> ConsistencyOut:
        if first > second:
            raise ValidationError(f"first ({first}) must not exceed second ({second})", field="first")
        with service.read() as conn:
            proof = service.ledger.consistency_proof(conn, first, second)
        return ConsistencyOut(first=first, second=second, proof=[b64encode(h) for h in proof])

    return await run_in_threadpool(read)
