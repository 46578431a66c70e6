"""ASTM F3548 over HTTP, on SQLite and on PostgreSQL: operations filed as F3548 documents
without an id or a manager (the URL and the caller give them), a USS manager name mapped to
its party by the party's uss_manager alias, priorities kept and compared, and the F3548
answers of GET /operations/{id} and GET /zones/{id}, validated against the F3548 schemas
(tests/f3548_schema.py, InterUSS's uas-standards)."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from api_kit import World, sqlite_url, square, zone_doc

from f3548_schema import check_constraint, check_operational_intent, volume4d
from truceline.geo.geoid import egm96
from truceline.io.f3548_out import F3548_MEDIA_TYPE, f3548_entity_id


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def world(request: pytest.FixtureRequest, tmp_path: Path, clock: object) -> Iterator[World]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    w = World(url, clock)
    w.add("A", uss_manager="uss.alpha.example")
    w.add("B")
    w.add("root", "admin")
    yield w
    w.close()


def details(priority: int | None = None, box: tuple[float, ...] = (36.1, 35.1, 36.2, 35.2)) -> dict:
    doc: dict[str, Any] = {"volumes": [volume4d(*box)], "off_nominal_volumes": []}
    if priority is not None:
        doc["priority"] = priority
    return doc


def file(world: World, who: str, operation_id: str, document: Any) -> Any:
    return world.client.post(f"/operations/{operation_id}", json=document, headers=world.auth(who))


def get_f3548(world: World, path: str, who: str = "A", **kwargs: Any) -> Any:
    return world.client.get(path, headers=world.auth(who, **kwargs.pop("headers", {})), **kwargs)


def test_a_document_without_id_or_manager_takes_them_from_the_url_and_the_caller(world: World) -> None:
    r = world.client.post("/operations/op-a", json=details(priority=5), headers=world.auth("A"))
    assert r.status_code == 201, r.text
    assert r.json()["operation_id"] == "op-a"
    plain = world.client.get("/operations/op-a", headers=world.auth("A")).json()
    assert plain["party"] == "A" and plain["priority"] == 5
    # without an id in the URL, a document that carries none is refused by name
    r = world.client.post("/operations", json=details(), headers=world.auth("A"))
    assert r.status_code == 422 and r.json()["field"] == "id", r.text
    # a bare Volume4D list and PutOperationalIntentReferenceParameters too
    r = file(world, "A", "op-list", [volume4d(36.3, 35.3, 36.4, 35.4)])
    assert r.status_code == 201, r.text
    put_params = {"extents": [volume4d(36.5, 35.5, 36.6, 35.6)], "state": "Accepted", "key": []}
    r = world.client.post("/operations/op-ref", json=put_params, headers=world.auth("A"))
    assert r.status_code == 201, r.text


def test_get_as_f3548_validates_and_carries_the_alias_version_and_priority(world: World) -> None:
    assert file(world, "A", "op-a", details(priority=5)).status_code == 201
    by_query = get_f3548(world, "/operations/op-a", params={"format": "f3548"})
    by_accept = get_f3548(world, "/operations/op-a", headers={"Accept": F3548_MEDIA_TYPE})
    for r in (by_query, by_accept):
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith(F3548_MEDIA_TYPE)
    assert by_query.json() == by_accept.json()
    intent = check_operational_intent(by_query.json())
    assert intent.reference.manager == "uss.alpha.example"
    assert intent.reference.id == f3548_entity_id("op-a")
    assert intent.reference.version == 1 and intent.reference.state == "Accepted"
    assert intent.reference.uss_base_url == "http://testserver"
    assert intent.details.priority == 5
    assert by_query.json()["details"]["volumes"] == details()["volumes"]
    # ?format=json wins over the Accept header
    accept = {"Accept": F3548_MEDIA_TYPE}
    plain = get_f3548(world, "/operations/op-a", params={"format": "json"}, headers=accept)
    assert plain.headers["content-type"].startswith("application/json") and plain.json()["id"] == "op-a"


def test_what_get_gives_can_be_put_back_as_the_next_version(world: World) -> None:
    assert file(world, "A", "op-a", details(priority=5)).status_code == 201
    written = get_f3548(world, "/operations/op-a", params={"format": "f3548"}).json()
    changed = copy.deepcopy(written)
    changed["details"]["priority"] = 7
    r = world.client.put("/operations/op-a", json=changed, headers=world.auth("A"))
    assert r.status_code == 200 and r.json()["version"] == 2, r.text
    again = check_operational_intent(get_f3548(world, "/operations/op-a", params={"format": "f3548"}).json())
    assert again.reference.version == 2 and again.details.priority == 7


def test_a_manager_maps_to_its_party_by_the_alias_and_no_other_party_may_use_it(world: World) -> None:
    intent = {
        "reference": {"id": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed", "manager": "uss.alpha.example"},
        "details": details(),
    }
    refused = world.client.post("/operations", json=intent, headers=world.auth("B"))
    assert refused.status_code == 422 and refused.json()["field"] == "reference.manager", refused.text
    accepted = world.client.post("/operations", json=intent, headers=world.auth("A"))
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["operation_id"] == "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed"
    named = {**intent, "reference": {"id": "1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bee", "manager": "A"}}
    assert world.client.post("/operations", json=named, headers=world.auth("A")).status_code == 201


def test_conflicts_say_which_side_has_priority(world: World) -> None:
    assert file(world, "A", "op-a", details(priority=5)).status_code == 201
    r = world.client.post("/operations/op-b", json=details(priority=2), headers=world.auth("B"))
    assert r.status_code == 201, r.text
    [conflict] = r.json()["conflicts"]
    assert (conflict["a"], conflict["b"], conflict["priority"]) == ("op-a", "op-b", "a")
    r = world.client.post("/operations/op-c", json=details(), headers=world.auth("B"))
    [conflict] = r.json()["conflicts"]
    assert conflict["b"] == "op-c" and conflict["priority"] is None  # op-c gives none


def test_another_partys_operation_is_not_given_as_f3548(world: World) -> None:
    assert world.client.post("/operations/op-a", json=details(), headers=world.auth("A")).status_code == 201
    assert world.client.post("/operations/op-b", json=details(), headers=world.auth("B")).status_code == 201
    redacted = get_f3548(world, "/operations/op-a", who="B", params={"format": "f3548"})
    assert redacted.status_code == 403 and redacted.json()["field"] == "format", redacted.text
    assert get_f3548(world, "/operations/nope", params={"format": "f3548"}).status_code == 404


def _w84_zone(zone_id: str, reference: str = "W84") -> dict:
    doc = zone_doc(zone_id, square(36.0, 35.0, 36.5, 35.5), party="A", kind="no_fly", upper_m=5000)
    doc["features"][0]["properties"]["altitude_reference"] = reference
    return doc


def test_a_zone_as_an_f3548_constraint(world: World) -> None:
    r = world.client.post("/zones", json={"document": _w84_zone("nfz")}, headers=world.auth("A"))
    assert r.status_code == 201, r.text
    answer = get_f3548(world, "/zones/nfz", who="B", headers={"Accept": F3548_MEDIA_TYPE})
    assert answer.status_code == 200 and answer.headers["content-type"].startswith(F3548_MEDIA_TYPE)
    found = check_constraint(answer.json())
    assert found.reference.manager == "uss.alpha.example" and found.reference.version == 1
    assert found.details.type == "no_fly"
    assert answer.json()["details"]["volumes"][0]["volume"]["altitude_upper"]["value"] == 5000
    assert "truceline-altitude-conversion" not in answer.headers  # W84 already: nothing converted


def test_an_amsl_zone_is_written_in_w84_widened_outward_and_the_header_says_so(world: World) -> None:
    r = world.client.post("/zones", json={"document": _w84_zone("amsl", "AMSL")}, headers=world.auth("A"))
    assert r.status_code == 201, r.text
    answer = get_f3548(world, "/zones/amsl", params={"format": "f3548"})
    assert answer.status_code == 200, answer.text
    volume = check_constraint(answer.json()).details.volumes[0].volume
    assert volume.altitude_lower.reference == "W84" and volume.altitude_upper.reference == "W84"
    # Over Syria (36-36.5 E, 35-35.5 N) EGM96 puts the geoid ~20-25 m above the ellipsoid: the
    # ceiling written in W84 is higher than 5000 m AMSL, and only ever widened, never lowered.
    lons, lats = np.meshgrid(np.linspace(36.0, 36.5, 11), np.linspace(35.0, 35.5, 11))
    separation = egm96().height_m(lons, lats)  # sampled, not the writer's own range
    lowest, highest = float(separation.min()), float(separation.max())
    assert 15 < lowest <= highest < 35
    assert volume.altitude_upper.value >= 5000 + highest
    assert volume.altitude_lower.value <= 0 + lowest
    [line] = answer.headers.get_list("truceline-altitude-conversion")
    assert "zone amsl" in line and "EGM96" in line and "AMSL 0 to 5000 m" in line


def test_parties_carry_their_uss_manager_alias(world: World) -> None:
    r = world.client.post(
        "/parties", json={"name": "C", "uss_manager": "uss.charlie.example"}, headers=world.auth("root")
    )
    assert r.status_code == 201 and r.json()["uss_manager"] == "uss.charlie.example", r.text
    taken = world.client.post(
        "/parties", json={"name": "D", "uss_manager": "uss.alpha.example"}, headers=world.auth("root")
    )
    assert taken.status_code == 409 and taken.json()["field"] == "uss_manager", taken.text
    parties = world.client.get("/parties", headers=world.auth("B")).json()
    listed = {p["name"]: p["uss_manager"] for p in parties}
    assert listed == {"A": "uss.alpha.example", "B": None, "root": None, "C": "uss.charlie.example"}


def test_the_openapi_document_describes_the_f3548_answers(world: World) -> None:
    spec = world.client.get("/openapi.json").json()
    for path in ("/operations/{operation_id}", "/zones/{zone_id}"):
        content = spec["paths"][path]["get"]["responses"]["200"]["content"]
        assert F3548_MEDIA_TYPE in content and "$ref" not in str(content[F3548_MEDIA_TYPE])
    assert "post" in spec["paths"]["/operations/{operation_id}"]


def test_priority_and_alias_survive_a_rebuild_from_the_ledger(world: World) -> None:
    assert file(world, "A", "op-a", details(priority=5)).status_code == 201
    entries = world.client.get("/operations/op-a/history", headers=world.auth("A")).json()
    assert entries[0]["operation"]["priority"] == 5  # in the ledger entry's operation record
    world.register.rebuild()
    [operation] = [o for o in world.register.operations() if o.id == "op-a"]
    assert operation.priority == 5
    [party] = [p for p in world.register.parties() if p.name == "A"]
    assert party.uss_manager == "uss.alpha.example"
