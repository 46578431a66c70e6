"""Export, then verify from the files alone: every tampering is caught and pinned on its entry."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger_testkit import NOW, sample_drafts

from truceline.errors import VerificationError
from truceline.ledger import EntryDraft, Ledger, SignedTreeHead, export_log, verify_export
from truceline.ledger.merkle import RootMismatchError
from truceline.ledger.verify import BadEntryError
from truceline.store.database import open_engine


@pytest.fixture
def exported(ledger, tmp_path) -> Path:
    blue = Ed25519PrivateKey.generate()
    with ledger.engine.begin() as conn:
        ledger.append(conn, sample_drafts(blue), NOW)
        ledger.append(conn, [EntryDraft("incident.reported", "observer", {"n": i}) for i in range(3)], NOW)
    out = tmp_path / "export"
    with ledger.engine.connect() as conn:
        export_log(conn, ledger, out, NOW)
    return out


def lines_of(directory: Path) -> list[bytes]:
    return (directory / "entries.jsonl").read_bytes().split(b"\n")[:-1]


def write_lines(directory: Path, lines: list[bytes]) -> None:
    (directory / "entries.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def test_export_verifies_and_lines_are_leaves(exported, ledger):
    sth = verify_export(exported)
    lines = lines_of(exported)
    assert sth.tree_size == len(lines) == 9
    with ledger.engine.connect() as conn:
        assert lines == [e.canonical for e in ledger.entries(conn)]
        assert sth.root_hash == ledger.root(conn)
    head = json.loads((exported / "sth.json").read_text())
    assert set(head) == {"tree_size", "root_hash", "timestamp", "public_key", "signature"}


def test_every_flipped_byte_is_caught_and_named(exported, tmp_path):
    original = (exported / "entries.jsonl").read_bytes()
    line_of = []  # the entry each byte belongs to (a line's newline belongs to it)
    for index, line in enumerate(original.split(b"\n")[:-1]):
        line_of += [index] * (len(line) + 1)
    target = tmp_path / "flipped"
    shutil.copytree(exported, target)
    # Every position, with a bit flip that keeps the byte ASCII when it was, plus a high bit.
    for position in range(len(original)):
        for mask in (0x01, 0x80) if position % 7 == 0 else (0x01,):
            data = bytearray(original)
            data[position] ^= mask
            (target / "entries.jsonl").write_bytes(bytes(data))
            with pytest.raises(BadEntryError) as caught:
                verify_export(target)
            assert caught.value.index == line_of[position], (position, mask, str(caught.value))
            assert f"line {line_of[position] + 1}" in str(caught.value)


def test_removed_reordered_inserted_entries(exported):
    lines = lines_of(exported)
    cases = {
        "removed": (lines[:3] + lines[4:], 3),
        "reordered": ([*lines[:2], lines[5], lines[2], lines[3], lines[4], *lines[6:]], 2),
        "inserted copy": ([*lines[:4], lines[2], *lines[4:]], 4),
        "appended copy": ([*lines, lines[-1]], 9),
        "last removed": (lines[:-1], 8),
        "blank line": ([*lines[:5], b"", *lines[5:]], 5),
    }
    for name, (changed, bad_index) in cases.items():
        write_lines(exported, changed)
        with pytest.raises(BadEntryError) as caught:
            verify_export(exported)
        assert caught.value.index == bad_index, (name, str(caught.value))
    write_lines(exported, lines)
    verify_export(exported)


def test_tree_head_tampering(exported):
    head = json.loads((exported / "sth.json").read_text())
    for field, value in (("tree_size", head["tree_size"] - 1), ("timestamp", head["timestamp"] + 1)):
        (exported / "sth.json").write_text(json.dumps({**head, field: value}))
        with pytest.raises(VerificationError, match="signature"):
            verify_export(exported)
    # A head re-signed by another key still needs entries receipted by that key.
    other = Ed25519PrivateKey.generate()
    forged = SignedTreeHead.sign(head["tree_size"], SignedTreeHead.from_json(head).root_hash, 0, other)
    forged.dump(exported / "sth.json")
    with pytest.raises(BadEntryError, match="entry 0: log_signature"):
        verify_export(exported)


def test_author_signature_checked_against_registered_key(ledger, tmp_path):
    """A log that re-signs an altered entry with its own key is still caught by the author's key."""
    blue = Ed25519PrivateKey.generate()
    with ledger.engine.begin() as conn:
        ledger.append(conn, sample_drafts(blue), NOW)
    out = tmp_path / "export"
    with ledger.engine.connect() as conn:
        export_log(conn, ledger, out, NOW)
    entry = json.loads(lines_of(out)[2])
    assert entry["author"] == "blue" and "signature" in entry
    # Forge the author's payload and re-sign the receipt with the log's own key.
    from truceline.ledger.canonical import b64encode, canonical_json

    entry["payload"]["zone_id"] = "z2"
    del entry["log_signature"]
    entry["log_signature"] = b64encode(ledger.log_key.sign(canonical_json(entry)))
    lines = lines_of(out)
    lines[2] = canonical_json(entry)
    write_lines(out, lines)
    with pytest.raises(
        BadEntryError, match="entry 2: signature: does not verify with the registered key of blue"
    ):
        verify_export(out)


