"""The live scan as a pure step (a picture and a time in, alert events out), the row parser of
track batches (hypothesis), and a restarted detector that resumes its open alerts."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from service_kit import Desk, square
from service_kit import zone as service_zone

from truceline.domain.party import Role
from truceline.domain.track import Track, TrackBatch
from truceline.engines.tactical import EpisodeChange
from truceline.geo.altitude import AltitudeReference
from truceline.io.geojson import read_zones
from truceline.service.auth import Principal
from truceline.service.live_detection import LiveDetection, LiveScanner, LiveSettings, alert_id_for
from truceline.service.tracks import TrackPicture, submit_json

T0 = 1_499_673_600.0  # 2017-07-10 08:00 UTC
NOW = datetime(2017, 7, 10, 8, 0, tzinfo=UTC)
KM_PER_DEG_LAT = 111.2


def track(track_id: str, party: str, t: float, lat: float, heading: float = 0.0,
          ref: AltitudeReference | None = AltitudeReference.AMSL) -> Track:
    return Track(track_id, party, t, lat, 36.0, 3000.0, ref, 200.0, heading, 0.0, False)


def pair(t: float, gap_km: float) -> TrackBatch:
    """Two tracks of two parties flying at each other, ``gap_km`` apart."""
    north = 35.0 + gap_km / KM_PER_DEG_LAT
    return TrackBatch.from_tracks([track("a1", "A", t, 35.0), track("b1", "B", t, north, 180)])


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:  # type: ignore[no-untyped-def]
    d = Desk(tmp_path, clock)
    d.add("A")
    d.add("B")
    yield d
    d.close()


def test_the_scan_opens_once_tells_a_change_of_stage_and_closes_after_the_gap() -> None:
    scanner = LiveScanner(LiveSettings(clear_after_s=6.0, update_every_s=30.0))
    changes = []
    for k, gap_km in enumerate([20.0, 19.2, 18.4, 8.0, 7.2, 500.0, 500.0, 500.0, 500.0]):
        at = T0 + 2 * k
        batch = pair(at, gap_km) if gap_km < 100 else TrackBatch.from_tracks(
            [track("a1", "A", at, 30.0, 180), track("b1", "B", at, 40.0)])
        changes += [(k, e.change.value, e.finding.stage) for e in scanner.scan(batch, at).events]
    # Opened at the first scan; the loss of separation (scan 3) is told once; closed at the
    # first scan more than 6 s after it was last seen (scan 4 at +8 s, closed at scan 8, +16 s).
    assert changes == [(0, "opened", "predicted"), (3, "updated", "los"), (8, "closed", "los")]


def test_a_persisting_alert_is_told_again_only_every_update_every_s() -> None:
    scanner = LiveScanner(LiveSettings(update_every_s=10.0))
    told = []
    for k in range(12):
        at = T0 + 2 * k
        told += [(k, e.change.value) for e in scanner.scan(pair(at, 5.0), at).events]
    assert told == [(0, "opened"), (5, "updated"), (10, "updated")]


def test_the_alert_id_is_a_uuid7_of_the_opening_time_and_the_key() -> None:
    a = alert_id_for(("conflict", "a1", "b1"), T0)
    assert a == alert_id_for(("conflict", "a1", "b1"), T0) != alert_id_for(("conflict", "a1", "b2"), T0)
    assert a[14] == "7" and int(a.replace("-", "")[:12], 16) == int(T0 * 1000)


def test_pressure_altitudes_are_not_compared_with_zones_but_still_with_each_other() -> None:
    (zone,) = read_zones(service_zone("z", "A", square(35.5, 34.5, 36.5, 35.5)))
    a, b = track("a1", "A", T0, 35.0, ref=None), track("b1", "B", T0, 35.05, 180, ref=None)
    batch = TrackBatch.from_tracks([a, b])
    result = LiveScanner().scan(batch, T0, [zone])
    # The pair is in conflict (altitudes compared as given); B's track is not judged against the
    # AMSL zone: pressure altitude has no stand-in here, so the scan counts it instead of failing.
    assert [e.finding.kind.value for e in result.events] == ["conflict"]
    assert result.incomparable == 2


def test_a_restarted_detector_resumes_the_open_alert_and_closes_it(desk: Desk) -> None:
    picture = TrackPicture()
    live = LiveDetection(desk.service, picture)
    a, b = (_principal(desk, name) for name in ("A", "B"))
    t = _s(NOW)
    submit_json(picture, a, [_state("a1", t, 35.0)], NOW)
    submit_json(picture, b, [_state("b1", t, 35.0 + 20 / KM_PER_DEG_LAT, 180.0)], NOW)
    (opened,) = live.tick(NOW).events
    assert opened.change is EpisodeChange.OPENED
    # A new process on the same log: the alert is open in the store, so it is not opened again.
    restarted = LiveDetection(desk.service, picture)
    later = datetime.fromtimestamp(t + 4, UTC)
    submit_json(picture, a, [_state("a1", t + 4, 35.0 + 0.8 / KM_PER_DEG_LAT)], later)
    submit_json(picture, b, [_state("b1", t + 4, 35.0 + 19.2 / KM_PER_DEG_LAT, 180.0)], later)
    assert restarted.tick(later).events == []
    gone = datetime.fromtimestamp(t + 200, UTC)  # both silent past the picture's max age
    (closed,) = restarted.tick(gone).events
    assert (closed.change, closed.alert_id) == (EpisodeChange.CLOSED, opened.alert_id)
    assert desk.entry_types().count("alert.opened") == 1 and desk.entry_types().count("alert.closed") == 1


def _principal(desk: Desk, name: str) -> Principal:
    return desk[name]


def _s(moment: datetime) -> float:
    from truceline.domain.clock import to_epoch_s

    return to_epoch_s(moment)


def _state(track_id: str, t: float, lat: float, heading: float = 0.0) -> dict[str, Any]:
    return {"id": track_id, "time": t, "lat": lat, "lon": 36.0, "alt_m": 3000.0, "alt_ref": "AMSL",
            "velocity": 200.0, "heading": heading, "vertrate": 0.0}


_GOOD = st.fixed_dictionaries({
    "lat": st.floats(-90, 90), "lon": st.floats(-180, 180), "alt_m": st.floats(-400, 20000),
    "velocity": st.floats(0, 2000), "heading": st.floats(0, 360), "vertrate": st.floats(-500, 500),
})  # fmt: skip
_FAULTS = {
    "lat": st.one_of(st.floats(90.001, 1e9), st.just(math.nan), st.text(max_size=3)),
    "velocity": st.one_of(st.floats(-1e9, -0.001), st.floats(2000.001, 1e9), st.booleans()),
    "alt_ref": st.sampled_from(["QNH", "", "w84"]),
    "id": st.sampled_from(["", "a b", "x" * 65, "é"]),
}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_GOOD, st.one_of(st.none(), st.sampled_from(sorted(_FAULTS)))), min_size=1,
             max_size=12),
    st.data(),
)
def test_every_row_is_kept_or_refused_with_its_index_and_field(rows: list[Any], data: st.DataObject) -> None:
    states, expected = [], {}
    for i, (good, fault) in enumerate(rows):
        row = {"id": f"t{i}", "time": T0, "alt_ref": "W84", **good}
        if fault is not None:
            row[fault] = data.draw(_FAULTS[fault])
            expected[i] = fault
        states.append(row)
    picture = TrackPicture()
    result = submit_json(picture, Principal("p1", "A", Role.PARTY, "en"), states, NOW)
    assert {r.index: r.field for r in result.refused} == expected
    assert result.accepted == len(rows) - len(expected) == len(picture)


def test_a_pair_flickering_across_the_minimum_is_not_told_at_every_scan() -> None:
    scanner = LiveScanner(LiveSettings(update_every_s=30.0))
    told = []
    for k, gap_km in enumerate([8.0, 9.5, 8.0, 9.5, 8.0]):  # los, predicted, los, ...
        at = T0 + 2 * k
        told += [(k, e.change.value, e.finding.stage) for e in scanner.scan(pair(at, gap_km), at).events]
    assert told == [(0, "opened", "los")]
