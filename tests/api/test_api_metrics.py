"""``GET /metrics`` (api/metrics.py): Prometheus text, no token needed, a registry per app;
requests by route template and status, latency per route, the ledger's size (read at the
scrape, so another process's commits count), commit batch sizes, entries by type, open
streams, escalations; and no party, message or token in any of it."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from api_kit import World, running_server, sqlite_url, square, zone_doc
from prometheus_client.parser import text_string_to_metric_families

from truceline.api.app import create_app
from truceline.api.metrics import UNMATCHED
from truceline.service import escalation
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("admin", "admin")
    w.add("A")
    w.add("B")
    w.add("G", "guarantor")
    yield w
    w.close()


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: httpx.Client, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_requests_are_counted_by_route_template_and_status(world: World) -> None:
    auth = world.auth("A")
    for zone_id in ("z-1", "z-2", "z-3"):
        assert world.client.get(f"/zones/{zone_id}", headers=auth).status_code == 404
    assert world.client.get("/zones", headers=auth).status_code == 200
    assert world.client.get("/zones").status_code == 401
    assert world.client.put("/health").status_code == 405
    assert world.client.get("/no/such/path").status_code == 404
    samples = scrape(world.client)
    requests = "truceline_http_requests_total"
    assert value(samples, requests, method="GET", route="/zones/{zone_id}", status="404") == 3
    assert value(samples, requests, method="GET", route="/zones", status="200") == 1
    assert value(samples, requests, method="GET", route="/zones", status="401") == 1
    assert value(samples, requests, method="PUT", route="/health", status="405") == 1
    assert value(samples, requests, method="GET", route=UNMATCHED, status="404") == 1
    # No raw path makes a series of its own.
    routes = {dict(labels).get("route") for name, labels in samples if name == requests}
    assert not [r for r in routes if r and ("z-1" in r or "/no/such" in r)]
    # Latency per route: one observation per request.
    count = "truceline_http_request_duration_seconds_count"
    assert value(samples, count, method="GET", route="/zones/{zone_id}") == 3
    bucket = "truceline_http_request_duration_seconds_bucket"
    assert value(samples, bucket, method="GET", route="/zones/{zone_id}", le="+Inf") == 3


def test_no_token_is_needed_and_other_methods_are_405(world: World) -> None:
    assert world.client.get("/metrics").status_code == 200
    refused = world.client.post("/metrics")
    assert refused.status_code == 405 and refused.headers["allow"] == "GET"
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_openmetrics_when_asked(world: World) -> None:
    response = world.client.get("/metrics", headers={"Accept": "application/openmetrics-text; version=1.0.0"})
    assert response.headers["content-type"].startswith("application/openmetrics-text")
    assert response.text.rstrip().endswith("# EOF")
    # A version that is no number: the plain format, not an error.
    odd = world.client.get("/metrics", headers={"Accept": "text/plain; version=x.y"})
    assert odd.status_code == 200 and odd.headers["content-type"].startswith("text/plain")


def test_the_ledger_size_is_read_at_the_scrape(world: World, tmp_path: Path) -> None:
    tree_size = world.client.get("/health").json()["tree_size"]
    assert value(scrape(world.client), "truceline_ledger_entries") == tree_size
    # Another process on the same database commits: the next scrape counts it.
    other = Service(open_register(sqlite_url(tmp_path), lambda: datetime.now(UTC)))
    try:
        add_party(other, "late", "party")
    finally:
        other.engine.dispose()
    assert value(scrape(world.client), "truceline_ledger_entries") == tree_size + 1


def test_commits_are_measured_by_batch_and_entry_type(world: World) -> None:
    before = scrape(world.client)
    start = world.client.get("/health").json()["tree_size"]
    for k in range(3):
        sent = world.client.post(
            "/messages", json={"to": ["B"], "text": f"m{k}", "language": "en"}, headers=world.auth("A")
        )
        assert sent.status_code == 201, sent.text
    proposed = world.client.post(
        "/zones",
        json={"document": zone_doc("z-m", square(50.0, 30.0, 50.5, 30.5), party="A"), "signatories": ["B"]},
        headers=world.auth("A"),
    )
    assert proposed.status_code == 201, proposed.text
    after = scrape(world.client)
    grown = world.client.get("/health").json()["tree_size"] - start

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("truceline_ledger_commit_entries_count") == 4  # one transaction per request
    assert delta("truceline_ledger_commit_entries_sum") == grown
    assert delta("truceline_ledger_commit_commands_sum") == 4
    by_type = {
        dict(labels)["type"]: v - value(before, name, **dict(labels))
        for (name, labels), v in after.items()
        if name == "truceline_ledger_entries_committed_total"
    }
    assert by_type.get("message.sent") == 3 + (grown - 4)  # the zone's notices are messages too
    assert sum(by_type.values()) == grown


def test_escalations_are_counted_by_priority(world: World) -> None:
    sent = world.client.post(
        "/messages",
        json={"to": ["B"], "text": "Convoy at checkpoint 4", "language": "en", "priority": "routine"},
        headers=world.auth("A"),
    )
    assert sent.status_code == 201, sent.text
    now = world.clock.now
    for _ in range(escalation.MAX_ESCALATIONS + 1):
        now += timedelta(hours=2)
        world.clock.now = now
        escalation.tick(world.service, now)
    samples = scrape(world.client)
    assert value(samples, "truceline_escalations_total", priority="high") == 1
    assert value(samples, "truceline_escalations_total", priority="urgent") == 2
    assert value(samples, "truceline_messages_unacknowledged_total") == 1


def test_open_streams_are_a_gauge(tmp_path: Path) -> None:
    register = open_register(sqlite_url(tmp_path), lambda: datetime.now(UTC))
    token = add_party(register, "watcher", "party").token
    app = create_app(register, tick_interval_s=None, keepalive_s=60.0)
    try:
        with running_server(app) as url, httpx.Client(base_url=url, timeout=10.0) as client:
            assert value(scrape(client), "truceline_streams_open") == 0
            opened, close = threading.Event(), threading.Event()

            def listen() -> None:
                headers = {"Authorization": f"Bearer {token}"}
                with httpx.stream("GET", url + "/stream", headers=headers, timeout=10.0) as response:
                    for _chunk in response.iter_text():
                        opened.set()
                        if close.wait(10.0):
                            return

            listeners = [threading.Thread(target=listen, daemon=True) for _ in range(2)]
            for listener in listeners:
                listener.start()
            assert opened.wait(10.0)
            deadline = time.monotonic() + 10.0
            while value(scrape(client), "truceline_streams_open") < 2 and time.monotonic() < deadline:
                time.sleep(0.02)  # bounded wait: the second stream may open a moment later
            assert value(scrape(client), "truceline_streams_open") == 2
            close.set()
            for listener in listeners:
                listener.join(10.0)
            deadline = time.monotonic() + 10.0
            while value(scrape(client), "truceline_streams_open") > 0 and time.monotonic() < deadline:
                time.sleep(0.02)  # bounded wait: the server notices the closed connections
            assert value(scrape(client), "truceline_streams_open") == 0
    finally:
        register.engine.dispose()


def test_each_app_has_its_own_registry(world: World, tmp_path: Path, clock) -> None:
    # Another app in the same process: no duplicate-metric error, and its own counts.
    other = World(f"sqlite:///{tmp_path / 'other.db'}", clock)
    try:
        for _ in range(2):
            world.client.get("/health")
        other.client.get("/health")
        requests = "truceline_http_requests_total"
        assert value(scrape(world.client), requests, method="GET", route="/health", status="200") == 2
        assert value(scrape(other.client), requests, method="GET", route="/health", status="200") == 1
    finally:
        other.close()


def test_the_platform_metrics_are_there(world: World) -> None:
    samples = scrape(world.client)
    names = {name for name, _labels in samples}
    assert {"process_resident_memory_bytes", "process_cpu_seconds_total", "python_info"} <= names
    assert value(samples, "truceline_build_info", version=__import__("truceline").__version__) == 1
    assert value(samples, "truceline_http_requests_in_progress") == 1  # this scrape itself


def test_no_party_message_or_token_shows(world: World) -> None:
    body = {"to": ["B"], "text": "Hold fire at grid 12", "language": "en"}
    sent = world.client.post("/messages", json=body, headers=world.auth("A"))
    message_id = sent.json()["id"]
    world.client.get(f"/messages/{message_id}", headers=world.auth("B"))
    world.client.post(f"/messages/{message_id}/ack", headers=world.auth("B"))
    text = world.client.get("/metrics").text
    secrets = [*world.ids.values(), *world.tokens.values(), message_id, "grid 12"]
    assert [s for s in secrets if s in text] == []
