"""Browser tests' kit: a real ``truceline serve`` over the demo scenario, driven by Playwright in
Debian's Chromium (``/usr/bin/chromium``; Playwright cannot download its own browser here).

Each test's page is screenshotted into ``test-artefacts/web/`` (``TRUCELINE_ARTEFACTS``
overrides the folder) whatever the outcome, so a person can look at what the test saw. Every
request a page makes is recorded (``BrowserPage.requests``) so tests can assert that none
leaves the server.

Without Chromium the tests are skipped, except on CI (``CI`` set), where a missing browser is
a failure: ``.ci/run`` installs it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

CHROMIUM = os.environ.get("TRUCELINE_CHROMIUM", "/usr/bin/chromium")
ARTEFACTS = Path(os.environ.get("TRUCELINE_ARTEFACTS", "test-artefacts")) / "web"
# The flags a headless Chromium needs on a machine with no network and no GPU: background
# networking off (its connections would be refused), no sandbox as root, software GL.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Parties of the demo scenario the tests log in as (cli/offline.py DEMO_PARTIES).
DEMO_LOGINS = ("US-led Coalition", "Russian Federation", "Syrian Arab Army", "UN ceasefire observers")


@dataclass(frozen=True)
class DemoServer:
    """A ``truceline serve`` process over a fresh demo database."""

    url: str
    db: Path
    tokens: dict[str, str]  # party name -> bearer token


@dataclass
class BrowserPage:
    """A Playwright page and every URL it requested."""

    page: object
    requests: list[str] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _truceline(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "truceline", *args], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"truceline {' '.join(args)}: {done.stderr}"
    return done.stdout


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    folder = tmp_path_factory.mktemp("web-demo")
    db = folder / "demo.db"
    env = {
        **os.environ,
        "XDG_CONFIG_HOME": str(folder / "config"),
        "TRUCELINE_SCAN_INTERVAL_S": "1",
        "TRUCELINE_LOG_LEVEL": "warning",
    }
    env.pop("TRUCELINE_KEYS_DIR", None)
    # A negotiation history inside the demo's day, for the time slider (demo_history.py).
    history = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("demo_history.py")), str(db)],
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert history.returncode == 0, history.stderr
    _truceline("demo", "--db", str(db), "--report", str(folder / "report.geojson"), env=env)
    tokens = {}
    for name in DEMO_LOGINS:
        issued = _truceline("party", "rotate-token", name, "--json", "--db", str(db), env=env)
        tokens[name] = json.loads(issued)["token"]
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "truceline", "serve", "--db", str(db), "--host", "127.0.0.1",
         "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(folder / "serve.log", "w"),  # noqa: SIM115 - closed with the process
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            server.kill()
            raise AssertionError(f"truceline serve did not start: {(folder / 'serve.log').read_text()}")
        time.sleep(0.2)
    try:
        yield DemoServer(url, db, tokens)
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None:
        message = f"no Chromium at {CHROMIUM} (Debian's package chromium; TRUCELINE_CHROMIUM overrides)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def web_page(browser: object, request: pytest.FixtureRequest) -> Iterator[BrowserPage]:
    """A fresh browser context (no storage shared between tests), its requests recorded and a
    screenshot saved at the end as ``test-artefacts/web/<test>.png``."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})  # type: ignore[attr-defined]
    page = context.new_page()
    recorded = BrowserPage(page)
    page.on("request", lambda r: recorded.requests.append(r.url))
    try:
        yield recorded
    finally:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_").replace("[", "-").replace("]", "")
        try:
            page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)
        finally:
            context.close()
