"""A small HTTP client of the API, for the CLI's client commands (``truceline zones``,
``ops file``, ``inbox``, ``ack``). Configured by ``--url``/``TRUCELINE_URL``,
``--token``/``TRUCELINE_TOKEN`` and, for a party holding a request key,
``--key``/``TRUCELINE_KEY`` (its Ed25519 private key, PEM): every write is then signed
(RFC 9421, as ``truceline.service.request_signatures`` checks). ``transport`` lets tests
talk to an in-process app."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from http_message_signatures import HTTPMessageSigner, MappingKeyResolver, algorithms

from truceline.errors import TrucelineError, ValidationError

DEFAULT_URL = "http://127.0.0.1:8000"


class ClientError(TrucelineError):
    """The server refused a request (``status`` and the problem+json body) or could not be reached."""

    type_slug = "client"

    def __init__(
        self, message: str, status: int | None = None, problem: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.problem = problem or {}


# What the client signs; the server requires at least these (and the nonce, created).
SIGNED_COMPONENTS = ("@method", "@path", "@query")  # + content-digest, added with the body
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


def load_request_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in the PEM file ``path`` (``openssl genpkey -algorithm
    ed25519``); ValidationError naming ``key`` otherwise."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ValidationError(f"cannot read {path}: {error.strerror}", field="key") from None
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise ValidationError(f"{path} is not an unencrypted PEM private key: {error}", field="key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ValidationError(f"{path} holds a {type(key).__name__}, not an Ed25519 key", field="key")
    return key


class RequestSigner:
    """Signs a party's writes (RFC 9421): Ed25519, keyid = the party's id, covering the
    method, path, query and Content-Digest, with ``created`` from ``clock`` and a new
    random nonce each time."""

    def __init__(self, key: Ed25519PrivateKey, clock: Callable[[], datetime]) -> None:
        self._key = key
        self._clock = clock

    def sign(self, request: httpx.Request, party_id: str) -> None:
        signer = HTTPMessageSigner(
            signature_algorithm=algorithms.ED25519,
            key_resolver=MappingKeyResolver(public_keys={}, private_keys={party_id: self._key}),
        )
        signer.sign(
            request,
            key_id=party_id,
            created=self._clock(),
            nonce=secrets.token_urlsafe(24),
            covered_component_ids=SIGNED_COMPONENTS,
            body=request.content,
        )


class Client:
    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout_s: float = 10.0,
        signer: RequestSigner | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.Client(base_url=url, headers=headers, timeout=timeout_s, transport=transport)
        self._signer = signer
        self._party_id: str | None = None  # the keyid: asked of GET /me once, when first signing

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self._http.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response, whatever its status; ClientError when the server cannot be reached."""
        try:
            request = self._http.build_request(method, path, **kwargs)
            if self._signer is not None and request.method in _WRITES:
                self._signer.sign(request, self._own_id())
            return self._http.send(request)
        except httpx.HTTPError as error:
            raise ClientError(f"cannot reach {self._http.base_url}: {error}") from None

    def _own_id(self) -> str:
        if self._party_id is None:
            self._party_id = str(self.call("GET", "/me")["id"])
        return self._party_id

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        """The JSON body of a 2xx response; ClientError (with the problem) otherwise."""
        response = self.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise problem_error(response)
        return response.json()


def problem_error(response: httpx.Response) -> ClientError:
    try:
        problem = response.json()
    except ValueError:
        problem = {}
    if not isinstance(problem, dict):
        problem = {}
    detail = problem.get("detail") or response.text[:200] or response.reason_phrase
    field = problem.get("field")
    where = f"{field}: " if field else ""
    return ClientError(f"HTTP {response.status_code}: {where}{detail}", response.status_code, problem)
