"""Sample parameters for any template, derived from its parameter kinds, so a new template
is covered by the rendering tests without writing its samples by hand."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import strategies as st

from truceline.i18n.templates import Kind, Measure, Param, Template

SAMPLE_TIME = datetime(2025, 3, 4, 13, 5, tzinfo=UTC)


def sample_value(p: Param) -> object:
    if p.kind is Kind.TEXT:
        return f"{p.name.upper()}-7"
    if p.kind is Kind.INTEGER:
        return 3
    if p.kind is Kind.MEASURE:
        return Measure(12.5, p.units[-1])
    if p.kind is Kind.DATETIME:
        return SAMPLE_TIME
    return p.choices[0]


def sample_params(template: Template, choice: str | None = None) -> dict[str, object]:
    """Parameters for ``template``; ``choice`` picks the variant of a choice template."""
    params = {p.name: sample_value(p) for p in template.params}
    if choice is not None:
        assert template.choice is not None
        params[template.choice] = choice
    return params


def variants(template: Template) -> list[str | None]:
    return list(template.param(template.choice).choices) if template.choice else [None]


_text = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=30
).filter(lambda s: s.strip() != "")


def value_strategy(p: Param) -> st.SearchStrategy[object]:
    if p.kind is Kind.TEXT:
        return _text
    if p.kind is Kind.INTEGER:
        return st.integers(min_value=0, max_value=10**9)
    if p.kind is Kind.MEASURE:
        value = st.floats(min_value=-1e7, max_value=1e7, allow_nan=False)
        measure = st.builds(Measure, value, st.sampled_from(p.units))
        return st.one_of(value, measure) if len(p.units) == 1 else measure
    if p.kind is Kind.DATETIME:
        return st.datetimes(
            min_value=datetime(1990, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.timezones()
        )
    return st.sampled_from(p.choices)


def params_strategy(template: Template) -> st.SearchStrategy[dict[str, object]]:
    return st.fixed_dictionaries({p.name: value_strategy(p) for p in template.params})
