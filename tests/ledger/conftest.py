"""Fixtures of the ledger tests (helpers live in ledger_testkit.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from truceline.ledger import Ledger, load_or_create_log_key
from truceline.store.database import open_engine


@pytest.fixture
def ledger(tmp_path: Path) -> Ledger:
    engine = open_engine(f"sqlite:///{tmp_path / 'ledger.db'}")
    led = Ledger(engine, load_or_create_log_key(tmp_path / "keys"))
    led.create_tables()
    yield led
    engine.dispose()
