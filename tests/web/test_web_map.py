"""The duty officer's map in a real browser, over a real server running the demo: logging in,
the demo's zones, a live conflict between two tracks and its hotline message, Arabic, the time
slider, and no request anywhere but the server."""

from __future__ import annotations

import re
import time
from typing import Any
from urllib.parse import urlsplit

import httpx
from web_kit import BrowserPage, DemoServer

LOGIN_TIMEOUT_MS = 20_000
# The map shows proposed, active and expired zones (rejected and withdrawn ones are gone).
DRAWN_STATES = {"proposed", "active", "expired"}


def _get(server: DemoServer, party: str, path: str) -> Any:
    answer = httpx.get(server.url + path, headers={"Authorization": f"Bearer {server.tokens[party]}"})
    assert answer.status_code == 200, answer.text
    return answer.json()


def _log_in(server: DemoServer, web_page: BrowserPage, party: str) -> Any:
    page: Any = web_page.page
    page.goto(server.url + "/")
    page.wait_for_selector("body[data-ready='true']", timeout=LOGIN_TIMEOUT_MS)
    page.fill("#token", server.tokens[party])
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-logged-in='true']", timeout=LOGIN_TIMEOUT_MS)
    return page


def _wait(page: Any, expression: str, timeout_ms: int) -> None:
    """Poll a JavaScript expression until it is true. Playwright's own wait_for_function
    evaluates a string in the page, which the page's CSP (no 'unsafe-eval') forbids;
    page.evaluate goes through the debugging protocol instead, outside the CSP."""
    deadline = time.monotonic() + timeout_ms / 1000
    while not page.evaluate(expression):
        assert time.monotonic() < deadline, f"still false after {timeout_ms} ms: {expression}"
        page.wait_for_timeout(100)


def _count(page: Any, name: str) -> int:
    return int(page.evaluate(f"document.body.dataset.{name} ?? '-1'"))


def _only_the_server(server: DemoServer, web_page: BrowserPage) -> None:
    """Every request the page made went to the server itself, and none carried the token."""
    own = urlsplit(server.url).netloc
    elsewhere = [u for u in web_page.requests if urlsplit(u).scheme in ("http", "https", "ws", "wss")
                 and urlsplit(u).netloc != own]
    assert elsewhere == [], elsewhere
    schemes = {urlsplit(u).scheme for u in web_page.requests}
    assert schemes <= {"http", "data", "blob"}, web_page.requests
    for token in server.tokens.values():
        assert not [u for u in web_page.requests if token in u]


def test_a_party_logs_in_and_sees_the_demo_zones_and_its_operations(
    demo_server: DemoServer, web_page: BrowserPage
) -> None:
    page = _log_in(demo_server, web_page, "Russian Federation")
    zones = _get(demo_server, "Russian Federation", "/zones")
    drawn = [z for z in zones if z["state"] in DRAWN_STATES]
    assert drawn, "the demo has zones to draw"
    _wait(page, f"document.body.dataset.zones === '{len(drawn)}'", LOGIN_TIMEOUT_MS)
    operations = _get(demo_server, "Russian Federation", "/operations")
    assert _count(page, "operations") == len(operations) > 0
    assert page.text_content("#who-name").endswith("Russian Federation")
    # The party's own language (the demo sets Russian) until the reader picks another.
    assert page.evaluate("document.documentElement.lang") == "ru"
    # The token lives in this tab's session only.
    stored = page.evaluate("sessionStorage.getItem('truceline.token')")
    assert stored == demo_server.tokens["Russian Federation"]
    assert page.evaluate("localStorage.length") == 0
    assert page.context.cookies() == []
    attribution = page.text_content(".leaflet-control-attribution")
    assert "Natural Earth" in attribution and "Leaflet" in attribution
    _only_the_server(demo_server, web_page)


