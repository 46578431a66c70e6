"""OpenAir airspace files (gliding and paragliding instruments, many national airspace files):
read into zones, and zones written back.

Records read: ``AC`` (class), ``AY`` (type, Naviter's extended format), ``AN`` (name),
``AL``/``AH`` (lower/upper limit), ``V X=`` (centre), ``V D=`` (arc direction), ``DP``
(point), ``DA`` (arc by radius and angles), ``DB`` (arc between two points), ``DC``
(circle, radius in NM). Other records (``AF``, ``AG``, ``SP``, ``SB``, ``V Z=``, ...) are
skipped; comments start with ``*`` (also after a record). Arcs become geodesic polygon
vertices ON the arc, its edges within ARC_TOLERANCE_M of it; a record drawn by one ``DC``
alone is an exact geodesic circle.

Limits (geo.altitude.AltitudeLimit, made a band by band_from_limits): ``GND``/``SFC`` (as a
lower limit: the ground, no lower limit, since nothing flies below the surface: the band
meets every band whose floor is under its ceiling), ``UNL``, feet or metres
``AMSL``/``MSL``/``ALT`` or ``AGL``/``ASFC``, and flight levels (``FL95``, ``FL 145``:
pressure altitude, reference FL). Each limit keeps its own reference (``AL 800FT AGL`` /
``AH FL95`` is one band with two, written ``"AGL/FL"``); the altitude model converts them
where bands are compared. A limit with no reference, ``UNL`` below, ``GND`` above or a floor
above its ceiling leaves the zone out with a warning naming the zone and the limit. So does
an outline that is not a valid area (the geometry error is the warning's message): never
fixed, never dropped silently. A line that cannot be read at all is an error naming the
file and the line.

OpenAir has no times: every zone stands from PERMANENT_START (activation notes in names are
free text, not read: this over-reports). ``P`` (class or type) is a no-fly zone, entry
forbidden; every other class a deconfliction zone, entry with notice (the conservative
reading of a controlled, restricted or danger area).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from truceline.domain.activity import Activity
from truceline.domain.zone import RESTRICTS_ALL, Entry, Zone, ZoneKind, ZoneRule
from truceline.errors import FormatError, TrucelineError, ValidationError
from truceline.geo.altitude import (
    AltitudeBand,
    AltitudeLimit,
    AltitudeReference,
    LimitReference,
    band_from_limits,
)
from truceline.geo.geodesy import GEOD
from truceline.geo.shapes import Circle, Polygon, Shape
from truceline.geo.timewindow import TimeWindow
from truceline.geo.units import FOOT_M, NM_M
from truceline.geo.volume import Volume4D
from truceline.io.ed269 import PERMANENT_START
from truceline.io.features import Features, ReadWarning
from truceline.io.fields import describe

# Arc vertices are on the arc; the straight edge between two strays from it by at most this.
ARC_TOLERANCE_M = 1.0

# One flight level: 100 ft of pressure altitude.
FLIGHT_LEVEL_M = 100.0 * FOOT_M

# What the writer's coordinates keep: seconds to 2 decimals (at most 0.005", about 15 cm).
WRITTEN_SECONDS_DECIMALS = 2

_COORDINATE = re.compile(
    r"(\d{1,2}):(\d{1,2}(?:\.\d+)?)(?::(\d{1,2}(?:\.\d+)?))?\s*([NS])\s*,?\s*"
    r"(\d{1,3}):(\d{1,2}(?:\.\d+)?)(?::(\d{1,2}(?:\.\d+)?))?\s*([EW])",
    re.IGNORECASE,
)
_LIMIT = re.compile(
    r"(?:(?P<ground>GND|SFC)|(?P<unlimited>UNL|UNLIM|UNLTD)|FL\s*(?P<fl>\d+)"
    r"|(?P<value>\d+(?:\.\d+)?)\s*(?P<units>FT|F|M)?\s*(?P<ref>AMSL|MSL|ALT|AGL|AGND|ASFC|SFC|GND)?)",
    re.IGNORECASE,
)
_REFERENCES = {
    "AMSL": AltitudeReference.AMSL, "MSL": AltitudeReference.AMSL, "ALT": AltitudeReference.AMSL,
    "AGL": AltitudeReference.AGL, "AGND": AltitudeReference.AGL, "ASFC": AltitudeReference.AGL,
    "SFC": AltitudeReference.AGL, "GND": AltitudeReference.AGL,
}  # fmt: skip
_SKIPPED = ("AF", "AG", "AT", "SP", "SB", "AI", "AA", "AX")  # styling, labels, frequencies, ...


def is_openair(text: str) -> bool:
    """Whether ``text`` reads as OpenAir: its first record (after comments) is ``AC``."""
    for line in text.splitlines():
        record = line.split("*", 1)[0].strip()
        if record:
            return record[:3].upper() in ("AC ", "AC\t") or record.upper() == "AC"
    return False


def read_openair(source: str | Path, *, text: str | None = None, party: str | None = None) -> Features:
    """Zones of an OpenAir file (``source`` a path; or ``text`` with ``source`` its name),
    with a warning for each zone left out. Raises FormatError naming the file and the line
    that cannot be read. Zone ids are ``{file stem}-{n}`` (n: the record's ordinal, from 1)."""
    label = Path(source).name if text is None else str(source)
    if text is None:
        text = _read_text(Path(source), label)
    stem = Path(label).stem if label != "<text>" else "openair"
    records = _records(text, label)
    zones: list[Zone] = []
    warnings: list[ReadWarning] = []
    for number, record in enumerate(records, start=1):
        where = f'{label}: line {record.line} (AN "{record.name}")'
        try:
            zone = _zone(record, f"{stem}-{number}", party)
        except _LeftOut as out:
            warnings.append(ReadWarning(where, out.field, f"{out.message}; the zone is left out"))
            continue
        except FormatError as error:  # a line that cannot be read
            raise error.located(label) from None
        except TrucelineError as error:  # an outline that is not a valid area
            warnings.append(ReadWarning(where, "outline", f"{error}; the zone is left out"))
            continue
        zones.append(zone)
    return Features(zones=tuple(zones), warnings=tuple(warnings))


def _read_text(path: Path, label: str) -> str:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise FormatError(f"cannot read the file: {exc.strerror or exc}", where=label) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        # older national files are Windows-1252; every byte decodes, names may then be off
        return data.decode("cp1252", errors="replace")


@dataclass
class _Record:
    line: int
    airspace_class: str
    name: str = ""
    kind: str = ""  # AY
    lower: tuple[int, str] | None = None  # (line, text)
    upper: tuple[int, str] | None = None
    points: list[tuple[float, float]] = field(default_factory=list)
    circle: tuple[tuple[float, float], float] | None = None
    other: list[str] = field(default_factory=list)  # shapes we do not draw (airways)


class _LeftOut(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message


def _records(text: str, label: str) -> list[_Record]:
    records: list[_Record] = []
    record: _Record | None = None
    centre: tuple[float, float] | None = None
    clockwise = True
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("*", 1)[0].strip()
        if not line:
            continue
        code, _, rest = line.partition(" ")
        code, rest = code.upper(), rest.strip()
        try:
            if code == "AC":
                record = _Record(number, rest)
                records.append(record)
                centre, clockwise = None, True  # V settings hold within one airspace
                continue
            if record is None:
                if code in _SKIPPED:
                    continue
                raise FormatError(f"{describe(code)} comes before the first AC record")
            if code == "AN":
                record.name = rest
            elif code == "AY":
                record.kind = rest
            elif code == "AL":
                record.lower = (number, rest)
            elif code == "AH":
                record.upper = (number, rest)
            elif code == "V":
                key, _, value = rest.partition("=")
                key = key.strip().upper()
                if key == "X":
                    centre = _coordinate(value)
                elif key == "D":
                    if value.strip() not in ("+", "-"):
                        raise FormatError(f'V D= must be + or -, got {describe(value.strip())}')
                    clockwise = value.strip() == "+"
                elif key == "W":
                    record.other.append("an airway (V W=)")
            elif code == "DP":
                record.points.append(_coordinate(rest))
            elif code == "DC":
                if centre is None:
                    raise FormatError("DC needs a centre (V X=) before it")
                radius_m = _number(rest, "DC radius") * NM_M
                if record.points or record.circle is not None:
                    record.other.append("a circle (DC) drawn with other records")
                record.circle = (centre, radius_m)
            elif code == "DA":
                if centre is None:
                    raise FormatError("DA needs a centre (V X=) before it")
                parts = [p.strip() for p in rest.split(",")]
                if len(parts) != 3:
                    raise FormatError(f"DA must be radius, start angle, end angle; got {describe(rest)}")
                radius, start, end = (_number(p, "DA") for p in parts)
                record.points.extend(_arc_by_angles(centre, radius * NM_M, start, end, clockwise))
            elif code == "DB":
                if centre is None:
                    raise FormatError("DB needs a centre (V X=) before it")
                parts = rest.split(",")
                if len(parts) != 2:
                    raise FormatError(f"DB must be two coordinates, comma-separated; got {describe(rest)}")
                first, last = _coordinate(parts[0]), _coordinate(parts[1])
                record.points.extend(_arc_between(centre, first, last, clockwise))
            elif code in ("DY", "DL"):
                record.other.append(f"an airway ({code})")
            # any other record (AF, AG, SP, SB, V Z=, ...) is not about the area: skipped
        except TrucelineError as error:
            raise error.located(f"{label}: line {number}") from None
    return records


def _coordinate(text: str) -> tuple[float, float]:
    """``47:57:30 N 001:55:35 E`` (or ``DD:MM.mmm``) as (lon, lat) in degrees."""
    match = _COORDINATE.fullmatch(text.strip())
    if match is None:
        shown = describe(text.strip())
        raise FormatError(f"must be a coordinate such as 47:57:30 N 001:55:35 E, got {shown}")
    lat_d, lat_m, lat_s, ns, lon_d, lon_m, lon_s, ew = match.groups()
    lat = float(lat_d) + float(lat_m) / 60 + float(lat_s or 0) / 3600
    lon = float(lon_d) + float(lon_m) / 60 + float(lon_s or 0) / 3600
    if float(lat_m) >= 60 or float(lon_m) >= 60 or float(lat_s or 0) >= 60 or float(lon_s or 0) >= 60:
        raise FormatError(f"minutes and seconds must be under 60, got {describe(text.strip())}")
    return (-lon if ew.upper() == "W" else lon, -lat if ns.upper() == "S" else lat)


def _number(text: str, what: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise FormatError(f"{what}: must be a number, got {describe(text.strip())}") from None
    if not math.isfinite(value) or value < 0:
        raise FormatError(f"{what}: must be a finite number of at least 0, got {describe(text.strip())}")
    return value


def _step_deg(radius_m: float) -> float:
    """The largest angle whose chord strays at most ARC_TOLERANCE_M from the arc (sagitta)."""
    if radius_m <= ARC_TOLERANCE_M:
        return 90.0
    return min(10.0, math.degrees(2.0 * math.acos(1.0 - ARC_TOLERANCE_M / radius_m)))


def _sweep(start_deg: float, end_deg: float, clockwise: bool) -> float:
    """The signed sweep from one bearing to the other in the arc's direction (a whole turn
    when they are equal)."""
    delta = (end_deg - start_deg) % 360.0 if clockwise else -((start_deg - end_deg) % 360.0)
    return delta or (360.0 if clockwise else -360.0)


def _arc(
    centre: tuple[float, float], start_deg: float, sweep_deg: float, r0_m: float, r1_m: float
) -> list[tuple[float, float]]:
    # vertices on the arc, the radius going linearly from r0 to r1 (a DB's two points are
    # rarely at exactly the same distance from the centre)
    n = max(1, math.ceil(abs(sweep_deg) / _step_deg(max(r0_m, r1_m))))
    out = []
    for i in range(n + 1):
        f = i / n
        lon, lat, _ = GEOD.fwd(centre[0], centre[1], start_deg + f * sweep_deg, r0_m + f * (r1_m - r0_m))
        out.append((float(lon), float(lat)))
    return out


def _arc_by_angles(
    centre: tuple[float, float], radius_m: float, start_deg: float, end_deg: float, clockwise: bool
) -> list[tuple[float, float]]:
    return _arc(centre, start_deg, _sweep(start_deg, end_deg, clockwise), radius_m, radius_m)


def _arc_between(
    centre: tuple[float, float], first: tuple[float, float], last: tuple[float, float], clockwise: bool
) -> list[tuple[float, float]]:
    az0, _, r0 = GEOD.inv(centre[0], centre[1], first[0], first[1])
    az1, _, r1 = GEOD.inv(centre[0], centre[1], last[0], last[1])
    points = _arc(centre, az0, _sweep(az0, az1, clockwise), r0, r1)
    points[0], points[-1] = first, last  # the file's own points, exactly
    return points


@dataclass(frozen=True, slots=True)
class _Limit:
    unlimited: bool = False
    limit: AltitudeLimit | None = None  # None with unlimited False: never (a limit is one or the other)


def _limit(entry: tuple[int, str] | None, name: str) -> _Limit:
    if entry is None:
        raise _LeftOut(name, "is missing")
    _, text = entry
    match = _LIMIT.fullmatch(text.strip())
    if match is None:
        raise FormatError(f"{name}: {describe(text)} is not a limit (GND, FL95, 1500FT AMSL, ...)")
    if match["ground"]:
        return _Limit(limit=AltitudeLimit.ground())
    if match["unlimited"]:
        return _Limit(unlimited=True)
    if match["fl"]:
        return _Limit(limit=AltitudeLimit.flight_level(float(match["fl"])))
    if not match["ref"]:
        raise _LeftOut(name, f"{describe(text)} names no reference (AMSL or AGL)")
    units = (match["units"] or "FT").upper()
    value = float(match["value"]) * (1.0 if units == "M" else FOOT_M)
    return _Limit(limit=AltitudeLimit(value, LimitReference(_REFERENCES[match["ref"].upper()].value)))


def _band(record: _Record) -> AltitudeBand:
    """Each limit in its own reference (``AL 800FT AGL`` / ``AH FL95`` is one band with two);
    the altitude model converts them where bands are compared (geo.altitude)."""
    limits = []
    for entry, name in ((record.lower, "AL"), (record.upper, "AH")):
        try:
            limits.append(_limit(entry, name))
        except FormatError as error:  # a limit that is no limit at all: the file is broken
            raise error.located(f"line {entry[0]}") from None  # type: ignore[index]
    lower, upper = limits
    if lower.unlimited:
        raise _LeftOut("AL", f"{describe(record.lower[1])} as a lower limit")  # type: ignore[index]
    if upper.limit is not None and upper.limit.reference is LimitReference.GND:
        raise _LeftOut("AH", f"{describe(record.upper[1])} as an upper limit")  # type: ignore[index]
    # GND below: nothing flies under the surface, so "no lower limit" is the same band
    try:
        return band_from_limits(lower.limit, upper.limit)
    except ValidationError:  # a floor above its ceiling: never swapped
        above = f"{describe(record.lower[1])} is above the upper limit {describe(record.upper[1])}"  # type: ignore[index]
        raise _LeftOut("AL", above) from None


def _shape(record: _Record) -> Shape:
    if record.other:
        raise _LeftOut("outline", f"has {record.other[0]}, which is not read")
    if record.circle is not None:
        centre, radius_m = record.circle
        return Circle(centre, radius_m)
    points: list[tuple[float, float]] = []
    for point in record.points:
        if not points or point != points[-1]:
            points.append(point)
    if len(points) < 3:
        raise _LeftOut("outline", f"has {len(points)} distinct points; an area needs 3")
    if points[0] != points[-1]:
        points.append(points[0])  # OpenAir leaves a polygon open as often as closed
    return Polygon(tuple(points))


def _zone(record: _Record, ident: str, party: str | None) -> Zone:
    band = _band(record)
    shape = _shape(record)
    prohibited = "P" in (record.airspace_class.upper(), record.kind.upper())
    kind, entry = (ZoneKind.NO_FLY, Entry.FORBIDDEN) if prohibited else (ZoneKind.DECONFLICTION, Entry.NOTICE)
    volume = Volume4D(shape, band, TimeWindow(PERMANENT_START))
    rule = ZoneRule(RESTRICTS_ALL, Activity.AIR, entry)
    return Zone(ident, kind, (volume,), rule, party, record.name or ident)


# -- writing ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class OpenAirOutput:
    """The OpenAir text, and a warning for each volume left out or written without what
    OpenAir cannot say (times)."""

    text: str
    warnings: tuple[ReadWarning, ...] = ()


def write_openair(zones: Iterable[Zone]) -> OpenAirOutput:
    """OpenAir records for ``zones``, one per volume: ``AC P`` for a forbidden zone and
    ``AC R`` for one that needs notice (read back as no-fly and deconfliction), each limit in
    its own reference: metres AMSL or AGL, a flight level as ``FL95`` (one that is not whole
    is rounded outward, with a warning), ``GND`` for no lower limit, ``UNL`` for no upper;
    polygons as ``DP`` points and circles as ``V X=`` + ``DC``. Coordinates keep 2 decimals
    of a second (15 cm). A limit in W84 cannot be written (OpenAir has no ellipsoid heights):
    that volume is left out, with a warning; a time window (OpenAir has none) is only warned
    of."""
    lines = ["* Written by Truceline: zones as OpenAir airspaces", ""]
    warnings: list[ReadWarning] = []
    for zone in zones:
        for index, volume in enumerate(zone.volumes):
            name = zone.name or zone.id
            if len(zone.volumes) > 1:
                name = f"{name} #{index + 1}"
            where = f"zone {describe(zone.id)}" + (f" volume {index}" if len(zone.volumes) > 1 else "")
            band = volume.altitude
            if AltitudeReference.W84 in band.references():
                left_out = "W84: OpenAir limits are AMSL, AGL or flight levels; the volume is left out"
                warnings.append(ReadWarning(where, "altitude_reference", left_out))
                continue
            time = volume.time
            if time.start != PERMANENT_START or time.end is not None or time.schedule is not None:
                warnings.append(ReadWarning(where, "time", "OpenAir has no times: written as always active"))
            lower = _written_limit(band.lower_m, band.lower_ref, True, where, warnings)
            upper = _written_limit(band.upper_m, band.reference, False, where, warnings)
            lines += [f"AC {'P' if zone.rule.entry is Entry.FORBIDDEN else 'R'}", f"AN {name}"]
            lines += [f"AL {lower}", f"AH {upper}"]
            if isinstance(volume.shape, Circle):
                lines += [f"V X={_written_coordinate(volume.shape.center)}",
                          f"DC {_written_number(volume.shape.radius_m / NM_M, 6)}"]  # fmt: skip
            else:
                lines += [f"DP {_written_coordinate(p)}" for p in volume.shape.ring]
            lines.append("")
    return OpenAirOutput("\n".join(lines) + "\n", tuple(warnings))


def _written_limit(
    metres: float, reference: AltitudeReference, lower: bool, where: str, warnings: list[ReadWarning]
) -> str:
    """One limit in its own reference: ``GND``, ``UNL``, ``FL95`` or ``152.4M AGL``."""
    if metres == -math.inf:
        return "GND"
    if metres == math.inf:
        return "UNL"
    if reference is AltitudeReference.FL:
        level = metres / FLIGHT_LEVEL_M
        if abs(level - round(level)) <= 1e-6:
            return f"FL{round(level)}"
        # OpenAir flight levels are whole: round outward, so the written band holds the true one
        written = math.floor(level) if lower else math.ceil(level)
        field = "altitude_lower" if lower else "altitude_upper"
        warnings.append(ReadWarning(where, field, f"FL{level:.2f} is written FL{written} (rounded outward)"))
        return f"FL{written}"
    return f"{_written_number(metres, 2)}M {reference}"


def _written_number(value: float, decimals: int) -> str:
    text = f"{value:.{decimals}f}".rstrip("0").rstrip(".")
    return text if text != "-0" else "0"


def _written_coordinate(point: tuple[float, float]) -> str:
    lon, lat = point
    return f"{_dms(abs(lat), 2)} {'N' if lat >= 0 else 'S'} {_dms(abs(lon), 3)} {'E' if lon >= 0 else 'W'}"


def _dms(degrees: float, width: int) -> str:
    total = round(degrees * 3600, WRITTEN_SECONDS_DECIMALS)
    d, rest = divmod(total, 3600)
    m, s = divmod(rest, 60)
    return f"{int(d):0{width}d}:{int(m):02d}:{s:0{3 + WRITTEN_SECONDS_DECIMALS}.{WRITTEN_SECONDS_DECIMALS}f}"


__all__ = ["ARC_TOLERANCE_M", "OpenAirOutput", "is_openair", "read_openair", "write_openair"]
