"""Typed field reading: numbers, RFC 3339 times, located errors."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.errors import FormatError, GeometryError
from truceline.io.fields import MISSING, Node, describe, format_rfc3339, parse_rfc3339, rename_field


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-05-06T00:00:00Z", datetime(2017, 5, 6, tzinfo=UTC)),
        ("2017-05-06t00:00:00z", datetime(2017, 5, 6, tzinfo=UTC)),
        ("2017-05-06T03:00:00+03:00", datetime(2017, 5, 6, tzinfo=UTC)),
        ("2017-05-05T21:30:00-02:30", datetime(2017, 5, 6, tzinfo=UTC)),
        ("2017-05-06T00:00:00-00:00", datetime(2017, 5, 6, tzinfo=UTC)),
        ("2017-05-06T00:00:00.25Z", datetime(2017, 5, 6, 0, 0, 0, 250000, tzinfo=UTC)),
        ("2017-05-06T00:00:00.123456789Z", datetime(2017, 5, 6, 0, 0, 0, 123456, tzinfo=UTC)),
    ],
)
def test_rfc3339(text: str, expected: datetime):
    parsed = parse_rfc3339(text)
    assert parsed == expected and parsed.tzinfo is UTC


def test_fractions_beyond_microseconds_round_outwards():
    assert parse_rfc3339("2017-05-06T00:00:00.1234561Z", round_up=True).microsecond == 123457
    assert parse_rfc3339("2017-05-06T00:00:00.1234560Z", round_up=True).microsecond == 123456
    assert parse_rfc3339("2017-05-06T23:59:59.9999999Z", round_up=True) == datetime(2017, 5, 7, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2017-05-06T00:00:00", "has no UTC offset"),
        ("2017-05-06", "must be an RFC 3339 date-time"),
        ("2017-05-06 00:00:00Z", "must be an RFC 3339 date-time"),
        ("2017-5-6T00:00:00Z", "must be an RFC 3339 date-time"),
        ("2017-13-06T00:00:00Z", "is not a valid date-time"),
        ("2016-12-31T23:59:60Z", "is not a valid date-time"),
        ("2017-05-06T00:00:00+24:00", "is not a valid date-time"),
        ("0001-01-01T00:00:00+01:00", "is not a valid date-time"),
    ],
)
def test_rfc3339_errors(text: str, message: str):
    with pytest.raises(FormatError, match=message):
        Node({"t": text}).child("t").time()
    with pytest.raises(FormatError) as info:
        Node({"t": text}).child("t").time()
    assert info.value.field == "t"


@settings(max_examples=300)
@given(
    st.datetimes(datetime(1, 1, 2), datetime(9999, 12, 30), timezones=st.just(UTC)),
    st.integers(-23 * 60 - 59, 23 * 60 + 59),
)
def test_format_then_parse_is_exact(value: datetime, offset_min: int):
    assert parse_rfc3339(format_rfc3339(value)) == value
    local = value.astimezone(timezone(timedelta(minutes=offset_min)))
    assert parse_rfc3339(local.isoformat()) == value


@pytest.mark.parametrize(
    ("value", "numeric_string", "expected"),
    [(3, False, 3.0), (2.5, False, 2.5), ("12", True, 12.0), (" -1.5e2 ", True, -150.0), (".5", True, 0.5)],
)
def test_numbers(value: object, numeric_string: bool, expected: float):
    assert Node({"x": value}).child("x").number(numeric_string=numeric_string) == expected


@pytest.mark.parametrize(
    ("value", "numeric_string", "message"),
    [
        ("12", False, 'must be a number, got "12"'),
        ("abc", True, 'must be a number, got "abc"'),
        ("nan", True, 'must be a number, got "nan"'),
        ("0x10", True, 'must be a number, got "0x10"'),
        ("1e999", True, 'must be a finite number, got "1e999"'),
        (float("nan"), False, "must be a finite number"),
        (10**400, False, "must be a finite number"),
        (True, False, "must be a number, got true"),
        (None, False, "must be a number, got null"),
        (MISSING, False, "is required"),
        ([1], False, "must be a number, got a list"),
    ],
)
def test_number_errors(value: object, numeric_string: bool, message: str):
    with pytest.raises(FormatError) as info:
        Node({"x": value} if value is not MISSING else {}, "p").child("x").number(
            numeric_string=numeric_string
        )
    assert str(info.value) == f"p.x: {message}" or str(info.value).startswith(f"p.x: {message}")


def test_paths_of_nested_items():
    node = Node({"a": [{"b": "x"}]})
    (item,) = node.child("a").items()
    assert item.child("b").path == "a[0].b"
    with pytest.raises(FormatError, match=r"^a\[0\]\.c: is required$"):
        item.child("c").string()


def test_describe_is_short():
    assert describe("abc") == '"abc"'
    assert describe(None) == "null"
    assert describe({"a": 1}) == "an object"
    assert len(describe("x" * 500)) == 60


def test_rename_field_keeps_indices():
    error = rename_field(GeometryError("bad", field="ring[3]"), {"ring": "geometry.coordinates[0]"})
    assert error.field == "geometry.coordinates[0][3]"
    error = rename_field(GeometryError("bad", field="rings"), {"ring": "x"}, default="geometry")
    assert error.field == "geometry (rings)"
    error = rename_field(GeometryError("bad"), {}, default="geometry")
    assert error.field == "geometry"
