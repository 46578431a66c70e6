"""The HTTP edge's text check: every string a request brings (path and query parameters,
and each key and value of a JSON body) meets ``truceline.domain.text`` before any route
reads it, so that no field, however deep or however new, can reach a database with a NUL,
a lone surrogate or a text over the documented length (a 500 on PostgreSQL, a row stored
but unreachable on SQLite). The fields with tighter rules (ids, party names) are checked
again where they are read; this one check is the floor under all of them.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.dependencies.models import Dependant

from truceline.api.problems import UnsupportedMediaType
from truceline.domain.text import MAX_ID_CHARS, MAX_TEXT_CHARS, check_text, text_fault
from truceline.errors import ValidationError

# The floor as a JSON Schema pattern, for the document's string fields: no NUL. (A lone
# surrogate cannot be written in a pattern; JSON texts and generators do not make one.)
STORABLE = r"^[^\x00]*$"
# ... and for a text that must not be blank either (a reason).
NOT_BLANK = r"^[^\x00]*[^\x00\s][^\x00]*$"


def _json_path(parent: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{parent}[{key}]"
    return f"{parent}.{key}" if parent else key


def check_json_texts(document: object, root: str = "") -> None:
    """Raise a ValidationError naming the first string of ``document`` (a parsed JSON
    value), key or value, that may not be stored. Iterative: a deeply nested body cannot
    exhaust the stack."""
    pending: list[tuple[str, object]] = [(root, document)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            check_text(value, path or "body")
        elif isinstance(value, dict):
            for key, child in reversed(list(value.items())):
                fault = text_fault(key)
                if fault is not None:
                    raise ValidationError(f"a member name {fault}", field=path or "body")
                pending.append((_json_path(path, key), child))
        elif isinstance(value, list):
            pending.extend((_json_path(path, i), child) for i, child in reversed(list(enumerate(value))))


async def check_request_texts(request: Request) -> None:
    """Check the request's path parameters (ids: at most MAX_ID_CHARS), query parameters
    and JSON body. FastAPI has already parsed the body (``request.json`` keeps it)."""
    for name, value in request.path_params.items():
        if isinstance(value, str):
            check_text(value, name, MAX_ID_CHARS)
    check_query_names(request)
    for name, value in request.query_params.multi_items():
        check_text(value, name, MAX_TEXT_CHARS)
    content_type = request.headers.get("content-type", "")
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
        if body and content_type and accepts_csv(request) and is_csv_media_type(content_type):
            return  # read by its route (``io.statevectors``), which checks every cell it keeps
        if body and content_type and not is_json_media_type(content_type):
            raise UnsupportedMediaType(content_type, "application/json or text/csv" if accepts_csv(request)
                                       else "application/json")
        if body and content_type:
            try:
                document = await request.json()
            except ValueError as error:  # a route that reads its body itself (``POST /tracks``)
                raise ValidationError(f"is not JSON: {error}", field="body") from None
            check_json_texts(document)


def is_csv_media_type(content_type: str) -> bool:
    return content_type.split(";", 1)[0].strip().lower() == "text/csv"


def accepts_csv(request: Request) -> bool:
    """Whether the route documents a ``text/csv`` body (``POST /tracks``)."""
    extra = getattr(request.scope.get("route"), "openapi_extra", None) or {}
    return "text/csv" in extra.get("requestBody", {}).get("content", {})


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


def check_query_names(request: Request) -> None:
    """Refuse a query parameter the route does not declare (422 naming it), as a body's
    unknown member is: a misspelt ``?pendng=true`` would otherwise be silently ignored and
    the caller read what it did not ask for."""
    dependant = getattr(request.scope.get("route"), "dependant", None)
    if dependant is None:
        return
    known = _query_names(dependant)
    for name in request.query_params:
        if name not in known:
            raise ValidationError("is not a query parameter of this endpoint", field=name)


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or a ``+json`` type, whatever its parameters: what FastAPI
    reads a body as JSON for. A body sent without Content-Type is read as JSON too."""
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
