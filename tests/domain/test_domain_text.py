"""The text rules (``truceline.domain.text``) as properties: what they accept, both
databases store and give back unchanged; what they refuse, they refuse naming the field."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
import sqlalchemy
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.text import (
    MAX_TEXT_CHARS,
    check_identifier,
    check_party_name,
    check_text,
    text_fault,
)
from truceline.errors import ValidationError

# Every code point, lone surrogates and NUL included: what a JSON body can carry.
any_text = st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=40)


@given(any_text)
def test_a_text_is_refused_exactly_when_it_holds_nul_or_a_lone_surrogate(value: str) -> None:
    unstorable = "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
    try:
        check_text(value, "note")
    except ValidationError as error:
        assert unstorable, value
        assert error.field == "note"
    else:
        assert not unstorable, value


@given(st.integers(min_value=0, max_value=3 * MAX_TEXT_CHARS))
@settings(max_examples=30)
def test_the_length_limit_is_inclusive(length: int) -> None:
    value = "x" * length
    if length <= MAX_TEXT_CHARS:
        assert check_text(value, "note") == value
    else:
        with pytest.raises(ValidationError, match=str(MAX_TEXT_CHARS)):
            check_text(value, "note")


@given(any_text)
def test_party_names_and_ids_hold_no_invisible_or_control_character(value: str) -> None:
    hidden = any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for c in value)
    for check in (check_party_name, check_identifier):
        try:
            check(value, "name")
        except ValidationError:
            continue
        assert not hidden, (check.__name__, value)
        assert value  # neither accepts an empty text


def _round_trip(engine: sqlalchemy.Engine, values: list[str]) -> list[str]:
    table = sqlalchemy.Table(
        "texts", sqlalchemy.MetaData(), sqlalchemy.Column("i", sqlalchemy.Integer, primary_key=True),
        sqlalchemy.Column("value", sqlalchemy.Text),
    )
    table.metadata.drop_all(engine)
    table.metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(table.insert(), [{"i": i, "value": v} for i, v in enumerate(values)])
        return [row.value for row in conn.execute(sqlalchemy.select(table).order_by(table.c.i))]


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_what_the_rules_accept_both_databases_store_unchanged(
    db: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    url = f"sqlite:///{tmp_path / 't.db'}" if db == "sqlite" else request.getfixturevalue("postgres_url")
    engine = sqlalchemy.create_engine(url)
    accepted: list[str] = []

    @given(any_text)
    @settings(max_examples=300)
    def collect(value: str) -> None:
        if text_fault(value) is None:
            accepted.append(value)

    collect()
    assert accepted, "the strategy produced no storable text"
    try:
        assert _round_trip(engine, accepted) == accepted
    finally:
        engine.dispose()
