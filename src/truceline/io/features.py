"""What a reader returns: the zones and operations of one file, and any warnings."""

from __future__ import annotations

from dataclasses import dataclass

from truceline.domain.operation import Operation
from truceline.domain.zone import Zone


@dataclass(frozen=True, slots=True)
class Features:
    """Zones and operations read from one file, in the order of their first feature.

    ``warnings`` lists what the reader accepted but could not represent exactly (e.g. an
    ED-269 daily schedule read as whole-day); each names the file, the feature and the field.
    """

    zones: tuple[Zone, ...] = ()
    operations: tuple[Operation, ...] = ()
    warnings: tuple[str, ...] = ()
