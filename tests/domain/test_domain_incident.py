"""Reports (domain/incident.py, io/incidents.py): a valid Feature reads into a report whose
record reads back into the same report; anything else is a ValidationError naming a field,
never another exception; grades follow the states."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.incident import Grade, IncidentReport, grade_of
from truceline.errors import ValidationError
from truceline.io.incidents import ACLED_TYPES, geo_precision, read_incident, time_precision
from truceline.service.incidents import content_hash

quantities = st.one_of(
    st.none(), st.integers(0, 1000), st.tuples(
        st.integers(0, 50), st.integers(0, 50)
    ).map(lambda t: sorted(t))
)
located = st.fixed_dictionaries({"uncertainty_m": st.floats(0, 50_000)})
heard = st.fixed_dictionaries(
    {
        "bearing_deg": st.floats(0, 359.9),
        "distance_min_m": st.floats(0, 5000),
        "distance_max_m": st.floats(5001, 40_000),
    },
    optional={"bearing_uncertainty_deg": st.floats(1, 180)},
)


@st.composite
def features(draw: st.DrawFn) -> dict[str, Any]:
    lon, lat = draw(st.floats(-170, 170)), draw(st.floats(-70, 70))
    props: dict[str, Any] = {
        "instance_id": f"uuid:{uuid.UUID(int=draw(st.integers(0, 2**128 - 1)), version=4)}",
        "observed_start": "2017-07-10T08:00:00Z",
        "observed_end": draw(st.sampled_from(["2017-07-10T08:00:00Z", "2017-07-10T09:30:00.250Z"])),
        "category": draw(st.sampled_from(sorted(ACLED_TYPES))),
        "observation": draw(st.sampled_from(["seen", "heard", "reported", "imagery", "sensor"])),
        "count": draw(quantities),
        "fatalities": draw(quantities),
        "injured": draw(quantities),
        **draw(st.one_of(located, heard)),
    }
    if draw(st.booleans()):
        # A stored text holds no NUL and no lone surrogate (domain.text): anything else may appear.
        storable = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
        props.update(description=draw(st.text(storable, max_size=50)), language="uk")
    return {"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": props}


@settings(max_examples=60)
@given(features())
def test_a_report_reads_back_from_its_record(feature: dict[str, Any]) -> None:
    report = read_incident(feature, default_bearing_uncertainty_deg=11.25)
    record = report.to_record()
    again = IncidentReport.from_record(record)
    assert again.to_record() == record
    assert content_hash(again.to_record()) == content_hash(record)
    assert report.area.shape is not None or record.get("uncertainty_m") == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


NAMES = ["instance_id", "observed_start", "observed_end", "category", "count", "uncertainty_m", "bearing_deg",
         "distance_max_m", "evidence", "language", "description"]  # fmt: skip


@settings(max_examples=150)
@given(features(), st.sampled_from(NAMES), json_values)
def test_any_other_value_is_refused_by_its_field_or_accepted(
    feature: dict[str, Any], name: str, value: Any
) -> None:
    feature["properties"][name] = value
    try:
        read_incident(feature, default_bearing_uncertainty_deg=11.25)
    except ValidationError as error:
        assert error.field and error.field.startswith(("properties.", "geometry")), error


def test_grades_follow_the_states() -> None:
    assert grade_of("reported", False, False) == Grade.SINGLE_SOURCE
    assert grade_of("disputed", True, False) == Grade.CORROBORATED
    assert grade_of("disputed", False, True) == Grade.VERIFIED
    assert grade_of("corroborated", False, False) == Grade.CORROBORATED


def test_acled_precisions() -> None:
    assert [geo_precision(r) for r in (0, 1000, 1001, 25_000, 25_001)] == [1, 1, 2, 2, 3]
    assert [time_precision(s) for s in (0, 86_400, 86_401, 7 * 86_400, 7 * 86_400 + 1)] == [1, 1, 2, 2, 3]


def test_a_feature_without_a_geometry_locates_nothing() -> None:
    with pytest.raises(ValidationError) as refused:
        read_incident(
            {"type": "Feature", "geometry": None, "properties": {}}, default_bearing_uncertainty_deg=11.25
        )
    assert refused.value.field == "geometry"
