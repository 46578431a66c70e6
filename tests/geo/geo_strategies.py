"""Hypothesis strategies and builders for geo tests: realistic shapes around Syria
(lon 35-42, lat 32-37.5), 100 m to 100 km across."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import strategies as st

from truceline.geo import geodesy
from truceline.geo.shapes import Circle, Polygon, Shape

LON_RANGE = (35.5, 41.5)
LAT_RANGE = (32.5, 37.0)


def star_polygon(
    lon: float, lat: float, radius_m: float, fractions: list[float], jitters: list[float]
) -> Polygon:
    """A simple star polygon: one vertex per angular sector (so every gap is < 180°)."""
    n = len(fractions)
    az = np.array([(i + jitters[i]) * 360.0 / n for i in range(n)])
    dist = radius_m * np.array(fractions)
    lons, lats, _ = geodesy.GEOD.fwd(np.full(n, lon), np.full(n, lat), az, dist)
    ring = [(float(x), float(y)) for x, y in zip(lons, lats, strict=True)]
    return Polygon((*ring, ring[0]))


@st.composite
def centres(draw: st.DrawFn) -> tuple[float, float]:
    return (draw(st.floats(*LON_RANGE)), draw(st.floats(*LAT_RANGE)))


@st.composite
def radii_m(draw: st.DrawFn, low_m: float = 50.0, high_m: float = 50_000.0) -> float:
    return math.exp(draw(st.floats(math.log(low_m), math.log(high_m))))


@st.composite
def shapes(draw: st.DrawFn, centre: tuple[float, float] | None = None, high_m: float = 50_000.0) -> Shape:
    lon, lat = centre if centre is not None else draw(centres())
    r = draw(radii_m(high_m=high_m))
    if draw(st.booleans()):
        return Circle((lon, lat), r)
    n = draw(st.integers(3, 10))
    fractions = draw(st.lists(st.floats(0.3, 1.0), min_size=n, max_size=n))
    jitters = draw(st.lists(st.floats(0.1, 0.9), min_size=n, max_size=n))
    return star_polygon(lon, lat, r, fractions, jitters)


@st.composite
def nearby_pairs(draw: st.DrawFn) -> tuple[Shape, Shape]:
    """Two shapes whose centres are close enough that they often overlap."""
    a = draw(shapes(high_m=20_000.0))
    lon, lat = a.center if isinstance(a, Circle) else a.ring[0]
    az = draw(st.floats(0, 360))
    d = draw(st.floats(0, 30_000))
    lon2, lat2, _ = geodesy.GEOD.fwd(lon, lat, az, d)
    b = draw(shapes(centre=(float(lon2), float(lat2)), high_m=20_000.0))
    return a, b


def square(lon: float, lat: float, side_deg: float) -> Polygon:
    return Polygon(
        [
            (lon, lat),
            (lon + side_deg, lat),
            (lon + side_deg, lat + side_deg),
            (lon, lat + side_deg),
            (lon, lat),
        ]
    )


def random_points_in_bounds(
    bounds: tuple[float, float, float, float], n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(bounds[0], bounds[2], n), rng.uniform(bounds[1], bounds[3], n)
