"""What one reader may see of the live picture (``GET /picture``, and through it TAK clients).

Need-to-know, as for operations (``need_to_know``: a party sees another's operations only as
the volumes that concern it), applied to tracks:

- ``admin``, ``guarantor``, ``observer``: every live track and every open alert (the
  guarantors and observers watch the whole picture, as they see every operation's volumes);
- ``party`` and ``humanitarian``: their own tracks; another party's track only when it
  concerns them: it is a subject of an open alert the reader was told of (a conflict with
  one of its tracks, an incursion into its zone), or it is close enough to one of the reader's
  own tracks that the two could come within the horizontal minimum within the look-ahead
  (distance < (speed of both) x look-ahead + minimum): the tracks the tactical scan weighs
  against the reader's. The alerts: those it was told of;
- everyone of these sees the active zones (as ``GET /zones``) and the humanitarian sites and
  movements in force that it may see (as ``GET /notifications``).

Affiliation is per reader and carried as ``own``: a TAK writer makes the reader's own tracks
friends and every other party's neutral (``io.cot``), never hostile.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

import numpy as np

from truceline.domain.clock import to_epoch_s
from truceline.domain.track import ALT_REF_CODES, TrackBatch
from truceline.domain.zone import Zone
from truceline.engines.tactical import DetectionSettings
from truceline.geo.altitude import AltitudeReference
from truceline.geo.shapes import Circle
from truceline.io.cot import Picture, PictureAlert, PictureShape, PictureTrack
from truceline.service.auth import Principal
from truceline.service.notifications import list_notifications
from truceline.service.service import Service
from truceline.service.tracks import LiveTrack, TrackPicture
from truceline.store import alerts as alert_store

WHOLE_PICTURE_ROLES = ("admin", "guarantor", "observer")
EARTH_RADIUS_M = 6_371_008.8  # mean radius: the reach test needs no better than 0.5 %


def _hae(lon: float, lat: float, alt_m: float, code: int) -> float | None:
    """Height above the WGS84 ellipsoid of a reported altitude, where one exists."""
    if math.isnan(alt_m):
        return None
    ref = ALT_REF_CODES[code]
    if ref is AltitudeReference.W84:
        return alt_m
    if ref is AltitudeReference.AMSL:
        from truceline.geo.geoid import egm96

        return alt_m + float(egm96().height_m(lon, lat))
    return None  # pressure altitude or AGL: no height above the ellipsoid without a model


def _within_reach(batch: TrackBatch, own: np.ndarray, settings: DetectionSettings) -> np.ndarray:
    """For each track, whether it could come within the horizontal minimum of one of the
    ``own`` tracks within the look-ahead (great-circle distance against both speeds)."""
    reach = np.zeros(len(batch), dtype=bool)
    lat, lon = np.radians(batch.lat), np.radians(batch.lon)
    for i in np.flatnonzero(own).tolist():
        # haversine from own track i to every track
        a = (np.sin((lat - lat[i]) / 2) ** 2
             + np.cos(lat) * np.cos(lat[i]) * np.sin((lon - lon[i]) / 2) ** 2)
        distance = 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))
        limit = (batch.gs + batch.gs[i]) * settings.lookahead_s + settings.horizontal_m
        reach |= distance < limit
    return reach


def _alert_position(latest: dict[str, Any]) -> tuple[float, float] | None:
    states = latest.get("states") or []
    if not states:
        return None
    n = len(states)
    return sum(float(s["lon"]) for s in states) / n, sum(float(s["lat"]) for s in states) / n


def _zone_shapes(zone: Zone) -> list[PictureShape]:
    shapes = []
    for k, volume in enumerate(zone.volumes):
        shape = volume.shape
        common: dict[str, Any] = {
            "id": zone.id if len(zone.volumes) == 1 else f"{zone.id}.{k}",
            "kind": "zone", "name": zone.name or zone.id, "party": zone.party or "register",
            "start_s": volume.time.start_s if math.isfinite(volume.time.start_s) else None,
            "end_s": volume.time.end_s if math.isfinite(volume.time.end_s) else None,
            "remarks": f"{zone.kind} zone, entry {zone.rule.entry}",
        }
        if isinstance(shape, Circle):
            shapes.append(PictureShape(**common, circle=(*shape.center, shape.radius_m)))
        else:
            shapes.append(PictureShape(**common, ring=tuple(shape.ring)))
    return shapes


def _notification_shapes(service: Service, principal: Principal, at_s: float) -> list[PictureShape]:
    shapes = []
    for n in list_notifications(service, principal):
        start = _epoch(n["start"])
        end = _epoch(n["end"])
        if (start is not None and at_s < start) or (end is not None and at_s >= end):
            continue  # not in force now
        feature = n["feature"]
        props = feature["properties"]
        common: dict[str, Any] = {"id": n["id"], "name": n["name"], "party": n["notifier"], "start_s": start,
                                  "end_s": end}
        if feature["geometry"]["type"] == "Point":
            lon, lat = feature["geometry"]["coordinates"][:2]
            remarks = f"humanitarian site ({props['site_type']}), {n['organisation']}"
            circle = (lon, lat, props["protection_radius_m"])
            shapes.append(PictureShape(**common, kind="site", circle=circle, remarks=remarks))
        else:
            route = tuple((p[0], p[1]) for p in feature["geometry"]["coordinates"])
            remarks = f"humanitarian movement, corridor {props['corridor_m']:.0f} m, {n['organisation']}"
            shapes.append(PictureShape(**common, kind="movement", ring=route, remarks=remarks))
    return shapes


def _epoch(text: str | None) -> float | None:
    return None if not text else datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _told_alerts(service: Service, principal: Principal) -> list[alert_store.AlertRow]:
    """The open alerts the reader was told of (every one for the whole-picture roles)."""
    whole = principal.role.value in WHOLE_PICTURE_ROLES
    with service.read() as conn:
        return [a for a in alert_store.open_alerts(conn) if whole or principal.id in a.parties]


def _shown(batch: TrackBatch, principal: Principal, told: list[alert_store.AlertRow],
           settings: DetectionSettings) -> np.ndarray:
    """Which of ``batch``'s tracks the reader may see (the module docstring's rule)."""
    if principal.role.value in WHOLE_PICTURE_ROLES:
        return np.ones(len(batch), dtype=bool)
    parties = batch.parties.astype(str) if len(batch) else np.empty(0, dtype=str)
    own = parties == principal.name
    in_alert = {track for a in told for track in a.subject}
    named = np.array([str(i) in in_alert for i in batch.ids.tolist()], dtype=bool)
    return own | named | (_within_reach(batch, own, settings) if own.any() else False)


def live_tracks_for(
    service: Service,
    picture: TrackPicture,
    principal: Principal,
    at: datetime,
    settings: DetectionSettings | None = None,
) -> list[LiveTrack]:
    """The live tracks, with callsign and trail, that ``principal`` may see at ``at`` (the
    map's layer, ``GET /tracks``): the same tracks as its ``picture_for``."""
    at_s = to_epoch_s(at)
    live = picture.live(at_s)
    batch = picture.snapshot(at_s)
    shown = _shown(batch, principal, _told_alerts(service, principal), settings or DetectionSettings())
    visible = {str(track_id) for track_id in batch.ids[shown].tolist()}
    return [t for t in live if t.track.id in visible]


def picture_for(
    service: Service,
    picture: TrackPicture,
    principal: Principal,
    at: datetime,
    settings: DetectionSettings | None = None,
) -> Picture:
    """The picture ``principal`` may see at ``at`` (module docstring)."""
    settings = settings or DetectionSettings()
    at_s = to_epoch_s(at)
    batch = picture.snapshot(at_s)
    told = _told_alerts(service, principal)
    parties = batch.parties.astype(str) if len(batch) else np.empty(0, dtype=str)
    own = parties == principal.name
    shown = _shown(batch, principal, told, settings)
    tracks = []
    for i in np.flatnonzero(shown).tolist():
        held = picture.held(str(batch.ids[i]))
        alt_m = float(batch.alt_m[i])
        ref = ALT_REF_CODES[int(batch.alt_ref[i])]
        tracks.append(PictureTrack(
            id=str(batch.ids[i]), party=str(parties[i]), own=bool(own[i]),
            callsign=held.callsign if held is not None else "", time_s=float(batch.t[i]),
            lat=float(batch.lat[i]), lon=float(batch.lon[i]),
            hae_m=_hae(float(batch.lon[i]), float(batch.lat[i]), alt_m, int(batch.alt_ref[i])),
            alt_m=None if math.isnan(alt_m) else alt_m, alt_ref="pressure" if ref is None else ref.value,
            speed_mps=float(batch.gs[i]), course_deg=float(batch.trk[i]), on_ground=bool(batch.on_ground[i]),
        ))
    alerts = []
    for a in told:
        where = _alert_position(a.latest)
        if where is None:
            continue
        data = a.latest.get("data") or {}
        stage = _stage(a.kind, data)
        alerts.append(PictureAlert(id=a.id, kind=a.kind, subject=tuple(a.subject), stage=stage, lon=where[0],
                                   lat=where[1], opened_s=a.opened_ms / 1000.0,
                                   last_seen_s=float(a.latest.get("at_s", a.updated_ms / 1000.0))))
    shapes = [s for z in service.live().zones for s in _zone_shapes(z)]
    shapes += _notification_shapes(service, principal, at_s)
    return Picture(at_s=at_s, viewer=principal.name, track_max_age_s=picture.max_age_s, tracks=tuple(tracks),
                   shapes=tuple(shapes), alerts=tuple(alerts))


def _stage(kind: str, data: dict[str, Any]) -> str:
    if kind == "conflict":
        return "los" if data.get("los") else "predicted"
    if kind == "incursion":
        return "inside" if data.get("inside_now") else "entering"
    return "outside"


__all__ = ["picture_for"]
