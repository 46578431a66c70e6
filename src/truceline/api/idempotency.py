"""``Idempotency-Key`` on every POST (IETF httpapi draft "The Idempotency-Key HTTP Header
Field"): observers on poor links resend, and nothing may be written twice.

The first request with a key is answered as usual and its answer (status, headers, body)
kept 24 h, per party (the bearer token's), in a table every server process shares. The same
key with the same request (method, target and body) within that time gets the kept answer,
and nothing is written; with another request, a 422; while the first is still being
answered, a 409. A 5xx is not kept, so a resend may succeed. A request whose token is not
admitted passes through untouched (its 401 is not kept).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from truceline.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA, problem
from truceline.errors import AuthError
from truceline.service import idempotency
from truceline.service.service import Service

HEADER = "idempotency-key"
HEADER_NAME = "Idempotency-Key"
MAX_KEY_LENGTH = 255
# Kept with the answer: what a client reads besides the body (not Date, not the length).
_KEPT_HEADERS = frozenset({"content-type", "location", "etag", "allow"})


@dataclass(slots=True)
class _Answer:
    status: int = 0
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytearray = field(default_factory=bytearray)


def _key_fault(key: str) -> str | None:
    """Why ``key`` is not an acceptable Idempotency-Key, or None."""
    if not key:
        return "must not be empty"
    if len(key) > MAX_KEY_LENGTH:
        return f"must be at most {MAX_KEY_LENGTH} characters, got {len(key)}"
    if not all(" " <= c <= "~" for c in key):
        return "must be printable ASCII"
    return None


class IdempotencyMiddleware:
    """ASGI middleware: see the module's docstring."""

    def __init__(self, app: ASGIApp, service: Service) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if HEADER not in headers:
            await self.app(scope, receive, send)
            return
        # The draft's value is a structured-field string ("..."); a bare token is accepted too.
        key = headers[HEADER].strip()
        if len(key) >= 2 and key[0] == key[-1] == '"':
            key = key[1:-1]
        fault = _key_fault(key)
        if fault is not None:
            refusal = problem(400, "validation", "Invalid request", f"Idempotency-Key: {fault}", HEADER_NAME)
            await refusal(scope, receive, send)
            return
        party_id = await self._party(headers.get("authorization", ""))
        if party_id is None:
            await self.app(scope, receive, send)
            return

        try:
            body, receive = await _read_body(receive)
        except HTTPException as error:  # the body limit (outside us) refused a chunked body
            await problem(error.status_code, "too-large", "Request body too large", str(error.detail))(
                scope, receive, send
            )
            return
        target = scope.get("raw_path") or scope["path"].encode()
        fingerprint = hashlib.sha256(
            b"POST\n" + target + b"?" + (scope.get("query_string") or b"") + b"\n" + body
        ).hexdigest()
        stored = await run_in_threadpool(idempotency.claim, self.service, party_id, key, fingerprint)
        if stored is not None:
            await self._answer_again(stored, fingerprint, scope, receive, send)
            return

        answer = _Answer()

        async def keeping(message: Message) -> None:
            if message["type"] == "http.response.start":
                answer.status = message["status"]
                answer.headers = [
                    (k.decode("latin-1"), v.decode("latin-1"))
                    for k, v in message.get("headers", [])
                    if k.decode("latin-1").lower() in _KEPT_HEADERS
                ]
            elif message["type"] == "http.response.body":
                answer.body += message.get("body", b"")
            await send(message)

        try:
            await self.app(scope, receive, keeping)
        finally:
            if 0 < answer.status < 500:
                await run_in_threadpool(
                    idempotency.record,
                    self.service, party_id, key, answer.status, answer.headers, bytes(answer.body),
                )  # fmt: skip
            else:
                await run_in_threadpool(idempotency.release, self.service, party_id, key)

    async def _party(self, authorization: str) -> str | None:
        """The id of the party the bearer token admits; "" without a token (the route
        decides); None for a token that admits nobody (the route answers 401)."""
        scheme, _, token = authorization.partition(" ")
        if not authorization.strip():
            return ""
        if scheme.lower() != "bearer":
            return None
        try:
            principal = await run_in_threadpool(self.service.principals.lookup, token.strip() or None)
        except AuthError:
            return None
        return principal.id

    @staticmethod
    async def _answer_again(
        stored: idempotency.StoredAnswer, fingerprint: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if stored.fingerprint != fingerprint:
            response = problem(
                422,
                "idempotency-key-reused",
                "Idempotency-Key reused",
                "this Idempotency-Key was already used with another request (method, path or body)",
                HEADER_NAME,
            )
        elif stored.status is None:
            response = problem(
                409,
                "idempotency-key-in-progress",
                "Request in progress",
                "the first request with this Idempotency-Key is still being answered; retry later",
                HEADER_NAME,
            )
        else:
            headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in stored.headers]
            headers += [
                (b"content-length", str(len(stored.body)).encode()),
                (b"idempotency-replayed", b"true"),
            ]
            await send({"type": "http.response.start", "status": stored.status, "headers": headers})
            await send({"type": "http.response.body", "body": stored.body})
            return
        await response(scope, receive, send)


async def _read_body(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it to the app again."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks), receive
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


# The header as /openapi.json gives it on every POST. The pattern is what ``_key_fault``
# accepts once the value is trimmed and unquoted: printable ASCII, no blank at either end
# (it would be trimmed away), not an empty quoted string; so a key a client makes from the
# schema is never refused.
PARAMETER: dict[str, Any] = {
    "name": HEADER_NAME,
    "in": "header",
    "required": False,
    "description": (
        "A key of the client's (a fresh UUID per logical request, the same for its resends): "
        "a resend with the same key and the same request gets the first answer again, with "
        "`Idempotency-Replayed: true`, and writes nothing. Kept 24 h per party. See "
        "docs/operations.md."
    ),
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": '^(?!""$)[!-~]([ -~]*[!-~])?$',
    },
}
REPLAYED_HEADER = {
    "Idempotency-Replayed": {
        "description": "`true` when this is the kept answer to an earlier request with the same key.",
        "schema": {"type": "string", "enum": ["true"]},
    }
}
_FAULTS = {
    "400": "or an `Idempotency-Key` that is empty, too long or not printable ASCII",
    "409": "or the first request with this `Idempotency-Key` is still being answered (retry later)",
    "422": "or an `Idempotency-Key` already used with another request (`idempotency-key-reused`)",
}


def document_header(app: FastAPI) -> None:
    """Add the ``Idempotency-Key`` header, its refusals (400, 409 and 422) and the
    ``Idempotency-Replayed`` answer header to every POST of ``app``'s OpenAPI document
    (the middleware reads the header before any route does, so no route declares it)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()
            for item in document.get("paths", {}).values():
                operation = item.get("post")
                if operation is not None:
                    _describe(operation)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _describe(operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("in") == "header" and p.get("name") == HEADER_NAME for p in parameters):
        parameters.append(dict(PARAMETER))
    responses = operation.setdefault("responses", {})
    for status, fault in _FAULTS.items():
        known = responses.get(status) or {
            "description": "Refused (problem+json).",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
        }
        # New dicts: FastAPI's document shares nested ones with the routes' declarations.
        responses[status] = {**known, "description": f"{known['description'].rstrip('.')}; {fault}."}
    for status, response in list(responses.items()):
        if status.startswith("2"):
            responses[status] = {**response, "headers": {**response.get("headers", {}), **REPLAYED_HEADER}}
