"""Group commit: filings that wait while one transaction is written go together in the next,
each in its own savepoint and each checked against the ones before it; the verdicts and the
log are those of filing them one after the other."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from service_kit import Desk, operation, square
from sqlalchemy import event

from truceline.errors import ConflictError
from truceline.service import filing
from truceline.store.projections import snapshot


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:
    d = Desk(tmp_path, clock)
    for name in ("A", "B"):
        d.add(name)
    yield d
    d.close()


def _file_together(desk: Desk, filings: list[tuple[str, dict]]) -> list[Any]:
    """File from one thread each while the writer is held, so all wait in one queue and
    go in one batch; returns each filing's result or error, in order."""
    service = desk.service
    results: list[Any] = [None] * len(filings)

    def run(k: int, who: str, doc: dict) -> None:
        try:
            results[k] = filing.file_operation(service, desk[who], doc)
        except Exception as error:  # the result under test
            results[k] = error

    with service._lock:
        threads = []
        for k, (who, doc) in enumerate(filings):
            threads.append(threading.Thread(target=run, args=(k, who, doc)))
            threads[-1].start()
            # One at a time into the queue, so the batch keeps this order.
            deadline = time.monotonic() + 10
            while len(service._queue) < k + 1:
                assert time.monotonic() < deadline, "a filing never reached the queue"
                time.sleep(0.001)
    for thread in threads:
        thread.join(10)
    return results


def test_one_batch_one_commit_and_the_verdicts_of_one_by_one(desk: Desk) -> None:
    commits: list[int] = []
    engine = desk.register.engine
    event.listen(engine, "commit", lambda _conn: commits.append(1))
    # A savepoint's release must not end the transaction (with SQLite's driver it would, if
    # the savepoint opened it): one transaction, one commit, for the whole batch.
    open_after_release: list[bool] = []

    def after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("RELEASE SAVEPOINT"):
            dbapi = conn.connection.dbapi_connection
            open_after_release.append(getattr(dbapi, "in_transaction", True))

    event.listen(engine, "after_cursor_execute", after)
    ring = square(36.1, 35.1, 36.2, 35.2)
    results = _file_together(
        desk,
        [
            ("A", operation("op-1", "A", ring)),
            ("B", operation("op-1", "B", ring)),  # the id the first one just took
            ("B", operation("op-2", "B", ring)),  # meets op-1, filed earlier in the same batch
        ],
    )
    assert len(commits) == 1
    assert open_after_release and all(open_after_release)
    first, duplicate, second = results
    assert first.accepted and first.conflicts == []
    assert isinstance(duplicate, ConflictError)
    assert second.accepted and [(c["a"], c["b"]) for c in second.conflicts] == [("op-1", "op-2")]
    types = desk.entry_types()
    assert types.count("operation.filed") == 2 and types.count("conflict.detected") == 1
    # The index took both in; the log verifies and rebuilds the same tables.
    assert {o.id for o in desk.service.index.live().operations} == {"op-1", "op-2"}
    with desk.register.engine.connect() as conn:
        assert desk.register.ledger.verify(conn) == len(types)
        before = snapshot(conn)
    desk.register.rebuild()
    with desk.register.engine.connect() as conn:
        assert snapshot(conn) == before


def test_a_failing_filing_leaves_the_rest_of_its_batch(desk: Desk) -> None:
    ring = square(36.1, 35.1, 36.2, 35.2)
    broken = operation("op-x", "A", ring)

    def explode(*_args: object, **_kwargs: object) -> Any:
        raise RuntimeError("projection fault")

    # A fault after this filing's entries were appended: its savepoint undoes them.
    original = filing.Service.commit

    def commit(self: Any, build: Any, *, decoded: Any = ()) -> Any:
        if decoded and decoded[0].id == "op-x":

            def failing(conn: Any, now: Any) -> Any:
                build(conn, now)
                explode()

            return original(self, failing, decoded=decoded)
        return original(self, build, decoded=decoded)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(filing.Service, "commit", commit)
        results = _file_together(
            desk,
            [
                ("A", operation("op-a", "A", ring)),
                ("A", broken),
                ("B", operation("op-b", "B", ring)),
            ],
        )
    assert results[0].accepted and isinstance(results[1], RuntimeError) and results[2].accepted
    assert [(c["a"], c["b"]) for c in results[2].conflicts] == [("op-a", "op-b")]
    assert {o.id for o in desk.service.index.live().operations} == {"op-a", "op-b"}
    with desk.register.engine.connect() as conn:
        size = desk.register.ledger.verify(conn)
    assert desk.entry_types().count("operation.filed") == 2 and size == len(desk.entry_types())
