"""A second process beside a busy one: a server starting up, or ``party add``, while another
process commits; and a server's queries see what another server committed.

Each test makes the other process's commit land exactly between two reads (a cursor hook
on the reading engine), so the race that made a second ``serve`` exit at start-up is
reproduced every time rather than once in a while.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from service_kit import operation as kit_operation
from service_kit import square
from sqlalchemy import event

from truceline.domain.operation import Operation
from truceline.geo.altitude import AltitudeBand
from truceline.geo.shapes import Polygon
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.service import filing
from truceline.service.auth import Principal, principal_for_token
from truceline.service.importing import import_features
from truceline.service.parties import add_party
from truceline.service.register import Register, open_register
from truceline.service.service import Service

T0 = datetime(2017, 7, 10, 6, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'shared.db'}"
    return request.getfixturevalue("postgres_url")


def operation(operation_id: str, party: str, west: float) -> Operation:
    ring = ((west, 35.0), (west + 0.1, 35.0), (west + 0.1, 35.1), (west, 35.1), (west, 35.0))
    volume = Volume4D(
        Polygon(ring), AltitudeBand(0, 3000, "AMSL"), TimeWindow(T0, T0 + timedelta(hours=2))
    )
    return Operation(operation_id, party, "air", (volume,))


def commit_once_before(register: Register, marker: str, action: Callable[[], Any]) -> list[bool]:
    """Run ``action`` (another process's commit) just before the first statement on
    ``register``'s engine whose SQL contains ``marker``; returns a list that holds True once
    it ran."""
    fired: list[bool] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if not fired and marker in statement:
            fired.append(True)
            action()

    event.listen(register.engine, "before_cursor_execute", before)
    return fired


def test_a_server_starting_beside_a_writer_loads_one_snapshot(url: str, clock: Any) -> None:
    """Operations are read after their volumes: an operation committed in between used to
    come without volumes, and the index refused it (the second ``serve`` exited)."""
    writer = Service(open_register(url, clock))
    import_features(writer, [], [operation("op-before", "A", 36.0)])
    starting = open_register(url, clock)
    fired = commit_once_before(
        starting,
        "FROM operations",
        lambda: import_features(writer, [], [operation("op-between", "B", 37.0)]),
    )
    service = Service(starting)
    assert fired == [True]
    assert [o.id for o in service.indexed().operations] == ["op-before"]
    # What was committed meanwhile is not lost: the next query takes it in.
    assert sorted(o.id for o in service.live().operations) == ["op-before", "op-between"]
    writer.engine.dispose()
    starting.engine.dispose()


def test_party_add_beside_a_writer_reads_no_operation(url: str, clock: Any) -> None:
    """``truceline party add`` registers through the register alone: no strategic index,
    so an operation being committed meanwhile cannot break it."""
    writer = Service(open_register(url, clock))
    import_features(writer, [], [operation("op-1", "A", 36.0)])
    cli = open_register(url, clock)
    read_operations: list[str] = []
    event.listen(
        cli.engine,
        "before_cursor_execute",
        lambda _c, _k, statement, *_r: read_operations.append(statement)
        if "FROM operations" in statement or "FROM volumes" in statement
        else None,
    )
    registered = add_party(cli, "Observer One", "observer", "fr")
    party, token = registered.party, registered.token
    assert read_operations == []
    with cli.engine.connect() as conn:
        assert principal_for_token(conn, token).name == "Observer One"
    assert party.language == "fr"
    writer.engine.dispose()
    cli.engine.dispose()


def test_a_server_sees_what_another_server_filed(url: str, clock: Any) -> None:
    """GET of an operation another server filed: was 404 until this server wrote itself."""
    first = Service(open_register(url, clock))
    second = Service(open_register(url, clock))
    token = add_party(first, "A").token
    token_b = add_party(first, "Cell", "admin").token
    with first.read() as conn:
        a: Principal = principal_for_token(conn, token)
    with second.read() as conn:
        b: Principal = principal_for_token(conn, token_b)
    filing.file_operation(first, a, kit_operation("op-a", "A", square(36, 35, 36.1, 35.1)))
    seen = filing.get_operation(second, b, "op-a")
    assert seen["id"] == "op-a"
    assert [o.id for o in second.live().operations] == ["op-a"]
    for service in (first, second):
        service.engine.dispose()

