"""Revoking a party and rotating its token (admin API and CLI): each is a ledger entry, the
old token gets 401 at once, even when another process wrote the change while the server
had the token cached, an open stream ends, and both survive ``log rebuild``."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_kit import World, sqlite_url
from typer.testing import CliRunner

from truceline.cli import app as cli_app
from truceline.service.parties import revoke_party, rotate_token
from truceline.service.register import open_register
from truceline.store import projections

runner = CliRunner()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def world(db_url: str, clock) -> Iterator[World]:
    w = World(db_url, clock)
    w.add("admin", "admin")
    w.add("A")
    w.add("B")
    yield w
    w.close()


def _problem(response, status: int, slug: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:truceline:problem:{slug}", body
    if field is not None:
        assert body["field"] == field, body
    return body


def test_an_admin_revokes_a_party_and_its_token_is_refused(world: World) -> None:
    a = world.ids["A"]
    assert world.client.get("/me", headers=world.auth("A")).status_code == 200
    _problem(world.client.post(f"/parties/{a}/revoke", headers=world.auth("B")), 403, "forbidden")
    missing = world.client.post("/parties/nobody/revoke", headers=world.auth("admin"))
    _problem(missing, 404, "not-found", "party")

    r = world.client.post(
        f"/parties/{a}/revoke", json={"reason": "left the talks"}, headers=world.auth("admin")
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"id": a, "name": "A", "revoked": True}
    me = world.client.get("/me", headers=world.auth("A"))
    assert "revoked" in _problem(me, 401, "revoked", "Authorization")["detail"]
    listed = world.client.get("/parties", headers=world.auth("B")).json()
    assert {p["name"]: p["revoked"] for p in listed} == {"admin": False, "A": True, "B": False}
    _problem(world.client.post(f"/parties/{a}/revoke", headers=world.auth("admin")), 409, "conflict", "party")
    _problem(world.client.post(f"/parties/{a}/rotate-token", headers=world.auth("admin")), 409, "conflict")

    with world.register.engine.connect() as conn:
        entries = list(world.register.ledger.entries(conn))
    revoked = [e for e in entries if e.type == "party.revoked"]
    assert [(e.author, e.payload) for e in revoked] == [
        (world.ids["admin"], {"party_id": a, "reason": "left the talks"})
    ]


def test_a_rotated_token_replaces_the_old_one(world: World) -> None:
    a = world.ids["A"]
    _problem(world.client.post(f"/parties/{a}/rotate-token", headers=world.auth("A")), 403, "forbidden")
    r = world.client.post(f"/parties/{a}/rotate-token", headers=world.auth("admin"))
    assert r.status_code == 200, r.text
    new = r.json()["token"]
    assert new.startswith("tl_") and new != world.tokens["A"]
    me = world.client.get("/me", headers=world.auth("A"))
    assert "replaced" in _problem(me, 401, "revoked", "Authorization")["detail"]
    assert world.client.get("/me", headers={"Authorization": f"Bearer {new}"}).json()["name"] == "A"
    with world.register.engine.connect() as conn:
        (rotated,) = [e for e in world.register.ledger.entries(conn) if e.type == "party.token_rotated"]
    assert set(rotated.payload) == {"party_id", "token_hash"} and new not in json.dumps(rotated.payload)


def test_a_revocation_by_another_process_is_refused_at_once(world: World, db_url: str, clock) -> None:
    # The server has B's token cached (the cache lives 30 s) ...
    assert world.client.get("/me", headers=world.auth("B")).status_code == 200
    assert world.service.principals.cached(world.tokens["B"]) is not None
    # ... when another process (the CLI) revokes B and rotates A's token on the database.
    other = open_register(db_url, clock)
    try:
        revoke_party(other, "B")
        _party, new_a = rotate_token(other, "A")
    finally:
        other.engine.dispose()
    _problem(world.client.get("/me", headers=world.auth("B")), 401, "revoked", "Authorization")
    _problem(world.client.get("/messages", headers=world.auth("A")), 401, "revoked", "Authorization")
    assert world.client.get("/me", headers={"Authorization": f"Bearer {new_a}"}).status_code == 200


def test_revocation_and_rotation_survive_a_rebuild(world: World) -> None:
    world.client.post(f"/parties/{world.ids['B']}/revoke", headers=world.auth("admin"))
    rotated = world.client.post(f"/parties/{world.ids['A']}/rotate-token", headers=world.auth("admin"))
    new_a = rotated.json()["token"]
    with world.register.engine.connect() as conn:
        before = projections.snapshot(conn)
    assert world.register.rebuild() > 0
    with world.register.engine.connect() as conn:
        assert projections.snapshot(conn) == before
    world.service.principals.clear()
    _problem(world.client.get("/me", headers=world.auth("B")), 401, "revoked")
    _problem(world.client.get("/me", headers=world.auth("A")), 401, "revoked")
    assert world.client.get("/me", headers={"Authorization": f"Bearer {new_a}"}).status_code == 200


def test_cli_party_revoke_and_rotate_token(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    added = runner.invoke(cli_app, ["party", "add", "North", "--json", "--db", db])
    assert added.exit_code == 0, added.output
    north = json.loads(added.stdout)

    rotated = runner.invoke(cli_app, ["party", "rotate-token", "North", "--json", "--db", db])
    assert rotated.exit_code == 0, rotated.output
    out = json.loads(rotated.stdout)
    assert out["id"] == north["id"] and out["token"] != north["token"]
    plain = runner.invoke(cli_app, ["party", "rotate-token", north["id"], "--db", db])  # by id
    assert plain.exit_code == 0 and plain.stdout.strip().splitlines()[-1].startswith("tl_")

    revoked = runner.invoke(cli_app, ["party", "revoke", "North", "--reason", "left", "--db", db])
    assert revoked.exit_code == 0, revoked.output
    assert "Revoked North" in revoked.stdout

    refused = (["party", "revoke", "North"], ["party", "rotate-token", "North"], ["party", "revoke", "X"])
    for args in refused:
        failed = runner.invoke(cli_app, [*args, "--db", db])
        assert failed.exit_code == 2, failed.output
        assert len(failed.stderr.strip().splitlines()) == 1 and "Traceback" not in failed.output
    assert "revoked already" in runner.invoke(cli_app, ["party", "revoke", "North", "--db", db]).stderr
    assert "no party" in runner.invoke(cli_app, ["party", "revoke", "X", "--db", db]).stderr


def test_an_open_stream_ends_when_its_party_is_revoked(world: World) -> None:
    # The stream checks its token before every batch and every keep-alive (0.2 s here).
    with world.client.stream("GET", "/stream", headers=world.auth("A")) as response:
        assert response.status_code == 200
        lines = response.iter_lines()
        assert next(lines).startswith("retry:")
        revoke_party(world.service, "A")
        rest = list(itertools.islice(lines, 200))  # without the check: keep-alives for ever
    assert len(rest) < 200 and not any(line.startswith("data:") for line in rest)
    _problem(world.client.get("/stream", headers=world.auth("A")), 401, "revoked")
