"""io.documents: which format a document is, and "exactly one item" (one place for both)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from io_documents import collection, ed269_zone, f3548_volume, operation_feature, zone_feature

from truceline.errors import FormatError, ValidationError
from truceline.io.documents import DocumentFormat, document_format, exactly_one, is_ed318

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        (collection(zone_feature()), DocumentFormat.GEOJSON),
        (operation_feature(), DocumentFormat.GEOJSON),
        ({"UASZoneList": [ed269_zone()]}, DocumentFormat.ED269),
        ([ed269_zone()], DocumentFormat.ED269),  # UASZoneVersion items as a bare list
        ({"features": [ed269_zone()]}, DocumentFormat.ED269),  # ... or under "features"
        ({"volumes": [f3548_volume()]}, DocumentFormat.F3548),
        ({}, DocumentFormat.F3548),
    ],
)
def test_the_format_is_told_by_its_keys(document: object, expected: DocumentFormat) -> None:
    assert document_format(document) is expected


@given(json_values)
def test_any_json_value_has_a_format_and_never_raises(document: object) -> None:
    if is_ed318(document):  # the one refusal, the same from every entry point
        with pytest.raises(FormatError, match="ED-318"):
            document_format(document)
        return
    assert document_format(document) in set(DocumentFormat)


def test_a_format_compares_equal_to_its_old_string() -> None:
    assert DocumentFormat.GEOJSON == "geojson" and DocumentFormat.ED269 == "ed269"


@given(st.lists(st.integers(), max_size=6), st.sampled_from(["zone", "operation"]))
def test_exactly_one_returns_the_item_or_says_how_many(items: list[int], noun: str) -> None:
    if len(items) == 1:
        assert exactly_one(items, noun) == items[0]
        return
    with pytest.raises(ValidationError) as caught:
        exactly_one(items, noun, where="plan.geojson", why="; a zone was skipped")
    error = caught.value
    assert error.field == "document" and error.where == "plan.geojson"
    assert error.message == f"must hold exactly one {noun}, found {len(items)}; a zone was skipped"
