"""CSV state vectors with OpenSky Network column names.

Columns (OpenSky history/REST names; SI units, epoch seconds): ``time, icao24, lat, lon,
velocity, heading, vertrate, callsign, onground, alert, spi, squawk, baroaltitude,
geoaltitude, lastposupdate, lastcontact`` and an optional ``party``. Required: ``time, icao24,
lat, lon, velocity, heading, vertrate`` and at least one of ``baroaltitude`` / ``geoaltitude``;
the others may be absent; extra columns are ignored.

Parsing is columnar (pyarrow.csv) with an explicit schema: numbers are float64, ``onground``,
``alert`` and ``spi`` booleans, ``icao24``, ``callsign``, ``squawk`` and ``party`` text (a squawk
keeps its leading zeros). A missing value is an empty field, as OpenSky writes it: it stays a
typed null, so a column that is empty in every row (``geoaltitude``, ``alert``, ``spi``,
``lastposupdate``, ``lastcontact`` in the Paris recording, or ``onground`` in some exports) is
unknown, not bad. An empty ``onground`` is "not known to be on the ground": a track with a
position, a velocity and an altitude is airborne unless ``onground`` says otherwise.

A row that cannot be used is skipped and counted by reason and by the column at fault, with the
first few line numbers (the header is line 1), never silently repaired and never fatal:

- ``no_position``: lat or lon empty (aircraft heard, no position);
- ``stale_position``: ``time - lastposupdate`` above ``max_position_age_s`` (OpenSky repeats
  the last known position until a new one arrives), when that column is filled;
- ``stale_contact``: ``time - lastcontact`` above ``max_position_age_s``, when filled;
- ``no_velocity``: velocity, heading or vertrate empty (a state-based detector cannot
  extrapolate without them);
- ``no_altitude``: not on the ground (``onground`` False or empty) with no usable altitude;
- ``bad_value``: a number, boolean or id that does not parse or is out of range, or a row
  whose number of fields differs from the header's (column ``(row)``).

Altitude: ``geoaltitude`` (GNSS, labelled W84), else ``baroaltitude`` (pressure altitude,
labelled None: see truceline.domain.track), as issue 3 specifies; ``altitude_source`` selects
one of them only. A track on the ground may have no altitude (NaN). Values are kept as they are,
including impossible ones (the Paris file has 22 km on the ground): they are data, not faults of
the file. Tracks without a ``party`` column (or with an empty cell) are their own party (the
party is the icao24).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.csv as pacsv

from truceline.domain.track import PRESSURE_CODE, TrackBatch, alt_ref_code
from truceline.errors import FormatError
from truceline.geo.altitude import AltitudeReference

REQUIRED = ("time", "icao24", "lat", "lon", "velocity", "heading", "vertrate")
ALTITUDE_COLUMNS = ("baroaltitude", "geoaltitude")
NUMBERS = ("time", "lat", "lon", "velocity", "heading", "vertrate", *ALTITUDE_COLUMNS, "lastposupdate",
           "lastcontact")
BOOLEANS = ("onground", "alert", "spi")
TEXTS = ("icao24", "callsign", "squawk", "party")
KNOWN = (*REQUIRED, "callsign", "onground", "alert", "spi", "squawk", *ALTITUDE_COLUMNS, "lastposupdate",
         "lastcontact", "party")
# The explicit schema: nothing is guessed from the data (a squawk "0252" stays text, an empty
# column stays float64 or bool).
SCHEMA: dict[str, pa.DataType] = {
    **dict.fromkeys(NUMBERS, pa.float64()),
    **dict.fromkeys(BOOLEANS, pa.bool_()),
    **dict.fromkeys(TEXTS, pa.string()),
}
REASONS = ("no_position", "stale_position", "stale_contact", "no_velocity", "no_altitude", "bad_value")
ROW = "(row)"  # the column named by a row whose number of fields is wrong
FIRST_ROWS_KEPT = 5
EPOCH_RANGE_S = (-62_135_596_800.0, 253_402_300_799.0)  # the epoch times a datetime can show
_W84 = alt_ref_code(AltitudeReference.W84)
Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
_TRUE = ("true", "1", "t", "yes")
_FALSE = ("false", "0", "f", "no")


class AltitudeSource(StrEnum):
    GEO_THEN_BARO = "geo-then-baro"
    GEO = "geo"
    BARO = "baro"


@dataclass(slots=True)
class ColumnSkips:
    """Rows skipped for one reason at one column: how many, the first line numbers and what
    was wrong on each of them."""

    reason: str
    column: str
    count: int = 0
    first_lines: list[int] = field(default_factory=list)
    first_messages: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, object]:
        return {"reason": self.reason, "column": self.column, "count": self.count,
                "first_lines": list(self.first_lines), "first_messages": list(self.first_messages)}


@dataclass(frozen=True, slots=True)
class RowRefusal:
    """One skipped row: its line (the header is line 1), why, the column at fault and what was
    wrong (kept for every row only when asked: ``parse_state_vectors``)."""

    line: int
    reason: str
    column: str
    message: str


@dataclass(slots=True)
class SkippedRows:
    """Rows skipped, per reason and per (reason, column): how many, and the first few line
    numbers (in line order); with ``keep_every``, also every row in ``refusals``."""

    keep_every: bool = False
    refusals: list[RowRefusal] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REASONS, 0))
    first_lines: dict[str, list[int]] = field(default_factory=lambda: {r: [] for r in REASONS})
    first_messages: dict[str, list[str]] = field(default_factory=lambda: {r: [] for r in REASONS})
    by_column: dict[tuple[str, str], ColumnSkips] = field(default_factory=dict)

    def add(self, reason: str, line: int, message: str = "", column: str = ROW) -> None:
        self.counts[reason] += 1
        if self.keep_every:
            self.refusals.append(RowRefusal(line, reason, column, message))
        if len(self.first_lines[reason]) < FIRST_ROWS_KEPT:
            self.first_lines[reason].append(line)
            self.first_messages[reason].append(message)
        entry = self.by_column.setdefault((reason, column), ColumnSkips(reason, column))
        entry.count += 1
        if len(entry.first_lines) < FIRST_ROWS_KEPT:
            entry.first_lines.append(line)
            entry.first_messages.append(message)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def columns(self) -> list[ColumnSkips]:
        """Every (reason, column) with skipped rows, in the order of REASONS then by first line."""
        return sorted(self.by_column.values(), key=lambda e: (REASONS.index(e.reason), e.first_lines[0]))

    def summary(self) -> str:
        """One line, e.g. 'no_velocity in velocity 12 (lines 101, 230, ...)'; empty when nothing
        was skipped."""
        parts = []
        for e in self.columns():
            lines = ", ".join(str(x) for x in e.first_lines)
            more = ", ..." if e.count > len(e.first_lines) else ""
            parts.append(f"{e.reason} in {e.column} {e.count} (lines {lines}{more})")
        return "; ".join(parts)

    def to_json(self) -> dict[str, object]:
        """{"total", "counts" (per reason), "columns": [{reason, column, count, first_lines,
        first_messages}]} for JSON output."""
        return {"total": self.total, "counts": dict(self.counts),
                "columns": [e.to_json() for e in self.columns()]}


@dataclass(frozen=True, slots=True)
class StateVectors:
    """Every usable row of a file, in file order (sorted by time as OpenSky writes them; ids
    repeat across rows, so ``rows`` is not a snapshot), with what was skipped."""

    source: str
    rows: TrackBatch
    callsigns: np.ndarray
    skipped: SkippedRows
    kept_lines: Int = field(default_factory=lambda: np.empty(0, dtype=np.int64))  # the line of each row

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
        t_sorted = t[order]  # once, not per step (a day of rows is 140,000 of them)
        for k in range(steps):
            at = start + k * step_s
            lo = np.searchsorted(t_sorted, at - max_age_s, side="right")
            hi = np.searchsorted(t_sorted, at, side="right")
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
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot open: {exc.strerror}", where=source) from None
    return parse_state_vectors(
        data, source, max_position_age_s=max_position_age_s, altitude_source=altitude_source
    )


def parse_state_vectors(
    data: bytes,
    source: str,
    *,
    max_position_age_s: float = 30.0,
    altitude_source: AltitudeSource | str = AltitudeSource.GEO_THEN_BARO,
    keep_every: bool = False,
) -> StateVectors:
    """``read_state_vectors`` of bytes already in memory (an HTTP body), ``source`` naming them
    in errors. ``StateVectors.kept_lines`` and ``refusals`` then say, row by row, which lines were
    kept and, with ``keep_every``, why each other one was not (``skipped.refusals``: an HTTP
client is told per row)."""
    altitude_source = AltitudeSource(altitude_source)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        data.decode("utf-8")
        replaced = False
    except UnicodeDecodeError:
        # pyarrow's invalid-row handler cannot be given a row that is not UTF-8 (it fails and
        # refuses the whole file): such bytes become U+FFFD, and a text cell holding one is a
        # bad value (numbers holding one do not parse anyway); line breaks are unchanged
        data = data.decode("utf-8", errors="replace").encode("utf-8")
        replaced = True
    raw_header = _header(data, source)
    header = [h.strip() for h in raw_header]
    missing = [c for c in REQUIRED if c not in header]
    if not any(c in header for c in ALTITUDE_COLUMNS):
        missing.append("baroaltitude or geoaltitude")
    if missing:
        raise FormatError(
            f"missing required column(s): {', '.join(missing)} (found: {', '.join(header)})",
            field="header",
            where=source,
        )
    twice = sorted({name for name in header if name in SCHEMA and header.count(name) > 1})
    if twice:
        raise FormatError(f"column(s) {', '.join(twice)} appear more than once", field="header", where=source)
    try:
        table, lines, skipped = _read_table(data, raw_header, header, keep_every)
    except pa.ArrowException as error:  # what the invalid-row handler and the fallback do not cover
        raise FormatError(f"cannot be read as CSV: {error}", where=source) from None
    columns = _Columns(table, header, replaced)
    return _assemble(source, columns, lines, skipped, max_position_age_s, altitude_source)


def _header(data: bytes, source: str) -> list[str]:
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).decode("utf-8", errors="replace")
    try:
        row = next(csv.reader([first]), None)
    except csv.Error as error:
        raise FormatError(f"the first line is not a CSV header ({error})", field="header",
                          where=source) from None
    if not row or not "".join(row).strip():
        raise FormatError("empty file, expected an OpenSky state-vector header", where=source)
    return row


def _read_table(
    data: bytes, raw_header: list[str], header: list[str], keep_every: bool = False
) -> tuple[pa.Table, Int, SkippedRows]:
    """The known columns as a table (nulls for empty fields), the line number of each of its
    rows, and the rows of a wrong width already counted as skipped."""
    skipped = SkippedRows(keep_every=keep_every)
    bad_records: list[tuple[int, int]] = []  # (record number, fields), in file order

    def on_invalid(row: pacsv.InvalidRow) -> str:
        bad_records.append((row.number if row.number is not None else -1, row.actual_columns))
        return "skip"

    raw_of = {h: raw for raw, h in zip(raw_header, header, strict=True)}
    wanted = [raw_of[name] for name in KNOWN if name in raw_of]

    def read(types: dict[str, pa.DataType]) -> pa.Table:
        bad_records.clear()
        # one thread: the invalid-row handler is given record numbers only then
        return pacsv.read_csv(
            io.BytesIO(data),
            read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(
                column_types=types, include_columns=wanted, null_values=[""],
                strings_can_be_null=True, quoted_strings_can_be_null=True,
                true_values=["True", "true", "TRUE", "t", "T", "1"],
                false_values=["False", "false", "FALSE", "f", "F", "0"]),
        )

    try:
        table = read({raw_of[n]: SCHEMA[n] for n in KNOWN if n in raw_of})
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        # a cell that does not parse as its column's type: read every column as bytes and
        # convert column by column, so the bad cells (only) are found and named
        table = read(dict.fromkeys(wanted, pa.binary()))
    table = table.rename_columns([h.strip() for h in table.column_names])
    records = _record_lines(data)
    bad_numbers = {number for number, _ in bad_records}
    for number, fields in bad_records:
        line = int(records[number - 1]) if 0 < number <= records.size else -1
        skipped.add("bad_value", line, f"{fields} fields, header has {len(header)}", ROW)
    keep = np.ones(records.size, dtype=bool)
    keep[0] = False  # the header
    for number in bad_numbers:
        if 0 < number <= records.size:
            keep[number - 1] = False
    lines = records[keep]
    if lines.size != table.num_rows:  # a quoting pyarrow and the csv module read apart
        lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
    return table, lines, skipped


def _record_lines(data: bytes) -> Int:
    """The line number where each record (header included) starts: pyarrow numbers records,
    skipping empty lines, and a quoted field may hold a line break."""
    if b'"' not in data:
        buf = np.frombuffer(data, dtype=np.uint8)
        newline = np.flatnonzero(buf == 10)
        starts = np.concatenate(([0], newline + 1))
        ends = np.concatenate((newline, [buf.size]))
        length = ends - starts
        cr = np.zeros(starts.size, dtype=bool)
        has = length > 0
        cr[has] = buf[ends[has] - 1] == 13
        empty = (length == 0) | ((length == 1) & cr)
        return np.flatnonzero(~empty).astype(np.int64) + 1
    out: list[int] = []
    previous = 0
    reader = csv.reader(io.StringIO(data.decode("utf-8", errors="replace"), newline=""))
    for row in reader:
        if row:
            out.append(previous + 1)
        previous = reader.line_num
    return np.array(out, dtype=np.int64)


class _Columns:
    """Typed columns of the table as NumPy arrays, with each cell that did not parse."""

    def __init__(self, table: pa.Table, header: list[str], replaced: bool = False):
        self.n = table.num_rows
        self.replaced = replaced  # bytes that were not UTF-8 were read as U+FFFD
        self.present = {name for name in header if name in SCHEMA}
        self.table = table
        self.bad: dict[str, tuple[npt.NDArray[np.bool_], list[str]]] = {}

    def number(self, name: str) -> tuple[Float, npt.NDArray[np.bool_]]:
        """Values (NaN where empty or bad) and the mask of empty cells."""
        if name not in self.present:
            return np.full(self.n, np.nan), np.ones(self.n, dtype=bool)
        values, empty = self._values(name)
        values = np.where(empty, np.nan, values.astype(np.float64))
        infinite = ~empty & ~np.isfinite(values)
        if name in self.bad:
            infinite &= ~self.bad[name][0]  # cells that did not parse are already named
        if infinite.any():
            self._mark(name, infinite, [f"{name} {str(float(v))!r} is not finite" for v in values[infinite]])
            values = np.where(infinite, np.nan, values)
        return values, empty

    def boolean(self, name: str) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Values (False where empty or bad) and the mask of empty cells."""
        if name not in self.present:
            return np.zeros(self.n, dtype=bool), np.ones(self.n, dtype=bool)
        values, empty = self._values(name)
        return np.where(empty, False, values).astype(bool), empty

    def text(self, name: str, *, lower: bool = False) -> npt.NDArray[np.object_]:
        """Stripped text ('' where empty or bad)."""
        if name not in self.present:
            return np.full(self.n, "", dtype=object)
        values, empty = self._values(name, lower=lower)
        values = values.astype(object)
        values[empty] = ""
        if self.replaced:
            bad = np.array(["\ufffd" in v for v in values.tolist()], dtype=bool)
            if bad.any():
                self._mark(name, bad, [f"{name} is not UTF-8 text"] * int(bad.sum()))
                values[bad] = ""
        return values

    def _values(self, name: str, *, lower: bool = False) -> tuple[np.ndarray, npt.NDArray[np.bool_]]:
        """The column as NumPy values and its mask of empty cells (bad cells count as empty
        here and are marked). No Python object goes through pyarrow's conversion (it would
        import pandas when that is installed, a quarter of a second)."""
        col = self.table.column(name).combine_chunks()
        if pa.types.is_binary(col.type):
            return self._from_bytes(name, col, lower=lower)
        return _to_numpy(col, lower=lower)

    def _from_bytes(
        self, name: str, col: pa.Array, *, lower: bool
    ) -> tuple[np.ndarray, npt.NDArray[np.bool_]]:
        """Parse a column read as bytes (the slow path of a file with a cell that does not
        parse): vectorised where the whole column parses, else cell by cell, marking the bad
        cells with what is wrong."""
        import pyarrow.compute as pc  # here only: its import is 40 ms of every cold start

        target = SCHEMA[name]
        if target != pa.bool_():  # booleans: case and spelling vary, parsed below
            try:
                text = pc.utf8_trim_whitespace(col.cast(pa.string()))
                if lower:
                    text = pc.utf8_lower(text)
                empty = _to_numpy(pc.or_kleene(text.is_null(), pc.equal(pc.utf8_length(text), 0)))[0]
                if target == pa.string():
                    values, _ = _to_numpy(text)
                    return values, empty
                typed = pc.if_else(pc.equal(pc.utf8_length(text), 0), pa.nulls(len(text), pa.string()), text)
                values, _ = _to_numpy(typed.cast(target))
                return values, empty
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass
        parse = {pa.float64(): _parse_number, pa.bool_(): _parse_boolean}.get(target, str)
        fill: object = {pa.float64(): math.nan, pa.bool_(): False}.get(target, "")
        values: list[object] = []
        empty = np.zeros(len(col), dtype=bool)
        bad = np.zeros(len(col), dtype=bool)
        messages: list[str] = []
        for k, cell in enumerate(col.to_pylist()):
            s = ""
            if cell is not None:
                try:
                    s = cell.decode("utf-8").strip()
                except UnicodeDecodeError:
                    bad[k] = True
                    messages.append(f"{name} is not UTF-8 text")
                    values.append(fill)
                    continue
            if not s:
                empty[k] = True
                values.append(fill)
                continue
            try:
                values.append(parse(s.lower() if lower else s))
            except ValueError as error:
                bad[k] = True
                messages.append(f"{name} {s!r} {error}")
                values.append(fill)
        if bad.any():
            self._mark(name, bad, messages)
        return np.array(values, dtype=object if target == pa.string() else None), empty | bad

    def _mark(self, name: str, mask: npt.NDArray[np.bool_], messages: list[str]) -> None:
        old = self.bad.get(name)
        if old is None:
            self.bad[name] = (mask, messages)
            return
        # both kinds of fault in one column: keep the messages in row order
        merged = old[0] | mask
        by_row = dict(zip(np.flatnonzero(old[0]).tolist(), old[1], strict=True))
        by_row.update(zip(np.flatnonzero(mask).tolist(), messages, strict=True))
        self.bad[name] = (merged, [by_row[k] for k in np.flatnonzero(merged).tolist()])


