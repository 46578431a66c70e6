"""The same schema and Ledger on the real PostgreSQL server, in a schema of its own."""

from __future__ import annotations

import os
import uuid

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ledger_testkit import NOW, sample_drafts
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from truceline.ledger import EntryDraft, Ledger, export_log, verify_export
from truceline.ledger.merkle import MemoryTree, leaf_hash, verify_consistency, verify_inclusion
from truceline.store.database import database_url

URL = database_url(os.environ.get("TRUCELINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))


@pytest.fixture
def pg_ledger():
    schema = f"ledger_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(URL)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL unreachable at {URL}: {exc.orig}")
    engine = create_engine(URL, connect_args={"options": f"-csearch_path={schema}"})
    ledger = Ledger(engine, Ed25519PrivateKey.generate())
    try:
        ledger.create_tables()
        yield ledger
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.mark.postgres
def test_ledger_on_postgresql(pg_ledger, tmp_path):
    ledger = pg_ledger
    assert ledger.engine.dialect.name == "postgresql"
    blue = Ed25519PrivateKey.generate()
    with ledger.engine.begin() as conn:
        ledger.append(conn, sample_drafts(blue), NOW)
    for start in range(6, 75, 23):
        with ledger.engine.begin() as conn:
            ledger.append(
                conn, [EntryDraft("test.added", "system", {"i": i}) for i in range(start, start + 23)], NOW
            )
    with ledger.engine.connect() as conn:
        size = ledger.verify(conn)
        entries = [e.canonical for e in ledger.entries(conn)]
        assert size == len(entries) == 75
        tree = MemoryTree([leaf_hash(e) for e in entries])
        for n in (1, 2, 31, 32, 33, 75):
            assert ledger.root(conn, n) == tree.root(n)
        verify_inclusion(tree.leaves[40], 40, 75, ledger.inclusion_proof(conn, 40, 75), tree.root())
        verify_consistency(29, 75, ledger.consistency_proof(conn, 29, 75), tree.root(29), tree.root())
        export_log(conn, ledger, tmp_path / "export", NOW)
    assert verify_export(tmp_path / "export").tree_size == 75

    # A rolled-back batch leaves nothing behind.
    with ledger.engine.connect() as conn:
        ledger.append(conn, [EntryDraft("test.added", "system", {})], NOW)
        conn.rollback()
    with ledger.engine.connect() as conn:
        assert ledger.size(conn) == 75
