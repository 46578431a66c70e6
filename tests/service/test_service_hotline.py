"""The hotline in the service: deadlines by priority, escalation up to its limit (sender and
guarantors told, all in the ledger), replies and threads, free text kept as written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from service_kit import Desk

from truceline.errors import ConflictError, NotFoundError, ValidationError
from truceline.service import escalation, hotline


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:
    d = Desk(tmp_path, clock)
    d.add("A", language="fr")
    d.add("B", language="ar")
    d.add("C")
    d.add("G", "guarantor")
    yield d
    d.close()


def _deadline(message: dict) -> datetime:
    return datetime.fromisoformat(message["deadline"])


@pytest.mark.parametrize(("priority", "minutes"), [("urgent", 2), ("high", 15), ("routine", 60)])
def test_deadline_by_priority(desk: Desk, priority: str, minutes: int) -> None:
    message_id = hotline.send(desk.service, desk["A"], ["B"], "Test", "en", priority)
    got = hotline.get_message(desk.service, desk["B"], message_id, "en")
    assert _deadline(got) - datetime.fromisoformat(got["sent_at"]) == timedelta(minutes=minutes)


def test_escalation_chain(desk: Desk) -> None:
    message_id = hotline.send(desk.service, desk["A"], ["B", "C"], "Convoy at checkpoint 4", "en", "routine")
    hotline.acknowledge(desk.service, desk["C"], message_id)
    now = desk.clock.now
    assert escalation.tick(desk.service, now + timedelta(minutes=59)).escalated == []
    priorities = []
    for _ in range(escalation.MAX_ESCALATIONS + 1):
        now += timedelta(hours=2)
        desk.clock.now = now
        escalation.tick(desk.service, now)
        priorities.append(hotline.get_message(desk.service, desk["B"], message_id, "en")["priority"])
    assert priorities == ["high", "urgent", "urgent", "urgent"]  # and no fourth escalation
    assert desk.entry_types().count("message.escalated") == escalation.MAX_ESCALATIONS
    for name in ("A", "G"):  # the sender and the guarantor are told each time
        told = [m for m in hotline.inbox(desk.service, desk[name], "en") if m["in_reply_to"] == message_id]
        assert len(told) == escalation.MAX_ESCALATIONS, name
        assert {m["body"]["template"] for m in told} == {"message.escalated"}
    assert not [m for m in hotline.inbox(desk.service, desk["C"], "en") if m["in_reply_to"] == message_id]
    sender_view = hotline.get_message(desk.service, desk["A"], message_id, "en")
    assert {d["party"]: d["escalations"] for d in sender_view["deliveries"]} == {"B": 3, "C": 0}


def test_reply_thread_and_free_text(desk: Desk) -> None:
    text = "نطلب وقف إطلاق النار في القطاع 3"
    first = hotline.send(desk.service, desk["B"], ["A", "C"], text, "ar", "urgent")
    got = hotline.get_message(desk.service, desk["A"], first, "fr")
    assert (got["text"], got["language"], got["rtl"]) == (text, "ar", True)  # never translated
    answer = hotline.reply(desk.service, desk["A"], first, "Reçu, nous cessons le feu.", "fr")
    thread = hotline.thread(desk.service, desk["C"], got["thread_id"], "en")
    assert [m["id"] for m in thread] == [first, answer]
    assert thread[1]["in_reply_to"] == first and thread[1]["priority"] == "urgent"
    assert set(thread[1]["to"]) == {"B", "C"}
    with pytest.raises(NotFoundError):
        hotline.thread(desk.service, desk["G"], got["thread_id"], "en")
    with pytest.raises(NotFoundError):
        hotline.acknowledge(desk.service, desk["G"], first)
    hotline.acknowledge(desk.service, desk["A"], first)
    with pytest.raises(ConflictError):
        hotline.acknowledge(desk.service, desk["A"], first)
    with pytest.raises(ValidationError):
        hotline.send(desk.service, desk["A"], ["A"], "to myself", "fr")
    with pytest.raises(ValidationError):
        hotline.send(desk.service, desk["A"], ["Nobody"], "x", "fr")
    with pytest.raises(ValidationError):
        hotline.send(desk.service, desk["A"], ["B"], "x", "fr", "whenever")


def test_tick_with_nothing_due_writes_nothing(desk: Desk) -> None:
    before = len(desk.entry_types())
    assert escalation.tick(desk.service, desk.clock.now) == escalation.TickResult()
    assert len(desk.entry_types()) == before
