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


# Who may do what: the one place the role groups are spelled (docs/api.md has the table).
# Tuples of the roles' values, in a fixed order, so that a refusal lists them alike.
ALL_ROLES: tuple[str, ...] = tuple(r.value for r in Role)
# Who negotiates zones: propose, counter-propose, sign, reject. A zone's signatories must
# hold one (an observer, auditor or admin could never sign, so the zone would never activate).
SIGNING_ROLES: tuple[str, ...] = (Role.PARTY, Role.GUARANTOR, Role.HUMANITARIAN)
# Who files operations.
FILING_ROLES: tuple[str, ...] = (Role.PARTY, Role.HUMANITARIAN)
# Who takes part in the hotline and reads the live picture.
PARTICIPANT_ROLES: tuple[str, ...] = (
    Role.ADMIN,
    Role.PARTY,
    Role.GUARANTOR,
    Role.OBSERVER,
    Role.HUMANITARIAN,
)
# Who reads the whole log.
LOG_READER_ROLES: tuple[str, ...] = (Role.ADMIN, Role.AUDITOR, Role.GUARANTOR)
ADMIN_ROLES: tuple[str, ...] = (Role.ADMIN,)
# Who files incident reports: an observer, and any party.
REPORTING_ROLES: tuple[str, ...] = (Role.OBSERVER, Role.PARTY, Role.GUARANTOR, Role.HUMANITARIAN)
# Who verifies another's report: observers and guarantors (never its reporter).
VERIFYING_ROLES: tuple[str, ...] = (Role.OBSERVER, Role.GUARANTOR)
# Who disputes another's report (with a reason): the parties and the guarantors.
DISPUTING_ROLES: tuple[str, ...] = (Role.PARTY, Role.GUARANTOR)
# Who notifies humanitarian sites and movements (docs/humanitarian.md).
NOTIFYING_ROLES: tuple[str, ...] = (Role.HUMANITARIAN,)
# Who a notification goes to, unless its notifier names the parties: those whose forces
# could strike a site or meet a convoy. Each acknowledges or disputes; none may "deny".
ACKNOWLEDGING_ROLES: tuple[str, ...] = (Role.PARTY, Role.GUARANTOR)
# Who hears of zone steps that concern everyone (activation, withdrawal, expiry).
INFORMED_ROLES: tuple[str, ...] = (Role.PARTY, Role.GUARANTOR, Role.HUMANITARIAN, Role.OBSERVER)


@dataclass(frozen=True, slots=True)
class Party:
    id: str
    name: str
    role: Role = Role.PARTY
    language: str = "en"
    # The name its USS gives as ASTM F3548 ``reference.manager``, when it is not ``name``.
    uss_manager: str | None = None

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
