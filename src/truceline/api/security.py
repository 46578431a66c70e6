"""Who may call what: bearer tokens, roles, signed requests, and the ``endpoint`` decorator
that states the allowed roles in the OpenAPI document (``x-roles`` and the description).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from truceline.api.edge import check_request_texts
from truceline.api.problems import PROBLEM_MEDIA_TYPE, PROBLEM_SCHEMA
from truceline.domain.party import (
    ADMIN_ROLES,
    ALL_ROLES,
    FILING_ROLES,
    LOG_READER_ROLES,
    PARTICIPANT_ROLES,
    SIGNING_ROLES,
)
from truceline.errors import AuthError
from truceline.i18n import negotiate
from truceline.service.auth import Principal, require_role
from truceline.service.request_signatures import HttpRequest, check_signed_request
from truceline.service.service import Service

# Role groups (docs/api.md has the table), as domain/party.py defines them.
FILERS = FILING_ROLES
NEGOTIATORS = SIGNING_ROLES
PARTICIPANTS = PARTICIPANT_ROLES
LOG_READERS = LOG_READER_ROLES
ADMINS = ADMIN_ROLES
EVERYONE = ALL_ROLES

_bearer = HTTPBearer(
    auto_error=False, description="The party's token from `truceline party add` or POST /parties."
)
_BEARER = Depends(_bearer)
_TOKEN_HEADER = "Authorization"  # where a refused token came from (RFC 6750)
_WRITES = ("POST", "PUT", "PATCH", "DELETE")

F = TypeVar("F", bound=Callable[..., Any])


def service_of(request: Request) -> Service:
    return request.app.state.service  # type: ignore[no-any-return]


class Allow:
    """Dependency: the caller's Principal, if its role is in ``roles``; else 401/403. For a
    write by a party holding a request key, also checks its RFC 9421 signature. Every
    request's texts are checked first (``api.edge``), before the token is even looked up."""

    def __init__(self, roles: tuple[str, ...]) -> None:
        self.roles = roles

    async def __call__(
        self, request: Request, credentials: HTTPAuthorizationCredentials | None = _BEARER
    ) -> Principal:
        await check_request_texts(request)
        service = service_of(request)
        token = credentials.credentials if credentials is not None else None

        # Always through the thread pool: ``lookup`` reads the log's size first, so that a
        # token revoked by another process is refused at once (a cached answer alone could not).
        if not token:
            raise AuthError("a bearer token is required (Authorization: Bearer ...)", field=_TOKEN_HEADER)
        try:
            principal = await run_in_threadpool(service.principals.lookup, token)
        except AuthError as error:
            error.field = _TOKEN_HEADER  # the service names the token; HTTP carries it here
            raise
        require_role(principal, self.roles)
        signed = None
        if request.method in _WRITES and principal.request_key is not None:
            received = http_request(request, await request.body())
            signed = await run_in_threadpool(
                check_signed_request, service.engine, service.clock, principal, received
            )
        request.state.principal = principal
        request.state.signed_request = signed
        return principal


def http_request(request: Request, body: bytes) -> HttpRequest:
    """The request as its signer saw it: the path and query exactly as sent (``raw_path``,
    not the decoded ``path``), every header line in order."""
    scope = request.scope
    path = scope.get("raw_path") or scope["path"].encode()
    query = scope.get("query_string") or b""
    target = path.decode("latin-1") + ("?" + query.decode("latin-1") if query else "")
    # The authority is not a covered component (a proxy may change it): any valid host will do.
    host = request.headers.get("host") or "localhost"
    headers = tuple((k.decode("latin-1"), v.decode("latin-1")) for k, v in scope["headers"])
    return HttpRequest(request.method, f"{request.url.scheme}://{host}{target}", headers, body)


async def still_admitted(request: Request) -> bool:
    """Whether the bearer token of this (long-lived) request still admits the party that
    opened it: a stream opened before a revocation or a rotation must not outlive it."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        principal = await run_in_threadpool(service_of(request).principals.lookup, token.strip() or None)
    except AuthError:
        return False
    return scheme.lower() == "bearer" and principal.id == caller(request).id


def caller(request: Request) -> Principal:
    """The Principal the route's ``Allow`` dependency admitted."""
    return request.state.principal  # type: ignore[no-any-return]


CALLER = Depends(caller)  # a module-level singleton, as FastAPI parameters' defaults


def signed_request(request: Request) -> dict[str, Any] | None:
    return request.state.signed_request  # type: ignore[no-any-return]


def reader_language(request: Request, principal: Principal) -> str:
    """Accept-Language if it names one of the ten, else the party's own setting."""
    return negotiate(request.headers.get("accept-language"), principal.language)


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}}}


ERRORS = {
    401: _problem(
        "No bearer token, an unknown or revoked one, or a signed request that fails (problem+json)."
    ),
    403: _problem("The caller's role may not call this endpoint (problem+json)."),
    405: {
        **_problem("Another method than this path's (problem+json); `Allow` lists the path's methods."),
        "headers": {
            "Allow": {
                "description": "The methods of this path, e.g. `GET, POST`.",
                "schema": {"type": "string"},
            }
        },
    },
    # The body limit holds for every request, whatever its method.
    413: _problem("A body over 1 MiB (problem+json)."),
    422: _problem("Invalid input; `field` names it (problem+json)."),
}
# What a path with an id can answer besides: that id names nothing the caller may see.
NOT_FOUND = {404: _problem("No such item, or none the caller may see; `field` names the id (problem+json).")}
# What a write can answer besides (every write reads a body, if only an empty one).
WRITE_ERRORS = {
    400: _problem("A body that cannot be read (problem+json)."),
    409: _problem(
        "Conflicts with the current state, or the server holds another key than the log's "
        "(`log-key`); nothing is written (problem+json)."
    ),
    415: _problem(
        "A body in another media type than application/json; `field` is `Content-Type` (problem+json)."
    ),
}


def route_operation_id(route: APIRoute) -> str:
    """The OpenAPI operationId: the route's name (``list_zones``), not FastAPI's default
    made of the name, the path and the method (``list_zones_zones_get``)."""
    return route.name


def endpoint(
    router: APIRouter, method: str, path: str, roles: tuple[str, ...], **kwargs: Any
) -> Callable[[F], F]:
    """Declare a route that admits ``roles`` only; the roles go into its OpenAPI
    description ("Who may call") and ``x-roles`` (the refusal tests read them there). Its
    operationId is ``operation_id`` if given, else the function's name; the errors it can
    answer are documented from its method and path (``responses`` adds or overrides)."""

    def decorate(fn: F) -> F:
        kwargs.setdefault("operation_id", fn.__name__)
        doc = inspect.getdoc(fn) or ""
        kwargs.setdefault("summary", doc.splitlines()[0] if doc else None)
        kwargs.setdefault("description", f"{doc}\n\n**Who may call:** {', '.join(roles)}.")
        kwargs["openapi_extra"] = {**kwargs.get("openapi_extra", {}), "x-roles": list(roles)}
        kwargs["dependencies"] = [Depends(Allow(roles)), *kwargs.get("dependencies", [])]
        errors = {
            **ERRORS,
            **(NOT_FOUND if "{" in path else {}),
            **(WRITE_ERRORS if method.upper() in _WRITES else {}),
        }
        kwargs["responses"] = {**errors, **kwargs.get("responses", {})}
        getattr(router, method.lower())(path, **kwargs)(fn)
        return fn

    return decorate
