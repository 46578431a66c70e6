"""Corridors along a route (geo/corridor.py): every route point at its time is inside the
piece travelled then; every point within the half-width is inside the corridor; a point a
little beyond the stated tolerance is outside; bad routes are refused, naming the waypoint."""

from __future__ import annotations

import pytest
from geo_strategies import centres
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.errors import GeometryError
from truceline.geo import geodesy
from truceline.geo.corridor import CorridorPiece, corridor_pieces, position_at
from truceline.geo.volume import point_in_shape


@st.composite
def routes(draw: st.DrawFn) -> tuple[list[tuple[float, float]], list[float]]:
    """2 to 4 waypoints, legs 200 m to 30 km in any direction, each taking 1 min to 3 h."""
    lon, lat = draw(centres())
    route, times = [(lon, lat)], [0.0]
    for _ in range(draw(st.integers(1, 3))):
        azimuth = draw(st.floats(0, 360))
        length = draw(st.floats(200.0, 30_000.0))
        lon2, lat2, _ = geodesy.GEOD.fwd(route[-1][0], route[-1][1], azimuth, length)
        route.append((float(lon2), float(lat2)))
        times.append(times[-1] + draw(st.floats(60.0, 10_800.0)))
    return route, times


def _held_at(pieces: list[CorridorPiece], at_s: float) -> list[CorridorPiece]:
    return [p for p in pieces if p.start_s <= at_s <= p.end_s]


@settings(max_examples=40)
@given(routes(), st.floats(20.0, 3_000.0), st.floats(0.0, 1.0))
def test_every_route_point_at_its_time_is_inside_the_piece_travelled_then(route, corridor_m, f) -> None:
    waypoints, times = route
    pieces = corridor_pieces(waypoints, times, corridor_m)
    at_s = times[0] + f * (times[-1] - times[0])
    where = position_at(waypoints, times, at_s)
    assert where is not None
    held = _held_at(pieces, at_s)
    assert held, "no piece is held at that time"
    assert any(point_in_shape(*where, p.polygon) for p in held)


@settings(max_examples=60)
@given(routes(), st.floats(20.0, 3_000.0), st.floats(0.0, 1.0), st.floats(0.0, 360.0), st.booleans())
def test_every_point_within_the_half_width_is_inside_the_corridor(
    route, corridor_m, f, azimuth, square
) -> None:
    # 1 cm inside the half-width, square off the route (where a corridor drawn too narrow
    # fails first) or in any direction (the round ends).
    waypoints, times = route
    pieces = corridor_pieces(waypoints, times, corridor_m)
    span = times[-1] - times[0]
    at_s = times[0] + f * span
    lon, lat = position_at(waypoints, times, at_s)  # type: ignore[misc]
    if square:
        step = 1e-4 * span
        ahead = position_at(waypoints, times, min(at_s + step, times[-1]))
        behind = position_at(waypoints, times, max(at_s - step, times[0]))
        heading, _, _ = geodesy.GEOD.inv(*behind, *ahead)  # type: ignore[misc]
        azimuth = heading + (90.0 if azimuth < 180.0 else -90.0)
    off_lon, off_lat, _ = geodesy.GEOD.fwd(lon, lat, azimuth, corridor_m - 0.01)
    assert any(point_in_shape(float(off_lon), float(off_lat), p.polygon) for p in pieces)


@settings(max_examples=30)
@given(
    centres(), st.floats(0, 360), st.floats(1_000.0, 20_000.0), st.floats(20.0, 3_000.0), st.floats(0.1, 0.9)
)
def test_a_point_beyond_the_tolerance_is_outside(centre, azimuth, length, corridor_m, f) -> None:
    # One leg: a point found by going square off the route at a fraction of its length.
    lon1, lat1 = centre
    lon2, lat2, _ = geodesy.GEOD.fwd(lon1, lat1, azimuth, length)
    pieces = corridor_pieces([(lon1, lat1), (float(lon2), float(lat2))], [0.0, 3600.0], corridor_m)
    mid_lon, mid_lat, back = geodesy.GEOD.fwd(lon1, lat1, azimuth, f * length)
    beyond = corridor_m * 1.006 + 2.0  # the documented bound: 0.5 % of the half-width + 1 m
    out_lon, out_lat, _ = geodesy.GEOD.fwd(mid_lon, mid_lat, back + 90.0, beyond)
    assert not any(point_in_shape(float(out_lon), float(out_lat), p.polygon) for p in pieces)


def test_pieces_follow_the_schedule() -> None:
    lon2, lat2, _ = geodesy.GEOD.fwd(36.0, 35.0, 90.0, 12_000.0)
    pieces = corridor_pieces([(36.0, 35.0), (float(lon2), float(lat2))], [0.0, 3000.0], 100.0)
    assert [(round(p.start_s), round(p.end_s)) for p in pieces] == [(0, 1000), (1000, 2000), (2000, 3000)]


@pytest.mark.parametrize(
    ("route", "times", "field"),
    [
        ([(36.0, 35.0), (36.0, 35.0)], [0.0, 60.0], "coordinates[1]"),
        ([(36.0, 35.0), (36.1, 35.0)], [60.0, 60.0], "times[1]"),
        ([(36.0, 35.0)], [0.0], "coordinates"),
    ],
)
def test_bad_routes_name_the_fault(route, times, field) -> None:
    with pytest.raises(GeometryError) as raised:
        corridor_pieces(route, times, 100.0)
    assert raised.value.field == field
