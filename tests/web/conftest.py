"""The browser tests' fixtures live in web_kit.py (importable by the tests by name)."""

from web_kit import browser, demo_server, web_page  # noqa: F401 - pytest fixtures
