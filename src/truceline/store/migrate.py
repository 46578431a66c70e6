"""The schema's revision: Alembic migrations shipped in ``store/migrations``.

A new database is created at the newest revision (``head``) and stamped so. A database at
an older revision, or one made before migrations existed (no ``alembic_version`` table),
is refused by every command but ``truceline db upgrade``, which brings it to ``head`` with
nothing lost: running today's code on yesterday's tables would fail halfway through a
write, or silently miss a table that holds a refusal (a revoked token, a used nonce).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.exc import DBAPIError

from truceline.errors import SchemaOutOfDateError

# The revision of the schema as commit c4a606c created it, before migrations existed.
BASELINE = "0001"


@dataclass(frozen=True, slots=True)
class SchemaState:
    """Where a database stands. ``revision``: the stamped one, None if not stamped;
    ``empty``: no table at all (a new database)."""

    revision: str | None
    empty: bool
    head: str

    @property
    def current(self) -> bool:
        return self.revision == self.head

    def described(self) -> str:
        if self.revision is None:
            return "predates migrations"
        return f"is at revision {self.revision}"


@dataclass(frozen=True, slots=True)
class UpgradeResult:
    """What ``upgrade`` did: ``before`` None for a database made before migrations."""

    before: str | None
    after: str
    created: bool  # the database was empty: every revision ran from the start

    @property
    def changed(self) -> bool:
        return self.created or self.before != self.after


def _config(conn: Connection | None = None) -> Config:
    config = Config()
    # A package resource, not a path: it works from an installed wheel as from a checkout.
    config.set_main_option("script_location", str(resources.files("truceline.store") / "migrations"))
    if conn is not None:
        config.attributes["connection"] = conn
    return config


@cache
def head_revision() -> str:
    """The newest revision this code knows (its schema)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None  # there is a baseline revision
    return head


def schema_state(conn: Connection) -> SchemaState:
    """Where the database of ``conn`` stands."""
    names = set(inspect(conn).get_table_names())
    revision = MigrationContext.configure(conn).get_current_revision()
    return SchemaState(revision, not names, head_revision())


def ensure_current(engine: Engine) -> None:
    """Create a new (empty) database at head, stamped; accept one at head; refuse any other
    with a SchemaOutOfDateError saying to run ``truceline db upgrade``."""
    from truceline.store.database import metadata

    with engine.connect() as conn:
        state = schema_state(conn)
    if state.current:
        return
    if not state.empty:
        raise SchemaOutOfDateError(
            f"the database schema {state.described()}, this version needs revision {state.head}: "
            "run `truceline db upgrade`",
            where=engine.url.render_as_string(hide_password=True),
        )
    try:
        with engine.begin() as conn:
            metadata.create_all(conn)
            MigrationContext.configure(conn).stamp(ScriptDirectory.from_config(_config()), "head")
    except DBAPIError:
        # Another process created the same new database at the same moment: fine if it is
        # now at head (its tables are ours), otherwise a real failure.
        with engine.connect() as conn:
            if not schema_state(conn).current:
                raise


def upgrade(engine: Engine) -> UpgradeResult:
    """Bring the database to head: a new one runs every revision; one made before
    migrations (its tables, no ``alembic_version``) is stamped at the baseline first. One
    transaction on PostgreSQL (a failed upgrade leaves the database as it was)."""
    with engine.connect() as conn:
        state = schema_state(conn)
    with engine.begin() as conn:
        config = _config(conn)
        if state.revision is None and not state.empty:
            command.stamp(config, BASELINE)
        command.upgrade(config, "head")
    return UpgradeResult(state.revision, state.head, state.empty)


def downgrade(engine: Engine, revision: str) -> None:
    """Take the database back to ``revision`` (the tables of later revisions, and their
    rows, are dropped): for tests and for rolling back a failed deployment by hand."""
    with engine.begin() as conn:
        command.downgrade(_config(conn), revision)
