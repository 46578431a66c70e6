"""Operations: file, update, cancel; read them as need-to-know allows; their history."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Path, Query, Request
from pydantic import ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from truceline.api.edge import STORABLE
from truceline.api.f3548 import (
    FORMAT,
    FormatName,
    OperationalIntentF3548,
    f3548_answer,
    f3548_response,
    wants_f3548,
)
from truceline.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, RefusedError
from truceline.api.responses import Number, Out
from truceline.api.security import CALLER, FILERS, PARTICIPANTS, endpoint, service_of, signed_request
from truceline.domain.zone import Entry
from truceline.io.fields import query_moment
from truceline.service import f3548, filing
from truceline.service.auth import Principal
from truceline.service.need_to_know import READER_ROLES

router = APIRouter(tags=["operations"])

OperationId = Path(min_length=1, max_length=200, pattern=STORABLE)
REFUSED = {
    409: {
        "description": "Refused: it enters a zone that forbids it (problem+json with `conflicts`); "
        "the refusal is recorded in the ledger.",
        "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    }
}
DOCUMENT = Body(
    description="A GeoJSON profile FeatureCollection of one operation, or an ASTM F3548 document "
    "(its `reference.manager`, if any, is the caller's name or `uss_manager` alias)."
)


class ConflictOut(Out):
    """A conflict record (docs/formats.md): what meets what, where and when."""

    kind: str = Field(description="operation | zone | declared_zone | ...")
    a: str = Field(description="The id of the operation filed.")
    b: str = Field(description="The id of the operation or zone it meets.")
    a_party: str | None
    b_party: str | None
    time_start: str = Field(description="RFC 3339 start of the overlap.")
    time_end: str | None = Field(description="RFC 3339 end of the overlap; null: open.")
    altitude_lower_m: Number | None
    altitude_upper_m: Number | None = Field(description="null: unlimited.")
    altitude_reference: str = Field(description="W84 | AMSL | AGL | FL: what the bands were compared in.")
    altitude_conversion: str | None = Field(
        default=None,
        description='The conversions between references the verdict took, e.g. "EGM96" or'
        ' "terrain+EGM96"; null: none (docs/formats.md, "Altitude references").',
    )
    area_m2: Number
    entry: Entry | None = Field(default=None, description="Zone conflicts only (absent otherwise).")
    priority: Literal["a", "b", "equal"] | None = Field(
        default=None,
        description="Operation conflicts only (absent otherwise): the side with the higher F3548 "
        "priority; null when either operation gives none.",
    )


class FilingOut(Out):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"operation_id": "op-7", "version": 1, "accepted": True, "conflicts": [], "messages": []}
            ]
        }
    )
    operation_id: str
    version: int
    accepted: bool
    conflicts: list[ConflictOut] = Field(description="Each told to the parties concerned.")
    messages: list[str] = Field(description="Ids of the hotline messages that told them.")


class VolumeOut(Out):
    index: int = Field(description="The volume's place in the operation.")
    shape: dict[str, Any] = Field(description="The horizontal shape record (polygon or circle).")
    altitude_lower_m: Number | None
    altitude_upper_m: Number | None = Field(description="null: unlimited.")
    altitude_reference: str = Field(description='W84 | AMSL | AGL | FL, or "LOWER/UPPER" (e.g. "AGL/AMSL").')
    time_start: str = Field(description="RFC 3339.")
    time_end: str | None = Field(description="RFC 3339; null: open.")


class OperationOut(Out):
    """An operation as the caller may see it: in full, or (``redacted``) only the volumes
    that concern it; ``state`` and ``name`` are absent when redacted."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"id": "op-7", "party": "B", "activity": "flight", "redacted": True, "volumes": []}
            ]
        }
    )
    id: str
    party: str
    activity: str
    redacted: bool
    volumes: list[VolumeOut]
    state: str | None = Field(default=None, description="Full view only.")
    name: str | None = Field(default=None, description="Full view only.")
    priority: int | None = Field(default=None, description="F3548 priority, if given (full view only).")


class OperationStepOut(Out):
    seq: int = Field(description="The step's ledger entry index.")
    step: str = Field(description="filed | updated | refused | cancelled.")
    version: int
    operation: dict[str, Any] | None = Field(description="The operation record of this step.")
    conflicts: list[ConflictOut] | None
    at: str = Field(description="RFC 3339.")


class CancelOut(Out):
    operation_id: str
    state: Literal["cancelled"]


def _outcome(result: filing.FilingResult) -> FilingOut:
    if not result.accepted:
        humanitarian = any(c.get("kind") == "humanitarian" for c in result.conflicts)
        why = "enters a zone that forbids it"
        if humanitarian:
            why = "meets a humanitarian notification set to refuse"
        raise RefusedError(
            f"operation {result.operation_id} {why}",
            result.conflicts,
            result.operation_id,
            result.version,
        )
    return FilingOut.of(result)


