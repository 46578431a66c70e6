"""Parties: states, armed forces, guarantors, observers, humanitarian organisations, auditors."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from truceline.errors import ValidationError

LANGUAGES = ("ar", "zh-CN", "en", "fr", "de", "ja", "pt", "ru", "es", "uk")


class Role(StrEnum):
    ADMIN = "admin"
    PARTY = "party"
    GUARANTOR = "guarantor"
    OBSERVER = "observer"
    HUMANITARIAN = "humanitarian"
    AUDITOR = "auditor"


@dataclass(frozen=True, slots=True)
class Party:
    id: str
    name: str
    role: Role = Role.PARTY
    language: str = "en"

    def __post_init__(self) -> None:
        if not self.name or not self.name.strip():
            raise ValidationError("must not be empty", field="name")
        try:
            object.__setattr__(self, "role", Role(self.role))
        except ValueError:
            raise ValidationError(
                f"unknown role {self.role!r}; expected one of {', '.join(Role)}", field="role"
            ) from None
        if self.language not in LANGUAGES:
            raise ValidationError(
                f"unsupported language {self.language!r}; expected one of {', '.join(LANGUAGES)}",
                field="language",
            )
