"""Humanitarian proximity in the live scan: a track of another party inside, or about to enter,
a notified site's protection radius or a movement's corridor (at its time) is an alert told to
both sides, in each reader's language; the notifier's own tracks, tracks above the ceiling,
outside the time and altitudes that cannot be compared are not."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from service_kit import Desk

from truceline.domain.notification import Movement, Notification, Site, SiteType
from truceline.domain.track import Track, TrackBatch
from truceline.engines.tactical import EpisodeChange
from truceline.geo.altitude import AltitudeReference
from truceline.geo.geodesy import GEOD
from truceline.service import notifications
from truceline.service.live_detection import AlertKind, LiveDetection
from truceline.service.proximity import proximity_findings
from truceline.service.tracks import TrackPicture, submit_json

T0 = 1_499_673_600.0  # 2017-07-10 08:00 UTC
NOW = datetime(2017, 7, 10, 8, 0, tzinfo=UTC)
HOSPITAL = (36.0, 35.0)
M_PER_DEG_LAT = 110_946.0  # near 35° N, within 0.1 %


SINCE = datetime(2017, 7, 1, tzinfo=UTC)


def hospital(radius_m: float = 5000.0, valid_from: datetime = SINCE) -> Notification:
    site = Site(HOSPITAL, SiteType.HOSPITAL, radius_m, valid_from)
    return Notification("0195b0f0-0000-7000-8000-000000000001", "MSF", "Al-Quds hospital", "MSF", site,
                        ceiling_m=2000.0)


def convoy() -> Notification:
    route = ((36.0, 35.0), (36.5, 35.0))
    times = (datetime(2017, 7, 10, 8, 0, tzinfo=UTC), datetime(2017, 7, 10, 10, 0, tzinfo=UTC))
    return Notification("0195b0f0-0000-7000-8000-000000000002", "WFP", "Convoy 7", "WFP",
                        Movement(route, times, 500.0, 600), ceiling_m=1000.0)


def track(track_id: str, party: str, lon: float, lat: float, *, alt_m: float = 500.0, heading: float = 0.0,
          speed: float = 0.0, ref: AltitudeReference | None = AltitudeReference.AMSL) -> Track:
    return Track(track_id, party, T0, lat, lon, alt_m, ref, speed, heading, 0.0, False)


def found(tracks: list[Track], *notes: Notification) -> list[tuple[Any, ...]]:
    result = proximity_findings(TrackBatch.from_tracks(tracks), T0, notes)
    return [(f.kind.value, f.subject[0], f.stage, f.parties) for f in result.findings]


def test_a_track_of_another_party_inside_the_protection_radius_is_found_and_told_to_both() -> None:
    near = track("a1", "A", 36.0, 35.0 + 2000 / M_PER_DEG_LAT)
    assert found([near], hospital()) == [("proximity", "a1", "inside", ("A", "MSF"))]


def test_a_track_flying_at_the_site_is_found_entering_within_the_lookahead() -> None:
    # 20 km south, 200 m/s north: it reaches the 5 km radius in about 75 s (< 300 s look-ahead).
    inbound = track("a1", "A", 36.0, 35.0 - 20000 / M_PER_DEG_LAT, speed=200.0)
    result = proximity_findings(TrackBatch.from_tracks([inbound]), T0, [hospital()])
    (finding,) = result.findings
    assert finding.stage == "entering" and finding.data["entry_s"] == pytest.approx(75.0, abs=2.0)
    # Flying away, it is no concern.
    outbound = track("a1", "A", 36.0, 35.0 - 20000 / M_PER_DEG_LAT, speed=200.0, heading=180.0)
    assert found([outbound], hospital()) == []


def test_the_notifiers_own_tracks_above_the_ceiling_and_before_the_site_are_not_found() -> None:
    inside = (36.0, 35.0 + 1000 / M_PER_DEG_LAT)
    assert found([track("msf1", "MSF", *inside)], hospital()) == []  # its own vehicle
    assert found([track("a1", "A", *inside, alt_m=2500.0)], hospital()) == []  # above its 2,000 m ceiling
    later = hospital(valid_from=datetime(2017, 7, 11, tzinfo=UTC))
    assert found([track("a1", "A", *inside)], later) == []  # not in force yet


def test_a_pressure_altitude_is_not_compared_with_the_amsl_band_but_counted() -> None:
    inside = track("a1", "A", 36.0, 35.0, ref=None)
    result = proximity_findings(TrackBatch.from_tracks([inside]), T0, [hospital()])
    assert result.findings == [] and result.incomparable == 1


def test_a_track_in_a_movements_corridor_at_its_time_is_found() -> None:
    on_route = track("a1", "A", 36.02, 35.0 + 200 / M_PER_DEG_LAT)  # 200 m off the route at 08:00
    off_route = track("a2", "A", 36.02, 35.0 + 3000 / M_PER_DEG_LAT)
    assert found([on_route, off_route], convoy()) == [("proximity", "a1", "inside", ("A", "WFP"))]


@settings(max_examples=40, deadline=None)
@given(bearing=st.floats(0, 360), distance_m=st.floats(0, 20000))
def test_a_still_track_is_found_exactly_when_within_the_radius(bearing: float, distance_m: float) -> None:
    radius_m = 5000.0
    if abs(distance_m - radius_m) < 5.0:
        return  # the polygon approximation of the circle is within its tolerance of the edge
    lon, lat, _back = GEOD.fwd(*HOSPITAL, bearing, distance_m)
    hits = found([track("a1", "A", float(lon), float(lat))], hospital(radius_m))
    assert bool(hits) == (distance_m < radius_m)


# --- through the service: the alert, its message in each language, its closing ------------


@pytest.fixture
def desk(tmp_path: Path, clock) -> Iterator[Desk]:  # type: ignore[no-untyped-def]
    d = Desk(tmp_path, clock)
    d.add("A", language="fr")
    d.add("MSF", "humanitarian", language="ar")
    yield d
    d.close()


def _state(track_id: str, t: float, lat: float) -> dict[str, Any]:
    return {"id": track_id, "time": t, "lat": lat, "lon": 36.0, "alt_m": 500.0, "alt_ref": "AMSL",
            "velocity": 0.0, "heading": 0.0, "vertrate": 0.0}


def test_live_detection_opens_a_proximity_alert_told_to_both_sides_and_closes_it(desk: Desk) -> None:
    site = {"type": "Feature", "geometry": {"type": "Point", "coordinates": list(HOSPITAL)},
            "properties": {"name": "Al-Quds hospital", "organisation": "MSF", "site_type": "hospital",
                           "protection_radius_m": 3000, "valid_from": "2017-07-01T00:00:00Z"}}
    notifications.submit(desk.service, desk["MSF"], site)
    picture = TrackPicture()
    live = LiveDetection(desk.service, picture)
    t = T0
    submit_json(picture, desk["A"], [_state("a1", t, 35.0 + 1000 / M_PER_DEG_LAT)], NOW)
    (opened,) = live.tick(NOW).events
    assert opened.change is EpisodeChange.OPENED and opened.finding.kind is AlertKind.PROXIMITY
    assert opened.finding.parties == ("A", "MSF") and opened.finding.stage == "inside"
    texts = _alert_texts(desk)
    assert any("Proximité humanitaire" in text and "a1" in text for lang, text in texts if lang == "fr")
    assert any("قرب إنساني" in text for lang, text in texts if lang == "ar")
    # The track leaves (reported far away): the alert closes at the first scan more than
    # clear_after_s (6 s) after it was last found, i.e. at +8 s.
    changes = []
    for k in range(1, 6):
        later = datetime.fromtimestamp(t + 2 * k, UTC)
        submit_json(picture, desk["A"], [_state("a1", t + 2 * k, 36.0)], later)
        changes += [(2 * k, e.change, e.alert_id) for e in live.tick(later).events]
    assert changes == [(8, EpisodeChange.CLOSED, opened.alert_id)]
    assert desk.entry_types().count("alert.opened") == 1 and desk.entry_types().count("alert.closed") == 1


def _alert_texts(desk: Desk) -> list[tuple[str, str]]:
    """(language, text) of every alert message in A's (French) and MSF's (Arabic) inboxes."""
    from truceline.service import hotline

    return [(m.language, m.text) for name in ("A", "MSF")
            for m in hotline.inbox(desk.service, desk[name], desk[name].language)
            if m.about and m.about.get("kind") == "alert"]
