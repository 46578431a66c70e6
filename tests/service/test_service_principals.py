"""The token -> principal cache: known tokens answered from memory, unknown ones always
looked up, everything forgotten when a party changes or after the time to live."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from service_kit import Desk

from truceline.errors import AuthError
from truceline.service.parties import add_party
from truceline.service.principals import PrincipalCache


class Ticks:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def desk(tmp_path):
    d = Desk(tmp_path, lambda: datetime(2027, 3, 1, tzinfo=UTC))
    yield d
    d.close()


def test_known_tokens_are_remembered_unknown_ones_are_not(desk):
    ticks = Ticks()
    cache = PrincipalCache(desk.service.engine, ttl_s=10.0, monotonic=ticks)
    token = add_party(desk.service, "Blue").token
    assert cache.cached(token) is None
    principal = cache.lookup(token)
    assert principal.name == "Blue" and cache.cached(token) == principal
    for bad in (None, "", "tl_unknown"):
        with pytest.raises(AuthError):
            cache.lookup(bad)
        assert cache.cached(bad) is None
    ticks.now = 10.0  # the time to live is over: looked up again
    assert cache.cached(token) is None


def test_a_committed_party_entry_clears_the_service_cache(desk):
    token = add_party(desk.service, "Blue").token
    principals = desk.service.principals
    principal = principals.lookup(token)
    assert principals.cached(token) == principal
    add_party(desk.service, "Red")  # a party.registered entry, committed by the service
    assert principals.cached(token) is None
    assert principals.lookup(token) == principal
