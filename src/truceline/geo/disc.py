"""A circle against a polygon, exactly and fast: clip the polygon's ring to a box, then the
depth and the area it shares with a disc centred at the origin of a planar frame.

Why by hand (and compiled with numba): GEOS only intersects polygons, so a disc would have
to be a polygon of hundreds of vertices (finer still for shallow overlaps), and each GEOS or
pyproj call costs tens of microseconds of overhead, many times the arithmetic here. These
kernels are exact for the true circle, keep shallow overlaps positive, and take one pass
over the ring. geo.horizontal decides when they apply and proves the clip harmless.

Compiled on first use and cached on disk (``cache=True``); pure, no I/O of their own.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit


@njit(cache=True)
def _clip_half(
    xs: np.ndarray, ys: np.ndarray, n: int, on_x: bool, bound: float, keep_above: bool
) -> tuple[np.ndarray, np.ndarray, int]:
    """One Sutherland-Hodgman pass: the open ring (n vertices) clipped to one half-plane."""
    out_x = np.empty(2 * n + 2)
    out_y = np.empty(2 * n + 2)
    m = 0
    for i in range(n):
        j = i - 1 if i > 0 else n - 1  # the ring closes (buffers may be longer than n)
        px, py = xs[j], ys[j]
        cx, cy = xs[i], ys[i]
        pv = px if on_x else py
        cv = cx if on_x else cy
        p_in = pv >= bound if keep_above else pv <= bound
        c_in = cv >= bound if keep_above else cv <= bound
        if p_in != c_in:
            t = (bound - pv) / (cv - pv)
            out_x[m] = bound if on_x else px + t * (cx - px)
            out_y[m] = py + t * (cy - py) if on_x else bound
            m += 1
        if c_in:
            out_x[m] = cx
            out_y[m] = cy
            m += 1
    return out_x, out_y, m


@njit(cache=True)
def clip_ring_to_box(
    xs: np.ndarray, ys: np.ndarray, x0: float, y0: float, x1: float, y1: float
) -> tuple[np.ndarray, np.ndarray]:
    """The closed ring (first vertex repeated last) clipped to the box, closed again; empty
    arrays when nothing is left. The result is one ring that may run along the box's sides
    (there and back) where the polygon leaves and re-enters: inside the box its winding
    number, hence its area and its inside test, are the polygon's."""
    n = xs.shape[0] - 1
    cx, cy = xs[:n].copy(), ys[:n].copy()
    cx, cy, n = _clip_half(cx, cy, n, True, x0, True)
    if n:
        cx, cy, n = _clip_half(cx, cy, n, True, x1, False)
    if n:
        cx, cy, n = _clip_half(cx, cy, n, False, y0, True)
    if n:
        cx, cy, n = _clip_half(cx, cy, n, False, y1, False)
    if n < 3:
        return np.empty(0), np.empty(0)
    out_x = np.empty(n + 1)
    out_y = np.empty(n + 1)
    out_x[:n] = cx[:n]
    out_y[:n] = cy[:n]
    out_x[n] = cx[0]
    out_y[n] = cy[0]
    return out_x, out_y


@njit(cache=True)
def disc_ring_depth_area(xs: np.ndarray, ys: np.ndarray, radius_m: float) -> tuple[float, float]:
    """For the disc of ``radius_m`` around the origin and the polygon of the closed ring:
    the depth of their overlap (radius minus the distance from the centre to the polygon,
    that distance being 0 when the centre is inside), and the area they share.

    The area is the sum over the edges of the signed area the disc shares with the triangle
    (origin, edge start, edge end): each edge splits where it crosses the circle, its part
    inside adds a triangle, its parts outside add the circular sector they subtend."""
    r2 = radius_m * radius_m
    area = 0.0
    nearest2 = math.inf
    crossings = 0
    for k in range(xs.shape[0] - 1):
        ax, ay, bx, by = xs[k], ys[k], xs[k + 1], ys[k + 1]
        dx, dy = bx - ax, by - ay
        dd = dx * dx + dy * dy
        ad = ax * dx + ay * dy
        # nearest point of the edge to the centre
        t = 0.0 if dd == 0.0 else min(1.0, max(0.0, -ad / dd))
        qx, qy = ax + t * dx, ay + t * dy
        nearest2 = min(nearest2, qx * qx + qy * qy)
        # a ray from the centre towards +x: odd crossings mean the centre is inside
        if (ay > 0.0) != (by > 0.0) and ax + (0.0 - ay) * dx / dy > 0.0:
            crossings += 1
        # the edge's share of the disc
        disc = ad * ad - dd * (ax * ax + ay * ay - r2)
        t1 = t2 = 0.0  # an edge that never enters the disc: an empty inside part at its start
        if disc > 0.0 and dd > 0.0:
            root = math.sqrt(disc)
            t1 = min(1.0, max(0.0, (-ad - root) / dd))
            t2 = min(1.0, max(0.0, (-ad + root) / dd))
        p1x, p1y = ax + t1 * dx, ay + t1 * dy
        p2x, p2y = ax + t2 * dx, ay + t2 * dy
        area += 0.5 * r2 * math.atan2(ax * p1y - ay * p1x, ax * p1x + ay * p1y)
        area += 0.5 * (p1x * p2y - p1y * p2x)
        area += 0.5 * r2 * math.atan2(p2x * by - p2y * bx, p2x * bx + p2y * by)
    distance = 0.0 if crossings % 2 == 1 else math.sqrt(nearest2)
    return radius_m - distance, abs(area)
