"""Bearer token -> Principal, remembered: every request names its caller, and looking the
token up in the parties table costs a database round trip (and, from the event loop, a
thread hop) on every request.

Only tokens that were found are remembered; an unknown or missing token always goes to the
database (a party registered a moment ago, even by another process, is known at once), so
401 and 403 stay exactly what ``principal_for_token`` and ``require_role`` say.

A remembered Principal never outlives a change to its party: the service clears the
cache whenever it commits or catches up a ``party.*`` entry (every change to a party is
one: ``party.revoked`` and ``party.token_rotated`` take a token away), and ``lookup``
first calls ``refresh`` (the service's: one indexed read of the log's size, and a catch-up
only when another process appended), so a revocation written by another process (e.g.
``truceline party revoke`` while ``serve`` runs) is seen by the very next request. An
entry also expires after ``ttl_s``, a bound should a change ever bypass the log.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import Engine

from truceline.service.auth import Principal, principal_for_token, token_hash

PARTY_ENTRY_PREFIX = "party."


class PrincipalCache:
    """A bounded LRU map from a token's SHA-256 to its Principal (the token itself is not
    kept, as in the parties table). Thread-safe."""

    def __init__(
        self,
        engine: Engine,
        *,
        size: int = 4096,
        ttl_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
        refresh: Callable[[], None] | None = None,
    ) -> None:
        self._engine = engine
        self._refresh = refresh
        self._size = size
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._known: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        # Bumped by ``clear``: a lookup that started before a clear does not store its answer.
        self._generation = 0

    def cached(self, token: str | None) -> Principal | None:
        """The remembered Principal for ``token``, or None, without asking the database:
        may miss a change made by another process since (``lookup`` does not)."""
        if not token:
            return None
        digest = token_hash(token)
        with self._lock:
            found = self._known.get(digest)
            if found is None:
                return None
            principal, expires = found
            if self._monotonic() >= expires:
                del self._known[digest]
                return None
            self._known.move_to_end(digest)
            return principal

    def lookup(self, token: str | None) -> Principal:
        """The Principal for ``token`` from the cache or the database (blocking); raises
        AuthError exactly as ``principal_for_token``. Takes in what other processes
        committed first (``refresh``), so a revoked or replaced token is refused at once."""
        if self._refresh is not None:
            self._refresh()
        principal = self.cached(token)
        if principal is not None:
            return principal
        with self._lock:
            generation = self._generation
        with self._engine.connect() as conn:
            principal = principal_for_token(conn, token)  # refuses a missing token
        with self._lock:
            if token and generation == self._generation:
                self._known[token_hash(token)] = (principal, self._monotonic() + self._ttl_s)
                while len(self._known) > self._size:
                    self._known.popitem(last=False)
        return principal

    def clear(self) -> None:
        with self._lock:
            self._known.clear()
            self._generation += 1

    def entries_committed(self, types: list[str]) -> None:
        """Forget everything if one of ``types`` (committed entry types) changes a party."""
        if any(t.startswith(PARTY_ENTRY_PREFIX) for t in types):
            self.clear()