# An absent member stays absent (a conflict's ``entry``, a redacted operation's ``state``).
@endpoint(
    router,
    "POST",
    "/operations",
    FILERS,
    status_code=201,
    responses=REFUSED,
    response_model_exclude_unset=True,
)
async def file_operation(
    request: Request, document: dict[str, Any] | list[Any] = DOCUMENT, principal: Principal = CALLER
) -> FilingOut:
    """File an operation. Accepted (201) with any conflicts listed, each told to the parties
    concerned over the hotline; refused (409) when it enters a zone that forbids it."""
    result = await run_in_threadpool(
        filing.file_operation, service_of(request), principal, document, signed_request(request)
    )
    return _outcome(result)


@endpoint(
    router,
    "POST",
    "/operations/{operation_id}",
    FILERS,
    status_code=201,
    responses=REFUSED,
    response_model_exclude_unset=True,
    operation_id="file_operation_with_id",
)
async def file_operation_with_id(
    request: Request,
    operation_id: str = OperationId,
    document: dict[str, Any] | list[Any] = DOCUMENT,
    principal: Principal = CALLER,
) -> FilingOut:
    """File an operation under the id in the URL: for a document that carries none (a bare
    F3548 Volume4D list, OperationalIntentDetails, PutOperationalIntentReferenceParameters),
    or carries the same. Answers as `POST /operations`."""
    result = await run_in_threadpool(
        filing.file_operation,
        service_of(request),
        principal,
        document,
        signed_request(request),
        operation_id,
    )
    return _outcome(result)


OPERATIONS_AT = Query(
    None,
    max_length=64,
    description="RFC 3339 with an offset: the operations as the register knew them then (each as "
    "its version in force then), with their volumes in force then only.",
)


@endpoint(router, "GET", "/operations", READER_ROLES, response_model_exclude_unset=True)
async def list_operations(
    request: Request,
    principal: Principal = CALLER,
    at: str | None = OPERATIONS_AT,
) -> list[OperationOut]:
    """Live operations as need-to-know allows: own in full, others' concerning volumes only.
    `at`: the operations live at that moment, each as its version in force then with its
    state then (one filed later is absent, one cancelled later is shown), need-to-know
    applied to that picture, and with only the volumes in force then (an operation with none
    is left out)."""
    moment = query_moment(at, "at")
    found = await run_in_threadpool(filing.list_operations, service_of(request), principal, moment)
    return OperationOut.many(found)


@endpoint(
    router,
    "GET",
    "/operations/{operation_id}",
    READER_ROLES,
    response_model_exclude_unset=True,
    responses=f3548_response(OperationalIntentF3548, "an ASTM F3548 OperationalIntent"),
)
async def get_operation(
    request: Request,
    operation_id: str = OperationId,
    format: FormatName | None = FORMAT,
    principal: Principal = CALLER,
) -> OperationOut:
    """One operation as need-to-know allows (404 when the caller may see none of it). As
    F3548 (`?format=f3548` or `Accept: application/vnd.astm.f3548+json`): an
    OperationalIntent; 403 when the caller may see only part of it, 422 when it does not fit
    F3548 (no end time; AGL without a terrain model; docs/formats.md). A band in another
    reference than W84 is written widened outward, each such volume named in a
    `Truceline-Altitude-Conversion` header line."""
    service = service_of(request)
    if wants_f3548(request, format):
        base_url = str(request.base_url).rstrip("/")
        view = await run_in_threadpool(
            f3548.operational_intent_of, service, principal, operation_id, base_url
        )
        return f3548_answer(OperationalIntentF3548, view)  # type: ignore[return-value]
    found = await run_in_threadpool(filing.get_operation, service, principal, operation_id)
    return OperationOut.of(found)


@endpoint(
    router, "PUT", "/operations/{operation_id}", FILERS, responses=REFUSED, response_model_exclude_unset=True
)
async def update_operation(
    request: Request,
    operation_id: str = OperationId,
    document: dict[str, Any] | list[Any] = DOCUMENT,
    principal: Principal = CALLER,
) -> FilingOut:
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
) -> CancelOut:
    """Cancel the caller's operation (its history is kept)."""
    answer = await run_in_threadpool(
        filing.cancel_operation, service_of(request), principal, operation_id, signed_request(request)
    )
    return CancelOut.of(answer)


@endpoint(
    router,
    "GET",
    "/operations/{operation_id}/history",
    PARTICIPANTS,
    operation_id="get_operation_history",
    response_model_exclude_unset=True,
)
async def history(
    request: Request, operation_id: str = OperationId, principal: Principal = CALLER
) -> list[OperationStepOut]:
    """Every step of an operation: filed, updated, refused, cancelled (its own party, or admin)."""
    full = principal.role.value == "admin"
    steps = await run_in_threadpool(filing.history, service_of(request), principal, operation_id, full)
    return OperationStepOut.many(steps)
