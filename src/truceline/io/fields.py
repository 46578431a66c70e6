"""Reading typed fields out of parsed JSON, with errors that name the field.

Every reader in ``truceline.io`` walks a document through :class:`Node`: a value plus its
path (``properties.altitude_lower_m``, ``volume.outline_polygon.vertices[2].lat``). Asking a
node for a type it does not hold raises :class:`~truceline.errors.FormatError` whose
``field`` is that path; the reader then adds the file and the feature with
``error.located(...)``. Nothing here guesses: a missing field, a wrong type, a non-finite
number or a time without a UTC offset is an error, never a default.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from os import PathLike
from pathlib import Path
from typing import TypeVar

from truceline.domain.text import MAX_TEXT_CHARS, text_fault
from truceline.errors import FormatError, TrucelineError, ValidationError


class _Missing:
    """The value of a member that is absent (distinct from JSON null)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING = _Missing()

E = TypeVar("E", bound=StrEnum)

# What a reader accepts: a path, JSON text, bytes, or an already parsed document.
Source = str | Path | bytes | Mapping[str, object] | list[object]


def describe(value: object) -> str:
    """A short JSON-like rendering of ``value`` for error messages: ``"abc"``, ``12``, ``null``."""
    if value is MISSING:
        return "nothing"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "a list"
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class Node:
    """A value inside a parsed JSON document and its path from the document root.

    Precondition: ``value`` comes from ``json.loads`` (dict, list, str, int, float, bool,
    None) or is :data:`MISSING`.
    """

    __slots__ = ("path", "value")

    def __init__(self, value: object, path: str = "") -> None:
        self.value = value
        self.path = path

    # -- navigation -------------------------------------------------------------------
    def child(self, key: str) -> Node:
        """The member ``key`` of this object (a MISSING node when absent). Requires an object."""
        obj = self.object()
        return Node(obj.get(key, MISSING), f"{self.path}.{key}" if self.path else key)

    def items(self, *, non_empty: bool = False) -> list[Node]:
        """The elements of this list, each with its index in the path. Requires a list."""
        value = self.value
        if value is MISSING:
            raise self.error("is required")
        if not isinstance(value, list):
            raise self.error(f"must be a list, got {describe(value)}")
        if non_empty and not value:
            raise self.error("must not be empty")
        return [Node(v, f"{self.path}[{i}]") for i, v in enumerate(value)]

    @property
    def present(self) -> bool:
        return self.value is not MISSING

    @property
    def is_null(self) -> bool:
        return self.value is None

    def has(self, key: str) -> bool:
        """Whether this value is an object holding ``key`` (even as null)."""
        return isinstance(self.value, Mapping) and key in self.value

    # -- typed reads ------------------------------------------------------------------
    def error(self, message: str) -> FormatError:
        return FormatError(message, field=self.path or None)

    def object(self) -> Mapping[str, object]:
        if self.value is MISSING:
            raise self.error("is required")
        if not isinstance(self.value, Mapping):
            raise self.error(f"must be an object, got {describe(self.value)}")
        return self.value

    def string(self, *, non_empty: bool = True) -> str:
        if self.value is MISSING:
            raise self.error("is required")
        if not isinstance(self.value, str):
            raise self.error(f"must be a string, got {describe(self.value)}")
        fault = text_fault(self.value)
        if fault is not None:
            raise self.error(fault)
        if len(self.value) > MAX_TEXT_CHARS:
            raise self.error(f"is {len(self.value)} characters long; at most {MAX_TEXT_CHARS}")
        if non_empty and not self.value.strip():
            raise self.error("must not be empty")
        return self.value

    def optional_string(self, *, non_empty: bool = True) -> str | None:
        """The string, or None when absent or null."""
        if self.value is MISSING or self.value is None:
            return None
        return self.string(non_empty=non_empty)

    def number(self, *, numeric_string: bool = False) -> float:
        """A finite number. With ``numeric_string``, a string such as ``"120"`` or ``"-3.5"``
        is read as that number (ED-269 files carry limits as strings)."""
        value = given = self.value
        if value is MISSING:
            raise self.error("is required")
        if numeric_string and isinstance(value, str):
            text = value.strip()
            if not _NUMBER.fullmatch(text):
                raise self.error(f"must be a number, got {describe(value)}")
            value = float(text)
        # bool is an int in Python but never a number in JSON
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(f"must be a number, got {describe(value)}")
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
        if not math.isfinite(number):
            raise self.error(f"must be a finite number, got {describe(given)}")
        return number

    def enum(self, enum: type[E], *, aliases: Mapping[str, E] | None = None) -> E:
        """A member of ``enum`` by value (or one of ``aliases``); the error lists what is accepted."""
        text = self.string()
        if aliases and text in aliases:
            return aliases[text]
        try:
            return enum(text)
        except ValueError:
            accepted = [e.value for e in enum] + list(aliases or ())
            raise self.error(f"{describe(text)} is not one of: {', '.join(accepted)}") from None

    def time(self, *, round_up: bool = False) -> datetime:
        """An RFC 3339 date-time with a UTC offset (``Z`` or ``+hh:mm``), returned in UTC.

        A time without an offset is an error (its zone would be a guess). Fractions beyond
        microseconds are rounded outwards: down for a start (``round_up`` False), up for an
        end, so a window read here never shrinks.
        """
        text = self.string()
        return parse_rfc3339(text, round_up=round_up, error=self.error)


