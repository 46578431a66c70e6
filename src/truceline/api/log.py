"""The ledger for auditors: signed tree heads, entries and proofs (RFC 9162), verifiable
offline with `truceline log verify` or a few lines of any language."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.responses import Out
from truceline.api.security import LOG_READERS, endpoint, service_of
from truceline.service import log

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
    """An inclusion proof bundle (``truceline.ledger.proofs.InclusionProof``, RFC 9162 names;
    docs/ledger.md "Proof bundles")."""

    leaf_index: int
    tree_size: int
    leaf_hash: str = Field(description=_B64)
    inclusion_path: list[str] = Field(description="The audit path, leaf to root, each hash base64.")


class ConsistencyOut(Out):
    """A consistency proof bundle (``truceline.ledger.proofs.ConsistencyProof``)."""

    tree_size_1: int
    tree_size_2: int
    consistency_path: list[str] = Field(description="The consistency proof, each hash base64.")


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
    found = await run_in_threadpool(log.page, service_of(request), start, stop, MAX_ENTRIES)
    return EntriesOut.of(found)


@endpoint(router, "GET", "/log/proof/inclusion", LOG_READERS, operation_id="get_inclusion_proof")
async def inclusion(
    request: Request, index: int = Query(ge=0, le=2**53), size: int = Query(ge=1, le=2**53)
) -> InclusionOut:
    """The inclusion proof of entry `index` in the tree of `size` entries."""
    found = await run_in_threadpool(log.inclusion, service_of(request), index, size)
    return InclusionOut.of(found.to_json())


@endpoint(router, "GET", "/log/proof/consistency", LOG_READERS, operation_id="get_consistency_proof")
async def consistency(
    request: Request, first: int = Query(ge=1, le=2**53), second: int = Query(ge=1, le=2**53)
) -> ConsistencyOut:
    """The consistency proof between the trees of `first` and `second` entries."""
    found = await run_in_threadpool(log.consistency, service_of(request), first, second)
    return ConsistencyOut.of(found.to_json())