def _fresh_ledger(path: Path, key: Ed25519PrivateKey) -> Ledger:
    led = Ledger(open_engine(f"sqlite:///{path}"), key)
    led.create_tables()
    return led


def test_previous_head_accepts_extension_and_detects_rewrite(ledger, tmp_path):
    drafts = [EntryDraft("message.sent", "system", {"n": i}) for i in range(10)]
    with ledger.engine.begin() as conn:
        ledger.append(conn, drafts[:7], NOW)
    with ledger.engine.connect() as conn:
        old = export_log(conn, ledger, tmp_path / "old", NOW)
    with ledger.engine.begin() as conn:
        ledger.append(conn, drafts[7:], NOW)
    with ledger.engine.connect() as conn:
        export_log(conn, ledger, tmp_path / "new", NOW)
    assert verify_export(tmp_path / "new", tmp_path / "old" / "sth.json").tree_size == 10
    assert verify_export(tmp_path / "new", old).tree_size == 10
    assert verify_export(tmp_path / "old", tmp_path / "old" / "sth.json").tree_size == 7

    # The operator rebuilds the log with entry 3 changed and re-signs everything with the
    # same key: the new export is self-consistent; only the saved head catches it.
    rewritten = _fresh_ledger(tmp_path / "rewritten.db", ledger.log_key)
    changed = [*drafts[:3], EntryDraft("message.sent", "system", {"n": 33}), *drafts[4:]]
    with rewritten.engine.begin() as conn:
        rewritten.append(conn, changed, NOW)
    with rewritten.engine.connect() as conn:
        export_log(conn, rewritten, tmp_path / "rewritten", NOW)
    verify_export(tmp_path / "rewritten")
    with pytest.raises(RootMismatchError, match="history was rewritten") as caught:
        verify_export(tmp_path / "rewritten", tmp_path / "old" / "sth.json")
    assert caught.value.expected == old.root_hash

    # A log that shrank, and a head from another log, are refused too.
    with pytest.raises(VerificationError, match="the log shrank"):
        verify_export(tmp_path / "old", tmp_path / "new" / "sth.json")
    stranger = _fresh_ledger(tmp_path / "stranger.db", Ed25519PrivateKey.generate())
    with stranger.engine.begin() as conn:
        stranger.append(conn, drafts[:3], NOW)
    with stranger.engine.connect() as conn:
        foreign = stranger.signed_tree_head(conn, NOW)
    with pytest.raises(VerificationError, match="public_key"):
        verify_export(tmp_path / "new", foreign)


def test_empty_log_exports_and_verifies(ledger, tmp_path):
    with ledger.engine.connect() as conn:
        sth = export_log(conn, ledger, tmp_path / "empty", NOW)
    assert sth.tree_size == 0 and (tmp_path / "empty" / "entries.jsonl").read_bytes() == b""
    assert verify_export(tmp_path / "empty", sth).tree_size == 0
