"""Live delivery over Server-Sent Events, with resume from the last event id.

Each event is a row of the events table (a projection of the ledger): its id grows with
the log, so a client that reconnects with ``Last-Event-ID`` (or ``?last_event_id=``) gets
exactly what it missed. ``?once=true`` sends what is pending and ends (for scripts and
tests); otherwise the stream stays open, woken by the bus, with a comment line every
``KEEPALIVE_S`` so proxies keep it open.

Browsers. ``EventSource`` cannot send an ``Authorization`` header, and a token in a URL would
land in access logs, proxies' logs and the browser's history, where it stays valid for
months. So a page first asks ``POST /stream/tickets`` (with its bearer header) for a ticket:
256 random bits, valid ``TICKET_TTL_S`` and for one connection only, held in this process's
memory. It opens ``/stream?ticket=...``; ``StreamTickets`` (an ASGI middleware, outermost)
takes the ticket out of the query before anything logs it and puts the token it stands for
into the request's ``Authorization`` header, so the route admits the caller, and checks it
again at every keep-alive, exactly as for a bearer request. A used, expired or unknown
ticket is a 401 naming ``ticket``. A reconnecting page asks for a new ticket (and resumes
with ``last_event_id``). With several server processes behind one address, a ticket must be
redeemed at the process that issued it (sticky sessions), or the page sees a 401 and asks again.

The response is sse-starlette's ``EventSourceResponse``: it sends the keep-alives, stops
the stream when the client goes away, and ends every open stream (with a clean end of the
chunked body) as soon as uvicorn is told to exit, so a SIGTERM is not held up by open
streams (docs/operations.md, "Shutdown").
"""

from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Query, Request
from pydantic import Field
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from truceline.api.messages import message_out
from truceline.api.problems import error_response
from truceline.api.responses import Out
from truceline.api.security import (
    CALLER,
    PARTICIPANTS,
    endpoint,
    reader_language,
    service_of,
    still_admitted,
)
from truceline.errors import AuthError, ValidationError
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


# --- tickets: how a browser's EventSource authenticates ------------------------------------

TICKET_TTL_S = 30.0
TICKET_PARAMETER = "ticket"
STREAM_PATH = "/stream"


class TicketBook:
    """The tickets this process issued and not yet used: ticket -> (token, expiry on the
    monotonic clock). Thread-safe; an expired ticket is dropped when any ticket is issued."""

    def __init__(self, ttl_s: float = TICKET_TTL_S) -> None:
        self.ttl_s = ttl_s
        self._held: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def issue(self, token: str) -> str:
        now = time.monotonic()
        ticket = "st_" + secrets.token_urlsafe(32)
        with self._lock:
            self._held = {k: v for k, v in self._held.items() if v[1] > now}
            self._held[ticket] = (token, now + self.ttl_s)
        return ticket

    def redeem(self, ticket: str) -> str | None:
        """The token ``ticket`` stands for, once; None if unknown, used or expired."""
        with self._lock:
            held = self._held.pop(ticket, None)
        if held is None or held[1] <= time.monotonic():
            return None
        return held[0]


class StreamTickets:
    """ASGI middleware: on ``GET /stream?ticket=...``, the ticket is taken out of the query and
    the token it stands for becomes the request's bearer header (module doc)."""

    def __init__(self, app: ASGIApp, book: TicketBook) -> None:
        self.app = app
        self.book = book

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != STREAM_PATH:
            await self.app(scope, receive, send)
            return
        pairs = parse_qsl((scope.get("query_string") or b"").decode("latin-1"), keep_blank_values=True)
        tickets = [v for k, v in pairs if k == TICKET_PARAMETER]
        if not tickets:
            await self.app(scope, receive, send)
            return
        token = self.book.redeem(tickets[0]) if len(tickets) == 1 else None
        if token is None:
            refused = AuthError(
                "is not a ticket this server issued, or it was used or expired: POST /stream/tickets "
                "for a new one",
                field=TICKET_PARAMETER,
            )
            await error_response(refused)(scope, receive, send)
            return
        rest = urlencode([(k, v) for k, v in pairs if k != TICKET_PARAMETER]).encode("latin-1")
        headers = [(k, v) for k, v in scope["headers"] if k != b"authorization"]
        headers.append((b"authorization", b"Bearer " + token.encode("latin-1")))
        await self.app({**scope, "query_string": rest, "headers": headers}, receive, send)


class TicketOut(Out):
    ticket: str = Field(description="Pass as `GET /stream?ticket=`; valid once, for `expires_in_s`.")
    expires_in_s: float


@endpoint(
    router, "POST", "/stream/tickets", PARTICIPANTS, status_code=201, operation_id="issue_stream_ticket"
)
async def issue_ticket(request: Request) -> TicketOut:
    """A one-time ticket for `GET /stream?ticket=` (a browser's EventSource sends no header)."""
    book: TicketBook = request.app.state.stream_tickets
    _, _, token = request.headers.get("authorization", "").partition(" ")
    return TicketOut(ticket=book.issue(token.strip()), expires_in_s=book.ttl_s)
