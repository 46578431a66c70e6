"""The pruned detector returns exactly what the all-pairs reference returns: the same pairs
and bit-identical numbers, on random snapshots anywhere on Earth (poles and antimeridian
included), at several densities, with stacks of aircraft at one point, ground vehicles,
mixed report times, and tiny chunk sizes that make the broad phase work in many pieces."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truceline.domain.track import PRESSURE_CODE, TrackBatch
from truceline.engines.allpairs import AllPairsDetector
from truceline.engines.tactical import DetectionSettings, PairFilter, StateBasedDetector

FIELDS = ("a_index", "b_index", "tcpa_s", "dcpa_m", "dalt_m", "tlos_s", "los", "dist_m", "dz_m")


def random_snapshot(seed: int, n: int, box_m: float, stacked: int, ground_share: float,
                    parties: int, lat0: float, lon0: float, spread_s: float) -> TrackBatch:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-box_m / 2, box_m / 2, n)
    y = rng.uniform(-box_m / 2, box_m / 2, n)
    x[:stacked] = x[0]
    y[:stacked] = y[0]
    lat = np.clip(lat0 + np.degrees(y / 6_371_000.0), -90.0, 90.0)
    coslat = np.maximum(np.cos(np.radians(lat)), 1e-3)
    lon = (lon0 + np.degrees(x / (6_371_000.0 * coslat)) + 180.0) % 360.0 - 180.0
    ground = rng.random(n) < ground_share
    alt = rng.uniform(0.0, 12_000.0, n)
    alt[:stacked] = alt[0] + rng.uniform(0, 200.0, stacked)
    alt[ground & (rng.random(n) < 0.5)] = np.nan  # half the ground tracks report no altitude
    gs = np.where(ground, rng.uniform(0, 30, n), rng.uniform(0, 300, n))
    gs[rng.random(n) < 0.05] = 0.0
    vs = np.where(rng.random(n) < 0.4, rng.uniform(-20, 20, n), 0.0)
    ids = np.array([f"{k:06x}" for k in rng.permutation(n)], dtype=object)
    return TrackBatch(
        ids=ids,
        parties=np.array([f"p{k}" for k in rng.integers(0, parties, n)], dtype=object),
        t=np.round(rng.uniform(0, spread_s, n)),
        lat=lat, lon=lon, alt_m=alt, gs=gs,
        trk=rng.uniform(0, 360, n), vs=vs, on_ground=ground,
        alt_ref=np.full(n, PRESSURE_CODE, dtype=np.uint8),
    )


def assert_same(batch: TrackBatch, s: DetectionSettings, chunk: int, slabs: int = 2) -> int:
    # all_pairs_below=0: the broad phase itself, at every size
    pruned = StateBasedDetector(s, max_pairs_per_chunk=chunk, narrow_chunk=max(1, chunk // 3),
                                time_slabs=slabs, all_pairs_below=0).detect(batch)
    ref = AllPairsDetector(s, max_cells=50_000).detect(batch)
    assert pruned.pair_set() == ref.pair_set()
    for f in FIELDS:
        assert np.array_equal(getattr(pruned, f), getattr(ref, f), equal_nan=True), f
    if len(batch) < 48:  # the default sends small snapshots straight to the exact test
        small = StateBasedDetector(s).detect(batch)
        for f in FIELDS:
            assert np.array_equal(getattr(small, f), getattr(ref, f), equal_nan=True), f
    return len(ref)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(2, 250),
    box_m=st.sampled_from([2_000.0, 30_000.0, 150_000.0, 600_000.0, 3_000_000.0]),
    stacked_share=st.sampled_from([0.0, 0.0, 0.3, 1.0]),
    ground_share=st.sampled_from([0.0, 0.2, 1.0]),
    parties=st.integers(1, 5),
    lat0=st.one_of(st.just(48.0), st.floats(-89.99, 89.99), st.sampled_from([89.9, -89.9, 0.0])),
    lon0=st.one_of(st.just(2.0), st.sampled_from([179.99, -179.99]), st.floats(-180, 180)),
    spread_s=st.sampled_from([0.0, 10.0]),
    pairs=st.sampled_from(list(PairFilter)),
    lookahead_s=st.sampled_from([60.0, 300.0, 900.0]),
    chunk=st.sampled_from([7, 1000, 1 << 17]),
    slabs=st.sampled_from([1, 2, 3, 7]),
)
def test_pruned_equals_all_pairs(seed, n, box_m, stacked_share, ground_share, parties, lat0, lon0,
                                 spread_s, pairs, lookahead_s, chunk, slabs):
    batch = random_snapshot(seed, n, box_m, int(n * stacked_share), ground_share, parties, lat0, lon0,
                            spread_s)
    assert_same(batch, DetectionSettings(pairs=pairs, lookahead_s=lookahead_s), chunk, slabs)


def test_dense_snapshots_find_many_conflicts():
    # fixed seeds: make sure the comparison above is not vacuous
    total = 0
    for seed, n, box in ((1, 800, 200_000.0), (2, 1500, 400_000.0), (3, 400, 20_000.0)):
        for slabs in (1, 2, 4):
            total += assert_same(random_snapshot(seed, n, box, 40, 0.1, 3, 48.0, 2.0, 10.0),
                                 DetectionSettings(), 1 << 15, slabs)
    assert total > 3000


def test_a_whole_stack_at_one_point():
    batch = random_snapshot(7, 400, 1.0, 400, 0.0, 400, 10.0, 20.0, 0.0)
    assert assert_same(batch, DetectionSettings(pairs=PairFilter.ALL), 997) > 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 200),
       box_m=st.sampled_from([2_000.0, 30_000.0, 150_000.0]), spread_s=st.sampled_from([0.0, 10.0]))
def test_time_to_closest_approach_is_never_negative(seed, n, box_m, spread_s):
    """A diverging pair (closest approach in the past) reports its closest approach as now:
    tcpa 0 and the current distance, never a negative time."""
    batch = random_snapshot(seed, n, box_m, 0, 0.2, 3, 48.0, 2.0, spread_s)
    found = StateBasedDetector(DetectionSettings(pairs=PairFilter.ALL)).detect(batch)
    assert (found.tcpa_s >= 0.0).all()
    now = found.tcpa_s == 0.0
    assert np.array_equal(found.dcpa_m[now], found.dist_m[now])
    assert (found.dcpa_m <= found.dist_m + 1e-6).all()
