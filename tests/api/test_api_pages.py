"""The browser pages and their texts, over HTTP (the pages themselves: tests/web)."""

from __future__ import annotations

import pytest
from api_kit import World, sqlite_url
from fastapi.testclient import TestClient

from truceline.domain.party import LANGUAGES
from truceline.i18n.page_texts import PAGE_TEXTS


@pytest.fixture
def client(tmp_path, clock) -> TestClient:
    return World(sqlite_url(tmp_path), clock).client


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_page_text(client: TestClient, language: str) -> None:
    answer = client.get("/texts", params={"language": language})
    assert answer.status_code == 200
    body = answer.json()
    assert body["language"] == language and set(body["texts"]) == set(PAGE_TEXTS)
    assert body["dir"] == ("rtl" if language == "ar" else "ltr")
    if language != "en":  # translated, not the English fallback
        assert body["texts"]["map.login"] != PAGE_TEXTS["map.login"]


def test_an_unknown_language_is_a_problem_naming_the_field(client: TestClient) -> None:
    answer = client.get("/texts", params={"language": "xx"})
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "language" in answer.text


def test_without_a_language_the_browser_s_is_taken(client: TestClient) -> None:
    answer = client.get("/texts", headers={"Accept-Language": "de-CH, ar;q=0.5"})
    assert answer.json()["language"] == "de"
    assert client.get("/texts").json()["language"] == "en"


def test_the_pages_are_served_with_their_policy(client: TestClient) -> None:
    for path, marker in (("/", "leaflet.js"), ("/observe", "<main")):
        answer = client.get(path)
        assert answer.status_code == 200 and marker in answer.text
        assert "connect-src 'self'" in answer.headers["content-security-policy"]
    worker = client.get("/observe-sw.js")
    assert worker.headers["content-type"].startswith("text/javascript")
