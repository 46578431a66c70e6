"""Tactical conflict detection between live tracks (state-based, as BlueSky's StateBased).

Definition (issue 3): both tracks fly straight lines at constant velocity. A pair is in
conflict when some t in [0, lookahead_s] has the horizontal distance < the horizontal minimum
AND the vertical distance < the vertical minimum at once (strict: a pair exactly 1000 ft apart
in level flight is not in conflict). ``tlos_s`` is the first such t (0 when already lost).

Geometry. Each track is placed on the WGS84 ellipsoid (height 0) in ECEF; its velocity is its
ground speed along its own local east/north, also in ECEF, so each heading keeps its own
meridian (no grid-bearing error from the convergence of meridians). The relative position and
velocity of a pair are projected on the tangent plane normal to the mean of the two geodetic
normals, and the closest-approach algebra is done in that plane. Distance bound: for two points
at geodesic distance d, the projected chord is shorter than d by at most about d²/(24 ρ²)
relative (chord vs arc; ρ >= 6335 km, the smallest WGS84 radius of curvature; the projection
itself adds only second-order terms in e²), i.e. 0.005 % at 200 km and 0.03 % at 500 km, far
inside the required 0.5 % over the look-ahead range (300 s at 2 x 300 m/s + 5 NM = 190 km).
tests/tactical/test_tactical_flat_earth.py checks it against pyproj geodesic distances, poles and
antimeridian included. The frame has no singularity at the poles or the antimeridian.

Scale. A broad phase (engines/pairgrid.py, compiled with numba) lists candidate pairs: the
look-ahead is cut into a few time slabs; per slab, each track's swept box (the segment it flies
during the slab, padded) goes into a uniform grid over (x, y) in a frame rotated so that the
snapshot's mean vertical is z, with a sweep along altitude inside each cell; pairs whose boxes
overlap then pass a conservative 3D closest-approach filter (within the padded minima at one
time), and each is listed once, from the slab holding that time. The pads are proven
conservative (see ``_horizontal_pad_m``), so the candidates are a superset of the pairs in
conflict; the exact closest-approach test (NumPy, below) runs on those candidates only and the
result equals the all-pairs result exactly, bit for bit
(tests/tactical/test_tactical_property.py). Nothing grows with N².

Pure: no I/O, no clock, no logging.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np
import numpy.typing as npt

from truceline.domain.track import TrackBatch
from truceline.engines.pairgrid import swept_pairs
from truceline.errors import ValidationError
from truceline.geo.units import FOOT_M, NM_M

WGS84_A_M = 6378137.0
WGS84_E2 = 6.69437999014e-3
VERTICAL_EPSILON_M = 1e-6
MIN_CURVATURE_RADIUS_M = 6.3e6  # below b²/a = 6335.4 km, the smallest WGS84 radius of curvature

Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]


class PairFilter(StrEnum):
    CROSS_PARTY = "cross-party"  # only pairs of different parties (deconfliction default)
    ALL = "all"


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """Minima and look-ahead. A pair where both tracks are on the ground uses
    ``ground_horizontal_m`` and no vertical criterion (they share the surface); a pair of one
    ground and one airborne track uses ``ground_horizontal_m`` and ``vertical_m`` (a vehicle on
    a runway and an aircraft over it), and a ground track with no altitude is then never in
    conflict with an airborne one (its height is unknown, not guessed)."""

    horizontal_m: float = 5 * NM_M
    vertical_m: float = 1000 * FOOT_M
    lookahead_s: float = 300.0
    ground_horizontal_m: float = 50.0
    pairs: PairFilter = PairFilter.CROSS_PARTY

    def __post_init__(self) -> None:
        for name in ("horizontal_m", "vertical_m", "lookahead_s", "ground_horizontal_m"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ValidationError(f"{value!r} must be a positive finite number", field=name)
        object.__setattr__(self, "pairs", PairFilter(self.pairs))


@dataclass(frozen=True, slots=True)
class Conflicts:
    """Pairs in conflict, sorted by (a, b) with a < b by track id. Indices refer to the batch
    given to ``detect``. ``tcpa_s`` is the time of horizontal closest approach from now on (0
    when the pair already diverges: never negative); ``dcpa_m`` the horizontal distance then; ``dalt_m`` the
    vertical separation then (NaN when a ground track has no altitude); ``tlos_s`` the first
    time both minima are infringed (0 when ``los``, already lost). ``dist_m`` and ``dz_m`` are
    the horizontal distance and vertical separation now."""

    a_index: Int
    b_index: Int
    a: npt.NDArray[np.object_]
    b: npt.NDArray[np.object_]
    tcpa_s: Float
    dcpa_m: Float
    dalt_m: Float
    tlos_s: Float
    los: Bool
    dist_m: Float
    dz_m: Float

    def __len__(self) -> int:
        return int(self.a_index.shape[0])

    def pair_set(self) -> set[tuple[str, str]]:
        return set(zip(self.a.tolist(), self.b.tolist(), strict=True))

    def records(self, *, now: bool = False) -> list[dict[str, object]]:
        """One dict per pair with the JSON field names of ``truceline conflicts`` (NaN as
        None), and ``dist_m`` / ``dz_m`` when ``now``. Built column-wise: 25,000 pairs are a
        few milliseconds."""
        columns: dict[str, list[object]] = {
            "a": [str(x) for x in self.a.tolist()],
            "b": [str(x) for x in self.b.tolist()],
            "tcpa_s": _json_floats(self.tcpa_s),
            "dcpa_m": _json_floats(self.dcpa_m),
            "dalt_m": _json_floats(self.dalt_m),
            "tlos_s": _json_floats(self.tlos_s),
            "los": [bool(x) for x in self.los.tolist()],
        }
        if now:
            columns["dist_m"] = _json_floats(self.dist_m)
            columns["dz_m"] = _json_floats(self.dz_m)
        names = list(columns)
        return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


def _json_floats(values: Float) -> list[object]:
    out: list[object] = values.astype(np.float64).tolist()
    if not np.isfinite(values).all():
        out = [x if math.isfinite(x) else None for x in out]  # type: ignore[arg-type]
    return out


class Detector(Protocol):
    """A conflict detector (BlueSky style): one method, so another plugs in."""

    def detect(self, batch: TrackBatch) -> Conflicts: ...


@dataclass(frozen=True, slots=True)
class Kinematics:
    """Per-track quantities in ECEF (metres, m/s), computed once per snapshot so that the pair
    arithmetic uses only +, -, *, /, sqrt (correctly rounded: the same pair gives the same bits
    whichever way it is evaluated, pruned or all-pairs)."""

    px: Float
    py: Float
    pz: Float
    nx: Float
    ny: Float
    nz: Float
    vx: Float
    vy: Float
    vz: Float
    alt_m: Float
    vs: Float
    ground: Bool
    party: Int
    advanced_s: float  # the largest time any track was advanced by (0 for a same-time snapshot)


def kinematics(batch: TrackBatch) -> Kinematics:
    """ECEF positions (height 0), geodetic unit normals and horizontal ECEF velocities, with
    every track advanced along its straight line from its own time to the batch's latest time
    (snapshots mix states a few seconds apart; all times in results count from that instant)."""
    lat = np.radians(batch.lat)
    lon = np.radians(batch.lon)
    trk = np.radians(batch.trk)
    slat, clat, slon, clon = np.sin(lat), np.cos(lat), np.sin(lon), np.cos(lon)
    n_rad = WGS84_A_M / np.sqrt(1.0 - WGS84_E2 * slat * slat)
    nx, ny, nz = clat * clon, clat * slon, slat
    # east = (-sin lon, cos lon, 0); north = (-sin lat cos lon, -sin lat sin lon, cos lat)
    ve, vn = batch.gs * np.sin(trk), batch.gs * np.cos(trk)
    _, party = np.unique(batch.parties.astype(str), return_inverse=True)
    vx, vy, vz = -slon * ve - slat * clon * vn, clon * ve - slat * slon * vn, clat * vn
    # advancing along the tangent line for a few seconds leaves the surface by (v dt)²/2R:
    # 0.1 m for 10 s at 250 m/s, negligible against 5 NM / 1000 ft
    dt = (batch.t.max() - batch.t) if len(batch) else batch.t
    return Kinematics(
        px=n_rad * nx + vx * dt,
        py=n_rad * ny + vy * dt,
        pz=n_rad * (1.0 - WGS84_E2) * slat + vz * dt,
        nx=nx,
        ny=ny,
        nz=nz,
        vx=vx,
        vy=vy,
        vz=vz,
        alt_m=batch.alt_m + batch.vs * dt,
        vs=batch.vs.astype(np.float64),
        ground=batch.on_ground.astype(np.bool_),
        party=party.astype(np.int64).reshape(-1),
        advanced_s=float(dt.max()) if len(batch) else 0.0,
    )


@dataclass(frozen=True, slots=True)
class PairGeometry:
    """Closest-approach results for pairs (i, j) (arrays broadcast like i and j)."""

    conflict: Bool
    tcpa_s: Float
    dcpa_m: Float
    dalt_m: Float
    tlos_s: Float
    los: Bool
    dist_m: Float
    dz_m: Float


def closest_approach(k: Kinematics, i: Int, j: Int, settings: DetectionSettings) -> PairGeometry:
    """The exact state-based test for pairs (i, j); i and j broadcast against each other (the
    all-pairs reference passes a column and a row). Every pair should be given as (lower id,
    higher id) so its numbers do not depend on the caller."""
    with np.errstate(all="ignore"):
        # relative state, and m = sum of the two normals (the pair's local vertical)
        dpx, dpy, dpz = k.px[j] - k.px[i], k.py[j] - k.py[i], k.pz[j] - k.pz[i]
        dvx, dvy, dvz = k.vx[j] - k.vx[i], k.vy[j] - k.vy[i], k.vz[j] - k.vz[i]
        mx, my, mz = k.nx[i] + k.nx[j], k.ny[i] + k.ny[j], k.nz[i] + k.nz[j]
        mm = mx * mx + my * my + mz * mz
        pm = dpx * mx + dpy * my + dpz * mz
        vm = dvx * mx + dvy * my + dvz * mz
        # projection on the tangent plane: |p_h|² = |p|² - (p·m)²/|m|², same for p_h·v_h, |v_h|²
        c = np.maximum(dpx * dpx + dpy * dpy + dpz * dpz - pm * pm / mm, 0.0)
        b = dpx * dvx + dpy * dvy + dpz * dvz - pm * vm / mm
        a = np.maximum(dvx * dvx + dvy * dvy + dvz * dvz - vm * vm / mm, 0.0)

        # minima of this pair: ground/ground has no vertical criterion
        gi, gj = k.ground[i], k.ground[j]
        rh = np.where(gi | gj, settings.ground_horizontal_m, settings.horizontal_m)
        rh2 = rh * rh
        no_vertical = gi & gj
        # strict minimum, judged to 1 µm: altitudes written in decimal metres that differ by
        # exactly the minimum (e.g. 3352.8 - 3048.0 = 304.8000000000002) are not in conflict
        # whichever way binary rounding falls (BlueSky issue #345 is this boundary)
        rv = settings.vertical_m - VERTICAL_EPSILON_M
        lookahead = settings.lookahead_s

        # horizontal closest approach
        moving = a > 0.0
        a_safe = np.where(moving, a, 1.0)
        tcpa = np.where(moving, -b / a_safe, 0.0)
        dcpa2 = np.where(moving, np.maximum(c - b * b / a_safe, 0.0), c)
        inside_now_h = c < rh2

        # horizontal conflict interval (t_in_h, t_out_h): roots of |p + v t|² = rh²
        half = np.sqrt(np.maximum(rh2 - dcpa2, 0.0) / a_safe)
        meets = np.where(moving, dcpa2 < rh2, inside_now_h)
        far = np.where(meets, -np.inf, np.inf)
        th_in = np.where(moving & meets, tcpa - half, far)
        th_out = np.where(moving & meets, tcpa + half, -far)

        # vertical crossing of the protected slab |dz + dvs t| < rv
        dz = k.alt_m[j] - k.alt_m[i]
        dvs = k.vs[j] - k.vs[i]
        climbing = dvs != 0.0
        dvs_safe = np.where(climbing, dvs, 1.0)
        t1 = (-rv - dz) / dvs_safe
        t2 = (rv - dz) / dvs_safe
        inside_now_v = np.abs(dz) < rv
        level_in = np.where(inside_now_v, -np.inf, np.inf)
        tv_in = np.where(climbing, np.minimum(t1, t2), level_in)
        tv_out = np.where(climbing, np.maximum(t1, t2), -level_in)
        tv_in = np.where(no_vertical, -np.inf, tv_in)
        tv_out = np.where(no_vertical, np.inf, tv_out)

        # both at once, within [0, lookahead]
        lower = np.maximum(th_in, tv_in)
        upper = np.minimum(th_out, tv_out)
        los = inside_now_h & (inside_now_v | no_vertical)
        conflict = los | ((lower < upper) & (upper > 0.0) & (lower < lookahead))
        tlos = np.where(los, 0.0, np.maximum(lower, 0.0))
        # reported: the closest approach from now on (a diverging pair is closest now), never
        # a time in the past; the raw tcpa above only places the conflict interval
        past = tcpa < 0.0
        tcpa_ahead = np.where(past, 0.0, tcpa)
        return PairGeometry(
            conflict=conflict,
            tcpa_s=tcpa_ahead,
            dcpa_m=np.sqrt(np.where(past, c, dcpa2)),
            dalt_m=np.abs(dz + dvs * tcpa_ahead),
            tlos_s=tlos,
            los=los,
            dist_m=np.sqrt(c),
            dz_m=np.abs(dz),
        )


def sorted_view(batch: TrackBatch) -> tuple[TrackBatch, Int]:
    """The batch sorted by track id (so index order is id order) and the permutation used.
    Raises ValidationError when ids repeat or a time is not finite."""
    batch.validate(check_unique=False)
    if not np.isfinite(batch.t).all():
        # one NaN time would advance every track to a NaN instant and hide every conflict
        bad = int(np.flatnonzero(~np.isfinite(batch.t))[0])
        raise ValidationError(f"{float(batch.t[bad])!r} is not a finite time for track {batch.ids[bad]}",
                              field="t")
    ids = batch.ids.astype(str)
    order = np.argsort(ids, kind="stable")
    ids = ids[order]
    dup = np.flatnonzero(ids[1:] == ids[:-1])
    if dup.size:
        raise ValidationError(f"track id {ids[dup[0]]!r} appears twice in the batch", field="ids")
    return batch.take(order), order.astype(np.int64)


def assemble(
    batch_sorted: TrackBatch, order: Int, i: Int, j: Int, geo: PairGeometry
) -> Conflicts:
    """Keep the conflicting pairs (i < j in sorted order) and map them back to the caller's indices."""
    keep = geo.conflict
    i, j = i[keep], j[keep]
    rank = np.argsort(i * max(len(batch_sorted), 1) + j, kind="stable")
    i, j = i[rank], j[rank]
    return Conflicts(
        a_index=order[i],
        b_index=order[j],
        a=batch_sorted.ids[i],
        b=batch_sorted.ids[j],
        tcpa_s=geo.tcpa_s[keep][rank],
        dcpa_m=geo.dcpa_m[keep][rank],
        dalt_m=geo.dalt_m[keep][rank],
        tlos_s=geo.tlos_s[keep][rank],
        los=geo.los[keep][rank],
        dist_m=geo.dist_m[keep][rank],
        dz_m=geo.dz_m[keep][rank],
    )


