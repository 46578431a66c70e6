"""Where a zone's negotiation stood at a moment: its steps, folded.

The rules are the projector's (``service/projection.py``, the ``_zone_*`` functions), applied
to the steps the register had recorded by then instead of written as rows:

- ``proposed`` (version 1): proposed, nothing in force;
- ``counter_proposed``: a new current version; a zone not in force is proposed again (a
  version in force stays so until every signatory signs the new one);
- ``signed``: one more signature of that version;
- ``rejected``: rejected, unless a version is in force;
- ``activated``: that version in force;
- ``withdrawn`` / ``expired``: final (the last version in force is kept, binding nobody).

``tests/service/test_service_moment.py`` checks that the fold, at the time of each step,
gives the row the projector had written by then.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from truceline.domain.zone import ZoneState


class Step(Protocol):
    """One negotiation step as the store keeps it (``store.zones.StepRow``)."""

    @property
    def step(self) -> str: ...
    @property
    def party_id(self) -> str | None: ...
    @property
    def version(self) -> int | None: ...
    @property
    def time_ms(self) -> int: ...


@dataclass(frozen=True, slots=True)
class NegotiationAt:
    """A negotiation once some of its steps had happened. ``signatures``: (version, party
    id) in the order they were signed."""

    state: ZoneState
    current_version: int
    active_version: int | None
    signatures: tuple[tuple[int, str], ...] = ()

    @property
    def shown_version(self) -> int:
        """The version a picture shows: the one in force, else the current one (as the list of
        zones has always chosen)."""
        return self.active_version or self.current_version

    def signers(self, version: int) -> list[str]:
        """Ids of the parties that had signed ``version``, in signing order."""
        return [party for v, party in self.signatures if v == version]


def negotiation_at(steps: Iterable[Step], at_ms: int | None = None) -> NegotiationAt | None:
    """Requires ``steps`` in log order (``seq``). The negotiation after the steps recorded at
    or before ``at_ms`` (None: all of them); None when none was, i.e. the zone had not yet
    been proposed. The log's times follow its order (one register clock), so the steps kept
    are those of a prefix of the log: a state the register was really in."""
    state: ZoneState | None = None
    current = 0
    active: int | None = None
    signatures: list[tuple[int, str]] = []
    for s in steps:
        if at_ms is not None and s.time_ms > at_ms:
            continue
        version = s.version or 0
        if s.step == "proposed":
            state, current, active = ZoneState.PROPOSED, version, None
        elif state is None:
            continue  # a step before the proposal: not a negotiation the register could hold
        elif s.step == "counter_proposed":
            current = version
            if state != ZoneState.ACTIVE:
                state = ZoneState.PROPOSED
        elif s.step == "signed":
            if s.party_id is not None:
                signatures.append((version, s.party_id))
        elif s.step == "rejected":
            if state != ZoneState.ACTIVE:
                state = ZoneState.REJECTED
        elif s.step == "activated":
            state, active = ZoneState.ACTIVE, version
        elif s.step in (ZoneState.WITHDRAWN, ZoneState.EXPIRED):
            state = ZoneState(s.step)
    if state is None:
        return None
    return NegotiationAt(state, current, active, tuple(signatures))
