"""Texts at the HTTP edge: what PostgreSQL cannot store (NUL), what UTF-8 cannot encode (a
lone surrogate), what is longer than documented, and party names that impersonate others
are each a 422 problem+json naming the field, on both databases, and nothing is written.
Before the edge check these were 500s on PostgreSQL (NUL, over-long ids, a lone surrogate
on both) or rows stored and then unreachable (an over-long id on SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_kit import World, op_doc, sqlite_url, square, zone_doc

from truceline.domain.text import MAX_ID_CHARS, MAX_NAME_CHARS, MAX_TEXT_CHARS

RING = square(36.0, 35.0, 36.2, 35.2)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path, clock) -> Iterator[World]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    w = World(url, clock)
    w.add("admin", "admin")
    w.add("A")
    w.add("B")
    yield w
    w.close()


def _log_size(world: World) -> int:
    return int(world.client.get("/health").json()["tree_size"])


def _refused(world: World, response: Any, field: str) -> dict[str, Any]:
    assert response.status_code == 422, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert field in problem.get("field", ""), problem
    return problem


def _post_raw(world: World, path: str, raw_json: str, who: str = "A") -> Any:
    """POST a body written by hand, so that escapes such as ``\\ud800`` reach the server
    as they are (a client library would refuse to encode a lone surrogate)."""
    return world.client.post(
        path,
        content=raw_json.encode("ascii"),
        headers=world.auth(who, **{"Content-Type": "application/json"}),
    )


@pytest.mark.parametrize(
    ("op_id", "name", "field"),
    [
        ("op\x00nul", "", "id"),
        ("op-ok", "name\x00nul", "name"),
        ("o" * (MAX_ID_CHARS + 1), "", "id"),
        ("op-long-name", "n" * 100_000, "name"),
        ("op\u200bzero-width", "", "id"),
    ],
    ids=["nul-id", "nul-name", "long-id", "long-name", "format-char-id"],
)
def test_operation_texts_refused(world: World, op_id: str, name: str, field: str) -> None:
    before = _log_size(world)
    document = op_doc(op_id, "A", RING, name=name)
    response = world.client.post("/operations", json=document, headers=world.auth("A"))
    _refused(world, response, field)
    assert _log_size(world) == before
    assert world.client.get("/operations", headers=world.auth("A")).json() == []


def test_lone_surrogate_in_operation_id_is_refused(world: World) -> None:
    document = json.dumps(op_doc("op-X", "A", RING)).replace('"op-X"', '"op\\ud800"')
    before = _log_size(world)
    problem = _refused(world, _post_raw(world, "/operations", document), "id")
    assert "surrogate" in problem["detail"]
    assert _log_size(world) == before


def test_lone_surrogate_in_zone_id_is_refused(world: World) -> None:
    proposal = {"document": zone_doc("Z-X", RING, party="A"), "signatories": ["B"]}
    body = json.dumps(proposal).replace('"Z-X"', '"Z\\udfff"')
    before = _log_size(world)
    _refused(world, _post_raw(world, "/zones", body), "id")
    assert _log_size(world) == before


def test_nul_in_zone_name_and_in_a_rejection_reason(world: World) -> None:
    before = _log_size(world)
    response = world.client.post(
        "/zones", json={"document": zone_doc("Z-1", RING, party="A", name="Zone\x00"), "signatories": ["B"]},
        headers=world.auth("A"),
    )
    _refused(world, response, "name")
    assert _log_size(world) == before

    proposed = world.client.post(
        "/zones",
        json={"document": zone_doc("Z-1", RING, party="A"), "signatories": ["B"]},
        headers=world.auth("A"),
    )
    assert proposed.status_code == 201, proposed.text
    version = proposed.json()
    after_proposal = _log_size(world)
    response = world.client.post(
        "/zones/Z-1/reject",
        json={"version": version["version"], "hash": version["hash"], "reason": "no\x00"},
        headers=world.auth("B"),
    )
    _refused(world, response, "reason")
    assert _log_size(world) == after_proposal
    assert world.client.get("/zones/Z-1", headers=world.auth("B")).json()["state"] == "proposed"


def test_nul_in_a_message_body_is_refused(world: World) -> None:
    before = _log_size(world)
    response = world.client.post(
        "/messages", json={"to": ["B"], "text": "hello\x00", "language": "en"}, headers=world.auth("A")
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert _log_size(world) == before


@pytest.mark.parametrize("path", ["/operations/op%00", "/zones/Z%00", "/operations/op%00/history"])
def test_nul_in_a_path_id_is_refused(world: World, path: str) -> None:
    response = world.client.get(path, headers=world.auth("A"))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_over_long_path_id_is_refused_alike(world: World) -> None:
    response = world.client.get("/operations/" + "o" * (MAX_ID_CHARS + 1), headers=world.auth("A"))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "name",
    ["B\u200b", "A\u202e", "\u2066A\u2069", "A\x00", "A\ud800", "x" * (MAX_NAME_CHARS + 1), " A", "A\nB"],
    ids=["zero-width", "rtl-override", "isolate", "nul", "surrogate", "long", "space", "newline"],
)
def test_impersonating_or_unstorable_party_names_are_refused(world: World, name: str) -> None:
    before = _log_size(world)
    body = json.dumps({"name": name, "role": "party"})  # ASCII escapes keep a lone surrogate as sent
    response = _post_raw(world, "/parties", body, who="admin")
    _refused(world, response, "name")
    assert _log_size(world) == before
    names = [p["name"] for p in world.client.get("/parties", headers=world.auth("admin")).json()]
    assert sorted(names) == ["A", "B", "admin"]


def test_a_party_name_in_another_script_is_accepted(world: World) -> None:
    response = world.client.post(
        "/parties", json={"name": "الهلال الأحمر", "role": "humanitarian"}, headers=world.auth("admin")
    )
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("header", ["9223372036854775808", str(2**62 + 1), "-1", "1e3"])
def test_last_event_id_out_of_range_is_refused(world: World, header: str) -> None:
    response = world.client.get(
        "/stream?once=true", headers=world.auth("A", **{"Last-Event-ID": header})
    )
    assert response.status_code == 422, response.text
    assert response.json()["field"] == "Last-Event-ID"


def test_the_largest_event_id_is_answered(world: World) -> None:
    response = world.client.get("/stream?once=true", headers=world.auth("A", **{"Last-Event-ID": str(2**62)}))
    assert response.status_code == 200, response.text


def test_texts_up_to_the_limits_are_stored(world: World) -> None:
    op_id = "o" * MAX_ID_CHARS
    response = world.client.post(
        "/operations", json=op_doc(op_id, "A", RING, name="n" * MAX_NAME_CHARS), headers=world.auth("A")
    )
    assert response.status_code == 201, response.text
    got = world.client.get(f"/operations/{op_id}", headers=world.auth("A"))
    assert got.status_code == 200, got.text
    message = world.client.post(
        "/messages",
        json={"to": ["B"], "text": "b" * MAX_TEXT_CHARS, "language": "en"},
        headers=world.auth("A"),
    )
    assert message.status_code == 201, message.text
