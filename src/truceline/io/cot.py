"""Cursor-on-Target out: one viewer's live picture as CoT events, XML or TAK protocol v1.

What is written (CoT 2.0 event schema, MITRE; TAK's shapes and alarms as ATAK draws them):

- a track: ``a-f-A`` (friend, air) when it is the viewer's own party's, ``a-n-A`` (neutral, air)
  for every other party's; never ``a-h`` (hostile): a deconfliction register tells parties
  where the others are, it does not designate them (DESIGN.md, "The live picture"). ``time``
  is when the picture was read, ``start`` the report's time, ``stale`` the report's time plus
  the picture's track max age: a client drops a track the register would drop. ``point``
  carries ``hae`` (height above the WGS84 ellipsoid: a W84 altitude as reported, an AMSL one
  through EGM96; a pressure or AGL altitude is no height above the ellipsoid, so ``hae`` is
  CoT's "unknown" 9999999.0 and the reported altitude goes in ``remarks``), ``ce``/``le``
  unknown (9999999.0: state vectors carry no error estimate); ``detail/track`` course (degrees
  true) and speed (m/s), ``detail/contact`` the callsign (else the track id);
- a zone: a closed ``u-d-f`` freeform shape, one ``<link point="lat,lon"/>`` per vertex and
  the first again at the end, or a ``u-d-c-c`` circle (``shape/ellipse`` with major = minor =
  the radius) centred on its point; a humanitarian site is a ``u-d-c-c`` circle of its
  protection radius, a movement an open ``u-d-f`` line along its route;
- an open alert: an incursion is ``b-a-g`` (ATAK's geofence-breach alarm), a conflict or a
  non-conformance ``b-a-o-tbl`` (ATAK's "trouble" alarm), at the mean position of its tracks,
  with ``remarks`` saying what it is;
- an item that left the picture: ``t-x-d-d`` (TAK's delete) naming it in ``link``, with
  ``__forcedelete``.

TAK protocol v1 (``--protocol 1``): each event is the XML converted by ``takproto`` into a
``TakMessage`` and framed as TAK's stream format (0xbf, a varint length, the protobuf).

Pure: the caller gives the picture and the time; nothing is read here.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

UNKNOWN = 9999999.0  # CoT's value for an unknown hae, ce or le
XML_DECLARATION = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
FRIEND_AIR = "a-f-A"
NEUTRAL_AIR = "a-n-A"
DELETE = "t-x-d-d"
ALARM_GEOFENCE = "b-a-g"
ALARM_TROUBLE = "b-a-o-tbl"
POLYGON = "u-d-f"
CIRCLE = "u-d-c-c"
UID_PREFIX = "truceline"


@dataclass(frozen=True, slots=True)
class PictureTrack:
    id: str
    party: str
    own: bool  # the viewer's own party's track
    callsign: str
    time_s: float
    lat: float
    lon: float
    hae_m: float | None  # height above the WGS84 ellipsoid, None when not known
    alt_m: float | None  # as reported, in ``alt_ref``
    alt_ref: str
    speed_mps: float
    course_deg: float
    on_ground: bool


@dataclass(frozen=True, slots=True)
class PictureShape:
    """A zone, a humanitarian site or a movement: ``ring`` (lon, lat) vertices (closed: first
    == last; open for a route), or a ``circle`` (lon, lat, radius_m)."""

    id: str
    kind: str  # zone | site | movement
    name: str
    party: str
    ring: tuple[tuple[float, float], ...] = ()
    circle: tuple[float, float, float] | None = None
    start_s: float | None = None
    end_s: float | None = None  # None: standing
    remarks: str = ""


@dataclass(frozen=True, slots=True)
class PictureAlert:
    id: str
    kind: str  # conflict | incursion | nonconformance
    subject: tuple[str, ...]
    stage: str
    lat: float
    lon: float
    opened_s: float
    last_seen_s: float


@dataclass(frozen=True, slots=True)
class Picture:
    """What one viewer may see at ``at_s``: its tracks, shapes and open alerts."""

    at_s: float
    viewer: str
    track_max_age_s: float
    tracks: tuple[PictureTrack, ...] = ()
    shapes: tuple[PictureShape, ...] = ()
    alerts: tuple[PictureAlert, ...] = ()
    horizon_s: float = field(default=600.0)  # stale of a standing shape or an alert: at_s + this

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> Picture:
        """The picture of ``GET /picture``'s body (KeyError/TypeError on another shape)."""
        shapes = []
        for s in document["shapes"]:
            circle = s.get("circle")
            shapes.append(PictureShape(**{**s, "ring": tuple(tuple(p) for p in s.get("ring") or ()),
                                          "circle": tuple(circle) if circle else None}))
        return cls(
            at_s=float(document["at_s"]),
            viewer=str(document["viewer"]),
            track_max_age_s=float(document["track_max_age_s"]),
            tracks=tuple(PictureTrack(**t) for t in document["tracks"]),
            shapes=tuple(shapes),
            alerts=tuple(PictureAlert(**{**a, "subject": tuple(a["subject"])}) for a in document["alerts"]),
            horizon_s=float(document.get("horizon_s", 600.0)),
        )


