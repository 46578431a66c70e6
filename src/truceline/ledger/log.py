"""The Ledger: appends entries and serves roots, proofs and tree heads from the database.

Every method takes the caller's ``Connection`` and runs inside the caller's transaction,
so a service writes its projection rows in the same transaction as the entries that
cause them: both commit, or neither. ``append`` writes a whole batch (entries, new
subtree hashes, head) or, if the transaction rolls back or the process dies, nothing.

Appends must not run concurrently against one database from two connections on SQLite
(the second fails on the sequence number); on PostgreSQL the head row is locked, so
concurrent appenders queue.

One log, one key: the log records its public key (``ledger_log_key``) with its first
append, and a ``Ledger`` whose key is another refuses to append (``LogKeyError``, naming
both keys' fingerprints and where this process's key came from).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Connection, Engine, bindparam, delete, func, insert, select, update

from truceline.domain.clock import to_ms
from truceline.errors import LogKeyError, ValidationError, VerificationError
from truceline.ledger.entries import (
    PARTY_REGISTERED,
    REGISTERED_PARTY_FIELD,
    Entry,
    EntryDraft,
    KeyRegistry,
    build_entry,
)
from truceline.ledger.keys import (
    KEYS_DIR_ENV,
    LOG_KEY_FILE,
    KeysLocation,
    fingerprint,
    load_or_create_log_key,
    raw_public_key,
    signature_ok,
)
from truceline.ledger.merkle import (
    EMPTY_ROOT,
    CompactRange,
    Node,
    RootMismatchError,
    consistency_ranges,
    hash_ranges,
    inclusion_ranges,
    range_nodes,
    root_from_nodes,
)
from truceline.ledger.sth import SignedTreeHead
from truceline.ledger.verify import LogVerifier
from truceline.store.schema import (
    LEDGER_TABLES,
    NODE_LEVEL_SHIFT,
    ledger_entries,
    ledger_head,
    ledger_log_key,
    ledger_nodes,
    ledger_party_keys,
    metadata,
)

_HEAD_ID = 1
_PAGE = 1000  # entries read per round trip when streaming the log


def open_ledger(engine: Engine, location: KeysLocation) -> Ledger:
    """The ledger on ``engine`` with the log key kept in ``location``, generated there only
    for a log that has no entry yet; requires the tables to exist. Raises LogKeyError when
    ``location`` holds no key but the log has entries (a new key could never sign for
    them), or holds another key than the log's."""
    with engine.connect() as conn:
        size = conn.execute(_SELECT_SIZE).scalar() or 0
        recorded = conn.execute(_SELECT_LOG_KEY).scalar()
    if size and not (location.path / LOG_KEY_FILE).exists():
        named = f"key {fingerprint(bytes(recorded))}" if recorded is not None else "its key"
        raise LogKeyError(
            f"no log key in {location}, and the log holds {size} entries signed by {named}: "
            f"set {KEYS_DIR_ENV} to the folder holding the log's key (a new key would sign "
            "entries no verifier accepts)",
            log_key=None if recorded is None else bytes(recorded),
            process_key=None,
        )
    ledger = Ledger(engine, load_or_create_log_key(location.path), location)
    with engine.connect() as conn:
        ledger.check_key(conn)
    return ledger


