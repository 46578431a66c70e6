"""The proof bundles an auditor keeps: one inclusion proof or one consistency proof, as the
CLI prints them (`truceline log prove`, `truceline log consistency`) and the API returns
them (`/log/proof/inclusion`, `/log/proof/consistency`).

The field names are RFC 9162's (section 4.11, InclusionProofDataV2 and
ConsistencyProofDataV2): ``leaf_index``, ``tree_size``, ``inclusion_path``;
``tree_size_1``, ``tree_size_2``, ``consistency_path``. Beside them, what lets a bundle be
checked on its own: the leaf hash, the entry, the roots and a signed tree head.

Reading accepts the names written before there was one bundle, so proofs an auditor saved
still verify: the CLI's ``audit_path``, ``size1``/``size2``, ``root1``/``root2``, ``proof``
and the API's ``index``, ``first``/``second``, ``proof``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from truceline.errors import FormatError, VerificationError
from truceline.ledger.canonical import b64decode, b64encode
from truceline.ledger.merkle import HASH_SIZE, leaf_hash, verify_consistency, verify_inclusion
from truceline.ledger.sth import SignedTreeHead

# RFC 9162 name -> the older names it is also read from, in the order they are tried.
_INCLUSION_ALIASES = {"leaf_index": ("index",), "inclusion_path": ("audit_path", "proof")}
_CONSISTENCY_ALIASES = {
    "tree_size_1": ("size1", "first"),
    "tree_size_2": ("size2", "second"),
    "consistency_path": ("proof",),
    "root_hash_1": ("root1",),
    "root_hash_2": ("root2",),
}


@dataclass(frozen=True, slots=True)
class InclusionProof:
    """Entry ``leaf_index`` is in the tree of ``tree_size`` entries (RFC 9162 2.1.3)."""

    leaf_index: int
    tree_size: int
    leaf_hash: bytes
    inclusion_path: tuple[bytes, ...]
    entry: bytes | None = None  # the entry's canonical JSON: the leaf's input
    root_hash: bytes | None = None
    sth: SignedTreeHead | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"leaf_index": self.leaf_index, "tree_size": self.tree_size}
        if self.entry is not None:
            body["entry"] = self.entry.decode("utf-8")
        body["leaf_hash"] = b64encode(self.leaf_hash)
        if self.root_hash is not None:
            body["root_hash"] = b64encode(self.root_hash)
        body["inclusion_path"] = [b64encode(h) for h in self.inclusion_path]
        if self.sth is not None:
            body["sth"] = self.sth.to_json()
        return body

    @classmethod
    def from_json(cls, value: object) -> InclusionProof:
        """Parse (not verify) a bundle, in today's names or the older ones; FormatError
        names the field."""
        data = _object(value, _INCLUSION_ALIASES)
        entry = data.get("entry")
        if entry is not None and not isinstance(entry, str):
            raise FormatError("must be the entry's canonical JSON text", field="entry")
        return cls(
            leaf_index=_size(data, "leaf_index", minimum=0),
            tree_size=_size(data, "tree_size", minimum=1),
            leaf_hash=b64decode(_field(data, "leaf_hash"), field="leaf_hash", size=HASH_SIZE),
            inclusion_path=_path(data, "inclusion_path"),
            entry=None if entry is None else entry.encode("utf-8"),
            root_hash=_optional_hash(data, "root_hash"),
            sth=None if data.get("sth") is None else SignedTreeHead.from_json(data["sth"]),
        )

    def verify(self, root_hash: bytes | None = None, public_key: bytes | None = None) -> None:
        """Check the path against ``root_hash`` (else the bundle's tree head's, else its
        ``root_hash``): the tree head's signature (with ``public_key`` when given), that it is
        for this tree size, and that the entry hashes to the leaf. Raises VerificationError."""
        root = _root(root_hash, self.sth, self.root_hash, self.tree_size, public_key, "root_hash")
        if self.entry is not None and leaf_hash(self.entry) != self.leaf_hash:
            raise VerificationError("the entry does not hash to leaf_hash", field="entry")
        verify_inclusion(self.leaf_hash, self.leaf_index, self.tree_size, self.inclusion_path, root)


@dataclass(frozen=True, slots=True)
class ConsistencyProof:
    """The tree of ``tree_size_2`` entries extends that of ``tree_size_1`` (RFC 9162 2.1.4)."""

    tree_size_1: int
    tree_size_2: int
    consistency_path: tuple[bytes, ...]
    root_hash_1: bytes | None = None
    root_hash_2: bytes | None = None
    sth: SignedTreeHead | None = None  # a tree head for tree_size_2

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"tree_size_1": self.tree_size_1, "tree_size_2": self.tree_size_2}
        if self.root_hash_1 is not None:
            body["root_hash_1"] = b64encode(self.root_hash_1)
        if self.root_hash_2 is not None:
            body["root_hash_2"] = b64encode(self.root_hash_2)
        body["consistency_path"] = [b64encode(h) for h in self.consistency_path]
        if self.sth is not None:
            body["sth"] = self.sth.to_json()
        return body

    @classmethod
    def from_json(cls, value: object) -> ConsistencyProof:
        """Parse (not verify) a bundle, in today's names or the older ones; FormatError
        names the field."""
        data = _object(value, _CONSISTENCY_ALIASES)
        return cls(
            tree_size_1=_size(data, "tree_size_1", minimum=1),
            tree_size_2=_size(data, "tree_size_2", minimum=1),
            consistency_path=_path(data, "consistency_path"),
            root_hash_1=_optional_hash(data, "root_hash_1"),
            root_hash_2=_optional_hash(data, "root_hash_2"),
            sth=None if data.get("sth") is None else SignedTreeHead.from_json(data["sth"]),
        )

    def verify(
        self,
        root_hash_1: bytes | None = None,
        root_hash_2: bytes | None = None,
        public_key: bytes | None = None,
    ) -> None:
        """Check the path between the two roots: ``root_hash_1`` (an older head the auditor
        kept; else the bundle's) and ``root_hash_2`` (else the bundle's tree head's, its
        signature checked, else its ``root_hash_2``). Raises VerificationError."""
        older = root_hash_1 if root_hash_1 is not None else self.root_hash_1
        if older is None:
            raise VerificationError("is needed: the older root to check against", field="root_hash_1")
        newer = _root(root_hash_2, self.sth, self.root_hash_2, self.tree_size_2, public_key, "root_hash_2")
        verify_consistency(self.tree_size_1, self.tree_size_2, self.consistency_path, older, newer)


def _object(value: object, aliases: Mapping[str, Sequence[str]]) -> dict[str, Any]:
    """``value`` as a dict in today's names: an older name fills a field left unnamed."""
    if not isinstance(value, dict):
        raise FormatError("must be a JSON object", field="proof")
    data = dict(value)
    for name, olds in aliases.items():
        if name not in data:
            for old in olds:
                if old in value:
                    data[name] = value[old]
                    break
    return data


