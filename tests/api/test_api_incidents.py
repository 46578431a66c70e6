"""The observers' scenario over HTTP, on SQLite and PostgreSQL (issue 14, "Done when"):
three reports filed offline and uploaded twice (three stored), one resent with changed
text (409); two reports by different observers 800 m and 10 min apart suggested as
corroborating; a party disputes one; the zone's daily counts, one report possibly inside;
the CSV with ACLED's columns; every receipt verifies offline; the log verifies afterwards
and the projections rebuild identically."""

from __future__ import annotations

import copy
import csv
import io
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from api_kit import World, sqlite_url, square, zone_doc
from typer.testing import CliRunner

from truceline.cli import app as cli_app
from truceline.geo.geodesy import GEOD
from truceline.io.incidents import ACLED_COLUMNS
from truceline.ledger import export_log, verify_export
from truceline.ledger.canonical import b64encode
from truceline.store.projections import snapshot

ZONE = square(36.0, 35.0, 36.5, 35.5)


def instance() -> str:
    return f"uuid:{uuid.uuid4()}"


def feature(
    lon: float, lat: float, start: str, *, uncertainty_m: float = 200, **props: Any
) -> dict[str, Any]:
    properties = {
        "instance_id": instance(),
        "observed_start": start,
        "uncertainty_m": uncertainty_m,
        "category": "shelling",
        "observation": "seen",
        "description": "Impacts near the crossroads",
        "language": "en",
        **props,
    }
    return {
        "type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]}, "properties": properties
    }


def _size(world: World) -> int:
    return int(world.client.get("/health").json()["tree_size"])


