"""Ledger entries: what a caller drafts, what the log writes, and who must sign what.

An entry is one JSON object, stored and hashed as its RFC 8785 bytes::

    {"author": "<party id>", "log_signature": "<b64>", "payload": {...}, "seq": 0,
     "signature": "<b64>", "time_ms": 1767225600000, "type": "zone.proposed"}

- ``seq``: 0, 1, 2, ... in log order; ``time_ms``: UTC, integer milliseconds since the
  Unix epoch (an integer, so the instant has one spelling); ``type``: ``noun.verb`` in
  lower case (``^[a-z_]+\\.[a-z_]+$``), an open set; ``payload``: a JSON object.
- ``signature`` (only when the author holds a key): the author's Ed25519 signature over
  the canonical bytes of the entry without ``signature`` and ``log_signature``.
- ``log_signature``: the log's Ed25519 signature over the canonical bytes of the entry
  without ``log_signature``: a receipt (as a CT log's SCT) that the log accepted this
  entry at this position, and what lets a verifier pin any altered byte on one entry.

Author keys: a ``party.registered`` entry whose payload carries ``party_id`` and
``public_key`` (base64 of the raw 32-byte Ed25519 key) gives that party a key. From then
on every entry authored by the party must carry its signature, and only the party itself
(signing with its current key) may register a new key. A party may register itself with
its first key, signing that entry with the new key.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from truceline.domain.clock import from_ms
from truceline.errors import AuthError, FormatError, ValidationError
from truceline.ledger.canonical import b64decode, b64encode, canonical_json, parse_canonical
from truceline.ledger.keys import public_key_from_raw, raw_public_key, signature_ok
from truceline.ledger.merkle import leaf_hash

TYPE_PATTERN = re.compile(r"^[a-z_]+\.[a-z_]+$")
AUTHOR_PATTERN = re.compile(r"^[A-Za-z0-9._:@-]{1,200}$")


class EntryType(StrEnum):
    """Every entry type the register writes: the one spelling of each (docs/api.md lists
    their payloads). A log may hold types a later version adds: ``Entry.type`` stays a
    ``str``, and the projector skips a type it does not know."""

    PARTY_REGISTERED = "party.registered"
    PARTY_REVOKED = "party.revoked"
    PARTY_TOKEN_ROTATED = "party.token_rotated"
    ZONE_IMPORTED = "zone.imported"
    ZONE_PROPOSED = "zone.proposed"
    ZONE_COUNTER_PROPOSED = "zone.counter_proposed"
    ZONE_SIGNED = "zone.signed"
    ZONE_REJECTED = "zone.rejected"
    ZONE_ACTIVATED = "zone.activated"
    ZONE_WITHDRAWN = "zone.withdrawn"
    ZONE_EXPIRED = "zone.expired"
    OPERATION_FILED = "operation.filed"
    OPERATION_UPDATED = "operation.updated"
    OPERATION_REFUSED = "operation.refused"
    OPERATION_CANCELLED = "operation.cancelled"
    CONFLICT_DETECTED = "conflict.detected"
    MESSAGE_SENT = "message.sent"
    MESSAGE_ACKNOWLEDGED = "message.acknowledged"
    MESSAGE_ESCALATED = "message.escalated"
    MESSAGE_UNACKNOWLEDGED = "message.unacknowledged"
    INCIDENT_REPORTED = "incident.reported"
    INCIDENT_CORROBORATED = "incident.corroborated"
    INCIDENT_VERIFIED = "incident.verified"
    INCIDENT_DISPUTED = "incident.disputed"
    INCIDENT_WITHDRAWN = "incident.withdrawn"
    NOTIFICATION_SUBMITTED = "notification.submitted"
    NOTIFICATION_ACKNOWLEDGED = "notification.acknowledged"
    NOTIFICATION_DISPUTED = "notification.disputed"
    ALERT_OPENED = "alert.opened"
    ALERT_UPDATED = "alert.updated"
    ALERT_CLOSED = "alert.closed"


PARTY_REGISTERED = EntryType.PARTY_REGISTERED
REGISTERED_PARTY_FIELD = "party_id"
PUBLIC_KEY_FIELD = "public_key"

_REQUIRED = ("seq", "time_ms", "author", "type", "payload", "log_signature")
_FIELDS = frozenset((*_REQUIRED, "signature"))


def envelope(
    seq: int,
    at_ms: int,
    author: str,
    entry_type: str,
    payload_bytes: bytes,
    signature: bytes | None = None,
    log_signature: bytes | None = None,
) -> bytes:
    """The RFC 8785 bytes of an entry, assembled around the payload's canonical bytes.

    Exact, not an approximation of JCS: the keys are fixed and written in JCS order
    (author < log_signature < payload < seq < signature < time_ms < type, by UTF-16 code
    units); ``author`` and ``type`` match patterns that need no escaping, base64 needs
    none either, and integers below 2**53 print as JCS prints them. It saves serialising
    the whole entry three times per append (tests compare it with ``rfc8785.dumps``).
    """
    parts = [b'{"author":"', author.encode("ascii"), b'"']
    if log_signature is not None:
        parts += [b',"log_signature":"', b64encode(log_signature).encode("ascii"), b'"']
    parts += [b',"payload":', payload_bytes, b',"seq":', str(seq).encode("ascii")]
    if signature is not None:
        parts += [b',"signature":"', b64encode(signature).encode("ascii"), b'"']
    parts += [b',"time_ms":', str(at_ms).encode("ascii"), b',"type":"', entry_type.encode("ascii"), b'"}']
    return b"".join(parts)


def check_type(entry_type: object, *, field: str = "type") -> str:
    if not isinstance(entry_type, str) or not TYPE_PATTERN.match(entry_type):
        raise ValidationError(f"must match {TYPE_PATTERN.pattern}, got {entry_type!r}", field=field)
    return entry_type


def check_author(author: object, *, field: str = "author") -> str:
    if not isinstance(author, str) or not AUTHOR_PATTERN.match(author):
        raise ValidationError(f"must match {AUTHOR_PATTERN.pattern}, got {author!r}", field=field)
    return author


@dataclass(frozen=True)
class EntryDraft:
    """What a caller asks the log to append; the log assigns ``seq`` and ``time_ms``.

    ``author_key`` must be given exactly when the author holds a registered key (or is
    registering its first key in this very entry).
    """

    type: str
    author: str
    payload: Mapping[str, Any]
    author_key: Ed25519PrivateKey | None = field(default=None, repr=False)
    payload_bytes: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_type(self.type)
        check_author(self.author)
        if not isinstance(self.payload, Mapping):
            raise ValidationError(
                f"must be a JSON object, got {type(self.payload).__name__}", field="payload"
            )
        # Kept: the payload's canonical bytes go into the entry as they are.
        object.__setattr__(self, "payload_bytes", canonical_json(dict(self.payload), field="payload"))
        if self.type == PARTY_REGISTERED:
            registered_key(self.payload, field="payload")


@dataclass(frozen=True, slots=True)
class Entry:
    """An entry as written; ``canonical`` holds the exact bytes that are hashed."""

    seq: int
    time_ms: int
    author: str
    type: str
    payload: dict[str, Any]
    signature: bytes | None
    log_signature: bytes
    canonical: bytes

    @property
    def leaf_hash(self) -> bytes:
        return leaf_hash(self.canonical)

    @property
    def time(self) -> datetime:
        return from_ms(self.time_ms)

    def author_message(self) -> bytes:
        """What the author signs: the entry without ``signature`` and ``log_signature``."""
        return envelope(self.seq, self.time_ms, self.author, self.type, canonical_json(self.payload))

    def log_message(self) -> bytes:
        """What the log signs: the entry without ``log_signature``."""
        payload = canonical_json(self.payload)
        return envelope(self.seq, self.time_ms, self.author, self.type, payload, self.signature)

    @classmethod
    def parse(cls, data: bytes) -> Entry:
        """Read an entry from its canonical bytes; raises FormatError naming the field."""
        value = parse_canonical(data, field="entry")
        if not isinstance(value, dict):
            raise FormatError(f"must be a JSON object, got {type(value).__name__}", field="entry")
        for name in _REQUIRED:
            if name not in value:
                raise FormatError("is missing", field=name)
        unknown = sorted(set(value) - _FIELDS)
        if unknown:
            raise FormatError(f"unknown field {unknown[0]!r}", field="entry")
        for name in ("seq", "time_ms"):
            if type(value[name]) is not int or value[name] < 0:
                raise FormatError(f"must be a non-negative integer, got {value[name]!r}", field=name)
        try:
            check_author(value["author"])
            check_type(value["type"])
        except ValidationError as exc:
            raise FormatError(exc.message, field=exc.field) from None
        if not isinstance(value["payload"], dict):
            raise FormatError("must be a JSON object", field="payload")
        signature = None
        if "signature" in value:
            signature = b64decode(value["signature"], field="signature", size=64)
        return cls(
            seq=value["seq"],
            time_ms=value["time_ms"],
            author=value["author"],
            type=value["type"],
            payload=value["payload"],
            signature=signature,
            log_signature=b64decode(value["log_signature"], field="log_signature", size=64),
            canonical=data,
        )


def registered_key(payload: Mapping[str, Any], *, field: str = "payload") -> tuple[str, bytes] | None:
    """(party id, raw public key) that a ``party.registered`` payload registers, if any."""
    if PUBLIC_KEY_FIELD not in payload:
        return None
    party_id = payload.get(REGISTERED_PARTY_FIELD)
    check_author(party_id, field=f"{field}.{REGISTERED_PARTY_FIELD}")
    raw = b64decode(payload[PUBLIC_KEY_FIELD], field=f"{field}.{PUBLIC_KEY_FIELD}", size=32)
    try:
        public_key_from_raw(raw)
    except ValueError as exc:
        raise ValidationError(
            f"not an Ed25519 public key: {exc}", field=f"{field}.{PUBLIC_KEY_FIELD}"
        ) from None
    return party_id, raw  # type: ignore[return-value]


class KeyRegistry:
    """The public key each party holds at a point of the log, as entries register them.

    ``lookup`` answers for parties not seen yet (the store's key table when appending;
    nothing when verifying a whole log from its first entry).
    """

    def __init__(self, lookup: Callable[[str], bytes | None] | None = None):
        self._lookup = lookup or (lambda _party: None)
        self._keys: dict[str, bytes | None] = {}
        self.changed: dict[str, tuple[bytes, int]] = {}  # party -> (key, seq) set since creation

    def key_of(self, party_id: str) -> bytes | None:
        if party_id not in self._keys:
            self._keys[party_id] = self._lookup(party_id)
        return self._keys[party_id]

    def required_signer(self, author: str, entry_type: str, payload: Mapping[str, Any]) -> bytes | None:
        """The raw key that must sign an entry by ``author``, or None if it must be unsigned.

        Raises AuthError for a key registration the rules forbid.
        """
        current = self.key_of(author)
        if entry_type == PARTY_REGISTERED:
            registration = registered_key(payload)
            if registration is not None:
                party_id, new_key = registration
                if self.key_of(party_id) is not None and party_id != author:
                    raise AuthError(
                        f"party {party_id} already holds a key; only it may register a new one",
                        field=f"payload.{REGISTERED_PARTY_FIELD}",
                    )
                if current is None and party_id == author:
                    return new_key  # self-registration, signed with the new key
        return current

    def apply(self, entry: Entry) -> None:
        """Record the key an accepted entry registers."""
        if entry.type == PARTY_REGISTERED:
            registration = registered_key(entry.payload)
            if registration is not None:
                party_id, raw = registration
                self._keys[party_id] = raw
                self.changed[party_id] = (raw, entry.seq)

    def check(self, entry: Entry) -> None:
        """Check the author signature of an entry read back; raises AuthError saying why."""
        expected = self.required_signer(entry.author, entry.type, entry.payload)
        if expected is None:
            if entry.signature is not None:
                raise AuthError(f"signed, but author {entry.author} has no registered key", field="signature")
            return
        if entry.signature is None:
            raise AuthError(f"unsigned, but author {entry.author} holds a registered key", field="signature")
        if not signature_ok(public_key_from_raw(expected), entry.signature, entry.author_message()):
            raise AuthError(f"does not verify with the registered key of {entry.author}", field="signature")


def build_entry(
    draft: EntryDraft, seq: int, at_ms: int, log_key: Ed25519PrivateKey, registry: KeyRegistry
) -> Entry:
    """Sign and serialise a draft as entry ``seq``; checks the author's key against ``registry``."""
    if not 0 <= seq < 2**53 or not 0 <= at_ms < 2**53:
        raise ValidationError(f"seq {seq} or time {at_ms} ms outside 0 .. 2**53 - 1", field="seq")
    expected = registry.required_signer(draft.author, draft.type, draft.payload)
    signature = None
    if expected is None:
        if draft.author_key is not None:
            raise AuthError(
                f"party {draft.author} has no registered key; register its public_key before signing",
                field="author_key",
            )
    else:
        if draft.author_key is None:
            raise AuthError(
                f"party {draft.author} holds a registered key: its entries must be signed", field="author_key"
            )
        if raw_public_key(draft.author_key.public_key()) != expected:
            raise AuthError(f"is not the registered key of party {draft.author}", field="author_key")
        signature = draft.author_key.sign(envelope(seq, at_ms, draft.author, draft.type, draft.payload_bytes))
    log_signature = log_key.sign(
        envelope(seq, at_ms, draft.author, draft.type, draft.payload_bytes, signature)
    )
    return Entry(
        seq=seq,
        time_ms=at_ms,
        author=draft.author,
        type=draft.type,
        # A copy made by parsing the canonical bytes: what is stored is what is returned.
        payload=json.loads(draft.payload_bytes),
        signature=signature,
        log_signature=log_signature,
        canonical=envelope(
            seq, at_ms, draft.author, draft.type, draft.payload_bytes, signature, log_signature
        ),
    )
