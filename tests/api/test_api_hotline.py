"""The hotline over HTTP says what it means: a refusal is told in its 409 answer only, a
broadcast comes from the register with no deadline (``from`` and ``deadline`` null), and a
message never acknowledged after its last escalation is told once to sender and guarantors."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from api_kit import World, op_doc, sqlite_url, square, zone_doc

from truceline.service.escalation import MAX_ESCALATIONS, tick


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    for name in ("A", "B", "C"):
        w.add(name)
    w.add("G", "guarantor", "fr")
    yield w
    w.close()


def _inbox(world: World, name: str) -> list[dict]:
    r = world.client.get("/messages", headers=world.auth(name))
    assert r.status_code == 200, r.text
    return r.json()


def test_refusal_and_activation_messages(world: World) -> None:
    client = world.client
    r = client.post(
        "/zones",
        json={"document": zone_doc("z", square(36, 35, 36.5, 35.5), party="A"), "signatories": ["B"]},
        headers=world.auth("A"),
    )
    digest = r.json()["hash"]
    for name in ("A", "B"):
        client.post("/zones/z/sign", json={"version": 1, "hash": digest}, headers=world.auth(name))
    activated = [m for m in _inbox(world, "C") if m["body"]["template"] == "zone.activated"]
    assert [(m["from"], m["deadline"]) for m in activated] == [(None, None)]
    assert not [m for m in _inbox(world, "B") if m["body"]["template"] == "zone.activated"]

    # B signed the zone, so it binds B: B's filing inside is refused, and told only in the 409.
    plan = op_doc("op-b", "B", square(36.1, 35.1, 36.2, 35.2))
    r = client.post("/operations", json=plan, headers=world.auth("B"))
    assert r.status_code == 409 and r.json()["conflicts"], r.text
    assert "messages" not in r.json()
    assert not [m for m in _inbox(world, "B") if m["about"] == {"kind": "operation", "id": "op-b"}]


def test_never_acknowledged_is_told_once(world: World) -> None:
    r = world.client.post(
        "/messages", json={"to": ["B"], "text": "Hold", "language": "en", "priority": "urgent"},
        headers=world.auth("A"),
    )  # fmt: skip
    message_id = r.json()["id"]
    for _ in range(MAX_ESCALATIONS + 3):
        world.clock.now += timedelta(minutes=5)
        tick(world.service, world.clock.now)
    notices = [m for m in _inbox(world, "G") if m["body"]["template"] == "message.unacknowledged"]
    assert [(m["in_reply_to"], m["from"], m["deadline"], m["language"]) for m in notices] == [
        (message_id, None, None, "fr")
    ]
    assert "jamais" in notices[0]["text"]
    late = world.client.get(f"/messages/{message_id}", headers=world.auth("A")).json()["deliveries"]
    assert [(d["party"], d["escalations"], d["acknowledged_at"]) for d in late] == [
        ("B", MAX_ESCALATIONS, None)
    ]
