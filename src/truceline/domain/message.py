"""Hotline messages: their priorities, each with its acknowledgement deadline and the
priority a lapsed deadline escalates to."""

from __future__ import annotations

from enum import StrEnum

from truceline.errors import ValidationError


class Priority(StrEnum):
    """In rising order; every message a recipient must acknowledge has one."""

    ROUTINE = "routine"
    HIGH = "high"
    URGENT = "urgent"

    @property
    def ack_within_s(self) -> int:
        """Seconds after sending by which each recipient must acknowledge."""
        return _ACK_WITHIN_S[self]

    @property
    def escalated(self) -> Priority:
        """The next priority up (urgent stays urgent): what a lapsed deadline escalates to."""
        order = list(Priority)
        return order[min(order.index(self) + 1, len(order) - 1)]

    @classmethod
    def parse(cls, value: object, field: str = "priority") -> Priority:
        """``value`` as a Priority; ValidationError naming ``field`` otherwise."""
        try:
            return cls(value)
        except ValueError:
            raise ValidationError(f"{value!r} is not one of: {', '.join(cls)}", field=field) from None


_ACK_WITHIN_S = {Priority.URGENT: 120, Priority.HIGH: 900, Priority.ROUTINE: 3600}
