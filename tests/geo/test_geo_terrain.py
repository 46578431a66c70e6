"""Terrain models for AGL (geo.terrain): SRTM .hgt tiles and a GeoTIFF, both generated here, and
AGL zones compared with AMSL/W84 plans through them; gaps and voids are errors naming the file."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone, ZoneRule
from truceline.engines.strategic import conflict_record, find_conflicts
from truceline.errors import AltitudeReferenceError, ValidationError
from truceline.geo.altitude import AltitudeBand, AltitudeModel, AltitudeReference
from truceline.geo.shapes import Circle
from truceline.geo.terrain import HGT_VOID, TERRAIN_MARGIN_M, open_terrain
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D

AGL, AMSL, W84 = AltitudeReference.AGL, AltitudeReference.AMSL, AltitudeReference.W84
SIDE = 121  # a 30" tile: the reader takes any square tile (SRTM's are 1201 or 3601 posts)
T0 = datetime(2024, 3, 1, 10, tzinfo=UTC)


def relief(side: int = SIDE) -> np.ndarray:
    """Heights rising east (0 .. 1200 m across the tile) with a 300 m hill, north row first."""
    lon = np.linspace(0.0, 1.0, side)[None, :]
    lat = np.linspace(1.0, 0.0, side)[:, None]
    hill = 300.0 * np.exp(-((lon - 0.5) ** 2 + (lat - 0.5) ** 2) / 0.01)
    return np.round(1200.0 * lon + hill + 0 * lat).astype(np.int16)


def write_hgt(folder: Path, name: str = "N46E006.hgt", heights: np.ndarray | None = None) -> Path:
    path = folder / name
    (relief() if heights is None else heights).astype(">i2").tofile(path)
    return path


def posts(heights: np.ndarray, west: float, north: float, box: tuple[float, float, float, float],
          beyond: float) -> np.ndarray:  # fmt: skip
    """The posts of a tile within ``beyond`` degrees of the box."""
    step = 1.0 / (heights.shape[0] - 1)
    lons = west + step * np.arange(heights.shape[1])
    lats = north - step * np.arange(heights.shape[0])
    x0, y0, x1, y1 = box
    cols = (lons >= x0 - beyond) & (lons <= x1 + beyond)
    rows = (lats >= y0 - beyond) & (lats <= y1 + beyond)
    return heights[np.ix_(rows, cols)]


@settings(max_examples=60, deadline=None)
@given(st.floats(6.0, 6.9), st.floats(46.0, 46.9), st.floats(0.001, 0.1), st.floats(0.001, 0.1))
def test_height_range_bounds_every_post_near_the_area(tmp_path_factory, x0, y0, w, h):
    folder = tmp_path_factory.mktemp("tiles")
    write_hgt(folder)
    box = (x0, y0, x0 + w, y0 + h)
    low, high = open_terrain(folder).height_range(box)
    inside = posts(relief(), 6.0, 47.0, box, 0.0)
    near = posts(relief(), 6.0, 47.0, box, 1.0 / (SIDE - 1) + 1e-9)
    # every post inside counts (and those of the cells the box touches), none further out
    if inside.size:
        assert low <= inside.min() and inside.max() <= high
    assert near.min() <= low and high <= near.max()


def agl_zone(lower_m: float = 0.0, upper_m: float = 150.0, centre=(6.5, 46.5)) -> Zone:
    volume = Volume4D(Circle(centre, 1_000.0), AltitudeBand(lower_m, upper_m, AGL), TimeWindow(T0, None))
    return Zone("lsxx-agl", "no_fly", (volume,), ZoneRule("all", "air", "forbidden"))


def plan(lower_m: float, upper_m: float, reference=AMSL, centre=(6.5, 46.5)) -> Operation:
    volume = Volume4D(Circle(centre, 300.0), AltitudeBand(lower_m, upper_m, reference),
                      TimeWindow(T0, T0 + timedelta(hours=1)))  # fmt: skip
    return Operation(f"p{lower_m:g}", "north", "air", (volume,))


def test_agl_zone_against_amsl_plans_through_the_terrain(tmp_path):
    write_hgt(tmp_path)
    model = AltitudeModel(terrain=open_terrain(tmp_path))
    (x0, y0, x1, y1) = (6.5 - 0.02, 46.5 - 0.02, 6.5 + 0.02, 46.5 + 0.02)
    _, high = model.terrain.height_range((x0, y0, x1, y1))
    # the zone reaches 150 m over the highest ground near the plan, plus the margin
    ceiling = high + 150.0 + TERRAIN_MARGIN_M
    under = plan(ceiling - 30.0, ceiling + 100.0)
    over = plan(ceiling + 30.0, ceiling + 100.0)
    found = find_conflicts([agl_zone()], [under, over], model)
    assert [c.a for c in found] == [under.id]
    record = conflict_record(found[0])
    assert record["altitude_conversion"] == "terrain" and record["altitude_reference"] == "AMSL"


def test_agl_zone_against_a_w84_plan_takes_terrain_and_geoid(tmp_path):
    write_hgt(tmp_path)
    model = AltitudeModel(terrain=open_terrain(tmp_path / "N46E006.hgt"))
    (conflict,) = find_conflicts([agl_zone()], [plan(0.0, 3000.0, W84)], model)
    assert conflict_record(conflict)["altitude_conversion"] == "terrain+EGM96"


def test_without_terrain_the_error_names_the_zone_and_both_references():
    with pytest.raises(AltitudeReferenceError) as info:
        find_conflicts([agl_zone()], [plan(0.0, 3000.0, W84)])
    text = str(info.value)
    assert "zone 'lsxx-agl'" in text and "an altitude in AGL with one in W84" in text
    assert "TRUCELINE_TERRAIN" in text


def test_a_place_without_a_tile_is_an_error_naming_the_model(tmp_path):
    write_hgt(tmp_path)
    model = AltitudeModel(terrain=open_terrain(tmp_path))
    where = rf"terrain model {tmp_path} has no heights for lon 7\.49"
    with pytest.raises(AltitudeReferenceError, match=where):
        find_conflicts([agl_zone(centre=(7.5, 46.5))], [plan(0.0, 3000.0, centre=(7.5, 46.5))], model)


def test_void_posts_are_an_error_not_a_guess(tmp_path):
    heights = relief()
    heights[60, 60] = HGT_VOID
    write_hgt(tmp_path, heights=heights)
    model = AltitudeModel(terrain=open_terrain(tmp_path))
    with pytest.raises(AltitudeReferenceError, match="void heights"):
        find_conflicts([agl_zone()], [plan(0.0, 3000.0)], model)


def test_ground_level_zones_need_no_terrain():
    zone = agl_zone(-math.inf, math.inf)
    assert find_conflicts([zone], [plan(5000.0, 6000.0, W84)])  # the default model: EGM96 alone


def test_geotiff_reads_like_the_hgt_tile(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    heights = relief().astype(np.float32)
    step = 1.0 / (SIDE - 1)
    path = tmp_path / "dem.tif"
    # GeoTIFF tags: ModelPixelScale, ModelTiepoint (pixel 0,0's corner) and a GeoKeyDirectory
    # saying geographic WGS84, PixelIsArea; GDAL_NODATA -9999
    geokeys = (1, 1, 0, 3, 1024, 0, 1, 2, 1025, 0, 1, 1, 2048, 0, 1, 4326)
    tifffile.imwrite(
        path,
        heights,
        extratags=[
            (33550, "d", 3, (step, step, 0.0)),
            (33922, "d", 6, (0.0, 0.0, 0.0, 6.0 - step / 2, 47.0 + step / 2, 0.0)),
            (34735, "H", len(geokeys), geokeys),
            (42113, "s", 0, "-9999"),
        ],
    )
    box = (6.4, 46.4, 6.6, 46.6)
    from_tif = open_terrain(path).height_range(box)
    write_hgt(tmp_path)
    assert from_tif == open_terrain(tmp_path / "N46E006.hgt").height_range(box)


def test_a_projected_geotiff_is_refused(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "utm.tif"
    geokeys = (1, 1, 0, 1, 3072, 0, 1, 32632)
    tifffile.imwrite(path, relief().astype(np.float32), extratags=[
        (33550, "d", 3, (30.0, 30.0, 0.0)), (33922, "d", 6, (0, 0, 0, 300000.0, 5100000.0, 0)),
        (34735, "H", len(geokeys), geokeys),
    ])  # fmt: skip
    with pytest.raises(ValidationError, match=r"TRUCELINE_TERRAIN: .*utm\.tif: only GeoTIFFs on WGS84"):
        open_terrain(path)


@pytest.mark.parametrize(
    ("name", "needle"),
    [("dem.txt", "give a GeoTIFF"), ("missing.hgt", "no such file"), ("X46E006.hgt", "named like N46E006")],
)
def test_bad_terrain_files_are_named(tmp_path, name, needle):
    if name != "missing.hgt":
        (tmp_path / name).write_bytes(b"\0" * 8)
    with pytest.raises(ValidationError, match=needle):
        open_terrain(tmp_path / name)
