"""A replay server's clock (``TRUCELINE_SCAN_CLOCK=tracks``): the recording's time, not the wall's.

A server normally scans its picture every ``TRUCELINE_SCAN_INTERVAL_S`` at its own clock, and
refuses a state more than a minute from it. A recording fed through a server
(``truceline replay FILE --to URL``) carries times of the past, and a feeder at ``--speed 0``
sends steps far faster than real time: scanned at the wall clock, its states would all be
refused as old, and scanned every 2 s of wall time, several recording steps would be merged
into one scan (or one step scanned several times), so the alerts would depend on the
machine's speed rather than on the recording.

In ``tracks`` mode, then:

- ``RecordingPicture`` ages its tracks at the newest report's time (the ``clock_s``, which
  only moves forward), not at the server's: a state is refused as stale when it is
  ``max_age_s`` older than the newest one seen, never as "in the future";
- the server does not scan on its own: the feeder says when a recording step is complete
  (``POST /picture/scan {"at": T}``) and the scan runs at T, once per step, exactly as the
  offline replay's scan of the same step (``scan_at``). T must not be before the newest report
  (that would scan states "from the future") nor before the previous scan (time goes forward).

Why not "scan at the newest report's time whenever it moved": a step whose tracks happen not
to report at its exact second (the Paris recording reports every 5-10 s) would then be
scanned at another time than the offline replay's step, ages and episode gaps would differ by
a second or two, and a step where several parties each send a batch would be scanned after
the first party's batch alone. Only the feeder knows when a step is complete.

This is a setting for a replay (training, an after-action review, the tests), not for a live
server: any party with a token may move such a server's clock.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from truceline.domain.clock import from_epoch_s
from truceline.domain.track import Track
from truceline.errors import ConflictError, ValidationError
from truceline.io.statevectors import EPOCH_RANGE_S
from truceline.service.live_detection import LiveDetection, ScanResult
from truceline.service.tracks import Refusal, TrackPicture


@dataclass(slots=True)
class RecordingPicture(TrackPicture):
    """A ``TrackPicture`` whose clock is its newest report's time (``clock_s``; -inf before
    the first one). ``last_scan_s``: the time of the latest scan (``scan_at``)."""

    clock_s: float = -math.inf
    last_scan_s: float = -math.inf
    _clock_lock: threading.Lock = field(default_factory=threading.Lock)

    def offer(self, tracks: Sequence[tuple[int, Track, str]], now_s: float) -> list[Refusal]:
        """As ``TrackPicture.offer``, at the newest report's time instead of ``now_s`` (the
        server's clock, ignored)."""
        # A time no datetime can hold would move the clock where nothing can be read: refused.
        lo, hi = EPOCH_RANGE_S
        refused = [Refusal(i, "time", f"{track.time_s!r} is not an epoch time in seconds (years 1 to 9999)")
                   for i, track, _c in tracks if not lo <= track.time_s <= hi]
        tracks = [row for row in tracks if lo <= row[1].time_s <= hi]
        with self._clock_lock:
            newest = max((track.time_s for _i, track, _c in tracks), default=-math.inf)
            self.clock_s = max(self.clock_s, newest)
            at_s = self.clock_s
        if not math.isfinite(at_s):
            return refused  # nothing usable offered, nothing reported yet
        return refused + TrackPicture.offer(self, tracks, at_s)


def picture_time_s(picture: RecordingPicture) -> float | None:
    """A replay server's "now": its newest report or latest scan (None before either). Reading
    the picture at the wall clock would drop every recorded track as silent."""
    with picture._clock_lock:
        now = max(picture.clock_s, picture.last_scan_s)
    return now if math.isfinite(now) else None


def scan_at(live: LiveDetection, picture: RecordingPicture, at_s: float) -> ScanResult:
    """Scan ``live``'s picture at the recording time ``at_s``: one recording step. Requires
    ``at_s`` finite, not before the newest report (ConflictError: the step is not complete
    in the picture's time) nor before the previous scan."""
    if not (math.isfinite(at_s) and EPOCH_RANGE_S[0] <= at_s <= EPOCH_RANGE_S[1]):
        raise ValidationError(f"{at_s!r} is not an epoch time in seconds (years 1 to 9999)", field="at")
    with picture._clock_lock:
        if at_s < picture.clock_s:
            raise ConflictError(
                f"{at_s!r} is before the newest report ({picture.clock_s!r}): a step is scanned at or "
                "after its last report", field="at")
        if at_s < picture.last_scan_s:
            raise ConflictError(f"{at_s!r} is before the previous scan ({picture.last_scan_s!r})", field="at")
        picture.last_scan_s = at_s
    return live.tick(from_epoch_s(at_s))


__all__ = ["RecordingPicture", "picture_time_s", "scan_at"]
