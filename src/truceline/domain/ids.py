"""Identifiers: UUIDv7 strings, sortable by creation time (RFC 9562)."""

from __future__ import annotations

import os
import uuid


def uuid7(unix_ms: int) -> str:
    """A UUIDv7 for the given instant. The caller passes the time (from its injected clock),
    so ids are reproducible in tests; the 74 random bits come from os.urandom.

    Written here because the standard library gains uuid7 only in Python 3.14.
    """
    if not 0 <= unix_ms < 1 << 48:
        raise ValueError(f"unix_ms out of range: {unix_ms}")
    rand = int.from_bytes(os.urandom(10), "big")
    value = (unix_ms << 80) | (0x7 << 76) | ((rand >> 62) & 0xFFF) << 64
    value |= (0b10 << 62) | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))