@dataclass(frozen=True, slots=True)
class StateBasedDetector:
    """The pruned state-based detector (swept-box grid broad phase + exact closest approach).

    ``time_slabs`` splits the look-ahead so that swept boxes are shorter (2: the fastest on the
    benchmark; at 50k, 1 is about 30 % slower, 3 about 10 %, 4 about 20 %); ``max_pairs_per_chunk`` is
    the initial size of the broad phase's output buffers (they grow as needed; they hold only
    the pairs that pass its conservative filter, about 1.05x the pairs in conflict on the
    benchmark); ``narrow_chunk`` the number of pairs per call of the exact test (small enough
    for its temporaries to stay in cache). Below ``all_pairs_below`` tracks every admitted pair
    goes straight to the exact test (under 1,128 pairs at 48: cheaper than building the grid,
    which is most of a replay step of a sparse recording); the exact test decides either way,
    so the result is the same, bit for bit."""

    settings: DetectionSettings = DetectionSettings()
    max_pairs_per_chunk: int = 1 << 17
    narrow_chunk: int = 1 << 15
    time_slabs: int = 2
    all_pairs_below: int = 48

    def __post_init__(self) -> None:
        for name in ("max_pairs_per_chunk", "narrow_chunk", "time_slabs"):
            if getattr(self, name) < 1:
                raise ValidationError(f"must be at least 1, got {getattr(self, name)}", field=name)
        if self.all_pairs_below < 0:
            raise ValidationError(f"must be at least 0, got {self.all_pairs_below}", field="all_pairs_below")

    def detect(self, batch: TrackBatch) -> Conflicts:
        """Every pair in conflict, once, a < b. Preconditions: ids unique and times finite
        (ValidationError otherwise)."""
        srt, order = sorted_view(batch)
        k = kinematics(srt)
        i, j = self.candidates(k)
        kept: list[tuple[Int, Int, PairGeometry]] = []
        for c in range(0, i.size, self.narrow_chunk):
            ci, cj = i[c:c + self.narrow_chunk], j[c:c + self.narrow_chunk]
            geo = closest_approach(k, ci, cj, self.settings)
            keep = geo.conflict
            kept.append((ci[keep], cj[keep], PairGeometry(
                *(getattr(geo, f)[keep] for f in PairGeometry.__slots__))))
        if not kept:
            empty = np.empty(0, np.int64)
            return assemble(srt, order, empty, empty, closest_approach(k, empty, empty, self.settings))
        i = np.concatenate([p[0] for p in kept])
        j = np.concatenate([p[1] for p in kept])
        fields = PairGeometry.__slots__
        geo = PairGeometry(*(np.concatenate([getattr(p[2], f) for p in kept]) for f in fields))
        return assemble(srt, order, i, j, geo)

    def candidates(self, k: Kinematics) -> tuple[Int, Int]:
        """Pairs (i < j), each once, that the settings' pair filter admits and that may be in
        conflict: a superset of the pairs in conflict (see engines/pairgrid.py)."""
        s = self.settings
        n = k.px.shape[0]
        if n < 2:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        if n < self.all_pairs_below:
            i, j = np.triu_indices(n, 1)
            if s.pairs is PairFilter.CROSS_PARTY:
                other = k.party[i] != k.party[j]
                i, j = i[other], j[other]
            return i.astype(np.int64), j.astype(np.int64)
        rot = _rotation_to_mean_vertical(k)
        p = np.stack([k.px, k.py, k.pz], axis=1) @ rot.T
        v = np.stack([k.vx, k.vy, k.vz], axis=1) @ rot.T
        speed = np.sqrt(k.vx * k.vx + k.vy * k.vy + k.vz * k.vz)
        horizon_s = s.lookahead_s + k.advanced_s
        cross = s.pairs is PairFilter.CROSS_PARTY
        # 3D reach of a pair in conflict (proven in _horizontal_pad_m) and its altitude
        # difference then, both with margins far above rounding
        pad_v = s.vertical_m * 1.001 + 0.01
        out_i: list[Int] = []
        out_j: list[Int] = []

        # pass A: every track with an altitude; pairs of two ground tracks come from pass B
        idx = np.flatnonzero(np.isfinite(k.alt_m))
        if idx.size >= 2:
            vmax = float(speed[idx].max())
            a, b = swept_pairs(
                p[idx], v[idx], k.alt_m[idx], k.vs[idx], k.ground[idx], k.party[idx],
                reach_air_m=_horizontal_pad_m(s.horizontal_m, vmax, horizon_s),
                reach_ground_m=_horizontal_pad_m(s.ground_horizontal_m, vmax, horizon_s),
                pad_v_m=pad_v, lookahead_s=s.lookahead_s, slabs=self.time_slabs,
                cross_party=cross, skip_both_ground=True, capacity=self.max_pairs_per_chunk)
            out_i.append(idx[a])
            out_j.append(idx[b])

        # pass B: ground tracks among themselves, no vertical criterion (altitudes all 0)
        idx = np.flatnonzero(k.ground)
        if idx.size >= 2:
            reach = _horizontal_pad_m(s.ground_horizontal_m, float(speed[idx].max()), horizon_s)
            zero = np.zeros(idx.size)
            a, b = swept_pairs(
                p[idx], v[idx], zero, zero, k.ground[idx], k.party[idx],
                reach_air_m=reach, reach_ground_m=reach, pad_v_m=pad_v,
                lookahead_s=s.lookahead_s, slabs=self.time_slabs, cross_party=cross,
                skip_both_ground=False, capacity=self.max_pairs_per_chunk)
            out_i.append(idx[a])
            out_j.append(idx[b])

        if not out_i:
            return np.empty(0, np.int64), np.empty(0, np.int64)
        # idx is increasing, so i < j still holds
        return np.concatenate(out_i), np.concatenate(out_j)


