"""GeoJSON by RFC 7946 and as GIS tools write it: ring orientation and 7 decimals on
output, circles as geodesic polygons on request, and what QGIS/GDAL save read back."""

from __future__ import annotations

import itertools
import json
import math
from datetime import UTC, datetime
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from io_documents import collection, operation_feature, polygons, zone_feature

from truceline.domain.zone import Zone, ZoneKind
from truceline.errors import TrucelineError
from truceline.geo import geodesy
from truceline.geo.altitude import AltitudeBand
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.geojson import (
    CIRCLE_TOLERANCE_M,
    Circles,
    read_geojson,
    rfc7946_geometry,
    write_geojson,
)

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def shoelace(ring: list[list[float]]) -> float:
    """The test's own signed area in lon/lat: positive counter-clockwise."""
    return sum(ring[i][0] * ring[i + 1][1] - ring[i + 1][0] * ring[i][1] for i in range(len(ring) - 1)) / 2


def decimals(value: float) -> int:
    text = repr(value)
    return len(text.split(".")[1]) if "." in text and "e" not in text else 0


def zone_of(shape) -> Zone:
    return Zone("z", ZoneKind.NO_FLY, (Volume4D(shape, AltitudeBand(0, 100), TimeWindow(T0)),))


@settings(max_examples=120, deadline=None)
@given(polygons(), st.booleans())
def test_written_rings_are_counter_clockwise_with_7_decimals(polygon: Polygon, reverse: bool) -> None:
    if reverse:
        polygon = Polygon(polygon.ring[::-1])
    (feature,) = write_geojson([zone_of(polygon)])["features"]
    (ring,) = feature["geometry"]["coordinates"]
    assert shoelace(ring) > 0
    assert ring[0] == ring[-1]
    assert all(decimals(c) <= 7 for point in ring for c in point)
    # each written vertex is an input vertex, rounded (within half a unit of the 7th decimal)
    original = [list(p) for p in polygon.ring]
    for point in ring:
        assert min(max(abs(point[0] - o[0]), abs(point[1] - o[1])) for o in original) <= 0.5e-7 + 1e-15


@settings(max_examples=80, deadline=None)
@given(polygons(), polygons(), st.booleans(), st.booleans())
def test_holes_are_clockwise_and_exteriors_counter_clockwise(
    outer: Polygon, hole: Polygon, r1: bool, r2: bool
) -> None:
    rings = [list(outer.ring[::-1] if r1 else outer.ring), list(hole.ring[::-1] if r2 else hole.ring)]
    for geometry in (
        rfc7946_geometry({"type": "Polygon", "coordinates": rings}),
        rfc7946_geometry({"type": "MultiPolygon", "coordinates": [rings, rings]}),
    ):
        parts = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
        for exterior, interior in parts:
            assert shoelace(exterior) > 0 and shoelace(interior) < 0


def test_the_written_scenario_is_counter_clockwise():
    scenarios = resources.files("truceline") / "scenarios"
    with resources.as_file(scenarios / "syria-2017-zones.geojson") as path:
        zones = read_geojson(path).zones
    written = write_geojson(zones)["features"]
    polygons_written = [f for f in written if f["geometry"]["type"] == "Polygon"]
    assert polygons_written and all(shoelace(f["geometry"]["coordinates"][0]) > 0 for f in polygons_written)


