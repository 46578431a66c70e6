"""The ledger: an append-only RFC 9162 Merkle log of signed entries, with signed tree heads,
inclusion and consistency proofs, and offline verification of an exported log.

- ``merkle``: hashing, tree shape, proof generation and verification (pure).
- ``canonical``: RFC 8785 JSON and strict base64.
- ``entries``: drafts, entries, and the author key rules.
- ``keys``: where the log's key lives, its file, fingerprints.
- ``sth``: signed tree heads.
- ``log``: the ``Ledger`` over the database.
- ``verify`` / ``export``: checking a log from its bytes; export to and verify a directory.
"""

from truceline.ledger.entries import Entry, EntryDraft
from truceline.ledger.export import export_log, verify_export
from truceline.ledger.keys import (
    KeysLocation,
    fingerprint,
    keys_dir_for,
    keys_location,
    load_or_create_log_key,
)
from truceline.ledger.log import Ledger, open_ledger
from truceline.ledger.sth import SignedTreeHead

__all__ = [
    "Entry",
    "EntryDraft",
    "KeysLocation",
    "Ledger",
    "SignedTreeHead",
    "export_log",
    "fingerprint",
    "keys_dir_for",
    "keys_location",
    "load_or_create_log_key",
    "open_ledger",
    "verify_export",
]
