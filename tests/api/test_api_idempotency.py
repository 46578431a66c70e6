"""Idempotency-Key on POST: a resend gets the first answer and writes nothing; the same key
with another body is a 422; keys are per party, kept 24 h, shared by server processes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from api_kit import World, sqlite_url
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from truceline.api.idempotency import HEADER_NAME, MAX_KEY_LENGTH
from truceline.store.schema import ledger_entries

MESSAGE = {"to": ["B"], "text": "Hold fire at grid 12", "language": "en", "priority": "urgent"}


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    for name in ("A", "B"):
        w.add(name)
    yield w
    w.close()


def entries(world: World) -> int:
    with world.register.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(ledger_entries)).scalar_one()


def send(world: World, key: str | None, body: dict = MESSAGE, name: str = "A"):
    headers = world.auth(name) if key is None else world.auth(name, **{"Idempotency-Key": key})
    return world.client.post("/messages", json=body, headers=headers)


def test_a_resend_gets_the_first_answer_and_writes_nothing(world: World) -> None:
    first = send(world, "7d5c-resend-1")
    assert first.status_code == 201, first.text
    written = entries(world)
    again = send(world, "7d5c-resend-1")
    assert (again.status_code, again.json()) == (first.status_code, first.json())
    assert again.headers["content-type"] == first.headers["content-type"]
    assert again.headers["idempotency-replayed"] == "true"
    assert entries(world) == written
    inbox = world.client.get("/messages", headers=world.auth("B")).json()
    assert [m["id"] for m in inbox if m["body"].get("text") == MESSAGE["text"]] == [first.json()["id"]]


def test_without_a_key_a_resend_is_a_second_write(world: World) -> None:
    first, second = send(world, None), send(world, None)
    assert first.json()["id"] != second.json()["id"]


def test_the_same_key_with_another_body_is_a_422_naming_the_header(world: World) -> None:
    assert send(world, "k-1").status_code == 201
    written = entries(world)
    other = send(world, "k-1", {**MESSAGE, "text": "Another"})
    assert other.status_code == 422
    assert other.headers["content-type"].startswith("application/problem+json")
    assert other.json()["field"] == "Idempotency-Key"
    assert entries(world) == written


def test_keys_are_per_party(world: World) -> None:
    a = send(world, "shared-key")
    b = send(world, "shared-key", {**MESSAGE, "to": ["A"]}, name="B")
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


def test_a_key_is_kept_24_hours(world: World) -> None:
    first = send(world, "k-day")
    world.clock.now += timedelta(hours=23)
    assert send(world, "k-day").json() == first.json()
    world.clock.now += timedelta(hours=2)
    later = send(world, "k-day")
    assert later.status_code == 201 and later.json()["id"] != first.json()["id"]


def test_a_refusal_is_kept_too_but_an_unknown_token_is_not(world: World) -> None:
    refused = send(world, "k-bad", {**MESSAGE, "to": ["nobody"]})
    assert 400 <= refused.status_code < 500
    assert send(world, "k-bad", {**MESSAGE, "to": ["nobody"]}).json() == refused.json()
    stranger = world.client.post(
        "/messages", json=MESSAGE, headers={"Authorization": "Bearer nope", "Idempotency-Key": "k-x"}
    )
    assert stranger.status_code == 401


def test_another_server_process_answers_a_resend_the_same(world: World) -> None:
    first = send(world, "k-other")
    # A second server on the same database: its own register, service, app and client.
    url = world.register.engine.url.render_as_string(hide_password=False)
    other = World(url, world.clock)
    other.tokens = world.tokens
    written = entries(world)
    headers = other.auth("A", **{"Idempotency-Key": "k-other"})
    again = other.client.post("/messages", json=MESSAGE, headers=headers)
    assert again.json() == first.json()
    assert entries(world) == written
    other.close()


@pytest.mark.parametrize("key", ["", "x" * (MAX_KEY_LENGTH + 1), "bad\tkey"])
def test_a_malformed_key_is_a_400_naming_the_header(world: World, key: str) -> None:
    written = entries(world)
    r = send(world, key)
    assert r.status_code == 400, r.text
    assert r.json()["field"] == "Idempotency-Key"
    assert entries(world) == written


@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1, max_size=40))
def test_any_printable_key_replays_the_first_answer(world: World, key: str) -> None:
    first = send(world, key)
    again = send(world, key)
    assert again.status_code == first.status_code and again.json() == first.json()


def test_every_post_documents_the_header_its_refusals_and_the_replay(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    posts = {path: item["post"] for path, item in document["paths"].items() if "post" in item}
    assert "/messages" in posts and "/zones/{zone_id}/sign" in posts
    for path, operation in posts.items():
        (header,) = [p for p in operation["parameters"] if p["in"] == "header" and p["name"] == HEADER_NAME]
        assert header["required"] is False and header["schema"]["maxLength"] == MAX_KEY_LENGTH, path
        responses = operation["responses"]
        assert "idempotency-key-reused" in responses["422"]["description"], path
        assert all(HEADER_NAME in responses[status]["description"] for status in ("400", "409")), path
        successes = [r for status, r in responses.items() if status.startswith("2")]
        assert successes and all("Idempotency-Replayed" in r["headers"] for r in successes), path
    # Only POSTs: a GET takes no key (the middleware passes it through untouched).
    gets = [item["get"] for item in document["paths"].values() if "get" in item]
    assert not [g for g in gets if any(p["name"] == HEADER_NAME for p in g.get("parameters", []))]


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1, max_size=12))
def test_a_key_the_documented_schema_admits_is_never_refused_as_malformed(world: World, key: str) -> None:
    # The schema a client reads (and schemathesis generates from) must admit no key the
    # middleware then refuses with a 400, quotes and blanks included.
    pattern = world.app.openapi()["paths"]["/messages"]["post"]["parameters"][0]["schema"]["pattern"]
    admitted = re.fullmatch(pattern, key) is not None
    status = send(world, key).status_code
    if admitted:
        assert status != 400, key
    if status == 400:
        assert not admitted, key
