"""Every endpoint refuses a request without a token or with an unknown one (401), and a
caller whose role it does not admit (403), as its OpenAPI ``x-roles`` states."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_kit import World, sqlite_url

from truceline.api.app import create_app
from truceline.service.auth import ALL_ROLES
from truceline.service.register import open_register


def _routes() -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, roles) of every route, from the OpenAPI document the app serves."""
    register = open_register("sqlite:///:memory:", lambda: None)  # type: ignore[arg-type,return-value]
    document = create_app(register, tick_interval_s=None).openapi()
    out = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path not in ("/health", "/metrics", "/texts"):  # open to all, no token (metrics, pages)
                out.append((method.upper(), path, tuple(operation["x-roles"])))
    return out


ROUTES = _routes()


def _concrete(path: str) -> str:
    # An incident id routes only as a UUID (api/incidents.py); any other id is "x".
    url = path.replace("{incident_id}", "01a23c70-0000-7000-8000-000000000000")
    url = re.sub(r"\{[^}]+\}", "x", url)
    # The stream stays open unless asked to send what is pending and close.
    return url + "?once=true" if url == "/stream" else url


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    w = World(sqlite_url(Path(tmp_path_factory.mktemp("access"))), lambda: datetime.now(UTC))
    for role in ALL_ROLES:
        w.add(f"the-{role}", role)
    yield w
    w.close()


def test_every_route_states_its_roles() -> None:
    assert len(ROUTES) >= 20
    register = open_register("sqlite:///:memory:", lambda: None)  # type: ignore[arg-type,return-value]
    document = create_app(register, tick_interval_s=None).openapi()
    for method, path, roles in ROUTES:
        operation = document["paths"][path][method.lower()]
        assert f"**Who may call:** {', '.join(roles)}." in operation["description"], (method, path)
        assert {"401", "403"} <= set(operation["responses"]), (method, path)


@pytest.mark.parametrize(("method", "path", "roles"), ROUTES, ids=[f"{m} {p}" for m, p, _ in ROUTES])
def test_refusals(world: World, method: str, path: str, roles: tuple[str, ...]) -> None:
    url = _concrete(path)
    body = {} if method in ("POST", "PUT") else None
    r = world.client.request(method, url, json=body)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["type"] == "urn:truceline:problem:unauthorized"
    assert r.json()["field"] == "Authorization"
    r = world.client.request(method, url, json=body, headers={"Authorization": "Bearer tl_not-a-token"})
    assert r.status_code == 401, r.text
    for role in ALL_ROLES:
        r = world.client.request(method, url, json=body, headers=world.auth(f"the-{role}"))
        if role in roles:
            assert r.status_code not in (401, 403), (role, r.text)
        else:
            assert r.status_code == 403, (role, r.text)
            assert r.json()["type"] == "urn:truceline:problem:forbidden"