class Ledger:
    def __init__(self, engine: Engine, log_key: Ed25519PrivateKey, key_location: KeysLocation | None = None):
        self.engine = engine
        self.log_key = log_key
        self.public_key = raw_public_key(log_key.public_key())
        self.key_location = key_location  # named in a refusal; None: the caller gave the key
        self._key_confirmed = False  # the log's recorded key was read and is ours

    def create_tables(self) -> None:
        """Create the ledger's tables only (``create_schema`` creates them with the rest)."""
        metadata.create_all(self.engine, tables=list(LEDGER_TABLES))

    # --- writing ----------------------------------------------------------------------------

    def append(self, conn: Connection, drafts: Sequence[EntryDraft], now: datetime) -> list[Entry]:
        """Append ``drafts`` as consecutive entries stamped ``now``; returns them.

        O(len(drafts) * log n) hashing and a constant number of statements. Raises
        ValidationError / AuthError (nothing written by this call) if a draft breaks the
        key rules (see ``entries``). Commit is the caller's: the batch is durable, and
        visible, when the caller's transaction commits.
        """
        if not drafts:
            return []
        appender = self.appender(conn)
        entries = appender.append(drafts, now)
        appender.flush()
        return entries

    def appender(self, conn: Connection) -> Appender:
        """An ``Appender`` over ``conn``'s transaction (it locks the head row on PostgreSQL)."""
        return Appender(self, conn)

    def check_key(self, conn: Connection) -> bool:
        """Requires the log to be signed by this ledger's key: raises LogKeyError naming both
        keys when the log records another, or (a log older than the record) when its entry 0
        does not verify with this key. Returns True when the key is still to be recorded (by
        the next append). One or two reads until the record is seen, then none: the
        recorded key never changes (there is no rotation yet)."""
        if self._key_confirmed:
            return False
        recorded = conn.execute(_SELECT_LOG_KEY).scalar()
        if recorded is not None:
            if bytes(recorded) != self.public_key:
                raise self._refusal(bytes(recorded))
            self._key_confirmed = True
            return False
        first = conn.execute(_SELECT_FIRST_ENTRY).scalar()
        if first is not None:
            entry = Entry.parse(bytes(first))
            if not signature_ok(self.log_key.public_key(), entry.log_signature, entry.log_message()):
                raise self._refusal(None)
        return True

    def _refusal(self, log_key: bytes | None) -> LogKeyError:
        held = f"this process holds key {fingerprint(self.public_key)}"
        if self.key_location is not None:
            held += f" from {self.key_location}"
        if log_key is None:
            signed = "the log is signed by another key (its entry 0 does not verify with this one)"
        else:
            signed = f"the log is signed by key {fingerprint(log_key)}"
        return LogKeyError(
            f"{signed}, but {held}; refusing to write: set {KEYS_DIR_ENV} to the folder holding "
            "the log's key",
            log_key=log_key,
            process_key=self.public_key,
        )

    # --- reading ----------------------------------------------------------------------------

    def size(self, conn: Connection) -> int:
        """The number of entries (committed, or written earlier in this transaction)."""
        size = conn.execute(_SELECT_SIZE).scalar()
        return size or 0

    def root(self, conn: Connection, size: int | None = None) -> bytes:
        """MTH of the first ``size`` entries (default: all). Requires 0 <= size <= tree size."""
        if size is None:
            root = conn.execute(select(ledger_head.c.root_hash).where(ledger_head.c.id == _HEAD_ID)).scalar()
            return bytes(root) if root is not None else EMPTY_ROOT
        self._check_size(conn, size, "size")
        return root_from_nodes(size, lambda nodes: self._fetch(conn, nodes))

    def inclusion_proof(self, conn: Connection, index: int, size: int) -> list[bytes]:
        """Audit path of entry ``index`` in the tree of ``size`` (RFC 9162 2.1.3.1), leaf to root.

        Requires 0 <= index < size <= tree size. One read of O(log n) subtree hashes.
        """
        self._check_size(conn, size, "size")
        return hash_ranges(inclusion_ranges(index, size), lambda nodes: self._fetch(conn, nodes))

    def consistency_proof(self, conn: Connection, size1: int, size2: int) -> list[bytes]:
        """Proof that the tree of ``size2`` extends that of ``size1`` (RFC 9162 2.1.4.1).

        Requires 0 < size1 <= size2 <= tree size. One read of O(log n) subtree hashes.
        """
        self._check_size(conn, size2, "size2")
        return hash_ranges(consistency_ranges(size1, size2), lambda nodes: self._fetch(conn, nodes))

    def entries(self, conn: Connection, start: int = 0, stop: int | None = None) -> Iterator[Entry]:
        """Entries with start <= seq < stop, in order, read a page at a time."""
        while stop is None or start < stop:
            query = select(ledger_entries.c.seq, ledger_entries.c.canonical).where(
                ledger_entries.c.seq >= start
            )
            if stop is not None:
                query = query.where(ledger_entries.c.seq < stop)
            rows = conn.execute(query.order_by(ledger_entries.c.seq).limit(_PAGE)).all()
            for row in rows:
                yield Entry.parse(bytes(row.canonical))
            if len(rows) < _PAGE:
                return
            start = rows[-1].seq + 1

    def entry(self, conn: Connection, seq: int) -> Entry:
        """Requires 0 <= seq < tree size."""
        self._check_size(conn, seq + 1, "seq")
        canonical = conn.execute(
            select(ledger_entries.c.canonical).where(ledger_entries.c.seq == seq)
        ).scalar()
        if canonical is None:
            raise VerificationError(f"entry {seq} is missing from the store", field="seq")
        return Entry.parse(bytes(canonical))

    def signed_tree_head(self, conn: Connection, now: datetime, size: int | None = None) -> SignedTreeHead:
        """The log's signature over (size, root, now). ``size`` defaults to the whole log;
        requires 0 <= size <= tree size."""
        size = self.size(conn) if size is None else size
        return SignedTreeHead.sign(size, self.root(conn, size), to_ms(now), self.log_key)

    def verify(self, conn: Connection) -> int:
        """Re-check the whole stored log from its entries' bytes: every check an offline
        verifier makes, plus the stored head and subtree hashes against the recomputed root.
        Returns the tree size; raises VerificationError naming the first fault."""
        size = self.size(conn)
        verifier = LogVerifier(self.public_key)
        for entry in self.entries(conn, 0, size):
            verifier.add(entry.canonical)
        verifier.finish(size, self.root(conn))
        stored = self.root(conn, size)
        if stored != verifier.compact.root():
            raise RootMismatchError(
                "stored subtree hashes disagree with the entries",
                expected=verifier.compact.root(),
                computed=stored,
                field="ledger_nodes",
            )
        node_count = conn.execute(select(func.count()).select_from(ledger_nodes)).scalar() or 0
        # A tree of n leaves has 2n - popcount(n) perfect subtrees.
        if node_count != 2 * size - bin(size).count("1"):
            raise VerificationError(
                f"holds {node_count} subtree hashes for {size} entries", field="ledger_nodes"
            )
        return size

    # --- internals --------------------------------------------------------------------------

    def _check_size(self, conn: Connection, size: int, field: str) -> None:
        tree_size = self.size(conn)
        if not 0 <= size <= tree_size:
            raise ValidationError(
                f"requires 0 <= {field} <= {tree_size} (the tree size), got {size}", field=field
            )

    @staticmethod
    def _fetch(conn: Connection, nodes: Sequence[Node]) -> dict[Node, bytes]:
        if not nodes:
            return {}
        keys = [(level << NODE_LEVEL_SHIFT) | index for level, index in nodes]
        rows = conn.execute(_FETCH_NODES, {"keys": keys})
        mask = (1 << NODE_LEVEL_SHIFT) - 1
        return {(node >> NODE_LEVEL_SHIFT, node & mask): bytes(h) for node, h in rows}