def _field(data: Mapping[str, Any], name: str) -> Any:
    if name not in data:
        raise FormatError("is missing", field=name)
    return data[name]


def _size(data: Mapping[str, Any], name: str, *, minimum: int) -> int:
    value = _field(data, name)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise FormatError(f"must be an integer of at least {minimum}, got {value!r}", field=name)
    return value


def _path(data: Mapping[str, Any], name: str) -> tuple[bytes, ...]:
    value = _field(data, name)
    if not isinstance(value, list):
        raise FormatError("must be a list of base64 hashes", field=name)
    return tuple(b64decode(h, field=f"{name}[{i}]", size=HASH_SIZE) for i, h in enumerate(value))


def _optional_hash(data: Mapping[str, Any], name: str) -> bytes | None:
    value = data.get(name)
    return None if value is None else b64decode(value, field=name, size=HASH_SIZE)


def _root(
    given: bytes | None,
    sth: SignedTreeHead | None,
    stated: bytes | None,
    tree_size: int,
    public_key: bytes | None,
    field: str,
) -> bytes:
    """The root a proof must lead to: the caller's, else the signed head's (checked), else
    the root the bundle states (which proves only that the bundle is self-consistent)."""
    if given is not None:
        return given
    if sth is not None:
        sth.verify(public_key)
        if sth.tree_size != tree_size:
            raise VerificationError(
                f"the tree head is for {sth.tree_size} entries, the proof for {tree_size}", field="sth"
            )
        if stated is not None and stated != sth.root_hash:
            raise VerificationError("differs from the signed tree head's root", field=field)
        return sth.root_hash
    if stated is None:
        raise VerificationError("is needed: no root to check the proof against", field=field)
    return stated
