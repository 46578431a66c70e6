"""The pages are served from the package and load nothing from elsewhere."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
from web_kit import BrowserPage, DemoServer


def test_the_map_page_draws_the_offline_basemap_from_the_server_alone(
    demo_server: DemoServer, web_page: BrowserPage
) -> None:
    page = web_page.page
    page.goto(demo_server.url + "/")  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)  # type: ignore[attr-defined]
    # Leaflet's canvas renderer draws the countries: the basemap pane holds a canvas.
    assert page.locator(".leaflet-basemap-pane canvas").count() >= 1  # type: ignore[attr-defined]
    origins = {urlsplit(u).netloc for u in web_page.requests if urlsplit(u).scheme in ("http", "https")}
    assert origins == {urlsplit(demo_server.url).netloc}, web_page.requests
    assert any(u.endswith("/web/vendor/world-atlas/countries-50m.json") for u in web_page.requests)


def test_the_pages_forbid_other_origins_and_stay_out_of_the_api_document(demo_server: DemoServer) -> None:
    for path in ("/", "/observe"):
        answer = httpx.get(demo_server.url + path)
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/html")
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    spec = httpx.get(demo_server.url + "/openapi.json").json()
    assert "/" not in spec["paths"] and "/observe" not in spec["paths"]
    assert httpx.get(demo_server.url + "/web/vendor/versions.json").json()["leaflet"] == "1.9.4"
