"""EUROCAE ED-269 zones: the real Swiss sample and hand-made variants."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from io_documents import SQUARE, ed269_zone

from truceline.domain.activity import Activity
from truceline.domain.zone import Entry, ZoneKind, ZoneRule
from truceline.errors import FormatError, GeometryError, TrucelineError, ValidationError
from truceline.geo.altitude import AltitudeReference
from truceline.geo.shapes import Circle, Polygon
from truceline.io.ed269 import PERMANENT_START, read_ed269

SAMPLE = Path(__file__).parent / "data" / "cis_source_sample_ed269.json"


def doc(*zones: dict) -> dict:
    return {"formatVersion": "1.0.0", "createdAt": "2024-01-01T00:00:00Z", "UASZoneList": list(zones)}


def error_of(document: object) -> TrucelineError:
    with pytest.raises(TrucelineError) as info:
        read_ed269(document, source="zones.json")
    return info.value


def geometry(**fields: object) -> dict:
    item = ed269_zone()["geometry"][0]
    item.update(fields)
    return item


def test_the_real_sample():
    features = read_ed269(SAMPLE)
    assert features.operations == () and features.warnings == ()
    (zone,) = features.zones
    assert zone.id == "LSXX" and zone.name == "LSXX City Sample" and zone.party is None
    # REQ_AUTHORISATION: every party's flights need notice
    assert zone.kind is ZoneKind.DECONFLICTION
    assert zone.rule == ZoneRule("all", Activity.AIR, Entry.NOTICE)
    (volume,) = zone.volumes
    assert isinstance(volume.shape, Polygon)
    assert volume.shape.ring[0] == (6.166485701899006, 46.217024450605436)
    assert len(volume.shape.ring) == 5
    # "lowerLimit": "0" (a string), "upperLimit": null (no limit), AGL
    assert volume.altitude.lower_m == 0.0 and volume.altitude.upper_m == math.inf
    assert volume.altitude.reference is AltitudeReference.AGL
    # permanent YES with null times: standing since the epoch
    assert volume.time.start == PERMANENT_START == datetime(1970, 1, 1, tzinfo=UTC)
    assert volume.time.end is None


def test_the_sample_file_name_locates_errors(tmp_path):
    broken = SAMPLE.read_text().replace('"lowerLimit": "0"', '"lowerLimit": "zero"')
    path = tmp_path / "cis.json"
    path.write_text(broken)
    with pytest.raises(FormatError) as info:
        read_ed269(path)
    assert str(info.value) == (
        'cis.json: zone 0 (identifier "LSXX"): geometry[0].lowerLimit: must be a number, got "zero"'
    )


@pytest.mark.parametrize(
    ("restriction", "kind", "entry"),
    [
        ("PROHIBITED", ZoneKind.NO_FLY, Entry.FORBIDDEN),
        ("REQ_AUTHORISATION", ZoneKind.DECONFLICTION, Entry.NOTICE),
        ("REQ_AUTHORIZATION", ZoneKind.DECONFLICTION, Entry.NOTICE),
        ("CONDITIONAL", ZoneKind.DECONFLICTION, Entry.NOTICE),
    ],
)
def test_restriction_mapping(restriction: str, kind: ZoneKind, entry: Entry):
    (zone,) = read_ed269(doc(ed269_zone(restriction=restriction)), party="authority").zones
    assert zone.kind is kind and zone.rule.entry is entry
    assert zone.rule.restricts == "all" and zone.rule.activity is Activity.AIR
    assert zone.party == "authority"


def test_no_restriction_is_skipped_with_a_warning():
    features = read_ed269(
        doc(ed269_zone("A", restriction="NO_RESTRICTION"), ed269_zone("B")), source="z.json"
    )
    assert [z.id for z in features.zones] == ["B"]
    (warning,) = features.warnings
    assert (warning.where, warning.field) == ('z.json: zone 0 (identifier "A")', "restriction")
    assert str(warning) == (
        'z.json: zone 0 (identifier "A"): restriction: NO_RESTRICTION restricts nothing; the zone is skipped'
    )


def test_a_circle_in_metres_and_feet():
    projection = {"type": "Circle", "center": [36.65, 35.95], "radius": 500}
    (zone,) = read_ed269(doc(ed269_zone(geometry=[geometry(horizontalProjection=projection)]))).zones
    assert zone.volumes[0].shape == Circle((36.65, 35.95), 500.0)
    feet = geometry(horizontalProjection=projection, uomDimensions="FT", lowerLimit="0", upperLimit="400")
    (zone,) = read_ed269(doc(ed269_zone(geometry=[feet]))).zones
    assert zone.volumes[0].shape.radius_m == pytest.approx(152.4)
    assert zone.volumes[0].altitude.upper_m == pytest.approx(121.92)


def test_feet_and_metres_give_the_same_band():
    metres = read_ed269(doc(ed269_zone(geometry=[geometry(lowerLimit=30.48, upperLimit=304.8)]))).zones[0]
    feet = read_ed269(
        doc(ed269_zone(geometry=[geometry(uomDimensions="FT", lowerLimit=100, upperLimit=1000)]))
    )
    a, b = metres.volumes[0].altitude, feet.zones[0].volumes[0].altitude
    assert a.lower_m == pytest.approx(b.lower_m) and a.upper_m == pytest.approx(b.upper_m)


def test_numeric_strings_and_references():
    item = geometry(
        lowerLimit=" 12.5", upperLimit="1e3", lowerVerticalReference="WGS84", upperVerticalReference="WGS84"
    )
    band = read_ed269(doc(ed269_zone(geometry=[item]))).zones[0].volumes[0].altitude
    assert (band.lower_m, band.upper_m, band.reference) == (12.5, 1000.0, AltitudeReference.W84)


def test_a_null_limit_takes_the_other_reference():
    item = geometry(
        lowerLimit=None, lowerVerticalReference="AGL", upperLimit=100, upperVerticalReference="AMSL"
    )
    band = read_ed269(doc(ed269_zone(geometry=[item]))).zones[0].volumes[0].altitude
    assert band.lower_m == -math.inf and band.upper_m == 100 and band.reference is AltitudeReference.AMSL


def test_applicability_dates_and_product_of_volumes():
    periods = [
        {
            "permanent": "NO",
            "startDateTime": "2024-03-01T00:00:00+02:00",
            "endDateTime": "2024-03-02T00:00:00Z",
        },
        {"permanent": "NO", "startDateTime": "2024-04-01T00:00:00Z", "endDateTime": None},
    ]
    (zone,) = read_ed269(doc(ed269_zone(applicability=periods, geometry=[geometry(), geometry()]))).zones
    assert len(zone.volumes) == 4
    assert zone.volumes[0].time.start == datetime(2024, 2, 29, 22, tzinfo=UTC)
    assert zone.volumes[0].time.end == datetime(2024, 3, 2, tzinfo=UTC)
    assert zone.volumes[1].time.end is None


def test_other_containers():
    assert [z.id for z in read_ed269({"title": "t", "features": [ed269_zone()]}).zones] == ["SYR01"]
    assert [z.id for z in read_ed269([ed269_zone("A"), ed269_zone("B")]).zones] == ["A", "B"]


def _polygon(*points: tuple[float, float]) -> dict:
    return {"type": "Polygon", "coordinates": [[list(p) for p in points]]}


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        (
            ed269_zone(geometry=[geometry(lowerLimit="abc")]),
            'geometry[0].lowerLimit: must be a number, got "abc"',
        ),
        (
            ed269_zone(geometry=[geometry(upperLimit=True)]),
            "geometry[0].upperLimit: must be a number, got true",
        ),
        (
            ed269_zone(geometry=[geometry(uomDimensions="KM")]),
            'geometry[0].uomDimensions: "KM" is not one of',
        ),
        (
            ed269_zone(geometry=[geometry(upperVerticalReference="AGL")]),
            'geometry[0].upperVerticalReference: "AGL" differs from lowerVerticalReference "AMSL"',
        ),
        (
            ed269_zone(geometry=[geometry(lowerVerticalReference="QNH")]),
            'geometry[0].lowerVerticalReference: "QNH" is not one of: AGL, AMSL, WGS84',
        ),
        (ed269_zone(geometry=[geometry(lowerLimit=600)]), "geometry[0].lowerLimit: lower 600"),
        (ed269_zone(geometry=[]), "geometry: must not be empty"),
        (
            ed269_zone(geometry=[geometry(horizontalProjection={"type": "MultiPolygon"})]),
            'geometry[0].horizontalProjection.type: "MultiPolygon" is not supported',
        ),
        (
            ed269_zone(geometry=[geometry(horizontalProjection={"type": "Circle", "center": [36.6, 35.9]})]),
            "geometry[0].horizontalProjection.radius: is required",
        ),
        (
            ed269_zone(
                geometry=[geometry(horizontalProjection={"type": "Circle", "center": [36.6], "radius": 5})]
            ),
            "geometry[0].horizontalProjection.center: must be [longitude, latitude], got 1 numbers",
        ),
        (
            ed269_zone(
                geometry=[geometry(horizontalProjection={"type": "Polygon", "coordinates": [SQUARE, SQUARE]})]
            ),
            "geometry[0].horizontalProjection.coordinates[1]: polygons with holes are not supported",
        ),
        (ed269_zone(restriction="FORBIDDEN"), 'restriction: "FORBIDDEN" is not one of: PROHIBITED'),
        (ed269_zone(applicability=[]), "applicability: must not be empty"),
        (
            ed269_zone(applicability=[{"permanent": "MAYBE"}]),
            'applicability[0].permanent: must be "YES" or "NO"',
        ),
        (ed269_zone(applicability=[{"permanent": "NO"}]), "applicability[0].startDateTime: is required when"),
        (
            ed269_zone(applicability=[{"permanent": "YES", "endDateTime": "2030-01-01T00:00:00Z"}]),
            "applicability[0].endDateTime: a permanent zone (permanent YES) cannot end",
        ),
        (
            ed269_zone(applicability=[{"permanent": "NO", "startDateTime": "2024-01-01T00:00:00"}]),
            'applicability[0].startDateTime: "2024-01-01T00:00:00" has no UTC offset',
        ),
        (
            ed269_zone(
                applicability=[
                    {
                        "permanent": "NO",
                        "startDateTime": "2024-02-01T00:00:00Z",
                        "endDateTime": "2024-01-01T00:00:00Z",
                    }
                ]
            ),
            "applicability[0].startDateTime: start",
        ),
        (
            ed269_zone(applicability=[{"permanent": "YES", "schedule": [], "dailyPeriod": []}]),
            "applicability[0].dailyPeriod: give schedule or dailyPeriod, not both",
        ),
        (
            ed269_zone(applicability=[{"permanent": "YES", "schedule": [{"day": "MON"}]}]),
            'applicability[0].schedule[0].day: must be a list, got "MON"',
        ),
        (ed269_zone(name=[{"text": "x", "lang": "en"}]), "name: must be a string, got a list"),
    ],
)
def test_errors_name_file_zone_and_field(zone: dict, expected: str):
    error = error_of(doc(ed269_zone("FIRST"), zone))
    assert isinstance(error, ValidationError)
    assert str(error).startswith(f'zones.json: zone 1 (identifier "{zone["identifier"]}"): {expected}'), str(
        error
    )


def test_geometry_faults_name_the_vertex():
    bow_tie = _polygon((36.6, 35.9), (36.7, 36.0), (36.7, 35.9), (36.6, 36.0), (36.6, 35.9))
    error = error_of(doc(ed269_zone(geometry=[geometry(), geometry(horizontalProjection=bow_tie)])))
    assert isinstance(error, GeometryError)
    assert str(error).startswith(
        'zones.json: zone 0 (identifier "SYR01"): geometry[1].horizontalProjection.coordinates[0][2]: '
    ), str(error)


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"formatVersion": "1.0.0"}, "zones.json: UASZoneList: is required"),
        ({"UASZoneList": [], "features": []}, "zones.json: features: give UASZoneList or features, not both"),
        (
            {"type": "FeatureCollection", "features": []},
            "zones.json: type: this is a GeoJSON FeatureCollection",
        ),
        (
            doc(ed269_zone("A"), ed269_zone("A")),
            'zones.json: zone 1 (identifier "A"): identifier: "A" is used by two zones: zone 0 (name'
            ' "Sample zone") and zone 1 (name "Sample zone")',
        ),
        (doc({"identifier": 7}), "zones.json: zone 0: identifier: must be a string, got 7"),
        (doc("zone"), 'zones.json: zone 0: must be an object, got "zone"'),
        ("nope", "zones.json: cannot read the file"),
    ],
)
def test_document_errors(document: object, expected: str):
    assert str(error_of(document)).startswith(expected)
