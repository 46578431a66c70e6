"""Tracks in: parties' state vectors into the live picture (``TrackPicture``), row by row.

Positions are a stream, not ledger entries (DESIGN.md, "The live picture"): the latest state
of each track is held here, in memory, and only what the states cause (an alert opened or
closed: ``live_detection``) is logged.

Ownership. A track id belongs to the party that first reported it, for as long as the track
is live: a report of the same id by another party is refused for that row (``owned``), and
the claim ends when the track is dropped for silence (``max_age_s`` without a report), so an
id that a transponder reuses later is not blocked for ever. A batch naming another party as
a track's ``party`` is refused whole (403): a party speaks only for itself.

Rows. A JSON state is ``{"id", "time", "lat", "lon", "alt_m", "alt_ref", "velocity",
"heading", "vertrate", "onground", "callsign"}`` (SI units, ``time`` epoch seconds, ``alt_ref``
one of W84, AMSL, AGL or ``pressure``; ``alt_m`` may be null on the ground; ``party``
optional, and only the caller's own). A CSV body has OpenSky columns
(``io.statevectors``). A row that cannot be used is refused with its index (from 0, in
the order sent; CSV: data rows, the header not counted), the field and the reason; the others
are kept. A state older than the one held for its track, older than ``max_age_s`` or more
than ``FUTURE_SKEW_S`` ahead of the server's clock is refused (``stale`` / ``future``).
"""

from __future__ import annotations

import math
import re
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from truceline.domain.clock import ms_text, to_epoch_s
from truceline.domain.party import Role
from truceline.domain.track import ALT_REF_CODES, Track, TrackBatch
from truceline.errors import ForbiddenError, ValidationError
from truceline.geo.altitude import AltitudeReference
from truceline.io.statevectors import parse_state_vectors
from truceline.service.auth import Principal
from truceline.service.hotline import AlertView
from truceline.service.service import Service
from truceline.store import alerts as alert_store

MAX_STATES = 20_000  # rows per batch (a 1 MiB body holds about 8,000 JSON states anyway)
SWEEP_EVERY_S = 1.0  # a picture sweeps out its silent tracks on an offer at most this often
FUTURE_SKEW_S = 60.0  # a state this far ahead of the server's clock is refused
TRACK_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # ends up in alerts, ledger entries and hotline texts
MAX_CALLSIGN_CHARS = 16
TRAIL_POINTS = 10  # positions kept per track for the map's trail (the latest included)
PRESSURE = "pressure"  # alt_ref of a pressure altitude (OpenSky baroaltitude)
_FIELDS = ("id", "time", "lat", "lon", "alt_m", "alt_ref", "velocity", "heading", "vertrate", "onground",
           "callsign", "party")


@dataclass(frozen=True, slots=True)
class Refusal:
    """A row not taken: its index in the batch, the field at fault and why."""

    index: int
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class Ingested:
    """The answer to a batch: how many rows were taken, and each refused one."""

    accepted: int
    refused: list[Refusal]


@dataclass(frozen=True, slots=True)
class Held:
    """A track's latest state, who owns it and its callsign (may be empty)."""

    track: Track
    callsign: str


@dataclass(frozen=True, slots=True)
class LiveTrack:
    """A live track as the map shows it: its latest state, callsign and last positions
    ``(time_s, lon, lat)``, oldest first."""

    track: Track
    callsign: str
    trail: list[tuple[float, float, float]]


