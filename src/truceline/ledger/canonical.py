"""Canonical encodings of the ledger: RFC 8785 JSON (JCS) and strict base64.

Everything that is hashed or signed is produced by ``canonical_json``; everything read
back is checked to be in that form, so that one logical value has one byte string.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

import rfc8785

from truceline.errors import FormatError, ValidationError


def canonical_json(value: Any, *, field: str = "value") -> bytes:
    """RFC 8785 bytes of ``value`` (UTF-8). Requires JSON types only, integers within
    +/-(2**53 - 1) and finite floats; raises ValidationError naming ``field`` otherwise."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise ValidationError(f"cannot be written as RFC 8785 JSON: {exc}", field=field) from None


def parse_canonical(data: bytes, *, field: str = "entry") -> Any:
    """The JSON value in ``data``, which must be exactly its own RFC 8785 form.

    Rejects invalid UTF-8, invalid JSON, NaN/Infinity, duplicate keys and any other
    spelling (spaces, key order, escapes) that is not the canonical one.
    """
    try:
        value = json.loads(
            data.decode("utf-8"), object_pairs_hook=_no_duplicates, parse_constant=_no_constant
        )
    except UnicodeDecodeError as exc:
        raise FormatError(f"is not UTF-8 ({exc.reason} at byte {exc.start})", field=field) from None
    except json.JSONDecodeError as exc:
        raise FormatError(f"is not JSON ({exc.msg} at byte {exc.pos})", field=field) from None
    except ValueError as exc:
        raise FormatError(str(exc), field=field) from None
    try:
        canonical = rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, TypeError, ValueError) as exc:
        raise FormatError(f"cannot be written as RFC 8785 JSON: {exc}", field=field) from None
    if canonical != data:
        raise FormatError("is not in RFC 8785 canonical form", field=field)
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("has a duplicate key")
    return result


def _no_constant(name: str) -> Any:
    raise ValueError(f"has the non-JSON constant {name}")


def b64encode(data: bytes) -> str:
    """Standard base64 (RFC 4648 section 4) with padding."""
    return base64.b64encode(data).decode("ascii")


def b64decode(text: object, *, field: str, size: int | None = None) -> bytes:
    """Decode standard padded base64, refusing any other spelling of the same bytes.

    Strict on purpose: a lenient decoder ignores the unused low bits of the last
    character, so a flipped bit there would change the entry's bytes (and its hash)
    without changing the decoded value, and the fault could not be pinned on the entry.
    """
    if not isinstance(text, str):
        raise FormatError(f"must be a base64 string, got {type(text).__name__}", field=field)
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise FormatError("is not valid base64", field=field) from None
    if base64.b64encode(data).decode("ascii") != text:
        raise FormatError("is not canonical base64 (padding or unused bits)", field=field)
    if size is not None and len(data) != size:
        raise FormatError(f"decodes to {len(data)} bytes, want {size}", field=field)
    return data
