"""One worker's share of the continuous scan (``truceline worker``, bus/workers.py): the scan of
``live_detection`` restricted to the findings whose cell the worker owns (service/partition.py),
with the open alerts handed between workers as cells change hands.

A step at ``at_s`` with the shards the worker holds:

1. Ownership of each open alert: the owner of the cell of its first track's last known
   position. An alert the worker holds but no longer owns is released (not closed: its new
   owner carries it on); an open alert of the store that it now owns is resumed, with the
   episode's state (last seen, last told) that its previous holder published (``Carried``,
   from the workers' status bucket), else as the store has it.
2. The scan of the tracks in its cells, their halo and the tracks of the alerts it holds;
   only its own findings are kept.
3. The commit, in one transaction that reads the store first (ledger appends are serialised
   across processes by the log head's row lock): an opening of an alert already open in the
   store is dropped and the store's alert resumed instead, an update or closing of an alert
   no longer open is dropped. So no episode is opened twice, whatever two workers believe.

``rescan_previous`` scans the last step again with the shards held now: after a takeover,
the cells of a worker that died before scanning that step get it. It changes nothing for the
alerts already stepped at that time (the episode tracker does not step a key twice at one
time, and closes by the same rule), so it is always safe.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from truceline.domain.track import TrackBatch
from truceline.engines.tactical import EpisodeChange
from truceline.ledger.entries import EntryDraft
from truceline.service.live_detection import (
    AlertEvent,
    Finding,
    LiveScanner,
    LiveSettings,
    ScanResult,
    alert_drafts,
    stored_finding,
)
from truceline.service.partition import N_SHARDS, owner_cell, scan_rows, shard_of
from truceline.service.service import Service
from truceline.service.tracks import TrackPicture
from truceline.store import alerts as alert_store

Key = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Carried:
    """An open alert's episode as its holder last stepped it: what a new holder needs to go on
    exactly as the old one would have."""

    alert_id: str
    key: Key
    last_seen_s: float
    told_s: float
    told_stage: str

    def as_json(self) -> list[object]:
        return [self.alert_id, list(self.key), self.last_seen_s, self.told_s, self.told_stage]

    @classmethod
    def from_json(cls, value: list[object]) -> Carried:
        alert_id, key, last_seen_s, told_s, stage = value
        assert isinstance(key, list)
        return cls(str(alert_id), tuple(str(k) for k in key), float(last_seen_s), float(told_s),  # type: ignore[arg-type]
                   str(stage))


@dataclass(frozen=True, slots=True)
class StepResult:
    at_s: float
    result: ScanResult  # its events: those committed
    scanned: int  # tracks in the worker's scan (its cells, the halo, its alerts' tracks)
    resumed: int  # open alerts taken over from the store
    released: int  # alerts handed to another worker
    newest_s: float | None  # the newest track time scanned


class WorkerDetection:
    """A worker's scanner over its picture. Thread-safe (one step at a time)."""

    def __init__(self, service: Service, picture: TrackPicture, settings: LiveSettings | None = None,
                 n_shards: int = N_SHARDS) -> None:
        self.service = service
        self.picture = picture
        self.settings = settings or LiveSettings()
        self.n_shards = n_shards
        self.scanner = LiveScanner(self.settings)
        self.positions: dict[str, tuple[float, float]] = {}  # last known (lat, lon) of each track
        self.previous: tuple[float, TrackBatch] | None = None
        self._lock = threading.Lock()

    def step(self, at_s: float, shards: Collection[int], carried: Mapping[str, Carried]) -> StepResult:
        """Scan the picture at ``at_s`` as the owner of ``shards`` and commit its share."""
        with self._lock:
            batch = self.picture.snapshot(at_s)
            result = self._scan(batch, at_s, frozenset(shards), carried)
            self.previous = (at_s, batch)
            return result

    def rescan_previous(self, shards: Collection[int], carried: Mapping[str, Carried]) -> StepResult | None:
        """The last step again, with ``shards`` (see the module docstring); None before any."""
        with self._lock:
            if self.previous is None:
                return None
            at_s, batch = self.previous
            return self._scan(batch, at_s, frozenset(shards), carried)

    def carried(self) -> list[Carried]:
        """The open alerts this worker holds, as a new holder would take them."""
        with self._lock:
            out = []
            for key, episode in self.scanner.tracker.open.items():
                told_s, stage = self.scanner.told.get(key, (episode.last_seen_s, ""))
                out.append(Carried(self.scanner.ids[key], key, episode.last_seen_s, told_s, stage))
            return out

    # -- the step -----------------------------------------------------------------------

    def _scan(self, batch: TrackBatch, at_s: float, shards: frozenset[int],
              carried: Mapping[str, Carried]) -> StepResult:
        for i, track_id in enumerate(batch.ids.tolist()):
            self.positions[str(track_id)] = (float(batch.lat[i]), float(batch.lon[i]))
        with self.service.read() as conn:
            rows = alert_store.open_alerts(conn)
            names = {p.id: p.name for p in self.service.party_rows(conn)}
        open_rows = {(row.kind, *row.subject): row for row in rows}
        for key, row in open_rows.items():  # a track dropped before this worker saw it
            if key[1] not in self.positions:
                for state in row.latest.get("states", []):
                    if state.get("id") == key[1]:
                        self.positions[key[1]] = (float(state["lat"]), float(state["lon"]))

        def mine(key: Key) -> bool:
            cell = owner_cell(self.positions, key[1:])
            return cell is not None and int(shard_of(cell, self.n_shards)) in shards

        tracker = self.scanner.tracker
        released = 0
        for key in list(tracker.open):
            if key not in open_rows or not mine(key):
                self.scanner.release(key)  # closed by another, or another worker's now
                released += 1
        resumed = 0
        for key, row in open_rows.items():
            if key not in tracker.open and mine(key):
                self._resume(row, names, carried.get(row.id))
                resumed += 1
        # Forget positions no longer needed: tracks gone from the picture and from open alerts.
        named = {k for key in open_rows for k in key[1:]}
        live = set(batch.ids.astype(str).tolist())
        for track_id in [t for t in self.positions if t not in live and t not in named]:
            del self.positions[track_id]

        held_tracks = {k for key in tracker.open for k in key[1:]}
        rows_i = scan_rows(batch, shards, self.settings.detection, self.n_shards, extra=held_tracks)
        part = batch.take(rows_i)
        held = self.service.live()
        result = self.scanner.scan(part, at_s, held.zones, held.operations, self.service.binds,
                                   keep=lambda f: mine(f.key))
        events = self._commit(result.events, names) if result.events else []
        committed = ScanResult(events, result.tracks, result.findings, result.incomparable)
        newest = float(part.t.max()) if len(part) else None
        return StepResult(at_s, committed, len(part), resumed, released, newest)

    def _resume(self, row: alert_store.AlertRow, names: Mapping[str, str], carried: Carried | None) -> None:
        finding = stored_finding(row, dict(names))
        if carried is not None and carried.key == finding.key:
            self.scanner.resume(finding.key, row.id, finding, carried.last_seen_s,
                                (carried.told_s, carried.told_stage))
        else:
            self.scanner.resume(finding.key, row.id, finding, float(row.latest["at_s"]))

    def _commit(self, events: list[AlertEvent], names: Mapping[str, str]) -> list[AlertEvent]:
        kept: list[AlertEvent] = []
        taken: list[alert_store.AlertRow] = []  # openings another worker had made first

        def build(conn: Connection, _now: datetime) -> tuple[list[EntryDraft], None]:
            kept.clear()
            taken.clear()
            open_rows = {(row.kind, *row.subject): row for row in alert_store.open_alerts(conn)}
            open_ids = {row.id for row in open_rows.values()}
            for event in events:
                key = event.finding.key
                if event.change is EpisodeChange.OPENED:
                    if key in open_rows:
                        taken.append(open_rows[key])
                        continue
                elif event.alert_id not in open_ids:
                    continue
                kept.append(event)
            return alert_drafts(conn, kept), None

        self.service.commit(build)
        for row in taken:
            finding: Finding = stored_finding(row, dict(names))
            self.scanner.release(finding.key)
            self.scanner.resume(finding.key, row.id, finding, float(row.latest["at_s"]))
        return list(kept)


__all__ = ["Carried", "StepResult", "WorkerDetection"]
