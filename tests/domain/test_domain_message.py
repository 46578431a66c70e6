"""Priorities (domain/message.py), zone states and role groups: the one place each is spelled."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from truceline.domain.message import Priority
from truceline.domain.party import ALL_ROLES, FILING_ROLES, INFORMED_ROLES, SIGNING_ROLES, Role
from truceline.domain.zone import ZoneState
from truceline.errors import ValidationError


def test_each_priority_has_its_deadline_and_escalates_one_step_up_to_urgent() -> None:
    assert [p.ack_within_s for p in Priority] == [3600, 900, 120]  # routine, high, urgent
    assert [p.escalated for p in Priority] == [Priority.HIGH, Priority.URGENT, Priority.URGENT]


@given(st.one_of(st.text(), st.integers(), st.none(), st.lists(st.text())))
def test_a_priority_that_is_none_of_them_is_refused_naming_the_field(value: object) -> None:
    if isinstance(value, str) and value in {p.value for p in Priority}:
        assert Priority.parse(value) is Priority(value)
        return
    with pytest.raises(ValidationError) as raised:
        Priority.parse(value, "to[0].priority")
    assert raised.value.field == "to[0].priority"
    assert "routine, high, urgent" in str(raised.value)


def test_only_withdrawn_and_expired_zones_are_final() -> None:
    assert {s for s in ZoneState if s.final} == {ZoneState.WITHDRAWN, ZoneState.EXPIRED}


def test_role_groups_name_roles_only_and_the_signers_file_or_guarantee() -> None:
    for group in (FILING_ROLES, SIGNING_ROLES, INFORMED_ROLES):
        assert set(group) <= set(ALL_ROLES)
    assert Role.OBSERVER not in SIGNING_ROLES and Role.AUDITOR not in INFORMED_ROLES
    assert set(FILING_ROLES) <= set(SIGNING_ROLES)
