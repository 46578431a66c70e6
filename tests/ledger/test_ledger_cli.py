"""`truceline log ...`: export, verify (exit 0/1/2), prove and consistency output verifiable offline."""

from __future__ import annotations

import base64
import json

import pytest
from click.testing import Result
from ledger_testkit import NOW
from typer.testing import CliRunner

from truceline.cli import app
from truceline.ledger import (
    EntryDraft,
    Ledger,
    SignedTreeHead,
    fingerprint,
    keys_dir_for,
    load_or_create_log_key,
)
from truceline.ledger.keys import raw_public_key
from truceline.ledger.merkle import verify_consistency, verify_inclusion
from truceline.store.database import create_schema, database_url, open_engine


def test_log_commands(tmp_path, monkeypatch):
    db = tmp_path / "data" / "t.db"
    monkeypatch.delenv("TRUCELINE_KEYS_DIR", raising=False)
    url = database_url(str(db))
    engine = open_engine(url)
    create_schema(engine)
    ledger = Ledger(engine, load_or_create_log_key(keys_dir_for(url)))
    with engine.begin() as conn:
        ledger.append(conn, [EntryDraft("message.sent", "system", {"n": i}) for i in range(11)], NOW)
    engine.dispose()
    runner = CliRunner()
    out = tmp_path / "export"

    assert runner.invoke(app, ["log", "export", str(out), "--db", str(db)]).exit_code == 0
    ok = runner.invoke(app, ["log", "verify", str(out), "--previous", str(out / "sth.json")])
    assert ok.exit_code == 0, ok.output

    proved = runner.invoke(app, ["log", "prove", "7", "--size", "9", "--db", str(db)])
    assert proved.exit_code == 0, proved.output
    p = json.loads(proved.stdout)
    sth = SignedTreeHead.from_json(p["sth"])
    sth.verify()
    b = base64.b64decode
    assert (p["leaf_index"], p["tree_size"], sth.tree_size) == (7, 9, 9)
    verify_inclusion(b(p["leaf_hash"]), 7, 9, [b(x) for x in p["inclusion_path"]], sth.root_hash)

    cons = json.loads(runner.invoke(app, ["log", "consistency", "3", "11", "--db", str(db)]).stdout)
    assert (cons["tree_size_1"], cons["tree_size_2"]) == (3, 11)
    roots = b(cons["root_hash_1"]), b(cons["root_hash_2"])
    verify_consistency(3, 11, [b(x) for x in cons["consistency_path"]], *roots)
    assert SignedTreeHead.from_json(cons["sth"]).root_hash == b(cons["root_hash_2"])

    assert runner.invoke(app, ["log", "prove", "11", "--db", str(db)]).exit_code == 2
    lines = (out / "entries.jsonl").read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b'"n":4', b'"n":5')
    (out / "entries.jsonl").write_bytes(b"\n".join(lines))
    bad = runner.invoke(app, ["log", "verify", str(out)])
    assert bad.exit_code == 1 and "entry 4" in bad.stderr
    assert runner.invoke(app, ["log", "verify", str(tmp_path / "missing")]).exit_code == 2


def add_party(runner: CliRunner, name: str, db: str) -> Result:
    return runner.invoke(app, ["party", "add", name, "--db", db])


@pytest.mark.postgres
def test_party_add_from_another_folder_keeps_one_log_key(postgres_url, tmp_path, monkeypatch):
    runner = CliRunner()
    for folder, name in (("desk-a", "Blue"), ("desk-b", "Red")):
        (tmp_path / folder).mkdir()
        monkeypatch.chdir(tmp_path / folder)
        added = add_party(runner, name, postgres_url)
        assert added.exit_code == 0, added.output
    assert not (tmp_path / "desk-a" / "truceline-data").exists()
    assert not (tmp_path / "desk-b" / "truceline-data").exists()
    # Both entries signed by the one key: the stored log verifies (before: "the entry was altered").
    rebuilt = runner.invoke(app, ["log", "rebuild", "--db", postgres_url])
    assert rebuilt.exit_code == 0, rebuilt.output
    out = tmp_path / "export"
    assert runner.invoke(app, ["log", "export", str(out), "--db", postgres_url]).exit_code == 0
    key = runner.invoke(app, ["log", "public-key", "--db", postgres_url]).stdout.strip()
    assert runner.invoke(app, ["log", "verify", str(out), "--key", key]).exit_code == 0


