"""A recording cut into the batches a feeder sends a replay server, step by step.

``truceline replay FILE --to URL`` feeds a server (``TRUCELINE_SCAN_CLOCK=tracks``,
``service.replay_clock``) the same steps the offline replay scans: the grid of
``StateVectors.snapshots`` (from the first row time, or ``start_s``, every ``step_s`` to the
last or ``end_s``). Step k carries each party's rows of times in (at[k-1], at[k]] (the first
step: those younger than ``max_age_s`` at at[0]), in time order (so the server keeps the latest
state per track, as the offline snapshot does), then the server is told to scan at at[k]. The
server then holds, at each scan, the latest state per track reported within its max age: the
offline snapshot of that step, when the two max ages agree.

Pure: no HTTP and no clock here (cli/replay_to.py sends and paces).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from truceline.errors import ValidationError
from truceline.io.statevectors import StateVectors
from truceline.service.tracks import state_record


@dataclass(frozen=True, slots=True)
class FeedStep:
    """One recording step: its scan time and each party's states (``POST /tracks`` rows)."""

    at_s: float
    batches: Mapping[str, list[dict[str, Any]]]

    @property
    def states(self) -> int:
        return sum(len(rows) for rows in self.batches.values())


def step_times(states: StateVectors, step_s: float, start_s: float | None = None,
               end_s: float | None = None) -> list[float]:
    """The scan times of the offline replay over ``states`` (``StateVectors.snapshots``'s grid)."""
    if not (math.isfinite(step_s) and step_s > 0):
        raise ValidationError(f"{step_s!r} must be a positive number", field="step_s")
    first, last = states.time_span_s
    if math.isnan(first):
        return []
    lo = first if start_s is None else max(first, float(start_s))
    hi = last if end_s is None else min(last, float(end_s))
    steps = math.floor((hi - lo) / step_s) + 1
    return [lo + k * step_s for k in range(max(0, steps))]


def feed_steps(
    states: StateVectors,
    step_s: float,
    *,
    max_age_s: float,
    start_s: float | None = None,
    end_s: float | None = None,
    party_of: Mapping[str, str] | None = None,
) -> Iterator[FeedStep]:
    """The steps of ``states`` (module docstring). ``party_of`` maps a recording's party to the
    party the rows are sent as (default: the recording's own, each row's ``party`` column or
    its icao24); a party it lacks is a ValidationError before anything is sent."""
    rows = states.rows
    times = step_times(states, step_s, start_s, end_s)
    if not times:
        return
    parties = rows.parties.astype(str)
    if party_of is not None:
        missing = sorted(set(parties.tolist()) - set(party_of))
        if missing:
            shown = ", ".join(missing[:5]) + (", ..." if len(missing) > 5 else "")
            raise ValidationError(f"no token for the recording's party {shown}", field="tokens")
    order = np.argsort(rows.t, kind="stable")  # time order, file order on ties (the offline rule)
    t_sorted = rows.t[order]
    lower = times[0] - max_age_s
    for at in times:
        lo = np.searchsorted(t_sorted, lower, side="right")
        hi = np.searchsorted(t_sorted, at, side="right")
        batches: dict[str, list[dict[str, Any]]] = {}
        for i in order[lo:hi].tolist():
            record = state_record(rows, i)
            party = str(record.pop("party"))  # the server takes the caller's party
            callsign = str(states.callsigns[i] or "").strip()
            if callsign:
                record["callsign"] = callsign
            batches.setdefault(party if party_of is None else party_of[party], []).append(record)
        lower = at
        yield FeedStep(at, batches)


__all__ = ["FeedStep", "feed_steps", "step_times"]