@dataclass(slots=True)
class TrackPicture:
    """The latest state of every live track, by id; thread-safe (HTTP handlers, the NATS
    consumer and the scan share it). ``reports`` counts every state taken, for metrics and tests."""

    max_age_s: float = 60.0
    _held: dict[str, Held] = field(default_factory=dict)
    # The last few positions of each track, (time_s, lon, lat), oldest first: the map's trail.
    # Only here, in memory, as the positions themselves (they are never ledger entries).
    _trails: dict[str, deque[tuple[float, float, float]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _swept_s: float = -math.inf  # the clock reading of the last full sweep (_drop_silent)
    reports: int = 0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.max_age_s) and self.max_age_s > 0):
            raise ValidationError(f"{self.max_age_s!r} must be a positive number", field="max_age_s")

    def offer(self, tracks: Sequence[tuple[int, Track, str]], now_s: float) -> list[Refusal]:
        """Take each (index, track, callsign) that is newer than the state held, owned by its
        reporter (or unclaimed) and of a plausible time; the refusals of the others."""
        refused: list[Refusal] = []
        limit = now_s - self.max_age_s
        with self._lock:
            # The whole sweep costs a pass over every held track: at 20,000 live tracks and
            # batches of 500 it was a fifth of a worker's ingest (bench/live.py, profiled). So
            # it runs once a second of the clock here, and a silent state met below is dropped
            # on the spot: every offer sees the picture exactly as after a full sweep.
            if now_s - self._swept_s >= SWEEP_EVERY_S:
                self._drop_silent(now_s)
            for index, track, callsign in tracks:
                if track.time_s > now_s + FUTURE_SKEW_S:
                    refused.append(Refusal(index, "time", f"{track.time_s!r} is more than "
                                           f"{FUTURE_SKEW_S:.0f} s ahead of the server's clock"))
                    continue
                if track.time_s <= now_s - self.max_age_s:
                    refused.append(Refusal(index, "time", f"older than {self.max_age_s:.0f} s: the track "
                                           "would already be dropped"))
                    continue
                held = self._held.get(track.id)
                if held is not None and held.track.time_s <= limit:  # silent: dropped, as a sweep would
                    del self._held[track.id]
                    self._trails.pop(track.id, None)
                    held = None
                if held is not None and held.track.party != track.party:
                    refused.append(Refusal(index, "id", f"track {track.id} is reported by another party"))
                    continue
                if held is not None and held.track.time_s > track.time_s:
                    refused.append(Refusal(index, "time", "older than the state already held for the track"))
                    continue
                self._held[track.id] = Held(track, callsign)
                trail = self._trails.setdefault(track.id, deque(maxlen=TRAIL_POINTS))
                if trail and trail[-1][0] == track.time_s:
                    trail.pop()  # a resend of the same moment replaces it
                trail.append((track.time_s, track.lon, track.lat))
                self.reports += 1
        return refused

    def _drop_silent(self, now_s: float) -> None:
        # Caller holds the lock. Dropping a track also ends its owner's claim on the id.
        self._swept_s = now_s
        limit = now_s - self.max_age_s
        for track_id in [k for k, held in self._held.items() if held.track.time_s <= limit]:
            del self._held[track_id]
            self._trails.pop(track_id, None)

    def snapshot(self, now_s: float) -> TrackBatch:
        """The live tracks at ``now_s`` (reported within ``max_age_s``), sorted by id."""
        with self._lock:
            self._drop_silent(now_s)
            tracks = [self._held[k].track for k in sorted(self._held)]
        return TrackBatch.from_tracks(tracks) if tracks else TrackBatch.empty()

    def live(self, now_s: float) -> list[LiveTrack]:
        """Every live track at ``now_s`` with its callsign and trail, sorted by id."""
        with self._lock:
            self._drop_silent(now_s)
            return [
                LiveTrack(held.track, held.callsign, list(self._trails.get(k, ())))
                for k, held in sorted(self._held.items())
            ]

    def held(self, track_id: str) -> Held | None:
        with self._lock:
            return self._held.get(track_id)

    def __len__(self) -> int:
        with self._lock:
            return len(self._held)


def now_s(moment: datetime) -> float:
    """Epoch seconds of the server's clock reading."""
    return to_epoch_s(moment)


