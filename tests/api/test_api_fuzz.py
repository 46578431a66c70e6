"""Schemathesis against our own OpenAPI document: no request it generates gets a 5xx, and
every error is problem+json. Runs in-process on a temporary SQLite file, with an admin
token so that the authorised paths are exercised (bounded: 15 examples per operation).
``test_all_checks`` then runs every schemathesis check (``--checks all``) on SQLite and
PostgreSQL (bounded: 10 examples per operation)."""

from __future__ import annotations

import re
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from truceline.api.app import create_app
from truceline.api.idempotency import HEADER_NAME
from truceline.api.idempotency import PARAMETER as KEY_PARAMETER
from truceline.service.parties import add_party
from truceline.service.register import open_register
from truceline.service.service import Service

_dir = Path(tempfile.mkdtemp(prefix="truceline-fuzz-"))
_service = Service(open_register(f"sqlite:///{_dir / 'fuzz.db'}", lambda: datetime.now(UTC)))
# One token per role: each generated request goes with a role the endpoint admits, so
# the handlers behind the role check are what gets fuzzed.
ROLES = ("party", "admin", "auditor", "observer", "humanitarian")
TOKENS = {role: add_party(_service, f"fuzz-{role}", role).token for role in ROLES}
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



# --checks all: every check schemathesis has (the default config enables each one) against
# the OpenAPI document: status codes, content types, response headers and bodies as
# documented, 405 with Allow for other methods, 401 without a token, schema-invalid input
# refused and schema-valid input accepted, on SQLite and PostgreSQL. A fresh register per
# operation, so that no operation's examples depend on another's.
#
# Schema-valid input may still be refused with 422 where the rule is beyond JSON Schema,
# as the 422 of these routes documents: a document's geometry and format (the ED-269,
# F3548 and GeoJSON readers, and the OpenSky header of a CSV batch of tracks), a language
# tag CLDR must know, a request key that must decode to an Ed25519 key, a log position or
# tree size beyond the log's present size, an incident report's fields and geometry, a
# date in a query.
BEYOND_SCHEMA = [
    "create_party",
    "propose_zone",
    "counter_propose_zone",
    "file_operation",
    "file_operation_with_id",
    "update_operation",
    "send_message",
    "reply_to_message",
    "list_log_entries",
    "get_inclusion_proof",
    "get_consistency_proof",
    # A report's geometry, times and fields (domain/incident.py), the stats' dates.
    "report_incident",
    "report_incidents",
    "list_incidents",
    "export_incidents_csv",
    "export_incidents_geojson",
    "zone_incident_stats",
    # a notification's geometry and times; a version hash naming no notification; a moment
    # without a timezone
    "notify",
    "acknowledge_notification",
    "dispute_notification",
    "notification_status",
    # the OpenSky header of a CSV batch of tracks
    "submit_tracks",
    # ?at=: an RFC 3339 date-time, which no JSON Schema pattern can check (month 13, day 31)
    "list_zones",
    "list_operations",
]
CONFIG = SchemathesisConfig.from_dict(
    {
        "operations": [
            {
                "include-operation-id": BEYOND_SCHEMA,
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": ["2xx", "401", "403", "404", "409", "422"]
                    }
                },
            }
        ]
    }
)


KEY_PATTERN = KEY_PARAMETER["schema"]["pattern"]
checked = schemathesis.openapi.from_asgi("/openapi.json", _app, config=CONFIG).exclude(path="/stream")


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def fuzzed(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    """A fresh app over a fresh register, with a token per role (as above), on SQLite or
    PostgreSQL; the cases come from the one document, which is the same for both."""
    sqlite = request.param == "sqlite"
    url = f"sqlite:///{tmp_path / 'fuzz.db'}" if sqlite else request.getfixturevalue("postgres_url")
    service = Service(open_register(url, lambda: datetime.now(UTC)))
    tokens = {role: add_party(service, f"fuzz-{role}", role).token for role in ROLES}
    yield create_app(service, tick_interval_s=None), tokens
    service.engine.dispose()


@checked.parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_all_checks(case: schemathesis.Case, fuzzed: tuple[FastAPI, dict[str, str]]) -> None:
    app, tokens = fuzzed
    roles = case.operation.definition.raw.get("x-roles", ["admin"])
    role = next(r for r in (*tokens, *roles) if r in roles and r in tokens)
    # An Idempotency-Key the schema admits is made unique to the case: two examples that
    # happen to draw the same key with other bodies get the 422 of a reused key, which
    # depends on what was sent before, beyond any schema (test_api_idempotency covers it).
    # A key the schema refuses is kept, so that its 400 is checked.
    key = (case.headers or {}).get(HEADER_NAME)
    if key is not None and re.fullmatch(KEY_PATTERN, key):
        case.headers = {**case.headers, HEADER_NAME: str(uuid.uuid4())}
    # Given as the caller's headers, so that the auth checks know them for the valid ones
    # and try without and with a wrong one themselves.
    case.call_and_validate(headers={"Authorization": f"Bearer {tokens[role]}"}, app=app)
