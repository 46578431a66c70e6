"""Kept for callers that import it to register the tables: they all live in ``schema``."""

import truceline.store.idempotency
import truceline.store.schema  # noqa: F401