def state_record(batch: TrackBatch, i: int) -> dict[str, Any]:
    """Track ``i`` of ``batch`` as a state in the form of ``POST /tracks`` (and ``party``), for
    the ledger entries that cite it. Read from the columns: no Track is built (a scan may cite
    thousands)."""
    ref = ALT_REF_CODES[int(batch.alt_ref[i])]
    alt_m = float(batch.alt_m[i])
    return {
        "id": str(batch.ids[i]),
        "party": str(batch.parties[i]),
        "time": float(batch.t[i]),
        "lat": float(batch.lat[i]),
        "lon": float(batch.lon[i]),
        "alt_m": None if math.isnan(alt_m) else alt_m,
        "alt_ref": PRESSURE if ref is None else ref.value,
        "velocity": float(batch.gs[i]),
        "heading": float(batch.trk[i]),
        "vertrate": float(batch.vs[i]),
        "onground": bool(batch.on_ground[i]),
    }


# --- reading rows -------------------------------------------------------------------------


class _RowFault(Exception):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


def _number(row: Mapping[str, Any], name: str, *, optional: bool = False) -> float:
    value = row.get(name)
    if value is None:
        if optional:
            return math.nan
        raise _RowFault(name, "is missing")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _RowFault(name, f"must be a number, not {type(value).__name__}")
    if not math.isfinite(value):
        raise _RowFault(name, "must be finite")
    return float(value)


def _reference(row: Mapping[str, Any], altitude_m: float) -> AltitudeReference | None:
    value = row.get("alt_ref")
    if value is None:
        if math.isnan(altitude_m):
            return AltitudeReference.W84  # no altitude to label (a ground track)
        raise _RowFault("alt_ref", "is missing: W84, AMSL, AGL or pressure")
    if value == PRESSURE:
        return None
    try:
        return AltitudeReference(value)
    except ValueError:
        raise _RowFault("alt_ref", f"{value!r} is not one of W84, AMSL, AGL, pressure") from None


def check_track_id(value: object, field: str = "id") -> str:
    if not isinstance(value, str) or not TRACK_ID.match(value):
        raise _RowFault(field, "must be 1 to 64 letters, digits or . _ : -")
    return value


def _callsign(value: object) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _RowFault("callsign", f"must be a text, not {type(value).__name__}")
    text = value.strip()
    if len(text) > MAX_CALLSIGN_CHARS or not text.isprintable():
        raise _RowFault("callsign", f"must be at most {MAX_CALLSIGN_CHARS} printable characters")
    return text


def _json_row(row: object, party: str) -> tuple[Track, str]:
    if not isinstance(row, Mapping):
        raise _RowFault("state", "must be a JSON object")
    unknown = sorted(set(row) - set(_FIELDS))
    if unknown:
        raise _RowFault(str(unknown[0]), "is not a field of a state")
    track_id = check_track_id(row.get("id"))
    on_ground = row.get("onground", False)
    if not isinstance(on_ground, bool):
        raise _RowFault("onground", "must be true or false")
    altitude_m = _number(row, "alt_m", optional=True)
    try:
        track = Track(
            id=track_id,
            party=party,
            time_s=_number(row, "time"),
            lat=_number(row, "lat"),
            lon=_number(row, "lon"),
            altitude_m=altitude_m,
            altitude_reference=_reference(row, altitude_m),
            ground_speed_mps=_number(row, "velocity"),
            track_deg=_number(row, "heading"),
            vertical_rate_mps=_number(row, "vertrate"),
            on_ground=on_ground,
        )
    except ValidationError as error:
        raise _RowFault(_JSON_NAME.get(error.field or "", error.field or "state"), error.message) from None
    return track, _callsign(row.get("callsign"))


# Track's field names -> the state's (a domain check names its own field).
_JSON_NAME = {"time_s": "time", "altitude_m": "alt_m", "ground_speed_mps": "velocity", "track_deg": "heading",
              "vertical_rate_mps": "vertrate"}


def _check_speaker(parties: Sequence[object], principal: Principal) -> None:
    """403 when any row names another party than the caller: not a bad row, a party
    speaking for another (refused whole)."""
    for i, party in enumerate(parties):
        if party not in (None, "", principal.name):
            raise ForbiddenError(
                f"a party submits only its own tracks; state {i} names {party!r}", field=f"states[{i}].party"
            )


