"""The shipped EGM96 grid against PROJ's egm96_15.gtx (Debian proj-data) and pyproj: within
0.5 m (in fact 0.01 m) at random points; and height_range's extremes are exact."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.geo.geoid import GEOID_MARGIN_M, egm96

GTX = Path("/usr/share/proj/egm96_15.gtx")
needs_gtx = pytest.mark.skipif(
    not GTX.exists(), reason="needs Debian proj-data (egm96_15.gtx); .ci/run installs it"
)

lons = st.floats(-180.0, 180.0, allow_nan=False)
lats = st.floats(-90.0, 90.0, allow_nan=False)


def _gtx_bilinear(lon: float, lat: float) -> float:
    """PROJ's egm96_15.gtx read afresh here (independent of geo.geoid), bilinear like PROJ."""
    raw = GTX.read_bytes()
    south, west, dlat, dlon = struct.unpack(">4d", raw[:32])
    rows, cols = struct.unpack(">2i", raw[32:40])
    g = np.frombuffer(raw[40:], dtype=">f4").reshape(rows, cols).astype(np.float64)
    y = (lat - south) / dlat
    x = ((lon - west) % 360.0) / dlon
    i = min(int(np.floor(y)), rows - 2)
    j = int(np.floor(x)) % cols
    fy, fx = y - i, x - np.floor(x)
    j1 = (j + 1) % cols
    return float(
        g[i, j] * (1 - fy) * (1 - fx) + g[i, j1] * (1 - fy) * fx
        + g[i + 1, j] * fy * (1 - fx) + g[i + 1, j1] * fy * fx
    )


@needs_gtx
@settings(max_examples=300, deadline=None)
@given(lons, lats)
def test_shipped_grid_is_within_half_a_metre_of_egm96_15(lon, lat):
    assert abs(float(egm96().height_m(lon, lat)) - _gtx_bilinear(lon, lat)) <= 0.01 < GEOID_MARGIN_M


@needs_gtx
def test_agrees_with_pyproj_through_proj_data():
    pyproj = pytest.importorskip("pyproj")
    pyproj.datadir.append_data_dir(str(GTX.parent))
    t = pyproj.Transformer.from_crs("EPSG:4979", "EPSG:4326+5773", always_xy=True)
    rng = np.random.default_rng(12)
    lon, lat = rng.uniform(-180, 180, 400), rng.uniform(-89, 89, 400)
    _, _, amsl = t.transform(lon, lat, np.zeros_like(lon))
    if not np.all(np.isfinite(amsl)):
        pytest.skip("pyproj did not find egm96_15.gtx")
    assert np.max(np.abs(egm96().height_m(lon, lat) - (-amsl))) <= GEOID_MARGIN_M


def test_known_heights():
    # Geneva about 49.8 m (PROJ: 49.785); Dnipro about +20 m; the Indian Ocean low about -107 m
    assert float(egm96().height_m(6.17, 46.21)) == pytest.approx(49.78, abs=0.05)
    assert float(egm96().height_m(35.05, 48.46)) == pytest.approx(20.09, abs=0.05)
    assert float(egm96().height_m(78.75, 4.75)) < -100.0


@settings(max_examples=100, deadline=None)
@given(lons, st.floats(-85.0, 84.0), st.floats(0.001, 3.0), st.floats(0.001, 3.0), st.floats(0, 1),
       st.floats(0, 1))
def test_height_range_bounds_every_point_inside(lon, lat, w, h, fx, fy):
    box = (lon, lat, lon + w, lat + h)
    low, high = egm96().height_range(box)
    inside = float(egm96().height_m(lon + fx * w, lat + fy * h))
    assert low - 1e-9 <= inside <= high + 1e-9
    # and the extremes are reached (they are values of the surface in the box)
    dense_lon, dense_lat = np.meshgrid(np.linspace(lon, lon + w, 60), np.linspace(lat, lat + h, 60))
    dense = egm96().height_m(dense_lon, dense_lat)
    assert low <= dense.min() + 1e-9 and dense.max() <= high + 1e-9
    assert dense.min() - low <= 0.2 and high - dense.max() <= 0.2


def test_height_range_across_the_antimeridian():
    low, high = egm96().height_range((179.9, 10.0, 180.1, 10.1))
    for lon in (179.95, -179.95):
        assert low <= float(egm96().height_m(lon, 10.05)) <= high
