"""The kind of activity a rule or an operation is about."""

from __future__ import annotations

from enum import StrEnum
from typing import TypeVar

from truceline.errors import ValidationError


class Activity(StrEnum):
    AIR = "air"
    GROUND = "ground"
    ANY = "any"

    def covers(self, other: Activity) -> bool:
        """Whether a rule about ``self`` applies to an activity ``other``."""
        return self is Activity.ANY or other is Activity.ANY or self is other


E = TypeVar("E", bound=StrEnum)


def parse_enum(enum: type[E], value: object, field: str) -> E:
    """``enum(value)`` with an error that names the field and the accepted values."""
    try:
        return enum(value)
    except ValueError:
        accepted = ", ".join(e.value for e in enum)
        raise ValidationError(f"{value!r} is not one of: {accepted}", field=field) from None
