"""``/docs`` works without internet: Swagger UI's page names no asset on another host, and
the app itself serves every script, style sheet and icon the page loads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_kit import World, sqlite_url


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    yield w
    w.close()


def _asset_urls(html: str) -> list[str]:
    """Every URL in a src= or href= attribute, and the page's ``url: '...'`` (the spec)."""
    return re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", html)


def test_docs_page_loads_nothing_from_another_host(world: World) -> None:
    response = world.client.get("/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    html = response.text
    assert "swagger-ui" in html.lower()
    assert "cdn.jsdelivr.net" not in html and "fastapi.tiangolo.com" not in html
    assets = _asset_urls(html)
    assert len(assets) >= 3, assets  # the script, the style sheet, the icon
    assert [url for url in assets if re.match(r"(?i)^(https?:)?//", url)] == []


def test_every_asset_of_the_docs_page_is_served_by_the_app(world: World) -> None:
    html = world.client.get("/docs").text
    for url in _asset_urls(html):
        response = world.client.get(url)
        assert response.status_code == 200, url
        assert response.content, url
    script = world.client.get("/docs/assets/swagger-ui-bundle.js")
    assert "javascript" in script.headers["content-type"]
    # ... and the page points Swagger UI at the app's own OpenAPI document.
    assert "'/openapi.json'" in html or '"/openapi.json"' in html
    assert world.client.get("/openapi.json").status_code == 200


def test_docs_stay_out_of_the_openapi_document(world: World) -> None:
    paths = world.client.get("/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/docs")]


def test_another_method_on_docs_is_a_405_problem_with_allow(world: World) -> None:
    response = world.client.post("/docs")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["allow"] == "GET"
    response = world.client.post("/docs/assets/swagger-ui.css")
    # the static files serve HEAD too, and say so
    assert response.status_code == 405 and response.headers["allow"] == "GET, HEAD"
    assert response.headers["content-type"].startswith("application/problem+json")
    missing = world.client.get("/docs/assets/no-such-file.js")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
