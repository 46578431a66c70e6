"""Signed requests: RFC 9421 HTTP Message Signatures over a party's writes.

A party holding a *request key* (an Ed25519 public key given at registration) signs every
request that changes state, with any RFC 9421 implementation:

- algorithm ``ed25519``; ``keyid`` = the party's id;
- covered components (at least): ``"@method" "@path" "@query" "content-digest"``, so one
  signature holds for one method on one path with one query, and one body;
- ``Content-Digest`` (RFC 9530): the ``sha-256`` (or ``sha-512``) of the body as sent, an
  empty body included; it is checked against the bytes received;
- parameters ``created`` (within ``CREATED_WINDOW_S`` before the server's clock and at
  most ``FUTURE_SKEW_S`` after it) and ``nonce`` (unique per party): a request sent twice
  is refused the second time, by every process sharing the database and after a restart.

The check answers with the record the command keeps in its entry (``payload.request``):
the signed parts exactly as received, so anyone can verify the party's own signature over
what it asked, offline, with the ``request_key`` of its ``party.registered`` entry.

The library's verifier reads the system clock for ``created``; ``_Verifier`` replaces that
check with one against the injected clock (and says which of stale or future it was).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    algorithms,
)
from sqlalchemy import Engine

from truceline.errors import (
    DigestMismatchError,
    ReplayedNonceError,
    SignatureError,
    StaleSignatureError,
    ValidationError,
)
from truceline.ledger.canonical import b64decode
from truceline.ledger.keys import public_key_from_raw
from truceline.service.auth import Principal
from truceline.store.nonces import claim_nonce

COVERED = ("@method", "@path", "@query", "content-digest")
CREATED_WINDOW_S = 300  # a signature older than this is stale
FUTURE_SKEW_S = 30  # how far ahead of the server's clock a client's clock may run
# Nonces older than the window are refused as stale anyway; pruning waits twice as long so
# that two servers whose clocks differ a little still agree on what is a replay.
PRUNE_AFTER_S = 2 * CREATED_WINDOW_S
NONCE_PATTERN = re.compile(r"^[\x21-\x7e]{8,200}$")  # printable ASCII, no space

SIGNATURE_INPUT_HEADER = "Signature-Input"
SIGNATURE_HEADER = "Signature"
DIGEST_HEADER = "Content-Digest"
OLD_HEADER = "Truceline-Signature"  # the scheme before RFC 9421, refused with a pointer


class _Headers:
    """Read-only header field lines, in wire order, as the library's resolver reads them."""

    def __init__(self, fields: Iterable[tuple[str, str]]) -> None:
        self._fields = tuple(fields)

    def items(self) -> Iterator[tuple[str, str]]:
        return iter(self._fields)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._fields))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and any(n.lower() == name.lower() for n, _ in self._fields)

    def get(self, name: str) -> str | None:
        values = [v for n, v in self._fields if n.lower() == name.lower()]
        return ", ".join(values) if values else None


@dataclass(frozen=True, slots=True)
class HttpRequest:
    """A request as received: ``url`` absolute and encoded as sent (path and query),
    ``headers`` every field line in order, ``body`` the bytes."""

    method: str
    url: str
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass(frozen=True, slots=True)
class _Message:
    method: str
    url: str
    headers: _Headers


@dataclass(frozen=True, slots=True)
class VerifiedRequest:
    """A signature that verified, for ``party_id``; ``record`` goes into the entry."""

    party_id: str
    nonce: str
    created_s: int
    record: dict[str, Any]


class _PartyKey(HTTPSignatureKeyResolver):
    """Resolves one keyid only: the calling party's id, to its request key."""

    def __init__(self, principal: Principal) -> None:
        assert principal.request_key is not None
        self.principal = principal
        self.asked: str | None = None

    def resolve_public_key(self, key_id: str) -> Any:
        self.asked = key_id
        if key_id != self.principal.id:
            return None
        raw = b64decode(self.principal.request_key, field="request_key", size=32)
        return public_key_from_raw(raw)

    def resolve_private_key(self, key_id: str) -> Any:
        raise NotImplementedError("the server verifies only")


