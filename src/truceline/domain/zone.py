"""Zones and the rule each one carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from truceline.domain.activity import Activity, parse_enum
from truceline.domain.text import MAX_NAME_CHARS, check_identifier, check_text
from truceline.errors import ValidationError
from truceline.geo.volume import Volume4D


class ZoneKind(StrEnum):
    NO_FLY = "no_fly"
    DE_ESCALATION = "de_escalation"
    DECONFLICTION = "deconfliction"
    HUMANITARIAN_CORRIDOR = "humanitarian_corridor"
    PROTECTED_SITE = "protected_site"


class Entry(StrEnum):
    FORBIDDEN = "forbidden"
    NOTICE = "notice"  # entry needs prior notice to the zone's parties


class ZoneState(StrEnum):
    """Where a zone's negotiation stands (an imported zone is ``active`` from the start)."""

    PROPOSED = "proposed"
    ACTIVE = "active"
    REJECTED = "rejected"  # its current version; a counter-proposal may follow
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"

    @property
    def final(self) -> bool:
        """Nothing more happens to the zone: no signature, version or withdrawal."""
        return self in (ZoneState.WITHDRAWN, ZoneState.EXPIRED)


RESTRICTS_ALL = "all"
RESTRICTS_OTHERS = "others"  # every party but the zone's own


@dataclass(frozen=True, slots=True)
class ZoneRule:
    """Which parties the zone restricts, for which activity, and how."""

    restricts: str | tuple[str, ...] = RESTRICTS_ALL
    activity: Activity = Activity.ANY
    entry: Entry = Entry.FORBIDDEN

    def __post_init__(self) -> None:
        if isinstance(self.restricts, str):
            if self.restricts not in (RESTRICTS_ALL, RESTRICTS_OTHERS):
                raise ValidationError(
                    f"{self.restricts!r} must be 'all', 'others' or a list of party names",
                    field="restricts",
                )
        else:
            names = tuple(self.restricts)
            if not names or not all(isinstance(n, str) and n for n in names):
                raise ValidationError("must be a non-empty list of party names", field="restricts")
            object.__setattr__(self, "restricts", names)
        object.__setattr__(self, "activity", parse_enum(Activity, self.activity, "activity"))
        object.__setattr__(self, "entry", parse_enum(Entry, self.entry, "entry"))

    def applies_to(self, zone_party: str | None, party: str, activity: Activity) -> bool:
        if not self.activity.covers(activity):
            return False
        if self.restricts == RESTRICTS_ALL:
            return True
        if self.restricts == RESTRICTS_OTHERS:
            return party != zone_party
        return party in self.restricts


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    kind: ZoneKind
    volumes: tuple[Volume4D, ...]
    rule: ZoneRule = field(default_factory=ZoneRule)
    party: str | None = None  # the party that owns or proposed it
    name: str = ""

    def __post_init__(self) -> None:
        check_identifier(self.id, "id")
        check_text(self.name, "name", MAX_NAME_CHARS)
        object.__setattr__(self, "kind", parse_enum(ZoneKind, self.kind, "kind"))
        object.__setattr__(self, "volumes", tuple(self.volumes))
        if not self.volumes:
            raise ValidationError("a zone needs at least one volume", field="volumes")
