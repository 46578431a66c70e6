"""CSV state vectors with OpenSky Network column names.

Columns (OpenSky history/REST names; SI units, epoch seconds): ``time, icao24, lat, lon,
velocity, heading, vertrate, callsign, onground, alert, spi, squawk, baroaltitude,
geoaltitude, lastposupdate, lastcontact`` and an optional ``party``. Required: ``time, icao24,
lat, lon, velocity, heading, vertrate, onground`` and at least one of ``baroaltitude`` /
``geoaltitude``; the others may be absent; extra columns are ignored.

A row that cannot be used is skipped and counted by reason, with the first few line numbers
(the header is line 1), never silently repaired and never fatal:

- ``no_position``: lat or lon empty (aircraft heard, no position);
- ``stale_position``: ``time - lastposupdate`` above ``max_position_age_s`` (OpenSky repeats
  the last known position until a new one arrives), when that column is filled;
- ``stale_contact``: ``time - lastcontact`` above ``max_position_age_s``, when filled;
- ``no_velocity``: velocity, heading or vertrate empty (a state-based detector cannot
  extrapolate without them);
- ``no_altitude``: airborne (onground False) with no usable altitude;
- ``bad_value``: a number, boolean or id that does not parse or is out of range.

Altitude: ``geoaltitude`` (GNSS, labelled W84), else ``baroaltitude`` (pressure altitude,
labelled None: see truceline.domain.track), as issue 3 specifies; ``altitude_source`` selects
one of them only. A track on the ground may have no altitude (NaN). Values are kept as they are,
including impossible ones (the Paris file has 22 km on the ground): they are data, not faults of
the file. Tracks without a ``party`` column (or with an empty cell) are their own party (the
party is the icao24).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np

from truceline.domain.track import PRESSURE_CODE, TrackBatch, alt_ref_code
from truceline.errors import FormatError
from truceline.geo.altitude import AltitudeReference

REQUIRED = ("time", "icao24", "lat", "lon", "velocity", "heading", "vertrate", "onground")
ALTITUDE_COLUMNS = ("baroaltitude", "geoaltitude")
KNOWN = (
    *REQUIRED,
    "callsign",
    "alert",
    "spi",
    "squawk",
    *ALTITUDE_COLUMNS,
    "lastposupdate",
    "lastcontact",
    "party",
)
REASONS = ("no_position", "stale_position", "stale_contact", "no_velocity", "no_altitude", "bad_value")
FIRST_ROWS_KEPT = 5
_W84 = alt_ref_code(AltitudeReference.W84)


class AltitudeSource(StrEnum):
    GEO_THEN_BARO = "geo-then-baro"
    GEO = "geo"
    BARO = "baro"


@dataclass(slots=True)
class SkippedRows:
    """Rows skipped, per reason: how many, and the first few line numbers."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    first_lines: dict[str, list[int]] = field(default_factory=lambda: {r: [] for r in REASONS})
    first_messages: dict[str, list[str]] = field(default_factory=lambda: {r: [] for r in REASONS})

    def add(self, reason: str, line: int, message: str = "") -> None:
        self.counts[reason] += 1
        if len(self.first_lines[reason]) < FIRST_ROWS_KEPT:
            self.first_lines[reason].append(line)
            self.first_messages[reason].append(message)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def summary(self) -> str:
        """One line, e.g. 'no_position 12 (lines 101, 230, ...)'; empty when nothing was skipped."""
        parts = []
        for reason in REASONS:
            if self.counts[reason]:
                lines = ", ".join(str(x) for x in self.first_lines[reason])
                more = ", ..." if self.counts[reason] > len(self.first_lines[reason]) else ""
                parts.append(f"{reason} {self.counts[reason]} (lines {lines}{more})")
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class StateVectors:
    """Every usable row of a file, in file order (sorted by time as OpenSky writes them; ids
    repeat across rows, so ``rows`` is not a snapshot), with what was skipped."""

    source: str
    rows: TrackBatch
    callsigns: np.ndarray
    skipped: SkippedRows

    @property
    def time_span_s(self) -> tuple[float, float]:
        if len(self.rows) == 0:
            return (math.nan, math.nan)
        return (float(self.rows.t.min()), float(self.rows.t.max()))

    def snapshot(self, at_s: float | None = None, *, max_age_s: float = 30.0) -> TrackBatch:
        """The latest state per icao24 at time ``at_s`` (default: the last time in the file),
        among states with ``at_s - max_age_s < time <= at_s``; older tracks have left."""
        if len(self.rows) == 0:
            return TrackBatch.empty()
        at = float(self.rows.t.max()) if at_s is None else float(at_s)
        t = self.rows.t
        window = np.flatnonzero((t <= at) & (t > at - max_age_s))
        return self.rows.take(_latest_per_id(self.rows, window))

    def snapshots(
        self,
        step_s: float = 5.0,
        *,
        max_age_s: float = 30.0,
        start_s: float | None = None,
        end_s: float | None = None,
    ) -> Iterator[tuple[float, TrackBatch]]:
        """(time, snapshot) every ``step_s`` seconds from the first row time (or ``start_s``) to
        the last (or ``end_s``)."""
        if len(self.rows) == 0:
            return
        if not step_s > 0:
            raise FormatError("must be positive", field="step_s")
        t = self.rows.t
        order = np.argsort(t, kind="stable")
        start, end = float(t[order[0]]), float(t[order[-1]])
        if start_s is not None:
            start = max(start, float(start_s))
        if end_s is not None:
            end = min(end, float(end_s))
        steps = math.floor((end - start) / step_s) + 1
        for k in range(steps):
            at = start + k * step_s
            lo = np.searchsorted(t[order], at - max_age_s, side="right")
            hi = np.searchsorted(t[order], at, side="right")
            yield at, self.rows.take(_latest_per_id(self.rows, order[lo:hi]))


