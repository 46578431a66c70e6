"""The Appender: several appends in one transaction, one write; undoing back to a mark."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger_testkit import NOW, registration, sample_drafts

from truceline.errors import AuthError
from truceline.ledger import EntryDraft


def test_appends_in_one_transaction_equal_one_append(ledger):
    blue = Ed25519PrivateKey.generate()
    drafts = sample_drafts(blue)
    with ledger.engine.begin() as conn:
        appender = ledger.appender(conn)
        first = appender.append(drafts[:2], NOW)
        second = appender.append(drafts[2:], NOW)
        assert appender.size == len(drafts)
        appender.flush()
    with ledger.engine.connect() as conn:
        assert ledger.verify(conn) == len(drafts)
        assert [e.canonical for e in ledger.entries(conn)] == [e.canonical for e in first + second]
    # A key registered by the first call rules the second (blue's entries must be signed).
    with ledger.engine.begin() as conn:
        appender = ledger.appender(conn)
        with pytest.raises(AuthError):
            appender.append([EntryDraft("zone.signed", "blue", {"zone_id": "z1"})], NOW)


def test_undo_to_a_mark_forgets_the_later_appends(ledger):
    blue, green = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    with ledger.engine.begin() as conn:
        appender = ledger.appender(conn)
        kept = appender.append([registration("blue", blue)], NOW)
        mark = appender.mark()
        appender.append([registration("green", green), EntryDraft("message.sent", "system", {"n": 1})], NOW)
        appender.undo_to(mark)
        # green's key went with the undone entry: an unsigned entry by green is accepted.
        later = appender.append([EntryDraft("message.sent", "green", {"n": 2})], NOW)
        appender.flush()
    assert [e.seq for e in kept + later] == [0, 1]
    with ledger.engine.connect() as conn:
        assert ledger.verify(conn) == 2


def test_a_refused_call_keeps_nothing(ledger):
    blue = Ed25519PrivateKey.generate()
    with ledger.engine.begin() as conn:
        appender = ledger.appender(conn)
        appender.append([registration("blue", blue)], NOW)
        with pytest.raises(AuthError):  # the second draft breaks the key rules
            drafts = [EntryDraft("message.sent", "system", {"n": 1}), EntryDraft("message.sent", "blue", {})]
            appender.append(drafts, NOW)
        assert appender.size == 1
        appender.flush()
    with ledger.engine.connect() as conn:
        assert ledger.verify(conn) == 1
