"""Continuous detection over the live picture: conflicts between tracks, incursions into active
zones (binding and declared), non-conformance with filed operations.

Two halves:

- ``LiveScanner.scan(batch, at_s, zones, operations, binds)`` is the pure step: given the live
  tracks and a time, it runs the engines and returns what changed (``AlertEvent``: an alert
  opened, updated or closed). Episodes are ``engines.tactical.EpisodeTracker``'s, as in the
  offline replay: one alert per pair (or track and zone, or track) and episode, updated (not
  raised again) while it persists, closed when it has not been found for ``clear_after_s``.
  An update is told only when the alert grows worse (a predicted conflict becomes a loss of
  separation; a track heading into a zone is inside it) or when it was last told
  ``update_every_s`` ago: a scan every 2 s must not write the log every 2 s, nor a pair
  flickering across the minimum at every scan.
- ``LiveDetection.tick(now)`` runs one scan over the ``TrackPicture`` at the server's clock and
  commits what it tells in one transaction: each opening is an ``alert.opened`` entry with its
  hotline message (in each reader's language, to the parties concerned), each told update an
  ``alert.updated``, each end an ``alert.closed`` with a closing note in the message's thread.
  The server calls it every ``scan_interval_s`` (``TRUCELINE_SCAN_INTERVAL_S``, default 2 s)
  in a worker thread, off the event loop.

Altitudes the engines cannot compare (a track's pressure altitude with no stand-in, a W84 track
against an AMSL zone with no conversion configured) are not guessed: that track and that zone
or operation are not compared, and the scan counts them (``ScanResult.incomparable``) rather
than failing the whole picture.

Humanitarian proximity (tracks near notified sites and movements) is computed by
``service.proximity`` and comes into ``LiveScanner.scan`` through ``extra``: its findings
become alerts like the others (kind ``proximity``, told to the track's party and the notifier).
"""

from __future__ import annotations

import hashlib
import math
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

import numpy as np
from sqlalchemy import Connection

from truceline.domain.clock import from_epoch_s, to_ms
from truceline.domain.operation import Operation
from truceline.domain.track import TrackBatch
from truceline.domain.zone import Zone
from truceline.engines.conformance import check_conformance
from truceline.engines.incursion import AltitudePolicy, detect_incursions
from truceline.engines.tactical import (
    DetectionSettings,
    Episode,
    EpisodeChange,
    EpisodeTracker,
    StateBasedDetector,
)
from truceline.errors import AltitudeReferenceError, ValidationError
from truceline.geo.units import NM_M
from truceline.i18n.templates import Measure
from truceline.ledger.entries import EntryDraft, EntryType
from truceline.service.auth import OPERATOR
from truceline.service.hotline import message_draft
from truceline.service.replay import apply_ground_filter
from truceline.service.service import Service
from truceline.service.texts import template_body
from truceline.service.tracks import TrackPicture, now_s, state_record
from truceline.store import alerts as alert_store


class AlertKind(StrEnum):
    CONFLICT = "conflict"
    INCURSION = "incursion"
    NONCONFORMANCE = "nonconformance"
    PROXIMITY = "proximity"  # near a notified humanitarian site or movement (service/proximity.py)


