"""What a reader returns: the zones and operations of one file, and any warnings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone


@dataclass(frozen=True, slots=True)
class ReadWarning:
    """Something a reader accepted but could not represent exactly, or left out.

    ``where``: the file and the feature (``zones.json: zone 0 (identifier "A")``);
    ``field``: the member at issue (``applicability[0].dailyPeriod[0]``); ``message``: what
    was done with it. Printed as one line, ``where: field: message``.
    """

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"where": self.where, "field": self.field, "message": self.message}


@dataclass(frozen=True, slots=True)
class Features:
    """Zones and operations read from one file, in the order of their first feature.

    ``warnings`` lists what the reader accepted but could not represent exactly (e.g. an
    ED-269 daily schedule read as whole-day); each names the file, the feature and the field.
    """

    zones: tuple[Zone, ...] = ()
    operations: tuple[Operation, ...] = ()
    warnings: tuple[ReadWarning, ...] = ()
