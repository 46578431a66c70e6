"""One proof bundle for the CLI and the API (RFC 9162 field names), that still reads the
names written before it, and `truceline log verify-proof` on a saved file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st
from ledger_testkit import NOW
from typer.testing import CliRunner

from truceline.cli import app
from truceline.errors import FormatError, VerificationError
from truceline.ledger import EntryDraft, Ledger, SignedTreeHead, keys_dir_for, load_or_create_log_key
from truceline.ledger.canonical import b64encode
from truceline.ledger.keys import raw_public_key
from truceline.ledger.merkle import MemoryTree, leaf_hash
from truceline.ledger.proofs import ConsistencyProof, InclusionProof
from truceline.store.database import create_schema, database_url, open_engine

KEY = Ed25519PrivateKey.generate()
ENTRIES = [f'{{"n":{i}}}'.encode() for i in range(20)]
TREE = MemoryTree(leaf_hash(e) for e in ENTRIES)


def _inclusion(index: int, size: int) -> InclusionProof:
    sth = SignedTreeHead.sign(size, TREE.root(size), 1, KEY)
    return InclusionProof(
        leaf_index=index,
        tree_size=size,
        leaf_hash=TREE.leaves[index],
        inclusion_path=tuple(TREE.inclusion_proof(index, size)),
        entry=ENTRIES[index],
        root_hash=sth.root_hash,
        sth=sth,
    )


def _consistency(size1: int, size2: int) -> ConsistencyProof:
    return ConsistencyProof(
        tree_size_1=size1,
        tree_size_2=size2,
        consistency_path=tuple(TREE.consistency_proof(size1, size2)),
        root_hash_1=TREE.root(size1),
        root_hash_2=TREE.root(size2),
        sth=SignedTreeHead.sign(size2, TREE.root(size2), 1, KEY),
    )


@st.composite
def index_and_size(draw: st.DrawFn) -> tuple[int, int]:
    size = draw(st.integers(1, len(ENTRIES)))
    return draw(st.integers(0, size - 1)), size


@st.composite
def two_sizes(draw: st.DrawFn) -> tuple[int, int]:
    size2 = draw(st.integers(1, len(ENTRIES)))
    return draw(st.integers(1, size2)), size2


@given(index_and_size())
def test_an_inclusion_bundle_round_trips_and_verifies(case: tuple[int, int]) -> None:
    bundle = _inclusion(*case)
    body = bundle.to_json()
    assert {"leaf_index", "tree_size", "inclusion_path", "leaf_hash", "sth"} <= body.keys()
    assert InclusionProof.from_json(json.loads(json.dumps(body))) == bundle
    bundle.verify(public_key=raw_public_key(KEY.public_key()))


@given(two_sizes())
def test_a_consistency_bundle_round_trips_and_verifies(case: tuple[int, int]) -> None:
    bundle = _consistency(*case)
    body = bundle.to_json()
    assert {"tree_size_1", "tree_size_2", "consistency_path", "root_hash_1", "root_hash_2"} <= body.keys()
    assert ConsistencyProof.from_json(json.loads(json.dumps(body))) == bundle
    bundle.verify()


def test_proofs_saved_with_the_old_cli_names_still_verify() -> None:
    """What `truceline log prove` / `log consistency` wrote before (audit_path, size1...)."""
    new = _inclusion(5, 13).to_json()
    old = {**{k: v for k, v in new.items() if k != "inclusion_path"}, "audit_path": new["inclusion_path"]}
    InclusionProof.from_json(old).verify()
    cons = _consistency(4, 17).to_json()
    old_cons = {
        "size1": cons["tree_size_1"],
        "size2": cons["tree_size_2"],
        "root1": cons["root_hash_1"],
        "root2": cons["root_hash_2"],
        "proof": cons["consistency_path"],
        "sth": cons["sth"],
    }
    assert ConsistencyProof.from_json(old_cons) == _consistency(4, 17)
    ConsistencyProof.from_json(old_cons).verify()


def test_the_old_api_names_are_read_too() -> None:
    inc = _inclusion(2, 9)
    old = {"index": 2, "tree_size": 9, "leaf_hash": b64encode(inc.leaf_hash),
           "proof": [b64encode(h) for h in inc.inclusion_path]}  # fmt: skip
    InclusionProof.from_json(old).verify(TREE.root(9))
    cons = _consistency(3, 8)
    parsed = ConsistencyProof.from_json(
        {"first": 3, "second": 8, "proof": [b64encode(h) for h in cons.consistency_path]}
    )
    parsed.verify(TREE.root(3), TREE.root(8))


def test_a_bundle_that_lies_does_not_verify() -> None:
    bundle = _inclusion(5, 13)
    other_entry = InclusionProof.from_json({**bundle.to_json(), "entry": '{"n":6}'})
    with pytest.raises(VerificationError, match="entry"):
        other_entry.verify()
    moved = InclusionProof.from_json({**bundle.to_json(), "leaf_index": 6})
    with pytest.raises(VerificationError):
        moved.verify()
    # A tree head for another size than the proof's.
    wrong_head = InclusionProof.from_json({**bundle.to_json(), "sth": _inclusion(5, 14).sth.to_json()})
    with pytest.raises(VerificationError, match="tree head is for 14"):
        wrong_head.verify()
    with pytest.raises(VerificationError, match="signed by key"):
        bundle.verify(public_key=raw_public_key(Ed25519PrivateKey.generate().public_key()))
    # No root at all: nothing to check the path against.
    bare = InclusionProof(5, 13, bundle.leaf_hash, bundle.inclusion_path)
    with pytest.raises(VerificationError, match="no root"):
        bare.verify()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ([], "proof"),
        ({"tree_size": 3, "leaf_hash": b64encode(bytes(32)), "inclusion_path": []}, "leaf_index"),
        ({"leaf_index": -1, "tree_size": 3, "leaf_hash": "", "inclusion_path": []}, "leaf_index"),
        ({"leaf_index": 0, "tree_size": True, "leaf_hash": "", "inclusion_path": []}, "tree_size"),
        ({"leaf_index": 0, "tree_size": 3, "leaf_hash": "AA==", "inclusion_path": []}, "leaf_hash"),
        ({"leaf_index": 0, "tree_size": 3, "leaf_hash": b64encode(bytes(32)), "inclusion_path": "x"},
         "inclusion_path"),
        ({"leaf_index": 0, "tree_size": 3, "leaf_hash": b64encode(bytes(32)), "inclusion_path": ["?"]},
         "inclusion_path[0]"),
    ],
)
def test_a_malformed_bundle_names_the_field(body: object, field: str) -> None:
    with pytest.raises(FormatError) as caught:
        InclusionProof.from_json(body)
    assert caught.value.field == field


def test_log_verify_proof_on_saved_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUCELINE_KEYS_DIR", raising=False)
    db = tmp_path / "data" / "t.db"
    url = database_url(str(db))
    engine = open_engine(url)
    create_schema(engine)
    ledger = Ledger(engine, load_or_create_log_key(keys_dir_for(url)))
    with engine.begin() as conn:
        ledger.append(conn, [EntryDraft("message.sent", "system", {"n": i}) for i in range(11)], NOW)
    engine.dispose()
    runner = CliRunner()
    key = runner.invoke(app, ["log", "public-key", "--db", str(db)]).stdout.strip()

    proved = tmp_path / "proof.json"
    proved.write_text(runner.invoke(app, ["log", "prove", "7", "--size", "9", "--db", str(db)]).stdout)
    ok = runner.invoke(app, ["log", "verify-proof", str(proved), "--key", key])
    assert ok.exit_code == 0, ok.output
    assert "OK: entry 7 is in the tree of 9 entries" in ok.stdout and "the pinned key" in ok.stdout

    # A proof an auditor saved before the RFC 9162 names: audit_path.
    body = json.loads(proved.read_text())
    body["audit_path"] = body.pop("inclusion_path")
    saved = tmp_path / "old-proof.json"
    saved.write_text(json.dumps(body))
    assert runner.invoke(app, ["log", "verify-proof", str(saved)]).exit_code == 0

    body["leaf_index"] = 6
    saved.write_text(json.dumps(body))
    lied = runner.invoke(app, ["log", "verify-proof", str(saved)])
    assert lied.exit_code == 1 and lied.stderr.startswith("truceline: error: ")
    other = b64encode(raw_public_key(Ed25519PrivateKey.generate().public_key()))
    assert runner.invoke(app, ["log", "verify-proof", str(proved), "--key", other]).exit_code == 1

    cons = tmp_path / "consistency.json"
    cons.write_text(runner.invoke(app, ["log", "consistency", "3", "11", "--db", str(db)]).stdout)
    assert runner.invoke(app, ["log", "verify-proof", str(cons), "--key", key]).exit_code == 0
    # --previous: an older head the auditor kept; it must be the proof's first size.
    export = tmp_path / "export"
    assert runner.invoke(app, ["log", "export", str(export), "--db", str(db)]).exit_code == 0
    wrong = runner.invoke(app, ["log", "verify-proof", str(cons), "--previous", str(export / "sth.json")])
    assert wrong.exit_code == 1 and "--previous" in wrong.stderr

    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json")
    bad = runner.invoke(app, ["log", "verify-proof", str(garbage)])
    assert bad.exit_code == 2 and bad.stderr.count("\n") == 1
    missing = runner.invoke(app, ["log", "verify-proof", str(tmp_path / "none.json")])
    assert missing.exit_code == 2
