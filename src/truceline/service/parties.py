"""Registering parties with a bearer token (the CLI's ``party add`` and POST /parties)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection

from truceline.domain.party import Party
from truceline.ledger.entries import EntryDraft, time_ms
from truceline.service.auth import OPERATOR, new_party_id, party_draft
from truceline.service.register import Committer


def add_party(
    committer: Committer,
    name: str,
    role: str = "party",
    language: str = "en",
    request_key: str | None = None,
    author: str = OPERATOR,
) -> tuple[Party, str]:
    """Register a party; returns it with its bearer token (only the token's SHA-256 is kept).

    ``committer``: the server's ``Service``, or for the CLI the ``Register`` alone (a
    party's registration reads no zone or operation). ``author``: the admin party that
    registers it, or the operator (the CLI). Raises ValidationError naming the field,
    ConflictError for a name already registered.
    """

    def build(conn: Connection, now: datetime) -> tuple[list[EntryDraft], tuple[Party, str]]:
        party, token, draft = party_draft(
            conn, new_party_id(time_ms(now)), name, role, language, request_key, author
        )
        return [draft], (party, token)

    return committer.commit(build)[1]