@dataclass(frozen=True, slots=True)
class LiveSettings:
    clear_after_s: float = 6.0  # three scans without the alert: it is over (a missed report is not)
    update_every_s: float = 30.0
    detection: DetectionSettings = field(default_factory=DetectionSettings)
    policy: AltitudePolicy = field(default_factory=AltitudePolicy)
    ground_below_m: float | None = None

    def __post_init__(self) -> None:
        for name in ("clear_after_s", "update_every_s"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValidationError(f"{value!r} must be a positive number", field=name)


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing a scan found: its kind, subject (track ids, and a zone or operation id), the
    party names concerned, what the engine said, the states that caused it and its stage."""

    kind: AlertKind
    subject: tuple[str, ...]
    parties: tuple[str, ...]
    data: dict[str, Any]
    stage: str  # conflict: predicted | los; incursion: entering | inside; nonconformance: outside
    # The states: rows of the scan's batch, read only when the finding is told (a scan finds
    # thousands that are not new), or as stored (an alert resumed after a restart).
    source: TrackBatch | None = None
    rows: tuple[int, ...] = ()
    saved_states: tuple[dict[str, Any], ...] = ()
    key: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", (self.kind.value, *self.subject))

    def states(self) -> list[dict[str, Any]]:
        if self.source is None:
            return list(self.saved_states)
        return [state_record(self.source, i) for i in self.rows]


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """An alert ``change``d at the scan of ``at_s``: ``finding`` is the latest one (for a close:
    the last seen, at ``last_seen_s``)."""

    change: EpisodeChange
    alert_id: str
    at_s: float
    last_seen_s: float
    finding: Finding


@dataclass(frozen=True, slots=True)
class ScanResult:
    events: list[AlertEvent]
    tracks: int
    findings: int
    incomparable: int  # (track, zone or operation) comparisons skipped: altitudes not comparable


def alert_id_for(key: tuple[str, ...], opened_s: float) -> str:
    """A UUIDv7 for the alert of ``key`` opened at ``opened_s``: the opening time in its first
    48 bits, the rest from a hash of the key and the time, so the same scan gives the same id
    (the scanner stays a pure function of its inputs)."""
    ms = to_ms(from_epoch_s(opened_s))
    digest = int.from_bytes(hashlib.sha256(f"{'|'.join(key)}|{ms}".encode()).digest()[:10], "big")
    value = (ms << 80) | (0x7 << 76) | ((digest >> 62) & 0xFFF) << 64
    value |= (0b10 << 62) | (digest & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


_SEVERITY = {"predicted": 0, "los": 1, "entering": 0, "inside": 1, "outside": 0}

Binds = Callable[[str, str], bool]  # (zone id, party name) -> whether the zone binds the party


class LiveScanner:
    """The pure scan step with its episodes (see the module docstring). Not thread-safe: one
    scan at a time (``LiveDetection`` holds a lock)."""

    def __init__(self, settings: LiveSettings | None = None) -> None:
        self.settings = settings or LiveSettings()
        self.detector = StateBasedDetector(self.settings.detection)
        self.tracker = EpisodeTracker(self.settings.clear_after_s)
        self.ids: dict[tuple[str, ...], str] = {}
        self.told: dict[tuple[str, ...], tuple[float, str]] = {}  # key -> (time, stage) last told

    def resume(self, key: tuple[str, ...], alert_id: str, finding: Finding, last_seen_s: float,
               told: tuple[float, str] | None = None) -> None:
        """Take an alert still open in the store (a restart, or a worker taking over its cell):
        it is updated if found again, closed if not, never opened twice. ``told``: when and at
        which stage it was last told (default: at ``last_seen_s``, at the finding's stage)."""
        self.tracker.open[key] = Episode(key, last_seen_s, last_seen_s, finding, finding)
        self.ids[key] = alert_id
        self.told[key] = told or (last_seen_s, finding.stage)

    def release(self, key: tuple[str, ...]) -> None:
        """Forget an open alert without closing it: another worker carries it on (``resume``)."""
        self.tracker.open.pop(key, None)
        self.ids.pop(key, None)
        self.told.pop(key, None)

    def scan(
        self,
        batch: TrackBatch,
        at_s: float,
        zones: Sequence[Zone] = (),
        operations: Sequence[Operation] = (),
        binds: Binds | None = None,
        extra: Iterable[Finding] = (),
        keep: Callable[[Finding], bool] | None = None,
    ) -> ScanResult:
        """``keep``: which findings this scanner reports (a worker's share, service/partition.py);
        default all."""
        findings, incomparable = self.findings(batch, at_s, zones, operations, binds or (lambda _z, _p: True))
        findings += list(extra)
        if keep is not None:
            findings = [f for f in findings if keep(f)]
        events: list[AlertEvent] = []
        for event in self.tracker.step(at_s, [(f.key, f) for f in findings]):
            key = event.episode.key
            latest = event.episode.latest
            assert isinstance(latest, Finding)
            if event.change is EpisodeChange.OPENED:
                self.ids[key] = alert_id_for(key, at_s)
                self.told[key] = (at_s, latest.stage)
            elif event.change is EpisodeChange.UPDATED:
                told_s, stage = self.told[key]
                # Told when it grows worse, or when it was last told long enough ago: a pair
                # flickering across the 5 NM line is not a log entry every scan.
                worse = _SEVERITY.get(latest.stage, 0) > _SEVERITY.get(stage, 0)
                if not worse and at_s - told_s < self.settings.update_every_s:
                    continue
                self.told[key] = (at_s, latest.stage)
            else:
                self.told.pop(key, None)
            alert_id = self.ids[key] if event.change is not EpisodeChange.CLOSED else self.ids.pop(key)
            events.append(AlertEvent(event.change, alert_id, at_s, event.episode.last_seen_s, latest))
        return ScanResult(events, len(batch), len(findings), incomparable)

    def findings(
        self,
        batch: TrackBatch,
        at_s: float,
        zones: Sequence[Zone],
        operations: Sequence[Operation],
        binds: Binds,
    ) -> tuple[list[Finding], int]:
        """Everything the engines find in ``batch`` at ``at_s`` (not deduplicated in time)."""
        if len(batch) == 0:
            return [], 0
        batch = apply_ground_filter(batch, self.settings.ground_below_m)
        found: list[Finding] = []
        conflicts = self.detector.detect(batch)
        a_rows, b_rows = conflicts.a_index.tolist(), conflicts.b_index.tolist()
        a_parties = batch.parties[conflicts.a_index].tolist()
        b_parties = batch.parties[conflicts.b_index].tolist()
        records = conflicts.records(now=True)
        for rec, i, j, p, q in zip(records, a_rows, b_rows, a_parties, b_parties, strict=True):
            stage = "los" if rec["los"] else "predicted"
            subject = (str(rec["a"]), str(rec["b"]))
            found.append(Finding(AlertKind.CONFLICT, subject, (str(p), str(q)), rec, stage, batch, (i, j)))
        incomparable = 0
        policy = self.settings.policy
        lookahead_s = self.settings.detection.lookahead_s
        for code in np.unique(batch.alt_ref).tolist() if zones or operations else ():
            group = batch.take(np.flatnonzero(batch.alt_ref == code))
            usable_zones = [z for z in zones if _comparable(z.volumes, int(code), policy)]
            usable_ops = [o for o in operations if _comparable(o.volumes, int(code), policy)]
            incomparable += len(group) * (len(zones) - len(usable_zones) + len(operations) - len(usable_ops))
            by_id = {z.id: z for z in usable_zones}
            inc = detect_incursions(group, usable_zones, lookahead_s=lookahead_s, policy=policy, at_s=at_s)
            for k in range(len(inc)):
                track, zone = str(inc.track_id[k]), by_id[str(inc.zone_id[k])]
                party = str(group.parties[int(inc.track_index[k])])
                data = {
                    "track": track,
                    "zone": zone.id,
                    "zone_name": zone.name or zone.id,
                    "zone_party": zone.party or OPERATOR,
                    "entry_s": float(inc.entry_s[k]),
                    "inside_now": bool(inc.inside_now[k]),
                    "binding": binds(zone.id, party),
                    "entry": str(zone.rule.entry),
                }
                concerned = (party, *([zone.party] if zone.party and zone.party != party else []))
                stage = "inside" if data["inside_now"] else "entering"
                subject = (track, zone.id)
                rows = (int(inc.track_index[k]),)
                found.append(Finding(AlertKind.INCURSION, subject, concerned, data, stage, group, rows))
            nc = check_conformance(group, usable_ops, policy=policy)
            for k in range(len(nc)):
                track = str(nc.track_id[k])
                vertical = float(nc.vertical_m[k])
                data = {
                    "track": track,
                    "operation": str(nc.operation_id[k]),
                    "horizontal_m": float(nc.horizontal_m[k]),
                    "vertical_m": None if math.isnan(vertical) else vertical,
                    "time_s": float(nc.time_s[k]),
                }
                party = str(group.parties[int(nc.track_index[k])])
                subject = (track, str(data["operation"]))
                found.append(
                    Finding(AlertKind.NONCONFORMANCE, subject, (party,), data, "outside", group,
                            (int(nc.track_index[k]),))
                )
        return found, incomparable


def _comparable(volumes: Sequence[Any], code: int, policy: AltitudePolicy) -> bool:
    """Whether every volume's band can be compared with a track altitude of reference ``code``."""
    try:
        for volume in volumes:
            policy.band_for(volume.altitude, code)
    except AltitudeReferenceError:
        return False
    return True


# --- the service side: the scan over the picture, its entries and messages ------------------


class LiveDetection:
    """The scan over a ``TrackPicture``, committed. Thread-safe (one scan at a time)."""

    def __init__(self, service: Service, picture: TrackPicture, settings: LiveSettings | None = None) -> None:
        self.service = service
        self.picture = picture
        self.settings = settings or LiveSettings()
        self.scanner = LiveScanner(self.settings)
        self._lock = threading.Lock()
        self.scans = 0
        self.last: ScanResult | None = None
        self._resume()

    def _resume(self) -> None:
        with self.service.read() as conn:
            rows = alert_store.open_alerts(conn)
            names = {p.id: p.name for p in self.service.party_rows(conn)}
        for row in rows:
            finding = stored_finding(row, names)
            self.scanner.resume(finding.key, row.id, finding, float(row.latest["at_s"]))

    def tick(self, now: datetime) -> ScanResult:
        """One scan of the live tracks at ``now``; its openings, told updates and closings
        committed (in one transaction) before it returns."""
        with self._lock:
            at_s = now_s(now)
            batch = self.picture.snapshot(at_s)
            held = self.service.live()
            extra = self._humanitarian(batch, at_s)
            result = self.scanner.scan(batch, at_s, held.zones, held.operations, self.service.binds, extra)
            self.scans += 1
            self.last = result
            if result.events:
                self.service.commit(lambda conn, _now: (alert_drafts(conn, result.events), None))
            return result


    def _humanitarian(self, batch: TrackBatch, at_s: float) -> list[Finding]:
        """Tracks near the humanitarian sites and movements in force (service/proximity.py)."""
        if len(batch) == 0:
            return []
        from truceline.service.proximity import notifications_in_force, proximity_findings

        lookahead_s = self.settings.detection.lookahead_s
        with self.service.read() as conn:
            notifications = notifications_in_force(conn, at_s, lookahead_s)
        batch = apply_ground_filter(batch, self.settings.ground_below_m)
        return proximity_findings(batch, at_s, notifications, lookahead_s=lookahead_s,
                                  policy=self.settings.policy).findings
def stored_finding(row: alert_store.AlertRow, names: dict[str, str]) -> Finding:
    """The latest finding of an open alert as the store holds it (``names``: party id -> name)."""
    latest = row.latest
    kind = AlertKind(row.kind)
    parties = tuple(names.get(p, p) for p in row.parties)
    return Finding(kind, tuple(row.subject), parties, latest["data"], _stage(kind, latest["data"]),
                   saved_states=tuple(latest["states"]))


def _stage(kind: AlertKind, data: dict[str, Any]) -> str:
    if kind is AlertKind.CONFLICT:
        return "los" if data.get("los") else "predicted"
    if kind in (AlertKind.INCURSION, AlertKind.PROXIMITY):
        return "inside" if data.get("inside_now") else "entering"
    return "outside"


def alert_drafts(conn: Connection, events: Sequence[AlertEvent]) -> list[EntryDraft]:
    """The ledger entries (and hotline messages) of ``events``, read against ``conn``."""
    by_name = Service.parties_by_name(conn)
    drafts: list[EntryDraft] = []
    for event in events:
        f = event.finding
        common = {"alert_id": event.alert_id, "at_s": event.at_s, "data": f.data, "states": f.states()}
        if event.change is EpisodeChange.OPENED:
            names = set(f.parties)
            if f.kind is AlertKind.INCURSION:
                # As for a filing in a zone (docs/zones.md): its signatories are told too.
                zone_id = str(f.data["zone"])
                names.update(Service.signatories_in_force(conn, zone_id).get(zone_id, []))
            recipients = sorted({by_name[name].id for name in names if name in by_name})
            at = from_epoch_s(event.at_s)
            told = message_draft(
                at,
                sender=None,
                recipients=recipients,
                priority="urgent" if f.stage in ("los", "inside") else "high",
                body=_opening_body(f),
                about={"kind": "alert", "id": event.alert_id},
            )
            drafts.append(told.draft)
            drafts.append(
                EntryDraft(
                    EntryType.ALERT_OPENED,
                    OPERATOR,
                    {**common, "kind": f.kind.value, "subject": list(f.subject), "parties": recipients,
                     "message_id": told.message_id},
                )
            )
        elif event.change is EpisodeChange.UPDATED:
            drafts.append(EntryDraft(EntryType.ALERT_UPDATED, OPERATOR, common))
        else:
            closed = {**common, "last_seen_s": event.last_seen_s}
            drafts.append(EntryDraft(EntryType.ALERT_CLOSED, OPERATOR, closed))
            row = alert_store.alert(conn, event.alert_id)
            if row is not None and row.parties:
                note = message_draft(
                    from_epoch_s(event.at_s),
                    sender=None,
                    recipients=row.parties,
                    priority="routine",
                    body=template_body(
                        "alert.closed",
                        subject=" / ".join(f.subject),
                        last_seen=from_epoch_s(event.last_seen_s),
                        kind=f.kind.value,
                    ),
                    about={"kind": "alert", "id": event.alert_id},
                    thread_id=row.message_id,
                    in_reply_to=row.message_id,
                    escalate=False,
                )
                drafts.append(note.draft)
    return drafts


def _opening_body(f: Finding) -> dict[str, Any]:
    d = f.data
    if f.kind is AlertKind.CONFLICT:
        dcpa_m = d["dcpa_m"] if isinstance(d["dcpa_m"], float | int) else d["dist_m"]
        return template_body(
            "alert.tactical",
            track=d["a"],
            party=f.parties[0],
            other_track=d["b"],
            other_party=f.parties[1],
            time_to_los_s=float(d["tlos_s"]),
            distance=Measure(round(float(dcpa_m) / NM_M, 1), "NM"),
        )
    if f.kind is AlertKind.INCURSION:
        return template_body(
            "alert.incursion",
            track=d["track"],
            party=f.parties[0],
            zone=d["zone"],
            zone_name=d["zone_name"],
            zone_party=d["zone_party"],
            entry_s=float(d["entry_s"]),
            binding="binding" if d["binding"] else "declared",
        )
    if f.kind is AlertKind.PROXIMITY:
        return template_body(
            "alert.humanitarian",
            track=d["track"],
            party=f.parties[0],
            notification=d["notification"],
            name=d["name"],
            organisation=d["organisation"],
            entry_s=float(d["entry_s"]),
            subject_kind=d["subject_kind"],
        )
    return template_body(
        "alert.non_conforming",
        track=d["track"],
        party=f.parties[0],
        operation=d["operation"],
        horizontal_m=float(d["horizontal_m"]),
        vertical_m=float(d["vertical_m"] or 0.0),
    )


__all__ = ["AlertEvent", "AlertKind", "Finding", "LiveDetection", "LiveScanner", "LiveSettings", "ScanResult",
           "alert_drafts", "alert_id_for", "stored_finding"]