def cot_time(epoch_s: float) -> str:
    """CoT's xs:dateTime in UTC with milliseconds: ``2021-10-07T12:00:01.000Z``."""
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _event(uid: str, kind: str, how: str, time_s: float, start_s: float, stale_s: float, lat: float,
           lon: float, hae_m: float | None = None) -> ET.Element:
    event = ET.Element("event", {
        "version": "2.0", "uid": uid, "type": kind, "how": how,
        "time": cot_time(time_s), "start": cot_time(start_s), "stale": cot_time(max(stale_s, start_s)),
    })
    hae = UNKNOWN if hae_m is None or not math.isfinite(hae_m) else hae_m
    ET.SubElement(event, "point", {"lat": _num(lat), "lon": _num(lon), "hae": _num(hae),
                                   "ce": _num(UNKNOWN), "le": _num(UNKNOWN)})
    return event


def _num(value: float) -> str:
    return f"{value:.7f}".rstrip("0").rstrip(".") if value != UNKNOWN else "9999999.0"


def track_uid(track_id: str) -> str:
    return f"{UID_PREFIX}.track.{track_id}"


def track_event(track: PictureTrack, at_s: float, max_age_s: float) -> ET.Element:
    """A track's event (module docstring): friend to its own party, neutral to the others."""
    kind = FRIEND_AIR if track.own else NEUTRAL_AIR
    # m-g: machine-generated from GPS-derived positions (ADS-B, a party's own feed)
    event = _event(track_uid(track.id), kind, "m-g", at_s, track.time_s, track.time_s + max_age_s,
                   track.lat, track.lon, track.hae_m)
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "track", {"course": _num(track.course_deg % 360.0), "speed": _num(track.speed_mps)})
    ET.SubElement(detail, "contact", {"callsign": track.callsign or track.id})
    altitude = "unknown" if track.alt_m is None else f"{track.alt_m:.0f} m {track.alt_ref}"
    ground = ", on the ground" if track.on_ground else ""
    ET.SubElement(detail, "remarks").text = f"{track.party}: {track.id}, altitude {altitude}{ground}"
    return event


