"""Writer process for the crash test: appends batches forever, printing each batch's last
seq once its transaction has committed (an acknowledgement). Killed with SIGKILL."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from truceline.ledger import EntryDraft, Ledger, load_or_create_log_key
from truceline.store.database import open_engine


def main(db_path: str, keys_dir: str, batch_size: int) -> None:
    engine = open_engine(f"sqlite:///{db_path}")
    ledger = Ledger(engine, load_or_create_log_key(Path(keys_dir)))
    now = datetime(2026, 1, 1, tzinfo=UTC)
    while True:
        now += timedelta(milliseconds=1)  # the test's clock, not the machine's
        with engine.begin() as conn:
            drafts = [
                EntryDraft("test.added", "system", {"k": k, "text": "x" * (k * 37 % 200)})
                for k in range(batch_size)
            ]
            entries = ledger.append(conn, drafts, now)
        print(entries[-1].seq, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
