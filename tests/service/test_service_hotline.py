"""The hotline in the service: deadlines by priority, escalation up to its limit (sender and
guarantors told, all in the ledger), replies and threads, free text kept as written."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
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


def _deadline(message: hotline.MessageView) -> datetime:
    return datetime.fromisoformat(message.received.deadline)


@pytest.mark.parametrize(("priority", "minutes"), [("urgent", 2), ("high", 15), ("routine", 60)])
def test_deadline_by_priority(desk: Desk, priority: str, minutes: int) -> None:
    message_id = hotline.send(desk.service, desk["A"], ["B"], "Test", "en", priority)
    got = hotline.get_message(desk.service, desk["B"], message_id, "en")
    assert _deadline(got) - datetime.fromisoformat(got.sent_at) == timedelta(minutes=minutes)


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
        priorities.append(hotline.get_message(desk.service, desk["B"], message_id, "en").priority)
    assert priorities == ["high", "urgent", "urgent", "urgent"]  # and no fourth escalation
    assert desk.entry_types().count("message.escalated") == escalation.MAX_ESCALATIONS
    for name in ("A", "G"):  # the sender and the guarantor are told each time, then once more
        told = [m for m in hotline.inbox(desk.service, desk[name], "en") if m.in_reply_to == message_id]
        assert sorted(m.body["template"] for m in told) == [
            *["message.escalated"] * escalation.MAX_ESCALATIONS,
            "message.unacknowledged",
        ], name
    assert not [m for m in hotline.inbox(desk.service, desk["C"], "en") if m.in_reply_to == message_id]
    sender_view = hotline.get_message(desk.service, desk["A"], message_id, "en")
    assert {d.party: d.escalations for d in sender_view.deliveries} == {"B": 3, "C": 0}


def test_reply_thread_and_free_text(desk: Desk) -> None:
    text = "نطلب وقف إطلاق النار في القطاع 3"
    first = hotline.send(desk.service, desk["B"], ["A", "C"], text, "ar", "urgent")
    got = hotline.get_message(desk.service, desk["A"], first, "fr")
    assert (got.text, got.language, got.rtl) == (text, "ar", True)  # never translated
    answer = hotline.reply(desk.service, desk["A"], first, "Reçu, nous cessons le feu.", "fr")
    thread = hotline.thread(desk.service, desk["C"], got.thread_id, "en")
    assert [m.id for m in thread] == [first, answer]
    assert thread[1].in_reply_to == first and thread[1].priority == "urgent"
    assert set(thread[1].to) == {"B", "C"}
    with pytest.raises(NotFoundError):
        hotline.thread(desk.service, desk["G"], got.thread_id, "en")
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


def _told(desk: Desk, name: str, message_id: str, template: str) -> list[dict]:
    return [
        m
        for m in hotline.inbox(desk.service, desk[name], "en")
        if m.in_reply_to == message_id and m.body["template"] == template
    ]


def test_overdue_minutes_count_from_the_deadline_first_missed(desk: Desk) -> None:
    """Each escalation sets a new deadline; the figure told is how late the recipient is
    on the message's own deadline, not on the latest one (which a tick every second makes
    "0 minutes" every time)."""
    message_id = hotline.send(desk.service, desk["A"], ["B"], "Convoy at checkpoint 4", "en", "routine")
    first = _deadline(hotline.get_message(desk.service, desk["B"], message_id, "en"))
    now = first
    for _ in range(escalation.MAX_ESCALATIONS):
        # Tick one second after each deadline, as the server's ticker does.
        now = _deadline(hotline.get_message(desk.service, desk["B"], message_id, "en")) + timedelta(seconds=1)
        desk.clock.now = now
        assert escalation.tick(desk.service, now).escalated == [(message_id, desk["B"].id)]
    told = sorted(_told(desk, "A", message_id, "message.escalated"), key=lambda m: m.seq)
    figures = [m.body["params"]["overdue_min"] for m in told]
    # routine (60 min) lapses; high (15 min) lapses; urgent (2 min) lapses.
    assert figures == [0, 15, 17]
    assert all(datetime.fromisoformat(m.body["params"]["deadline"]) == first for m in told)
    assert "17 minutes overdue" in told[-1].text


def test_after_the_last_escalation_sender_and_guarantors_are_told_once(desk: Desk) -> None:
    message_id = hotline.send(desk.service, desk["A"], ["B", "C"], "Hold fire in sector 3", "en", "urgent")
    hotline.acknowledge(desk.service, desk["C"], message_id)
    now = desk.clock.now
    for _ in range(escalation.MAX_ESCALATIONS):
        now += timedelta(minutes=3)
        desk.clock.now = now
        assert escalation.tick(desk.service, now).unacknowledged == []
    assert _told(desk, "A", message_id, "message.unacknowledged") == []
    now += timedelta(minutes=3)  # the last escalation's deadline (2 minutes) lapses
    desk.clock.now = now
    result = escalation.tick(desk.service, now)
    assert result.unacknowledged == [(message_id, desk["B"].id)] and result.escalated == []
    for name in ("A", "G"):
        [notice] = _told(desk, name, message_id, "message.unacknowledged")
        assert notice.sender is None and notice.received.deadline is None and notice.priority == "urgent"
        assert notice.body["params"]["party"] == "B"
        # urgent: 2 minutes, then three escalations of 3 minutes' ticks each, plus the last 3
        assert notice.body["params"]["overdue_min"] == 10
        assert "was never acknowledged" in notice.text
    assert not [m for m in hotline.inbox(desk.service, desk["B"], "en") if m.in_reply_to == message_id]
    assert not [m for m in hotline.inbox(desk.service, desk["C"], "en") if m.in_reply_to == message_id]
    assert desk.entry_types().count("message.unacknowledged") == 1

    # Later ticks, and a restarted process on the same database, do not tell it again.
    assert escalation.tick(desk.service, now + timedelta(hours=1)) == escalation.TickResult()
    desk.register.rebuild()
    restarted = type(desk.service)(desk.register)
    assert escalation.tick(restarted, now + timedelta(hours=2)) == escalation.TickResult()
    assert desk.entry_types().count("message.unacknowledged") == 1
    assert len(_told(desk, "A", message_id, "message.unacknowledged")) == 1
    # B may still acknowledge, late; the sender sees the delivery's last deadline lapsed.
    hotline.acknowledge(desk.service, desk["B"], message_id)
    deliveries = hotline.get_message(desk.service, desk["A"], message_id, "en").deliveries
    late = next(d for d in deliveries if d.party == "B")
    assert late.escalations == escalation.MAX_ESCALATIONS and late.deadline is not None
    assert late.acknowledged_at is not None


class _StepClock:
    """The conftest clock (one second per reading), for a test that builds its own desks."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@settings(max_examples=12)
