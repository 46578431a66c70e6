"""io/cot.py read back by CoT parsers, not only written: the XML by lxml and by takproto's
XML reader (what a TAK client library makes of it), TAK protocol v1 by takproto's stream
parser. Affiliation per viewer, stale = report time + the picture's max age, heights above the
ellipsoid only where one is known."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import takproto
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from truceline.io.cot import (
    UNKNOWN,
    Picture,
    PictureAlert,
    PictureShape,
    PictureTrack,
    alert_event,
    cot_time,
    delete_event,
    encode,
    picture_events,
    shape_event,
    to_protocol_1,
    to_xml,
    track_event,
)

AT = 1633608001.0


def track(**extra: object) -> PictureTrack:
    values: dict[str, object] = {
        "id": "39a415", "party": "north", "own": True, "callsign": "VLJ681N", "time_s": AT - 4.0,
        "lat": 48.95438, "lon": 2.388659, "hae_m": 670.5, "alt_m": 624.84, "alt_ref": "AMSL",
        "speed_mps": 79.739, "course_deg": 248.062, "on_ground": False,
    }
    return PictureTrack(**{**values, **extra})  # type: ignore[arg-type]


def parsed(event: etree._Element) -> etree._Element:
    return etree.fromstring(to_xml(event))


def epoch(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC).timestamp()


def test_a_track_is_friend_to_its_party_and_neutral_to_the_others_never_hostile() -> None:
    mine = parsed(track_event(track(own=True), AT, 60.0))
    theirs = parsed(track_event(track(own=False), AT, 60.0))
    assert mine.get("type") == "a-f-A" and theirs.get("type") == "a-n-A"
    assert mine.get("uid") == theirs.get("uid") == "truceline.track.39a415"


def test_a_track_event_carries_time_stale_point_course_speed_and_callsign() -> None:
    e = parsed(track_event(track(), AT, 60.0))
    assert epoch(e.get("time")) == AT and epoch(e.get("start")) == AT - 4.0
    assert epoch(e.get("stale")) == AT - 4.0 + 60.0  # the register drops it then
    point = e.find("point")
    assert float(point.get("lat")) == 48.95438 and float(point.get("lon")) == 2.388659
    assert float(point.get("hae")) == 670.5 and float(point.get("ce")) == UNKNOWN == float(point.get("le"))
    assert float(e.find("detail/track").get("course")) == 248.062
    assert float(e.find("detail/track").get("speed")) == 79.739
    assert e.find("detail/contact").get("callsign") == "VLJ681N"
    assert "624 m AMSL" in e.find("detail/remarks").text or "625 m AMSL" in e.find("detail/remarks").text


def test_a_pressure_altitude_is_no_height_above_the_ellipsoid() -> None:
    e = parsed(track_event(track(hae_m=None, alt_m=6172.2, alt_ref="pressure", callsign=""), AT, 60.0))
    assert float(e.find("point").get("hae")) == UNKNOWN
    assert e.find("detail/contact").get("callsign") == "39a415"  # no callsign: the track id
    assert "6172 m pressure" in e.find("detail/remarks").text


@settings(max_examples=60, deadline=None)
@given(
    lat=st.floats(-89.9, 89.9), lon=st.floats(-180, 180), speed=st.floats(0, 2000),
    course=st.floats(0, 359.99), age=st.floats(0, 59), max_age=st.floats(1, 600),
    own=st.booleans(), callsign=st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=1, max_size=8),
)
def test_takprotos_reader_and_protocol_1_give_back_what_was_written(
    lat: float, lon: float, speed: float, course: float, age: float, max_age: float, own: bool, callsign: str
) -> None:
    t = track(lat=lat, lon=lon, speed_mps=speed, course_deg=course, time_s=AT - age, own=own,
              callsign=callsign)
    xml = to_xml(track_event(t, AT, max_age))
    for data in (xml, to_protocol_1(xml)):
        message = takproto.parse_proto(bytearray(data))
        cot = message.cotEvent
        assert cot.type == ("a-f-A" if own else "a-n-A")
        assert cot.uid == "truceline.track.39a415" and cot.how == "m-g"
        assert math.isclose(cot.lat, lat, abs_tol=1e-7) and math.isclose(cot.lon, lon, abs_tol=1e-7)
        assert cot.sendTime == round(AT * 1000)
        # times in milliseconds, as CoT writes them
        assert abs(cot.startTime - (AT - age) * 1000) <= 1.0
        assert abs(cot.staleTime - (AT - age + max_age) * 1000) <= 1.0
        assert math.isclose(cot.detail.track.speed, speed, abs_tol=1e-6)
        assert math.isclose(cot.detail.track.course, course, abs_tol=1e-6)
        assert cot.detail.contact.callsign == callsign


def test_protocol_1_is_the_stream_framing() -> None:
    data = to_protocol_1(to_xml(track_event(track(), AT, 60.0)))
    assert data[0] == 0xBF  # TAK protocol v1's magic byte, then a varint length and the message
    message = takproto.parse_proto(bytearray(data))
    assert message.cotEvent.detail.contact.callsign == "VLJ681N"


def test_zones_and_sites_are_tak_shapes() -> None:
    ring = ((2.0, 48.0), (2.5, 48.0), (2.5, 48.5), (2.0, 48.0))
    polygon = parsed(shape_event(PictureShape("lfpb", "zone", "Le Bourget", "north", ring=ring), AT, 600.0))
    assert polygon.get("type") == "u-d-f" and polygon.get("uid") == "truceline.zone.lfpb"
    links = [tuple(float(x) for x in link.get("point").split(",")) for link in polygon.findall("detail/link")]
    assert links == [(lat, lon) for lon, lat in ring]  # lat,lon order, closed: first again at the end
    assert polygon.find("detail/contact").get("callsign") == "Le Bourget"
    assert epoch(polygon.get("stale")) == AT + 600.0  # a standing zone: re-sent before it goes stale
    site = PictureShape("h1", "site", "Hospital", "msf", circle=(2.35, 48.85, 500.0), end_s=AT + 60.0)
    circle = parsed(shape_event(site, AT, 600.0))
    assert circle.get("type") == "u-d-c-c"
    ellipse = circle.find("detail/shape/ellipse")
    assert float(ellipse.get("major")) == float(ellipse.get("minor")) == 500.0
    assert float(circle.find("point").get("lat")) == 48.85
    assert epoch(circle.get("stale")) == AT + 60.0  # it ends before the horizon


def test_alerts_and_deletes() -> None:
    alert = PictureAlert("0190-a", "incursion", ("39a415", "lfpb"), "inside", 48.9, 2.4, AT - 30, AT)
    e = parsed(alert_event(alert, AT, 600.0))
    assert e.get("type") == "b-a-g" and "incursion 39a415 / lfpb (inside)" in e.find("detail/remarks").text
    conflict = parsed(alert_event(PictureAlert("0190-b", "conflict", ("a", "b"), "los", 48.9, 2.4, AT, AT),
                                  AT, 600.0))
    assert conflict.get("type") == "b-a-o-tbl"
    gone = parsed(delete_event("truceline.alert.0190-a", "b-a-g", AT))
    assert gone.get("type") == "t-x-d-d"
    assert gone.find("detail/link").get("uid") == "truceline.alert.0190-a"
    assert gone.find("detail/__forcedelete") is not None


def test_a_picture_round_trips_through_json_and_every_event_parses() -> None:
    picture = Picture(AT, "north", 60.0, tracks=(track(), track(id="b1", own=False, party="south")),
                      shapes=(PictureShape("h1", "site", "Hospital", "msf", circle=(2.35, 48.85, 500.0)),),
                      alerts=(PictureAlert("0190-b", "conflict", ("39a415", "b1"), "los", 48.9, 2.4, AT,
                                           AT),))
    again = Picture.from_json(picture.to_json())
    assert again == picture
    for data in encode(picture_events(again), "xml"):
        assert takproto.parse_proto(bytearray(data)) is not None
    assert cot_time(AT) == "2021-10-07T12:00:01.000Z"
