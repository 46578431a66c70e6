"""Live delivery over Server-Sent Events, with resume from the last event id.

Each event is a row of the events table (a projection of the ledger): its id grows with
the log, so a client that reconnects with ``Last-Event-ID`` (or ``?last_event_id=``) gets
exactly what it missed. ``?once=true`` sends what is pending and ends (for scripts and
tests); otherwise the stream stays open, woken by the bus, with a comment line every
``KEEPALIVE_S`` so proxies keep it open.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from truceline.api.messages import message_out
from truceline.api.responses import Out
from truceline.api.security import (
    CALLER,
    PARTICIPANTS,
    endpoint,
    reader_language,
    service_of,
    still_admitted,
)
from truceline.errors import ValidationError
from truceline.service import hotline
from truceline.service.auth import Principal

router = APIRouter(tags=["hotline"])


class AlertOut(Out):
    """A live alert in an alert event's `alert` member (docs/tactical.md, "Live detection")."""

    id: str
    kind: str = Field(description="conflict | incursion | nonconformance")
    state: str = Field(description="open | closed")
    subject: list[str] = Field(description="Track ids, and the zone or operation id.")
    parties: list[str | None] = Field(description="Names of the parties told.")
    opened_at: str
    updated_at: str
    closed_at: str | None
    latest: dict[str, Any] = Field(description="`at_s`, `data` (what the engine found), `states`.")
KEEPALIVE_S = 15.0
# Event ids are BIGINT on PostgreSQL; a larger one would overflow the query (a 500), so the
# header is held to the same bound as the query parameter.
MAX_EVENT_ID = 2**62


def _data(event: hotline.LiveEvent) -> str:
    """The JSON text of an event's SSE ``data:`` line (one line: no newline inside)."""
    data: dict[str, Any] = {"event_id": event.id, "kind": event.kind, "seq": event.seq}
    if event.message is not None:
        message = message_out(event.message)
        data["message"] = message.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if event.alert is not None:
        data["alert"] = AlertOut.of(event.alert).model_dump(mode="json")
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _start_id(request: Request, query_value: int | None) -> int:
    header = request.headers.get("last-event-id")
    if header is not None and header.strip():
        try:
            value = int(header.strip())
        except ValueError:
            raise ValidationError(
                f"must be an event id (an integer), got {header!r}", field="Last-Event-ID"
            ) from None
        if not 0 <= value <= MAX_EVENT_ID:
            raise ValidationError(
                f"must be an event id from 0 to {MAX_EVENT_ID}, got {value}", field="Last-Event-ID"
            )
        return value
    return query_value or 0


@endpoint(
    router,
    "GET",
    "/stream",
    PARTICIPANTS,
    operation_id="stream_events",
    response_class=StreamingResponse,
    responses={200: {"description": "text/event-stream", "content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    last_event_id: int | None = Query(None, ge=0, le=MAX_EVENT_ID, description="Resume after this event id."),
    once: bool = Query(False, description="Send the pending events and close."),
    principal: Principal = CALLER,
) -> StreamingResponse:
    """The caller's live events as Server-Sent Events: `message`, `escalated`, `acknowledged`, and
    live alerts `conflict.opened|updated|closed`, `incursion.*`, `nonconformance.*` (with `alert`)."""
    service = service_of(request)
    notifier = request.app.state.notifier
    language = reader_language(request, principal)
    after = _start_id(request, last_event_id)
    keepalive_s = request.app.state.keepalive_s

    async def produce() -> AsyncIterator[str]:
        last = after
        yield "retry: 2000\n\n"
        while True:
            if not await still_admitted(request):
                return  # revoked or replaced since the stream opened: reconnecting gets the 401
            generation = notifier.generation  # read before the query: a later commit wakes us
            batch = await run_in_threadpool(hotline.pending_events, service, principal, last, language)
            for event in batch:
                yield f"id: {event.id}\nevent: {event.kind}\ndata: {_data(event)}\n\n"
                last = event.id
            if len(batch) == hotline.EVENT_BATCH:
                continue
            if once or await request.is_disconnected():
                return
            if await notifier.wait(generation, keepalive_s) == generation:
                yield ": keep-alive\n\n"

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(produce(), media_type="text/event-stream", headers=headers)
