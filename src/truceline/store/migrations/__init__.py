"""The Alembic migrations of the database schema; they ship inside the package, so an
installed Truceline can upgrade its own database (``truceline db upgrade``)."""