def _horizontal_pad_m(rh_m: float, vmax_mps: float, lookahead_s: float) -> float:
    """A 3D (ECEF) distance that two straight-line tracks must come within whenever their
    tangent-plane distance (``closest_approach``) falls below ``rh_m`` within the look-ahead.
    The caller adds to ``lookahead_s`` the time tracks were advanced to the snapshot time
    (their positions then left their own normals' tangent planes by that much motion).

    The projected distance ignores the component along the pair's mean normal m̂. For a pair in
    conflict, its current distance is at most D = rh + 2 vmax T, so the angle θ between the two
    normals is at most D / ρ_min (times 1.01 for the chord/arc difference). That component is
    (i) the chord's own, below 2 a e² θ² on the ellipsoid (zero on a sphere by symmetry), plus
    (ii) t (v_b - v_a)·m̂ <= T (|v_a| + |v_b|) θ / 2 <= T vmax θ, since each velocity is
    perpendicular to its own normal, which is θ/2 from m̂.
    """
    d_max = rh_m + 2.0 * vmax_mps * lookahead_s
    theta = 1.01 * d_max / MIN_CURVATURE_RADIUS_M
    normal_m = 2.0 * WGS84_A_M * WGS84_E2 * theta * theta + lookahead_s * vmax_mps * theta
    return math.hypot(rh_m, normal_m) * 1.001 + 1.0


