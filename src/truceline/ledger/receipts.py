"""Receipts: what a filer keeps to prove, later and offline, that the log took its entry.

A receipt is the inclusion proof bundle of ``ledger.proofs`` (RFC 9162 names:
``leaf_index``, ``tree_size``, ``inclusion_path``) holding the entry itself and a signed
tree head, for the tree that ends with the entry (``tree_size`` = ``leaf_index`` + 1,
signed at the entry's own time). So a receipt is a function of the log alone: asked again
(an observer resending a report), the register gives the very same bytes.

Verifying one (``verify_receipt``, ``truceline log verify-receipt FILE``) needs nothing but
the file and, to trust it, the log's public key: the tree head's signature, the entry's
hash into the leaf, the path to the signed root, the entry at the position it claims, and
the log's signature on the entry itself (its ``log_signature``).

Used for incident reports; any command may answer with one (e.g. an acknowledgement).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Connection

from truceline.errors import FormatError, VerificationError
from truceline.ledger.entries import Entry
from truceline.ledger.keys import public_key_from_raw, signature_ok
from truceline.ledger.log import Ledger
from truceline.ledger.proofs import InclusionProof
from truceline.ledger.sth import SignedTreeHead, read_json_file

RECEIPT_FORMAT = "truceline-receipt/1"


@dataclass(frozen=True, slots=True)
class Receipt:
    """An inclusion proof of one entry with the entry and a signed tree head."""

    proof: InclusionProof

    @property
    def leaf_index(self) -> int:
        return self.proof.leaf_index

    def to_json(self) -> dict[str, Any]:
        return {"format": RECEIPT_FORMAT, **self.proof.to_json()}

    @classmethod
    def from_json(cls, value: object) -> Receipt:
        """Parse (not verify); FormatError names the field. A receipt must hold its entry
        and its tree head: without them it proves nothing offline."""
        if not isinstance(value, dict):
            raise FormatError("must be a JSON object", field="receipt")
        if value.get("format") != RECEIPT_FORMAT:
            raise FormatError(f"must be {RECEIPT_FORMAT!r}, got {value.get('format')!r}", field="format")
        for name in ("entry", "sth"):
            if value.get(name) is None:
                raise FormatError("is missing", field=name)
        return cls(InclusionProof.from_json(value))

    @classmethod
    def load(cls, path: Path) -> Receipt:
        """Read a receipt file; errors carry the path."""
        value = read_json_file(path)
        try:
            return cls.from_json(value)
        except FormatError as exc:
            raise exc.located(str(path)) from None


def issue_receipt(conn: Connection, ledger: Ledger, seq: int) -> Receipt:
    """The receipt of entry ``seq``. Requires 0 <= seq < the log's size (committed, or
    written earlier in this transaction)."""
    entry = ledger.entry(conn, seq)
    size = seq + 1
    sth = SignedTreeHead.sign(size, ledger.root(conn, size), entry.time_ms, ledger.log_key)
    proof = InclusionProof(
        leaf_index=seq,
        tree_size=size,
        leaf_hash=entry.leaf_hash,
        inclusion_path=tuple(ledger.inclusion_proof(conn, seq, size)),
        entry=entry.canonical,
        root_hash=sth.root_hash,
        sth=sth,
    )
    return Receipt(proof)


def verify_receipt(receipt: Receipt, public_key: bytes | None = None) -> Entry:
    """Check ``receipt`` from its bytes alone, with the log's ``public_key`` (raw) when
    given (else the key its tree head names: then it shows only that the receipt is
    whole). Returns the entry it proves; raises VerificationError saying what fails."""
    proof = receipt.proof
    assert proof.entry is not None and proof.sth is not None  # from_json / issue_receipt
    proof.verify(public_key=public_key)  # tree head signature, leaf hash, path to the root
    try:
        entry = Entry.parse(proof.entry)
    except FormatError as error:
        raise VerificationError(f"is not a log entry: {error}", field="entry") from None
    if entry.seq != proof.leaf_index:
        raise VerificationError(
            f"says it is entry {entry.seq}, the proof places it at {proof.leaf_index}", field="entry"
        )
    key = proof.sth.public_key
    if not signature_ok(public_key_from_raw(key), entry.log_signature, entry.log_message()):
        raise VerificationError("does not verify with the log's key", field="log_signature")
    return entry
