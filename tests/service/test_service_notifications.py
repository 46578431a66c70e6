"""The notification commands inside the service: a notification's own deadline drives its
escalation (the notice counts from it, not from the priority's); a notifier's own
operations are not conflicts with its notifications."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from service_kit import Desk, operation, square

from truceline.domain.clock import ms_text
from truceline.service import filing, notifications
from truceline.service.escalation import tick
from truceline.store import hotline as hotline_store


def site(**props: object) -> dict[str, object]:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [36.05, 35.05]},
        "properties": {"name": "Clinic 3", "organisation": "ICRC", "site_type": "clinic",
                       "protection_radius_m": 500, "valid_from": "2017-07-10T00:00:00Z", **props},
    }  # fmt: skip


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:
    d = Desk(tmp_path, clock)
    d.add("ICRC", "humanitarian")
    d.add("A")
    yield d
    d.close()


def test_the_notifications_own_deadline_drives_escalation(desk: Desk) -> None:
    created = notifications.submit(desk.service, desk["ICRC"], site(acknowledge_within_s=60))
    with desk.service.read() as conn:
        sent = hotline_store.message(conn, created.message_id)
        delivery = hotline_store.delivery(conn, created.message_id, desk["A"].id)
    assert sent is not None and delivery is not None
    assert delivery.deadline_ms == sent.time_ms + 60_000  # not the 15 min of priority high
    assert tick(desk.service, desk.clock.now + timedelta(seconds=30)).escalated == []
    at = desk.clock.now + timedelta(seconds=61)
    assert tick(desk.service, at).escalated == [(created.message_id, desk["A"].id)]
    with desk.service.read() as conn:
        inbox = hotline_store.inbox(conn, desk["ICRC"].id, pending_only=False, limit=10)
    notices = [r.message for r in inbox if r.message.body.get("template") == "message.escalated"]
    assert len(notices) == 1
    params = notices[0].body["params"]
    # The deadline the notice names is the notification's own: 60 s after sending.
    assert params["deadline"] == ms_text(sent.time_ms + 60_000)
    assert params["overdue_min"] == 0


def test_a_notifiers_own_operation_does_not_conflict_with_its_site(desk: Desk) -> None:
    notifications.submit(desk.service, desk["ICRC"], site())
    own = operation("op-own", "ICRC", square(36.04, 35.04, 36.06, 35.06), activity="ground")
    assert filing.file_operation(desk.service, desk["ICRC"], own).conflicts == []
    other = operation("op-a", "A", square(36.04, 35.04, 36.06, 35.06), activity="ground")
    found = filing.file_operation(desk.service, desk["A"], other).conflicts
    assert [(c["kind"], c["a"]) for c in found if c["kind"] == "humanitarian"] == [("humanitarian", "op-a")]
