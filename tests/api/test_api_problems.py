"""Errors as RFC 9457 problem+json naming the field; the body size limit; the OpenAPI
document. (Signed requests: test_api_signatures.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_kit import World, sqlite_url, square, zone_doc

from truceline.api.problems import MAX_BODY_BYTES
from truceline.ledger import fingerprint


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("admin", "admin")
    w.add("A")
    w.add("B")
    yield w
    w.close()


def _is_problem(response: object, status: int, slug: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    assert response.headers["content-type"].startswith("application/problem+json")  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["type"] == f"urn:truceline:problem:{slug}" and body["status"] == status
    assert body["title"] and body["detail"]
    if field is not None:
        assert body["field"] == field, body
    return body


def test_openapi_document_and_health(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    assert world.client.get("/health").json()["status"] == "ok"


def test_validation_errors_name_the_field(world: World) -> None:
    auth = world.auth("A")
    # pydantic's own validation, mapped to a problem naming the field.
    _is_problem(
        world.client.post("/zones", json={"document": {}, "signatories": "B"}, headers=auth),
        422,
        "validation",
        "signatories",
    )
    _is_problem(
        world.client.post("/zones/z/sign", json={"version": 0, "hash": "x" * 64}, headers=auth),
        422,
        "validation",
        "version",
    )
    _is_problem(world.client.get("/zones/z/diff?from=1", headers=auth), 422, "validation", "to")
    # The domain's validation: the field inside the document.
    bad = zone_doc("z", square(36.0, 35.0, 36.5, 35.5), party="A", lower_m=5000, upper_m=100)
    body = _is_problem(world.client.post("/zones", json={"document": bad}, headers=auth), 422, "validation")
    assert "altitude" in body["field"]
    other = zone_doc("z", square(36.0, 35.0, 36.5, 35.5), party="B")
    _is_problem(
        world.client.post("/zones", json={"document": other}, headers=auth),
        422,
        "validation",
        "properties.party",
    )
    _is_problem(world.client.post("/zones", json={"document": {"type": "Nope"}}, headers=auth), 422, "format")
    _is_problem(
        world.client.post(
            "/zones",
            json={
                "document": zone_doc("z", square(36, 35, 36.5, 35.5), party="A"),
                "signatories": ["Nobody"],
            },
            headers=auth,
        ),
        422,
        "validation",
        "signatories[0]",
    )
    _is_problem(world.client.get("/zones/none", headers=auth), 404, "not-found", "zone_id")
    _is_problem(
        world.client.post(
            "/messages", content=b"{not json", headers={**auth, "Content-Type": "application/json"}
        ),
        422,
        "validation",
    )
    _is_problem(world.client.delete("/zones", headers=auth), 405, "method-not-allowed")
    _is_problem(world.client.get("/nowhere", headers=auth), 404, "not-found")


def test_body_size_limit(world: World) -> None:
    big = b'{"to": ["B"], "language": "en", "text": "' + b"x" * (MAX_BODY_BYTES + 10) + b'"}'
    headers = {**world.auth("A"), "Content-Type": "application/json"}
    _is_problem(world.client.post("/messages", content=big, headers=headers), 413, "too-large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield big[: MAX_BODY_BYTES // 2]
        yield big[MAX_BODY_BYTES // 2 :]

    _is_problem(world.client.post("/messages", content=chunks(), headers=headers), 413, "too-large")


def test_admin_registers_parties(world: World) -> None:
    r = world.client.post(
        "/parties",
        json={"name": "Observer One", "role": "observer", "language": "ar"},
        headers=world.auth("admin"),
    )
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    me = world.client.get("/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["name"], me["role"], me["language"]) == ("Observer One", "observer", "ar")
    _is_problem(
        world.client.post("/parties", json={"name": "Observer One"}, headers=world.auth("admin")),
        409,
        "conflict",
        "name",
    )
    _is_problem(
        world.client.post("/parties", json={"name": "X", "language": "xx"}, headers=world.auth("admin")),
        422,
        "validation",
        "language",
    )
    names = [p["name"] for p in world.client.get("/parties", headers=world.auth("A")).json()]
    assert "Observer One" in names
    assert all(
        "token" not in p and "token_hash" not in p
        for p in world.client.get("/parties", headers=world.auth("A")).json()
    )


def test_a_server_holding_another_key_than_the_log_refuses_writes_with_409(
    tmp_path: Path, clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both servers start on the empty log, each with its own key; the first to write
    # records its key, and the other then refuses every write, naming both keys.
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys-1"))
    first = World(sqlite_url(tmp_path), clock)
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys-2"))
    second = World(sqlite_url(tmp_path), clock)
    try:
        first.add("admin", "admin")
        refused = second.client.post(
            "/parties", json={"name": "B", "role": "party"}, headers=first.auth("admin")
        )
        body = _is_problem(refused, 409, "log-key", "log_key")
        assert fingerprint(first.register.ledger.public_key) in body["detail"]
        assert fingerprint(second.register.ledger.public_key) in body["detail"]
        assert [p.name for p in first.register.parties()] == ["admin"]
        ok = first.client.post("/parties", json={"name": "B", "role": "party"}, headers=first.auth("admin"))
        assert ok.status_code == 201, ok.text
    finally:
        second.close()
        first.close()
