"""Signed tree heads: the log's Ed25519 signature over (tree size, root hash, timestamp).

The signed message is the RFC 8785 canonical JSON of exactly::

    {"root_hash":"<base64 of the 32-byte root>","timestamp":<integer ms>,"tree_size":<integer>}

and ``sth.json`` adds ``public_key`` (base64, raw 32-byte Ed25519) and ``signature``
(base64, 64 bytes) to those three fields.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from truceline.errors import FormatError, VerificationError
from truceline.ledger.canonical import b64decode, b64encode, canonical_json
from truceline.ledger.keys import fingerprint, public_key_from_raw, raw_public_key, signature_ok
from truceline.ledger.merkle import HASH_SIZE


def read_json_file(path: Path) -> Any:
    """The JSON value of a file the ledger's commands read (a tree head, a receipt); a file
    that cannot be read or is not JSON is a FormatError naming the path."""
    try:
        return json.loads(path.read_bytes())
    except OSError as exc:
        raise FormatError(f"cannot be read: {exc.strerror}", where=str(path)) from None
    except ValueError as exc:
        raise FormatError(f"is not JSON: {exc}", where=str(path)) from None


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    tree_size: int
    root_hash: bytes
    timestamp_ms: int
    public_key: bytes
    signature: bytes

    @staticmethod
    def message(tree_size: int, root_hash: bytes, timestamp_ms: int) -> bytes:
        """The bytes the log signs."""
        return canonical_json(
            {"tree_size": tree_size, "root_hash": b64encode(root_hash), "timestamp": timestamp_ms}
        )

    @classmethod
    def sign(
        cls, tree_size: int, root_hash: bytes, timestamp_ms: int, key: Ed25519PrivateKey
    ) -> SignedTreeHead:
        return cls(
            tree_size=tree_size,
            root_hash=root_hash,
            timestamp_ms=timestamp_ms,
            public_key=raw_public_key(key.public_key()),
            signature=key.sign(cls.message(tree_size, root_hash, timestamp_ms)),
        )

    def verify(self, public_key: bytes | None = None) -> None:
        """Check the signature, with ``public_key`` (raw) if given, else the key the head
        names; raises VerificationError."""
        key = self.public_key if public_key is None else public_key
        if public_key is not None and public_key != self.public_key:
            raise VerificationError(
                f"signed by key {fingerprint(self.public_key)} ({b64encode(self.public_key)}), "
                f"expected key {fingerprint(public_key)} ({b64encode(public_key)})",
                field="public_key",
            )
        message = self.message(self.tree_size, self.root_hash, self.timestamp_ms)
        if not signature_ok(public_key_from_raw(key), self.signature, message):
            raise VerificationError("does not verify with the log's public key", field="signature")

    def to_json(self) -> dict[str, Any]:
        return {
            "tree_size": self.tree_size,
            "root_hash": b64encode(self.root_hash),
            "timestamp": self.timestamp_ms,
            "public_key": b64encode(self.public_key),
            "signature": b64encode(self.signature),
        }

    @classmethod
    def from_json(cls, value: object) -> SignedTreeHead:
        """Parse (not verify) a tree head; raises FormatError naming the field."""
        if not isinstance(value, dict):
            raise FormatError("must be a JSON object", field="sth")
        for name in ("tree_size", "root_hash", "timestamp", "public_key", "signature"):
            if name not in value:
                raise FormatError("is missing", field=name)
        for name in ("tree_size", "timestamp"):
            if type(value[name]) is not int or value[name] < 0:
                raise FormatError(f"must be a non-negative integer, got {value[name]!r}", field=name)
        return cls(
            tree_size=value["tree_size"],
            root_hash=b64decode(value["root_hash"], field="root_hash", size=HASH_SIZE),
            timestamp_ms=value["timestamp"],
            public_key=b64decode(value["public_key"], field="public_key", size=32),
            signature=b64decode(value["signature"], field="signature", size=64),
        )

    @classmethod
    def load(cls, path: Path) -> SignedTreeHead:
        """Read a tree head file; errors carry the path."""
        value = read_json_file(path)
        try:
            return cls.from_json(value)
        except FormatError as exc:
            raise exc.located(str(path)) from None

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
