"""Geodesy: circle approximations, densification, frames."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from geo_strategies import centres, radii_m
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.geo import geodesy


def test_distance_of_one_degree_of_latitude():
    # WGS84 meridian arc from 33° to 34° N (tables: 110,852 m per degree at 30°, 110,941 m at 35°)
    assert geodesy.distance_m(36, 33, 36, 34) == pytest.approx(110_913.0, abs=2.0)


def test_vertex_count_from_sagitta():
    assert geodesy.circle_vertex_count(1000.0, 1.0) == 71
    n = geodesy.circle_vertex_count(55_000.0, 1.0)
    assert 55_000.0 * (1 - math.cos(math.pi / n)) <= 1.0 < 55_000.0 * (1 - math.cos(math.pi / (n - 1)))
    assert geodesy.circle_vertex_count(1.0, 5.0) == 8


@settings(max_examples=40, deadline=None)
@given(centres(), radii_m(low_m=20.0, high_m=120_000.0), st.sampled_from([0.01, 0.1, 1.0, 10.0]))
def test_circle_polygon_stays_within_tolerance(centre, radius_m, tolerance_m):
    lons, lats = geodesy.circle_points(*centre, radius_m, tolerance_m)
    # vertices ON the circle
    assert np.allclose(geodesy.distances_m(*centre, lons, lats), radius_m, rtol=0, atol=1e-6)
    # points along each (geodesic) edge: inside the circle, by at most the tolerance
    nxt = np.roll(np.arange(len(lons)), -1)
    az, _, dist = geodesy.GEOD.inv(lons, lats, lons[nxt], lats[nxt])
    for frac in (0.25, 0.5, 0.75):
        plon, plat, _ = geodesy.GEOD.fwd(lons, lats, az, np.asarray(dist) * frac)
        d = geodesy.distances_m(*centre, np.asarray(plon), np.asarray(plat))
        assert (d <= radius_m + 1e-6).all()
        # 1e-3 relative slack: the sagitta formula is planar, the edge is a geodesic
        assert (d >= radius_m - tolerance_m * 1.001 - 1e-6).all()


@settings(max_examples=30, deadline=None)
@given(
    centres(),
    st.floats(0, 360),
    st.floats(1_000.0, 300_000.0),
    st.floats(0, 360),
    st.floats(0.0, 200_000.0),
)
def test_densified_edge_stays_within_the_geodesic(start, azimuth, length_m, frame_az, frame_dist_m):
    """Chords between densified points, drawn straight in a frame centred up to the distance
    the spacing was chosen for, stay within 1 mm of the projected geodesic."""
    lon1, lat1, _ = geodesy.GEOD.fwd(*start, azimuth, length_m)
    lons = np.array([start[0], lon1, start[0]])
    lats = np.array([start[1], lat1, start[1]])
    reach_m = frame_dist_m + length_m
    spacing = geodesy.densify_spacing_m(reach_m)
    dl, dt, edge = geodesy.densify(lons, lats, spacing)
    first = dl[:-1][edge == 0], dt[:-1][edge == 0]
    n = len(first[0])
    pts_lon = np.append(first[0], lon1)
    pts_lat = np.append(first[1], lat1)
    f_lon, f_lat, _ = geodesy.GEOD.fwd(start[0], start[1], frame_az, frame_dist_m)
    xs, ys = geodesy.to_frame(float(f_lon), float(f_lat), pts_lon, pts_lat)
    worst = 0.0
    for k in range(min(n, 12)):  # a dozen segments is plenty for a property test
        # the true geodesic between the two densified points, finely sampled and projected
        fine = np.array(
            [
                (pts_lon[k], pts_lat[k]),
                *geodesy.GEOD.npts(pts_lon[k], pts_lat[k], pts_lon[k + 1], pts_lat[k + 1], 64),
                (pts_lon[k + 1], pts_lat[k + 1]),
            ]
        )
        fx, fy = geodesy.to_frame(float(f_lon), float(f_lat), fine[:, 0], fine[:, 1])
        curve = shapely.LineString(np.column_stack([fx, fy]))
        chord = shapely.LineString([(xs[k], ys[k]), (xs[k + 1], ys[k + 1])])
        worst = max(worst, shapely.hausdorff_distance(chord, curve))
    assert worst <= geodesy.CHORD_TOLERANCE_M
    # every densified point is on the geodesic
    whole = geodesy.distance_m(start[0], start[1], lon1, lat1)
    via = geodesy.distances_m(start[0], start[1], pts_lon, pts_lat) + geodesy.distances_m(
        float(lon1), float(lat1), pts_lon, pts_lat
    )
    assert np.allclose(via, whole, atol=1e-6)


def test_densify_keeps_vertices_and_maps_segments_to_edges():
    lons = np.array([36.0, 37.0, 37.0, 36.0])
    lats = np.array([33.0, 33.0, 33.01, 33.0])
    dl, dt, edge = geodesy.densify(lons, lats, 10_000.0)
    assert (dl[0], dt[0]) == (36.0, 33.0) and (dl[-1], dt[-1]) == (36.0, 33.0)
    assert len(edge) == len(dl) - 1 and edge[0] == 0 and edge[-1] == 2
    assert set(edge.tolist()) == {0, 1, 2}


@settings(max_examples=30, deadline=None)
@given(centres(), centres())
def test_frame_is_exact_from_the_centre_and_round_trips(c, p):
    x, y = geodesy.to_frame(*c, np.array([p[0]]), np.array([p[1]]))
    assert math.hypot(x[0], y[0]) == pytest.approx(geodesy.distance_m(*c, *p), abs=1e-6)
    lon, lat = geodesy.from_frame(*c, x, y)
    assert lon[0] == pytest.approx(p[0], abs=1e-9) and lat[0] == pytest.approx(p[1], abs=1e-9)
