"""Export of the log to a directory, and its verification from those files alone.

``entries.jsonl``: one entry per line, in sequence order; each line is the entry's
RFC 8785 bytes (UTF-8) followed by one ``\\n`` (0x0A), and those bytes without the newline
are the leaf input of the Merkle tree. Canonical JSON never holds a raw 0x0A (it is
escaped inside strings), so splitting on 0x0A bytes, and on nothing else, recovers
the entries. ``sth.json``: the signed tree head of those entries (see ``sth``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from truceline.errors import FormatError, VerificationError
from truceline.ledger.log import Ledger
from truceline.ledger.merkle import MemoryTree, RootMismatchError, verify_consistency
from truceline.ledger.sth import SignedTreeHead
from truceline.ledger.verify import BadEntryError, LogVerifier

ENTRIES_FILE = "entries.jsonl"
STH_FILE = "sth.json"


def export_log(conn: Connection, ledger: Ledger, directory: Path, now: datetime) -> SignedTreeHead:
    """Write ``entries.jsonl`` and ``sth.json`` for the whole log as it is now; returns the head.

    Each file is written to a temporary name and renamed, so a reader never sees half a file.
    """
    directory.mkdir(parents=True, exist_ok=True)
    size = ledger.size(conn)  # the log only grows: entries [0, size) and their root are fixed
    entries_tmp = directory / (ENTRIES_FILE + ".tmp")
    with entries_tmp.open("wb") as out:
        for entry in ledger.entries(conn, 0, size):
            out.write(entry.canonical + b"\n")
    sth = ledger.signed_tree_head(conn, now, size)
    sth_tmp = directory / (STH_FILE + ".tmp")
    sth.dump(sth_tmp)
    os.replace(entries_tmp, directory / ENTRIES_FILE)
    os.replace(sth_tmp, directory / STH_FILE)
    return sth


def verify_export(
    directory: Path, previous: SignedTreeHead | Path | None = None, *, key: bytes | None = None
) -> SignedTreeHead:
    """Verify an exported log with nothing but its files; returns its (verified) tree head.

    ``key`` (raw Ed25519) pins the log's key: the tree head must be signed by it (and so the
    receipts of every entry). Without it the key ``sth.json`` names is trusted, and a
    history rewritten and re-signed with a new key verifies: only a pinned key, or an
    older head (``previous``), catches that.

    Checks the tree head's signature; each entry in order (canonical bytes, seq = position,
    the log's receipt signature, the author's signature against keys registered earlier in
    the log); that the entries are exactly ``tree_size`` and lead to ``root_hash``. With
    ``previous`` (an older tree head of the same log), also that this log extends it: the
    root of its first ``previous.tree_size`` entries equals the old root, and a consistency
    proof computed from the entries verifies (RFC 9162 2.1.4.2).

    Raises BadEntryError naming the first bad entry and why (``where`` gives the line),
    RootMismatchError with both roots, VerificationError otherwise, FormatError for
    files that cannot be read.
    """
    sth = SignedTreeHead.load(directory / STH_FILE)
    try:
        sth.verify(key)
    except VerificationError as exc:
        raise exc.located(str(directory / STH_FILE)) from None
    old: SignedTreeHead | None = None
    if previous is not None:
        old = previous if isinstance(previous, SignedTreeHead) else SignedTreeHead.load(previous)
        where = "previous tree head" if isinstance(previous, SignedTreeHead) else str(previous)
        try:
            old.verify(sth.public_key)
        except VerificationError as exc:
            raise exc.located(where) from None
        if old.tree_size > sth.tree_size:
            raise VerificationError(
                f"covers {old.tree_size} entries, more than the {sth.tree_size} of this log: the log shrank",
                field="tree_size",
                where=where,
            )

    verifier = LogVerifier(sth.public_key, keep_leaves=old is not None)
    entries_path = directory / ENTRIES_FILE
    for index, line in enumerate(_lines(entries_path)):
        try:
            verifier.add(line)
        except BadEntryError as exc:
            raise exc.located(f"{entries_path} line {index + 1}") from None
    verifier.finish(sth.tree_size, sth.root_hash)

    if old is not None and old.tree_size > 0:
        tree = MemoryTree(verifier.leaves or [])
        old_root = tree.root(old.tree_size)
        if old_root != old.root_hash:
            raise RootMismatchError(
                f"the first {old.tree_size} entries do not lead to the previous tree head's root: "
                "history was rewritten",
                expected=old.root_hash,
                computed=old_root,
            )
        # What a third party holding only the two heads would be sent and would check.
        proof = tree.consistency_proof(old.tree_size, sth.tree_size)
        verify_consistency(old.tree_size, sth.tree_size, proof, old.root_hash, sth.root_hash)
    return sth


def _lines(path: Path) -> Iterator[bytes]:
    """Lines split on 0x0A only; each must be terminated by it."""
    try:
        with path.open("rb") as f:
            for index, raw in enumerate(f):  # binary mode splits on b"\n" and nothing else
                if not raw.endswith(b"\n"):
                    raise BadEntryError(index, "the last line is not terminated by a newline").located(
                        f"{path} line {index + 1}"
                    )
                yield raw[:-1]
    except OSError as exc:
        raise FormatError(f"cannot be read: {exc.strerror}", where=str(path)) from None