def _rotation_to_mean_vertical(k: Kinematics) -> Float:
    """A rotation whose third row is the snapshot's mean vertical, so that a regional snapshot
    lies nearly flat in (x, y) and a 2D grid over (x, y) suffices. Any rotation is exact."""
    m = np.array([k.nx.mean(), k.ny.mean(), k.nz.mean()])
    norm = float(np.linalg.norm(m))
    if norm < 1e-6:
        return np.eye(3)
    e3 = m / norm
    helper = np.array([0.0, 0.0, 1.0]) if abs(e3[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
    e1 = np.cross(helper, e3)
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(e3, e1)
    return np.stack([e1, e2, e3])


# --- episodes: what a replay tells about an alert that lasts ---------------------------------


class EpisodeChange(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    CLOSED = "closed"


@dataclass(slots=True)
class Episode:
    """One alert (a pair in conflict, a track in a zone, ...) from the step it appeared to the
    last step it was seen. ``first`` and ``latest`` are what the detector said then."""

    key: tuple[str, ...]
    opened_s: float
    last_seen_s: float
    first: object
    latest: object
    steps: int = 1
    closed_s: float | None = None

    @property
    def duration_s(self) -> float:
        return self.last_seen_s - self.opened_s


@dataclass(frozen=True, slots=True)
class EpisodeEvent:
    """``change`` happened to ``episode`` at the scan of ``time_s`` (for a close: the first
    scan after the gap that ended it, or the end of the data)."""

    change: EpisodeChange
    time_s: float
    episode: Episode


class EpisodeTracker:
    """Turns the alerts of successive scans into episodes: an alert whose key was not open is
    opened; seen again while open, it is updated (not raised again); an open key not seen for
    more than ``clear_after_s`` is closed (a track that misses a report or two does not end
    and restart its episode). Pure: the caller gives the scan times."""

    def __init__(self, clear_after_s: float = 30.0):
        if not (math.isfinite(clear_after_s) and clear_after_s >= 0):
            raise ValidationError(f"{clear_after_s!r} must be a finite number >= 0", field="clear_after_s")
        self.clear_after_s = clear_after_s
        self.open: dict[tuple[str, ...], Episode] = {}

    def step(self, at_s: float, found: Sequence[tuple[tuple[str, ...], object]]) -> list[EpisodeEvent]:
        """Events of one scan at ``at_s`` that found ``found`` ((key, data) pairs): closes
        first, then opens and updates in the order found."""
        events: list[EpisodeEvent] = []
        seen = {key for key, _ in found}
        for key, episode in list(self.open.items()):
            if key not in seen and at_s - episode.last_seen_s > self.clear_after_s:
                events.append(self._close(key, at_s))
        for key, data in found:
            episode = self.open.get(key)
            if episode is None:
                episode = Episode(key, at_s, at_s, data, data)
                self.open[key] = episode
                events.append(EpisodeEvent(EpisodeChange.OPENED, at_s, episode))
            elif episode.last_seen_s != at_s:
                episode.last_seen_s = at_s
                episode.latest = data
                episode.steps += 1
                events.append(EpisodeEvent(EpisodeChange.UPDATED, at_s, episode))
        return events

    def close_all(self, at_s: float) -> list[EpisodeEvent]:
        """Close every open episode (the data ended at ``at_s``)."""
        return [self._close(key, at_s) for key in list(self.open)]

    def _close(self, key: tuple[str, ...], at_s: float) -> EpisodeEvent:
        episode = self.open.pop(key)
        episode.closed_s = episode.last_seen_s
        return EpisodeEvent(EpisodeChange.CLOSED, at_s, episode)
