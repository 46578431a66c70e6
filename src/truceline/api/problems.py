"""RFC 9457 problem details: every error the API returns, and the request size limit.

``type`` is ``urn:truceline:problem:<slug>`` with the slug of the ``truceline.errors``
class (``validation``, ``geometry``, ``format``, ``not-found``, ``conflict``,
``unauthorized``, ``forbidden``, ...), or ``too-large``, ``method-not-allowed``,
``internal`` for what the HTTP layer itself refuses. ``field`` names the offending field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from truceline.errors import (
    AuthError,
    ConflictError,
    ForbiddenError,
    LogKeyError,
    NotFoundError,
    TrucelineError,
    ValidationError,
    VerificationError,
)

PROBLEM_TYPE = "urn:truceline:problem:"
PROBLEM_MEDIA_TYPE = "application/problem+json"
MAX_BODY_BYTES = 1024 * 1024

_log = logging.getLogger("truceline.api")

_STATUS: tuple[tuple[type[TrucelineError], int, str], ...] = (
    (NotFoundError, 404, "Not found"),
    (ConflictError, 409, "Conflict with the current state"),
    (AuthError, 401, "Unauthorized"),
    (ForbiddenError, 403, "Forbidden"),
    # The server holds another key than the log's: it refuses the write, and says why.
    (LogKeyError, 409, "The log is signed by another key"),
    (VerificationError, 422, "Does not verify"),
    (ValidationError, 422, "Invalid input"),
)

_HTTP_SLUGS = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Unauthorized"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    413: ("too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
}

_HTTP_METHODS = ("get", "put", "post", "delete", "patch")

# The problem schema, for the OpenAPI document's error responses.
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "field": {"type": ["string", "null"]},
        "where": {"type": ["string", "null"]},
        "conflicts": {"type": "array", "items": {"type": "object"}},
    },
}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "field": field,
        **extra,
    }
    if status == 401:
        headers = {**(headers or {}), "WWW-Authenticate": 'Bearer realm="truceline"'}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def error_response(error: TrucelineError, **extra: Any) -> JSONResponse:
    status, title = 500, "Internal error"
    for cls, code, text in _STATUS:
        if isinstance(error, cls):
            status, title = code, text
            break
    detail = error.message if not error.where else f"{error.where}: {error.message}"
    extra = {**extra, "where": error.where} if error.where else extra
    return problem(status, error.type_slug, title, detail, error.field, **extra)


class UnsupportedMediaType(StarletteHTTPException):
    """A request body in another media type than the route reads (415, field
    ``Content-Type``): refused rather than read as something it is not."""

    def __init__(self, content_type: str, accepted: str = "application/json") -> None:
        super().__init__(415, f"the body must be {accepted}, got {content_type!r}")


def allowed_methods(request: Request) -> str:
    """The ``Allow`` header of a 405: every method the OpenAPI document gives this path,
    whichever route holds it (the router's own 405 names none once routers are included).
    HEAD and OPTIONS are not served, so not named."""
    path = request.url.path
    methods: set[str] = set()
    paths = request.app.openapi().get("paths", {})
    if path in paths:  # a literal path is its own (/incidents/batch is no incident's id)
        return ", ".join(sorted(m.upper() for m in paths[path] if m in _HTTP_METHODS))
    for template, item in paths.items():
        if re.fullmatch(re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(template)), path):
            methods |= {m.upper() for m in item if m in _HTTP_METHODS}
    return ", ".join(sorted(methods))


class RefusedError(ConflictError):
    """A filing refused by a forbidding zone: 409 with the conflicts listed."""

    def __init__(
        self, message: str, conflicts: list[dict[str, Any]], operation_id: str, version: int
    ) -> None:
        super().__init__(message, field="operation")
        self.conflicts = conflicts
        self.operation_id = operation_id
        self.version = version


def _field_of(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "signatories", 0) -> "signatories[0]"; ("query", "start") -> "start"
    parts = list(loc)
    if parts and parts[0] in ("body", "query", "path", "header", "cookie"):
        parts = parts[1:]
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "body"


def install(app: FastAPI) -> None:
    """Register the problem+json handlers and the body size limit on ``app``."""

    @app.exception_handler(RefusedError)
    async def _refused(_request: Request, error: RefusedError) -> JSONResponse:
        return error_response(
            error, conflicts=error.conflicts, operation_id=error.operation_id, version=error.version
        )

    @app.exception_handler(TrucelineError)
    async def _truceline(_request: Request, error: TrucelineError) -> JSONResponse:
        return error_response(error)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, error: RequestValidationError) -> JSONResponse:
        errors = error.errors()
        first = errors[0] if errors else {"loc": ("body",), "msg": "invalid request"}
        field = _field_of(first.get("loc", ("body",)))
        detail = f"{field}: {first.get('msg', 'invalid')}"
        if len(errors) > 1:
            detail += f" (and {len(errors) - 1} more)"
        return problem(422, "validation", "Invalid input", detail, field)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        slug, title = _HTTP_SLUGS.get(error.status_code, ("http", "HTTP error"))
        headers = dict(error.headers or {})
        if error.status_code == 405:
            # A path outside the document (/docs and its assets) keeps the route's or the
            # static files' own Allow.
            headers["Allow"] = allowed_methods(request) or headers.get("Allow", "")
        field = "Content-Type" if error.status_code == 415 else None
        return problem(error.status_code, slug, title, str(error.detail), field, headers)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, error: Exception) -> JSONResponse:
        _log.exception("unexpected error", exc_info=error)
        return problem(500, "internal", "Internal error", "an unexpected error; it has been logged")

    app.add_middleware(BodyLimit, max_bytes=MAX_BODY_BYTES)


Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` with a 413 problem, by Content-Length when
    given and by counting otherwise (a chunked body cannot slip past)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]], max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        too_large = problem(
            413, "too-large", "Request body too large", f"the limit is {self.max_bytes} bytes"
        )
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await too_large(scope, receive, send)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    # An HTTPException passes FastAPI's body parsing untouched and becomes
                    # the 413 problem in the handler above.
                    raise StarletteHTTPException(413, f"the limit is {self.max_bytes} bytes")
            return message

        await self.app(scope, counted, send)
