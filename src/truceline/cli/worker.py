"""``truceline worker``: a process that shares the continuous scan with other workers over
NATS JetStream (bus/workers.py; docs/operations.md, "Workers")."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
from typing import Annotated

import typer

from truceline.cli.common import DbOption, nats_unreachable, open_register_or_fail
from truceline.cli.rendering import err_console, fail, guarded

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # a key of the status bucket


def worker(
    bus: Annotated[
        str | None, typer.Option("--bus", help="nats://host:4222 (default: TRUCELINE_BUS).")
    ] = None,
    name: Annotated[
        str | None,
        typer.Option("--name", help="This worker's name, unique in its group (default: host-pid)."),
    ] = None,
    clock: Annotated[
        str | None,
        typer.Option("--clock", help="wall (default) or tracks: scan at the newest report's time "
                     "(replays; default: TRUCELINE_SCAN_CLOCK)."),
    ] = None,
    group: Annotated[
        str | None,
        typer.Option("--group", help="The workers sharing one set of leases (default: "
                     "TRUCELINE_WORKER_GROUP, else default)."),
    ] = None,
    db: DbOption = None,
) -> None:
    """Share the continuous scan with the other workers of the group: take a fair share of the
    cells' leases, scan the tracks of those cells and their halo from the TRACKS stream, and
    commit the alerts into the database of --db / TRUCELINE_DB."""
    from truceline.api.access_log import configure_logging
    from truceline.config import load_config, load_worker_config

    config = guarded(load_config)
    workers = guarded(load_worker_config)
    url = bus or config.bus
    if not url or not url.startswith("nats://"):
        fail("--bus / TRUCELINE_BUS: a worker needs a NATS server, nats://host:4222")
    chosen_clock = (clock or workers.clock.value).lower()
    if chosen_clock not in ("wall", "tracks"):
        fail(f"--clock: must be wall or tracks, got {clock!r}")
    chosen_group = group or workers.group
    if not _NAME.match(chosen_group):
        fail(f"--group: must be 1 to 64 letters, digits, _ or -, got {chosen_group!r}")
    chosen_name = name or f"{socket.gethostname()}-{os.getpid()}".replace(".", "-")
    if not _NAME.match(chosen_name):
        fail(f"--name: must be 1 to 64 letters, digits, _ or -, got {chosen_name!r}")
    unreachable = nats_unreachable(url)  # a setting's fault: one line, before anything starts
    if unreachable is not None:
        fail(f"--bus / TRUCELINE_BUS: {unreachable}")

    configure_logging(config)

    from truceline.bus.workers import Worker
    from truceline.service.service import Service
    from truceline.service.warmup import warm_up

    service = Service(open_register_or_fail(db))
    warm_up()  # compiled kernels load now, not inside the first scan
    process = Worker(url, service, chosen_name, group=chosen_group, clock=chosen_clock,
                     scan_interval_s=config.scan_interval_s or 2.0, track_max_age_s=config.track_max_age_s)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):  # a clean stop: leases released at once
            loop.add_signal_handler(sig, process.stop)
        await process.run()

    err_console.print(f"Worker {chosen_name} in group {chosen_group} ({chosen_clock} clock) on {url}.",
                      markup=False, highlight=False)
    asyncio.run(main())
