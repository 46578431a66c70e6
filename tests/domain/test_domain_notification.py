"""Humanitarian notifications (domain/notification.py, io/notifications.py): a movement's
volumes hold every route point at its time, with the margin; a site's circle is its
protection area; records and GeoJSON Features read back to the same notification."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

# The geo tests' strategies (their folder is on the path when the whole suite runs).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "geo"))
from geo_strategies import centres

from truceline.domain.notification import (
    Movement,
    Notification,
    Site,
    notification_from_record,
    notification_to_record,
)
from truceline.geo import geodesy
from truceline.geo.volume import point_in_shape
from truceline.io.notifications import notification_feature, read_notification

DEPARTURE = datetime(2017, 7, 12, 8, 0, tzinfo=UTC)


@st.composite
def movements(draw: st.DrawFn) -> Movement:
    lon, lat = draw(centres())
    route, times = [(lon, lat)], [DEPARTURE]
    for _ in range(draw(st.integers(1, 3))):
        azimuth, length = draw(st.floats(0, 360)), draw(st.floats(300.0, 20_000.0))
        lon2, lat2, _ = geodesy.GEOD.fwd(*route[-1], azimuth, length)
        route.append((float(lon2), float(lat2)))
        times.append(times[-1] + timedelta(seconds=draw(st.integers(60, 7200))))
    return Movement(
        tuple(route), tuple(times), draw(st.floats(25.0, 2_000.0)), draw(st.integers(0, 3600)),
        draw(st.none() | st.integers(0, 50)), draw(st.sampled_from(["", "white, blue emblem"])),
        draw(st.booleans()),
    )  # fmt: skip


def _notification(subject: Movement | Site, **kwargs: object) -> Notification:
    return Notification("n-1", "WFP", "Convoy 7", "WFP", subject, **kwargs)  # type: ignore[arg-type]


@settings(max_examples=30)
@given(movements(), st.floats(0.0, 1.0), st.floats(-1.0, 1.0))
def test_a_movement_volume_holds_every_route_point_at_its_time(movement, f, early) -> None:
    notification = _notification(movement)
    span = (movement.arrival - movement.departure).total_seconds()
    at = movement.departure + timedelta(seconds=f * span)
    where = movement.position_at(at)
    assert where is not None
    # Early or late by up to the margin, the point the convoy was to be at is still covered.
    shifted = at + timedelta(seconds=early * movement.time_margin_s * 0.999)
    held = [v for v in notification.volumes() if v.time.start <= shifted < v.time.end]
    assert any(point_in_shape(*where, v.shape) for v in held)
    assert notification.in_force_near(shifted, *where, 0.0)


@settings(max_examples=30)
@given(movements())
def test_a_movement_is_out_of_force_outside_its_window(movement) -> None:
    notification = _notification(movement)
    after = movement.arrival + timedelta(seconds=movement.time_margin_s + 1)
    assert not notification.in_force_near(after, *movement.route[-1], 0.0)
    before = movement.departure - timedelta(seconds=movement.time_margin_s + 1)
    assert not notification.in_force_near(before, *movement.route[0], 0.0)


@settings(max_examples=30)
@given(movements(), st.booleans())
def test_records_and_features_read_back_unchanged(movement, restricted) -> None:
    notification = _notification(movement, parties=("A",) if restricted else (), acknowledge_within_s=600)
    assert notification_from_record(notification_to_record(notification)) == notification
    assert read_notification(notification_feature(notification), "WFP", "n-1") == notification


def test_a_site_protects_its_radius_while_valid() -> None:
    site = Site((36.2, 36.2), "hospital", 300.0, DEPARTURE, DEPARTURE + timedelta(days=30))
    notification = _notification(site)
    inside_lon, inside_lat, _ = geodesy.GEOD.fwd(36.2, 36.2, 45.0, 299.0)
    outside_lon, outside_lat, _ = geodesy.GEOD.fwd(36.2, 36.2, 45.0, 301.0)
    at = DEPARTURE + timedelta(days=1)
    assert notification.in_force_near(at, float(inside_lon), float(inside_lat), 0.0)
    assert not notification.in_force_near(at, float(outside_lon), float(outside_lat), 0.0)
    assert notification.in_force_near(at, float(outside_lon), float(outside_lat), 2.0)  # the query's radius
    assert not notification.in_force_near(DEPARTURE + timedelta(days=30), 36.2, 36.2, 0.0)  # ended
    assert notification_from_record(notification_to_record(notification)) == notification
    (volume,) = notification.volumes()
    assert volume.altitude.lower_m == float("-inf") and volume.altitude.upper_m == notification.ceiling_m
