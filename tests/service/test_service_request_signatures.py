"""``verify_request`` on its own (no database): whatever the body, path, query and nonce, a
request signed by a stock RFC 9421 signer verifies, and any change to the body, the path
or the query is caught, each as what it is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms
from hypothesis import given, settings
from hypothesis import strategies as st

from truceline.domain.party import Role
from truceline.errors import DigestMismatchError, SignatureError, StaleSignatureError
from truceline.ledger.canonical import b64encode
from truceline.ledger.keys import raw_public_key
from truceline.service.auth import Principal
from truceline.service.request_signatures import CREATED_WINDOW_S, HttpRequest, verify_request

KEY = Ed25519PrivateKey.generate()
PARTY = Principal("p-1", "Signer", Role.PARTY, "en", b64encode(raw_public_key(KEY.public_key())))
NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)

# (Not "." or "..": httpx removes dot segments before sending, as RFC 3986 says.)
segments = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-._~", min_size=1, max_size=12).filter(
    lambda segment: segment not in (".", "..")
)
paths = st.lists(segments, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
queries = st.one_of(st.just(""), st.lists(st.tuples(segments, segments), min_size=1, max_size=3).map(
    lambda pairs: "&".join(f"{k}={v}" for k, v in pairs)
))
nonces = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters='"\\'),
                 min_size=8, max_size=64)
bodies = st.text(max_size=300).map(lambda text: text.encode("utf-8"))


def sign(method: str, url: str, body: bytes, nonce: str, created: datetime = NOW) -> HttpRequest:
    request = httpx.Request(method, url, content=body)
    HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={PARTY.id: KEY}),
    ).sign(
        request,
        key_id=PARTY.id,
        created=created,
        nonce=nonce,
        covered_component_ids=("@method", "@path", "@query"),
        body=body,
    )
    return HttpRequest(method, str(request.url), tuple(request.headers.items()), body)


@settings(max_examples=60)
@given(path=paths, query=queries, body=bodies, nonce=nonces, flip=st.integers(min_value=0))
def test_signed_requests_verify_and_any_change_is_caught(path, query, body, nonce, flip) -> None:
    url = "http://server.example" + path + (f"?{query}" if query else "")
    received = sign("POST", url, body, nonce)
    verified = verify_request(PARTY, received, NOW)
    assert verified.nonce == nonce and verified.party_id == PARTY.id
    record = verified.record
    assert (record["path"], record["query"], record["body"].encode()) == (path, query, body)

    # One byte of the body changed (or one added to an empty body).
    changed = bytearray(body or b"\x00")
    changed[flip % len(changed)] ^= 0x01
    with pytest.raises(DigestMismatchError):
        verify_request(PARTY, HttpRequest("POST", url, received.headers, bytes(changed)), NOW)
    # Another path or another query: the signature no longer holds.
    with pytest.raises(SignatureError) as caught:
        # (built from its parts: replacing ``path`` in the URL could hit "//server" instead)
        other_path = "http://server.example" + path + "x" + (f"?{query}" if query else "")
        verify_request(PARTY, HttpRequest("POST", other_path, received.headers, body), NOW)
    assert caught.value.field == "Signature"
    other_query = url + ("&" if query else "?") + "extra=1"
    with pytest.raises(SignatureError) as caught:
        verify_request(PARTY, HttpRequest("POST", other_query, received.headers, body), NOW)
    assert caught.value.field == "Signature"


@pytest.mark.parametrize(
    ("offset_s", "accepted"),
    [(-CREATED_WINDOW_S, True), (-CREATED_WINDOW_S - 1, False), (30, True), (31, False)],
)
def test_the_created_window_is_checked_against_the_injected_clock(offset_s, accepted) -> None:
    created = NOW + timedelta(seconds=offset_s)
    received = sign("PUT", "http://server.example/operations/o-1", b"{}", "nonce-0001", created)
    if accepted:
        assert verify_request(PARTY, received, NOW).created_s == int(NOW.timestamp()) + offset_s
    else:
        with pytest.raises(StaleSignatureError):
            verify_request(PARTY, received, NOW)


header_text = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=120)


@settings(max_examples=150)
@given(
    signature_input=st.one_of(
        header_text,
        header_text.map(lambda tail: 'sig1=("@method" "@path" "@query" "content-digest")' + tail),
    ),
    signature=st.one_of(header_text, header_text.map(lambda tail: "sig1=:" + tail)),
    digest=st.one_of(header_text, st.just("sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:")),
)
def test_malformed_signature_headers_are_refused_as_bad_signatures(
    signature_input: str, signature: str, digest: str
) -> None:
    # Whatever a client puts in the three headers, the answer is a SignatureError (a 401
    # naming the field), never another exception (a 500).
    headers = (
        ("Signature-Input", signature_input),
        ("Signature", signature),
        ("Content-Digest", digest),
    )
    with pytest.raises(SignatureError) as caught:
        verify_request(PARTY, HttpRequest("POST", "http://server.example/messages", headers, b""), NOW)
    fields = ("Signature-Input", "Signature", "Content-Digest", "keyid", "created", "nonce")
    assert caught.value.field in fields