def test_two_converging_tracks_draw_a_conflict_line_whose_message_leaves_the_inbox_when_acknowledged(
    demo_server: DemoServer, web_page: BrowserPage
) -> None:
    page = _log_in(demo_server, web_page, "Russian Federation")
    now = time.time()
    # Head-on at the same level, 18 km apart, closing at 500 m/s: a conflict within the look-ahead.
    states = {
        "Russian Federation": {"id": "map-ru-1", "lon": 37.9, "heading": 90.0, "callsign": "RUS11"},
        "US-led Coalition": {"id": "map-us-1", "lon": 38.1, "heading": 270.0, "callsign": "USA11"},
    }
    for party, state in states.items():
        row = {**state, "lat": 35.0, "time": now, "alt_m": 6000.0, "alt_ref": "AMSL", "velocity": 250.0,
               "vertrate": 0.0}
        answer = httpx.post(demo_server.url + "/tracks", json={"states": [row]},
                            headers={"Authorization": f"Bearer {demo_server.tokens[party]}"})
        assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text
    _wait(page, "Number(document.body.dataset.conflicts) >= 1", 15_000)
    _wait(page, "Number(document.body.dataset.tracks) >= 2", 5_000)  # polled every second
    labels = page.locator(".track-label").all_text_contents()
    assert any("RUS11" in label for label in labels) and any("USA11" in label for label in labels)

    alerts = [a for a in _get(demo_server, "Russian Federation", "/alerts")
              if a["kind"] == "conflict" and set(a["subject"]) == {"map-ru-1", "map-us-1"}]
    assert len(alerts) == 1, alerts
    pending = _get(demo_server, "Russian Federation", "/messages?pending=true&limit=100")
    told = [m for m in pending if m["about"] == {"kind": "alert", "id": alerts[0]["id"]}]
    assert len(told) == 1, pending
    item = f"#messages li[data-id='{told[0]['id']}']"
    page.wait_for_selector(item, timeout=10_000)
    page.click(item)  # its subject highlighted on the map: the line and both tracks
    _wait(page, "Number(document.body.dataset.highlighted) >= 1", 5_000)
    before = _count(page, "inbox")
    page.click(f"{item} button[name=ack]")
    page.wait_for_selector(item, state="detached", timeout=10_000)
    assert _count(page, "inbox") == before - 1
    still = _get(demo_server, "Russian Federation", "/messages?pending=true&limit=100")
    assert told[0]["id"] not in {m["id"] for m in still}
    _only_the_server(demo_server, web_page)


def test_in_arabic_the_page_is_right_to_left_and_its_texts_are_the_catalogue_s(
    demo_server: DemoServer, web_page: BrowserPage
) -> None:
    page = _log_in(demo_server, web_page, "US-led Coalition")
    page.select_option("#language", "ar")
    _wait(page, "document.documentElement.dir === 'rtl'", 10_000)
    assert page.evaluate("document.documentElement.lang") == "ar"
    catalogue = httpx.get(demo_server.url + "/texts", params={"language": "ar"}).json()
    assert catalogue["dir"] == "rtl"
    shown = page.evaluate(
        "[...document.querySelectorAll('[data-text]')].map(e => [e.dataset.text, e.textContent])"
    )
    assert len(shown) >= 10
    for text_id, text in shown:
        assert text == catalogue["texts"][text_id], text_id
    assert page.title() == catalogue["texts"]["map.title"]
    # Mirrored: the inbox left of the map, the zoom buttons in the top right corner.
    inbox = page.locator("#inbox").bounding_box()
    map_box = page.locator("#map").bounding_box()
    assert inbox["x"] + inbox["width"] <= map_box["x"] + 1
    assert page.locator(".leaflet-top.leaflet-right .leaflet-control-zoom").count() == 1
    assert page.locator(".leaflet-top.leaflet-left .leaflet-control-layers").count() == 1
    # The messages come rendered in Arabic too (the register's templates).
    register = page.evaluate("[...document.querySelectorAll('#messages li p')].map(p => p.lang)")
    assert register and set(register) <= {"ar"}, register
    _only_the_server(demo_server, web_page)


