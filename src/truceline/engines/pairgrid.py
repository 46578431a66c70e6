"""Compiled broad phase of the tactical detector: candidate pairs from swept boxes (numba).

Only candidate generation is compiled; the exact closest-approach test stays in NumPy
(``tactical.closest_approach``), so the numbers reported do not depend on this module: a
candidate set that is any superset of the pairs in conflict gives the same result, bit for bit.

``swept_pairs`` returns each candidate pair once. Per time slab, every track's swept box (the
segment it flies during the slab, padded) is listed in each cell of a 2D grid over (x, y) that
it touches, the cell's entries ordered by the box's lowest altitude; a sweep along that order
meets only pairs whose altitude ranges overlap. A pair is looked at in its home cell only (the
per-axis max of the two boxes' first cells, which both boxes cover). Survivors of the box test
go through a conservative closest-approach filter in 3D:

    t* = the time in [0, T] and in the window where |dz + dvs t| <= pad_v that minimises the
         3D distance |dp + dv t|;  keep the pair when that distance is <= reach.

It keeps every pair in conflict (the caller's ``reach`` and ``pad_v`` bound the 3D distance
and the altitude difference of a pair in conflict, with margins far above rounding), and the
pair is emitted only from the slab that holds t*: at t* both tracks are inside their boxes of
that slab and within ``reach`` of each other, and the boxes are padded by ``reach / 2 + 0.5 m``
(and the altitudes by ``pad_v / 2 + 0.01 m``), so they overlap there with room to spare.

Compiled ahead of time (engines/pairgrid_aot.py: an extension module built once into a cache
folder, loaded without numba in milliseconds), else by numba at first use and cached on disk
(``cache=True``); the kernel is the same Python source either way. Pure, no I/O of its own
beyond those caches.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from truceline.errors import ValidationError

Int = npt.NDArray[np.int64]
Float = npt.NDArray[np.float64]
Bool = npt.NDArray[np.bool_]

BOX_SLACK_M = 0.5  # boxes are wider than the filter's reach by this much (see module docstring)
ALT_SLACK_M = 0.01


def swept_pairs(p: Float, v: Float, alt_m: Float, vs: Float, ground: Bool, party: Int,
                reach_air_m: float, reach_ground_m: float, pad_v_m: float, lookahead_s: float,
                slabs: int, cross_party: bool, skip_both_ground: bool,
                capacity: int) -> tuple[Int, Int]:
    """Candidate pairs (i < j) among n tracks: a superset of the pairs in conflict, each once.

    Preconditions: ``p`` and ``v`` are (n, 3) positions (m) and velocities (m/s) in any
    Cartesian frame whose third axis is near the local vertical (the grid is over the first
    two); ``alt_m`` and ``vs`` finite (zeros for tracks compared without altitude); a pair
    whose tracks come within the conflict minima at some t in [0, lookahead_s] is within
    ``reach`` (``reach_ground_m`` when either track is on the ground, else ``reach_air_m``)
    in 3D and within ``pad_v_m`` in altitude at that t. ``capacity`` is the initial size of
    the output buffers (they grow as needed).
    """
    n = p.shape[0]
    if n < 2:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    # checked, not assumed: a NaN would become a garbage cell index in compiled code
    for name, arr in (("p", p), ("v", v), ("alt_m", alt_m), ("vs", vs)):
        if not np.isfinite(arr).all():
            raise ValidationError("must be finite (a track's time, position or velocity is not)",
                                  field=name)
    half_h = max(reach_air_m, reach_ground_m) / 2.0 + BOX_SLACK_M
    half_v = pad_v_m / 2.0 + ALT_SLACK_M
    slab_s = lookahead_s / slabs
    # grid cell: the median box extent over x and y (of a slab's box: |v| slab_s + 2 half_h)
    cell = max(float(np.median(np.abs(v[:, 0]))), float(np.median(np.abs(v[:, 1])))) * slab_s
    cell += 2.0 * half_h
    # per slab, the altitude range of each box and the tracks in the order of its bottom
    # (sorted here in NumPy: the compiled part stays small and quick to compile; the kernel's
    # sweep reads these same arrays, so their order is exactly the one it relies on)
    t = lookahead_s * np.arange(slabs + 1) / slabs
    t[-1] = lookahead_s
    z = alt_m[None, :] + vs[None, :] * t[:, None]
    alt_lo = np.minimum(z[:-1], z[1:]) - half_v
    alt_hi = np.maximum(z[:-1], z[1:]) + half_v
    by_alt = np.argsort(alt_lo, axis=1, kind="stable").astype(np.int64)
    return _kernel()(
        np.ascontiguousarray(p, dtype=np.float64), np.ascontiguousarray(v, dtype=np.float64),
        np.ascontiguousarray(alt_m, dtype=np.float64), np.ascontiguousarray(vs, dtype=np.float64),
        np.ascontiguousarray(ground, dtype=np.bool_), np.ascontiguousarray(party, dtype=np.int64),
        np.ascontiguousarray(t, dtype=np.float64), alt_lo, alt_hi, by_alt, float(half_h), float(cell),
        float(reach_air_m), float(reach_ground_m), float(pad_v_m), float(lookahead_s), bool(cross_party),
        bool(skip_both_ground), max(int(capacity), 16))


_KERNEL: list[Callable[..., tuple[Int, Int]]] = []  # the kernel in use, chosen at the first call


def _kernel() -> Callable[..., tuple[Int, Int]]:
    """The compiled kernel: ahead of time when it can be had, else numba's cached JIT."""
    if not _KERNEL:
        from truceline.engines import pairgrid_aot

        module = pairgrid_aot.load_or_build()
        _KERNEL.append(module.swept_pairs if module is not None else jit_kernel())
    return _KERNEL[0]


