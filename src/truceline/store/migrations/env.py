"""Alembic's environment: run the migrations on the connection that ``store/migrate.py``
hands over (``config.attributes["connection"]``), or on ``sqlalchemy.url`` when the
``alembic`` command itself is used (e.g. ``alembic revision --autogenerate``)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

# The whole schema, every table registered on this one MetaData (the lines to change if the
# table definitions move).
import truceline.store.tables  # noqa: F401
from truceline.store.database import metadata

config = context.config


def run(connection: Connection) -> None:
    # Batch mode on SQLite: its ALTER TABLE cannot change or drop a column, so a migration
    # that does is run as "copy into a new table" there, and as plain ALTERs elsewhere.
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run(connection)
else:
    from truceline.store.database import open_engine

    engine = open_engine(config.get_main_option("sqlalchemy.url"))
    with engine.connect() as conn:
        run(conn)
    engine.dispose()
