"""A server (or a worker) loads the strategic check's and the tactical scan's compiled kernels
before its first request or scan."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from truceline.engines import strategic
from truceline.geo import cells, horizontal, pair_discs
from truceline.service.warmup import warm_up

# Where the check calls each compiled kernel (module, name there).
KERNELS = [
    (cells, "_boxes_meeting"),  # a filing's covering (tiled)
    (horizontal, "clip_ring_to_box"),
    (horizontal, "disc_ring_depth_area"),
    (strategic, "_sift"),  # the check's candidates, filtered and settled by their discs
    (pair_discs, "_point_to_ring"),  # a filing's discs
    (pair_discs, "_centroid"),
]


def test_warm_up_calls_every_kernel_of_the_strategic_check(monkeypatch: pytest.MonkeyPatch) -> None:
    # Counted here rather than read off numba's compiled signatures, which other tests in
    # the same process may already have filled.
    calls: dict[str, int] = {}

    def counting(name: str, kernel: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            calls[name] = calls.get(name, 0) + 1
            return kernel(*args)

        return wrapper

    for module, name in KERNELS:
        monkeypatch.setattr(module, name, counting(name, getattr(module, name)))
    cells.clear_cover_cache()  # coverings of the same shapes by another test would skip the kernel
    warm_up()
    for _, name in KERNELS:
        assert calls.get(name), f"{name} was not reached by warm_up"


def test_warm_up_loads_the_tactical_broad_phase(monkeypatch: pytest.MonkeyPatch) -> None:
    from truceline.engines import pairgrid

    monkeypatch.setattr(pairgrid, "_KERNEL", [])  # as in a new process: not loaded yet
    warm_up()
    assert len(pairgrid._KERNEL) == 1 and callable(pairgrid._KERNEL[0])
