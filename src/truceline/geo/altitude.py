"""Altitude bands with their vertical references, and the conversions between references.

Altitudes are metres inside Truceline; feet are converted here, at the edge. Two bands with
different references are compared only through a conversion (``AltitudeModel``):

- W84 <-> AMSL through the EGM96 geoid shipped with the package (geo.geoid), over the area
  where the volumes may meet: every geoid height there is allowed for, plus GEOID_MARGIN_M;
- AGL <-> AMSL through a terrain model the user configures (geo.terrain, TRUCELINE_TERRAIN),
  the same way with the model's own margin; without one the comparison is an error;
- FL (pressure altitude) <-> AMSL through a QNH the user gives, else the standard atmosphere
  with any QNH in ISA_QNH_RANGE_HPA allowed for; both with PRESSURE_TEMPERATURE_MARGIN.

Every uncertainty widens the converted band (a lower limit goes down, an upper limit up), so a
conversion may report a conflict that is not there, never hide one. A limit that is unlimited
(``-inf``: the ground, ``GND``/``SFC``; ``+inf``: no upper limit) needs no model.

A band's two limits may have their own references (ED-269's lower/upperVerticalReference,
OpenAir's AL/AH): ``lower_reference`` then names the lower one, and the band is written
``"LOWER/UPPER"`` (e.g. ``"AGL/AMSL"``) where a single reference is written otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from truceline.errors import AltitudeReferenceError, ValidationError
from truceline.geo.geoid import egm96
from truceline.geo.units import FOOT_M

Bounds = tuple[float, float, float, float]  # min_lon, min_lat, max_lon, max_lat
WORLD: Bounds = (-180.0, -90.0, 180.0, 90.0)


class AltitudeReference(StrEnum):
    W84 = "W84"  # height above the WGS84 ellipsoid
    AMSL = "AMSL"  # above mean sea level (the EGM96 geoid)
    AGL = "AGL"  # above ground level
    FL = "FL"  # pressure altitude in metres (ISA, 1013.25 hPa): FL95 is 2895.6 m


# Where two references meet, both bands are expressed in the earlier of them: the verdict is
# then the same whichever band comes first (each conversion widens a band differently).
_ORDER = (AltitudeReference.W84, AltitudeReference.AMSL, AltitudeReference.AGL, AltitudeReference.FL)

LENGTH_UNITS_M: Mapping[str, float] = {"m": 1.0, "ft": FOOT_M}


def to_metres(value: float, units: str, *, field: str = "altitude") -> float:
    """Convert ``value`` in ``units`` ("m" or "ft") to metres. Example: to_metres(1000, "ft") == 304.8."""
    try:
        return float(value) * LENGTH_UNITS_M[units]
    except KeyError:
        raise ValidationError(f"unknown length unit {units!r} (expected 'm' or 'ft')", field=field) from None


@dataclass(frozen=True, slots=True)
class AltitudeBand:
    """A closed altitude band ``[lower_m, upper_m]`` in metres above ``reference``; the lower
    limit above ``lower_reference`` when that is given (a band with two references)."""

    lower_m: float
    upper_m: float
    reference: AltitudeReference = AltitudeReference.AMSL
    lower_reference: AltitudeReference | None = None

    def __post_init__(self) -> None:
        for name in ("lower_m", "upper_m"):
            value = getattr(self, name)
            if value != value:  # NaN
                raise ValidationError("is NaN", field=name)
        object.__setattr__(self, "reference", AltitudeReference(self.reference))
        lower_ref = self.lower_reference
        if lower_ref is not None:
            lower_ref = AltitudeReference(lower_ref)
            # the ground (-inf) has no reference; one reference is written once
            if lower_ref == self.reference or math.isinf(self.lower_m):
                lower_ref = None
        object.__setattr__(self, "lower_reference", lower_ref)
        # limits in two references cannot be ordered without a model (converted bands are)
        if lower_ref is None and self.lower_m > self.upper_m:
            raise ValidationError(
                f"lower {self.lower_m} m is above upper {self.upper_m} m", field="altitude_lower"
            )

    @property
    def lower_ref(self) -> AltitudeReference:
        return self.reference if self.lower_reference is None else self.lower_reference

    @property
    def reference_text(self) -> str:
        """``"AMSL"``, or ``"AGL/AMSL"`` (lower/upper) for a band with two references."""
        if self.lower_reference is None:
            return str(self.reference)
        return f"{self.lower_reference}/{self.reference}"

    @classmethod
    def of_text(cls, lower_m: float, upper_m: float, text: str) -> AltitudeBand:
        """The band written ``reference_text`` ``text`` (``"AMSL"`` or ``"AGL/AMSL"``)."""
        lower, _, upper = text.partition("/")
        if not upper:
            return cls(lower_m, upper_m, AltitudeReference(lower))
        return cls(lower_m, upper_m, AltitudeReference(upper), AltitudeReference(lower))

    def references(self) -> set[AltitudeReference]:
        """The references of its finite limits (an unlimited limit needs none)."""
        refs = set()
        if math.isfinite(self.lower_m):
            refs.add(self.lower_ref)
        if math.isfinite(self.upper_m):
            refs.add(self.reference)
        return refs


class LimitReference(StrEnum):
    """What a published limit is measured from: a reference, or the ground itself."""

    W84 = "W84"
    AMSL = "AMSL"
    AGL = "AGL"
    FL = "FL"
    GND = "GND"  # the surface (GND, SFC): nothing flies below it, so no terrain model is needed


@dataclass(frozen=True, slots=True)
class AltitudeLimit:
    """One limit as a format publishes it (ED-269's lowerLimit + lowerVerticalReference,
    OpenAir's ``AL FL95`` or ``AL GND``): metres above ``reference`` (for FL, pressure
    altitude in metres). Readers build bands with ``band_from_limits``."""

    value_m: float
    reference: LimitReference

    @classmethod
    def ground(cls) -> AltitudeLimit:
        return cls(0.0, LimitReference.GND)

    @classmethod
    def flight_level(cls, level: float) -> AltitudeLimit:
        """FL ``level``: ``level`` hundreds of feet of pressure altitude. Example: FL95 is 2895.6 m."""
        return cls(level * 100.0 * FOOT_M, LimitReference.FL)


def band_from_limits(lower: AltitudeLimit | None, upper: AltitudeLimit | None) -> AltitudeBand:
    """The band between two published limits; None is no limit (below: the ground; above:
    unlimited). A lower limit at the ground is ``-inf`` whatever its reference, so it meets
    every band whose floor is under the upper limit; an upper limit at the ground is 0 m AGL.
    Example: band_from_limits(AltitudeLimit.ground(), AltitudeLimit(1500.0, LimitReference.AMSL))
    is AltitudeBand(-inf, 1500.0, AMSL)."""
    if upper is None:
        upper_m, upper_ref = math.inf, None
    elif upper.reference is LimitReference.GND:
        upper_m, upper_ref = 0.0, AltitudeReference.AGL
    else:
        upper_m, upper_ref = upper.value_m, AltitudeReference(upper.reference.value)
    if lower is None or lower.reference is LimitReference.GND:
        lower_m, lower_ref = -math.inf, None
    else:
        lower_m, lower_ref = lower.value_m, AltitudeReference(lower.reference.value)
    reference = upper_ref or lower_ref or AltitudeReference.AMSL
    return AltitudeBand(lower_m, upper_m, reference, lower_ref)


# --- conversions ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Converted:
    """A band expressed in another reference, and the conversions it took (e.g. ``"EGM96"``,
    ``"terrain+EGM96"``, ``"ISA"``); None when nothing had to be converted."""

    band: AltitudeBand
    conversion: str | None


class Conversions(Protocol):
    """What relates two references; ``where`` is the area the comparison concerns (bounds)."""

    def converted(
        self, band: AltitudeBand, to: AltitudeReference, where: Bounds | None = None
    ) -> Converted: ...


def _no_conversion(frm: AltitudeReference, to: AltitudeReference, why: str) -> AltitudeReferenceError:
    return AltitudeReferenceError(
        f"cannot compare an altitude in {frm} with one in {to}: {why}", field="altitude_reference"
    )


def _converted_band(lower_m: float, upper_m: float, to: AltitudeReference) -> AltitudeBand:
    # Limits in two references may cross where the ground is high (50 m AGL over 900 m
    # ground is above a 600 m AMSL ceiling): that band holds nothing there; it is kept as
    # one of no thickness, which overlaps no band (bands meeting at a point do not overlap).
    if lower_m > upper_m:
        lower_m = upper_m
    return AltitudeBand(lower_m, upper_m, to)


def _join(names: list[str]) -> str | None:
    seen = list(dict.fromkeys(n for n in names if n))
    return "+".join(seen) or None


@dataclass(frozen=True, slots=True)
class ReferenceConversions:
    """Fixed offsets between references, the same everywhere (for tests and local setups):
    ``offsets_m[(a, b)]`` is added to an altitude in ``a`` to express it in ``b``. Only what is
    configured may be compared."""

    offsets_m: Mapping[tuple[AltitudeReference, AltitudeReference], float]
    name: str = "offset"

    def _offset(self, frm: AltitudeReference, to: AltitudeReference) -> float:
        if (frm, to) in self.offsets_m:
            return self.offsets_m[(frm, to)]
        if (to, frm) in self.offsets_m:
            return -self.offsets_m[(to, frm)]
        raise _no_conversion(frm, to, "no conversion is configured")

    def converted(self, band: AltitudeBand, to: AltitudeReference, where: Bounds | None = None) -> Converted:
        names: list[str] = []
        limits = []
        for value, frm in ((band.lower_m, band.lower_ref), (band.upper_m, band.reference)):
            if frm != to and math.isfinite(value):
                value += self._offset(frm, to)
                names.append(self.name)
            limits.append(value)
        return Converted(_converted_band(limits[0], limits[1], to), _join(names))

    def convert(self, band: AltitudeBand, to: AltitudeReference, where: Bounds | None = None) -> AltitudeBand:
        return self.converted(band, to, where).band


class HeightRange(Protocol):
    """A model of heights above mean sea level over an area (geoid or terrain)."""

    name: str
    margin_m: float

    def height_range(self, bounds: Bounds) -> tuple[float, float]: ...


# ISA: pressure altitude from pressure p is ISA_H_M * (1 - (p / 1013.25) ** ISA_N), valid in
# the troposphere (to 11 km); an altimeter set to QNH reads the same with QNH for 1013.25.
ISA_H_M = 44_330.77
ISA_N = 0.190263
ISA_HPA = 1013.25
# Without a QNH, any sea-level pressure in this range is allowed for (nearly all weather
# outside deep storms); that is up to about 280 m either way.
ISA_QNH_RANGE_HPA = (980.0, 1040.0)
# True altitude departs from the altimeter's by about 4 % per 10 degC of deviation from ISA
# (the ICAO cold-temperature rule); 10 degC is allowed for, as a share of the height.
PRESSURE_TEMPERATURE_MARGIN = 0.04
QNH_RANGE_HPA = (850.0, 1100.0)  # a QNH outside it is a typo (lowest and highest ever measured, rounded)


def pressure_to_amsl_m(pressure_altitude_m: float, qnh_hpa: float) -> float:
    """The altitude (AMSL, ISA temperatures) of pressure altitude ``pressure_altitude_m``
    when the sea-level pressure is ``qnh_hpa``. Example: pressure_to_amsl_m(0.0, 1013.25) == 0.0."""
    return ISA_H_M * (1.0 - (ISA_HPA / qnh_hpa) ** ISA_N * (1.0 - pressure_altitude_m / ISA_H_M))


def amsl_to_pressure_m(amsl_m: float, qnh_hpa: float) -> float:
    """The inverse of pressure_to_amsl_m."""
    return ISA_H_M * (1.0 - (qnh_hpa / ISA_HPA) ** ISA_N * (1.0 - amsl_m / ISA_H_M))


def _widen(value: float, lower: bool, low_m: float, high_m: float, sign: float) -> float:
    """``value`` plus (sign) a height known only to lie in [low_m, high_m]: a lower limit
    takes the end that lowers it, an upper limit the end that raises it."""
    if sign > 0:
        return value + (low_m if lower else high_m)
    return value - (high_m if lower else low_m)


@dataclass(frozen=True)
class AltitudeModel:
    """The conversions Truceline applies (module docstring): the EGM96 geoid (always), a
    terrain model (when configured) and a QNH (when given)."""

    terrain: HeightRange | None = None
    qnh_hpa: float | None = None
    geoid: HeightRange = field(default_factory=egm96)  # read once per process, on first use

    def __post_init__(self) -> None:
        if self.qnh_hpa is not None and not QNH_RANGE_HPA[0] <= self.qnh_hpa <= QNH_RANGE_HPA[1]:
            raise ValidationError(
                f"must be between {QNH_RANGE_HPA[0]:g} and {QNH_RANGE_HPA[1]:g} hPa, got {self.qnh_hpa:g}",
                field="qnh",
            )

    def converted(self, band: AltitudeBand, to: AltitudeReference, where: Bounds | None = None) -> Converted:
        area = WORLD if where is None else where
        names: list[str] = []
        lower = self._limit(band.lower_m, band.lower_ref, to, True, area, names)
        upper = self._limit(band.upper_m, band.reference, to, False, area, names)
        return Converted(_converted_band(lower, upper, to), _join(names))

    def convert(self, band: AltitudeBand, to: AltitudeReference, where: Bounds | None = None) -> AltitudeBand:
        return self.converted(band, to, where).band

    def _limit(
        self, value: float, frm: AltitudeReference, to: AltitudeReference, lower: bool, area: Bounds,
        names: list[str],
    ) -> float:  # fmt: skip
        if frm == to or math.isinf(value):
            return value
        # through AMSL: frm -> AMSL -> to, each step widening
        if frm is not AltitudeReference.AMSL:
            value = self._step(value, frm, to, lower, area, names, to_amsl=True)
        if to is not AltitudeReference.AMSL:
            value = self._step(value, to, frm, lower, area, names, to_amsl=False)
        return value

    def _step(
        self, value: float, ref: AltitudeReference, other: AltitudeReference, lower: bool, area: Bounds,
        names: list[str], *, to_amsl: bool,
    ) -> float:  # fmt: skip
        """``value`` from ``ref`` to AMSL (``to_amsl``) or from AMSL to ``ref``."""
        frm, to = (ref, other) if to_amsl else (other, ref)
        if ref is AltitudeReference.FL:
            return self._pressure(value, lower, names, to_amsl=to_amsl)
        if ref is AltitudeReference.W84:
            model = self.geoid
        else:
            model = self.terrain
            if model is None:
                raise _no_conversion(
                    frm, to, "no terrain model is configured (set TRUCELINE_TERRAIN to a GeoTIFF or"
                    " SRTM .hgt tiles)",
                )  # fmt: skip
        low_m, high_m = model.height_range(area)
        low_m, high_m = low_m - model.margin_m, high_m + model.margin_m
        names.append(model.name)
        # W84 = AMSL + N and AMSL = AGL + terrain: into AMSL a W84 value loses N, an AGL one gains T
        if ref is AltitudeReference.W84:
            return _widen(value, lower, low_m, high_m, -1.0 if to_amsl else 1.0)
        return _widen(value, lower, low_m, high_m, 1.0 if to_amsl else -1.0)

    def _pressure(self, value: float, lower: bool, names: list[str], *, to_amsl: bool) -> float:
        if self.qnh_hpa is not None:
            low_q = high_q = self.qnh_hpa
            names.append(f"QNH {self.qnh_hpa:g} hPa")
        else:
            low_q, high_q = ISA_QNH_RANGE_HPA
            names.append("ISA")
        # a higher QNH puts a pressure altitude higher above the sea, and the converse
        if to_amsl:
            out = pressure_to_amsl_m(value, low_q if lower else high_q)
        else:
            out = amsl_to_pressure_m(value, high_q if lower else low_q)
        margin = PRESSURE_TEMPERATURE_MARGIN * abs(out)
        return out - margin if lower else out + margin


def common_reference(a: AltitudeBand, b: AltitudeBand) -> AltitudeReference:
    """The reference two bands are compared in: ``a``'s when both are in it, else the earliest
    of their limits' references in W84, AMSL, AGL, FL."""
    refs = a.references() | b.references()
    if refs <= {a.reference}:
        return a.reference
    return min(refs, key=_ORDER.index)