class _Verifier(HTTPMessageVerifier):
    """The library's verifier with ``created`` checked against our clock, not the system's."""

    def __init__(self, key: _PartyKey, now_s: int) -> None:
        super().__init__(signature_algorithm=algorithms.ED25519, key_resolver=key)
        self.now_s = now_s

    def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
        created = sig_input.params.get("created")
        if type(created) is not int:
            raise SignatureError("the signature needs a created parameter (an integer)", field="created")
        if created < self.now_s - CREATED_WINDOW_S:
            raise StaleSignatureError(
                f"created {created} is {self.now_s - created} s old; at most {CREATED_WINDOW_S} s "
                "is accepted: sign the request again",
                field="created",
            )
        if created > self.now_s + FUTURE_SKEW_S:
            raise StaleSignatureError(
                f"created {created} is {created - self.now_s} s ahead of the server's clock "
                f"(at most {FUTURE_SKEW_S} s): check the clock",
                field="created",
            )
        expires = sig_input.params.get("expires")
        if expires is not None and (type(expires) is not int or expires < self.now_s):
            raise StaleSignatureError(f"expires {expires} has passed", field="expires")


def verify_request(principal: Principal, request: HttpRequest, now: datetime) -> VerifiedRequest:
    """Check ``request``'s RFC 9421 signature by ``principal`` (who holds a request key):
    signature, covered components, ``created``, nonce format, Content-Digest against the
    body. Does not claim the nonce (``check_signed_request`` does). Raises a SignatureError
    (401) whose ``type`` and ``field`` name what failed."""
    headers = _Headers(request.headers)
    if SIGNATURE_INPUT_HEADER not in headers or SIGNATURE_HEADER not in headers:
        detail = (
            f"party {principal.name} holds a request key: sign the request "
            "(RFC 9421 Signature-Input and Signature headers; docs/api.md)"
        )
        if OLD_HEADER in headers:
            detail += f"; {OLD_HEADER} is no longer accepted"
        raise SignatureError(detail, field=SIGNATURE_INPUT_HEADER)
    if DIGEST_HEADER not in headers:
        raise DigestMismatchError(
            "a Content-Digest (RFC 9530, sha-256) of the body is required, covered by the signature",
            field=DIGEST_HEADER,
        )
    key = _PartyKey(principal)
    verifier = _Verifier(key, int(now.timestamp()))
    message = _Message(request.method, request.url, headers)
    try:
        result = verifier.verify(message, max_age=None, require_components=COVERED)[0]
    except InvalidSignature as error:
        if key.asked is not None and key.asked != principal.id:
            raise SignatureError(
                f"keyid {key.asked!r} is not the calling party's id {principal.id!r}", field="keyid"
            ) from None
        raise SignatureError(f"does not verify: {error}", field=SIGNATURE_HEADER) from None
    except HTTPMessageSignaturesException as error:
        raise SignatureError(f"cannot be checked: {error}", field=SIGNATURE_INPUT_HEADER) from None
    try:
        ContentDigest.verify_components(result.covered_components, request.body)
    except (InvalidSignature, HTTPMessageSignaturesException) as error:
        raise DigestMismatchError(f"{error}", field=DIGEST_HEADER) from None
    nonce = result.nonce
    if not isinstance(nonce, str) or not NONCE_PATTERN.match(nonce):
        raise SignatureError(
            "the signature needs a nonce parameter: 8 to 200 printable ASCII characters, "
            "new for every request",
            field="nonce",
        )
    try:
        body = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("a signed request's body must be UTF-8", field="body") from None
    path, _, query = request.url.partition("://")[2].partition("/")[2].partition("?")
    record = {
        "method": request.method,
        "path": "/" + path,
        "query": query,
        "body": body,
        "content_digest": headers.get(DIGEST_HEADER),
        "signature_input": headers.get(SIGNATURE_INPUT_HEADER),
        "signature": headers.get(SIGNATURE_HEADER),
    }
    return VerifiedRequest(principal.id, nonce, int(result.parameters["created"]), record)


def check_signed_request(
    engine: Engine, clock: Callable[[], datetime], principal: Principal, request: HttpRequest
) -> dict[str, Any]:
    """Verify ``request`` (``verify_request``) and claim its nonce, in a transaction of its
    own, before the command runs (a command refused afterwards has still used it: a client
    signs every attempt anew). Returns the record for the entry's ``payload.request``;
    raises ReplayedNonceError for a nonce the party has used already."""
    now = clock()
    verified = verify_request(principal, request, now)
    with engine.begin() as conn:
        fresh = claim_nonce(
            conn, verified.party_id, verified.nonce, verified.created_s, int(now.timestamp()) - PRUNE_AFTER_S
        )
    if not fresh:
        raise ReplayedNonceError(
            f"nonce {verified.nonce!r} was used already: the request is a replay "
            "(sign every request with a new nonce)",
            field="nonce",
        )
    return verified.record
