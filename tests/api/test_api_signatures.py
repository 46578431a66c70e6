"""Signed requests (RFC 9421): a party holding a request key signs its writes with a stock
implementation (here the ``http-message-signatures`` library used directly, as a third
party would, not through our client); a request sent twice is refused, as are a stale
``created``, a body that does not match its Content-Digest, and a bad signature."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_kit import World, running_server, sqlite_url
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import (
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

from truceline.ledger.canonical import b64decode, b64encode
from truceline.ledger.keys import public_key_from_raw, raw_public_key
from truceline.service.register import open_register

MESSAGE = {"to": ["A"], "text": "Hold fire at grid 37S", "language": "en"}
BASE = "http://testserver"


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("admin", "admin")
    w.add("A")
    yield w
    w.close()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def _signer_party(world: World, key: Ed25519PrivateKey, name: str = "Signer") -> str:
    world.add(name, request_key=b64encode(raw_public_key(key.public_key())))
    return world.ids[name]


def signed(
    key: Ed25519PrivateKey,
    key_id: str,
    created: datetime,
    body: bytes,
    *,
    path: str = "/messages",
    method: str = "POST",
    nonce: str | None = "n-0123456789abcdef",
    components: Sequence[str] = ("@method", "@path", "@query"),
    with_body: bool = True,
) -> dict[str, str]:
    """The headers a third party's stock RFC 9421 signer adds: Content-Digest (from the
    body) and Signature-Input / Signature."""
    request = httpx.Request(method, BASE + path, content=body, headers={"Content-Type": "application/json"})
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={key_id: key}),
    )
    signer.sign(
        request,
        key_id=key_id,
        created=created,
        nonce=nonce,
        covered_component_ids=components,
        body=body if with_body else None,
    )
    names = ("content-type", "content-digest", "signature-input", "signature")
    return {k: v for k, v in request.headers.items() if k in names}


def _problem(response: httpx.Response, status: int, slug: str, field: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:truceline:problem:{slug}", body
    assert body["field"] == field, body
    return body


def _post(world: World, name: str, body: bytes, headers: dict[str, str], path: str = "/messages") -> Any:
    return world.client.post(path, content=body, headers={**world.auth(name), **headers})


def test_a_signed_request_is_accepted_once_and_its_signature_is_kept_in_the_ledger(world, key) -> None:
    party_id = _signer_party(world, key)
    body = json.dumps(MESSAGE).encode()
    headers = signed(key, party_id, world.clock.now, body)
    first = _post(world, "Signer", body, headers)
    assert first.status_code == 201, first.text

    # The same signed request again: refused, and no second message.
    again = _post(world, "Signer", body, headers)
    _problem(again, 401, "replayed-nonce", "nonce")
    inbox = world.client.get("/messages", headers=world.auth("A")).json()
    assert [m["text"] for m in inbox] == [MESSAGE["text"]]
    # Reads need no signature.
    assert world.client.get("/messages", headers=world.auth("Signer")).status_code == 200

    # The party's own signature is in the ledger, and verifies offline with the stock
    # library and the request key of its registration entry alone.
    with world.register.engine.connect() as conn:
        entries = list(world.register.ledger.entries(conn))
    registered = next(e for e in entries if e.type == "party.registered" and e.payload["name"] == "Signer")
    message_id = first.json()["id"]
    sent = next(e for e in entries if e.type == "message.sent" and e.payload["message_id"] == message_id)
    record = sent.payload["request"]
    assert record["body"].encode() == body and record["method"] == "POST"
    assert record["path"] == "/messages" and record["query"] == ""
    assert sent.author == registered.payload["party_id"]
    public = public_key_from_raw(b64decode(registered.payload["request_key"], field="k", size=32))
    target = record["path"] + (f"?{record['query']}" if record["query"] else "")
    kept = httpx.Request(
        record["method"],
        BASE + target,
        headers={
            "Content-Digest": record["content_digest"],
            "Signature-Input": record["signature_input"],
            "Signature": record["signature"],
        },
    )
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={party_id: public}, private_keys={}),
    )
    (result,) = verifier.verify(kept, max_age=None, body=record["body"].encode())
    assert result.nonce == "n-0123456789abcdef" and result.body == body


def test_refusals_name_what_failed(world, key) -> None:
    party_id = _signer_party(world, key)
    body = json.dumps(MESSAGE).encode()
    now = world.clock.now

    # Not signed at all; and the scheme this replaced is refused with a pointer.
    plain = {"Content-Type": "application/json"}
    _problem(_post(world, "Signer", body, plain), 401, "bad-signature", "Signature-Input")
    old = _post(world, "Signer", body, {**plain, "Truceline-Signature": "AAAA"})
    assert "Truceline-Signature is no longer accepted" in old.json()["detail"]

    # Signed for another path, or another method: the signature does not verify here.
    other_path = signed(key, party_id, now, body, path="/zones", nonce="n-path-000001")
    _problem(_post(world, "Signer", body, other_path), 401, "bad-signature", "Signature")
    other_query = signed(key, party_id, now, body, path="/messages?x=1", nonce="n-query-00001")
    _problem(_post(world, "Signer", body, other_query), 401, "bad-signature", "Signature")

    # The body changed on the way: it no longer matches its (signed) Content-Digest.
    headers = signed(key, party_id, now, body, nonce="n-digest-0001")
    tampered = json.dumps({**MESSAGE, "text": "Open fire"}).encode()
    _problem(_post(world, "Signer", tampered, headers), 401, "digest-mismatch", "Content-Digest")
    # ... or a new digest was put in for the new body: then the signature fails.
    forged = signed(key, party_id, now, tampered, nonce="n-digest-0002")
    _problem(
        _post(world, "Signer", tampered, {**headers, "content-digest": forged["content-digest"]}),
        401,
        "bad-signature",
        "Signature",
    )
    # No Content-Digest at all (signed without the body).
    no_digest = signed(key, party_id, now, body, nonce="n-digest-0003", with_body=False)
    _problem(_post(world, "Signer", body, no_digest), 401, "digest-mismatch", "Content-Digest")

    # created too old, or too far ahead of the server's clock.
    stale = signed(key, party_id, now - timedelta(seconds=400), body, nonce="n-stale-00001")
    detail = _problem(_post(world, "Signer", body, stale), 401, "stale-signature", "created")["detail"]
    assert "300 s" in detail
    ahead = signed(key, party_id, now + timedelta(seconds=120), body, nonce="n-ahead-00001")
    _problem(_post(world, "Signer", body, ahead), 401, "stale-signature", "created")

    # No nonce; a keyid that is not the caller; another party's key.
    no_nonce = signed(key, party_id, now, body, nonce=None)
    _problem(_post(world, "Signer", body, no_nonce), 401, "bad-signature", "nonce")
    wrong_id = signed(key, world.ids["A"], now, body, nonce="n-keyid-00001")
    _problem(_post(world, "Signer", body, wrong_id), 401, "bad-signature", "keyid")
    stranger = signed(Ed25519PrivateKey.generate(), party_id, now, body, nonce="n-other-00001")
    _problem(_post(world, "Signer", body, stranger), 401, "bad-signature", "Signature")

    # The content digest must be covered: a signature over method and path alone is refused.
    uncovered = signed(key, party_id, now, b"", nonce="n-cover-00001", components=("@method", "@path"))
    _problem(_post(world, "Signer", body, uncovered), 401, "bad-signature", "Signature")

    # None of those wrote anything; a correct one still goes through (its nonces were not
    # burnt by the refusals, which never got as far).
    assert world.client.get("/messages", headers=world.auth("A")).json() == []
    good = signed(key, party_id, world.clock.now, body, nonce="n-digest-0001")
    assert _post(world, "Signer", body, good).status_code == 201


def test_an_empty_body_is_signed_with_the_digest_of_nothing(world, key) -> None:
    party_id = _signer_party(world, key)
    body = json.dumps({"to": ["Signer"], "text": "ack me", "language": "en"}).encode()
    sent = _post(world, "A", body, {"Content-Type": "application/json"})
    message_id = sent.json()["id"]
    path = f"/messages/{message_id}/ack"
    headers = signed(key, party_id, world.clock.now, b"", path=path)
    assert world.client.post(path, headers={**world.auth("Signer"), **headers}).status_code == 200


def test_a_replay_is_refused_by_another_server_and_after_a_restart_and_a_rebuild(
    db_url: str, clock, key
) -> None:
    first = World(db_url, clock)
    first.add("A")
    party_id = _signer_party(first, key)
    body = json.dumps(MESSAGE).encode()
    headers = signed(key, party_id, clock.now, body)
    assert _post(first, "Signer", body, headers).status_code == 201

    # A second server on the same database refuses the same request.
    second = World(db_url, clock)
    second.tokens, second.ids = first.tokens, first.ids
    _problem(_post(second, "Signer", body, headers), 401, "replayed-nonce", "nonce")
    first.close()
    second.close()

    # After `log rebuild` and a restart: still refused (the nonces are not a projection).
    register = open_register(db_url, clock)
    register.rebuild()
    register.engine.dispose()
    third = World(db_url, clock)
    third.tokens, third.ids = first.tokens, first.ids
    try:
        _problem(_post(third, "Signer", body, headers), 401, "replayed-nonce", "nonce")
    finally:
        third.close()


def test_stale_nonces_are_pruned_and_a_party_without_a_key_signs_nothing(world, key) -> None:
    from sqlalchemy import func, select

    from truceline.store.schema import request_nonces

    party_id = _signer_party(world, key)
    body = json.dumps(MESSAGE).encode()
    for i in range(3):
        headers = signed(key, party_id, world.clock.now, body, nonce=f"n-prune-{i:06d}")
        assert _post(world, "Signer", body, headers).status_code == 201
    world.clock.now += timedelta(hours=1)  # the three are far outside the window now
    headers = signed(key, party_id, world.clock.now, body, nonce="n-prune-later")
    assert _post(world, "Signer", body, headers).status_code == 201
    with world.register.engine.connect() as conn:
        kept = conn.execute(select(request_nonces.c.nonce)).scalars().all()
    assert kept == ["n-prune-later"]

    # A party without a request key: its writes carry no signature and keep no nonce.
    to_signer = json.dumps({**MESSAGE, "to": ["Signer"]}).encode()
    unsigned = _post(world, "A", to_signer, {"Content-Type": "application/json"})
    assert unsigned.status_code == 201
    with world.register.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(request_nonces)).scalar() == 1


def _recipes() -> tuple[str, list[str]]:
    """The Python recipe and the shell blocks of docs/api.md's "Signed requests" section."""
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    section = text[text.index("## Signed requests") : text.index("## Revoking a party")]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, flags=re.DOTALL)
    python = [code for lang, code in blocks if lang == "python"]
    shell = [code for lang, code in blocks if lang == "sh"]
    assert len(python) == 1 and len(shell) == 2
    return python[0], shell


