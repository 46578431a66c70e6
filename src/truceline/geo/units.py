"""Units Truceline converts at its edges (DESIGN.md: metres and seconds inside; feet and
nautical miles only where people read or write them). The one place they are written."""

from __future__ import annotations

FOOT_M = 0.3048  # the international foot (1959), exact
NM_M = 1852.0  # the international nautical mile, exact
