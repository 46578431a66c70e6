"""Opening the database: SQLite (WAL) by default, PostgreSQL by URL, one SQLAlchemy Core schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from truceline.config import load_config
from truceline.errors import DatabaseUnavailableError, ValidationError
from truceline.store.schema import metadata

__all__ = ["metadata"]  # (re-exported: the one MetaData lives beside its tables in ``schema``)

DEFAULT_DB_PATH = Path("truceline-data") / "truceline.db"


def default_url() -> str:
    """``TRUCELINE_DB`` if set (a URL or a file path), else the SQLite file in ./truceline-data."""
    return database_url(load_config().db or str(DEFAULT_DB_PATH))


def database_url(value: str) -> str:
    """Accept either an SQLAlchemy URL or a plain SQLite file path."""
    if "://" in value:
        if value.startswith("postgresql://"):
            return "postgresql+psycopg://" + value.removeprefix("postgresql://")
        return value
    return f"sqlite:///{value}"


def shown_url(url: str) -> str:
    """``url`` as it may be printed: the password hidden, even when the URL does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^/:@]*:)[^/@]*@", r"\1***@", url)


@contextmanager
def reaching(url: str) -> Iterator[None]:
    """Turn a failure to open the database at ``url`` (refused, no such database, a file
    that cannot be made) into one DatabaseUnavailableError naming it, password hidden."""
    shown = shown_url(url)
    try:
        yield
    except DBAPIError as error:
        # The driver's text (one line: psycopg spreads a hint over several), never the URL.
        reason = " ".join(str(error.orig).split())
        password = make_url(url).password
        if password:
            reason = reason.replace(str(password), "***")
        raise DatabaseUnavailableError(f"cannot open the database: {reason}", where=shown) from None
    except OSError as error:
        raise DatabaseUnavailableError(
            f"cannot create the folder {error.filename}: {error.strerror}", where=shown
        ) from None


def open_engine(url: str | None = None) -> Engine:
    """An engine for ``url``; for SQLite the file's folder is created and WAL is switched on.
    Raises a ValidationError naming ``db`` for a URL that does not parse or names no known
    database, and a DatabaseUnavailableError for a folder that cannot be created."""
    url = url or default_url()
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        with reaching(url):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    try:
        engine = create_engine(url)
    except (ArgumentError, ValueError) as error:
        raise ValidationError(f"is not a database URL: {error}", field="db", where=shown_url(url)) from None
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


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A connection whose reads all see one committed state of the database, however many
    statements they take (e.g. the operations and then their volumes) and whatever other
    processes commit meanwhile. PostgreSQL: a REPEATABLE READ transaction (its snapshot is
    taken at the first statement). SQLite: an explicit deferred BEGIN, because the driver
    opens no transaction for reads, so each SELECT would otherwise see the latest commit;
    in WAL mode the read transaction holds its snapshot without blocking writers. Rolled
    back at the end: it is for reading only."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin() as transaction:
                yield conn
                transaction.rollback()
            return
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")
        try:
            yield conn
        finally:
            conn.rollback()


def begin_writing(conn: Connection) -> None:
    """Begin ``conn``'s transaction as a writer. SQLite: BEGIN IMMEDIATE, taking the write
    lock now (the driver would otherwise begin only at the first write, after a first
    SAVEPOINT, which would then commit on its own). Elsewhere nothing: the transaction
    begins at the first statement (PostgreSQL's writers lock the ledger head row)."""
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def create_schema(engine: Engine) -> None:
    """Create a new database's tables (stamped at the newest migration), or check that an
    existing one is at it (a SchemaOutOfDateError saying to run ``truceline db upgrade``
    otherwise); this is the first connection a process makes, so a database that cannot be
    reached raises a DatabaseUnavailableError here."""
    # Import the modules that declare tables so that they are registered on ``metadata``.
    import truceline.store.tables  # noqa: F401
    from truceline.store.migrate import ensure_current

    with reaching(engine.url.render_as_string(hide_password=False)):
        ensure_current(engine)
