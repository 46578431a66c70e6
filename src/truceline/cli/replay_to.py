"""``truceline replay FILE --to URL``: a recording fed through a replay server's ``POST /tracks``.

Each step (service/replay_feed.py) is each party's batch, sent with that party's token, then
``POST /picture/scan`` at the step's time: the server (``TRUCELINE_SCAN_CLOCK=tracks``) scans
once per step, at the recording's time, so it raises the alerts the offline replay of the same
file raises with the server's settings (its minima, max age and the 6 s after which an alert
not found again is closed: ``truceline replay FILE --max-age 60 --clear-after 6``). The
server's answers to each scan (alerts opened, updated, closed) are printed as they come.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from truceline.api.client import Client
from truceline.errors import FormatError, ValidationError
from truceline.service.replay_feed import FeedStep

if TYPE_CHECKING:
    from truceline.io.statevectors import StateVectors

BATCH_STATES = 5_000  # rows a request: well inside the server's 1 MiB body and 20,000 states


@dataclass(slots=True)
class FeedSummary:
    """What a feed did: steps sent, states sent and refused, every alert event the server told."""

    steps: int = 0
    states: int = 0
    refused: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # "conflict opened" -> n


def read_tokens(path: Path) -> dict[str, str]:
    """The JSON object {party: token} of ``path``; FormatError naming the file otherwise."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise FormatError(f"{path}: not a JSON file of tokens: {error}", field="--tokens") from None
    if not isinstance(document, dict) or not document or not all(
            isinstance(k, str) and isinstance(v, str) and v for k, v in document.items()):
        raise FormatError(f"{path}: must be a JSON object {{party: token}} of texts", field="--tokens")
    return document


def feed(
    clients: Mapping[str, Client],
    steps: Iterable[FeedStep],
    *,
    speed: float = 0.0,
    step_s: float = 5.0,
    sleep: Callable[[float], None] | None = None,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> FeedSummary:
    """Send each step's batches with their party's client, then ask for its scan (with the
    first client); ``speed`` > 0 waits ``step_s / speed`` between steps through ``sleep``.
    ClientError (from the client) when the server refuses a request or cannot be reached."""
    if not clients:
        raise ValidationError("no token to send the rows with", field="tokens")
    if not (math.isfinite(speed) and speed >= 0):
        raise ValidationError(f"{speed!r} must be 0 (as fast as possible) or positive", field="speed")
    scanner = next(iter(clients.values()))
    summary = FeedSummary()
    for step in steps:
        for party, rows in step.batches.items():
            for k in range(0, len(rows), BATCH_STATES):
                answer = clients[party].call("POST", "/tracks", json={"states": rows[k:k + BATCH_STATES]})
                summary.refused += len(answer["refused"])
            summary.states += len(rows)
        scanned = scanner.call("POST", "/picture/scan", json={"at": step.at_s})
        for event in scanned["events"]:
            summary.events.append(event)
            summary.counts[f"{event['kind']} {event['change']}"] += 1
            if on_event is not None:
                on_event(event)
        summary.steps += 1
        if speed > 0 and sleep is not None:
            sleep(step_s / speed)
    return summary


def describe(event: Mapping[str, Any]) -> str:
    """One line for a person: ``12:03:15  opened conflict 3c6444 / 3c6586 (predicted)``."""
    stamp = datetime.fromtimestamp(float(event["at_s"]), UTC).strftime("%H:%M:%S")
    what = " / ".join(event["subject"])
    return f"{stamp}  {event['change']} {event['kind']} {what} ({event['stage']})"


__all__ = ["FeedSummary", "describe", "feed", "read_recording", "read_tokens"]


def read_recording(states: Path, step_s: float, max_age_s: float, speed: float, start: float | None,
                   end: float | None) -> StateVectors:
    """The recording a feeder sends (``--to`` or ``--nats``), its flags checked first: one line
    and exit 2 for a bad flag, an unreadable file, no usable row or --start/--end outside it."""
    from truceline.cli.rendering import fail, guarded
    from truceline.io.statevectors import read_state_vectors
    from truceline.tactical_command import check_time

    check_time("--start", start)
    check_time("--end", end)
    for flag, value in (("--step", step_s), ("--max-age", max_age_s)):
        if not (math.isfinite(value) and value > 0):
            fail(f"{flag}: {value!r} must be a positive number of seconds")
    if not (math.isfinite(speed) and speed >= 0):
        fail(f"--speed: {speed!r} must be 0 (as fast as possible) or a positive multiple of real time")
    sv = guarded(lambda: read_state_vectors(states, max_position_age_s=max_age_s))
    if len(sv.rows) == 0:
        fail(f"{states}: no usable row ({sv.skipped.summary() or 'no data row after the header'})")
    first, last = sv.time_span_s
    if (start is not None and start > last) or (end is not None and end < first):
        fail(f"{states}: no scan time in --start/--end: the usable rows span {first:.0f} to {last:.0f}")
    return sv


def run_replay_to(states: Path, url: str, tokens_file: Path | None, token: str | None, step_s: float,
                  max_age_s: float, speed: float, start: float | None, end: float | None) -> None:
    """The command: read the recording, feed it, print each alert event and a summary."""
    import time

    from truceline.cli.rendering import console, fail, guarded
    from truceline.service.replay_feed import feed_steps

    if (tokens_file is None) == (token is None):
        fail("--to needs the parties' tokens: --tokens FILE (JSON {party: token}) or one --token")
    sv = read_recording(states, step_s, max_age_s, speed, start, end)
    if tokens_file is not None:
        tokens = guarded(lambda: read_tokens(tokens_file))
        party_of = {party: party for party in tokens}
    else:
        assert token is not None
        tokens = {"": token}
        party_of = {str(p): "" for p in set(sv.rows.parties.tolist())}  # every row is the token's party
    clients = {party: Client(url, secret, timeout_s=60.0) for party, secret in tokens.items()}
    try:
        steps = guarded(lambda: list(feed_steps(sv, step_s, max_age_s=max_age_s, start_s=start, end_s=end,
                                                party_of=party_of)))
        used = {party: clients[party] for party in sorted({p for s in steps for p in s.batches})}
        if not used:
            fail(f"{states}: no row in --start/--end to send")

        def say(event: dict[str, Any]) -> None:
            console.print(describe(event), markup=False, highlight=False)

        summary = guarded(lambda: feed(used, steps, speed=speed, step_s=step_s, sleep=time.sleep,
                                       on_event=say))
    finally:
        for client in clients.values():
            client.__exit__()
    counts = ", ".join(f"{n} {what}" for what, n in sorted(summary.counts.items())) or "no alerts"
    console.print(
        f"Fed {summary.steps} steps of {step_s:g} s to {url}: {summary.states} states "
        f"({summary.refused} refused) from {len(used)} part{'y' if len(used) == 1 else 'ies'}; {counts}.",
        markup=False, highlight=False, soft_wrap=True)