# Built once: statement construction costs more than the indexed read of ~40 rows.
_FETCH_NODES = select(ledger_nodes.c.node, ledger_nodes.c.hash).where(
    ledger_nodes.c.node.in_(bindparam("keys", expanding=True))
)


class _Mark:
    """Where an ``Appender`` stood: ``Appender.undo_to`` goes back there."""

    __slots__ = ("changed", "compact", "entry_rows", "keys", "node_rows")

    def __init__(self, appender: Appender) -> None:
        self.compact = appender._compact.copy()
        self.entry_rows = len(appender._entry_rows)
        self.node_rows = len(appender._node_rows)
        self.keys = dict(appender._keys)
        self.changed = dict(appender._changed)


class Appender:
    """Appends over several calls inside one transaction, for a group commit: the head and
    the frontier are read once, at creation, and every row is written once, by ``flush``
    (three statements, however many calls). Until ``flush`` the new entries exist only
    here: the caller must flush before its transaction commits, and must not read the log
    through ``conn`` in between (it would not see them). ``mark``/``undo_to`` take back
    the calls since a mark, alongside a rolled-back savepoint.
    """

    def __init__(self, ledger: Ledger, conn: Connection) -> None:
        self._ledger = ledger
        self._conn = conn
        head = conn.execute(_HEAD_FOR_UPDATE).first()
        self._had_head = head is not None
        size = head.tree_size if head else 0
        # Under the head's lock: no other appender records a key between this and flush.
        self._record_key_at: int | None = size if ledger.check_key(conn) else None
        frontier = range_nodes(0, size) if size else []
        stored = Ledger._fetch(conn, frontier)
        self._compact = CompactRange(size, [stored[node] for node in frontier])
        self._stored_keys: dict[str, bytes | None] = {}  # ledger_party_keys, read as needed
        self._keys: dict[str, bytes] = {}  # keys registered by this appender's entries
        self._changed: dict[str, tuple[bytes, int]] = {}  # party -> (key, seq), to write
        self._entry_rows: list[dict[str, object]] = []
        self._node_rows: list[dict[str, object]] = []

    @property
    def size(self) -> int:
        """The tree size, counting the entries appended here."""
        return self._compact.size

    def append(self, drafts: Sequence[EntryDraft], now: datetime) -> list[Entry]:
        """As ``Ledger.append``, the rows kept for ``flush``. A draft that breaks the key
        rules raises, and nothing of this call is kept."""
        if not drafts:
            return []
        self._read_keys(drafts)
        at_ms = to_ms(now)
        mark = self.mark()
        registry = KeyRegistry(self._key_of)
        entries: list[Entry] = []
        try:
            for draft in drafts:
                entry = build_entry(draft, self._compact.size, at_ms, self._ledger.log_key, registry)
                registry.apply(entry)
                for level, index, h in self._compact.append(entry.leaf_hash):
                    self._node_rows.append({"node": (level << NODE_LEVEL_SHIFT) | index, "hash": h})
                self._entry_rows.append(
                    {
                        "seq": entry.seq,
                        "time_ms": entry.time_ms,
                        "author": entry.author,
                        "type": entry.type,
                        "canonical": entry.canonical,
                    }
                )
                entries.append(entry)
        except BaseException:
            self.undo_to(mark)
            raise
        for party, (key, seq) in registry.changed.items():
            self._keys[party] = key
            self._changed[party] = (key, seq)
        return entries

    def mark(self) -> _Mark:
        return _Mark(self)

    def undo_to(self, mark: _Mark) -> None:
        """Forget what was appended since ``mark``."""
        self._compact = mark.compact.copy()
        del self._entry_rows[mark.entry_rows :]
        del self._node_rows[mark.node_rows :]
        self._keys = dict(mark.keys)
        self._changed = dict(mark.changed)

    def flush(self) -> None:
        """Write the entries, subtree hashes, head and registered keys appended so far."""
        if not self._entry_rows:
            return
        conn = self._conn
        conn.execute(_INSERT_ENTRIES, self._entry_rows)
        conn.execute(_INSERT_NODES, self._node_rows)
        head_values = {"tree_size": self._compact.size, "root_hash": self._compact.root()}
        if self._had_head:
            conn.execute(_UPDATE_HEAD, head_values)
        else:
            conn.execute(_INSERT_HEAD, {"id": _HEAD_ID, **head_values})
            self._had_head = True
        if self._record_key_at is not None:
            key_row = {"public_key": self._ledger.public_key, "recorded_at_size": self._record_key_at}
            conn.execute(_INSERT_LOG_KEY, {"id": _HEAD_ID, **key_row})
            self._record_key_at = None
        if self._changed:
            conn.execute(
                delete(ledger_party_keys).where(ledger_party_keys.c.party_id.in_(list(self._changed)))
            )
            conn.execute(
                insert(ledger_party_keys),
                [
                    {"party_id": party, "public_key": key, "registered_seq": seq}
                    for party, (key, seq) in self._changed.items()
                ],
            )
        self._entry_rows, self._node_rows, self._changed = [], [], {}

    def _key_of(self, party_id: str) -> bytes | None:
        if party_id in self._keys:
            return self._keys[party_id]
        return self._stored_keys.get(party_id)

    def _read_keys(self, drafts: Sequence[EntryDraft]) -> None:
        """Read the stored keys of the parties ``drafts`` name that were not read yet (one
        query, none when every one was)."""
        wanted = {d.author for d in drafts}
        wanted |= {
            d.payload[REGISTERED_PARTY_FIELD]
            for d in drafts
            if d.type == PARTY_REGISTERED and isinstance(d.payload.get(REGISTERED_PARTY_FIELD), str)
        }
        missing = sorted(wanted - self._stored_keys.keys())
        if not missing:
            return
        rows = self._conn.execute(_SELECT_KEYS, {"parties": missing})
        self._stored_keys.update(dict.fromkeys(missing))
        self._stored_keys.update({row.party_id: bytes(row.public_key) for row in rows})


# Built once: statement construction costs more than executing one on SQLite.
_HEAD_FOR_UPDATE = select(ledger_head.c.tree_size).where(ledger_head.c.id == _HEAD_ID).with_for_update()
_SELECT_SIZE = select(ledger_head.c.tree_size).where(ledger_head.c.id == _HEAD_ID)
_SELECT_KEYS = select(ledger_party_keys.c.party_id, ledger_party_keys.c.public_key).where(
    ledger_party_keys.c.party_id.in_(bindparam("parties", expanding=True))
)
_SELECT_LOG_KEY = select(ledger_log_key.c.public_key).where(ledger_log_key.c.id == _HEAD_ID)
_SELECT_FIRST_ENTRY = select(ledger_entries.c.canonical).where(ledger_entries.c.seq == 0)
_INSERT_LOG_KEY = insert(ledger_log_key)
_INSERT_ENTRIES = insert(ledger_entries)
_INSERT_NODES = insert(ledger_nodes)
_INSERT_HEAD = insert(ledger_head)
_UPDATE_HEAD = update(ledger_head).where(ledger_head.c.id == _HEAD_ID)