_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?"
    r"(?:([Zz])|([+-])(\d{2}):(\d{2}))?"
)


def query_moment(text: str | None, field: str) -> datetime | None:
    """An optional RFC 3339 date-time of a query (``?at=``); ValidationError naming ``field``
    for anything else. Taken as text, not as pydantic's datetime, which admits a bare number."""
    if text is None:
        return None
    return parse_rfc3339(text, error=lambda m: ValidationError(m, field=field))


def parse_rfc3339(
    text: str, *, round_up: bool = False, error: Callable[[str], TrucelineError] | None = None
) -> datetime:
    """Parse an RFC 3339 date-time into an aware UTC datetime.

    Example: parse_rfc3339("2017-05-06T00:00:00+03:00") == datetime(2017, 5, 5, 21, tzinfo=UTC).
    """
    fail = error or (lambda message: FormatError(message))
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise fail(f"must be an RFC 3339 date-time such as 2017-05-06T00:00:00Z, got {describe(text)}")
    year, month, day, hour, minute, second, fraction, zulu, sign, off_h, off_m = match.groups()
    if zulu is None and sign is None:
        raise fail(f"{describe(text)} has no UTC offset; give one explicitly (e.g. ...Z or +03:00)")
    micro = 0
    if fraction:
        micro = int(fraction[:6].ljust(6, "0"))
        if round_up and fraction[6:].strip("0"):
            micro += 1  # may reach 1_000_000: carried by the timedelta below
    try:
        offset = timedelta(0) if zulu else int(sign + "1") * timedelta(hours=int(off_h), minutes=int(off_m))
        base = datetime(
            int(year),
            int(month),
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
        return (base + timedelta(microseconds=micro)).astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise fail(f"{describe(text)} is not a valid date-time ({exc})") from None


def format_rfc3339(value: datetime) -> str:
    """``value`` in UTC as RFC 3339 with ``Z``; microseconds only when non-zero.

    Requires an aware datetime. Example: "2017-05-05T21:00:00Z".
    """
    utc = value.astimezone(UTC)
    # not strftime: its %Y does not pad years before 1000 on every platform
    text = f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
    if utc.microsecond:
        text += f".{utc.microsecond:06d}"
    return text + "Z"


def _reject_constant(name: str) -> float:
    raise FormatError(f"{name} is not valid JSON")


def load_json(
    source: str | Path | bytes | Mapping[str, object] | list[object], *, name: str | None = None
) -> tuple[object, str]:
    """Parse ``source`` (a path, JSON text, bytes, or an already parsed document) and return
    ``(document, name)``; ``name`` is what errors call the file.

    A ``str`` whose first non-blank character is ``{`` or ``[`` is JSON text; any other
    ``str`` is a path. Anything that is not a str, bytes or path is taken as a parsed
    document. Errors (unreadable file, invalid JSON, NaN/Infinity literals) are
    FormatError located at ``name``.
    """
    if not isinstance(source, str | bytes | PathLike):
        return source, name or "<document>"  # already parsed (any JSON value)
    if isinstance(source, str) and source.lstrip()[:1] in ("{", "["):
        text: str | bytes = source
        label = name or "<text>"
    elif isinstance(source, bytes):
        text, label = source, name or "<bytes>"
    else:
        path = Path(source)
        label = name or path.name
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise FormatError(f"cannot read the file: {exc.strerror or exc}", where=label) from None
    try:
        return json.loads(text, parse_constant=_reject_constant), label
    except FormatError as exc:
        raise exc.located(label) from None
    except json.JSONDecodeError as exc:
        raise FormatError(
            f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", where=label
        ) from None
    except UnicodeDecodeError as exc:
        raise FormatError(f"not UTF-8 text ({exc.reason} at byte {exc.start})", where=label) from None
    except RecursionError:
        raise FormatError("JSON nested too deeply", where=label) from None
    except ValueError as exc:  # e.g. an integer literal longer than Python converts
        raise FormatError(f"invalid JSON: {exc}", where=label) from None


def rename_field(
    error: TrucelineError, names: Mapping[str, str], default: str | None = None
) -> TrucelineError:
    """Give an error raised by a domain or geo constructor the field name the file uses.

    ``names`` maps the constructor's field (``altitude_lower``, ``radius_m``, ``ring``...) to
    the document path; an indexed field keeps its index (``ring[3]`` with ``{"ring":
    "geometry.coordinates[0]"}`` becomes ``geometry.coordinates[0][3]``). A field not in
    ``names`` becomes ``default`` followed by its own name in brackets (or ``default`` alone
    when the error had none). Returns the same error.
    """
    field = error.field
    for key, path in names.items():
        if field == key or (field is not None and field.startswith(key + "[")):
            error.field = path + field[len(key) :]
            return error
    if default is not None:
        error.field = f"{default} ({field})" if field else default
    return error


@contextmanager
def fields_named(names: Mapping[str, str], default: str | None = None) -> Iterator[None]:
    """Run a constructor block; a TrucelineError it raises gets the file's field names
    (see :func:`rename_field`). Example::

        with fields_named({"altitude_lower": "properties.altitude_lower_ft"}):
            band = AltitudeBand(lower_m, upper_m, reference)
    """
    try:
        yield
    except TrucelineError as error:
        raise rename_field(error, names, default) from None