def _converge(server: DemoServer, ids: tuple[str, str], lat: float) -> None:
    """Two tracks, one of each of two parties, head-on at one level 18 km apart, closing at
    500 m/s: a conflict within the look-ahead."""
    now = time.time()
    for party, track_id, lon, heading in (("Russian Federation", ids[0], 37.9, 90.0),
                                          ("US-led Coalition", ids[1], 38.1, 270.0)):
        row = {"id": track_id, "lon": lon, "heading": heading, "lat": lat, "time": now, "alt_m": 6000.0,
               "alt_ref": "AMSL", "velocity": 250.0, "vertrate": 0.0}
        answer = httpx.post(server.url + "/tracks", json={"states": [row]},
                            headers={"Authorization": f"Bearer {server.tokens[party]}"})
        assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text


def test_a_conflict_line_s_label_follows_a_switch_of_language(
    demo_server: DemoServer, web_page: BrowserPage
) -> None:
    page = _log_in(demo_server, web_page, "US-led Coalition")
    _converge(demo_server, ("map-ru-2", "map-us-2"), 34.0)
    line_label = ("[...document.querySelectorAll('.leaflet-tooltip')].map(e => e.textContent)"
                  ".filter(t => t.startsWith('map-ru-2 – map-us-2'))")
    _wait(page, f"{line_label}.length === 1", 15_000)

    def texts(language: str) -> tuple[str, str]:
        """The two forms of the label in ``language``: the part before {seconds}, and LoS."""
        catalogue = httpx.get(demo_server.url + "/texts", params={"language": language}).json()["texts"]
        return catalogue["map.conflict"].split("{")[0].strip(), catalogue["map.conflict_los"]

    (label,) = page.evaluate(line_label)
    assert any(text in label for text in texts(page.evaluate("document.documentElement.lang"))), label
    arabic = texts("ar")
    page.select_option("#language", "ar")
    _wait(page, "document.documentElement.dir === 'rtl'", 10_000)
    # The label is the page's, rendered from the catalogue: it follows the switch in place.
    _wait(page, f"{line_label}.some(t => t.includes({arabic[0]!r}) || t.includes({arabic[1]!r}))", 5_000)
    # So do the tracks' labels: the longest fixed part of the Arabic text in every one of them.
    catalogue = httpx.get(demo_server.url + "/texts", params={"language": "ar"}).json()["texts"]
    fixed = max((part.strip() for part in re.split(r"\{\w+\}", catalogue["map.track"])), key=len)
    tracks = "[...document.querySelectorAll('.track-label')].map(e => e.textContent)"
    _wait(page, f"{tracks}.length >= 2 && {tracks}.every(t => t.includes({fixed!r}))", 5_000)
    _only_the_server(demo_server, web_page)


