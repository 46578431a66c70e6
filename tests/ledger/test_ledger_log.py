"""The Ledger over SQLite: entries, author keys, tree heads, the log key on disk."""

from __future__ import annotations

import os
import stat
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_testkit import NOW, registration, sample_drafts
from sqlalchemy import select

from truceline.errors import AuthError, FormatError, LedgerError, ValidationError
from truceline.ledger import Entry, EntryDraft, load_or_create_log_key
from truceline.ledger.canonical import b64decode, b64encode, parse_canonical
from truceline.ledger.keys import raw_public_key
from truceline.ledger.merkle import leaf_hash, verify_consistency, verify_inclusion
from truceline.store.schema import ledger_entries


def test_append_returns_entries_with_exact_stored_bytes(ledger):
    blue = Ed25519PrivateKey.generate()
    with ledger.engine.begin() as conn:
        entries = ledger.append(conn, sample_drafts(blue), NOW)
    assert [e.seq for e in entries] == list(range(6))
    assert all(e.time_ms == 1767268800000 and e.time == NOW for e in entries)
    with ledger.engine.connect() as conn:
        stored = [
            bytes(r.canonical) for r in conn.execute(select(ledger_entries.c.canonical).order_by("seq"))
        ]
        assert stored == [e.canonical for e in entries]
        assert [e.canonical for e in ledger.entries(conn, 2, 4)] == stored[2:4]
        assert ledger.entry(conn, 4) == entries[4]
    assert Entry.parse(entries[2].canonical) == entries[2]
    assert entries[2].signature is not None and entries[1].signature is None


def test_time_must_be_aware_and_is_integer_ms(ledger):
    with ledger.engine.begin() as conn, pytest.raises(ValidationError, match="timezone-aware"):
        ledger.append(conn, [EntryDraft("test.added", "system", {})], datetime(2026, 1, 1))
    with ledger.engine.begin() as conn:
        at = datetime(2026, 1, 1, 13, 0, 0, 999_999, tzinfo=timezone(timedelta(hours=1)))
        (entry,) = ledger.append(conn, [EntryDraft("test.added", "system", {})], at)
    assert entry.time_ms == 1767268800999


@pytest.mark.parametrize(
    ("entry_type", "author", "payload", "field"),
    [
        ("Zone.proposed", "blue", {}, "type"),
        ("zone", "blue", {}, "type"),
        ("zone.proposed", "", {}, "author"),
        ("zone.proposed", "blue party", {}, "author"),
        ("zone.proposed", "blue", [], "payload"),
        ("zone.proposed", "blue", {"x": float("nan")}, "payload"),
        ("zone.proposed", "blue", {"x": 2**60}, "payload"),
        ("party.registered", "admin", {"party_id": "b", "public_key": "AAAA"}, "payload.public_key"),
        ("party.registered", "admin", {"public_key": b64encode(bytes(32))}, "payload.party_id"),
    ],
)
def test_bad_drafts_name_the_field(entry_type, author, payload, field):
    with pytest.raises(ValidationError) as caught:
        EntryDraft(entry_type, author, payload)
    assert caught.value.field == field


def test_key_rules_at_append(ledger):
    blue, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    with ledger.engine.begin() as conn:
        ledger.append(conn, [registration("blue", blue)], NOW)
    cases = [
        (EntryDraft("zone.proposed", "blue", {}), "must be signed"),
        (EntryDraft("zone.proposed", "blue", {}, other), "not the registered key"),
        (EntryDraft("zone.proposed", "red", {}, other), "no registered key"),
        (registration("blue", other), "only it may register"),
    ]
    for draft, message in cases:
        with ledger.engine.begin() as conn, pytest.raises(AuthError, match=message):
            # A refused draft after a good one: the whole batch is refused.
            ledger.append(conn, [EntryDraft("test.added", "system", {}), draft], NOW)
    with ledger.engine.connect() as conn:
        assert ledger.size(conn) == 1
    # Self-registration signs with the new key; a party rotates its own key with the old one.
    red = Ed25519PrivateKey.generate()
    with ledger.engine.begin() as conn:
        ledger.append(
            conn, [EntryDraft("party.registered", "red", registration("red", red).payload, red)], NOW
        )
        ledger.append(
            conn, [EntryDraft("party.registered", "blue", registration("blue", other).payload, blue)], NOW
        )
        ledger.append(conn, [EntryDraft("zone.proposed", "blue", {}, other)], NOW)
    with ledger.engine.connect() as conn:
        assert ledger.verify(conn) == 4