def _to_numpy(col: pa.Array, *, lower: bool = False) -> tuple[np.ndarray, npt.NDArray[np.bool_]]:
    """(values, empty) of a float64, bool or string array, read from its buffers: pyarrow's
    own conversion of an array with nulls imports pandas when it is installed (0.25 s)."""
    n, offset = len(col), col.offset
    validity, data = col.buffers()[0], col.buffers()[1]

    def bits(buffer: pa.Buffer | None) -> npt.NDArray[np.bool_]:
        if buffer is None:
            return np.ones(n, dtype=bool)
        packed = np.frombuffer(buffer, dtype=np.uint8)
        return np.unpackbits(packed, bitorder="little")[offset:offset + n].astype(bool)

    empty = ~bits(validity) if col.null_count else np.zeros(n, dtype=bool)
    if pa.types.is_floating(col.type):
        if data is None:  # an all-null column may have no data buffer
            return np.full(n, np.nan), empty
        return np.frombuffer(data, dtype=np.float64, count=offset + n)[offset:].copy(), empty
    if pa.types.is_boolean(col.type):
        if data is None:
            return np.zeros(n, dtype=bool), empty
        return bits(data) & ~empty, empty
    cells = col.to_pylist()
    if lower:
        values = np.array([None if c is None else c.strip().lower() for c in cells], dtype=object)
    else:
        values = np.array([None if c is None else c.strip() for c in cells], dtype=object)
    return values, empty


