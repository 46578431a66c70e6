"""KML export: parsed back with lxml, the zones, operations and conflicts are there, styled
by kind, with the altitude mode of their reference, their time spans, and circles drawn as
polygons within the stated tolerance."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, time
from importlib import resources

from lxml import etree

from shared_data import SHARED_DATA
from truceline.domain.activity import Activity
from truceline.domain.operation import Operation
from truceline.domain.zone import Entry, Zone, ZoneKind, ZoneRule
from truceline.engines.strategic import find_conflicts
from truceline.geo import geodesy
from truceline.geo.altitude import AltitudeBand, AltitudeReference
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.timewindow import DailyPeriod, Schedule, TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.geojson import CIRCLE_TOLERANCE_M, read_geojson
from truceline.io.kml import KIND_COLOURS, write_kml
from truceline.io.openair import read_openair

NS = {"k": "http://www.opengis.net/kml/2.2"}
T0 = datetime(2017, 7, 10, 8, tzinfo=UTC)
T1 = datetime(2017, 7, 10, 10, tzinfo=UTC)
SQUARE = Polygon(((36.0, 33.0), (36.2, 33.0), (36.2, 33.2), (36.0, 33.2), (36.0, 33.0)))


def parse(text: str) -> etree._Element:
    return etree.fromstring(text.encode("utf-8"))


def placemarks(root: etree._Element, folder: str) -> list[etree._Element]:
    return root.xpath(f"//k:Folder[k:name='{folder}']/k:Placemark", namespaces=NS)


def data(placemark: etree._Element) -> dict[str, str]:
    return {d.get("name"): d.findtext("k:value", namespaces=NS) for d in placemark.iterfind(".//k:Data", NS)}


def style_colour(root: etree._Element, placemark: etree._Element) -> str:
    ref = placemark.findtext("k:styleUrl", namespaces=NS).lstrip("#")
    (style,) = root.xpath(f"//k:Style[@id='{ref}']", namespaces=NS)
    return style.findtext("k:LineStyle/k:color", namespaces=NS)


def coordinates(placemark: etree._Element) -> list[tuple[float, ...]]:
    text = placemark.findtext(".//k:outerBoundaryIs/k:LinearRing/k:coordinates", namespaces=NS)
    return [tuple(float(v) for v in point.split(",")) for point in text.split()]


def test_zones_operations_and_conflicts_parse_back():
    no_fly = Zone("nf", ZoneKind.NO_FLY, (Volume4D(SQUARE, AltitudeBand(0, 3000), TimeWindow(T0)),),
                  ZoneRule("all", Activity.AIR, Entry.FORBIDDEN), None, "No fly")  # fmt: skip
    weekday = Schedule("Europe/Zurich", (DailyPeriod(frozenset(range(5)), time(8), time(18)),))
    site = Zone("site", ZoneKind.PROTECTED_SITE,
                (Volume4D(Circle((36.1, 33.1), 2_000.0), AltitudeBand(0, 120, AltitudeReference.AGL),
                          TimeWindow(T0, None, weekday)),))  # fmt: skip
    flight = Operation("op1", "north", Activity.AIR,
                       (Volume4D(SQUARE, AltitudeBand(100, 200, AltitudeReference.W84), TimeWindow(T0, T1)),))
    convoy = Operation("op2", "south", Activity.AIR, (Volume4D(SQUARE, AltitudeBand(100, float("inf")),
                                                               TimeWindow(T0, T1)),))  # fmt: skip
    conflicts = find_conflicts([no_fly], [convoy])
    assert conflicts
    root = parse(write_kml([no_fly, site], [flight, convoy], conflicts))

    zones = placemarks(root, "Zones")
    assert [p.findtext("k:name", namespaces=NS) for p in zones] == ["No fly", "site"]
    assert [style_colour(root, p) for p in zones] == [KIND_COLOURS["no_fly"], KIND_COLOURS["protected_site"]]
    nf, circle = zones
    assert nf.findtext(".//k:altitudeMode", namespaces=NS) == "absolute"  # AMSL
    assert nf.findtext(".//k:extrude", namespaces=NS) == "1"
    assert nf.findtext("k:TimeSpan/k:begin", namespaces=NS) == "2017-07-10T08:00:00Z"
    assert nf.find("k:TimeSpan/k:end", NS) is None  # standing
    assert data(nf)["kind"] == "no_fly" and data(nf)["entry"] == "forbidden"
    assert {c[2] for c in coordinates(nf)} == {3000.0}  # drawn at its ceiling
    # the circle: a closed ring whose vertices are on the circle, edges within the tolerance
    assert circle.findtext(".//k:altitudeMode", namespaces=NS) == "relativeToGround"  # AGL
    ring = coordinates(circle)
    assert ring[0] == ring[-1] and len(ring) > 16
    for (x0, y0, _), (x1, y1, _) in itertools.pairwise(ring):
        assert abs(geodesy.distance_m(x0, y0, 36.1, 33.1) - 2_000.0) < 0.02
        midpoint_m = geodesy.distance_m((x0 + x1) / 2, (y0 + y1) / 2, 36.1, 33.1)
        assert midpoint_m >= 2_000.0 - CIRCLE_TOLERANCE_M - 0.02
    assert data(circle)["schedule"] == "MON,TUE,WED,THU,FRI 08:00-18:00 (Europe/Zurich)"

    ops = placemarks(root, "Operations")
    assert [style_colour(root, p) for p in ops] == [KIND_COLOURS["operation"]] * 2
    assert ops[0].findtext(".//k:altitudeMode", namespaces=NS) == "absolute"
    assert "WGS84 ellipsoid" in data(ops[0])["altitude_note"]
    assert ops[0].findtext("k:TimeSpan/k:end", namespaces=NS) == "2017-07-10T10:00:00Z"
    # no upper limit: flat on the ground, not extruded
    assert ops[1].findtext(".//k:altitudeMode", namespaces=NS) == "clampToGround"

    (conflict,) = placemarks(root, "Conflicts")
    assert style_colour(root, conflict) == KIND_COLOURS["conflict"]
    assert data(conflict)["a"] == "op2" and data(conflict)["b"] == "nf" and data(conflict)["kind"] == "zone"
    assert conflict.findtext("k:TimeSpan/k:begin", namespaces=NS) == "2017-07-10T08:00:00Z"
    assert conflict.findtext("k:TimeSpan/k:end", namespaces=NS) == "2017-07-10T10:00:00Z"
    assert conflict.find("k:MultiGeometry/k:Polygon", NS) is not None


def test_the_bundled_scenario_exports():
    scenarios = resources.files("truceline") / "scenarios"
    with resources.as_file(scenarios) as folder:
        zones = read_geojson(folder / "syria-2017-zones.geojson").zones
        operations = read_geojson(folder / "syria-2017-operations.geojson").operations
    conflicts = find_conflicts(zones, operations)
    root = parse(write_kml(zones, operations, conflicts))
    assert len(placemarks(root, "Zones")) == sum(len(z.volumes) for z in zones)
    assert len(placemarks(root, "Operations")) == sum(len(o.volumes) for o in operations)
    assert len(placemarks(root, "Conflicts")) == len(conflicts) > 0


def test_the_french_openair_files_flight_levels_are_drawn_and_described():
    # the seam with io.openair: 724 of the file's zones now have a flight-level ceiling
    zones = read_openair(SHARED_DATA / "openair" / "france.txt").zones
    bale = [z for z in zones if z.name == "TMA BALE 1"]  # AL 1000FT AGL, AH FL145
    root = etree.fromstring(write_kml(bale).encode())
    (placemark,) = root.iterfind(".//k:Placemark", NS)
    assert placemark.findtext(".//k:altitudeMode", namespaces=NS) == "absolute"
    data = {d.get("name"): d.findtext("k:value", namespaces=NS)
            for d in placemark.iterfind(".//k:Data", NS)}  # fmt: skip
    assert data["altitude_reference"] == "AGL/FL" and "flight level" in data["altitude_note"]
