"""Kill the writer with SIGKILL at random moments: the log always verifies from the database
alone, holds every acknowledged batch, and ends at a whole batch."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from truceline.ledger import Ledger, load_or_create_log_key
from truceline.store.database import open_engine

BATCH = 7
KILLS = 20
WRITER = Path(__file__).with_name("ledger_crash_writer.py")


def test_sigkill_mid_stream_never_loses_an_acknowledged_batch(tmp_path):
    db, keys = tmp_path / "crash.db", tmp_path / "keys"
    engine = open_engine(f"sqlite:///{db}")
    ledger = Ledger(engine, load_or_create_log_key(keys))
    ledger.create_tables()
    engine.dispose()
    rng = random.Random(20260101)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    acknowledged = -1
    for kill in range(KILLS):
        writer = subprocess.Popen(
            [sys.executable, str(WRITER), str(db), str(keys), str(BATCH)],
            stdout=subprocess.PIPE,
            env=env,
        )
        first = writer.stdout.readline()  # appending has started
        assert first, f"kill {kill}: the writer died before its first batch"
        time.sleep(rng.uniform(0.0, 0.15))
        writer.send_signal(signal.SIGKILL)
        rest = writer.stdout.read()
        writer.wait()
        acks = [int(x) for x in (first + rest).split()]
        assert acks == sorted(acks) and acks[0] == acknowledged + BATCH
        acknowledged = acks[-1]

        engine = open_engine(f"sqlite:///{db}")
        with engine.connect() as conn:
            size = ledger.verify(conn)  # every check, from the stored entries alone
        engine.dispose()
        assert size % BATCH == 0, f"kill {kill}: log of {size} entries ends inside a batch"
        assert size >= acknowledged + 1, f"kill {kill}: acknowledged seq {acknowledged} lost (size {size})"
        # A batch committed but killed before its acknowledgement was printed is kept: fine.
        acknowledged = size - 1
