"""One ED-269 zone for the warning tests of the CLI and the API: a day's applicability,
with the daily periods and restriction each test needs, and a zone authority (its absence
is warned of)."""

from __future__ import annotations

from typing import Any


def ed269_day_zone(
    identifier: str,
    restriction: str,
    daily: list[dict[str, Any]],
    ring: list[list[float]],
    upper_m: float = 3000,
) -> dict[str, Any]:
    """A zone active 2017-07-10 (UTC), 0 to ``upper_m`` metres AMSL, over ``ring``."""
    return {
        "identifier": identifier,
        "name": identifier,
        "restriction": restriction,
        "applicability": [
            {
                "permanent": "NO",
                "startDateTime": "2017-07-10T00:00:00Z",
                "endDateTime": "2017-07-11T00:00:00Z",
                "dailyPeriod": daily,
            }
        ],
        "zoneAuthority": [{"name": "Authority", "email": "a@example.org"}],
        "geometry": [
            {
                "uomDimensions": "M",
                "lowerLimit": 0,
                "lowerVerticalReference": "AMSL",
                "upperLimit": upper_m,
                "upperVerticalReference": "AMSL",
                "horizontalProjection": {"type": "Polygon", "coordinates": ring},
            }
        ],
    }
