"""The plain all-pairs reference: every pair through the same closest-approach test.

This is how BlueSky's StateBased detector works (an N x N evaluation), except that the matrix
is built by blocks of rows so memory stays bounded (``max_cells`` pair evaluations at a time).
It exists to check the pruned detector (tests) and to be the benchmark's baseline; it does
O(N²) work, so do not use it on large snapshots.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from truceline.domain.track import TrackBatch
from truceline.engines.tactical import (
    Conflicts,
    DetectionSettings,
    PairFilter,
    PairGeometry,
    assemble,
    closest_approach,
    kinematics,
    sorted_view,
)


@dataclass(frozen=True, slots=True)
class AllPairsDetector:
    settings: DetectionSettings = field(default_factory=DetectionSettings)
    max_cells: int = 1_000_000

    def detect(self, batch: TrackBatch) -> Conflicts:
        """Every pair in conflict, a < b, by testing all N(N-1)/2 pairs."""
        srt, order = sorted_view(batch)
        k = kinematics(srt)
        n = len(srt)
        cols = np.arange(n, dtype=np.int64)
        rows_per_block = max(1, self.max_cells // max(n, 1))
        parts: list[tuple[np.ndarray, ...]] = []
        for r0 in range(0, n, rows_per_block):
            rows = np.arange(r0, min(n, r0 + rows_per_block), dtype=np.int64)
            geo = closest_approach(k, rows[:, None], cols[None, :], self.settings)
            mask = geo.conflict & (cols[None, :] > rows[:, None])
            if self.settings.pairs is PairFilter.CROSS_PARTY:
                mask &= k.party[rows][:, None] != k.party[cols][None, :]
            ii, jj = np.nonzero(mask)
            parts.append((rows[ii], cols[jj], geo.tcpa_s[ii, jj], geo.dcpa_m[ii, jj],
                          geo.dalt_m[ii, jj], geo.tlos_s[ii, jj], geo.los[ii, jj],
                          geo.dist_m[ii, jj], geo.dz_m[ii, jj]))
        if parts:
            cat = [np.concatenate([p[f] for p in parts]) for f in range(9)]
        else:
            cat = [np.empty(0, np.int64)] * 2 + [np.empty(0)] * 4 + [np.empty(0, np.bool_)]
            cat += [np.empty(0)] * 2
        i, j, tcpa, dcpa, dalt, tlos, los, dist, dz = cat
        geo = PairGeometry(np.ones(i.size, np.bool_), tcpa, dcpa, dalt, tlos, los, dist, dz)
        return assemble(srt, order, i, j, geo)