@pytest.mark.parametrize("radius_m", [50.0, 5_000.0, 55_000.0])
def test_circles_as_polygons_stay_within_the_stated_tolerance(radius_m: float) -> None:
    circle = Circle((38.6, 33.5), radius_m)
    (feature,) = write_geojson([zone_of(circle)], circles=Circles.POLYGON)["features"]
    assert feature["geometry"]["type"] == "Polygon" and "radius_m" not in feature["properties"]
    (ring,) = feature["geometry"]["coordinates"]
    assert shoelace(ring) > 0
    lon0, lat0 = circle.center
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        # vertices on the circle (to the 1 cm of 7 decimals); edge midpoints inside it, by at
        # most the tolerance
        assert abs(geodesy.distance_m(x0, y0, lon0, lat0) - radius_m) < 0.02
        mid = geodesy.distance_m((x0 + x1) / 2, (y0 + y1) / 2, lon0, lat0)
        assert radius_m - CIRCLE_TOLERANCE_M - 0.02 <= mid <= radius_m + 0.02
    # read back, it is a polygon of about the circle's area (inscribed: a little less)
    (zone,) = read_geojson(write_geojson([zone_of(circle)], circles=Circles.POLYGON)).zones
    assert isinstance(zone.volumes[0].shape, Polygon)
    # the default keeps the exact circle
    (point,) = write_geojson([zone_of(circle)])["features"]
    assert point["geometry"] == {"type": "Point", "coordinates": [38.6, 33.5]}
    assert point["properties"]["radius_m"] == radius_m


def test_what_qgis_and_gdal_save_is_read() -> None:
    # GDAL writes every attribute on every feature, null where unused, the id as an attribute
    gis_zone = zone_feature("z1", radius_m=None, operation=None, state=None, altitude_lower_ft=None)
    gis_zone["properties"]["id"] = gis_zone.pop("id")
    gis_op = operation_feature("op1", kind=None, restricts=None, entry=None, zone=None, name=None)
    gis_op["id"] = None
    gis_op["properties"]["id"] = "op1"
    ring = gis_zone["geometry"]["coordinates"]
    gis_zone["geometry"] = {"type": "MultiPolygon", "coordinates": [ring]}
    document = collection(gis_zone, gis_op)
    document["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    features = read_geojson(document)
    assert [z.id for z in features.zones] == ["z1"] and [o.id for o in features.operations] == ["op1"]
    assert features.zones[0] == read_geojson(collection(zone_feature("z1"))).zones[0]
    # null limits still mean "no limit"
    unlimited = read_geojson(collection(zone_feature("z2", altitude_upper_m=None, altitude_upper_ft=None)))
    assert unlimited.zones[0].volumes[0].altitude.upper_m == math.inf


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(crs={"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::3857"}}),
         'crs.properties.name: "urn:ogc:def:crs:EPSG::3857" is not WGS84 longitude/latitude'),
        (lambda d: d["features"][0]["properties"].update(id="other"),
         'feature 0: properties.id: "other" differs from the Feature\'s id "z1"'),
        (lambda d: d["features"][0].update(geometry={"type": "MultiPolygon", "coordinates": [
            d["features"][0]["geometry"]["coordinates"]] * 2}),
         "geometry.coordinates[1]: a MultiPolygon of several polygons is not supported"),
    ],
)  # fmt: skip
def test_what_gis_files_may_not_do(change, message: str) -> None:
    document = collection(zone_feature("z1"))
    change(document)
    with pytest.raises(TrucelineError) as info:
        read_geojson(document, source="gis.geojson")
    assert message in str(info.value)


def test_a_schedule_round_trips_through_the_profile() -> None:
    from io_documents import ed269_zone

    from truceline.io.ed269 import read_ed269

    daily = [{"day": ["MON", "FRI"], "startTime": "08:00", "endTime": "18:00"}]
    period = {"permanent": "YES", "dailyPeriod": daily}
    document = {"UASZoneList": [ed269_zone(applicability=[period])]}
    zone = read_ed269(document, time_zone="Europe/Zurich").zones[0]
    written = write_geojson([zone])
    assert written["features"][0]["properties"]["schedule"] == {
        "time_zone": "Europe/Zurich", "periods": [{"days": ["MON", "FRI"], "start": "08:00", "end": "18:00"}]
    }  # fmt: skip
    again = read_geojson(json.loads(json.dumps(written))).zones[0]
    assert again.volumes[0].time == zone.volumes[0].time
    bad = json.loads(json.dumps(written))
    bad["features"][0]["properties"]["schedule"]["periods"][0]["start"] = "08:00Z"
    with pytest.raises(TrucelineError, match=r"schedule\.periods\[0\]\.start: is a wall-clock time"):
        read_geojson(bad)
