"""Give the browser tests' demo database a negotiation history inside the demo's day, so that
the time slider has something to show as it stood then: run as ``python demo_history.py DB``
before ``truceline demo --db DB`` (the same environment, hence the same log key).

The register here runs on a clock set to 10 July 2017 (the demo's own runs on the system
clock): the parties are registered, then two zones are negotiated in the desert south-east
of the demo's operations (none of them meets these zones):

- ``web-amended``: version 1 in force from 07:20; version 2 (further east) proposed at 09:00,
  in force from 13:00;
- ``web-signed-late``: proposed at 08:00, signed by the proposer at 08:10, in force from 13:30.

Between 09:00 and 13:00 the first shows version 1, active; the second is proposed.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from typing import Any

from truceline.cli.offline import DEMO_PARTIES
from truceline.service import negotiation
from truceline.service.auth import principal_for_token
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service

PROPOSER, SIGNATORY = "Russian Federation", "Syrian Arab Army"
DAY = "2017-07-10"


class SetClock:
    """A clock the script sets before each step (one millisecond on per reading, so that
    entries stay in order)."""

    def __init__(self) -> None:
        self.now = datetime.fromisoformat(f"{DAY}T06:00:00+00:00")

    def at(self, hhmm: str) -> None:
        self.now = datetime.fromisoformat(f"{DAY}T{hhmm}:00+00:00")

    def __call__(self) -> datetime:
        self.now += timedelta(milliseconds=1)
        return self.now.astimezone(UTC)


def zone_document(zone_id: str, east: float) -> dict[str, Any]:
    ring = [[40.0, 33.6], [east, 33.6], [east, 34.0], [40.0, 34.0], [40.0, 33.6]]
    return {
        "type": "FeatureCollection",
        "features": [{
            "type": "Feature",
            "id": zone_id,
            "geometry": {"type": "Polygon", "coordinates": [ring]},
            "properties": {
                "kind": "de_escalation", "name": zone_id, "party": PROPOSER, "restricts": "others",
                "activity": "any", "entry": "forbidden", "altitude_lower_m": 0,
                "altitude_upper_m": 10000, "altitude_reference": "AMSL",
                "time_start": f"{DAY}T05:00:00Z", "time_end": f"{DAY}T17:00:00Z",
            },
        }],
    }  # fmt: skip


def main(db: str) -> None:
    clock = SetClock()
    register = open_register(f"sqlite:///{db}", clock)
    service = Service(register)
    people = {}
    for name, role, language in DEMO_PARTIES:
        token = add_party(service, name, role, language).token
        with service.read() as conn:
            people[name] = principal_for_token(conn, token)
    a, b = people[PROPOSER], people[SIGNATORY]

    clock.at("07:00")
    v1 = negotiation.propose(service, a, zone_document("web-amended", 40.4), [SIGNATORY])
    clock.at("07:10")
    negotiation.sign(service, a, "web-amended", 1, v1.hash)
    clock.at("07:20")
    negotiation.sign(service, b, "web-amended", 1, v1.hash)
    clock.at("08:00")
    late = negotiation.propose(service, a, zone_document("web-signed-late", 40.2), [SIGNATORY])
    clock.at("08:10")
    negotiation.sign(service, a, "web-signed-late", 1, late.hash)
    clock.at("09:00")
    v2 = negotiation.counter_propose(service, b, "web-amended", zone_document("web-amended", 40.6))
    clock.at("13:00")
    negotiation.sign(service, a, "web-amended", 2, v2.hash)
    negotiation.sign(service, b, "web-amended", 2, v2.hash)
    clock.at("13:30")
    negotiation.sign(service, b, "web-signed-late", 1, late.hash)
    register.engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1])
