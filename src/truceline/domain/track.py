"""Tracks: the latest state of one aircraft or ground vehicle, and a columnar batch of them.

Altitude labels. OpenSky ``geoaltitude`` is a GNSS height; ADS-B reports it above the WGS84
ellipsoid, so it is labelled ``AltitudeReference.W84``. OpenSky ``baroaltitude`` is a pressure
altitude (standard atmosphere, 1013.25 hPa): it is neither AMSL nor W84 and differs from AMSL
by about 8.5 m per hPa of QNH deviation. It is labelled ``None`` ("pressure altitude") here, and
the engines refuse to compare it with a zone's AMSL/W84/AGL band unless the caller accepts an
explicit stand-in reference (see ``engines.incursion``). Two tracks are compared with each
other as given (conflict detection between aircraft works on whatever altitude both report).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from truceline.errors import ValidationError
from truceline.geo.altitude import AltitudeReference

# Codes of the altitude reference in a TrackBatch (uint8 array ``alt_ref``).
ALT_REF_CODES: tuple[AltitudeReference | None, ...] = (
    AltitudeReference.W84,
    AltitudeReference.AMSL,
    AltitudeReference.AGL,
    None,  # pressure altitude (1013.25 hPa)
)
PRESSURE_CODE = 3


def alt_ref_code(reference: AltitudeReference | None) -> int:
    """The uint8 code of ``reference`` (None = pressure altitude) in ``TrackBatch.alt_ref``."""
    return ALT_REF_CODES.index(None if reference is None else AltitudeReference(reference))


@dataclass(frozen=True, slots=True)
class Track:
    """One track state. ``altitude_m`` may be NaN only when ``on_ground`` (ground vehicles and
    taxiing aircraft often report none); ``altitude_reference`` None means pressure altitude."""

    id: str
    party: str
    time_s: float
    lat: float
    lon: float
    altitude_m: float
    altitude_reference: AltitudeReference | None
    ground_speed_mps: float
    track_deg: float
    vertical_rate_mps: float
    on_ground: bool

    def __post_init__(self) -> None:
        if not self.id:
            raise ValidationError("must not be empty", field="id")
        if not self.party:
            raise ValidationError("must not be empty", field="party")
        _check_finite_range(self.lat, -90.0, 90.0, "lat")
        _check_finite_range(self.lon, -180.0, 180.0, "lon")
        _check_finite_range(self.ground_speed_mps, 0.0, 2000.0, "ground_speed_mps")
        _check_finite_range(self.track_deg, -360.0, 360.0, "track_deg")
        _check_finite_range(self.vertical_rate_mps, -500.0, 500.0, "vertical_rate_mps")
        if not math.isfinite(self.time_s):
            raise ValidationError("must be finite", field="time_s")
        if math.isnan(self.altitude_m):
            if not self.on_ground:
                raise ValidationError("an airborne track needs an altitude", field="altitude_m")
        elif not math.isfinite(self.altitude_m):
            raise ValidationError("must be finite", field="altitude_m")


def _check_finite_range(value: float, lo: float, hi: float, field: str) -> None:
    if not (math.isfinite(value) and lo <= value <= hi):
        raise ValidationError(f"{value!r} is not a finite number in [{lo}, {hi}]", field=field)


@dataclass(frozen=True, slots=True)
class TrackBatch:
    """Tracks as parallel NumPy arrays (length n), the form the engines take.

    ids/parties are object arrays of str; t, lat, lon, alt_m, gs, trk, vs are float64
    (seconds, degrees, metres, m/s, degrees true, m/s up); on_ground is bool; alt_ref is uint8
    (see ALT_REF_CODES). Ids must be unique within a batch (checked by ``validate``).
    """

    ids: npt.NDArray[np.object_]
    parties: npt.NDArray[np.object_]
    t: npt.NDArray[np.float64]
    lat: npt.NDArray[np.float64]
    lon: npt.NDArray[np.float64]
    alt_m: npt.NDArray[np.float64]
    gs: npt.NDArray[np.float64]
    trk: npt.NDArray[np.float64]
    vs: npt.NDArray[np.float64]
    on_ground: npt.NDArray[np.bool_]
    alt_ref: npt.NDArray[np.uint8]

    def __len__(self) -> int:
        return int(self.ids.shape[0])

    def validate(self, *, check_unique: bool = True) -> TrackBatch:
        """Check shapes, ranges and (unless the caller does it) unique ids; return self.
        Raises ValidationError naming the field."""
        n = len(self)
        for name in ("parties", "t", "lat", "lon", "alt_m", "gs", "trk", "vs", "on_ground", "alt_ref"):
            if getattr(self, name).shape != (n,):
                raise ValidationError(f"has shape {getattr(self, name).shape}, expected ({n},)", field=name)
        if check_unique and len(np.unique(self.ids.astype(str))) != n:
            raise ValidationError("track ids are not unique within the batch", field="ids")
        for name, lo, hi in (("lat", -90, 90), ("lon", -180, 180), ("gs", 0, 2000), ("vs", -500, 500)):
            arr = getattr(self, name)
            bad = ~(np.isfinite(arr) & (arr >= lo) & (arr <= hi))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise ValidationError(f"{arr[i]!r} out of [{lo}, {hi}] for track {self.ids[i]}", field=name)
        if not np.isfinite(self.trk).all():
            raise ValidationError("must be finite", field="trk")
        airborne_nan = np.isnan(self.alt_m) & ~self.on_ground
        if airborne_nan.any():
            i = int(np.flatnonzero(airborne_nan)[0])
            raise ValidationError(f"airborne track {self.ids[i]} has no altitude", field="alt_m")
        return self

    def take(self, index: npt.ArrayLike) -> TrackBatch:
        """The sub-batch at ``index`` (integer indices or a boolean mask)."""
        idx = np.asarray(index)
        return TrackBatch(*(getattr(self, f)[idx] for f in _FIELDS))

    def track(self, i: int) -> Track:
        return Track(
            id=str(self.ids[i]),
            party=str(self.parties[i]),
            time_s=float(self.t[i]),
            lat=float(self.lat[i]),
            lon=float(self.lon[i]),
            altitude_m=float(self.alt_m[i]),
            altitude_reference=ALT_REF_CODES[int(self.alt_ref[i])],
            ground_speed_mps=float(self.gs[i]),
            track_deg=float(self.trk[i]),
            vertical_rate_mps=float(self.vs[i]),
            on_ground=bool(self.on_ground[i]),
        )

    @classmethod
    def from_tracks(cls, tracks: Sequence[Track]) -> TrackBatch:
        def col(name: str, dtype: type) -> np.ndarray:
            return np.array([getattr(tr, name) for tr in tracks], dtype=dtype)

        return cls(
            ids=col("id", object),
            parties=col("party", object),
            t=col("time_s", np.float64),
            lat=col("lat", np.float64),
            lon=col("lon", np.float64),
            alt_m=col("altitude_m", np.float64),
            gs=col("ground_speed_mps", np.float64),
            trk=col("track_deg", np.float64),
            vs=col("vertical_rate_mps", np.float64),
            on_ground=col("on_ground", np.bool_),
            alt_ref=np.array([alt_ref_code(tr.altitude_reference) for tr in tracks], dtype=np.uint8),
        ).validate()

    @classmethod
    def empty(cls) -> TrackBatch:
        f = np.empty(0, dtype=np.float64)
        return cls(
            np.empty(0, dtype=object), np.empty(0, dtype=object), f, f, f, f, f, f, f,
            np.empty(0, dtype=np.bool_), np.empty(0, dtype=np.uint8),
        )


_FIELDS = ("ids", "parties", "t", "lat", "lon", "alt_m", "gs", "trk", "vs", "on_ground", "alt_ref")
