"""A filing's covering and strategic check run off the event loop (issue 13): while the
issue's thin strip is being covered, and then checked, a real server still answers
``/health``. Ordering, not timing: the filing is held inside each step until /health has
answered."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from api_kit import World, op_doc, running_server, sqlite_url

from truceline.engines.strategic import StrategicIndex
from truceline.geo import cells

STRIP = [[[0.0, 10.0], [60.0, 10.0], [60.0, 10.03], [0.0, 10.03], [0.0, 10.0]]]
WAIT_S = 120.0  # a bound on a hung test, never reached when it passes


class Gate:
    """Holds the wrapped step until ``release``; tells when the step was entered."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.released = threading.Event()

    def wrap(self, original: Callable[..., Any]) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> Any:
            self.entered.set()
            assert self.released.wait(WAIT_S)
            return original(*args, **kwargs)

        return held


def test_health_answers_while_a_strip_is_covered_and_checked(tmp_path: Path, clock, monkeypatch) -> None:
    world = World(sqlite_url(tmp_path), clock)
    world.add("A")
    covering, checking = Gate(), Gate()
    cells.clear_cover_cache()
    monkeypatch.setattr(cells, "_cover_wall", covering.wrap(cells._cover_wall))
    monkeypatch.setattr(StrategicIndex, "check", checking.wrap(StrategicIndex.check))
    order: list[str] = []
    answer: dict[str, httpx.Response] = {}
    with running_server(world.app) as url:

        def file() -> None:
            answer["filing"] = httpx.post(
                url + "/operations", json=op_doc("strip", "A", STRIP), headers=world.auth("A"), timeout=WAIT_S
            )
            order.append("filed")

        filing = threading.Thread(target=file)
        filing.start()
        for step, gate in (("covering", covering), ("checking", checking)):
            assert gate.entered.wait(WAIT_S), step
            # a loop held by the filing would never answer: the request times out, and fails
            health = httpx.get(url + "/health", timeout=30.0)
            assert health.status_code == 200
            order.append(f"health while {step}")
            gate.released.set()
        filing.join(WAIT_S)
    world.close()
    assert order == ["health while covering", "health while checking", "filed"]
    assert answer["filing"].status_code == 201, answer["filing"].text

