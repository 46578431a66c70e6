"""Times in the CLI's tables: ISO 8601 in UTC with its zone (``Z``), whatever offset the
server or file wrote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.cli import _span, conflict_table, utc_text


@settings(max_examples=200)
@given(
    moment=st.datetimes(
        min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
    ),
    offset_min=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_utc_text_is_the_same_instant_in_utc_with_z(moment: datetime, offset_min: int) -> None:
    written = moment.astimezone(timezone(timedelta(minutes=offset_min))).isoformat()
    shown = utc_text(written)
    assert shown is not None and shown.endswith("Z") and len(shown) == len("2017-07-10T08:00:00Z")
    assert datetime.fromisoformat(shown) == moment.replace(microsecond=0)


def test_spans_and_the_conflict_table_name_their_zone() -> None:
    assert _span("2017-07-10T08:00:00Z", "2017-07-10T10:30:00Z", "en") == "2017-07-10T08:00Z–10:30Z"
    assert _span("2017-07-10T22:00:00Z", "2017-07-11T01:00:00Z", "en") == (
        "2017-07-10T22:00Z–2017-07-11T01:00Z"
    )
    assert _span("2017-07-10T08:00:00+02:00", None, "fr") == "2017-07-10T06:00Z–sans fin"
    record = {
        "kind": "zone", "a": "op", "b": "z", "a_party": "A", "b_party": "B",
        "time_start": "2017-07-10T08:00:00Z", "time_end": "2017-07-10T10:00:00Z",
        "altitude_lower_m": 0.0, "altitude_upper_m": 100.0, "altitude_reference": "AMSL",
        "area_m2": 1e6, "entry": "forbidden",
    }  # fmt: skip
    table = conflict_table([record], "t", "de")
    assert [c.header for c in table.columns][:4] == ["Art", "a", "b", "Parteien"]
