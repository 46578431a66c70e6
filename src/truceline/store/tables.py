"""Imports every module that declares tables on ``truceline.store.database.metadata``."""

import truceline.store.idempotency
import truceline.store.ledger_tables
import truceline.store.projection_tables
import truceline.store.service_tables  # noqa: F401