def _parse_number(s: str) -> float:
    try:
        return float(s)
    except ValueError:
        raise ValueError("is not a number") from None


def _parse_boolean(s: str) -> bool:
    if s.lower() in _TRUE:
        return True
    if s.lower() in _FALSE:
        return False
    raise ValueError("is not True or False")


class _Verdict:
    """The first reason each row is skipped for, in the order the checks are made."""

    def __init__(self, n: int, lines: Int, keep_every: bool = False):
        self.keep_every = keep_every
        self.every: list[tuple[int, str, str, str]] = []
        self.lines = lines
        self.taken = np.zeros(n, dtype=bool)
        self.found: list[tuple[str, str, Int, list[str]]] = []

    def skip(self, reason: str, column: str, mask: npt.NDArray[np.bool_],
             message: object = None) -> None:
        """Rows of ``mask`` not skipped yet are skipped for ``reason`` at ``column``;
        ``message`` is a string, a list aligned with ``mask``'s True cells, or a function
        of the row indices giving one string per row."""
        rows_all = np.flatnonzero(mask)
        fresh = ~self.taken[rows_all]
        rows = rows_all[fresh]
        if rows.size == 0:
            return
        self.taken[rows] = True
        first = rows[:FIRST_ROWS_KEPT]
        if isinstance(message, list):
            text = [message[k] for k in np.flatnonzero(fresh)[:FIRST_ROWS_KEPT].tolist()]
        elif callable(message):
            text = message(first)
        else:
            text = [message or f"{column} is empty"] * first.size
        if self.keep_every:
            every = text if rows.size == first.size else (
                [message[k] for k in np.flatnonzero(fresh).tolist()] if isinstance(message, list)
                else message(rows) if callable(message) else [message or f"{column} is empty"] * rows.size)
            self.every.extend((int(self.lines[r]), reason, column, str(m)) for r, m in zip(rows, every,
                                                                                          strict=True))
        self.found.append((reason, column, rows, text))

    def into(self, skipped: SkippedRows) -> None:
        # rows are added in line order within each reason, as a row-by-row reader would
        skipped.refusals.extend(RowRefusal(*row) for row in self.every)
        skipped.refusals.sort(key=lambda r: r.line)
        for reason, column, rows, text in self.found:
            entry = skipped.by_column.setdefault((reason, column), ColumnSkips(reason, column))
            entry.count += rows.size
            room = FIRST_ROWS_KEPT - len(entry.first_lines)
            entry.first_lines += self.lines[rows[:room]].tolist()
            entry.first_messages += text[:room]
            skipped.counts[reason] += rows.size
        for reason in REASONS:
            pairs = sorted(
                (line, msg) for e in skipped.by_column.values() if e.reason == reason
                for line, msg in zip(e.first_lines, e.first_messages, strict=True))
            skipped.first_lines[reason] = [p[0] for p in pairs[:FIRST_ROWS_KEPT]]
            skipped.first_messages[reason] = [p[1] for p in pairs[:FIRST_ROWS_KEPT]]
        for e in skipped.by_column.values():
            order = np.argsort(e.first_lines, kind="stable")
            e.first_lines = [e.first_lines[k] for k in order]
            e.first_messages = [e.first_messages[k] for k in order]


