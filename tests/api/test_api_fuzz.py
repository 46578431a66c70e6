"""Schemathesis against our own OpenAPI document: no request it generates gets a 5xx, and
every error is problem+json. Runs in-process on a temporary SQLite file, with an admin
token so that the authorised paths are exercised (bounded: 15 examples per operation)."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path

import schemathesis
from hypothesis import HealthCheck, settings

from truceline.api.app import create_app
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service

_dir = Path(tempfile.mkdtemp(prefix="truceline-fuzz-"))
_service = Service(open_register(f"sqlite:///{_dir / 'fuzz.db'}", lambda: datetime.now(UTC)))
# One token per role: each generated request goes with a role the endpoint admits, so
# the handlers behind the role check are what gets fuzzed.
TOKENS = {role: add_party(_service, f"fuzz-{role}", role)[1] for role in ("party", "admin", "auditor")}
_app = create_app(_service, tick_interval_s=None)

# /stream stays open by design (its once=false mode); test_api_stream covers it.
schema = schemathesis.openapi.from_asgi("/openapi.json", _app).exclude(path="/stream")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_server_error(case: schemathesis.Case) -> None:
    roles = case.operation.definition.raw.get("x-roles", ["admin"])
    role = next(r for r in (*TOKENS, *roles) if r in roles and r in TOKENS)
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {TOKENS[role]}"}
    response = case.call()
    assert response.status_code not in (401, 403), (case.method, case.path, role, response.text)
    assert response.status_code < 500, (case.method, case.path, response.text)
    if response.status_code >= 400:
        assert response.headers["content-type"][0].startswith("application/problem+json"), response.headers
        body = response.json()
        assert {"type", "title", "status", "detail"} <= set(body)
