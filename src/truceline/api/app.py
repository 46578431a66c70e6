"""The ASGI application: ``create_app(register_or_service, clock=...)``.

Tests run it in-process (fastapi TestClient or httpx's ASGI transport); ``truceline serve``
runs it under uvicorn. A background task calls ``escalation.tick`` every
``tick_interval_s`` with the injected clock (None: no task; tests tick by hand), and another
scans the live tracks every ``scan_interval_s`` (``live_detection``; None: no task, tests call
``app.state.live.tick``), each in a worker thread, off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from truceline.api import (
    alerts,
    docs,
    incidents,
    log,
    messages,
    notifications,
    operations,
    parties,
    problems,
    stream,
    tracks,
    web,
    workers,
    zones,
)
from truceline.api import picture as picture_routes  # `picture` is the TrackPicture below
from truceline.api.access_log import AccessLog
from truceline.api.idempotency import IdempotencyMiddleware, document_header
from truceline.api.metrics import install_metrics
from truceline.api.responses import HealthOut
from truceline.api.security import ERRORS, route_operation_id
from truceline.bus.notify import Notifier
from truceline.bus.schedule import fixed_rate
from truceline.config import IncidentSettings, ScanClock, load_incident_settings
from truceline.domain.notification import LeadTimes
from truceline.service import escalation
from truceline.service import log as log_reader
from truceline.service.live_detection import LiveDetection, LiveSettings
from truceline.service.register import Register
from truceline.service.replay_clock import RecordingPicture
from truceline.service.service import Service
from truceline.service.tracks import TrackPicture

_log = logging.getLogger("truceline.api")

API_VERSION = "1"
CHECKPOINT_INTERVAL_S = 1.0


def create_app(
    register_or_service: Register | Service,
    clock: Callable[[], datetime] | None = None,
    *,
    tick_interval_s: float | None = 1.0,
    keepalive_s: float = stream.KEEPALIVE_S,
    bus_url: str | None = None,
    incident_settings: IncidentSettings | None = None,
    notice_leads: LeadTimes | None = None,
    scan_interval_s: float | None = None,
    track_max_age_s: float = 60.0,
    live_settings: LiveSettings | None = None,
    scan_clock: ScanClock = ScanClock.WALL,
    workers_group: str | None = None,
) -> FastAPI:
    """The API over one register. ``clock`` drives deadlines and expiry (default: the
    register's clock); requests themselves are stamped by the register's clock.
    ``bus_url`` (``nats://host:4222``) links the live streams of several server processes;
    None or ``inprocess`` keeps them in this process. ``incident_settings``: how near a
    report must be to suggest corroboration (default: the environment's, config.py).
    ``notice_leads``: the lead times of humanitarian movements (config.py's; default 48 h
    and 24 h). With NATS the server also takes parties'
    tracks from JetStream (``bus.tracks``). ``scan_interval_s``: continuous detection's period
    (None: none in the background); ``track_max_age_s``: a silent track's time in the picture.
    ``scan_clock``: TRACKS makes a replay server (``service.replay_clock``): the picture follows
    its reports' time and is scanned only by ``POST /picture/scan``, so no background scan.
    ``workers_group``: with NATS, the group of ``truceline worker`` processes that ``GET /workers``
    and ``/metrics`` show (default ``default``)."""
    service = (
        register_or_service if isinstance(register_or_service, Service) else Service(register_or_service)
    )
    tick_clock = clock or service.clock
    notifier = Notifier()
    service.subscribers.append(notifier.publish)

    recording = scan_clock is ScanClock.TRACKS
    picture = (RecordingPicture if recording else TrackPicture)(max_age_s=track_max_age_s)
    if recording:
        scan_interval_s = None  # the feeder steps the scan (service/replay_clock.py)
    live = LiveDetection(service, picture, live_settings)

    bridge = None
    feed = None
    workers_reader = None
    if bus_url and bus_url.startswith("nats://"):
        from truceline.bus.nats import NatsBridge
        from truceline.bus.tracks import TrackFeed
        from truceline.bus.workers import DEFAULT_GROUP, WorkersReader

        workers_reader = WorkersReader(bus_url, workers_group or DEFAULT_GROUP)

        bridge = NatsBridge(bus_url, notifier)
        service.subscribers.append(bridge.publish)
        feed = TrackFeed(bus_url, service, picture)  # stamped as HTTP batches are: the register's clock

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if bridge is not None:
            await bridge.start()
        if feed is not None:
            await feed.start()
        if workers_reader is not None:
            await workers_reader.start()
        task = asyncio.create_task(_ticker(service, tick_clock, tick_interval_s)) if tick_interval_s else None
        scans = asyncio.create_task(_scanner(live, tick_clock, scan_interval_s)) if scan_interval_s else None
        checkpoints = (
            asyncio.create_task(_checkpointer(service, CHECKPOINT_INTERVAL_S))
            if service.defer_checkpoints()
            else None
        )
        try:
            yield
        finally:
            if feed is not None:
                await feed.stop()
            if workers_reader is not None:
                await workers_reader.stop()
            if bridge is not None:
                await bridge.stop()
            for background in (task, scans, checkpoints):
                if background is not None:
                    background.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await background
            notifier.publish()  # wake open streams so they notice the shutdown

    app = FastAPI(
        title="Truceline",
        version=API_VERSION,
        description=(
            "A shared, tamper-evident deconfliction register: parties, negotiated zones, filed "
            "operations and the hotline. Every error is RFC 9457 application/problem+json. "
            "See docs/api.md."
        ),
        lifespan=lifespan,
        openapi_url="/openapi.json",
        docs_url=None,  # api/docs.py serves /docs from the package, not from a CDN
        redoc_url=None,
        generate_unique_id_function=route_operation_id,
    )
    app.state.service = service
    app.state.notifier = notifier
    app.state.picture = picture
    app.state.live = live
    app.state.track_feed = feed
    app.state.workers = workers_reader
    app.state.keepalive_s = keepalive_s
    app.state.incident_settings = incident_settings or load_incident_settings()
    app.state.stopping = False  # set by stream.stop_streams: the server is shutting down
    app.state.notice_leads = notice_leads
    # Inside the body limit that ``problems.install`` adds (the last added runs first).
    app.add_middleware(IdempotencyMiddleware, service=service)
    problems.install(app)
    app.add_middleware(AccessLog)  # a refused body or a 405 is logged too
    install_metrics(app, service)  # GET /metrics, and every answer counted
    # Outermost: a stream ticket is taken out of the URL before the access log sees it.
    app.state.stream_tickets = stream.TicketBook()
    app.add_middleware(stream.StreamTickets, book=app.state.stream_tickets)

    @app.get(
        "/health",
        tags=["health"],
        summary="Liveness and the log size (no token needed).",
        responses={405: ERRORS[405], 413: ERRORS[413]},
    )
    async def get_health() -> HealthOut:
        return HealthOut(status="ok", tree_size=await run_in_threadpool(log_reader.size, service))

    routers = (parties, zones, operations, messages, tracks, alerts, picture_routes, stream, log, incidents,
               notifications, workers)
    for module in routers:
        app.include_router(module.router)
    docs.install(app, app.title)
    web.install(app)  # the map at /, the observer's page at /observe
    document_header(app)  # every POST's Idempotency-Key header in /openapi.json
    return app


async def _checkpointer(service: Service, interval_s: float) -> None:
    """Checkpoint the SQLite WAL every ``interval_s``, in a worker thread (the writer's
    commits no longer do it: ``Service.defer_checkpoints``)."""
    while True:
        await asyncio.sleep(interval_s)
        try:
            await run_in_threadpool(service.checkpoint)
        except Exception:  # e.g. SQLITE_BUSY: the next one catches up; it is logged
            _log.exception("WAL checkpoint failed")


async def _scanner(live: LiveDetection, clock: Callable[[], datetime], interval_s: float) -> None:
    async for _due in fixed_rate(interval_s):  # every interval, however long a scan takes
        try:
            await run_in_threadpool(live.tick, clock())
        except Exception:  # a failed scan must not stop the next one; it is logged
            _log.exception("live scan failed")


async def _ticker(service: Service, clock: Callable[[], datetime], interval_s: float) -> None:
    while True:
        await asyncio.sleep(interval_s)
        try:
            await run_in_threadpool(escalation.tick, service, clock())
        except Exception:  # a failed tick must not stop the next one; it is logged
            _log.exception("escalation tick failed")
