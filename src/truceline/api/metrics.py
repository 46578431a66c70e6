"""``GET /metrics``: the server's metrics in the Prometheus text format (prometheus-client).

Each app has a registry of its own (tests make many apps in one process; the library's
global registry would refuse the second app's metrics as duplicates). What is measured:

- requests, by method, route *template* (``/zones/{zone_id}``, never the raw path: one
  series per route, not per zone id) and status; their latency per route; in progress;
- the ledger: its size (read from the database at each scrape, so a commit by another
  process on the database is counted), the commands and the entries per commit (the group
  commit's batch sizes), the entries committed by type;
- open event streams; escalations fired, by the priority reached, and deliveries declared
  never acknowledged;
- the process (CPU, memory, open files), the Python runtime and the garbage collector, and
  the version (``truceline_build_info``).

The commits and escalations come through the service's observer protocol
(service/events.py): the service does not import prometheus.

Who may read it: anyone who can reach the port, without a token, as /health. The labels
hold no party, message or zone id, no name and no text: route templates, methods,
statuses, entry types and priorities only (test_api_metrics checks that no party id
shows); a scraper then needs no bearer token to be provisioned and rotated. A server
exposed beyond its cell's network should keep /metrics off the public side (a proxy rule).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info, disable_created_metrics
from prometheus_client.exposition import choose_encoder, generate_latest
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from truceline import __version__
from truceline.api.security import ERRORS
from truceline.bus.workers import WorkersView
from truceline.service import log as log_reader
from truceline.service.events import Commit, Escalation, EscalationKind
from truceline.service.partition import N_SHARDS
from truceline.service.service import Service

METRICS_PATH = "/metrics"
PLAIN_TEXT = "text/plain; version=0.0.4; charset=utf-8"  # what a scraper gets without Accept
OPENMETRICS = "application/openmetrics-text; version=1.0.0; charset=utf-8"
UNMATCHED = "<unmatched>"  # the route label of a request no route matched (a 404)

# Request latency buckets (seconds): a read takes ~1 ms, a filing ~10-100 ms, an import more.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Commands per transaction: the group commit takes at most service.MAX_BATCH (64).
_COMMAND_BUCKETS = (1, 2, 4, 8, 16, 32, 64)
# Entries per transaction: one command writes one or a few; an import writes thousands.
_ENTRY_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024, 4096, 16384)

# No ``*_created`` series beside each counter and histogram: they double the scrape, and
# Prometheus reads a counter's resets from the process start time it gets anyway.
disable_created_metrics()
_log = logging.getLogger("truceline.api")


class Metrics:
    """The metrics of one app, in a registry of its own; an ``Observer`` of its service."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "truceline_http_requests", "HTTP requests answered.", ("method", "route", "status"), registry=r
        )
        self.latency = Histogram(
            "truceline_http_request_duration_seconds",
            "Time from a request's arrival to the end of its answer (an event stream: its life).",
            ("method", "route"),
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.in_progress = Gauge(
            "truceline_http_requests_in_progress", "Requests being answered now.", registry=r
        )
        self.ledger_entries = Gauge(
            "truceline_ledger_entries", "Entries in the log (its tree size), read at the scrape.", registry=r
        )
        self.commit_commands = Histogram(
            "truceline_ledger_commit_commands",
            "Commands written per ledger transaction (group commit batch size).",
            buckets=_COMMAND_BUCKETS,
            registry=r,
        )
        self.commit_entries = Histogram(
            "truceline_ledger_commit_entries",
            "Entries appended per ledger transaction.",
            buckets=_ENTRY_BUCKETS,
            registry=r,
        )
        self.entries_committed = Counter(
            "truceline_ledger_entries_committed",
            "Entries committed by this process, by entry type.",
            ("type",),
            registry=r,
        )
        self.streams = Gauge("truceline_streams_open", "Event streams (GET /stream) open now.", registry=r)
        self.escalations = Counter(
            "truceline_escalations",
            "Deliveries escalated for want of an acknowledgement, by the priority reached.",
            ("priority",),
            registry=r,
        )
        self.unacknowledged = Counter(
            "truceline_messages_unacknowledged",
            "Deliveries declared never acknowledged after their last escalation.",
            registry=r,
        )
        # The workers sharing the scan (bus/workers.py), read from their buckets at the scrape.
        # Labelled by worker name: an operator's process name, not a party's.
        self.worker_pending = Gauge("truceline_worker_pending_messages",
                                    "Messages of the TRACKS stream not yet delivered to the worker.",
                                    ("worker",), registry=r)
        self.worker_behind = Gauge("truceline_worker_behind_seconds",
                                   "How far the worker's last scan is behind the newest report.", ("worker",),
                                   registry=r)
        self.worker_shards = Gauge("truceline_worker_shards", "Lease shards the worker holds.", ("worker",),
                                   registry=r)
        self.worker_alive = Gauge("truceline_worker_alive", "1 while the worker's heartbeat is fresh.",
                                  ("worker",), registry=r)
        self.shards_unowned = Gauge("truceline_shards_unowned",
                                    "Lease shards with no live owner: detection there is not running.",
                                    registry=r)
        self._series: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        Info("truceline_build", "The running version.", registry=r).info({"version": __version__})
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)

    def request_series(self, method: str, route: str, status: int) -> tuple[Counter, Histogram]:
        """The request counter and latency histogram of one (method, route, status): looked
        up once, then kept (``labels`` checks and locks on every call; the set is bounded
        by the routes, methods and statuses the app has)."""
        key = (method, route, status)
        series = self._series.get(key)
        if series is None:
            series = (self.requests.labels(method, route, str(status)), self.latency.labels(method, route))
            self._series[key] = series
        return series

    # --- the service's observer (service/events.py) ----------------------------------------

    def committed(self, commit: Commit) -> None:
        self.commit_commands.observe(commit.commands)
        self.commit_entries.observe(commit.entries)
        for entry_type, count in commit.entry_types.items():
            self.entries_committed.labels(entry_type).inc(count)

    def escalated(self, escalation: Escalation) -> None:
        if escalation.kind is EscalationKind.ESCALATED:
            self.escalations.labels(escalation.priority or "").inc()
        else:
            self.unacknowledged.inc()

    def set_workers(self, view: WorkersView) -> None:
        """The workers' gauges from ``view`` (a worker gone from the bucket drops out)."""
        for gauge in (self.worker_pending, self.worker_behind, self.worker_shards, self.worker_alive):
            gauge.clear()
        held = {lease.shard for lease in view.leases if lease.expires_s >= view.read_at_s}
        for w in view.workers:
            self.worker_pending.labels(w.name).set(w.pending)
            self.worker_behind.labels(w.name).set(w.behind_s if w.behind_s is not None else float("nan"))
            self.worker_shards.labels(w.name).set(sum(1 for lease in view.leases if lease.owner == w.name
                                                      and lease.shard in held))
            self.worker_alive.labels(w.name).set(1.0 if w.alive(view.read_at_s) else 0.0)
        self.shards_unowned.set(N_SHARDS - len(held))

    # --- the scrape --------------------------------------------------------------------------

    def render(self, accept: str | None) -> tuple[bytes, str]:
        """The exposition in the format ``accept`` prefers (OpenMetrics or the text format),
        and its media type. Reads the log's size first (a database read: call off the loop)."""
        self.ledger_entries.set(log_reader.size(self.service))
        try:
            encode, media_type = choose_encoder(accept or "")
        except (ValueError, TypeError):  # an Accept whose version is no number: the plain format
            encode, media_type = generate_latest, PLAIN_TEXT
        return encode(self.registry), media_type


