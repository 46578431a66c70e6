"""Structured logs: one access line per request, and the server's logging set-up (which
also carries the event lines of service/events.py: one per ledger commit and escalation).

The access line (logger ``truceline.access``, level INFO) carries ``party`` (the caller's
party id, None when no token admitted one), ``method``, ``path``, ``status`` and
``duration_ms``. ``configure_logging`` sends the ``truceline`` loggers to stderr as one
JSON object a line (or text), at the level ``TRUCELINE_LOG_LEVEL`` names (config.py).
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any

from truceline.config import Config, LogFormat
from truceline.service.events import EVENT_FIELDS

ACCESS_LOGGER = "truceline.access"
ACCESS_FIELDS = ("party", "method", "path", "status", "duration_ms")
_FIELDS = tuple(dict.fromkeys((*ACCESS_FIELDS, *EVENT_FIELDS)))  # what a line may carry besides

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_access = logging.getLogger(ACCESS_LOGGER)


class AccessLog:
    """ASGI middleware, outermost, so a 413 or a 405 is timed and logged too. Pure ASGI
    (not BaseHTTPMiddleware): event streams pass through unbuffered. Nothing is built when
    INFO is off (one line per request costs the event loop; TRUCELINE_LOG_LEVEL=warning)."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not _access.isEnabledFor(logging.INFO):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app raises before it answers, the server answers 500
        # request.state writes into this dict: security.Allow puts the principal there.
        state = scope.setdefault("state", {})

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            principal = state.get("principal")
            _access.info(
                "%s %s %s",
                scope["method"],
                scope["path"],
                status,
                extra={
                    "party": getattr(principal, "id", None),
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 3),
                },
            )


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, message, the access
    and event fields when present, and the traceback of a logged exception."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in _FIELDS:
            if hasattr(record, name):
                line[name] = getattr(record, name)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure_logging(config: Config) -> logging.Handler:
    """Send the ``truceline`` loggers to stderr in ``config``'s format and level; returns
    the handler (replacing one an earlier call added)."""
    root = logging.getLogger("truceline")
    for old in [h for h in root.handlers if getattr(h, "_truceline", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler._truceline = True  # type: ignore[attr-defined]
    if config.log_format is LogFormat.JSON:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(config.log_level.upper())
    root.propagate = False  # not twice through uvicorn's or the root logger's handlers
    return handler
