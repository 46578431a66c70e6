"""Humanitarian proximity in the live scan: tracks inside, or about to enter, the protected
volume of a notified humanitarian site or movement.

A humanitarian notification is informative, never a request for permission (DESIGN.md): a
track near a site or a convoy is not refused, it is an **alert told to both sides** (the
track's party and the notifying organisation), as an operation that meets a notification is
a conflict told to both (docs/humanitarian.md). What counts as near is what the notification
protects: a site's protection radius, a movement's corridor along its route at its scheduled
time (with its time margin), from the ground to its ceiling (AMSL), i.e. the 4D volumes of
``Notification.volumes()`` (domain/notification.py, geo/corridor.py). A track is found when
it is inside one now, or predicted to enter one within the tactical look-ahead flying straight
on: the incursion engine's test (``engines.incursion.detect_incursions``), run against each
notification's volumes as a zone that restricts every party but the notifier's (a convoy's
own vehicles are not an alert about themselves).

Altitudes: a notification's band is AMSL; a track whose altitude cannot be compared with it
(pressure altitude without a stand-in, W84 without the geoid conversion) is not judged against
it and counted, as the scan does for zones.

``proximity_findings`` is pure (tracks, a time and the notifications in, ``Finding``s out);
``notifications_in_force`` reads what the store holds for a scan time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import Connection

from truceline.domain.clock import from_epoch_s, to_ms
from truceline.domain.notification import Notification, NotificationKind
from truceline.domain.track import TrackBatch
from truceline.domain.zone import RESTRICTS_OTHERS, Entry, Zone, ZoneKind, ZoneRule
from truceline.engines.incursion import AltitudePolicy, detect_incursions
from truceline.errors import AltitudeReferenceError
from truceline.service.live_detection import AlertKind, Finding
from truceline.service.notifications import decoded
from truceline.store import notifications as store


@dataclass(frozen=True, slots=True)
class ProximityResult:
    findings: list[Finding]
    incomparable: int  # (track, notification) comparisons skipped: altitudes not comparable


def _as_zone(notification: Notification) -> Zone:
    site = notification.kind is NotificationKind.SITE
    kind = ZoneKind.PROTECTED_SITE if site else ZoneKind.HUMANITARIAN_CORRIDOR
    # Every party but the notifier's; entry "notice": informative, nothing is forbidden.
    rule = ZoneRule(restricts=RESTRICTS_OTHERS, entry=Entry.NOTICE)
    return Zone(notification.id, kind, notification.volumes(), rule, notification.notifier, notification.name)


def _comparable(notification: Notification, code: int, policy: AltitudePolicy) -> bool:
    try:
        for volume in notification.volumes():
            policy.band_for(volume.altitude, code)
    except AltitudeReferenceError:
        return False
    return True


def proximity_findings(
    batch: TrackBatch,
    at_s: float,
    notifications: Sequence[Notification],
    *,
    lookahead_s: float = 300.0,
    policy: AltitudePolicy | None = None,
) -> ProximityResult:
    """The ``proximity`` findings of ``batch`` at ``at_s``: one per (track, notification) with
    the track inside (stage ``inside``) or predicted to enter (``entering``) within
    ``lookahead_s`` a volume the notification protects, for tracks of any party but the
    notifier's. Requires ``lookahead_s`` > 0. Example: a track 2 km from a hospital notified
    with a 5 km radius is ``inside``; 20 km away flying at it at 200 m/s, ``entering`` in ~75 s."""
    policy = policy or AltitudePolicy()
    found: list[Finding] = []
    incomparable = 0
    if len(batch) == 0 or not notifications:
        return ProximityResult(found, 0)
    by_id = {n.id: n for n in notifications}
    for code in np.unique(batch.alt_ref).tolist():
        group = batch.take(np.flatnonzero(batch.alt_ref == code))
        usable = [n for n in notifications if _comparable(n, int(code), policy)]
        incomparable += len(group) * (len(notifications) - len(usable))
        if not usable:
            continue
        inc = detect_incursions(group, [_as_zone(n) for n in usable], lookahead_s=lookahead_s, policy=policy,
                                at_s=at_s)
        for k in range(len(inc)):
            track, notification = str(inc.track_id[k]), by_id[str(inc.zone_id[k])]
            row = int(inc.track_index[k])
            party = str(group.parties[row])
            inside = bool(inc.inside_now[k])
            data = {
                "track": track,
                "notification": notification.id,
                "name": notification.name,
                "organisation": notification.organisation,
                "notifier": notification.notifier,
                "subject_kind": str(notification.kind),
                "entry_s": float(inc.entry_s[k]),
                "inside_now": inside,
            }
            concerned = (party, notification.notifier)
            found.append(Finding(AlertKind.PROXIMITY, (track, notification.id), concerned, data,
                                 "inside" if inside else "entering", group, (row,)))
    return ProximityResult(found, incomparable)


def notifications_in_force(conn: Connection, at_s: float, horizon_s: float) -> list[Notification]:
    """The current version of each notification that may be in force in [at_s, at_s +
    horizon_s) (the look-ahead: a track may enter a movement's corridor that opens soon)."""
    start_ms = to_ms(from_epoch_s(at_s))
    rows = store.overlapping(conn, start_ms, start_ms + int(horizon_s * 1000) + 1)
    out = []
    for row in rows:
        version = store.current_version(conn, row.id)
        if version is not None and version.hash == row.current_hash:
            out.append(decoded(version))
    return out


__all__ = ["ProximityResult", "notifications_in_force", "proximity_findings"]
