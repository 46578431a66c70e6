"""Live delivery over Server-Sent Events, with resume from the last event id.

Each event is a row of the events table (a projection of the ledger): its id grows with
the log, so a client that reconnects with ``Last-Event-ID`` (or ``?last_event_id=``) gets
exactly what it missed. ``?once=true`` sends what is pending and ends (for scripts and
tests); otherwise the stream stays open, woken by the bus, with a comment line every
``KEEPALIVE_S`` so proxies keep it open.

The response is sse-starlette's ``EventSourceResponse``: it sends the keep-alives, stops
the stream when the client goes away, and ends every open stream (with a clean end of the
chunked body) as soon as uvicorn is told to exit, so a SIGTERM is not held up by open
streams (docs/operations.md, "Shutdown").
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Query, Request
from pydantic import Field
from sse_starlette import EventSourceResponse, ServerSentEvent
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
RETRY_MS = 2000  # how long a client waits before it reconnects
SEP = "\n"  # line ends on the wire (the SSE spec allows \n, \r\n or \r; we keep to one)
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
    response_class=EventSourceResponse,
    responses={200: {"description": "text/event-stream", "content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    last_event_id: int | None = Query(None, ge=0, le=MAX_EVENT_ID, description="Resume after this event id."),
    once: bool = Query(False, description="Send the pending events and close."),
    principal: Principal = CALLER,
) -> EventSourceResponse:
    """The caller's live events as Server-Sent Events: `message`, `escalated`, `acknowledged`, and
    live alerts `conflict.opened|updated|closed`, `incursion.*`, `nonconformance.*` (with `alert`)."""
    service = service_of(request)
    notifier = request.app.state.notifier
    streams_open = request.app.state.metrics.streams
    language = reader_language(request, principal)
    after = _start_id(request, last_event_id)
    keepalive_s = request.app.state.keepalive_s

    async def produce() -> AsyncIterator[ServerSentEvent]:
        last = after
        streams_open.inc()
        try:
            yield ServerSentEvent(retry=RETRY_MS, sep=SEP)
            while True:
                if not await still_admitted(request):
                    return  # revoked or replaced since the stream opened: reconnecting gets the 401
                generation = notifier.generation  # read before the query: a later commit wakes us
                batch = await run_in_threadpool(hotline.pending_events, service, principal, last, language)
                for event in batch:
                    yield ServerSentEvent(_data(event), id=str(event.id), event=event.kind, sep=SEP)
                    last = event.id
                if len(batch) == hotline.EVENT_BATCH:
                    continue
                if once or request.app.state.stopping:
                    return
                # Woken by a commit (or ``stop_streams``), or after ``keepalive_s`` to check
                # the token again (the keep-alive itself is the response's ping, on that beat).
                await notifier.wait(generation, keepalive_s)
                if request.app.state.stopping:
                    return
        finally:  # the end, the client's going or the server's: the generator is closed
            streams_open.dec()

    return EventSourceResponse(
        produce(),
        headers={"Cache-Control": "no-store"},
        ping=keepalive_s,
        ping_message_factory=_keepalive,
        sep=SEP,
    )


def stop_streams(app: Any) -> None:
    """End every open stream of ``app`` now, each with a clean end of its body (the server
    is stopping). sse-starlette ends them too, when it next looks at the server's exit
    flag: this is the same, sooner. Callable from any thread, and from a signal handler on
    the loop's thread: there the wake-up is scheduled on the loop, not published at once,
    because the handler may have interrupted that thread inside the notifier's lock
    (publishing would deadlock)."""
    app.state.stopping = True
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # another thread than the loop's: it cannot hold the lock now
        app.state.notifier.publish()
        return
    loop.call_soon_threadsafe(app.state.notifier.publish)


def _keepalive() -> ServerSentEvent:
    return ServerSentEvent(comment="keep-alive", sep=SEP)
