"""Altitude bands with their vertical reference.

Altitudes are metres inside Truceline; feet are converted here, at the edge. Two bands
with different references are never compared unless a conversion is configured: the
comparison is an error, not a guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from truceline.errors import AltitudeReferenceError, ValidationError
from truceline.geo.units import FOOT_M


class AltitudeReference(StrEnum):
    W84 = "W84"  # height above the WGS84 ellipsoid
    AMSL = "AMSL"  # above mean sea level
    AGL = "AGL"  # above ground level


LENGTH_UNITS_M: Mapping[str, float] = {"m": 1.0, "ft": FOOT_M}


def to_metres(value: float, units: str, *, field: str = "altitude") -> float:
    """Convert ``value`` in ``units`` ("m" or "ft") to metres. Example: to_metres(1000, "ft") == 304.8."""
    try:
        return float(value) * LENGTH_UNITS_M[units]
    except KeyError:
        raise ValidationError(f"unknown length unit {units!r} (expected 'm' or 'ft')", field=field) from None


@dataclass(frozen=True, slots=True)
class AltitudeBand:
    """A closed altitude band ``[lower_m, upper_m]`` in metres above ``reference``."""

    lower_m: float
    upper_m: float
    reference: AltitudeReference = AltitudeReference.AMSL

    def __post_init__(self) -> None:
        for name in ("lower_m", "upper_m"):
            value = getattr(self, name)
            if value != value:  # NaN
                raise ValidationError("is NaN", field=name)
        if self.lower_m > self.upper_m:
            raise ValidationError(
                f"lower {self.lower_m} m is above upper {self.upper_m} m", field="altitude_lower"
            )
        object.__setattr__(self, "reference", AltitudeReference(self.reference))


@dataclass(frozen=True, slots=True)
class ReferenceConversions:
    """Configured offsets between references: ``offsets_m[(a, b)]`` is added to an altitude in
    ``a`` to express it in ``b``. Only what is configured may be compared."""

    offsets_m: Mapping[tuple[AltitudeReference, AltitudeReference], float]

    def convert(self, band: AltitudeBand, to: AltitudeReference) -> AltitudeBand:
        if band.reference == to:
            return band
        key = (band.reference, to)
        if key in self.offsets_m:
            off = self.offsets_m[key]
        elif (to, band.reference) in self.offsets_m:
            off = -self.offsets_m[(to, band.reference)]
        else:
            raise AltitudeReferenceError(
                f"no conversion configured from {band.reference} to {to}", field="altitude_reference"
            )
        return AltitudeBand(band.lower_m + off, band.upper_m + off, to)


def altitude_overlap(
    a: AltitudeBand, b: AltitudeBand, conversions: ReferenceConversions | None = None
) -> AltitudeBand | None:
    """The band both share, or None. Bands that meet only at a boundary do not overlap.

    Raises AltitudeReferenceError when the references differ and no conversion is given.
    Example: altitude_overlap(AltitudeBand(0, 100), AltitudeBand(100, 200)) is None.
    """
    if a.reference != b.reference:
        if conversions is None:
            raise AltitudeReferenceError(
                f"cannot compare an altitude in {a.reference} with one in {b.reference}"
                " without a configured conversion",
                field="altitude_reference",
            )
        b = conversions.convert(b, a.reference)
    lower, upper = max(a.lower_m, b.lower_m), min(a.upper_m, b.upper_m)
    if lower >= upper:
        return None
    return AltitudeBand(lower, upper, a.reference)
