"""Opening the database: SQLite (WAL) by default, PostgreSQL by URL, one SQLAlchemy Core schema."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, MetaData, create_engine, event

# Every table of every store module is declared on this one MetaData, so that
# ``create_schema`` builds the whole schema on SQLite and PostgreSQL alike.
metadata = MetaData()

DEFAULT_DB_PATH = Path("truceline-data") / "truceline.db"


def default_url() -> str:
    """``TRUCELINE_DB`` if set (a URL or a file path), else the SQLite file in ./truceline-data."""
    value = os.environ.get("TRUCELINE_DB", "")
    return database_url(value) if value else database_url(str(DEFAULT_DB_PATH))


def database_url(value: str) -> str:
    """Accept either an SQLAlchemy URL or a plain SQLite file path."""
    if "://" in value:
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value
    return f"sqlite:///{value}"


def open_engine(url: str | None = None) -> Engine:
    """An engine for ``url``; for SQLite the file's folder is created and WAL is switched on."""
    url = url or default_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    # FULL: a commit that returned is on disk, so an acknowledged ledger batch survives a
    # crash of the machine too. NORMAL (no fsync per commit in WAL mode) was measured about
    # ten times faster at p99 under load, but a power cut could then lose signed tree heads
    # already handed out, and the log would later sign a different tree of the same size:
    # a fork, exactly what a tamper-evident register must never show.
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _no_autocheckpoint(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def defer_checkpoints(engine: Engine) -> bool:
    """For a long-running server on SQLite: its commits stop checkpointing the WAL
    themselves (the commit that crosses the threshold copies ~4 MB into the database file
    and syncs it, stalling every request queued behind it); the caller runs ``checkpoint``
    periodically, off the request path, instead. Other processes on the same file keep
    their own automatic checkpoints. Returns False (nothing to do) on other databases."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return False  # (an in-memory database has no WAL, and would not survive the dispose)
    if not event.contains(engine, "connect", _no_autocheckpoint):
        event.listen(engine, "connect", _no_autocheckpoint)
        engine.pool.dispose()  # connections opened before reopen with the pragma
    return True


def checkpoint(engine: Engine) -> None:
    """Copy the WAL into the database file as far as readers allow, without blocking
    writers (PASSIVE); nothing on other databases."""
    if engine.dialect.name != "sqlite":
        return
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")


def create_schema(engine: Engine) -> None:
    # Import the modules that declare tables so that they are registered on ``metadata``.
    import truceline.store.tables  # noqa: F401

    metadata.create_all(engine)
