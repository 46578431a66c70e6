"""Operations: a party's planned activity, in the air or on the ground."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from truceline.domain.activity import Activity, parse_enum
from truceline.domain.text import MAX_NAME_CHARS, check_identifier, check_text
from truceline.errors import ValidationError
from truceline.geo.volume import Volume4D


class OperationState(StrEnum):
    PLANNED = "planned"
    ACCEPTED = "accepted"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class Operation:
    id: str
    party: str
    activity: Activity
    volumes: tuple[Volume4D, ...]
    state: OperationState = OperationState.PLANNED
    name: str = ""
    # ASTM F3548 ``priority``: an ordinal set by the regulator, greater is higher; None: not given.
    priority: int | None = None

    def __post_init__(self) -> None:
        check_identifier(self.id, "id")
        check_text(self.name, "name", MAX_NAME_CHARS)
        if not self.party:
            raise ValidationError("must name the party", field="party")
        object.__setattr__(self, "activity", parse_enum(Activity, self.activity, "activity"))
        if self.activity is Activity.ANY:
            raise ValidationError("an operation is either 'air' or 'ground'", field="activity")
        object.__setattr__(self, "state", parse_enum(OperationState, self.state, "state"))
        object.__setattr__(self, "volumes", tuple(self.volumes))
        if not self.volumes:
            raise ValidationError("an operation needs at least one volume", field="volumes")
        priority = self.priority
        if priority is not None and (isinstance(priority, bool) or not isinstance(priority, int)):
            raise ValidationError(f"must be an integer, got {self.priority!r}", field="priority")
