"""OpenAir: the real French national file (shared/data/openair), arcs and circles to the
stated tolerance, the limits real files write, and zones written back."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared_data import SHARED_DATA
from truceline.domain.activity import Activity
from truceline.domain.zone import RESTRICTS_ALL, Entry, Zone, ZoneKind, ZoneRule
from truceline.errors import FormatError
from truceline.geo import geodesy
from truceline.geo.altitude import AltitudeBand, AltitudeReference
from truceline.geo.shapes import Circle, Polygon
from truceline.geo.timewindow import TimeWindow
from truceline.geo.volume import Volume4D
from truceline.io.detect import read_zones_and_operations
from truceline.io.ed269 import PERMANENT_START
from truceline.io.openair import (
    ARC_TOLERANCE_M,
    _coordinate,
    _written_coordinate,
    is_openair,
    read_openair,
    write_openair,
)

FRANCE = SHARED_DATA / "openair" / "france.txt"
NM = 1852.0
FT = 0.3048


def dms(d: int, m: int, s: float) -> float:
    return d + m / 60 + s / 3600


def one(text: str):
    features = read_openair("t.txt", text=text)
    assert features.warnings == (), features.warnings
    (zone,) = features.zones
    return zone


@pytest.fixture(scope="module")
def france():
    return read_openair(FRANCE)


def test_every_airspace_of_the_real_file_is_read_or_warned_of(france):
    records = sum(1 for line in FRANCE.read_text(encoding="utf-8").splitlines() if line.startswith("AC"))
    assert records == 1611
    assert len(france.zones) + len(france.warnings) == records
    assert len({z.id for z in france.zones}) == len(france.zones)
    # flight levels and AGL/AMSL bands are read now: only outlines that are no valid area stay
    # out (CTA MARSEILLE 7 over the area limit, LF-R600 and a transit corridor self-intersect)
    assert (len(france.zones), len(france.warnings)) == (1608, 3)
    for warning in france.warnings:
        assert re.match(r'france\.txt: line \d+ \(AN ".+"\)', warning.where), warning
        assert warning.field == "outline" and warning.message.endswith("the zone is left out")
    texts = Counter(z.volumes[0].altitude.reference_text for z in france.zones)
    # FL is the commonest upper limit of the file; 47 zones are AGL below and AMSL above
    assert texts["FL"] + texts["AMSL/FL"] + texts["AGL/FL"] == 724
    assert texts["AGL/AMSL"] == 47


def by_name(france, name: str):
    (zone,) = [z for z in france.zones if z.name.strip() == name]
    (volume,) = zone.volumes
    return volume.altitude


def test_flight_levels_and_mixed_limits_of_the_real_file(france):
    # AL 800FT AGL / AH 6500FT AMSL: one band, each limit in its own reference
    band = by_name(france, "ZRT CHENEVIERES activation NOTAM MON-FRI except HOL (SUP AIP 060/26)")
    assert band.reference_text == "AGL/AMSL"
    assert (band.lower_m, band.upper_m) == pytest.approx((800 * FT, 6500 * FT))
    # AL 1000FT AGL / AH FL145
    band = by_name(france, "TMA BALE 1")
    assert band.reference_text == "AGL/FL"
    assert (band.lower_m, band.upper_m) == pytest.approx((1000 * FT, 14500 * FT))
    # AL FL55 / AH FL115: both pressure altitudes
    band = by_name(france, "TMZ MONTELIMAR  A7000")
    assert band.reference_text == "FL"
    assert (band.lower_m, band.upper_m) == pytest.approx((5500 * FT, 11500 * FT))


@pytest.mark.parametrize(
    ("lower", "upper", "text", "expected"),
    [
        ("GND", "FL95", "FL", (-math.inf, 9500 * FT)),
        ("FL 65", "FL195", "FL", (6500 * FT, 19500 * FT)),
        ("800FT AGL", "4500FT AMSL", "AGL/AMSL", (800 * FT, 4500 * FT)),
        ("2000FT AMSL", "FL 145", "AMSL/FL", (2000 * FT, 14500 * FT)),
        ("SFC", "FL65", "FL", (-math.inf, 6500 * FT)),
        ("FL100", "UNL", "FL", (10000 * FT, math.inf)),
    ],
)
def test_flight_levels_and_two_references_are_read(lower: str, upper: str, text: str, expected: tuple):
    zone = one(f"AC D\nAN L\nAL {lower}\nAH {upper}\nV X=45:00:00 N 006:00:00 E\nDC 1\n")
    band = zone.volumes[0].altitude
    assert band.reference_text == text
    assert (band.lower_m, band.upper_m) == pytest.approx(expected)


def test_a_circle_of_the_real_file(france):
    (luc,) = [z for z in france.zones if z.name == "ZRT LE LUC (SUP AIP 055/25)"]
    (volume,) = luc.volumes
    assert volume.shape == Circle((dms(6, 23, 13), dms(43, 23, 5)), 6 * NM)
    # AL GND: no lower limit; AH 3000FT AMSL
    assert volume.altitude.lower_m == -math.inf and volume.altitude.upper_m == pytest.approx(3000 * FT)
    assert volume.altitude.reference is AltitudeReference.AMSL
    assert luc.kind is ZoneKind.DECONFLICTION and luc.rule.entry is Entry.NOTICE


def test_arcs_of_the_real_file_are_on_the_arc(france):
    # the first DB of the file: V D=+, V X=44:47:10 N 001:14:19 E,
    # DB 44:47:11 N 001:13:57 E, 44:47:10 N 001:14:40 E
    centre = (dms(1, 14, 19), dms(44, 47, 10))
    first, last = (dms(1, 13, 57), dms(44, 47, 11)), (dms(1, 14, 40), dms(44, 47, 10))
    polygons = [z.volumes[0].shape for z in france.zones if isinstance(z.volumes[0].shape, Polygon)]
    (shape,) = [p for p in polygons if first in p.ring]
    ring = shape.ring
    start, end = ring.index(first), ring.index(last)
    arc = ring[start : end + 1]
    r0 = geodesy.distance_m(*centre, *first)
    r1 = geodesy.distance_m(*centre, *last)
    assert len(arc) > 3
    bearings = []
    for point in arc:
        distance = geodesy.distance_m(*centre, *point)
        assert min(r0, r1) - 0.01 <= distance <= max(r0, r1) + 0.01
        az, _, _ = geodesy.GEOD.inv(*centre, *point)
        bearings.append(az % 360)
    # V D=+ is clockwise: bearings increase (through north: 277 -> 90 degrees)
    unwrapped = [(b - bearings[0]) % 360 for b in bearings]
    assert unwrapped == sorted(unwrapped)


@pytest.mark.parametrize("radius_nm", [0.5, 5.0, 30.0])
@pytest.mark.parametrize(("direction", "sign"), [("+", 1), ("-", -1)])
def test_da_arcs_within_the_tolerance(radius_nm: float, direction: str, sign: int):
    zone = one(
        f"AC R\nAN Arc\nAL GND\nAH 3000FT AMSL\nV X=45:00:00 N 006:00:00 E\nV D={direction}\n"
        f"DP 45:00:00 N 006:00:00 E\nDA {radius_nm},0,90\n"
    )
    ring = zone.volumes[0].shape.ring
    centre, r = (6.0, 45.0), radius_nm * NM
    arc = ring[1:-1]
    for point in arc:
        assert abs(geodesy.distance_m(*centre, *point) - r) < 0.001
    for a, b in itertools.pairwise(arc):
        mid = geodesy.distance_m((a[0] + b[0]) / 2, (a[1] + b[1]) / 2, *centre)
        assert r - ARC_TOLERANCE_M - 0.01 <= mid <= r
    az = [geodesy.GEOD.inv(*centre, *p)[0] % 360 for p in (arc[0], arc[1], arc[-1])]
    assert az[0] == pytest.approx(0, abs=1e-6) or az[0] == pytest.approx(360, abs=1e-6)
    assert az[2] == pytest.approx(90, abs=1e-6)
    # clockwise goes 0 -> 90 through 45; counter-clockwise the long way, through 180
    if sign > 0:
        assert 0 < az[1] < 90
    else:
        assert az[1] > 90


@pytest.mark.parametrize(
    ("lower", "upper", "expected"),
    [
        ("GND", "1500ft AMSL", (-math.inf, 1500 * FT, "AMSL")),
        ("SFC", "1000FT AGL", (-math.inf, 1000 * FT, "AGL")),
        ("300M AGL", "UNL", (300.0, math.inf, "AGL")),
        ("1000 FT AMSL", "3400m AMSL", (1000 * FT, 3400.0, "AMSL")),
        ("500FT MSL", "2000 ft ALT", (500 * FT, 2000 * FT, "AMSL")),
    ],
)
def test_limits_real_files_write(lower: str, upper: str, expected: tuple):
    zone = one(f"AC D\nAN L\nAL {lower}\nAH {upper}\nV X=45:00:00 N 006:00:00 E\nDC 1\n")
    band = zone.volumes[0].altitude
    assert band.lower_m == pytest.approx(expected[0]) and band.upper_m == pytest.approx(expected[1])
    assert str(band.reference) == expected[2]


@pytest.mark.parametrize(
    ("lower", "upper", "field", "message"),
    [
        ("GND", "1500", "AH", '"1500" names no reference (AMSL or AGL)'),
        ("UNL", "FL95", "AL", '"UNL" as a lower limit'),
        ("GND", "SFC", "AH", '"SFC" as an upper limit'),
        ("FL95", "FL65", "AL", '"FL95" is above the upper limit "FL65"'),
    ],
)
def test_limits_the_model_cannot_hold_leave_the_zone_out_with_a_warning(lower, upper, field, message):
    text = f"AC R\nAN Zone X\nAL {lower}\nAH {upper}\nV X=45:00:00 N 006:00:00 E\nDC 1\n"
    kept = "AC R\nAN Kept\nAL GND\nAH 2000FT AMSL\nV X=45:00:00 N 006:00:00 E\nDC 1\n"
    features = read_openair("t.txt", text=text + kept)
    assert [z.name for z in features.zones] == ["Kept"]
    (warning,) = features.warnings
    assert warning.where == 't.txt: line 1 (AN "Zone X")' and warning.field == field
    assert message in warning.message and warning.message.endswith("the zone is left out")


def test_a_self_intersecting_outline_is_left_out_with_the_geometry_fault():
    # LF-R600 of the real file draws a circle as two half arcs joined by a line traversed
    # twice; read as written, its ring self-intersects (it is not "fixed")
    lines = FRANCE.read_text(encoding="utf-8").splitlines()
    named = next(i for i, line in enumerate(lines) if line.startswith("AN LF-R600"))
    start = max(i for i in range(named) if lines[i].startswith("AC"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("AC"))
    record = "\n".join(lines[start:end]).replace("FL145", "4500FT AMSL")
    features = read_openair("r600.txt", text=record)
    assert features.zones == ()
    (warning,) = features.warnings
    assert warning.field == "outline" and "self-intersect" in warning.message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("AC R\nAN A\nAL GND\nAH 10FT AMSL\nDP 45:00:00 N\n", "t.txt: line 5: must be a coordinate such as"),
        ("AC R\nAN A\nAL GND\nAH 10FT AMSL\nDC 2\n", "t.txt: line 5: DC needs a centre (V X=) before it"),
        ("AC R\nAN A\nAL GND\nAH ten feet\nV X=45:00:00 N 006:00:00 E\nDC 2\n",
         't.txt: line 4: AH: "ten feet"'),
        ("AN A\nAC R\n", 't.txt: line 1: "AN" comes before the first AC record'),
    ],
)
def test_unreadable_lines_are_errors_naming_the_line(text: str, message: str):
    with pytest.raises(FormatError) as info:
        read_openair("t.txt", text=text)
    assert str(info.value).startswith(message), str(info.value)


def test_prohibited_areas_are_no_fly_zones():
    zone = one("AC UNC\nAY P\nAN P1\nAL GND\nAH UNL\nV X=45:00:00 N 006:00:00 E\nDC 1\n")
    assert zone.kind is ZoneKind.NO_FLY and zone.rule.entry is Entry.FORBIDDEN


@given(st.floats(-179.9, 179.9), st.floats(-89.9, 89.9))
def test_written_coordinates_read_back_within_15_cm(lon: float, lat: float):
    back = _coordinate(_written_coordinate((lon, lat)))
    assert abs(back[0] - lon) <= 0.005 / 3600 + 1e-12 and abs(back[1] - lat) <= 0.005 / 3600 + 1e-12


def test_zones_written_back_read_the_same(france):
    written = write_openair(france.zones)
    # standing zones in AMSL, AGL and whole flight levels: nothing OpenAir cannot say
    assert written.warnings == ()
    assert "AH FL145" in written.text and "AL 304.8M AGL" in written.text
    back = read_openair("back.txt", text=written.text)
    assert back.warnings == ()
    assert len(back.zones) == len(france.zones)
    for a, b in zip(france.zones, back.zones, strict=True):
        assert (a.kind, a.rule, a.name) == (b.kind, b.rule, b.name)
        va, vb = a.volumes[0], b.volumes[0]
        assert va.time == vb.time
        assert va.altitude.reference_text == vb.altitude.reference_text
        for x, y in ((va.altitude.lower_m, vb.altitude.lower_m), (va.altitude.upper_m, vb.altitude.upper_m)):
            assert x == y or abs(x - y) <= 0.005
        if isinstance(va.shape, Circle):
            assert isinstance(vb.shape, Circle) and abs(va.shape.radius_m - vb.shape.radius_m) < 0.002
            points = [(va.shape.center, vb.shape.center)]
        else:
            assert isinstance(vb.shape, Polygon) and len(vb.shape.ring) == len(va.shape.ring)
            points = list(zip(va.shape.ring, vb.shape.ring, strict=True))
        for p, q in points:
            assert geodesy.distance_m(*p, *q) < 0.2  # 0.005" of latitude and of longitude


FL, AMSL = AltitudeReference.FL, AltitudeReference.AMSL


def written_zone(band: AltitudeBand) -> Zone:
    rule = ZoneRule(RESTRICTS_ALL, Activity.AIR, Entry.NOTICE)
    volume = Volume4D(Circle((6.0, 45.0), 1000.0), band, TimeWindow(PERMANENT_START))
    return Zone("z", ZoneKind.DECONFLICTION, (volume,), rule, None, "Z")


@pytest.mark.parametrize(
    ("band", "lines"),
    [
        (AltitudeBand(-math.inf, 9500 * FT, FL), ("AL GND", "AH FL95")),
        (AltitudeBand(300.0, 14500 * FT, FL, AltitudeReference.AGL), ("AL 300M AGL", "AH FL145")),
        (AltitudeBand(150.0, 1200.0, AMSL, AltitudeReference.AGL), ("AL 150M AGL", "AH 1200M AMSL")),
        (AltitudeBand(6500 * FT, math.inf, FL), ("AL FL65", "AH UNL")),
    ],
)
def test_flight_levels_and_two_references_are_written_and_read_back(band: AltitudeBand, lines: tuple):
    written = write_openair([written_zone(band)])
    assert written.warnings == ()
    assert all(f"\n{line}\n" in written.text for line in lines), written.text
    back = one(written.text).volumes[0].altitude
    assert back.reference_text == band.reference_text
    assert (back.lower_m, back.upper_m) == pytest.approx((band.lower_m, band.upper_m))


def test_a_flight_level_that_is_not_whole_is_written_outward_with_a_warning():
    band = AltitudeBand(95.4 * 100 * FT, 145.2 * 100 * FT, AltitudeReference.FL)
    written = write_openair([written_zone(band)])
    assert "\nAL FL95\n" in written.text and "\nAH FL146\n" in written.text
    assert [w.field for w in written.warnings] == ["altitude_lower", "altitude_upper"]
    assert "rounded outward" in written.warnings[0].message


def test_a_w84_limit_is_left_out_of_openair_with_a_warning():
    band = AltitudeBand(100.0, 14500 * FT, AltitudeReference.FL, AltitudeReference.W84)
    written = write_openair([written_zone(band)])
    assert "AC " not in written.text
    (warning,) = written.warnings
    assert warning.field == "altitude_reference" and "left out" in warning.message


def test_the_file_is_told_apart_from_json(tmp_path):
    assert is_openair(FRANCE.read_text(encoding="utf-8"))
    assert not is_openair('{"type": "FeatureCollection"}')
    path = tmp_path / "one.txt"
    path.write_text("* a comment\nAC P\nAN P1\nAL GND\nAH 1000FT AGL\nV X=45:00:00 N 006:00:00 E\nDC 1\n")
    features = read_zones_and_operations(path)
    assert [z.id for z in features.zones] == ["one-1"]


def test_a_windows_1252_file_is_read(tmp_path):
    path = tmp_path / "old.txt"
    text = "AC R\nAN ZRT CHENEVI\u00c8RES\nAL GND\nAH 1000FT AMSL\nV X=45:00:00 N 006:00:00 E\nDC 1\n"
    path.write_bytes(text.encode("cp1252"))
    (zone,) = read_openair(path).zones
    assert zone.name == "ZRT CHENEVI\u00c8RES"
    assert [z.name for z in read_zones_and_operations(path).zones] == ["ZRT CHENEVI\u00c8RES"]
