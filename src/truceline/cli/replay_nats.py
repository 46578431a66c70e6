"""``truceline replay FILE --nats URL``: a recording fed over NATS JetStream, as the parties'
gateways report (docs/tactical.md, "Tracks over NATS"), to ``truceline worker`` processes on
the tracks clock.

The steps are those of ``--to`` (service/replay_feed.py: the offline replay's grid, each
party's rows of the step in time order). Each party's rows of a step are one message on
``truceline.tracks.<party id>`` (several if they exceed the server's payload limit or
``BATCH_STATES``), signed with the party's request key (``bus.tracks.publish_batch``). The
workers (``TRUCELINE_SCAN_CLOCK=tracks``) scan a step when a report of a later time arrives,
or after half a second with nothing new, so no scan call is needed; the first message of each
step is the one holding the step's newest report, so that the step before it is scanned once,
complete, and this one is not scanned before its last batch is in.

``Nats-Msg-Id`` is made from what is sent, never from a clock or a counter of the run:
``replay-<recording>-<step ms>-<party id>-<chunk>-<body>``, with the first 16 hex digits of
the SHA-256 of the recording file and of the body. A second run of the same feed, or a resend,
within the stream's duplicate window (120 s) is therefore not a second report: JetStream
answers ``duplicate`` and keeps the first; a run with other settings (another ``--max-age``,
so another first step) sends other bodies, hence other ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from truceline.cli.replay_to import BATCH_STATES  # rows a message at most, as a request of --to
from truceline.errors import FormatError, TrucelineError, ValidationError
from truceline.service.replay_feed import FeedStep

HEADROOM_BYTES = 4_096  # of NATS's max_payload, for the headers (id, signature)
_BAD_SUBJECT_TOKEN = set(".*> \t\r\n")


@dataclass(frozen=True, slots=True)
class PartyKey:
    """How one party of the recording reports: its id in the register and its request key."""

    party_id: str
    key: Ed25519PrivateKey


@dataclass(frozen=True, slots=True)
class Batch:
    """One message: the party id it goes as, its chunk number in the step, the body, its id."""

    party_id: str
    chunk: int
    body: bytes
    msg_id: str
    states: int


@dataclass(slots=True)
class NatsSummary:
    """What a feed published: steps, states, messages, and those JetStream had seen already."""

    steps: int = 0
    states: int = 0
    batches: int = 0
    duplicates: int = 0


def read_keys(path: Path) -> dict[str, PartyKey]:
    """The keys file: JSON ``{party: {"id": party id, "key": PEM file}}``, a key's path relative
    to the keys file's folder; each key read by ``api.client.load_request_key`` (PKCS#8 PEM, as
    ``openssl genpkey -algorithm ed25519`` writes). FormatError or ValidationError naming the
    file and the party otherwise."""
    from truceline.api.client import load_request_key

    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else error
        raise FormatError(f"{path}: not a JSON file of keys: {reason}", field="--keys") from None
    shape = '{party: {"id": party id, "key": PEM file}}'
    if not isinstance(document, dict) or not document:
        raise FormatError(f"{path}: must be a JSON object {shape}", field="--keys")
    keys: dict[str, PartyKey] = {}
    for party, entry in document.items():
        if not (isinstance(entry, dict) and isinstance(entry.get("id"), str) and entry["id"]
                and isinstance(entry.get("key"), str) and entry["key"]):
            raise FormatError(f"{path}: party {party!r} must be {{\"id\": party id, \"key\": PEM file}}",
                              field="--keys")
        party_id = entry["id"]
        if _BAD_SUBJECT_TOKEN & set(party_id):
            raise FormatError(f"{path}: party {party!r}: id {party_id!r} cannot be a NATS subject token "
                              "(the id of GET /me has no dot, space, * or >)", field="--keys")
        key_path = path.parent / Path(entry["key"]).expanduser()
        try:
            key = load_request_key(key_path)
        except ValidationError as error:
            raise ValidationError(f"{path}: party {party!r}: {error.message}", field="--keys") from None
        keys[party] = PartyKey(party_id, key)
    return keys


def file_digest(path: Path) -> str:
    """The first 16 hex digits of the SHA-256 of the file: the recording's part of the ids."""
    digest = hashlib.sha256()
    with path.open("rb") as data:
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


