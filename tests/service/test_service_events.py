"""The service's observers (service/events.py): each durable transaction is told once, with
its commands, its entries by type, and the tree size and root it leaves; each escalation
once, read from its entry; an observer that fails never undoes a commit. ``EventLog``
writes one line per commit and per escalation with those fields (JSON through the access
log's formatter)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from service_kit import Desk

from truceline.api.access_log import JsonFormatter
from truceline.service import escalation, hotline
from truceline.service.events import (
    EVENTS_LOGGER,
    ROOT_PREFIX_CHARS,
    Commit,
    Escalation,
    EscalationKind,
    EventLog,
)
from truceline.store.schema import ledger_head


class Recorder:
    def __init__(self) -> None:
        self.commits: list[Commit] = []
        self.escalations: list[Escalation] = []

    def committed(self, commit: Commit) -> None:
        self.commits.append(commit)

    def escalated(self, escalation: Escalation) -> None:
        self.escalations.append(escalation)


class Broken:
    def committed(self, commit: Commit) -> None:
        raise RuntimeError("observer down")

    def escalated(self, escalation: Escalation) -> None:
        raise RuntimeError("observer down")


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:
    d = Desk(tmp_path, clock)
    for name in ("A", "B"):
        d.add(name)
    d.add("G", "guarantor")
    yield d
    d.close()


def _head(desk: Desk) -> tuple[int, bytes]:
    with desk.register.engine.connect() as conn:
        row = conn.execute(ledger_head.select()).one()
    return row.tree_size, bytes(row.root_hash)


def _send_together(desk: Desk, recipients: list[list[str]]) -> list[Any]:
    """Send one message per ``recipients`` item, each from its own thread while the writer is
    held, so that all go in one group commit; returns each result or error."""
    service = desk.service
    results: list[Any] = [None] * len(recipients)

    def run(k: int, to: list[str]) -> None:
        try:
            results[k] = hotline.send(service, desk["A"], to, f"message {k}", "en", "routine")
        except Exception as error:  # the result under test
            results[k] = error

    threads = []
    with service._lock:
        for k, to in enumerate(recipients):
            threads.append(threading.Thread(target=run, args=(k, to)))
            threads[-1].start()
            deadline = time.monotonic() + 10
            while len(service._queue) < k + 1:
                assert time.monotonic() < deadline, "a command never reached the queue"
                time.sleep(0.001)
    for thread in threads:
        thread.join(10)
    return results


def test_each_commit_is_told_once_with_its_tree_size_and_root(desk: Desk) -> None:
    recorder = Recorder()
    desk.service.observers.add(recorder)
    for k in range(3):
        hotline.send(desk.service, desk["A"], ["B"], f"message {k}", "en", "routine")
        size, root = _head(desk)
        assert recorder.commits[-1].tree_size == size and recorder.commits[-1].root_hash == root
    assert [c.entry_types for c in recorder.commits] == [{"message.sent": 1}] * 3
    assert [(c.commands, c.entries) for c in recorder.commits] == [(1, 1)] * 3
    assert recorder.escalations == []


def test_a_group_commit_is_one_event_counting_its_refused_command(desk: Desk) -> None:
    recorder = Recorder()
    desk.service.observers.add(recorder)
    before, _ = _head(desk)
    results = _send_together(desk, [["B"], ["nobody"], ["B", "G"]])
    assert isinstance(results[1], Exception) and not isinstance(results[0], Exception)
    (commit,) = recorder.commits  # one transaction for the three commands
    assert commit.commands == 3 and commit.entries == 2 == commit.tree_size - before
    assert commit.entry_types == {"message.sent": 2}
    assert (commit.tree_size, commit.root_hash) == _head(desk)


def test_a_refusal_alone_writes_nothing_and_tells_nothing(desk: Desk) -> None:
    recorder = Recorder()
    desk.service.observers.add(recorder)
    with pytest.raises(Exception):  # noqa: B017 - whichever refusal: nothing may be told
        hotline.send(desk.service, desk["A"], ["nobody"], "lost", "en", "routine")
    assert recorder.commits == []


def test_escalations_are_read_from_their_entries(desk: Desk) -> None:
    recorder = Recorder()
    desk.service.observers.add(recorder)
    message_id = hotline.send(desk.service, desk["A"], ["B"], "Convoy at checkpoint 4", "en", "routine")
    now = desk.clock.now
    for _ in range(escalation.MAX_ESCALATIONS + 2):
        now += timedelta(hours=2)
        desk.clock.now = now
        escalation.tick(desk.service, now)
    got = [(e.kind, e.level, e.priority) for e in recorder.escalations]
    assert got == [
        (EscalationKind.ESCALATED, 1, "high"),
        (EscalationKind.ESCALATED, 2, "urgent"),
        (EscalationKind.ESCALATED, 3, "urgent"),
        (EscalationKind.UNACKNOWLEDGED, None, None),
    ]
    assert {e.message_id for e in recorder.escalations} == {message_id}
    assert {e.recipient for e in recorder.escalations} == {desk["B"].id}
    # The sender and the guarantor are told, each time.
    assert all(set(e.notified) == {desk["A"].id, desk["G"].id} for e in recorder.escalations)
    assert desk.entry_types().count("message.escalated") == escalation.MAX_ESCALATIONS


def test_a_failing_observer_never_undoes_a_commit(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    recorder = Recorder()
    desk.service.observers.add(Broken())
    desk.service.observers.add(recorder)
    caplog.set_level(logging.ERROR, logger="truceline.service")
    message_id = hotline.send(desk.service, desk["A"], ["B"], "Hold fire", "en", "routine")
    assert [m.id for m in hotline.inbox(desk.service, desk["B"], "en")] == [message_id]
    assert len(recorder.commits) == 1  # the next observer is still told
    assert any("Broken" in r.getMessage() and r.exc_info for r in caplog.records)


def test_event_lines_carry_their_fields_as_json(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    assert any(isinstance(o, EventLog) for o in desk.service.observers)  # every Service has one
    caplog.set_level(logging.INFO, logger=EVENTS_LOGGER)
    message_id = hotline.send(desk.service, desk["A"], ["B"], "Convoy at checkpoint 4", "en", "routine")
    desk.clock.now += timedelta(hours=2)
    escalation.tick(desk.service, desk.clock.now)
    lines = [json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == EVENTS_LOGGER]
    size, root = _head(desk)
    assert [line["event"] for line in lines] == ["ledger.commit", "ledger.commit", "message.escalated"]
    sent, ticked, escalated = lines
    assert sent["entry_types"] == {"message.sent": 1} and sent["tree_size"] == size - 2
    # The tick's transaction: the escalation and the notice to sender and guarantor.
    assert ticked["entry_types"] == {"message.escalated": 1, "message.sent": 1}
    assert (ticked["tree_size"], ticked["root_hash"]) == (size, root.hex()[:ROOT_PREFIX_CHARS])
    assert ticked["entries"] == 2 and ticked["commands"] == 1 and ticked["level"] == "info"
    assert escalated["message_id"] == message_id and escalated["escalations"] == 1
    assert escalated["level"] == "info"  # the log level, not overwritten by a field
    assert escalated["priority"] == "high" and escalated["recipient"] == desk["B"].id
    assert sorted(escalated["notified"]) == sorted([desk["A"].id, desk["G"].id])
    assert message_id in escalated["message"]


def test_no_event_line_below_info(desk: Desk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=EVENTS_LOGGER)
    hotline.send(desk.service, desk["A"], ["B"], "quiet", "en", "routine")
    assert [r for r in caplog.records if r.name == EVENTS_LOGGER] == []