def run_observers(world: World, tmp_path: Path) -> None:
    client = world.client
    for name, role in (
        ("O1", "observer"), ("O2", "observer"), ("A", "party"), ("B", "party"), ("G", "guarantor")
    ):
        world.add(name, role)
    # A zone in force: proposed by A, signed by A and B.
    r = client.post("/zones", json={"document": zone_doc("z-east", ZONE, party="A"), "signatories": ["B"]},
                    headers=world.auth("A"))  # fmt: skip
    assert r.status_code == 201, r.text
    for name in ("A", "B"):
        signed = client.post("/zones/z-east/sign", json={"version": 1, "hash": r.json()["hash"]},
                             headers=world.auth(name))  # fmt: skip
        assert signed.status_code == 200, signed.text

    # O1 files three reports offline: inside, on the eastern border (possibly inside), outside.
    queued = [
        feature(36.2, 35.2, "2017-07-10T08:00:00Z"),
        feature(36.5, 35.3, "2017-07-10T09:00:00Z", uncertainty_m=1500, category="small_arms"),
        feature(37.0, 35.2, "2017-07-10T10:00:00Z", category="access_denied", attributed_to="A"),
    ]
    first = client.post("/incidents/batch", json={"features": queued}, headers=world.auth("O1"))
    assert first.status_code == 200, first.text
    assert [item["status"] for item in first.json()] == [201, 201, 201]
    ids = [item["incident"]["id"] for item in first.json()]
    size = _size(world)
    # The link drops; the device uploads the same queue again: the first answers, nothing written.
    again = client.post("/incidents/batch", json={"features": queued}, headers=world.auth("O1"))
    assert [item["status"] for item in again.json()] == [200, 200, 200]
    assert [item["incident"]["id"] for item in again.json()] == ids
    assert [
        i["incident"]["receipt"] for i in again.json()
    ] == [i["incident"]["receipt"] for i in first.json()]
    assert _size(world) == size
    listed = client.get("/incidents", headers=world.auth("A")).json()
    assert sorted(i["id"] for i in listed) == sorted(ids)

    relations = {item["incident"]["id"]: item["incident"]["zones"] for item in first.json()}
    assert relations[ids[0]] == [{"zone_id": "z-east", "relation": "inside"}]
    assert relations[ids[1]] == [{"zone_id": "z-east", "relation": "possibly_inside"}]
    assert relations[ids[2]] == []

    # One resent with changed text: 409, nothing written.
    changed = copy.deepcopy(queued[0])
    changed["properties"]["description"] = "Impacts, and smoke"
    r = client.post("/incidents", json=changed, headers=world.auth("O1"))
    assert r.status_code == 409, r.text
    assert r.json()["field"] == "properties.instance_id"
    assert _size(world) == size
    # The same content alone: 200, the first answer.
    r = client.post("/incidents", json=queued[0], headers=world.auth("O1"))
    assert r.status_code == 200 and r.json()["id"] == ids[0]

    # O2, 800 m north-east of O1's first report and 10 minutes later: corroboration suggested.
    lon, lat, _ = GEOD.fwd(36.2, 35.2, 45.0, 800.0 + 2 * 200)  # 800 m between the two areas' edges
    r = client.post("/incidents", json=feature(lon, lat, "2017-07-10T08:10:00Z"), headers=world.auth("O2"))
    assert r.status_code == 201, r.text
    fourth = r.json()
    assert [c["incident_id"] for c in fourth["corroborations"]] == [ids[0]]
    assert fourth["corroborations"][0]["gap_m"] == pytest.approx(800, abs=5)
    assert fourth["corroborations"][0]["gap_s"] == 600
    assert fourth["state"] == "corroborated" and fourth["grade"] == "corroborated"
    one = client.get(f"/incidents/{ids[0]}", headers=world.auth("B")).json()
    assert one["state"] == "corroborated" and [
        s["step"] for s in one["steps"]
    ] == ["reported", "corroborated"]
    # O1's other reports are not near it; and O1's own reports never corroborate each other.
    assert client.get(f"/incidents/{ids[1]}", headers=world.auth("B")).json()["grade"] == "single_source"

    # B disputes O1's first report; an observer may not (403), nor may the reporter itself.
    r = client.post(f"/incidents/{ids[0]}/dispute", json={"reason": "No firing from our positions"},
                    headers=world.auth("B"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "disputed"
    assert r.json()["steps"][-1] == {**r.json()["steps"][-1], "step": "disputed", "party": "B",
                                     "reason": "No firing from our positions"}  # fmt: skip
    assert client.post(f"/incidents/{ids[0]}/dispute", json={"reason": "x"},
                       headers=world.auth("O2")).status_code == 403  # fmt: skip
    assert client.post(f"/incidents/{ids[0]}/dispute", json={"reason": "again"},
                       headers=world.auth("B")).status_code == 409  # fmt: skip
    # The guarantor verifies O2's report; O2 may not withdraw O1's.
    r = client.post(f"/incidents/{fourth['id']}/verify", headers=world.auth("G"))
    assert r.status_code == 200 and r.json()["grade"] == "verified", r.text
    assert client.post(f"/incidents/{ids[0]}/withdraw", headers=world.auth("O2")).status_code == 403

    # The zone's daily counts: three reports inside on the 10th (O1's first, O2's), one possibly inside.
    r = client.get(
        "/zones/z-east/incidents/stats?from=2017-07-09&to=2017-07-11&by=day", headers=world.auth("A")
    )
    assert r.status_code == 200, r.text
    stats = r.json()
    assert [p["start"] for p in stats["periods"]] == ["2017-07-09T00:00:00Z", "2017-07-10T00:00:00Z"]
    day = stats["periods"][1]
    assert day["inside"] == {"total": 2, "by_category": {"shelling": 2},
                             "by_state": {"disputed": 1, "verified": 1}}  # fmt: skip
    assert day["possibly_inside"] == {
        "total": 1, "by_category": {"small_arms": 1}, "by_state": {"reported": 1}
    }
    assert stats["periods"][0]["inside"]["total"] == 0
    assert stats["disputed_by_party"] == {"B": 1}
    assert stats["access_denied_by_party"] == {}  # the denial was outside the zone
    r = client.get("/incidents?zone=z-east&category=shelling", headers=world.auth("A"))
    assert sorted(i["id"] for i in r.json()) == sorted([ids[0], fourth["id"]])
    assert client.get("/zones/nowhere/incidents/stats?from=2017-07-09&to=2017-07-11",
                      headers=world.auth("A")).status_code == 404  # fmt: skip

    # The CSV opens with ACLED's columns.
    r = client.get("/incidents.csv", headers=world.auth("A"))
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0])[: len(ACLED_COLUMNS)] == list(ACLED_COLUMNS)
    by_id = {row["event_id_cnty"]: row for row in rows}
    assert set(by_id) == {*ids, fourth["id"]}
    assert by_id[ids[0]]["event_type"] == "Explosions/Remote violence"
    assert by_id[ids[0]]["event_date"] == "2017-07-10" and by_id[ids[0]]["source"] == "O1"
    assert by_id[ids[2]]["actor1"] == "A" and by_id[ids[1]]["geo_precision"] == "2"
    geojson = client.get("/incidents.geojson", headers=world.auth("A")).json()
    assert len(geojson["features"]) == 4

    # Every receipt verifies offline with the log's key; a tampered one fails.
    key = b64encode(world.register.ledger.public_key)
    runner = CliRunner()
    receipts = [item["incident"]["receipt"] for item in first.json()] + [fourth["receipt"]]
    for k, receipt in enumerate(receipts):
        path = tmp_path / f"receipt-{k}.json"
        path.write_text(json.dumps(receipt), encoding="utf-8")
        result = runner.invoke(cli_app, ["log", "verify-receipt", str(path), "--key", key])
        assert result.exit_code == 0, result.output
        assert "incident.reported" in result.output
    tampered = copy.deepcopy(receipts[0])
    tampered["entry"] = tampered["entry"].replace("Impacts", "Impacto")
    (tmp_path / "tampered.json").write_text(json.dumps(tampered), encoding="utf-8")
    result = runner.invoke(cli_app, ["log", "verify-receipt", str(tmp_path / "tampered.json"), "--key", key])
    assert result.exit_code == 1, result.output

    # The log verifies afterwards, and the projections rebuild identically from it.
    with world.register.engine.connect() as conn:
        export_log(conn, world.register.ledger, tmp_path / "export", world.clock())
        before = snapshot(conn)
    assert verify_export(tmp_path / "export").tree_size == _size(world)
    world.register.rebuild()
    with world.register.engine.connect() as conn:
        assert snapshot(conn) == before
    assert len(before["incidents"]) == 4 and before["incident_links"] and before["incident_zones"]


def test_observers_on_sqlite(tmp_path: Path, clock) -> None:
    world = World(sqlite_url(tmp_path), clock)
    try:
        run_observers(world, tmp_path)
    finally:
        world.close()


@pytest.mark.postgres
def test_observers_on_postgres(tmp_path: Path, clock, postgres_url: str) -> None:
    world = World(postgres_url, clock)
    try:
        run_observers(world, tmp_path)
    finally:
        world.close()