def _latest_per_id(rows: TrackBatch, index: np.ndarray) -> np.ndarray:
    """Of the rows ``index``, the row with the largest time per id (the last one on ties)."""
    if index.size == 0:
        return index
    ids = rows.ids[index].astype(str)
    order = np.lexsort((rows.t[index], ids))
    ids_sorted = ids[order]
    last = np.append(ids_sorted[1:] != ids_sorted[:-1], True)
    return np.sort(index[order[last]])


def read_state_vectors(
    path: str | Path,
    *,
    max_position_age_s: float = 30.0,
    altitude_source: AltitudeSource | str = AltitudeSource.GEO_THEN_BARO,
) -> StateVectors:
    """Read a state-vector CSV. Raises FormatError (naming the file and the missing columns)
    when the header lacks required columns; rows that cannot be used are skipped and counted."""
    source = str(path)
    altitude_source = AltitudeSource(altitude_source)
    try:
        handle = open(path, newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise FormatError(f"cannot open: {exc.strerror}", where=source) from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise FormatError("empty file, expected an OpenSky state-vector header", where=source)
        header = [h.strip() for h in header]
        missing = [c for c in REQUIRED if c not in header]
        if not any(c in header for c in ALTITUDE_COLUMNS):
            missing.append("baroaltitude or geoaltitude")
        if missing:
            raise FormatError(
                f"missing required column(s): {', '.join(missing)} (found: {', '.join(header)})",
                field="header",
                where=source,
            )
        col = {name: header.index(name) for name in KNOWN if name in header}
        return _read_rows(source, reader, col, len(header), max_position_age_s, altitude_source)


def _read_rows(
    source: str,
    reader: Iterator[list[str]],
    col: dict[str, int],
    width: int,
    max_age_s: float,
    altitude_source: AltitudeSource,
) -> StateVectors:
    skipped = SkippedRows()
    out: dict[str, list] = {
        k: []
        for k in ("ids", "parties", "t", "lat", "lon", "alt", "ref", "gs", "trk", "vs", "gnd", "callsign")
    }
    use_geo = altitude_source is not AltitudeSource.BARO and "geoaltitude" in col
    use_baro = altitude_source is not AltitudeSource.GEO and "baroaltitude" in col
    get = _Getter(col)
    for line, row in enumerate(reader, start=2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue  # blank line
        if len(row) != width:
            skipped.add("bad_value", line, f"{len(row)} fields, header has {width}")
            continue
        try:
            icao = get.text(row, "icao24").lower()
            if not icao:
                raise _Bad("icao24 is empty")
            t = get.number(row, "time")
            if t is None:
                raise _Bad("time is empty")
            lat, lon = get.number(row, "lat"), get.number(row, "lon")
            if lat is None or lon is None:
                skipped.add("no_position", line)
                continue
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                raise _Bad(f"position ({lat}, {lon}) out of range")
            pos_time = get.number(row, "lastposupdate")
            if pos_time is not None and t - pos_time > max_age_s:
                skipped.add("stale_position", line, f"position {t - pos_time:.0f} s old")
                continue
            contact = get.number(row, "lastcontact")
            if contact is not None and t - contact > max_age_s:
                skipped.add("stale_contact", line, f"last contact {t - contact:.0f} s ago")
                continue
            gs, trk, vs = get.number(row, "velocity"), get.number(row, "heading"), get.number(row, "vertrate")
            if gs is None or trk is None or vs is None:
                skipped.add("no_velocity", line)
                continue
            if gs < 0 or not -360 <= trk <= 360 or abs(vs) > 500 or gs > 2000:
                raise _Bad(f"velocity {gs}, heading {trk} or vertrate {vs} out of range")
            on_ground = get.boolean(row, "onground")
            alt, ref = None, PRESSURE_CODE
            if use_geo:
                alt, ref = get.number(row, "geoaltitude"), _W84
            if alt is None and use_baro:
                alt, ref = get.number(row, "baroaltitude"), PRESSURE_CODE
            if alt is None:
                if not on_ground:
                    skipped.add("no_altitude", line)
                    continue
                alt = math.nan
            party = get.text(row, "party") or icao
        except _Bad as bad:
            skipped.add("bad_value", line, str(bad))
            continue
        out["ids"].append(icao)
        out["parties"].append(party)
        out["t"].append(t)
        out["lat"].append(lat)
        out["lon"].append(lon)
        out["alt"].append(alt)
        out["ref"].append(ref)
        out["gs"].append(gs)
        out["trk"].append(trk)
        out["vs"].append(vs)
        out["gnd"].append(on_ground)
        out["callsign"].append(get.text(row, "callsign"))
    rows = TrackBatch(
        ids=np.array(out["ids"], dtype=object),
        parties=np.array(out["parties"], dtype=object),
        t=np.array(out["t"], dtype=np.float64),
        lat=np.array(out["lat"], dtype=np.float64),
        lon=np.array(out["lon"], dtype=np.float64),
        alt_m=np.array(out["alt"], dtype=np.float64),
        gs=np.array(out["gs"], dtype=np.float64),
        trk=np.array(out["trk"], dtype=np.float64),
        vs=np.array(out["vs"], dtype=np.float64),
        on_ground=np.array(out["gnd"], dtype=np.bool_),
        alt_ref=np.array(out["ref"], dtype=np.uint8),
    )
    return StateVectors(source, rows, np.array(out["callsign"], dtype=object), skipped)


class _Bad(Exception):
    pass


_TRUE = {"true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no"}


class _Getter:
    def __init__(self, col: dict[str, int]):
        self.col = col

    def text(self, row: list[str], name: str) -> str:
        i = self.col.get(name)
        return "" if i is None else row[i].strip()

    def number(self, row: list[str], name: str) -> float | None:
        s = self.text(row, name)
        if not s:
            return None
        try:
            value = float(s)
        except ValueError:
            raise _Bad(f"{name} {s!r} is not a number") from None
        if not math.isfinite(value):
            raise _Bad(f"{name} {s!r} is not finite")
        return value

    def boolean(self, row: list[str], name: str) -> bool:
        s = self.text(row, name).lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        raise _Bad(f"{name} {s!r} is not True or False")
