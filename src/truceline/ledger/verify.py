"""Checking a log entry by entry, from its bytes alone: what an auditor runs.

Used on an export (``export.verify_export``) and on the database (``Ledger.verify``).
The checks on entry k, in order: its bytes are one canonical JSON entry; its ``seq`` is k
(so removed, reordered or inserted entries are caught at the first one out of place); the
log's receipt signature holds (so any altered byte is pinned on the entry that holds it);
its author signature holds against the keys registered by the entries before it. At the
end, the count and the recomputed root must match the signed tree head.
"""

from __future__ import annotations

from truceline.errors import TrucelineError, VerificationError
from truceline.ledger.entries import Entry, KeyRegistry
from truceline.ledger.keys import public_key_from_raw, signature_ok
from truceline.ledger.merkle import CompactRange, RootMismatchError


class BadEntryError(VerificationError):
    """The first entry of a log that fails a check; ``index`` is its position (= its seq)."""

    def __init__(self, index: int, reason: str, *, where: str | None = None):
        super().__init__(f"entry {index}: {reason}", field=None, where=where)
        self.index = index
        self.reason = reason


class LogVerifier:
    """Feed the entries' bytes in order with ``add``; then ``finish`` against a tree head.

    With ``keep_leaves`` the leaf hashes are kept (for a consistency proof afterwards).
    """

    def __init__(self, log_public_key: bytes, *, keep_leaves: bool = False):
        self._log_key = public_key_from_raw(log_public_key)
        self.registry = KeyRegistry()
        self.compact = CompactRange()
        self.leaves: list[bytes] | None = [] if keep_leaves else None

    @property
    def size(self) -> int:
        return self.compact.size

    def add(self, data: bytes) -> Entry:
        """Check the next entry; raises BadEntryError naming it and the reason."""
        index = self.compact.size
        try:
            entry = Entry.parse(data)
        except TrucelineError as exc:
            raise BadEntryError(index, f"unreadable: {exc}") from None
        if entry.seq != index:
            raise BadEntryError(
                index,
                f"has seq {entry.seq} where seq {index} belongs (entries removed, reordered or inserted)",
            )
        if not signature_ok(self._log_key, entry.log_signature, entry.log_message()):
            raise BadEntryError(index, "log_signature does not verify: the entry was altered")
        try:
            self.registry.check(entry)
            self.registry.apply(entry)
        except TrucelineError as exc:
            raise BadEntryError(index, str(exc)) from None
        leaf = entry.leaf_hash
        self.compact.append(leaf)
        if self.leaves is not None:
            self.leaves.append(leaf)
        return entry

    def finish(self, tree_size: int, root_hash: bytes) -> None:
        """Check that the entries fed are exactly the tree of ``tree_size`` with ``root_hash``."""
        if self.size < tree_size:
            raise BadEntryError(
                self.size,
                f"missing: the log ends after {self.size} entries, the tree head covers {tree_size}",
            )
        if self.size > tree_size:
            raise BadEntryError(tree_size, f"beyond the tree head, which covers {tree_size} entries")
        computed = self.compact.root()
        if computed != root_hash:
            raise RootMismatchError(
                "the entries do not lead to the signed root", expected=root_hash, computed=computed
            )
