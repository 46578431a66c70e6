"""Imports every module that declares tables on ``truceline.store.database.metadata``."""
