"""The scan shared by cell (service/partition.py), as a pure property: every pair in conflict
within the look-ahead is found by the owner of its first track's cell, from that worker's
share of the picture (its cells and the halo), with the same numbers as the whole scan; and
exactly one worker reports it, whichever way the shards are dealt."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.track import Track, TrackBatch
from truceline.engines.tactical import DetectionSettings, StateBasedDetector
from truceline.geo.altitude import AltitudeReference
from truceline.service.live_detection import LiveScanner
from truceline.service.partition import (
    N_CELLS,
    N_SHARDS,
    cell_of,
    dilate,
    halo_m,
    owned_mask,
    owner_cell,
    scan_rows,
    shard_of,
)

T0 = 1_633_608_000.0


@st.composite
def pictures(draw: st.DrawFn) -> TrackBatch:
    """Up to 40 tracks of three parties around a random centre (possibly near a pole or the
    antimeridian), within a few degrees, up to 60 s old and up to 600 m/s."""
    lat0 = draw(st.floats(-89, 89))
    lon0 = draw(st.floats(-180, 180))
    spread = draw(st.sampled_from([0.2, 1.0, 4.0]))
    n = draw(st.integers(2, 40))
    tracks = []
    for i in range(n):
        lat = min(90.0, max(-90.0, lat0 + draw(st.floats(-spread, spread))))
        lon = (lon0 + draw(st.floats(-spread, spread)) + 180.0) % 360.0 - 180.0
        tracks.append(Track(
            f"t{i:02d}", "ABC"[i % 3], T0 - draw(st.floats(0, 60)), lat, lon,
            draw(st.floats(1000, 1600)), AltitudeReference.AMSL, draw(st.floats(0, 600)),
            draw(st.floats(0, 359.9)), draw(st.floats(-20, 20)), False,
        ))
    return TrackBatch.from_tracks(tracks)


def _records(batch: TrackBatch) -> dict[tuple[str, str], dict[str, object]]:
    c = StateBasedDetector(DetectionSettings()).detect(batch)
    return {(str(r["a"]), str(r["b"])): r for r in c.records(now=True)}


@settings(max_examples=150, deadline=None)
@given(pictures(), st.lists(st.integers(0, 2), min_size=N_SHARDS, max_size=N_SHARDS))
def test_every_pair_is_found_once_by_its_owner_with_the_whole_scans_numbers(batch, deal) -> None:
    whole = _records(batch)
    positions = {str(batch.ids[i]): (float(batch.lat[i]), float(batch.lon[i])) for i in range(len(batch))}
    found: dict[tuple[str, str], list[int]] = {}
    for worker in range(3):
        shards = {s for s, w in enumerate(deal) if w == worker}
        part = batch.take(scan_rows(batch, shards, DetectionSettings()))
        for pair, record in _records(part).items():
            cell = owner_cell(positions, pair)
            if cell is not None and int(shard_of(cell)) in shards:
                found.setdefault(pair, []).append(worker)
                assert record == whole[pair]  # the same numbers: the batch keeps its newest time
    assert {pair: len(w) for pair, w in found.items()} == dict.fromkeys(whole, 1)


@settings(max_examples=100, deadline=None)
@given(pictures())
def test_the_pairs_in_conflict_are_within_the_halo(batch) -> None:
    radius = halo_m(batch, DetectionSettings())
    index = {str(t): i for i, t in enumerate(batch.ids.tolist())}
    for a, b in _records(batch):
        i, j = index[a], index[b]
        # haversine on a sphere (the bound's margin covers the ellipsoid)
        p1, p2 = math.radians(batch.lat[i]), math.radians(batch.lat[j])
        dl = math.radians(batch.lon[j] - batch.lon[i])
        h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
        assert 2 * 6_371_008.8 * math.asin(math.sqrt(h)) < radius
        home = {int(cell_of(batch.lat[i], batch.lon[i]))}
        assert int(cell_of(batch.lat[j], batch.lon[j])) in set(dilate(home, radius).tolist())


@given(st.floats(-90, 90), st.floats(-180, 180))
def test_every_point_has_one_cell_and_one_shard(lat: float, lon: float) -> None:
    cell = int(cell_of(lat, lon))
    assert 0 <= cell < N_CELLS and 0 <= int(shard_of(cell)) < N_SHARDS


@given(st.floats(-89, 89), st.floats(-180, 180), st.floats(1_000, 2_000_000), st.floats(0, 1),
       st.floats(0, 360))
def test_the_dilation_holds_every_point_within_the_radius(lat, lon, radius, fraction, bearing) -> None:
    """A point ``fraction * radius`` away in any direction (a great circle on the sphere of
    the smallest radius of curvature) lies in the dilation of the start's cell."""
    r_min = 6_335_439.0
    d = fraction * radius / r_min
    p1, l1, br = math.radians(lat), math.radians(lon), math.radians(bearing)
    sin_p2 = math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(br)
    p2 = math.asin(max(-1.0, min(1.0, sin_p2)))
    l2 = l1 + math.atan2(math.sin(br) * math.sin(d) * math.cos(p1), math.cos(d) - math.sin(p1) * math.sin(p2))
    lon2 = (math.degrees(l2) + 180.0) % 360.0 - 180.0
    assert int(cell_of(math.degrees(p2), lon2)) in set(dilate({int(cell_of(lat, lon))}, radius).tolist())


def test_a_worker_keeps_only_its_findings_and_its_batch_keeps_the_newest_time() -> None:
    tracks = [Track("a", "A", T0, 48.5, 2.5, 1000.0, AltitudeReference.AMSL, 200.0, 90.0, 0.0, False),
              Track("b", "B", T0 - 5, 48.5, 2.55, 1000.0, AltitudeReference.AMSL, 200.0, 270.0, 0.0, False),
              Track("z", "C", T0 + 1, -30.0, 100.0, 1000.0, AltitudeReference.AMSL, 200.0, 0.0, 0.0, False)]
    batch = TrackBatch.from_tracks(tracks)
    home = int(shard_of(cell_of(48.5, 2.5)))
    rows = scan_rows(batch, {home}, DetectionSettings())
    assert batch.ids[rows].tolist() == ["a", "b", "z"]  # z: the newest, not its cell's halo
    assert owned_mask(batch, {home}).tolist()[:2] == [True, True]
    far = int(shard_of(cell_of(-30, 100)))
    other = scan_rows(batch, {s for s in range(N_SHARDS) if s not in (home, far)}, DetectionSettings())
    assert other.size == 0
    scanner = LiveScanner()
    result = scanner.scan(batch.take(rows), T0 + 1, keep=lambda f: f.subject[0] == "a")
    assert [e.finding.subject for e in result.events] == [("a", "b")]
    assert np.isclose(float(batch.take(rows).t.max()), T0 + 1)
