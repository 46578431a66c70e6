"""`truceline log ...`: export, verify (exit 0/1/2), prove and consistency output verifiable offline."""

from __future__ import annotations

import base64
import json

from ledger_testkit import NOW
from typer.testing import CliRunner

from truceline.cli import app
from truceline.ledger import EntryDraft, Ledger, SignedTreeHead, keys_dir_for, load_or_create_log_key
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
    verify_inclusion(b(p["leaf_hash"]), 7, 9, [b(x) for x in p["audit_path"]], sth.root_hash)

    cons = json.loads(runner.invoke(app, ["log", "consistency", "3", "11", "--db", str(db)]).stdout)
    verify_consistency(3, 11, [b(x) for x in cons["proof"]], b(cons["root1"]), b(cons["root2"]))
    assert SignedTreeHead.from_json(cons["sth"]).root_hash == b(cons["root2"])

    assert runner.invoke(app, ["log", "prove", "11", "--db", str(db)]).exit_code == 2
    lines = (out / "entries.jsonl").read_bytes().split(b"\n")
    lines[4] = lines[4].replace(b'"n":4', b'"n":5')
    (out / "entries.jsonl").write_bytes(b"\n".join(lines))
    bad = runner.invoke(app, ["log", "verify", str(out)])
    assert bad.exit_code == 1 and "entry 4" in bad.stderr
    assert runner.invoke(app, ["log", "verify", str(tmp_path / "missing")]).exit_code == 2
