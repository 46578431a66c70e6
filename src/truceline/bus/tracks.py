"""Tracks in over NATS JetStream, without HTTP: a party's gateway publishes batches of state
vectors on ``truceline.tracks.<party id>`` (stream ``TRACKS``); the server takes them into the
same ``TrackPicture`` as ``POST /tracks``.

The envelope (docs/tactical.md, "Tracks over NATS"):

- body: the JSON of ``POST /tracks`` (``{"states": [...]}``), or OpenSky CSV with the header
  ``Content-Type: text/csv``;
- ``Nats-Msg-Id``: required, unique per batch. JetStream drops a message whose id it has seen
  within the stream's duplicate window (``DUPLICATE_WINDOW_S``), so a gateway that resends a
  batch it got no acknowledgement for does not report it twice;
- ``Truceline-Signature``: base64 of the Ed25519 signature, by the party's request key (the
  ``request_key`` it registered; docs/api.md), over ``signed_bytes(subject, msg id, body)``:
  the subject names the party, the id ties the signature to one batch (a replay under
  another id does not verify), the body is what it reports.

The subject token is the party's id, not its name (a name may hold spaces or dots, which a
subject cannot). A message that fails (no id, an unknown, revoked or keyless party, a role that
does not report tracks, a bad signature, a body that is not a batch) is dropped (``term``:
not redelivered), counted and logged; a good one is acknowledged once its rows are taken.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.concurrency import run_in_threadpool

from truceline.domain.party import FILING_ROLES
from truceline.errors import TrucelineError
from truceline.ledger.keys import public_key_from_raw, signature_ok
from truceline.service import tracks
from truceline.service.auth import party_principal
from truceline.service.service import Service
from truceline.service.tracks import TrackPicture

STREAM = "TRACKS"
SUBJECT_PREFIX = "truceline.tracks."
SUBJECTS = SUBJECT_PREFIX + "*"
DUPLICATE_WINDOW_S = 120.0
MAX_AGE_S = 3600.0
SIGNATURE_HEADER = "Truceline-Signature"
MSG_ID_HEADER = "Nats-Msg-Id"

_log = logging.getLogger("truceline.bus.tracks")


def subject_of(party_id: str) -> str:
    return SUBJECT_PREFIX + party_id


def signed_bytes(subject: str, msg_id: str, body: bytes) -> bytes:
    """What the party signs: a label, the subject, the message id and the body."""
    return b"truceline.tracks\n" + subject.encode() + b"\n" + msg_id.encode() + b"\n" + body


def envelope_headers(subject: str, msg_id: str, body: bytes, key: Ed25519PrivateKey, csv: bool = False
                     ) -> dict[str, str]:
    """The headers of a signed batch (for a gateway, the tests and the benchmark)."""
    signature = base64.b64encode(key.sign(signed_bytes(subject, msg_id, body))).decode()
    headers = {MSG_ID_HEADER: msg_id, SIGNATURE_HEADER: signature}
    if csv:
        headers["Content-Type"] = "text/csv"
    return headers


async def ensure_stream(js: Any) -> None:
    """The ``TRACKS`` stream, with its duplicate window (kept as it is if it exists)."""
    from nats.js.api import StreamConfig

    config = StreamConfig(
        name=STREAM, subjects=[SUBJECTS], duplicate_window=DUPLICATE_WINDOW_S, max_age=MAX_AGE_S
    )
    try:
        await js.add_stream(config)
    except Exception:  # it exists with another configuration: use it as it is
        _log.info("JetStream stream %s exists; using it", STREAM)


async def publish_batch(js: Any, party_id: str, key: Ed25519PrivateKey, body: bytes, msg_id: str,
                        csv: bool = False) -> Any:
    """Publish one signed batch of ``party_id``'s tracks; returns JetStream's PubAck (its
    ``duplicate`` is true when the stream had already seen ``msg_id``)."""
    subject = subject_of(party_id)
    return await js.publish(subject, body, headers=envelope_headers(subject, msg_id, body, key, csv))


@dataclass(slots=True)
class FeedCounts:
    """What the feed has taken: messages, rows accepted and refused, messages dropped (by reason)."""

    messages: int = 0
    accepted: int = 0
    refused_rows: int = 0
    dropped: dict[str, int] = field(default_factory=dict)


class Refused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def take_message(
    service: Service, picture: TrackPicture, subject: str, headers: dict[str, str], body: bytes, now: datetime
) -> tracks.Ingested:
    """Check one message's envelope and take its rows; Refused saying why it is dropped.
    (Blocking: it reads the party from the database; the consumer runs it in a thread.)"""
    msg_id = headers.get(MSG_ID_HEADER, "")
    if not msg_id:
        raise Refused("no Nats-Msg-Id")
    if not subject.startswith(SUBJECT_PREFIX) or subject.count(".") != 2:
        raise Refused(f"subject {subject!r} is not truceline.tracks.<party id>")
    party_id = subject.removeprefix(SUBJECT_PREFIX)
    with service.read() as conn:
        principal = party_principal(conn, party_id)
    if principal is None:
        raise Refused(f"no such party {party_id!r}, or revoked")
    if principal.role.value not in FILING_ROLES:
        raise Refused(f"role {principal.role.value!r} does not report tracks")
    if principal.request_key is None:
        raise Refused(f"party {principal.name!r} has no request key to sign with")
    try:
        signature = base64.b64decode(headers.get(SIGNATURE_HEADER, ""), validate=True)
        key = public_key_from_raw(base64.b64decode(principal.request_key))
        good = signature_ok(key, signature, signed_bytes(subject, msg_id, body))
    except ValueError:
        good = False
    if not good:
        raise Refused("the signature does not verify with the party's request key")
    try:
        if headers.get("Content-Type", "").split(";")[0].strip().lower() == "text/csv":
            return tracks.submit_csv(picture, principal, body, now)
        document = json.loads(body)
        if not isinstance(document, dict) or not isinstance(document.get("states"), list):
            raise Refused('the body is not {"states": [...]}')
        return tracks.submit_json(picture, principal, document["states"], now)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refused("the body is not JSON") from None
    except TrucelineError as error:
        raise Refused(f"{error.field}: {error.message}") from None


class TrackFeed:
    """The server's consumer of ``TRACKS``: every message into the picture (see the module)."""

    def __init__(self, url: str, service: Service, picture: TrackPicture,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.url = url
        self.service = service
        self.picture = picture
        self.clock = clock or service.clock
        self.counts = FeedCounts()
        self._nc: Any = None

    async def start(self) -> None:
        import nats
        from nats.js.api import DeliverPolicy

        self._nc = await nats.connect(self.url, connect_timeout=5, max_reconnect_attempts=-1)
        js = self._nc.jetstream()
        await ensure_stream(js)
        # Only what is published from now on: older positions are stale by the time a server starts.
        await js.subscribe(SUBJECTS, stream=STREAM, cb=self._received, manual_ack=True,
                           deliver_policy=DeliverPolicy.NEW)

    async def _received(self, message: Any) -> None:
        headers = dict(message.headers or {})
        try:
            result = await run_in_threadpool(
                take_message, self.service, self.picture, message.subject, headers, message.data, self.clock()
            )
        except Refused as refused:
            self.counts.dropped[refused.reason] = self.counts.dropped.get(refused.reason, 0) + 1
            _log.warning("track message dropped (%s): %s", message.subject, refused.reason)
            with contextlib.suppress(Exception):
                await message.term()
            return
        self.counts.messages += 1
        self.counts.accepted += result.accepted
        self.counts.refused_rows += len(result.refused)
        await message.ack()

    async def stop(self) -> None:
        if self._nc is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._nc.drain(), 5.0)
            self._nc = None
