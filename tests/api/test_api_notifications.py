"""Humanitarian notification end to end through HTTP, on SQLite and PostgreSQL (issue 14):
a convoy route is notified; two parties acknowledge its version, one does not and escalation
fires; a party files an operation crossing the route in its window: the conflict is raised
and told to both sides; the status question at a point on the route says who had
acknowledged which version by then, with proofs that verify, from the server and offline
from a log export; the log verifies afterwards."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from api_kit import World, op_doc, sqlite_url, square
from typer.testing import CliRunner

from truceline.cli import app as cli_app
from truceline.ledger.export import export_log, verify_export
from truceline.service.escalation import tick
from truceline.service.notifications import verify_status
from truceline.store.projections import snapshot

ROUTE = [[36.0, 35.0], [36.5, 35.2], [37.0, 35.0]]


def convoy(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "name": "Convoy 7",
        "organisation": "WFP",
        "departure": "2017-07-12T08:00:00Z",
        "arrival": "2017-07-12T14:00:00Z",
        "corridor_m": 500,
        "time_margin_s": 1800,
        "vehicles": 12,
        "markings": "white, blue emblem",
        "acknowledge_within_s": 600,
    }
    props.update(overrides)
    return {"type": "Feature", "geometry": {"type": "LineString", "coordinates": ROUTE}, "properties": props}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path, clock) -> Iterator[World]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    w = World(url, clock)
    w.add("WFP", "humanitarian")
    for name in ("A", "B", "C"):
        w.add(name)
    w.add("Audit", "auditor")
    yield w
    w.close()


def _inbox(world: World, name: str) -> list[dict[str, Any]]:
    r = world.client.get("/messages", headers=world.auth(name))
    assert r.status_code == 200, r.text
    return r.json()


def _templates(world: World, name: str) -> list[str]:
    return [m["body"].get("template") for m in _inbox(world, name)]


def test_convoy_scenario(world: World, tmp_path: Path) -> None:
    client = world.client
    r = client.post("/notifications", json=convoy(), headers=world.auth("WFP"))
    assert r.status_code == 201, r.text
    created = r.json()
    nid, digest = created["id"], created["hash"]
    assert created["recipients"] == ["A", "B", "C"]
    assert created["warnings"] == []  # two days ahead: more than the 48 h lead time
    assert "humanitarian.convoy" in _templates(world, "C")
    # The version is the ledger entry's leaf hash: the entry at the notification's index.
    entry_seq = client.get(f"/notifications/{nid}", headers=world.auth("A")).json()["seq"]
    leaf = client.get("/log/proof/inclusion", params={"index": entry_seq, "size": entry_seq + 1},
                      headers=world.auth("Audit")).json()  # fmt: skip
    assert leaf is not None

    # A party can acknowledge only the version that is: a wrong hash is a 409.
    r = client.post(f"/notifications/{nid}/acknowledge", json={"hash": "0" * 64}, headers=world.auth("A"))
    assert r.status_code == 409 and r.json()["field"] == "hash", r.text
    for name in ("A", "B"):
        r = client.post(f"/notifications/{nid}/acknowledge", json={"hash": digest}, headers=world.auth(name))
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "acknowledged" and r.json()["version"] == 1
    r = client.post(f"/notifications/{nid}/acknowledge", json={"hash": digest}, headers=world.auth("A"))
    assert r.status_code == 409, r.text  # once per version
    # The notifier is not a recipient, and nobody may "deny".
    r = client.post(f"/notifications/{nid}/acknowledge", json={"hash": digest}, headers=world.auth("WFP"))
    assert r.status_code == 403, r.text
    denied = client.post(f"/notifications/{nid}/deny", json={}, headers=world.auth("C"))
    assert denied.status_code in (404, 405)

    # C does not answer: after its 600 s deadline, its delivery escalates; WFP is told.
    world.clock.now += timedelta(seconds=601)
    result = tick(world.service, world.clock.now)
    assert [world.ids["C"]] == [recipient for _m, recipient in result.escalated]
    assert "message.escalated" in _templates(world, "WFP")
    shown = client.get(f"/notifications/{nid}", headers=world.auth("Audit")).json()
    states = {p["party"]: (p["state"], p["version"], p["escalations"]) for p in shown["parties"]}
    assert states == {"A": ("acknowledged", 1, 0), "B": ("acknowledged", 1, 0), "C": ("delivered", None, 1)}
    assert shown["status"] == "partly_acknowledged"

    # B files a ground operation across the route while the convoy passes: a conflict, told
    # to B and to WFP at once.
    plan = op_doc("op-b", "B", square(36.45, 35.15, 36.55, 35.25), lower_m=0, upper_m=500,
                  start="2017-07-12T10:00:00Z", end="2017-07-12T12:00:00Z", activity="ground")  # fmt: skip
    r = client.post("/operations", json=plan, headers=world.auth("B"))
    assert r.status_code == 201, r.text
    found = [c for c in r.json()["conflicts"] if c["kind"] == "humanitarian"]
    assert [(c["a"], c["b"], c["b_party"]) for c in found] == [("op-b", nid, "WFP")]
    assert "conflict.humanitarian" in _templates(world, "B")
    assert "conflict.humanitarian" in _templates(world, "WFP")
    assert "conflict.humanitarian" not in _templates(world, "A")
    # The same operation two days earlier meets nothing.
    early = op_doc("op-early", "B", square(36.45, 35.15, 36.55, 35.25), lower_m=0, upper_m=500,
                   start="2017-07-10T10:00:00Z", end="2017-07-10T12:00:00Z", activity="ground")  # fmt: skip
    r = client.post("/operations", json=early, headers=world.auth("B"))
    assert r.status_code == 201 and r.json()["conflicts"] == [], r.text

    # After the convoy has passed, C disputes: the status at a moment of the passage still
    # says C had not answered then.
    waypoint_times = shown["feature"]["properties"]["waypoint_times"]
    world.clock.now = datetime.fromisoformat("2017-07-12T16:00:00+00:00")
    r = client.post(f"/notifications/{nid}/dispute", json={"hash": digest, "reason": "route wrong at km 40"},
                    headers=world.auth("C"))  # fmt: skip
    assert r.status_code == 200 and r.json()["state"] == "disputed", r.text
    assert "notification.disputed" in _templates(world, "WFP")

    at = waypoint_times[1]  # the convoy is at the middle waypoint then
    params = {"at": at, "lon": ROUTE[1][0], "lat": ROUTE[1][1], "radius_m": 0}
    r = client.get("/notifications/status", params=params, headers=world.auth("Audit"))
    assert r.status_code == 200, r.text
    answer = r.json()
    assert [n["id"] for n in answer["notifications"]] == [nid]
    told = answer["notifications"][0]
    assert told["hash"] == digest and told["version"] == 1
    by_party = {p["party"]: p for p in told["parties"]}
    assert {k: (p["state"], p["hash"]) for k, p in by_party.items()} == {
        "A": ("acknowledged", digest), "B": ("acknowledged", digest), "C": ("delivered", None)
    }  # fmt: skip
    assert by_party["A"]["current_version_acknowledged"] and not by_party["C"]["current_version_acknowledged"]
    # Every proof leads to the signed tree head, and the head is the log's.
    assert verify_status(answer, world.register.ledger.public_key) == 3
    assert json.loads(told["proof"]["entry"])["type"] == "notification.submitted"
    assert json.loads(by_party["A"]["proof"]["entry"])["payload"]["hash"] == digest

    # Later, C's dispute shows; far from the route, or before departure, nothing is in force.
    later = {**params, "at": "2017-07-12T16:30:00Z", "lon": ROUTE[2][0], "lat": ROUTE[2][1]}
    later_answer = client.get("/notifications/status", params=later, headers=world.auth("Audit")).json()
    assert later_answer["notifications"] == []  # the convoy's window (and margin) has ended
    far = {**params, "lon": 36.5, "lat": 35.5}
    answered = client.get("/notifications/status", params=far, headers=world.auth("A")).json()
    assert answered["notifications"] == []
    near = {**far, "radius_m": 40_000}
    answered = client.get("/notifications/status", params=near, headers=world.auth("A")).json()
    assert [n["id"] for n in answered["notifications"]] == [nid]

    # The HXL export: header row, hashtag row, one row per notification.
    r = client.get("/notifications.csv", headers=world.auth("Audit"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv"), r.text
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[1] == ["#meta+id", "#org+name", "#loc+name", "#loc+type", "#geo+lat", "#geo+lon",
                       "#date+start", "#date+end", "#status"]  # fmt: skip
    assert [(row[0], row[1], row[2], row[8]) for row in rows[2:]] == [(nid, "WFP", "Convoy 7", "disputed")]
    assert float(rows[2][4]) == ROUTE[0][1] and float(rows[2][5]) == ROUTE[0][0]

    # The log verifies, the projections rebuild identically from it, and the same answer
    # comes offline from an export, proofs checked.
    with world.register.engine.connect() as conn:
        assert world.register.ledger.verify(conn) > 0
        export_log(conn, world.register.ledger, tmp_path / "export", world.clock.now)
        before = snapshot(conn)
    verify_export(tmp_path / "export")
    world.register.rebuild()
    with world.register.engine.connect() as conn:
        assert snapshot(conn) == before
    assert before["notifications"] and before["notification_responses"] and before["notification_versions"]
    out = CliRunner().invoke(
        cli_app,
        ["notifications", "status", "--export", str(tmp_path / "export"), "--at", at,
         "--lon", str(ROUTE[1][0]), "--lat", str(ROUTE[1][1]), "--json"],
    )  # fmt: skip
    assert out.exit_code == 0, out.output
    offline = json.loads(out.output)
    assert [(p["party"], p["state"], p["hash"]) for p in offline["notifications"][0]["parties"]] == [
        (p["party"], p["state"], p["hash"]) for p in told["parties"]
    ]
    assert offline["notifications"][0]["proof"]["leaf_index"] == told["proof"]["leaf_index"]
    out = CliRunner().invoke(
        cli_app,
        ["notifications", "status", "--export", str(tmp_path / "export"), "--at", at,
         "--lon", str(ROUTE[1][0]), "--lat", str(ROUTE[1][1])],
    )  # fmt: skip
    assert out.exit_code == 0 and "3 proofs verified" in out.output, out.output


def test_a_late_movement_is_accepted_with_a_warning(world: World) -> None:
    # Now is 2017-07-10T06:00Z; a departure 30 h later is short of 48 h, not of 24 h.
    late = convoy(departure="2017-07-11T12:00:00Z", arrival="2017-07-11T18:00:00Z")
    r = world.client.post("/notifications", json=late, headers=world.auth("WFP"))
    assert r.status_code == 201, r.text
    assert [w["field"] for w in r.json()["warnings"]] == ["properties.departure"]
    assert "48 h" in r.json()["warnings"][0]["message"]
    emergency = {**late, "properties": {**late["properties"], "emergency": True}}
    r = world.client.post("/notifications", json=emergency, headers=world.auth("WFP"))
    assert r.status_code == 201 and r.json()["warnings"] == [], r.text


def test_a_site_set_to_refuse_refuses_a_filing_and_a_new_site_meets_filed_operations(world: World) -> None:
    client = world.client
    plan = op_doc("op-a", "A", square(36.0, 35.0, 36.1, 35.1), start="2017-07-11T08:00:00Z",
                  end="2017-07-11T10:00:00Z")  # fmt: skip
    assert client.post("/operations", json=plan, headers=world.auth("A")).status_code == 201
    hospital = {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [36.05, 35.05]},
        "properties": {"name": "Al-Quds hospital", "organisation": "MSF", "site_type": "hospital",
                       "protection_radius_m": 300, "valid_from": "2017-07-10T00:00:00Z",
                       "on_conflict": "refuse"},
    }  # fmt: skip
    r = client.post("/notifications", json=hospital, headers=world.auth("WFP"))
    assert r.status_code == 201, r.text
    # Checked against what was already filed: op-a meets it, and A and WFP are told.
    assert [(c["kind"], c["a"]) for c in r.json()["conflicts"]] == [("humanitarian", "op-a")]
    assert "conflict.humanitarian" in _templates(world, "A")
    # The notifier set it to refuse: a new filing over it is refused (409, recorded).
    again = op_doc("op-c", "C", square(36.04, 35.04, 36.06, 35.06), start="2017-07-11T08:00:00Z",
                   end="2017-07-11T10:00:00Z")  # fmt: skip
    r = client.post("/operations", json=again, headers=world.auth("C"))
    assert r.status_code == 409, r.text
    assert "humanitarian" in r.json()["detail"]
    # A point 1 km away is outside the 300 m protection radius.
    away = op_doc("op-d", "C", square(36.06, 35.06, 36.07, 35.07), start="2017-07-11T08:00:00Z",
                  end="2017-07-11T10:00:00Z")  # fmt: skip
    assert client.post("/operations", json=away, headers=world.auth("C")).status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"corridor_m": 0}, "properties.corridor_m"),
        ({"arrival": "2017-07-12T07:00:00Z"}, "properties.arrival"),
        ({"departure": "2017-07-12T08:00:00"}, "properties.departure"),
        ({"acknowledge_within_s": 0}, "properties.acknowledge_within_s"),
        ({"site_type": "hospital"}, "properties.site_type"),
        ({"parties": ["Nobody"]}, "properties.parties[0]"),
        ({"waypoint_times": ["2017-07-12T08:00:00Z"]}, "properties.waypoint_times"),
    ],
)
def test_bad_notifications_name_the_field(world: World, change: dict[str, Any], field: str) -> None:
    r = world.client.post("/notifications", json=convoy(**change), headers=world.auth("WFP"))
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field, r.text


def test_only_humanitarians_notify_and_a_restricted_notification_is_need_to_know(world: World) -> None:
    assert world.client.post("/notifications", json=convoy(), headers=world.auth("A")).status_code == 403
    r = world.client.post("/notifications", json=convoy(parties=["A"]), headers=world.auth("WFP"))
    assert r.status_code == 201 and r.json()["recipients"] == ["A"], r.text
    nid = r.json()["id"]
    assert world.client.get(f"/notifications/{nid}", headers=world.auth("B")).status_code == 404
    assert world.client.get(f"/notifications/{nid}", headers=world.auth("A")).status_code == 200
    assert world.client.get("/notifications", headers=world.auth("B")).json() == []


def test_a_signed_acknowledgement_keeps_the_partys_request_in_the_ledger(world: World) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from test_api_signatures import signed

    from truceline.ledger.canonical import b64encode
    from truceline.ledger.keys import raw_public_key

    key = Ed25519PrivateKey.generate()
    world.add("S", request_key=b64encode(raw_public_key(key.public_key())))
    r = world.client.post("/notifications", json=convoy(parties=["S"]), headers=world.auth("WFP"))
    assert r.status_code == 201, r.text
    nid, digest = r.json()["id"], r.json()["hash"]
    path = f"/notifications/{nid}/acknowledge"
    body = json.dumps({"hash": digest}).encode()
    plain = {**world.auth("S"), "Content-Type": "application/json"}
    unsigned = world.client.post(path, content=body, headers=plain)
    assert unsigned.status_code == 401, unsigned.text  # a party holding a request key must sign
    headers = signed(key, world.ids["S"], world.clock.now, body, path=path)
    r = world.client.post(path, content=body, headers={**world.auth("S"), **headers})
    assert r.status_code == 200, r.text
    with world.register.engine.connect() as conn:
        entries = list(world.register.ledger.entries(conn))
    acknowledged = next(e for e in entries if e.type == "notification.acknowledged")
    assert acknowledged.payload["hash"] == digest and acknowledged.author == world.ids["S"]
    assert acknowledged.payload["request"]["body"].encode() == body
    assert acknowledged.payload["request"]["path"] == path