def load_kernel() -> None:
    """Load the compiled kernel now (built first, once per machine, when missing): a server or a
    worker pays this at start-up, not inside its first scan."""
    _kernel()


def jit_kernel() -> Any:
    """The kernel compiled by numba (``cache=True``), its helper bound as a compiled function
    (numba resolves the globals a kernel calls when it compiles it)."""
    from numba import njit

    global _closest_time
    if not hasattr(_closest_time, "py_func"):
        _closest_time = njit(cache=True)(_closest_time)
    return njit(cache=True)(_swept_pairs)


def _swept_pairs(p, v, alt, vs, ground, party, t, alt_lo, alt_hi, by_alt, half_h, cell0,  # noqa: ANN001
                 reach_air, reach_ground, pad_v, lookahead, cross_party, skip_both_ground,  # noqa: ANN001
                 capacity):  # noqa: ANN001
    slabs, n = by_alt.shape
    ra2 = reach_air * reach_air
    rg2 = reach_ground * reach_ground
    out_i = np.empty(capacity, np.int64)
    out_j = np.empty(capacity, np.int64)
    m = 0
    lo = np.empty((n, 4))
    hi = np.empty((n, 4))
    glo = np.empty((n, 2), np.int64)
    ghi = np.empty((n, 2), np.int64)
    for q in range(slabs):
        t0 = t[q]
        t1 = t[q + 1]
        # swept boxes over [t0, t1]: three position axes, then altitude as given
        for a in range(n):
            for d in range(3):
                x0 = p[a, d] + v[a, d] * t0
                x1 = p[a, d] + v[a, d] * t1
                lo[a, d] = min(x0, x1) - half_h
                hi[a, d] = max(x0, x1) + half_h
            lo[a, 3] = alt_lo[q, a]
            hi[a, 3] = alt_hi[q, a]
        x_min = lo[:, 0].min()
        y_min = lo[:, 1].min()
        span_x = hi[:, 0].max() - x_min
        span_y = hi[:, 1].max() - y_min
        # no more cells than a few per track
        cell = max(cell0, 1e-3)
        max_cells = 4.0 * n + 16.0
        if (span_x / cell + 1.0) * (span_y / cell + 1.0) > max_cells:
            cell = max(cell, np.sqrt(span_x * span_y / max_cells) * 1.5,
                       max(span_x, span_y) / max_cells * 1.5)
        nx = int(span_x / cell) + 1
        ny = int(span_y / cell) + 1
        for a in range(n):
            glo[a, 0] = min(int((lo[a, 0] - x_min) / cell), nx - 1)
            glo[a, 1] = min(int((lo[a, 1] - y_min) / cell), ny - 1)
            ghi[a, 0] = min(int((hi[a, 0] - x_min) / cell), nx - 1)
            ghi[a, 1] = min(int((hi[a, 1] - y_min) / cell), ny - 1)
        # counting sort of (cell, track) entries; tracks taken by lowest altitude so that each
        # cell's entries come out in that order
        start = np.zeros(nx * ny + 1, np.int64)
        for a in range(n):
            for cx in range(glo[a, 0], ghi[a, 0] + 1):
                for cy in range(glo[a, 1], ghi[a, 1] + 1):
                    start[cx * ny + cy + 1] += 1
        for c in range(nx * ny):
            start[c + 1] += start[c]
        fill = np.empty(nx * ny, np.int64)
        for c in range(nx * ny):
            fill[c] = start[c]
        size = start[nx * ny]
        # each entry carries a copy of its box, so the sweep reads memory in order
        e_id = np.empty(size, np.int64)
        e_box = np.empty((size, 8))
        e_g = np.empty((size, 2), np.int64)
        for r in range(n):
            a = by_alt[q, r]
            for cx in range(glo[a, 0], ghi[a, 0] + 1):
                for cy in range(glo[a, 1], ghi[a, 1] + 1):
                    c = cx * ny + cy
                    u = fill[c]
                    fill[c] += 1
                    e_id[u] = a
                    e_box[u, 0] = lo[a, 3]
                    e_box[u, 1] = hi[a, 3]
                    e_box[u, 2] = lo[a, 0]
                    e_box[u, 3] = hi[a, 0]
                    e_box[u, 4] = lo[a, 1]
                    e_box[u, 5] = hi[a, 1]
                    e_box[u, 6] = lo[a, 2]
                    e_box[u, 7] = hi[a, 2]
                    e_g[u, 0] = glo[a, 0]
                    e_g[u, 1] = glo[a, 1]
        # sweep each cell along altitude
        for cx in range(nx):
            for cy in range(ny):
                c = cx * ny + cy
                for u in range(start[c], start[c + 1]):
                    a_top = e_box[u, 1]
                    for w in range(u + 1, start[c + 1]):
                        if e_box[w, 0] > a_top:
                            break
                        # home cell of the pair: both boxes cover it, it is looked at once
                        if max(e_g[u, 0], e_g[w, 0]) != cx or max(e_g[u, 1], e_g[w, 1]) != cy:
                            continue
                        if (e_box[u, 2] > e_box[w, 3] or e_box[w, 2] > e_box[u, 3]
                                or e_box[u, 4] > e_box[w, 5] or e_box[w, 4] > e_box[u, 5]
                                or e_box[u, 6] > e_box[w, 7] or e_box[w, 6] > e_box[u, 7]):
                            continue
                        a = e_id[u]
                        b = e_id[w]
                        if skip_both_ground and ground[a] and ground[b]:
                            continue
                        if cross_party and party[a] == party[b]:
                            continue
                        t_star = _closest_time(p, v, alt, vs, a, b, pad_v, lookahead,
                                               rg2 if (ground[a] or ground[b]) else ra2)
                        # emitted from the slab holding t* only (the last slab includes T)
                        if t_star < t0 or (t_star >= t1 and q < slabs - 1):
                            continue
                        if m == out_i.shape[0]:
                            grown_i = np.empty(2 * m, np.int64)
                            grown_j = np.empty(2 * m, np.int64)
                            for e in range(m):  # a loop compiles far faster than a slice copy
                                grown_i[e] = out_i[e]
                                grown_j[e] = out_j[e]
                            out_i = grown_i
                            out_j = grown_j
                        out_i[m] = min(a, b)
                        out_j[m] = max(a, b)
                        m += 1
    return out_i[:m], out_j[:m]