@dataclass(frozen=True, slots=True)
class BandOverlap:
    """What two bands share (None: nothing), in the reference they were compared in, and the
    conversions that took."""

    band: AltitudeBand | None
    conversion: str | None


def compare_bands(
    a: AltitudeBand, b: AltitudeBand, conversions: Conversions | None = None, where: Bounds | None = None
) -> BandOverlap:
    """The band ``a`` and ``b`` share, after converting both to ``common_reference``; bands
    meeting only at a boundary share nothing. Raises AltitudeReferenceError when a reference
    must be converted and ``conversions`` cannot (None: none can)."""
    to = common_reference(a, b)
    names: list[str] = []
    bands = []
    for band in (a, b):
        if band.references() <= {to}:
            bands.append(AltitudeBand(band.lower_m, band.upper_m, to))
            continue
        if conversions is None:
            other = next(iter(band.references() - {to}))
            raise _no_conversion(other, to, "no conversion is configured")
        done = conversions.converted(band, to, where)
        bands.append(done.band)
        if done.conversion:
            names.append(done.conversion)
    x, y = bands
    lower, upper = max(x.lower_m, y.lower_m), min(x.upper_m, y.upper_m)
    shared = AltitudeBand(lower, upper, to) if lower < upper else None
    return BandOverlap(shared, _join(names))


def altitude_overlap(
    a: AltitudeBand, b: AltitudeBand, conversions: Conversions | None = None, where: Bounds | None = None
) -> AltitudeBand | None:
    """The band both share, or None. Bands that meet only at a boundary do not overlap.

    Raises AltitudeReferenceError when the references differ and no conversion is given.
    Example: altitude_overlap(AltitudeBand(0, 100), AltitudeBand(100, 200)) is None.
    """
    return compare_bands(a, b, conversions, where).band
