"""The CLI as a client of a real server: uvicorn on a free loopback port, in a thread.
``party add`` writes to the database while the server runs; ``zones``, ``ops file``,
``inbox`` and ``ack`` talk HTTP to it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from api_kit import free_port, op_doc, running_server, square, zone_doc
from typer.testing import CliRunner

from truceline.api.app import create_app
from truceline.cli import app as cli_app
from truceline.service.register import open_register
from truceline.service.warmup import warm_up

runner = CliRunner()


def _party(db: str, name: str, *args: str) -> dict[str, str]:
    result = runner.invoke(cli_app, ["party", "add", name, *args, "--json", "--db", db])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    db = str(Path(tmp_path_factory.mktemp("cli")) / "served.db")
    _party(db, "early-admin", "--role", "admin")  # before the server starts
    register = open_register(f"sqlite:///{db}", lambda: datetime.now(UTC))
    # As `truceline serve` does: on a cold numba cache (a fresh CI machine) the first filing
    # would otherwise compile the kernels inside the client's 10 s timeout.
    warm_up()
    try:
        with running_server(create_app(register, tick_interval_s=None)) as url:
            yield url, db
    finally:
        register.engine.dispose()


def _run(url: str, token: str, *args: str) -> object:
    return runner.invoke(cli_app, list(args), env={"TRUCELINE_URL": url, "TRUCELINE_TOKEN": token})


def test_party_add_prints_the_token_once_and_stores_its_hash(server: tuple[str, str]) -> None:
    url, db = server
    created = _party(db, "late-party", "--language", "uk")  # while the server runs
    assert set(created) == {"id", "name", "role", "language", "token"}
    me = httpx.get(url + "/me", headers={"Authorization": f"Bearer {created['token']}"}).json()
    assert me["name"] == "late-party" and me["language"] == "uk"
    assert created["token"].encode() not in Path(db).read_bytes()
    again = runner.invoke(cli_app, ["party", "add", "late-party", "--db", db])
    assert again.exit_code == 2 and "already registered" in again.stderr
    bad = runner.invoke(cli_app, ["party", "add", "x", "--role", "king", "--db", db])
    assert bad.exit_code == 2 and "role" in bad.stderr


def test_client_commands(server: tuple[str, str], tmp_path: Path) -> None:
    url, db = server
    north = _party(db, "North", "--language", "fr")["token"]
    south = _party(db, "South", "--language", "ru")["token"]
    east = _party(db, "East")["token"]
    auth = {"Authorization": f"Bearer {north}"}
    proposal = {
        "document": zone_doc("z-cli", square(40.0, 30.0, 40.5, 30.5), party="North"),
        "signatories": ["East"],  # it binds East once East has signed
    }
    r = httpx.post(url + "/zones", json=proposal, headers=auth)
    assert r.status_code == 201, r.text
    signature = {"version": 1, "hash": r.json()["hash"]}
    r = httpx.post(url + "/zones/z-cli/sign", json=signature, headers=auth)
    assert r.json()["active"] is False
    r = httpx.post(url + "/zones/z-cli/sign", json=signature, headers={"Authorization": f"Bearer {east}"})
    assert r.json()["active"] is True

    listed = _run(url, east, "zones", "--json")
    assert listed.exit_code == 0, listed.output
    assert [(z["id"], z["state"]) for z in json.loads(listed.stdout)] == [("z-cli", "active")]
    assert "z-cli" in _run(url, east, "zones").stdout

    # Refused: exit 1 and the conflict printed.
    refused = tmp_path / "refused.geojson"
    refused.write_text(json.dumps(op_doc("op-east", "East", square(40.1, 30.1, 40.2, 30.2))))
    result = _run(url, east, "ops", "file", str(refused))
    assert result.exit_code == 1, result.output
    assert "z-cli" in result.stdout and "Refused" in result.stderr

    # Accepted with a conflict: exit 0, and both parties find the message in their inbox.
    mine = tmp_path / "north.geojson"
    mine.write_text(json.dumps(op_doc("op-north", "North", square(41.0, 30.0, 41.2, 30.2))))
    assert _run(url, north, "ops", "file", str(mine)).exit_code == 0
    theirs = tmp_path / "south.geojson"
    theirs.write_text(json.dumps(op_doc("op-south", "South", square(41.1, 30.1, 41.3, 30.3))))
    result = _run(url, south, "ops", "file", str(theirs), "--json")
    assert result.exit_code == 0, result.output
    [message_id] = json.loads(result.stdout)["messages"]
    inbox = _run(url, north, "inbox", "--pending", "--json")
    assert message_id in [m["id"] for m in json.loads(inbox.stdout)]
    assert message_id in _run(url, north, "inbox", "--language", "en").stdout

    # An update (new version) is accepted too; a second filing of the same id is an error.
    theirs.write_text(json.dumps(op_doc("op-south", "South", square(42.1, 30.1, 42.3, 30.3))))
    assert _run(url, south, "ops", "file", str(theirs), "--update").exit_code == 0
    again = _run(url, south, "ops", "file", str(theirs))
    assert again.exit_code == 2 and "already exists" in again.stderr

    assert _run(url, north, "ack", message_id).exit_code == 0
    twice = _run(url, north, "ack", message_id)
    assert twice.exit_code == 2 and "already acknowledged" in twice.stderr
    pending = json.loads(_run(url, north, "inbox", "--pending", "--json").stdout)
    assert message_id not in [m["id"] for m in pending]


def test_imported_zones_are_listed_by_the_zones_client(server: tuple[str, str], tmp_path: Path) -> None:
    url, db = server
    token = _party(db, "Reader")["token"]
    agreed = tmp_path / "agreed.geojson"
    agreed.write_text(json.dumps(zone_doc("z-agreed", square(44.0, 30.0, 44.5, 30.5), party="North")))
    # `truceline import` on the served database, while the server runs.
    imported = runner.invoke(cli_app, ["import", str(agreed), "--db", db])
    assert imported.exit_code == 0, imported.output
    listed = {z["id"]: z for z in json.loads(_run(url, token, "zones", "--json").stdout)}
    assert (listed["z-agreed"]["origin"], listed["z-agreed"]["binds"]) == ("imported", "all")
    table = _run(url, token, "zones").stdout
    assert "z-agreed" in table and "imported" in table


def test_client_errors_exit_2(server: tuple[str, str], tmp_path: Path) -> None:
    url, db = server
    token = _party(db, "West")["token"]
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [{"type": "Feature"}]}')
    result = _run(url, token, "ops", "file", str(bad))
    assert result.exit_code == 2 and "HTTP 422" in result.stderr
    assert _run(url, "tl_wrong", "zones").exit_code == 2
    closed = f"http://127.0.0.1:{free_port()}"
    result = _run(closed, token, "inbox")
    assert result.exit_code == 2 and "cannot reach" in result.stderr
    missing = _run(url, token, "ops", "file", str(tmp_path / "nope.json"))
    assert missing.exit_code == 2


def test_a_party_holding_a_request_key_uses_the_cli_with_its_key(
    server: tuple[str, str], tmp_path: Path
) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from truceline.ledger.canonical import b64encode
    from truceline.ledger.keys import raw_public_key

    url, db = server
    key = Ed25519PrivateKey.generate()
    pem = tmp_path / "signer.pem"  # as `openssl genpkey -algorithm ed25519 -out signer.pem` writes
    pem.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    signer = _party(db, "Signer", "--public-key", b64encode(raw_public_key(key.public_key())))["token"]
    other = _party(db, "Sender")["token"]
    r = httpx.post(
        url + "/messages",
        json={"to": ["Signer"], "text": "Confirm receipt", "language": "en"},
        headers={"Authorization": f"Bearer {other}"},
    )
    message_id = r.json()["id"]

    # Without its key the party's writes are refused (one line, exit 2), reads work.
    unsigned = _run(url, signer, "ack", message_id)
    assert unsigned.exit_code == 2 and "HTTP 401" in unsigned.stderr and "sign the request" in unsigned.stderr
    assert _run(url, signer, "inbox").exit_code == 0
    # With --key (or TRUCELINE_KEY) every write is signed.
    acked = _run(url, signer, "ack", message_id, "--key", str(pem))
    assert acked.exit_code == 0, acked.output
    plan = tmp_path / "signer.geojson"
    plan.write_text(json.dumps(op_doc("op-signer", "Signer", square(50.0, 30.0, 50.1, 30.1))))
    filed = runner.invoke(
        cli_app,
        ["ops", "file", str(plan)],
        env={"TRUCELINE_URL": url, "TRUCELINE_TOKEN": signer, "TRUCELINE_KEY": str(pem)},
    )
    assert filed.exit_code == 0, filed.output
    # A key file that is not one: one line, exit 2.
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    bad = _run(url, signer, "ack", message_id, "--key", str(junk))
    assert bad.exit_code == 2 and "key" in bad.stderr and "Traceback" not in bad.output


def test_serve_command(tmp_path: Path) -> None:
    import subprocess
    import sys
    import time

    db = str(tmp_path / "serve.db")
    token = _party(db, "boss", "--role", "admin")["token"]
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from truceline.cli import app; app()",
            "serve",
            "--port",
            str(port),
            "--db",
            db,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20.0
        while True:  # bounded start-up wait
            try:
                health = httpx.get(url + "/health", timeout=1.0)
                break
            except httpx.HTTPError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "truceline serve did not start within 20 s"
                time.sleep(0.1)
        assert health.json() == {"status": "ok", "tree_size": 1}
        me = httpx.get(url + "/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["name"] == "boss"
    finally:
        process.terminate()
        process.wait(timeout=10)


ISO_UTC = re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\b")


def test_tables_follow_the_reader_language(server: tuple[str, str], tmp_path: Path) -> None:
    url, db = server
    nord = _party(db, "Nord", "--language", "fr")["token"]
    sud = _party(db, "Sud", "--language", "ru")["token"]
    auth = {"Authorization": f"Bearer {nord}"}
    r = httpx.post(
        url + "/zones",
        json={
            "document": zone_doc("z-fr", square(50.0, 30.0, 50.5, 30.5), party="Nord"),
            "signatories": ["Sud"],
        },
        headers=auth,
    )
    for token in (nord, sud):  # Sud signs, so the zone binds Sud (docs/zones.md)
        signature = {"version": 1, "hash": r.json()["hash"]}
        httpx.post(url + "/zones/z-fr/sign", json=signature, headers={"Authorization": f"Bearer {token}"})
    mine = tmp_path / "nord.geojson"
    mine.write_text(json.dumps(op_doc("op-nord", "Nord", square(51.0, 30.0, 51.2, 30.2))))
    assert _run(url, nord, "ops", "file", str(mine)).exit_code == 0
    theirs = tmp_path / "sud.geojson"
    theirs.write_text(json.dumps(op_doc("op-sud", "Sud", square(51.1, 30.1, 51.3, 30.3))))
    accepted = _run(url, sud, "ops", "file", str(theirs))
    assert accepted.exit_code == 0, accepted.output
    assert "площадь (км²)" in accepted.stdout and "area (km²)" not in accepted.stdout  # Sud reads Russian

    # The party's language (GET /me) without --language; --language wins; deadlines in UTC, Z.
    inbox = _run(url, nord, "inbox")
    assert inbox.exit_code == 0, inbox.output
    assert "priorité" in inbox.stdout and "priority" not in inbox.stdout
    assert ISO_UTC.search(inbox.stdout), inbox.stdout
    assert "приоритет" in _run(url, nord, "inbox", "--language", "ru").stdout
    zones = _run(url, nord, "zones")
    assert "proposant" in zones.stdout and "proposer" not in zones.stdout
    assert "proposer" in _run(url, nord, "zones", "--language", "en").stdout

    # Refused: the conflicts table in the filer's language too.
    refused = tmp_path / "refused.geojson"
    refused.write_text(json.dumps(op_doc("op-sud-2", "Sud", square(50.1, 30.1, 50.2, 30.2))))
    result = _run(url, sud, "ops", "file", str(refused), "--language", "de")
    assert result.exit_code == 1 and "Zutritt" in result.stdout, result.output


@pytest.mark.parametrize(
    "command",
    [["inbox"], ["zones"], ["ops", "file", "missing.geojson"], ["party", "add", "Xeno", "--db", "unused.db"]],
)
def test_an_unknown_language_is_one_line_and_exit_2(
    command: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"  # checked before any request or file is read
    monkeypatch.chdir(tmp_path)
    result = _run(closed, "tl_any", *command, "--language", "xx")
    assert not (tmp_path / "unused.db").exists()
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("truceline: error: --language:"), result.stderr
    assert "'xx'" in lines[0] and "zh-CN" in lines[0]
