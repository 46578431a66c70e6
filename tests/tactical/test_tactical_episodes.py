"""Replay episodes: one alert per pair and episode, updated while it persists, closed when it
ends (engines.tactical.EpisodeTracker, and service.replay on files)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared_data import SHARED_DATA
from truceline.engines.tactical import EpisodeChange, EpisodeTracker
from truceline.errors import ValidationError
from truceline.io.statevectors import read_state_vectors
from truceline.service.replay import ScanOptions, replay

PARIS = SHARED_DATA / "adsb" / "paris_2021-10-07_1200-1500Z.csv"
START = 1633608001.0


def changes(events):
    return [(e.change.value, e.episode.key) for e in events]


def test_tracker_opens_updates_and_closes_after_the_gap():
    tr = EpisodeTracker(clear_after_s=10.0)
    k = ("conflict", "a", "b")
    assert changes(tr.step(0.0, [(k, 1)])) == [("opened", k)]
    assert changes(tr.step(5.0, [(k, 2)])) == [("updated", k)]
    assert changes(tr.step(10.0, [])) == []  # a missed report: still open
    assert changes(tr.step(15.0, [(k, 3)])) == [("updated", k)]  # the same episode
    assert changes(tr.step(20.0, [])) == [] and changes(tr.step(25.0, [])) == []
    (closed,) = tr.step(30.0, [])  # 15 s unseen > 10 s
    assert closed.change is EpisodeChange.CLOSED and closed.time_s == 30.0
    ep = closed.episode
    assert (ep.opened_s, ep.closed_s, ep.duration_s, ep.steps) == (0.0, 15.0, 15.0, 3)
    assert (ep.first, ep.latest) == (1, 3)
    assert changes(tr.step(35.0, [(k, 4)])) == [("opened", k)]  # a new episode
    assert changes(tr.close_all(40.0)) == [("closed", k)] and not tr.open


def test_tracker_refuses_a_bad_gap():
    with pytest.raises(ValidationError):
        EpisodeTracker(clear_after_s=float("nan"))


def head_on(tmp_path: Path) -> Path:
    """Two aircraft of two parties, head-on at the same level 60 km apart at 200 m/s each, then
    (after they pass) diverging: one conflict episode that ends when they are apart."""
    header = "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,baroaltitude,party\n"
    rows = []
    for t in range(0, 400, 5):
        # closing speed 400 m/s: they meet at t = 150 s (1.5 NM lateral offset)
        ya = -30_000.0 + 200.0 * t
        yb = 30_000.0 - 200.0 * t
        rows.append(f"{t},aaaaaa,{48.0 + ya / 111_200:.6f},2.0,200,0,0,A,False,6000,blue")
        rows.append(f"{t},bbbbbb,{48.0 + yb / 111_200:.6f},2.0375,200,180,0,B,False,6000,red")
    path = tmp_path / "head-on.csv"
    path.write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_a_pair_that_meets_and_parts_is_one_episode_updated_then_closed(tmp_path):
    sv = read_state_vectors(head_on(tmp_path))
    events = []
    summary = replay(sv, on_event=events.append, options=ScanOptions(step_s=5.0))
    opened = [e for e in events if e.change is EpisodeChange.OPENED]
    closed = [e for e in events if e.change is EpisodeChange.CLOSED]
    assert len(opened) == 1 and len(closed) == 1 and summary.counts["conflict"] == 1
    assert summary.updates == sum(e.change is EpisodeChange.UPDATED for e in events) > 10
    ep = closed[0].episode
    assert ep.key == ("conflict", "aaaaaa", "bbbbbb")
    # alerted at the start (300 s look-ahead covers the meeting at 150 s), ended after they part
    assert ep.opened_s == 0.0 and 150.0 < ep.closed_s < 399.0 and closed[0].time_s > ep.closed_s
    assert summary.episodes == [ep]
    for e in events:
        assert e.episode.latest.data["tcpa_s"] >= 0.0  # never a negative time to CPA
    assert ep.latest.data["los"]  # they were within 1.5 NM when last seen in conflict


def test_paris_slice_every_episode_is_closed_once(tmp_path):
    sv = read_state_vectors(PARIS)
    events = []
    summary = replay(sv, start_s=START, end_s=START + 1200, on_event=events.append)
    opened = [e.episode for e in events if e.change is EpisodeChange.OPENED]
    closed = [e.episode for e in events if e.change is EpisodeChange.CLOSED]
    assert opened and sorted(map(id, opened)) == sorted(map(id, closed))
    assert len(summary.alerts) == len(opened) == len(summary.episodes)
    by_key: dict[tuple[str, ...], list] = {}
    for ep in closed:
        by_key.setdefault(ep.key, []).append(ep)
    for eps in by_key.values():  # episodes of one key never overlap and are apart by the gap
        eps.sort(key=lambda e: e.opened_s)
        for a, b in itertools.pairwise(eps):
            assert b.opened_s - a.closed_s > 30.0
    assert all(e.episode.latest.data.get("tcpa_s", 0.0) >= 0.0 for e in events)


@settings(max_examples=100, deadline=None)
@given(scans=st.lists(st.sets(st.sampled_from("abcd")), max_size=40),
       gap=st.sampled_from([0.0, 5.0, 12.0, 30.0]))
def test_tracker_events_per_key_are_opened_updated_closed(scans, gap):
    """Any sequence of scans 5 s apart: per key, events alternate opened, updated..., closed;
    every episode is closed by the end; an episode spans only scans where its key was seen,
    and a key unseen for more than the gap has been closed."""
    tr = EpisodeTracker(clear_after_s=gap)
    events = []
    for k, keys in enumerate(scans):
        events += tr.step(5.0 * k, [((key,), k) for key in sorted(keys)])
        for key, ep in tr.open.items():
            assert 5.0 * k - ep.last_seen_s <= gap
            assert key[0] in scans[int(ep.last_seen_s / 5.0)]
    events += tr.close_all(5.0 * len(scans))
    assert not tr.open
    by_key: dict[tuple[str, ...], list[str]] = {}
    for e in events:
        by_key.setdefault(e.episode.key, []).append(e.change.value)
    for changes_of_key in by_key.values():
        text = " ".join(changes_of_key)
        for episode in text.split("closed")[:-1]:
            assert episode.split()[0] == "opened" and set(episode.split()[1:]) <= {"updated"}
        assert text.endswith("closed")
    seen_steps = sum(len(keys) for keys in scans)
    assert sum(e.change is not EpisodeChange.CLOSED for e in events) == seen_steps


def test_a_snapshot_met_twice_is_detected_once(tmp_path):
    from truceline.engines.tactical import StateBasedDetector
    from truceline.service.replay import RepeatingDetector

    calls = []

    class Counting:
        def detect(self, batch):
            calls.append(len(batch))
            return StateBasedDetector().detect(batch)

    path = head_on(tmp_path)
    lines = path.read_text(encoding="utf-8").splitlines()
    # a 10 s grid (as the full-day benchmark's file), replayed every 5 s
    path.write_text("\n".join([lines[0]] + [x for x in lines[1:] if int(x.split(",")[0]) % 10 == 0]) + "\n",
                    encoding="utf-8")
    steps = list(read_state_vectors(path).snapshots(5.0))
    detector = RepeatingDetector(Counting())
    for _, batch in steps:
        found = detector.detect(batch)
        plain = StateBasedDetector().detect(batch)
        assert found.pair_set() == plain.pair_set() and (found.tcpa_s == plain.tcpa_s).all()
    assert len(calls) == (len(steps) + 1) // 2  # each snapshot is met twice, detected once
