"""The ledger for auditors: signed tree heads, entries and proofs (RFC 9162), verifiable
offline with `truceline log verify` or a few lines of any language."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request
from starlette.concurrency import run_in_threadpool

from truceline.api.security import LOG_READERS, endpoint, service_of
from truceline.service import log

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
    found = await run_in_threadpool(log.page, service_of(request), start, stop, MAX_ENTRIES)
    return {"tree_size": found.tree_size, "start": found.start, "entries": found.entries}


@endpoint(router, "GET", "/log/proof/inclusion", LOG_READERS)
async def inclusion(
    request: Request, index: int = Query(ge=0, le=2**53), size: int = Query(ge=1, le=2**53)
) -> dict[str, Any]:
    """The inclusion proof of entry `index` in the tree of `size` entries."""
    found = await run_in_threadpool(log.inclusion, service_of(request), index, size)
    return found.to_json()


@endpoint(router, "GET", "/log/proof/consistency", LOG_READERS)
async def consistency(
    request: Request, first: int = Query(ge=1, le=2**53), second: int = Query(ge=1, le=2**53)
) -> dict[str, Any]:
    """The consistency proof between the trees of `first` and `second` entries."""
    found = await run_in_threadpool(log.consistency, service_of(request), first, second)
    return found.to_json()