@given(
    priority=st.sampled_from(hotline.PRIORITIES),
    delays_s=st.lists(st.integers(min_value=0, max_value=7200), min_size=1, max_size=4),
)
def test_overdue_figure_is_whole_minutes_past_the_first_deadline(
    tmp_path_factory: pytest.TempPathFactory, priority: str, delays_s: list[int]
) -> None:
    """Whatever the priority and however late each tick comes, every notice says the whole
    minutes from the message's own deadline to the tick that sent it."""
    desk = Desk(tmp_path_factory.mktemp("overdue"), _StepClock(datetime(2017, 7, 10, 6, 0, tzinfo=UTC)))
    try:
        desk.add("A")
        desk.add("B")
        message_id = hotline.send(desk.service, desk["A"], ["B"], "Check", "en", priority)
        first = _deadline(hotline.get_message(desk.service, desk["B"], message_id, "en"))
        expected = []
        for delay in delays_s:
            current = hotline.get_message(desk.service, desk["B"], message_id, "en")
            now = max(_deadline(current), desk.clock.now) + timedelta(seconds=delay)
            desk.clock.now = now
            if escalation.tick(desk.service, now) != escalation.TickResult():
                expected.append(int((now - first).total_seconds() // 60))
        told = sorted(
            (m for m in hotline.inbox(desk.service, desk["A"], "en") if m.in_reply_to == message_id),
            key=lambda m: m.seq,
        )
        assert [m.body["params"]["overdue_min"] for m in told] == expected
    finally:
        desk.close()


def test_the_inbox_of_pending_messages_leaves_out_the_acknowledged_newest_first(desk: Desk) -> None:
    first = hotline.send(desk.service, desk["A"], ["C"], "one", "en")
    second = hotline.send(desk.service, desk["B"], ["C"], "two", "en")
    third = hotline.send(desk.service, desk["A"], ["C", "B"], "three", "en")
    hotline.acknowledge(desk.service, desk["C"], second)
    assert [m.id for m in hotline.inbox(desk.service, desk["C"], "en")] == [third, second, first]
    pending = hotline.inbox(desk.service, desk["C"], "en", pending_only=True)
    assert [m.id for m in pending] == [third, first]
    assert all(m.received.acknowledged_at is None for m in pending)
    newest = hotline.inbox(desk.service, desk["C"], "en", pending_only=True, limit=1)
    assert [m.id for m in newest] == [third]