# --- the commands -------------------------------------------------------------------------


def submit_json(
    picture: TrackPicture, principal: Principal, states: Sequence[object], now: datetime
) -> Ingested:
    """Take a JSON batch of ``principal``'s states; ValidationError for an empty or oversized
    batch, ForbiddenError (403) if a state names another party."""
    _check_size(len(states))
    _check_speaker([s.get("party") if isinstance(s, Mapping) else None for s in states], principal)
    good: list[tuple[int, Track, str]] = []
    refused: list[Refusal] = []
    for index, row in enumerate(states):
        try:
            track, callsign = _json_row(row, principal.name)
        except _RowFault as fault:
            refused.append(Refusal(index, fault.field, fault.reason))
            continue
        good.append((index, track, callsign))
    refused += picture.offer(good, now_s(now))
    return Ingested(len(states) - len(refused), sorted(refused, key=lambda r: r.index))


def submit_csv(picture: TrackPicture, principal: Principal, body: bytes, now: datetime) -> Ingested:
    """Take a CSV batch (OpenSky columns, ``io.statevectors``); as ``submit_json``. A body whose
    header lacks the required columns is a FormatError (422) naming them."""
    states = parse_state_vectors(body, "body", keep_every=True)
    rows = states.rows
    refused = [Refusal(r.line - 2, r.column, f"{r.reason}: {r.message}") for r in states.skipped.refusals]
    total = len(rows) + len(refused)
    _check_size(total)
    # The reader names a missing party after the icao24 (offline files): here it is the caller.
    named = [p if p != i else None for p, i in zip(rows.parties.tolist(), rows.ids.tolist(), strict=True)]
    _check_speaker(named, principal)
    good: list[tuple[int, Track, str]] = []
    for k in range(len(rows)):
        index = int(states.kept_lines[k]) - 2
        try:
            track_id = check_track_id(str(rows.ids[k]), "icao24")
            callsign = _callsign(str(states.callsigns[k] or ""))
        except _RowFault as fault:
            refused.append(Refusal(index, fault.field, fault.reason))
            continue
        t = rows.track(k)
        track = Track(track_id, principal.name, t.time_s, t.lat, t.lon, t.altitude_m, t.altitude_reference,
                      t.ground_speed_mps, t.track_deg, t.vertical_rate_mps, t.on_ground)
        good.append((index, track, callsign))
    refused += picture.offer(good, now_s(now))
    return Ingested(total - len(refused), sorted(refused, key=lambda r: r.index))


def _check_size(n: int) -> None:
    if n == 0:
        raise ValidationError("a batch needs at least one state", field="states")
    if n > MAX_STATES:
        raise ValidationError(f"{n} states; at most {MAX_STATES} a batch", field="states")



# --- the open live alerts (the map's conflicts, incursions) -------------------------------

# Roles that oversee every pair, as they receive every alert's notice: guarantors and observers
# watch the whole ceasefire, the admin runs the server.
_OVERSEERS = (Role.ADMIN, Role.GUARANTOR, Role.OBSERVER)


def open_alerts(service: Service, principal: Principal) -> list[AlertView]:
    """The live alerts still open that ``principal`` was told of (every one for an overseer),
    oldest first, in the form of the stream's alert events."""
    with service.read() as conn:
        rows = alert_store.open_alerts(conn)
        names = Service.parties_by_id(conn)
    if principal.role not in _OVERSEERS:
        rows = [r for r in rows if principal.id in r.parties]
    return [
        AlertView(
            id=r.id,
            kind=r.kind,
            state=r.state,
            subject=list(r.subject),
            parties=[names[p].name if p in names else None for p in r.parties],
            opened_at=ms_text(r.opened_ms),
            updated_at=ms_text(r.updated_ms),
            closed_at=ms_text(r.closed_ms),
            latest=r.latest,
        )
        for r in rows
    ]
