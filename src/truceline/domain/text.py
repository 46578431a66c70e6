"""What a text may hold: the rules every string from outside meets, on both databases.

PostgreSQL refuses NUL in text columns and a lone surrogate cannot be encoded as UTF-8 at
all, while SQLite stores both; so without one rule of our own the same request is stored
by one database and a 500 on the other. The rules, checked once where text comes in (the
document readers, the HTTP edge, the party registration):

- no NUL and no lone surrogate, anywhere;
- an identifier (of a zone or an operation) is 1 to ``MAX_ID_CHARS`` characters, with no
  control or format character (it is shown, typed and put in URLs);
- a name (of a party, a zone, an operation) is at most ``MAX_NAME_CHARS`` characters; a
  party's name also holds no format character: zero-width and bidirectional controls make
  one name look like another ("Party A" and "Party A" with U+200B), which here would let
  one party pass for another on the hotline;
- any other text (a message, a reason, a description) is at most ``MAX_TEXT_CHARS``.
"""

from __future__ import annotations

import unicodedata

from truceline.errors import ValidationError

MAX_ID_CHARS = 200
MAX_NAME_CHARS = 200
MAX_TEXT_CHARS = 10_000

# Unicode general categories refused in identifiers and party names: controls (Cc),
# format characters (Cf: zero-width, bidi embeddings, overrides and isolates, the BOM),
# surrogates (Cs), and line and paragraph separators (Zl, Zp).
_REFUSED_IN_NAMES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def text_fault(value: str) -> str | None:
    """Why ``value`` cannot be stored, or None: a NUL or a lone surrogate (its position)."""
    if "\x00" in value:
        return f"contains NUL (U+0000) at character {value.index(chr(0))}"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as error:
        return f"contains a lone surrogate {_describe(value[error.start])} at character {error.start}"
    return None


def check_text(value: str, field: str, max_chars: int = MAX_TEXT_CHARS) -> str:
    """``value`` if it may be stored as a text of at most ``max_chars``; else a
    ValidationError naming ``field`` and the fault."""
    fault = text_fault(value)
    if fault is not None:
        raise ValidationError(fault, field=field)
    if len(value) > max_chars:
        raise ValidationError(f"is {len(value)} characters long; at most {max_chars}", field=field)
    return value


def _refused_character(value: str) -> str | None:
    for char in value:
        if unicodedata.category(char) in _REFUSED_IN_NAMES:
            return char
    return None


def check_identifier(value: str, field: str = "id") -> str:
    """An id of a zone or an operation: 1 to MAX_ID_CHARS characters, no control or format
    character."""
    check_text(value, field, MAX_ID_CHARS)
    if not value:
        raise ValidationError("must not be empty", field=field)
    char = _refused_character(value)
    if char is not None:
        raise ValidationError(f"contains the control or format character {_describe(char)}", field=field)
    return value


def check_party_name(value: str, field: str = "name") -> str:
    """A party's name: non-empty, no surrounding spaces, at most MAX_NAME_CHARS, and no
    control, zero-width or bidirectional-control character (they impersonate other names)."""
    check_text(value, field, MAX_NAME_CHARS)
    if not value.strip() or value != value.strip():
        raise ValidationError("must be a non-empty name without leading or trailing spaces", field=field)
    char = _refused_character(value)
    if char is not None:
        raise ValidationError(
            f"contains {_describe(char)}, an invisible or direction-changing character that "
            "can make one name look like another",
            field=field,
        )
    return value