def _assemble(source: str, cols: _Columns, lines: Int, skipped: SkippedRows, max_age_s: float,
              altitude_source: AltitudeSource) -> StateVectors:
    n = cols.n
    icao = cols.text("icao24", lower=True)
    t, t_empty = cols.number("time")
    lat, lat_empty = cols.number("lat")
    lon, lon_empty = cols.number("lon")
    pos_time, _ = cols.number("lastposupdate")
    contact, _ = cols.number("lastcontact")
    gs, gs_empty = cols.number("velocity")
    trk, trk_empty = cols.number("heading")
    vs, vs_empty = cols.number("vertrate")
    ground, _ = cols.boolean("onground")
    cols.boolean("alert")  # parsed for their faults only: they are not used
    cols.boolean("spi")
    use_geo = altitude_source is not AltitudeSource.BARO and "geoaltitude" in cols.present
    use_baro = altitude_source is not AltitudeSource.GEO and "baroaltitude" in cols.present
    geo, _ = cols.number("geoaltitude")
    baro, _ = cols.number("baroaltitude")
    party = cols.text("party")
    callsign = cols.text("callsign")
    cols.text("squawk")

    v = _Verdict(n, lines, skipped.keep_every)
    for name in KNOWN:  # cells that do not parse, in column order
        if name in cols.bad:
            mask, messages = cols.bad[name]
            v.skip("bad_value", name, mask, messages)
    v.skip("bad_value", "icao24", icao == "", "icao24 is empty")
    v.skip("bad_value", "time", t_empty, "time is empty")
    with np.errstate(invalid="ignore"):
        v.skip("bad_value", "time", ~((t >= EPOCH_RANGE_S[0]) & (t <= EPOCH_RANGE_S[1])),
               lambda r: [f"time {t[k]} is not an epoch time in seconds (years 1 to 9999)" for k in r])
    v.skip("no_position", "lat", lat_empty)
    v.skip("no_position", "lon", lon_empty)
    with np.errstate(invalid="ignore"):
        v.skip("bad_value", "lat", ~(np.abs(lat) <= 90),
               lambda r: [f"lat {lat[k]} out of range [-90, 90]" for k in r])
        v.skip("bad_value", "lon", ~(np.abs(lon) <= 180),
               lambda r: [f"lon {lon[k]} out of range [-180, 180]" for k in r])
        age = t - pos_time
        v.skip("stale_position", "lastposupdate", age > max_age_s,
               lambda r: [f"position {age[k]:.0f} s old" for k in r])
        silence = t - contact
        v.skip("stale_contact", "lastcontact", silence > max_age_s,
               lambda r: [f"last contact {silence[k]:.0f} s ago" for k in r])
        v.skip("no_velocity", "velocity", gs_empty)
        v.skip("no_velocity", "heading", trk_empty)
        v.skip("no_velocity", "vertrate", vs_empty)
        v.skip("bad_value", "velocity", ~((gs >= 0) & (gs <= 2000)),
               lambda r: [f"velocity {gs[k]} out of range [0, 2000]" for k in r])
        v.skip("bad_value", "heading", ~(np.abs(trk) <= 360),
               lambda r: [f"heading {trk[k]} out of range [-360, 360]" for k in r])
        v.skip("bad_value", "vertrate", ~(np.abs(vs) <= 500),
               lambda r: [f"vertrate {vs[k]} out of range [-500, 500]" for k in r])
    alt = np.full(n, np.nan)
    ref = np.full(n, PRESSURE_CODE, dtype=np.uint8)
    if use_geo:
        alt, ref = geo.copy(), np.where(np.isfinite(geo), _W84, PRESSURE_CODE).astype(np.uint8)
    if use_baro:
        alt = np.where(np.isfinite(alt), alt, baro)
    used = [c for c, on in (("geoaltitude", use_geo), ("baroaltitude", use_baro)) if on]
    column = " or ".join(used) if used else altitude_source.value
    v.skip("no_altitude", column, ~ground & ~np.isfinite(alt),
           f"not on the ground and {column} is empty")
    v.into(skipped)

    keep = np.flatnonzero(~v.taken)
    ids = icao[keep]
    parties = party[keep]
    parties = np.where(parties == "", ids, parties).astype(object)
    rows = TrackBatch(
        ids=ids,
        parties=parties,
        t=t[keep],
        lat=lat[keep],
        lon=lon[keep],
        alt_m=alt[keep],
        gs=gs[keep],
        trk=trk[keep],
        vs=vs[keep],
        on_ground=ground[keep],
        alt_ref=ref[keep],
    )
    return StateVectors(source, rows, callsign[keep], skipped, lines[keep])
