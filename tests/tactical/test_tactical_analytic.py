"""Analytic cases of the state-based detector, each with its expected numbers worked by hand.

Scenes are laid out in metres east (x) and north (y) of 48°N 2°E with exact geodesics
(pyproj), so only the detector's own approximation is under test.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from pyproj import Geod

from truceline.domain.track import PRESSURE_CODE, Track, TrackBatch
from truceline.engines.allpairs import AllPairsDetector
from truceline.engines.tactical import DetectionSettings, PairFilter, StateBasedDetector
from truceline.errors import ValidationError

GEOD = Geod(ellps="WGS84")
LON0, LAT0 = 2.0, 48.0
RH = 5 * 1852.0
RV = 304.8


def trk(id_, x_m, y_m, alt_m, gs, heading, vs=0.0, *, party=None, ground=False, t=0.0) -> Track:
    az = math.degrees(math.atan2(x_m, y_m))
    lon, lat, _ = GEOD.fwd(LON0, LAT0, az, math.hypot(x_m, y_m))
    return Track(id=id_, party=party or id_, time_s=t, lat=lat, lon=lon, altitude_m=alt_m,
                 altitude_reference=None, ground_speed_mps=gs, track_deg=heading,
                 vertical_rate_mps=vs, on_ground=ground)


def detect(*tracks: Track, **settings):
    batch = TrackBatch.from_tracks(tracks)
    s = DetectionSettings(**settings)
    pruned = StateBasedDetector(s).detect(batch)
    reference = AllPairsDetector(s).detect(batch)
    assert pruned.pair_set() == reference.pair_set()
    return pruned


def only(result):
    assert len(result) == 1, result.pair_set()
    return {f: getattr(result, f)[0] for f in ("a", "b", "tcpa_s", "dcpa_m", "dalt_m", "tlos_s", "los")}


def test_head_on():
    r = only(detect(trk("a", 0, 0, 6000, 200, 0), trk("b", 0, 60_000, 6000, 200, 180)))
    assert r["tcpa_s"] == pytest.approx(150.0, abs=0.5)
    assert r["dcpa_m"] < 5.0
    assert r["tlos_s"] == pytest.approx((60_000 - RH) / 400.0, rel=0.005)
    assert not r["los"]
    assert r["dalt_m"] == 0.0


def test_crossing_at_90_degrees():
    r = only(detect(trk("a", 0, -30_000, 6000, 200, 0), trk("b", -30_000, 0, 6000, 200, 90)))
    closing = 200 * math.sqrt(2)
    assert r["tcpa_s"] == pytest.approx(150.0, abs=1.5)
    assert r["dcpa_m"] < 300.0  # b's geodesic leaves the parallel by ~80 m over 30 km
    assert r["tlos_s"] == pytest.approx(150.0 - RH / closing, abs=1.5)


def test_crossing_that_misses_by_more_than_the_minimum():
    # relative track passes |45 km - 30 km| / sqrt(2) = 10.6 km (5.7 NM) from a
    res = detect(trk("a", 0, -30_000, 6000, 200, 0), trk("b", -45_000, 0, 6000, 200, 90))
    assert len(res) == 0


def test_parallel_same_speed_never_meets():
    res = detect(trk("a", 0, 0, 6000, 250, 0), trk("b", 6 * 1852, 0, 6000, 250, 0))
    assert len(res) == 0


def test_parallel_same_speed_inside_the_minimum_is_a_standing_loss():
    res = detect(trk("a", 0, 0, 6000, 250, 0), trk("b", 4 * 1852, 0, 6000, 250, 0))
    r = only(res)
    assert r["los"] and r["tlos_s"] == 0.0
    assert res.dist_m[0] == pytest.approx(4 * 1852, rel=0.005)
    # both fly north on converging meridians: a closing speed of ~0.3 m/s, not 0
    assert r["tcpa_s"] > 10_000


def test_overtaking():
    r = only(detect(trk("a", 0, 0, 6000, 150, 0), trk("b", 0, -30_000, 6000, 250, 0)))
    assert r["tlos_s"] == pytest.approx((30_000 - RH) / 100.0, rel=0.005)
    assert r["tcpa_s"] == pytest.approx(300.0, rel=0.005)
    assert not r["los"]


def test_overtaking_too_slowly_for_the_lookahead():
    res = detect(trk("a", 0, 0, 6000, 150, 0), trk("b", 0, -30_000, 6000, 170, 0))
    assert len(res) == 0  # closing at 20 m/s: 1037 s to lose separation


def test_climbing_through_another_level():
    # same horizontal motion 1 km apart; b 1000 m below climbing at 10 m/s
    r = only(detect(trk("a", 0, 0, 6000, 200, 0), trk("b", 0, 1000, 5000, 200, 0, vs=10.0)))
    assert r["tlos_s"] == pytest.approx((1000 - RV) / 10.0, abs=1e-3)
    assert not r["los"]


def test_climbing_too_slowly_for_the_lookahead():
    res = detect(trk("a", 0, 0, 6000, 200, 0), trk("b", 0, 1000, 5000, 200, 0, vs=2.0))
    assert len(res) == 0  # 347.6 s to come within 1000 ft


def test_exactly_1000_ft_level_is_not_a_conflict():
    for low in (0.0, 3048.0, 10058.4):
        res = detect(trk("a", 0, 0, low, 200, 0), trk("b", 0, 1000, round(low + 304.8, 2), 200, 180))
        assert len(res) == 0, low


def test_just_under_1000_ft_is_a_conflict():
    r = only(detect(trk("a", 0, 0, 3048.0, 200, 0), trk("b", 0, 1000, 3352.79, 200, 180)))
    assert r["los"]


def test_already_in_loss_of_separation_and_diverging():
    r = only(detect(trk("a", 0, 0, 6000, 200, 180), trk("b", 0, 2000, 6030, 200, 0)))
    assert r["los"] and r["tlos_s"] == 0.0
    # the closest approach was in the past: from now on the pair is closest now (never a
    # negative time to CPA)
    assert r["tcpa_s"] == 0.0
    assert r["dcpa_m"] == pytest.approx(2000.0, abs=1.0)
    assert r["dalt_m"] == pytest.approx(30.0)


def test_diverging_outside_the_minimum_is_not_a_conflict():
    res = detect(trk("a", 0, 0, 6000, 200, 180), trk("b", 0, 12_000, 6000, 200, 0))
    assert len(res) == 0


def test_stationary_ground_vehicles_use_the_ground_minimum():
    near = detect(trk("v1", 0, 0, math.nan, 0, 0, ground=True), trk("v2", 30, 0, math.nan, 0, 0, ground=True))
    r = only(near)
    assert r["los"] and r["dcpa_m"] == pytest.approx(30.0, abs=0.01)
    far = detect(trk("v1", 0, 0, math.nan, 0, 0, ground=True), trk("v2", 80, 0, math.nan, 0, 0, ground=True))
    assert len(far) == 0


def test_ground_vehicle_driving_towards_a_parked_one():
    r = only(detect(trk("v1", 0, 0, math.nan, 0, 0, ground=True),
                    trk("v2", 0, 200, math.nan, 10, 180, ground=True)))
    assert r["tlos_s"] == pytest.approx(15.0, abs=0.01)


def test_ground_track_without_altitude_never_conflicts_with_an_aircraft():
    res = detect(trk("v", 0, 0, math.nan, 0, 0, ground=True), trk("p", 0, 0, 30.0, 70, 0))
    assert len(res) == 0


def test_aircraft_low_over_a_ground_vehicle_with_altitude():
    r = only(detect(trk("v", 0, 0, 100.0, 0, 0, ground=True), trk("p", 0, -700, 130.0, 70, 0)))
    assert r["tlos_s"] == pytest.approx((700 - 50) / 70, abs=0.05)


def test_same_party_is_filtered_by_default_and_kept_with_all_pairs():
    a = trk("a", 0, 0, 6000, 200, 0, party="blue")
    b = trk("b", 0, 60_000, 6000, 200, 180, party="blue")
    assert len(detect(a, b)) == 0
    assert len(detect(a, b, pairs=PairFilter.ALL)) == 1


def test_each_pair_once_ordered_by_id_whatever_the_input_order():
    tracks = [trk(name, 100.0 * k, 0, 6000, 200, 0) for k, name in enumerate(["d", "a", "c", "b"])]
    batch = TrackBatch.from_tracks(tracks)
    res = StateBasedDetector().detect(batch)
    assert len(res) == 6
    assert all(a < b for a, b in zip(res.a, res.b, strict=True))
    assert list(zip(res.a, res.b, strict=True)) == sorted(zip(res.a, res.b, strict=True))
    # indices refer to the caller's batch
    assert [batch.ids[i] for i in res.a_index] == list(res.a)
    assert [batch.ids[i] for i in res.b_index] == list(res.b)


def test_many_aircraft_stacked_at_one_point():
    n = 300
    tracks = [trk(f"s{k:03d}", 0, 0, 6000 + k * 0.5, 200, (k * 7) % 360) for k in range(n)]
    res = StateBasedDetector(max_pairs_per_chunk=5000).detect(TrackBatch.from_tracks(tracks))
    assert len(res) == n * (n - 1) // 2
    assert res.los.all()


def test_tracks_reported_at_different_times_are_brought_to_the_latest():
    # a reported 10 s before b, 2 km further south: at b's time both are 60 km apart, so the
    # CPA is 150 s after b's time (155 s if a were taken where it was reported)
    early = trk("a", 0, -2000, 6000, 200, 0, t=0.0)
    late = trk("b", 0, 60_000, 6000, 200, 180, t=10.0)
    res = detect(early, late)
    r = only(res)
    assert r["tcpa_s"] == pytest.approx(150.0, abs=0.5)
    assert res.dist_m[0] == pytest.approx(60_000, rel=0.005)


def test_duplicate_ids_are_refused():
    batch = TrackBatch.from_tracks([trk("a", 0, 0, 6000, 200, 0), trk("b", 0, 10, 6000, 200, 0)])
    batch = TrackBatch(**{f: getattr(batch, f) for f in batch.__slots__})
    batch.ids[1] = "a"
    with pytest.raises(ValidationError) as err:
        StateBasedDetector().detect(batch)
    assert err.value.field == "ids"


def test_empty_and_single_track_batches():
    assert len(StateBasedDetector().detect(TrackBatch.empty())) == 0
    one = TrackBatch.from_tracks([trk("a", 0, 0, 6000, 200, 0)])
    assert len(StateBasedDetector().detect(one)) == 0


def test_pressure_altitude_code_is_kept_in_batches():
    batch = TrackBatch.from_tracks([trk("a", 0, 0, 6000, 200, 0)])
    assert batch.alt_ref.tolist() == [PRESSURE_CODE]
    assert batch.track(0).altitude_reference is None


def test_invalid_settings_are_refused():
    with pytest.raises(ValidationError) as err:
        DetectionSettings(lookahead_s=0)
    assert err.value.field == "lookahead_s"
    assert np.isfinite(DetectionSettings().horizontal_m)
