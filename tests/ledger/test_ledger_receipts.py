"""Receipts (ledger/receipts.py): one verifies from its bytes alone with the log's key; any
byte changed in its entry, path, hashes or tree head makes it fail; another key fails; the
same entry gives the same receipt again."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.errors import FormatError, VerificationError
from truceline.ledger.entries import EntryDraft
from truceline.ledger.keys import raw_public_key
from truceline.ledger.receipts import Receipt, issue_receipt, verify_receipt
from truceline.service.register import open_register

ENTRIES = 11


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[list[dict[str, Any]], bytes]]:
    from datetime import UTC, datetime, timedelta

    moments = iter(datetime(2017, 7, 10, tzinfo=UTC) + timedelta(seconds=k) for k in range(1000))
    register = open_register(
        f"sqlite:///{tmp_path_factory.mktemp('receipts') / 'r.db'}", lambda: next(moments)
    )
    ledger = register.ledger
    with register.engine.begin() as conn:
        ledger.append(conn, [EntryDraft("incident.reported", "observer-1", {"k": k}) for k in range(ENTRIES)],
                      next(moments))  # fmt: skip
    with register.engine.connect() as conn:
        receipts = [issue_receipt(conn, ledger, seq).to_json() for seq in range(ENTRIES)]
        again = issue_receipt(conn, ledger, 4).to_json()
    assert again == receipts[4]  # a function of the log alone
    yield receipts, ledger.public_key
    register.engine.dispose()


def test_every_receipt_verifies_with_the_logs_key(issued: tuple[list[dict[str, Any]], bytes]) -> None:
    receipts, key = issued
    for seq, data in enumerate(receipts):
        entry = verify_receipt(Receipt.from_json(json.loads(json.dumps(data))), key)
        assert entry.seq == seq and entry.payload == {"k": seq}


def test_another_key_fails(issued: tuple[list[dict[str, Any]], bytes]) -> None:
    receipts, _key = issued
    other = raw_public_key(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(VerificationError) as failed:
        verify_receipt(Receipt.from_json(receipts[3]), other)
    assert failed.value.field == "public_key"


def _flip(text: str, position: int) -> str:
    raw = bytearray(base64.b64decode(text))
    raw[position % len(raw)] ^= 0x01
    return base64.b64encode(bytes(raw)).decode("ascii")


PARTS = ["entry", "leaf_hash", "root_hash", "path", "sth_root", "sth_signature", "leaf_index", "tree_size",
         "timestamp"]  # fmt: skip


@settings(max_examples=60)
@given(seq=st.integers(0, ENTRIES - 1), part=st.sampled_from(PARTS), position=st.integers(0, 10_000))
def test_a_tampered_receipt_fails(
    issued: tuple[list[dict[str, Any]], bytes], seq: int, part: str, position: int
) -> None:
    receipts, key = issued
    data = json.loads(json.dumps(receipts[seq]))
    if part == "entry":
        text = data["entry"]
        i = position % len(text)
        data["entry"] = text[:i] + chr(ord(text[i]) ^ 0x01) + text[i + 1 :]
    elif part in ("leaf_hash", "root_hash"):
        data[part] = _flip(data[part], position)
    elif part == "path":
        if not data["inclusion_path"]:
            data["inclusion_path"] = [data["leaf_hash"]]
        else:
            k = position % len(data["inclusion_path"])
            data["inclusion_path"][k] = _flip(data["inclusion_path"][k], position)
    elif part == "sth_root":
        data["sth"]["root_hash"] = _flip(data["sth"]["root_hash"], position)
    elif part == "sth_signature":
        data["sth"]["signature"] = _flip(data["sth"]["signature"], position)
    elif part == "leaf_index":
        data["leaf_index"] = (data["leaf_index"] + 1 + position) % (data["tree_size"] + 1)
        if data["leaf_index"] == receipts[seq]["leaf_index"]:
            data["leaf_index"] += 1
    elif part == "tree_size":
        data["tree_size"] += 1 + position % 5
    else:
        data["sth"]["timestamp"] += 1 + position
    with pytest.raises((VerificationError, FormatError)):
        verify_receipt(Receipt.from_json(data), key)


def test_a_receipt_without_its_entry_or_tree_head_is_refused(
    issued: tuple[list[dict[str, Any]], bytes], tmp_path: Path
) -> None:
    receipts, _key = issued
    for name in ("entry", "sth", "format"):
        data = dict(receipts[0])
        del data[name]
        with pytest.raises(FormatError) as refused:
            Receipt.from_json(data)
        assert refused.value.field == name
    (tmp_path / "r.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(FormatError) as refused:
        Receipt.load(tmp_path / "r.json")
    assert refused.value.where == str(tmp_path / "r.json")
