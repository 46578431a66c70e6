"""The observer's page (/observe) in a real Chromium: reports filed with the network cut are
queued on the device, kept across an offline reload (service worker + IndexedDB), uploaded
exactly once when the link returns, and their receipts verified in the page; with the page
closed, the service worker uploads them itself (Background Sync); photos are hashed on the
device and never sent; a receipt altered by one byte fails in the page."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from web_kit import ARTEFACTS, DemoServer

from shared_data import SHARED_DATA
from truceline.i18n.render import page_texts

OBSERVER = "UN ceasefire observers"
# Where the device says it is (Playwright's geolocation): inside the demo's area.
DEVICE_AT = {"latitude": 35.1, "longitude": 36.2, "accuracy": 35}


@dataclass
class Recorded:
    """One request the browser made (page or service worker): its URL, method and body."""

    url: str
    method: str
    body: bytes
    by_worker: bool = False


@dataclass
class ObserverPage:
    page: object
    context: object
    requests: list[Recorded] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def shot(self, name: str) -> None:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTEFACTS / f"observe-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        self.shots.append(path)


@pytest.fixture
def observer(browser: object, request: pytest.FixtureRequest) -> Iterator[ObserverPage]:
    """A phone-sized context that may read the device's position; every request recorded.

    Background Sync is granted, as a normal Chromium profile does by default: in a Playwright
    context without the grant, ``sync.register`` is refused (NotAllowedError)."""
    context = browser.new_context(  # type: ignore[attr-defined]
        viewport={"width": 412, "height": 915},
        is_mobile=True,
        has_touch=True,
        geolocation=DEVICE_AT,
        permissions=["geolocation", "background-sync"],
    )
    page = context.new_page()
    recorded = ObserverPage(page, context)

    def record(r: object) -> None:
        body = r.post_data_buffer  # type: ignore[attr-defined]
        by_worker = r.service_worker is not None  # type: ignore[attr-defined]
        recorded.requests.append(Recorded(r.url, r.method, body or b"", by_worker))  # type: ignore[attr-defined]

    # The context's event also sees what the service worker fetches (Chromium).
    context.on("request", record)
    try:
        yield recorded
    finally:
        try:
            if not recorded.page.is_closed():  # type: ignore[attr-defined]  (a test may close it)
                recorded.shot(request.node.name)
        finally:
            context.close()


def _log_in(observer: ObserverPage, server: DemoServer) -> None:
    page = observer.page
    page.goto(server.url + "/observe")  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)  # type: ignore[attr-defined]
    page.fill("#token", server.tokens[OBSERVER])  # type: ignore[attr-defined]
    page.click("#login-form button[type='submit']")  # type: ignore[attr-defined]
    page.wait_for_selector("#session:not([hidden])", timeout=10_000)  # type: ignore[attr-defined]


def _wait_until_cached(observer: ObserverPage) -> None:
    """The worker controls the page and has cached the page and its assets."""
    observer.page.wait_for_function(  # type: ignore[attr-defined]
        """async () => navigator.serviceWorker.controller !== null &&
             (await (await caches.open('truceline-observe-v2')).keys()).length >= 11""",
        timeout=20_000,
    )


def _incidents(server: DemoServer) -> list[dict]:
    answer = httpx.get(
        server.url + "/incidents", headers={"Authorization": f"Bearer {server.tokens[OBSERVER]}"}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def _states(observer: ObserverPage) -> list[str]:
    return observer.page.eval_on_selector_all(  # type: ignore[attr-defined]
        "#report-list li", "items => items.map(i => i.dataset.state)"
    )


def test_reports_filed_offline_are_queued_survive_a_reload_and_upload_once_with_verified_receipts(
    demo_server: DemoServer, observer: ObserverPage, tmp_path: Path
) -> None:
    page = observer.page
    _log_in(observer, demo_server)
    texts = page_texts("en")
    key = httpx.get(
        demo_server.url + "/incidents/receipt-key",
        headers={"Authorization": f"Bearer {demo_server.tokens[OBSERVER]}"},
    ).json()
    assert page.text_content("#key") == texts["observe.key_pinned"].format(  # type: ignore[attr-defined]
        fingerprint=key["fingerprint"]
    )
    _wait_until_cached(observer)
    before = {i["instance_id"] for i in _incidents(demo_server)}

    observer.context.set_offline(True)  # type: ignore[attr-defined]
    page.wait_for_function("() => !navigator.onLine")  # type: ignore[attr-defined]
    assert page.text_content("#link") == texts["observe.offline"]  # type: ignore[attr-defined]

    # 1: located by the device, counts as a range, a photo hashed on the device.
    photo = tmp_path / "crater.jpg"
    photo_bytes = b"\xff\xd8\xff\xe0" + os.urandom(6000) + b"\xff\xd9"
    photo.write_bytes(photo_bytes)
    page.click("#locate")  # type: ignore[attr-defined]
    page.wait_for_function("() => document.getElementById('location-status').textContent !== ''")  # type: ignore[attr-defined]
    page.select_option("#category", "shelling")  # type: ignore[attr-defined]
    page.select_option("#observation", "heard")  # type: ignore[attr-defined]
    page.fill(".quantity[data-name='count'] .low", "3")  # type: ignore[attr-defined]
    page.fill(".quantity[data-name='count'] .high", "5")  # type: ignore[attr-defined]
    page.fill("#description", "Three to five impacts south-south-east")  # type: ignore[attr-defined]
    page.set_input_files("#photos", str(photo))  # type: ignore[attr-defined]
    page.wait_for_selector("#photo-hashes .photo-hash")  # type: ignore[attr-defined]
    page.click("#file")  # type: ignore[attr-defined]
    page.wait_for_function("() => document.querySelectorAll('#report-list li').length === 1")  # type: ignore[attr-defined]

    # 2: a tap on the map, a time range.
    page.click("#map", position={"x": 200, "y": 110})  # type: ignore[attr-defined]
    page.wait_for_function("() => document.getElementById('location-status').textContent !== ''")  # type: ignore[attr-defined]
    page.select_option("#category", "drone")  # type: ignore[attr-defined]
    page.select_option("#observation", "seen")  # type: ignore[attr-defined]
    page.check("input[name='when'][value='range']")  # type: ignore[attr-defined]
    page.fill("#time-from", "2026-12-07T06:00")  # type: ignore[attr-defined]
    page.fill("#time-to", "2026-12-07T06:20")  # type: ignore[attr-defined]
    page.click("#file")  # type: ignore[attr-defined]
    page.wait_for_function("() => document.querySelectorAll('#report-list li').length === 2")  # type: ignore[attr-defined]
    assert _states(observer) == ["queued", "queued"]
    assert texts["observe.state.queued"] in page.text_content("#report-list")  # type: ignore[attr-defined]
    observer.shot("queued-offline")

    # A reload with no link: the worker serves the page, IndexedDB still holds both reports.
    page.reload()  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)  # type: ignore[attr-defined]
    assert _states(observer) == ["queued", "queued"]
    assert page.is_visible("#report")  # type: ignore[attr-defined]  (still logged in)
    observer.shot("reloaded-offline")
    instance_ids = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "#report-list li", "items => items.map(i => i.dataset.instanceId)"
    )
    assert not set(instance_ids) & {i["instance_id"] for i in _incidents(demo_server)}

    # The link returns: both upload, each once, and both receipts verify in the page. The page
    # (its online event) and the worker (Background Sync) both try, one after the other.
    observer.context.set_offline(False)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => [...document.querySelectorAll('#report-list li')].every(i => i.dataset.state === 'verified')",
        timeout=30_000,
    )
    assert texts["observe.state.verified"] in page.text_content("#report-list")  # type: ignore[attr-defined]
    observer.shot("verified")
    page.evaluate("() => new Promise(r => setTimeout(r, 500))")  # type: ignore[attr-defined]
    after = _incidents(demo_server)
    new = [i for i in after if i["instance_id"] not in before]
    assert sorted(i["instance_id"] for i in new) == sorted(instance_ids)
    assert {i["reporter"] for i in new} == {OBSERVER}

    # The photo: its SHA-256 went in the report, its bytes in no request.
    posts = [r for r in observer.requests if r.method == "POST"]
    assert posts and all(urlsplit(r.url).path == "/incidents" for r in posts)
    sent = [json.loads(r.body) for r in posts]
    first = next(f for f in sent if f["properties"]["category"] == "shelling")
    assert first["properties"]["evidence"] == [
        {"sha256": hashlib.sha256(photo_bytes).hexdigest(), "media_type": "image/jpeg",
         "size": len(photo_bytes)}
    ]
    assert first["properties"]["count"] == [3, 5]
    assert first["geometry"]["coordinates"] == [DEVICE_AT["longitude"], DEVICE_AT["latitude"]]
    assert first["properties"]["uncertainty_m"] == DEVICE_AT["accuracy"]
    second = next(f for f in sent if f["properties"]["category"] == "drone")
    assert second["properties"]["observed_start"] < second["properties"]["observed_end"]
    chunk = photo_bytes[100:164]  # any 64 bytes of the photo, raw or in base64
    for r in observer.requests:
        assert chunk not in r.body and base64.b64encode(chunk)[:40] not in r.body, r.url

    # Every request went to the server itself.
    web = [urlsplit(r.url) for r in observer.requests if urlsplit(r.url).scheme in ("http", "https")]
    origins = {u.netloc for u in web}
    assert origins == {urlsplit(demo_server.url).netloc}, sorted({r.url for r in observer.requests})


def _file_by_tap(page: object, category: str, x: int) -> None:
    """File a report placed by a tap on the map, the rest of the form as it is."""
    count = page.eval_on_selector_all("#report-list li", "items => items.length")  # type: ignore[attr-defined]
    page.click("#map", position={"x": x, "y": 110})  # type: ignore[attr-defined]
    page.wait_for_function("() => document.getElementById('location-status').textContent !== ''")  # type: ignore[attr-defined]
    page.select_option("#category", category)  # type: ignore[attr-defined]
    page.click("#file")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "n => document.querySelectorAll('#report-list li').length === n", arg=count + 1
    )


def test_with_the_page_closed_the_service_worker_uploads_the_queue_when_the_link_returns(
    demo_server: DemoServer, observer: ObserverPage
) -> None:
    """Background Sync: two reports queued offline, the observer page closed (no page of the
    site open at all), the link restored: both incidents appear on the server, posted by the
    service worker; the page, opened again, shows both receipts verified.

    Headless Chromium fires ``sync`` by itself here: Playwright's ``set_offline`` emulates the
    offline network for the worker too, and lifting it lets Chromium's Background Sync fire the
    waiting registration (within a second), as a real reconnection would. No DevTools call
    dispatches the event; without the worker's sync path nothing would post (no page is open)
    and the incidents would never appear."""
    page = observer.page
    context = observer.context
    _log_in(observer, demo_server)
    _wait_until_cached(observer)
    before = {i["instance_id"] for i in _incidents(demo_server)}

    context.set_offline(True)  # type: ignore[attr-defined]
    page.wait_for_function("() => !navigator.onLine")  # type: ignore[attr-defined]
    _file_by_tap(page, "explosion", 150)
    _file_by_tap(page, "small_arms", 260)
    assert _states(observer) == ["queued", "queued"]
    instance_ids = page.eval_on_selector_all(  # type: ignore[attr-defined]
        "#report-list li", "items => items.map(i => i.dataset.instanceId)"
    )
    tags = page.evaluate("async () => (await navigator.serviceWorker.ready).sync.getTags()")  # type: ignore[attr-defined]
    assert tags == ["truceline-upload"]
    observer.shot("sync-queued")
    page.close()  # type: ignore[attr-defined]
    assert context.pages == []  # type: ignore[attr-defined]
    assert len(context.service_workers) == 1  # type: ignore[attr-defined]

    # Still offline: nothing goes.
    time.sleep(1.5)
    assert not set(instance_ids) & {i["instance_id"] for i in _incidents(demo_server)}

    uploaded_from = len(observer.requests)
    context.set_offline(False)  # type: ignore[attr-defined]
    deadline = time.monotonic() + 30
    while True:
        new = [i for i in _incidents(demo_server) if i["instance_id"] not in before]
        if len(new) >= 2 or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    assert sorted(i["instance_id"] for i in new) == sorted(instance_ids)
    assert {i["reporter"] for i in new} == {OBSERVER}

    # The page is opened again: it shows both sent, and checks their receipts itself.
    observer.page = page = context.new_page()  # type: ignore[attr-defined]
    page.goto(demo_server.url + "/observe")  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => [...document.querySelectorAll('#report-list li')].every(i => i.dataset.state === 'verified')",
        timeout=20_000,
    )
    assert page.eval_on_selector_all(  # type: ignore[attr-defined]
        "#report-list li", "items => items.map(i => i.dataset.instanceId)"
    ) == instance_ids
    assert page_texts("en")["observe.state.verified"] in page.text_content("#report-list")  # type: ignore[attr-defined]
    observer.shot("sync-verified")

    # Who posted after the link returned: the worker, each report once it was answered.
    posts = [r for r in observer.requests[uploaded_from:] if r.method == "POST"]
    assert posts and all(r.by_worker and urlsplit(r.url).path == "/incidents" for r in posts), posts
    assert sorted(json.loads(r.body)["properties"]["instance_id"] for r in posts) == sorted(instance_ids)
    web = [urlsplit(r.url) for r in observer.requests if urlsplit(r.url).scheme in ("http", "https")]
    assert {u.netloc for u in web} == {urlsplit(demo_server.url).netloc}

    # A stale writer (the worker's copy still says queued) cannot step a verified report back.
    stepped = page.evaluate(  # type: ignore[attr-defined]
        """async (id) => {
             const changed = await self.trucelineStore.advance(id, ["queued"], { state: "sent" });
             return [changed, (await self.trucelineStore.getReport(id)).state];
           }""",
        instance_ids[0],
    )
    assert stepped == [False, "verified"]


def _receipt_of(server: DemoServer, incident_id: str) -> dict:
    answer = httpx.get(
        f"{server.url}/incidents/{incident_id}",
        headers={"Authorization": f"Bearer {server.tokens[OBSERVER]}"},
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["receipt"]


def _flip(text: str, at: int) -> str:
    """``text`` with the character at ``at`` changed (one byte of ASCII)."""
    c = text[at]
    return text[:at] + ("B" if c != "B" else "C") + text[at + 1 :]


def _tampered(receipt: dict) -> dict[str, dict]:
    """One-byte changes, each in another part of the receipt."""
    entry = receipt["entry"]
    at = entry.index('"category":"') + len('"category":"')
    sth = receipt["sth"]
    cases = {
        "entry": {**receipt, "entry": entry[:at] + "x" + entry[at + 1 :]},
        "leaf_hash": {**receipt, "leaf_hash": _flip(receipt["leaf_hash"], 3)},
        "sth.signature": {**receipt, "sth": {**sth, "signature": _flip(sth["signature"], 5)}},
        "sth.root_hash": {**receipt, "sth": {**sth, "root_hash": _flip(sth["root_hash"], 2)}},
        "log_signature": {**receipt, "entry": _flip(entry, entry.index('"log_signature":"') + 30)},
    }
    if receipt["inclusion_path"]:
        path = list(receipt["inclusion_path"])
        path[0] = _flip(path[0], 4)
        cases["inclusion_path[0]"] = {**receipt, "inclusion_path": path}
    return cases


def test_a_receipt_altered_by_one_byte_fails_in_the_page_and_the_genuine_one_verifies(
    demo_server: DemoServer, observer: ObserverPage, tmp_path: Path
) -> None:
    page = observer.page
    _log_in(observer, demo_server)
    # A report of this observer (filed here over HTTP: this test is about the check).
    feature = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [36.21, 35.12]},
        "properties": {
            "instance_id": "uuid:0b5c7a52-9e0f-4c1e-8a57-6f2d3c4b5a69",
            "observed_start": "2026-12-07T05:00:00Z",
            "category": "explosion",
            "observation": "heard",
        },
    }
    filed = httpx.post(
        demo_server.url + "/incidents",
        json=feature,
        headers={"Authorization": f"Bearer {demo_server.tokens[OBSERVER]}"},
    )
    assert filed.status_code in (200, 201), filed.text
    receipt = _receipt_of(demo_server, filed.json()["id"])

    def check(name: str, value: dict) -> tuple[str, str]:
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(value))
        page.set_input_files("#receipt-file", str(path))  # type: ignore[attr-defined]
        page.wait_for_function("() => document.getElementById('check-result').dataset.outcome !== ''")  # type: ignore[attr-defined]
        outcome = page.get_attribute("#check-result", "data-outcome")  # type: ignore[attr-defined]
        return outcome, page.text_content("#check-result")  # type: ignore[attr-defined]

    outcome, text = check("genuine", receipt)
    assert outcome == "verified", text
    observer.shot("receipt-verified")
    for name, altered in _tampered(receipt).items():
        assert altered != receipt
        outcome, text = check(name.replace("[", "-").replace("]", ""), altered)
        assert outcome == "failed", (name, text)
    observer.shot("receipt-tampered")


def test_the_merkle_check_in_the_page_passes_the_published_inclusion_vectors(
    demo_server: DemoServer, observer: ObserverPage
) -> None:
    """receipt.js's RFC 9162 path check against transparency-dev's vectors (as ledger/merkle.py)."""
    page = observer.page
    page.goto(demo_server.url + "/observe")  # type: ignore[attr-defined]
    page.wait_for_selector("body[data-ready='true']", timeout=20_000)  # type: ignore[attr-defined]
    vectors = []
    for path in sorted((SHARED_DATA / "merkle-testdata" / "inclusion").rglob("*.json")):
        vector = json.loads(path.read_text())
        vectors.append({"name": str(path.relative_to(SHARED_DATA)), **vector})
    assert len(vectors) > 20
    results = page.evaluate(  # type: ignore[attr-defined]
        """async (vectors) => {
             const { rootFromInclusionProof, b64decode, hex } = await import('/web/observe/receipt.js');
             const out = [];
             for (const v of vectors) {
               let ok;
               try {
                 const b = (s) => s === null ? new Uint8Array()
                                             : Uint8Array.from(atob(s), c => c.charCodeAt(0));
                 const root = await rootFromInclusionProof(b(v.leafHash), v.leafIdx, v.treeSize,
                                                            (v.proof || []).map(b));
                 ok = root.length === 32 && hex(root) === hex(b(v.root)) && b(v.leafHash).length === 32;
               } catch (e) { ok = false; }
               out.push({ name: v.name, ok, want: !v.wantErr });
             }
             return out;
           }""",
        vectors,
    )
    wrong = [r["name"] for r in results if r["ok"] != r["want"]]
    assert wrong == [], wrong


def test_the_page_speaks_arabic_right_to_left_from_the_catalogue(
    demo_server: DemoServer, observer: ObserverPage
) -> None:
    page = observer.page
    _log_in(observer, demo_server)
    page.select_option("#language", "ar")  # type: ignore[attr-defined]
    page.wait_for_function("() => document.documentElement.dir === 'rtl'")  # type: ignore[attr-defined]
    arabic = page_texts("ar")
    assert page.get_attribute("html", "lang") == "ar"  # type: ignore[attr-defined]
    assert page.text_content("h1") == arabic["observe.title"]  # type: ignore[attr-defined]
    assert page.text_content("#file") == arabic["observe.file"]  # type: ignore[attr-defined]
    assert page.text_content("option[value='shelling']") == arabic["observe.category.shelling"]  # type: ignore[attr-defined]
    # Every text the page shows from the catalogue is one of the page texts (none left in English).
    shown = page.eval_on_selector_all("[data-text]", "els => els.map(e => [e.dataset.text, e.textContent])")  # type: ignore[attr-defined]
    assert shown and all(text == arabic[key] for key, text in shown), shown
    assert page.locator(".leaflet-top.leaflet-right .leaflet-control-zoom").count() == 1  # type: ignore[attr-defined]
    observer.shot("arabic")
    # Kept on the device: a reload stays in Arabic.
    page.reload()  # type: ignore[attr-defined]
    page.wait_for_function("() => document.documentElement.dir === 'rtl'")  # type: ignore[attr-defined]


def test_the_key_the_page_pins_is_the_logs_own_and_any_caller_may_read_it(demo_server: DemoServer) -> None:
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TRUCELINE_KEYS_DIR"}
    printed = subprocess.run(
        [sys.executable, "-m", "truceline", "log", "public-key", "--db", str(demo_server.db)],
        capture_output=True, text=True, env=env, check=True,
    ).stdout.strip()  # fmt: skip
    for name in demo_server.tokens:
        answer = httpx.get(
            demo_server.url + "/incidents/receipt-key",
            headers={"Authorization": f"Bearer {demo_server.tokens[name]}"},
        )
        assert answer.status_code == 200, answer.text
        raw = base64.b64decode(answer.json()["public_key"])
        assert answer.json() == {
            "public_key": printed,
            "fingerprint": "sha256:" + hashlib.sha256(raw).hexdigest()[:32],
        }
    assert httpx.get(demo_server.url + "/incidents/receipt-key").status_code == 401