def _bash(code: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        ["bash", "-euc", code], cwd=cwd, env=env, check=True, capture_output=True, text=True
    )
    return done.stdout


@pytest.mark.skipif(not (shutil.which("openssl") and shutil.which("curl")), reason="needs openssl and curl")
def test_the_recipes_in_docs_api_md_sign_requests_the_server_accepts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    python_recipe, (make_key, sign_and_send) = _recipes()
    # A server on the real clock: the shell recipe stamps `created` with `date +%s`.
    w = World(sqlite_url(tmp_path), lambda: datetime.now(UTC))
    try:
        w.add("B")
        _bash(make_key, tmp_path)
        w.add("A", request_key=(tmp_path / "key.pub").read_text().strip())
        with running_server(w.app) as url:
            env = {**os.environ, "TRUCELINE_URL": url, "TRUCELINE_TOKEN": w.tokens["A"]}
            env["PARTY_ID"] = w.ids["A"]
            assert "id" in json.loads(_bash(sign_and_send, tmp_path, env))

            monkeypatch.chdir(tmp_path)  # the Python recipe reads key.pem from the working folder
            exec(python_recipe, {"url": url, "token": w.tokens["A"], "party_id": w.ids["A"]})

            inbox = httpx.get(url + "/messages", headers=w.auth("B")).json()
            assert [m["text"] for m in inbox] == ["Hold fire at grid 37S"] * 2
            # The shell recipe's request sent again as it was (same nonce): a replay.
            fixed = sign_and_send.replace("$(openssl rand -hex 16)", "fixed-nonce-0001")
            assert fixed != sign_and_send
            assert "id" in json.loads(_bash(fixed, tmp_path, env))
            replay = json.loads(_bash(fixed, tmp_path, env))
            assert replay["type"] == "urn:truceline:problem:replayed-nonce"
    finally:
        w.close()
