"""``truceline tak``: a party's bridge from the register's picture to its TAK clients.

    truceline tak --listen 0.0.0.0:8087 --url URL --token T [--protocol xml|1] [--poll 2]

Run by a party inside its own network: every ``--poll`` seconds it reads ``GET /picture`` with
the party's token (what that party may see, need-to-know applied by the server) and serves it
as Cursor-on-Target over TCP to every ATAK/WinTAK/iTAK client that connects (a TAK "streaming
TCP" input): on connecting, a client gets the whole picture; then each poll's events, and a
TAK delete (``t-x-d-d``) for an item that left the picture (an alert closed, a zone ended, a
track no longer shown). ``--protocol xml`` writes CoT XML documents one after another (TAK's
protocol 0), ``--protocol 1`` TAK protocol v1's stream framing of protobuf ``TakMessage``s.

Why a bridge and not a listener on the server: TAK clients cannot send our bearer tokens (a TAK
server authenticates them with its own TLS client certificates), so a listener on the register
could not tell which party a connection is, and so what it may see. The bridge holds one
party's token, and its TCP port is as open as the party's network makes it.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from typing import Annotated

import typer

from truceline.cli.client import TokenOption, UrlOption


@dataclass
class TakBridge:
    """The CoT stream of one viewer's picture: ``refresh`` with a new picture (``GET
    /picture``'s JSON), broadcast to the connected clients; ``serve_client`` for each one."""

    protocol: str = "xml"
    clients: set[asyncio.StreamWriter] = field(default_factory=set)
    current: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # uid -> (type, encoded event)

    def refresh(self, document: dict[str, object]) -> list[bytes]:
        """Take a new picture; the encoded events to send (every item, and a delete for each
        item gone since the previous picture)."""
        from truceline.io.cot import Picture, delete_event, encode, picture_events

        picture = Picture.from_json(document)
        events = picture_events(picture)
        encoded = encode(events, self.protocol)
        now = {e.get("uid", ""): (e.get("type", ""), data) for e, data in zip(events, encoded, strict=True)}
        gone = [delete_event(uid, kind, picture.at_s)
                for uid, (kind, _data) in self.current.items() if uid not in now]
        self.current = now
        return [*encode(gone, self.protocol), *encoded]

    async def broadcast(self, payloads: list[bytes]) -> None:
        for writer in list(self.clients):
            try:
                writer.write(b"".join(payloads))
                await writer.drain()
            except (ConnectionError, OSError):
                self.clients.discard(writer)

    async def serve_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """A TAK client: the current picture at once, then every refresh until it leaves.
        What it sends (its own position reports) is read and dropped: the register takes
        tracks from parties' feeds, not from a map."""
        self.clients.add(writer)
        try:
            writer.write(b"".join(data for _kind, data in self.current.values()))
            await writer.drain()
            while await reader.read(65536):
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self.clients.discard(writer)
            writer.close()


async def run_bridge(host: str, port: int, url: str, token: str, protocol: str, poll_s: float,
                     ready: asyncio.Event | None = None, rounds: int | None = None) -> None:
    """Listen on ``host:port`` and poll ``url``'s picture every ``poll_s`` (``rounds`` polls,
    None: for ever). A poll that fails is one line on stderr; the next one tries again."""
    import httpx

    bridge = TakBridge(protocol)
    server = await asyncio.start_server(bridge.serve_client, host, port)
    if ready is not None:
        ready.set()
    done = 0
    async with server, httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                         timeout=30.0) as http:
        while rounds is None or done < rounds:
            try:
                response = await http.get("/picture")
                if response.status_code != 200:
                    raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
                await bridge.broadcast(bridge.refresh(response.json()))
            except (httpx.HTTPError, RuntimeError, ValueError) as error:
                print(f"truceline tak: {url}/picture: {error}", file=sys.stderr, flush=True)
            done += 1
            await asyncio.sleep(poll_s)


def tak(
    url: UrlOption,
    token: TokenOption = None,
    listen: Annotated[
        str, typer.Option("--listen", help="HOST:PORT the TAK clients connect to.")
    ] = "127.0.0.1:8087",
    protocol: Annotated[
        str, typer.Option("--protocol", help="xml (CoT XML) or 1 (TAK protocol v1).")
    ] = "xml",
    poll: Annotated[float, typer.Option("--poll", help="Seconds between two reads of the picture.")] = 2.0,
) -> None:
    """Serve your party's picture to TAK clients as Cursor-on-Target over TCP (docs/operations.md)."""
    import math

    from truceline.cli.rendering import fail

    if not token:
        fail("a token is needed: --token or TRUCELINE_TOKEN")
    if protocol not in ("xml", "1"):
        fail(f"--protocol: {protocol!r} is not xml or 1")
    if not (math.isfinite(poll) and poll > 0):
        fail(f"--poll: {poll!r} must be a positive number of seconds")
    host, _, port_text = listen.rpartition(":")
    if not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        fail(f"--listen: {listen!r} is not HOST:PORT")
    try:
        asyncio.run(run_bridge(host.strip("[]"), int(port_text), url, token, protocol, poll))
    except OSError as error:
        fail(f"--listen {listen}: {error.strerror or error}")
    except KeyboardInterrupt:
        pass