def party_add_with_another_key_is_refused(db: str, tmp_path, monkeypatch) -> None:
    runner = CliRunner()
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys-1"))
    assert add_party(runner, "Blue", db).exit_code == 0
    first = load_or_create_log_key(tmp_path / "keys-1")
    other = load_or_create_log_key(tmp_path / "keys-2")
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys-2"))
    refused = add_party(runner, "Red", db)
    assert refused.exit_code == 2, refused.output
    line = refused.stderr.strip()
    assert "\n" not in line and line.startswith("truceline: error: ")
    assert fingerprint(raw_public_key(first.public_key())) in line
    assert fingerprint(raw_public_key(other.public_key())) in line
    assert str(tmp_path / "keys-2") in line and "TRUCELINE_KEYS_DIR" in line
    served = runner.invoke(app, ["serve", "--db", db])  # refused before it listens
    assert served.exit_code == 2 and served.stderr.strip() == line
    # An empty keys folder: refused too, and no key is made there.
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys-3"))
    missing = add_party(runner, "Red", db)
    assert missing.exit_code == 2 and "no log key in" in missing.stderr
    assert not (tmp_path / "keys-3").exists()
    monkeypatch.setenv("TRUCELINE_KEYS_DIR", str(tmp_path / "keys-1"))
    assert add_party(runner, "Red", db).exit_code == 0
    assert runner.invoke(app, ["log", "rebuild", "--db", db]).exit_code == 0


def test_party_add_with_another_key_is_refused_on_sqlite(tmp_path, monkeypatch):
    party_add_with_another_key_is_refused(str(tmp_path / "t.db"), tmp_path, monkeypatch)


@pytest.mark.postgres
def test_party_add_with_another_key_is_refused_on_postgresql(postgres_url, tmp_path, monkeypatch):
    party_add_with_another_key_is_refused(postgres_url, tmp_path, monkeypatch)


def test_log_verify_key_refuses_a_history_resigned_with_another_key(tmp_path, monkeypatch):
    monkeypatch.delenv("TRUCELINE_KEYS_DIR", raising=False)
    runner = CliRunner()
    exports = {}
    for name in ("true", "forged"):
        db = tmp_path / name / "t.db"  # its own keys/ beside it: another key
        assert add_party(runner, "Blue", str(db)).exit_code == 0
        exports[name] = tmp_path / f"{name}-export"
        assert runner.invoke(app, ["log", "export", str(exports[name]), "--db", str(db)]).exit_code == 0
    true_key = runner.invoke(app, ["log", "public-key", "--db", str(tmp_path / "true" / "t.db")]).stdout
    forged_key = (tmp_path / "forged" / "keys" / "log-ed25519.pub").read_text().strip()
    true_print = fingerprint(base64.b64decode(true_key))
    forged_print = fingerprint(base64.b64decode(forged_key))

    # Unpinned, the re-signed history verifies, and says which key it trusted.
    trusted = runner.invoke(app, ["log", "verify", str(exports["forged"])])
    assert trusted.exit_code == 0, trusted.output
    assert f"Trusted the key sth.json names: {forged_print}" in trusted.stdout

    refused = runner.invoke(app, ["log", "verify", str(exports["forged"]), "--key", true_key.strip()])
    assert refused.exit_code == 1, refused.output
    assert true_print in refused.stderr and forged_print in refused.stderr

    (tmp_path / "log.pub").write_text(true_key)  # a file, as `log public-key > log.pub` writes it
    ok = runner.invoke(app, ["log", "verify", str(exports["true"]), "--key", str(tmp_path / "log.pub")])
    assert ok.exit_code == 0, ok.output
    assert f"Signed by the pinned key {true_print}" in ok.stdout

    bad = runner.invoke(app, ["log", "verify", str(exports["true"]), "--key", "not-a-key"])
    assert bad.exit_code == 2 and "--key" in bad.stderr