def test_moving_the_time_slider_before_the_zones_start_hides_them(
    demo_server: DemoServer, web_page: BrowserPage
) -> None:
    page = _log_in(demo_server, web_page, "Syrian Arab Army")
    zones = [z for z in _get(demo_server, "Syrian Arab Army", "/zones") if z["state"] in DRAWN_STATES]
    _wait(page, f"document.body.dataset.zones === '{len(zones)}'", LOGIN_TIMEOUT_MS)
    page.focus("#slider")
    page.keyboard.press("Home")  # the slider's start: a day before the earliest volume
    _wait(page, "document.body.dataset.at !== 'live'", 10_000)
    _wait(page, "document.body.dataset.zones === '0'", 10_000)
    at = page.evaluate("document.body.dataset.at")
    assert _get(demo_server, "Syrian Arab Army", f"/zones?at={at}") == []
    assert _count(page, "operations") == 0
    # Forward to a moment when the demo's operations fly: the zones and operations in force
    # then, as the API gives them for the slider's moment.
    moment = _slide_to(page, "2017-07-10T11:00:00Z")
    assert moment.startswith("2017-07-10"), moment
    # Between 09:00 and 13:00 of the demo's day (tests/web/demo_history.py), where the zones
    # negotiated then stood otherwise than they stand now.
    assert "09:00" < moment[11:16] < "13:00", moment
    in_force = _get(demo_server, "Syrian Arab Army", f"/zones?at={moment}")
    operations = _get(demo_server, "Syrian Arab Army", f"/operations?at={moment}")
    assert in_force and operations
    _wait(page, f"document.body.dataset.zones === '{len(in_force)}'", 10_000)
    _wait(page, f"document.body.dataset.operations === '{len(operations)}'", 10_000)
    then = _drawn_as_the_api_gives(demo_server, page, "Syrian Arab Army", in_force)
    # Amended at 13:00: version 1 then, in force; signed by all at 13:30: proposed then.
    assert then["web-amended"]["version"] == 1 and then["web-amended"]["state"] == "active"
    assert then["web-signed-late"]["version"] == 1 and then["web-signed-late"]["state"] == "proposed"
    # Later that day, both in force: version 2 redrawn, though the current version is the same.
    later = _slide_to(page, "2017-07-10T15:00:00Z")
    assert "13:30" < later[11:16] < "17:00", later
    listed = _get(demo_server, "Syrian Arab Army", f"/zones?at={later}")
    _wait(page, f"document.body.dataset.zones === '{len([z for z in listed if z['state'] in DRAWN_STATES])}'",
          10_000)
    afternoon = _drawn_as_the_api_gives(demo_server, page, "Syrian Arab Army", listed)
    assert afternoon["web-amended"]["version"] == 2 and afternoon["web-signed-late"]["state"] == "active"
    assert afternoon["web-amended"]["shapes"] != then["web-amended"]["shapes"]
    page.keyboard.press("End")  # back to the live picture
    _wait(page, "document.body.dataset.at === 'live'", 10_000)
    _wait(page, f"document.body.dataset.zones === '{len(zones)}'", 10_000)
    now = _drawn_as_the_api_gives(demo_server, page, "Syrian Arab Army",
                                  _get(demo_server, "Syrian Arab Army", "/zones"))
    assert now["web-amended"]["version"] == 2 and now["web-signed-late"]["state"] != "proposed"
    _only_the_server(demo_server, web_page)


def _slide_to(page: Any, moment: str) -> str:
    """Put the slider on the notch nearest ``moment`` and give the moment the page then shows."""
    before = page.evaluate("document.body.dataset.at")
    page.evaluate(
        """(moment) => { const s = document.getElementById('slider'); const span = window.trucelineSpan();
        s.value = String(Math.round((Date.parse(moment) - span[0]) / (span[1] - span[0]) * 1000));
        s.dispatchEvent(new Event('change')); }""",
        moment,
    )
    _wait(page, f"document.body.dataset.at !== '{before}'", 10_000)
    return str(page.evaluate("document.body.dataset.at"))


def _drawn_as_the_api_gives(
    server: DemoServer, page: Any, reader: str, listed: list[dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """What the page draws of each zone (``window.trucelineZones``) is what the API gave: the
    version in force, else the current one, its shapes, and the state as the reader sees it
    (an active zone the reader has not signed is "declared": layers.js ``zoneState``)."""
    drawn = {z["id"]: z for z in page.evaluate("window.trucelineZones()")}
    expected = {}
    for zone in (z for z in listed if z["state"] in DRAWN_STATES):
        version = zone["active_version"] or zone["current_version"]
        versions = _get(server, reader, f"/zones/{zone['id']}/versions")
        (record,) = [v["zone"] for v in versions if v["version"] == version]
        state = zone["state"]
        if state == "active" and zone["binds"] != "all" and reader not in zone["binds"] \
                and zone["proposer"] != reader:
            state = "declared"
        expected[zone["id"]] = {"id": zone["id"], "version": version, "state": state,
                                "shapes": [v["shape"] for v in record["volumes"]]}
    assert drawn == expected
    return drawn
