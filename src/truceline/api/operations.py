"""Operations: file, update, cancel; read them as need-to-know allows; their history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Path, Request
from starlette.concurrency import run_in_threadpool

from truceline.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, RefusedError
from truceline.api.security import CALLER, FILERS, PARTICIPANTS, endpoint, service_of, signed_request
from truceline.service import filing
from truceline.service.auth import Principal
from truceline.service.need_to_know import READER_ROLES

router = APIRouter(tags=["operations"])

OperationId = Path(min_length=1, max_length=200)
REFUSED = {
    409: {
        "description": "Refused: it enters a zone that forbids it (problem+json with `conflicts`); "
        "the refusal is recorded in the ledger.",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    }
}
DOCUMENT = Body(
    description="A GeoJSON profile FeatureCollection of one operation, or an ASTM F3548 document."
)


def _outcome(result: filing.FilingResult) -> dict[str, Any]:
    if not result.accepted:
        raise RefusedError(
            f"operation {result.operation_id} enters a zone that forbids it",
            result.conflicts,
            result.operation_id,
            result.version,
        )
    return result.to_json()


@endpoint(router, "POST", "/operations", FILERS, status_code=201, responses=REFUSED)
async def file_operation(
    request: Request, document: dict[str, Any] | list[Any] = DOCUMENT, principal: Principal = CALLER
) -> dict[str, Any]:
    """File an operation. Accepted (201) with any conflicts listed, each told to the parties
    concerned over the hotline; refused (409) when it enters a zone that forbids it."""
    result = await run_in_threadpool(
        filing.file_operation, service_of(request), principal, document, signed_request(request)
    )
    return _outcome(result)


@endpoint(router, "GET", "/operations", READER_ROLES)
async def list_operations(request: Request, principal: Principal = CALLER) -> list[dict[str, Any]]:
    """Live operations as need-to-know allows: own in full, others' concerning volumes only."""
    return await run_in_threadpool(filing.list_operations, service_of(request), principal)


@endpoint(router, "GET", "/operations/{operation_id}", READER_ROLES)
async def get_operation(
    request: Request, operation_id: str = OperationId, principal: Principal = CALLER
) -> dict[str, Any]:
    """One operation as need-to-know allows (404 when the caller may see none of it)."""
    return await run_in_threadpool(filing.get_operation, service_of(request), principal, operation_id)


@endpoint(router, "PUT", "/operations/{operation_id}", FILERS, responses=REFUSED)
async def update_operation(
    request: Request,
    operation_id: str = OperationId,
    document: dict[str, Any] | list[Any] = DOCUMENT,
    principal: Principal = CALLER,
) -> dict[str, Any]:
    """A new version of the caller's operation, checked again (a refusal keeps the old one)."""
    result = await run_in_threadpool(
        filing.update_operation,
        service_of(request),
        principal,
        operation_id,
        document,
        signed_request(request),
    )
    return _outcome(result)


@endpoint(router, "POST", "/operations/{operation_id}/cancel", FILERS)
async def cancel_operation(
    request: Request, operation_id: str = OperationId, principal: Principal = CALLER
) -> dict[str, Any]:
    """Cancel the caller's operation (its history is kept)."""
    return await run_in_threadpool(
        filing.cancel_operation, service_of(request), principal, operation_id, signed_request(request)
    )


@endpoint(router, "GET", "/operations/{operation_id}/history", PARTICIPANTS)
async def history(
    request: Request, operation_id: str = OperationId, principal: Principal = CALLER
) -> list[dict[str, Any]]:
    """Every step of an operation: filed, updated, refused, cancelled (its own party, or admin)."""
    full = principal.role.value == "admin"
    return await run_in_threadpool(filing.history, service_of(request), principal, operation_id, full)