class MetricsMiddleware:
    """ASGI middleware, outermost, so a 405 or a 413 is counted too. Pure ASGI: event
    streams pass through unbuffered. The route label is the template of the route that
    answered (the router writes it into the scope), read once the answer is done."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app raises before it answers, the server answers 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.metrics.in_progress.inc()
        try:
            await self.app(scope, receive, send_status)
        finally:
            self.metrics.in_progress.dec()
            route = getattr(scope.get("route"), "path", None) or UNMATCHED
            count, latency = self.metrics.request_series(scope["method"], route, status)
            count.inc()
            latency.observe(time.perf_counter() - started)


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": (
            "The metrics in the Prometheus text format, or OpenMetrics when Accept asks for "
            "`application/openmetrics-text`."
        ),
        "content": {
            "text/plain": {"schema": {"type": "string"}},
            "application/openmetrics-text": {"schema": {"type": "string"}},
        },
    },
    405: ERRORS[405],
    413: ERRORS[413],
}


def install_metrics(app: FastAPI, service: Service) -> Metrics:
    """Measure ``app`` (call after its other middleware: this one must be outermost) and
    serve ``GET /metrics``; the metrics observe ``service``'s commits and escalations."""
    metrics = Metrics(service)
    service.observers.add(metrics)
    app.state.metrics = metrics
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.get(
        METRICS_PATH,
        tags=["health"],
        summary="The server's metrics, Prometheus text format (no token needed).",
        response_class=Response,
        responses=_RESPONSES,
    )
    async def get_metrics(request: Request) -> Response:
        reader = getattr(request.app.state, "workers", None)
        if reader is not None:
            try:
                metrics.set_workers(await reader.refresh())
            except Exception:  # NATS away: the other metrics still answer
                _log.warning("workers' buckets not read for /metrics", exc_info=True)
        body, media_type = await run_in_threadpool(metrics.render, request.headers.get("accept"))
        return Response(body, media_type=media_type)

    return metrics
