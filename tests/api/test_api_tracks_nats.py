"""Tracks over NATS JetStream into a running server's picture (the real NATS server on
127.0.0.1:4222; skipped when it is not running, except on CI): a signed batch is taken once,
its resend with the same Nats-Msg-Id is dropped by JetStream's duplicate window, and a batch
that is not signed by the party's request key is not taken at all."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from pathlib import Path

import pytest
from api_kit import World, running_server, sqlite_url
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from test_api_nats import NATS_URL, _reachable

from truceline.api.app import create_app
from truceline.bus.tracks import MSG_ID_HEADER, SIGNATURE_HEADER, publish_batch, subject_of
from truceline.domain.clock import to_epoch_s
from truceline.ledger.keys import raw_public_key

pytestmark = pytest.mark.skipif(
    not _reachable() and not os.environ.get("CI"), reason=f"no NATS server at {NATS_URL}"
)


async def _until(condition, limit_s: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    """Wait (bounded) for what the consumer does on its own time; the assertions come after."""
    for _ in range(int(limit_s / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)


def test_a_signed_batch_once_its_resend_dropped_and_a_forged_one_refused(tmp_path: Path, clock) -> None:
    world = World(sqlite_url(tmp_path), clock)
    key = Ed25519PrivateKey.generate()
    world.add("A", request_key=base64.b64encode(raw_public_key(key.public_key())).decode())
    world.add("B")  # no request key: it cannot publish over NATS
    app = create_app(world.service, clock, tick_interval_s=None, bus_url=NATS_URL)
    party_a, party_b = world.ids["A"], world.ids["B"]
    t = to_epoch_s(clock.now)
    state = {"id": "a1", "time": t, "lat": 35.0, "lon": 36.0, "alt_m": 3000.0, "alt_ref": "AMSL",
             "velocity": 200.0, "heading": 0.0, "vertrate": 0.0}
    body = json.dumps({"states": [state, {**state, "id": "a2", "lat": 95.0}]}).encode()

    async def scenario() -> tuple[list[bool], object]:
        import nats

        nc = await nats.connect(NATS_URL)
        js = nc.jetstream()
        batch_id = f"test-{uuid.uuid4()}"
        first = await publish_batch(js, party_a, key, body, batch_id)
        again = await publish_batch(js, party_a, key, body, batch_id)  # a gateway's resend
        # Signed by another key, and B's batch without a key of its own: both dropped.
        await publish_batch(js, party_a, Ed25519PrivateKey.generate(), body, f"test-{uuid.uuid4()}")
        await publish_batch(js, party_b, key, body, f"test-{uuid.uuid4()}")
        # Headers copied onto another message id: the signature covers the id, so it fails.
        forged = {MSG_ID_HEADER: f"test-{uuid.uuid4()}", SIGNATURE_HEADER: ""}
        await js.publish(subject_of(party_a), body, headers=forged)
        feed = app.state.track_feed
        await _until(lambda: feed.counts.messages + sum(feed.counts.dropped.values()) >= 4)
        await nc.close()
        return [first.duplicate, again.duplicate], feed.counts

    try:
        with running_server(app):
            duplicates, counts = asyncio.run(scenario())
    finally:
        world.close()
    assert [bool(d) for d in duplicates] == [False, True]
    assert counts.messages == 1 and counts.accepted == 1 and counts.refused_rows == 1  # type: ignore[attr-defined]
    assert sum(counts.dropped.values()) == 3, counts.dropped  # type: ignore[attr-defined]
    assert any("does not verify" in reason for reason in counts.dropped)  # type: ignore[attr-defined]
    assert any("no request key" in reason for reason in counts.dropped)  # type: ignore[attr-defined]
    picture = app.state.picture
    assert picture.reports == 1 and picture.held("a1").track.party == "A" and picture.held("a2") is None