def test_rolled_back_batch_leaves_nothing(ledger):
    with ledger.engine.begin() as conn:
        ledger.append(conn, [EntryDraft("test.added", "system", {"i": 0})], NOW)
    with ledger.engine.connect() as conn:
        ledger.append(conn, [EntryDraft("test.added", "system", {"i": i}) for i in range(5)], NOW)
        assert ledger.size(conn) == 6  # visible inside the caller's transaction
        conn.rollback()
    with ledger.engine.connect() as conn:
        assert ledger.size(conn) == 1 and ledger.verify(conn) == 1


def test_tree_head_and_proofs_from_the_store(ledger):
    with ledger.engine.begin() as conn:
        ledger.append(conn, [EntryDraft("test.added", "system", {"i": i}) for i in range(13)], NOW)
    with ledger.engine.connect() as conn:
        sth = ledger.signed_tree_head(conn, NOW)
        sth.verify(ledger.public_key)
        assert (sth.tree_size, sth.timestamp_ms) == (13, 1767268800000)
        entries = list(ledger.entries(conn))
        verify_inclusion(
            leaf_hash(entries[9].canonical), 9, 13, ledger.inclusion_proof(conn, 9, 13), sth.root_hash
        )
        verify_consistency(6, 13, ledger.consistency_proof(conn, 6, 13), ledger.root(conn, 6), sth.root_hash)
        with pytest.raises(ValidationError, match="requires 0 <= size <= 13"):
            ledger.inclusion_proof(conn, 0, 14)
        with pytest.raises(ValidationError, match="requires 0 <= index < size"):
            ledger.inclusion_proof(conn, 13, 13)
        with pytest.raises(ValidationError, match="requires 0 < size1 <= size2"):
            ledger.consistency_proof(conn, 0, 13)
    message = (
        b'{"root_hash":"' + b64encode(sth.root_hash).encode() + b'","timestamp":1767268800000,"tree_size":13}'
    )
    assert sth.message(13, sth.root_hash, sth.timestamp_ms) == message


def test_log_key_file_is_private_and_reused(tmp_path):
    key = load_or_create_log_key(tmp_path / "keys")
    path = tmp_path / "keys" / "log-ed25519.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_or_create_log_key(tmp_path / "keys")
    assert raw_public_key(again.public_key()) == raw_public_key(key.public_key())
    pub = (tmp_path / "keys" / "log-ed25519.pub").read_text().strip()
    assert b64decode(pub, field="pub", size=32) == raw_public_key(key.public_key())
    os.chmod(path, 0o644)
    with pytest.raises(LedgerError, match="0600"):
        load_or_create_log_key(tmp_path / "keys")


def test_strict_base64_refuses_other_spellings():
    good = b64encode(bytes(32))
    assert b64decode(good, field="x", size=32) == bytes(32)
    # Same bytes under a lenient decoder: unused low bits set in the last character.
    for text in (good[:-2] + "B=", good.rstrip("="), good + "=", " " + good):
        with pytest.raises(FormatError):
            b64decode(text, field="x")


@settings(max_examples=100, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**53) + 1, 2**53 - 1) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=12,
    )
)
def test_canonical_round_trip(value):
    from truceline.ledger.canonical import canonical_json

    data = canonical_json(value)
    assert b"\n" not in data  # what lets entries.jsonl split on 0x0A
    assert parse_canonical(data) == value


@pytest.mark.parametrize(
    "text",
    [
        b'{"b":1,"a":2}',
        b'{"a": 1}',
        b'{"a":1,"a":1}',
        b'{"a":NaN}',
        b'{"a":1.0}',
        b'{"a":"\\u0041"}',
        b"\xff",
    ],
)
def test_non_canonical_bytes_refused(text):
    with pytest.raises(FormatError):
        parse_canonical(text)


@settings(max_examples=150, deadline=None)
@given(
    seq=st.integers(0, 2**53 - 1),
    at_ms=st.integers(0, 2**53 - 1),
    author=st.from_regex(r"\A[A-Za-z0-9._:@-]{1,20}\Z"),
    entry_type=st.from_regex(r"\A[a-z_]{1,8}\.[a-z_]{1,8}\Z"),
    payload=st.dictionaries(st.text(max_size=5), st.text(max_size=5) | st.integers(-1000, 1000), max_size=3),
    signature=st.none() | st.binary(min_size=64, max_size=64),
    log_signature=st.none() | st.binary(min_size=64, max_size=64),
)
def test_envelope_is_rfc8785(seq, at_ms, author, entry_type, payload, signature, log_signature):
    import rfc8785

    from truceline.ledger.entries import envelope

    value = {"seq": seq, "time_ms": at_ms, "author": author, "type": entry_type, "payload": payload}
    if signature is not None:
        value["signature"] = b64encode(signature)
    if log_signature is not None:
        value["log_signature"] = b64encode(log_signature)
    built = envelope(seq, at_ms, author, entry_type, rfc8785.dumps(payload), signature, log_signature)
    assert built == rfc8785.dumps(value)
