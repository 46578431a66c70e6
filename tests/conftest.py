"""Shared fixtures: a fixed clock, and database URLs (SQLite in tmp, the real PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy
from hypothesis import settings

# No per-example deadline: CI machines are shared and a slow example is not a failure; the
# number of examples is bounded per test instead.
settings.register_profile("truceline", deadline=None, print_blob=True)
settings.load_profile("truceline")

PG_URL = os.environ.get("TRUCELINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


class StepClock:
    """A clock that moves one second per reading, so tests control time."""

    def __init__(self, start: datetime = datetime(2017, 7, 10, 6, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


@pytest.fixture(autouse=True)
def _config_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A server database's log key defaults to the user's config home: tests keep theirs
    in a folder of this run instead of the developer's ~/.config (one for the whole run, as
    a user has one home), and ignore a TRUCELINE_KEYS_DIR the developer may have set."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path_factory.getbasetemp() / "config-home"))
    monkeypatch.delenv("TRUCELINE_KEYS_DIR", raising=False)


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty database on the real PostgreSQL server, dropped afterwards."""
    admin = sqlalchemy.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"truceline_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'CREATE DATABASE "{name}"'))
    except sqlalchemy.exc.OperationalError as error:
        if os.environ.get("CI"):
            raise
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {error}")
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        yield url
    finally:
        sqlalchemy.orm.close_all_sessions() if hasattr(sqlalchemy, "orm") else None
        with admin.connect() as conn:
            conn.execute(sqlalchemy.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
