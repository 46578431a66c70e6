"""One module per schema revision, oldest first (Alembic reads them; see ``store/migrate.py``)."""