def message_id(recording: str, at_s: float, party_id: str, chunk: int, body: bytes) -> str:
    """``replay-<recording>-<step ms>-<party id>-<chunk>-<body>`` (module docstring)."""
    return (f"replay-{recording}-{round(at_s * 1000)}-{party_id}-{chunk}-"
            f"{hashlib.sha256(body).hexdigest()[:16]}")


def _bodies(rows: list[dict[str, Any]], max_bytes: int) -> list[tuple[bytes, int]]:
    """The rows as ``{"states": [...]}`` bodies of at most ``BATCH_STATES`` rows and ``max_bytes``."""
    out: list[tuple[bytes, int]] = []
    parts: list[bytes] = []
    size = 0
    for row in rows:
        part = json.dumps(row, separators=(",", ":")).encode()
        if parts and (len(parts) == BATCH_STATES or size + len(part) + 16 > max_bytes):
            out.append((b'{"states":[' + b",".join(parts) + b"]}", len(parts)))
            parts, size = [], 0
        if len(part) + 16 > max_bytes:
            raise ValidationError(f"a state of {len(part)} bytes does not fit a NATS message", field="--nats")
        parts.append(part)
        size += len(part) + 1
    if parts:
        out.append((b'{"states":[' + b",".join(parts) + b"]}", len(parts)))
    return out


def step_batches(step: FeedStep, keys: Mapping[str, PartyKey], recording: str, max_bytes: int) -> list[Batch]:
    """The messages of one step, the one holding the step's newest report first (the workers
    scan the previous step when it arrives; the others of the step are no later than it)."""
    batches: list[tuple[float, Batch]] = []
    for party, rows in step.batches.items():
        party_id = keys[party].party_id
        start = 0
        for chunk, (body, n) in enumerate(_bodies(rows, max_bytes)):
            newest = max(float(r["time"]) for r in rows[start:start + n])
            start += n
            batches.append((newest, Batch(party_id, chunk, body, message_id(recording, step.at_s, party_id,
                                                                             chunk, body), n)))
    if not batches:
        return []
    first = max(range(len(batches)), key=lambda i: (batches[i][0], -i))  # the newest; the first of ties
    ordered = [batches[first], *batches[:first], *batches[first + 1:]]
    return [batch for _newest, batch in ordered]


