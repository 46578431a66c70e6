"""The ledger: an append-only RFC 9162 Merkle log of signed entries, with signed tree heads,
inclusion and consistency proofs, and offline verification of an exported log.

- ``merkle``: hashing, tree shape, proof generation and verification (pure).
- ``canonical``: RFC 8785 JSON and strict base64.
- ``entries``: drafts, entries, and the author key rules.
- ``keys``: the log's key on disk.
- ``sth``: signed tree heads.
- ``log``: the ``Ledger`` over the database.
- ``verify`` / ``export``: checking a log from its bytes; export to and verify a directory.
"""

from truceline.ledger.entries import Entry, EntryDraft
from truceline.ledger.export import export_log, verify_export
from truceline.ledger.keys import keys_dir_for, load_or_create_log_key
from truceline.ledger.log import Ledger
from truceline.ledger.sth import SignedTreeHead

__all__ = [
    "Entry",
    "EntryDraft",
    "Ledger",
    "SignedTreeHead",
    "export_log",
    "keys_dir_for",
    "load_or_create_log_key",
    "verify_export",
]