def _closest_time(p, v, alt, vs, a, b, pad_v, lookahead, reach2):  # noqa: ANN001
    """The time in [0, lookahead] within the altitude window |dz + dvs t| <= pad_v where the
    3D distance is least, when that distance is <= sqrt(reach2); -1 (never) otherwise."""
    lo = 0.0
    hi = lookahead
    dz = alt[b] - alt[a]
    dvs = vs[b] - vs[a]
    if dvs == 0.0:
        if abs(dz) > pad_v:
            return -1.0
    else:
        ta = (-pad_v - dz) / dvs
        tb = (pad_v - dz) / dvs
        lo = max(lo, min(ta, tb))
        hi = min(hi, max(ta, tb))
        if lo > hi:
            return -1.0
    dpx = p[b, 0] - p[a, 0]
    dpy = p[b, 1] - p[a, 1]
    dpz = p[b, 2] - p[a, 2]
    dvx = v[b, 0] - v[a, 0]
    dvy = v[b, 1] - v[a, 1]
    dvz = v[b, 2] - v[a, 2]
    vv = dvx * dvx + dvy * dvy + dvz * dvz
    t = lo
    if vv > 0.0:
        t = min(max(-(dpx * dvx + dpy * dvy + dpz * dvz) / vv, lo), hi)
    x = dpx + dvx * t
    y = dpy + dvy * t
    z = dpz + dvz * t
    if x * x + y * y + z * z > reach2:
        return -1.0
    return t