async def publish_steps(
    js: Any,
    steps: Iterable[FeedStep],
    keys: Mapping[str, PartyKey],
    recording: str,
    *,
    max_bytes: int,
    speed: float = 0.0,
    step_s: float = 5.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> NatsSummary:
    """Publish each step's batches (``bus.tracks.publish_batch``, each awaited for its PubAck),
    a step's parties named as in ``keys``; ``speed`` > 0 waits ``step_s / speed`` between steps."""
    from truceline.bus.tracks import publish_batch

    signer = {pk.party_id: pk.key for pk in keys.values()}
    summary = NatsSummary()
    for k, step in enumerate(steps):
        if k and speed > 0:
            await sleep(step_s / speed)
        for batch in step_batches(step, keys, recording, max_bytes):
            ack = await publish_batch(js, batch.party_id, signer[batch.party_id], batch.body, batch.msg_id)
            summary.batches += 1
            summary.states += batch.states
            summary.duplicates += bool(getattr(ack, "duplicate", False))
        summary.steps += 1
    return summary


class NatsUnavailable(TrucelineError):
    """No NATS server, or no ``TRACKS`` stream, at the URL."""

    type_slug = "nats"


async def _connect(url: str) -> Any:
    """The connection, or NatsUnavailable at once: nats-py's first connect retries without end
    when nothing listens, so the address is tried first, as ``truceline worker`` does."""
    import nats

    from truceline.cli.common import nats_unreachable

    unreachable = nats_unreachable(url)
    if unreachable is not None:
        raise NatsUnavailable(f"--nats: {unreachable}")

    async def quiet(_error: Exception) -> None:  # one line from the caller, not nats-py's tracebacks
        return None

    try:
        return await asyncio.wait_for(
            nats.connect(url, connect_timeout=5, allow_reconnect=False, max_reconnect_attempts=0,
                         error_cb=quiet), 15.0)
    except Exception as error:
        raise NatsUnavailable(f"--nats: no NATS server at {url}: {error or type(error).__name__}") from None


async def feed_nats(url: str, steps: list[FeedStep], keys: Mapping[str, PartyKey], recording: str, *,
                    speed: float, step_s: float) -> NatsSummary:
    """Connect, check that the ``TRACKS`` stream is there, publish, close."""
    from truceline.bus.tracks import STREAM, SUBJECTS

    nc = await _connect(url)
    try:
        js = nc.jetstream()
        try:
            await js.stream_info(STREAM)
        except Exception as error:
            raise NatsUnavailable(
                f"--nats: {url} has no JetStream stream {STREAM} ({error or type(error).__name__}): it takes "
                f"{SUBJECTS} once a server or `truceline worker` has run there") from None
        max_bytes = int(getattr(nc, "max_payload", 1 << 20) or 1 << 20) - HEADROOM_BYTES
        try:
            return await publish_steps(js, steps, keys, recording, max_bytes=max_bytes, speed=speed,
                                       step_s=step_s)
        except TrucelineError:
            raise
        except Exception as error:  # the connection lost, or a publish not acknowledged
            raise NatsUnavailable(f"--nats: publishing to {url} failed: {error or type(error).__name__}"
                                  ) from None
    finally:
        with contextlib.suppress(Exception):  # closing a broken connection: nothing left to say
            await asyncio.wait_for(nc.drain(), 5.0)


def run_replay_nats(states: Path, url: str, keys_file: Path | None, step_s: float, max_age_s: float,
                    speed: float, start: float | None, end: float | None) -> None:
    """The command: read the keys and the recording, publish its steps, print one summary line."""
    from truceline.cli.rendering import console, fail, guarded
    from truceline.cli.replay_to import read_recording
    from truceline.service.replay_feed import feed_steps

    if not (url.startswith("nats://") or url.startswith("tls://")):
        fail(f"--nats: {url!r} is not a NATS URL (nats://host:4222)")
    if keys_file is None:
        fail('--nats needs the parties\' keys: --keys FILE, JSON {party: {"id": party id, "key": PEM file}}')
    keys = guarded(lambda: read_keys(keys_file))
    sv = read_recording(states, step_s, max_age_s, speed, start, end)
    parties = sorted({str(p) for p in sv.rows.parties.tolist()})
    missing = [p for p in parties if p not in keys]
    if missing:
        shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
        fail(f"{keys_file}: no key for the recording's part{'y' if len(missing) == 1 else 'ies'} {shown}")
    steps = guarded(lambda: list(feed_steps(sv, step_s, max_age_s=max_age_s, start_s=start, end_s=end)))
    used = sorted({p for s in steps for p in s.batches})
    if not used:
        fail(f"{states}: no row in --start/--end to send")
    recording = guarded(lambda: file_digest(states))
    summary = guarded(lambda: asyncio.run(feed_nats(url, steps, keys, recording, speed=speed,
                                                    step_s=step_s)))
    seen = (f"{summary.duplicates} duplicate{'' if summary.duplicates == 1 else 's'}, already in the "
            "stream and not taken again" if summary.duplicates else "no duplicate")
    console.print(
        f"Published {summary.steps} steps of {step_s:g} s to {url}: {summary.states} states in "
        f"{summary.batches} batches from {len(used)} part{'y' if len(used) == 1 else 'ies'} ({seen}).",
        markup=False, highlight=False, soft_wrap=True)


__all__ = ["Batch", "NatsSummary", "PartyKey", "file_digest", "message_id", "publish_steps", "read_keys",
           "run_replay_nats", "step_batches"]