def shape_event(shape: PictureShape, at_s: float, horizon_s: float) -> ET.Element:
    """A zone, site or movement as a TAK shape (module docstring)."""
    uid = f"{UID_PREFIX}.{shape.kind}.{shape.id}"
    start = shape.start_s if shape.start_s is not None else at_s
    stale = at_s + horizon_s if shape.end_s is None else min(shape.end_s, at_s + horizon_s)
    if shape.circle is not None:
        lon, lat, radius = shape.circle
        event = _event(uid, CIRCLE, "h-e", at_s, start, stale, lat, lon)
        detail = ET.SubElement(event, "detail")
        outline = ET.SubElement(detail, "shape")
        ET.SubElement(outline, "ellipse", {"major": _num(radius), "minor": _num(radius), "angle": "360"})
    else:
        lons = [p[0] for p in shape.ring]
        lats = [p[1] for p in shape.ring]
        # the event's point: the middle of the vertices' extent (TAK labels the shape there)
        event = _event(uid, POLYGON, "h-e", at_s, start, stale, (min(lats) + max(lats)) / 2,
                       (min(lons) + max(lons)) / 2)
        detail = ET.SubElement(event, "detail")
        for lon, lat in shape.ring:
            ET.SubElement(detail, "link", {"point": f"{_num(lat)},{_num(lon)}"})
        ET.SubElement(detail, "closed", {"value": "true" if shape.ring[0] == shape.ring[-1] else "false"})
    ET.SubElement(detail, "contact", {"callsign": shape.name or shape.id})
    ET.SubElement(detail, "labels_on", {"value": "true"})
    remarks = f"{shape.kind} {shape.id} ({shape.party})" + (f": {shape.remarks}" if shape.remarks else "")
    ET.SubElement(detail, "remarks").text = remarks
    return event


def alert_event(alert: PictureAlert, at_s: float, horizon_s: float) -> ET.Element:
    """An open alert as a TAK alarm at its tracks' mean position (module docstring)."""
    kind = ALARM_GEOFENCE if alert.kind == "incursion" else ALARM_TROUBLE
    event = _event(f"{UID_PREFIX}.alert.{alert.id}", kind, "m-g", at_s, alert.opened_s, at_s + horizon_s,
                   alert.lat, alert.lon)
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "contact", {"callsign": f"{alert.kind}: {' / '.join(alert.subject)}"})
    ET.SubElement(detail, "remarks").text = f"{alert.kind} {' / '.join(alert.subject)} ({alert.stage})"
    return event


def delete_event(uid: str, kind: str, at_s: float) -> ET.Element:
    """TAK's delete of the item ``uid`` (of CoT type ``kind``), e.g. an alert that closed."""
    event = _event(f"{uid}.delete", DELETE, "h-g-i-g-o", at_s, at_s, at_s + 60.0, 0.0, 0.0)
    detail = ET.SubElement(event, "detail")
    ET.SubElement(detail, "link", {"uid": uid, "relation": "none", "type": kind})
    ET.SubElement(detail, "__forcedelete")
    return event


def picture_events(picture: Picture) -> list[ET.Element]:
    """Every event of ``picture``: tracks, shapes, alerts."""
    at = picture.at_s
    return [
        *(track_event(t, at, picture.track_max_age_s) for t in picture.tracks),
        *(shape_event(s, at, picture.horizon_s) for s in picture.shapes),
        *(alert_event(a, at, picture.horizon_s) for a in picture.alerts),
    ]


def to_xml(event: ET.Element) -> bytes:
    """One event as a CoT XML document (with its declaration, as TAK clients expect)."""
    return XML_DECLARATION + ET.tostring(event, encoding="unicode").encode("utf-8")


def to_protocol_1(xml: bytes) -> bytes:
    """One event in TAK protocol v1's stream framing (0xbf, varint length, TakMessage)."""
    import takproto  # only a protocol-1 stream needs it

    return bytes(takproto.xml2proto(xml, takproto.TAKProtoVer.STREAM))


def encode(events: Iterable[ET.Element], protocol: str) -> list[bytes]:
    """Each event as bytes to write on a TAK stream: ``xml`` or ``1`` (protocol v1)."""
    if protocol not in ("xml", "1"):
        raise ValueError(f"protocol {protocol!r} is not xml or 1")
    docs = [to_xml(e) for e in events]
    return docs if protocol == "xml" else [to_protocol_1(d) for d in docs]


def uids(events: Sequence[ET.Element]) -> dict[str, str]:
    """uid -> CoT type of each event."""
    return {e.get("uid", ""): e.get("type", "") for e in events}


__all__ = ["Picture", "PictureAlert", "PictureShape", "PictureTrack", "alert_event", "cot_time",
           "delete_event", "encode", "picture_events", "shape_event", "to_protocol_1", "to_xml",
           "track_event"]
