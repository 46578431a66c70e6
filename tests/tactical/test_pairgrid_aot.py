"""The broad phase compiled ahead of time (engines/pairgrid_aot.py) gives the candidates numba's
JIT gives, bit for bit; a failed build is remembered and falls back to the JIT."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_tactical_property import random_snapshot

from truceline.engines import pairgrid, pairgrid_aot
from truceline.engines.tactical import (
    DetectionSettings,
    PairFilter,
    StateBasedDetector,
    kinematics,
    sorted_view,
)


@pytest.fixture(scope="module")
def aot():
    module = pairgrid_aot.load_or_build()
    if module is None:
        pytest.skip(f"no ahead-of-time module (no C compiler, or see {pairgrid_aot.module_path()}.failed)")
    return module


def candidates_with(kernel, batch, s: DetectionSettings) -> tuple[np.ndarray, np.ndarray]:
    saved = list(pairgrid._KERNEL)
    pairgrid._KERNEL[:] = [kernel]
    try:
        return StateBasedDetector(s).candidates(kinematics(sorted_view(batch)[0]))
    finally:
        pairgrid._KERNEL[:] = saved


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 300),
       box_m=st.sampled_from([2_000.0, 150_000.0, 3_000_000.0]), ground_share=st.sampled_from([0.0, 0.3]),
       pairs=st.sampled_from(list(PairFilter)), lookahead_s=st.sampled_from([60.0, 300.0, 1200.0]))
def test_ahead_of_time_equals_jit(aot, seed, n, box_m, ground_share, pairs, lookahead_s):
    batch = random_snapshot(seed, n, box_m, n // 10, ground_share, 3, 48.0, 2.0, 10.0)
    s = DetectionSettings(pairs=pairs, lookahead_s=lookahead_s)
    ai, aj = candidates_with(aot.swept_pairs, batch, s)
    ji, jj = candidates_with(pairgrid.jit_kernel(), batch, s)
    assert np.array_equal(ai, ji) and np.array_equal(aj, jj)


def test_a_failed_build_is_remembered_and_falls_back(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUCELINE_CACHE_DIR", str(tmp_path))
    calls = []

    def broken() -> None:
        calls.append(1)
        raise RuntimeError("no compiler here")

    monkeypatch.setattr(pairgrid_aot, "build", broken)
    assert pairgrid_aot.load_or_build() is None
    failed = pairgrid_aot.module_path().with_suffix(".failed")
    assert "RuntimeError: no compiler here" in failed.read_text()
    assert pairgrid_aot.load_or_build() is None and calls == [1]  # not retried


def test_it_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("TRUCELINE_AOT", "0")
    assert pairgrid_aot.load_or_build() is None


def test_the_module_name_follows_the_kernel_and_the_versions(tmp_path, monkeypatch):
    name = pairgrid_aot.module_name()
    assert name.startswith("_truceline_pairgrid_") and name == pairgrid_aot.module_name()
    monkeypatch.setenv("TRUCELINE_CACHE_DIR", str(tmp_path))
    assert pairgrid_aot.module_path().parent == tmp_path / "aot"
