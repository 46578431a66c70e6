"""The picture sweeps out its silent tracks on an offer at most once a second, and drops a
silent state it meets on the spot: what it takes, refuses and shows is exactly what a sweep
before every offer gives (hypothesis, against a picture that sweeps every time)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.track import Track
from truceline.geo.altitude import AltitudeReference
from truceline.service import tracks as tracks_module
from truceline.service.tracks import TrackPicture

IDS = ["a1", "a2", "b1"]
Batches = list[tuple[float, list[tuple[str, str, float]]]]  # (clock step, [(id, party, report time)])


def _track(track_id: str, party: str, t: float) -> Track:
    return Track(track_id, party, t, 35.0, 36.0, 3000.0, AltitudeReference.AMSL, 200.0, 90.0, 0.0, False)


offers = st.lists(
    st.tuples(
        st.floats(0.0, 40.0),  # how far the clock moved since the previous offer
        st.lists(st.tuples(st.sampled_from(IDS), st.sampled_from(["A", "B"]), st.floats(-70.0, 5.0)),
                 min_size=1, max_size=4),  # (id, party, report time relative to the clock)
    ),
    min_size=1, max_size=25,
)


def _run(batches: Batches) -> list[object]:
    picture, now, seen = TrackPicture(max_age_s=30.0), 1000.0, []
    for step, rows in batches:
        now += step
        offered = [(k, _track(i, p, now + dt), "") for k, (i, p, dt) in enumerate(rows)]
        refused = picture.offer(offered, now)
        seen.append(([(r.index, r.field, r.reason) for r in refused],
                     [(t.track.id, t.track.party, t.track.time_s, t.trail) for t in picture.live(now)]))
    return seen


@settings(max_examples=200, deadline=None)
@given(offers)
def test_the_sparse_sweep_takes_refuses_and_shows_as_a_sweep_before_every_offer(batches: Batches) -> None:
    sparse = _run(batches)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tracks_module, "SWEEP_EVERY_S", 0.0)
        every_time = _run(batches)
    assert sparse == every_time
