"""The OpenAPI document describes the API as it answers: a model for every response body,
readable operationIds, every status a route can give; and the server keeps to it (405
with Allow, 415 for another media type, 422 for an unknown query parameter).
(schemathesis checks the lot: test_api_fuzz.py.)"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_kit import World, sqlite_url

_METHODS = ("get", "post", "put", "patch", "delete")
_EXPORTS = {
    "/incidents.csv": "text/csv",
    "/incidents.geojson": "application/geo+json",
    "/notifications.csv": "text/csv",  # HXL-tagged
}


@pytest.fixture
def world(tmp_path: Path, clock) -> Iterator[World]:
    w = World(sqlite_url(tmp_path), clock)
    w.add("admin", "admin")
    w.add("A")
    yield w
    w.close()


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in _METHODS:
                yield path, method, operation


def _problem(response: Any, status: int, slug: str, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:truceline:problem:{slug}" and body["field"] == field, body
    return body


def test_every_success_body_has_a_model(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    free_form = []
    for path, method, operation in _operations(document):
        for status, response in operation["responses"].items():
            if not status.startswith("2"):
                continue
            if path == "/stream":  # text/event-stream, no JSON body
                assert set(response["content"]) == {"text/event-stream"}
                continue
            if path in _EXPORTS:  # files in their own media type, described as such
                assert set(response["content"]) == {_EXPORTS[path]}
                continue
            if path == "/metrics":  # the Prometheus text formats (api/metrics.py)
                assert set(response["content"]) == {"text/plain", "application/openmetrics-text"}
                continue
            schema = response["content"]["application/json"]["schema"]
            items = schema.get("items", schema)
            if "$ref" not in items:
                free_form.append(f"{method.upper()} {path} {status}: {schema}")
    assert free_form == []
    # ... and the models carry examples (the zone list's, for one).
    assert document["components"]["schemas"]["ZoneOut"]["examples"][0]["origin"] == "negotiated"


def test_operation_ids_are_readable(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    ids = {(method, path): op["operationId"] for path, method, op in _operations(document)}
    assert ids[("get", "/zones")] == "list_zones"
    assert ids[("get", "/zones/{zone_id}")] == "get_zone"
    assert ids[("post", "/zones/{zone_id}/sign")] == "sign_zone"
    assert ids[("get", "/health")] == "get_health"
    assert len(set(ids.values())) == len(ids)
    # snake_case verbs, none of FastAPI's "<name>_<path>_<method>" spellings
    assert all(re.fullmatch(r"[a-z]+(_[a-z]+)*", i) for i in ids.values()), ids
    assert not [i for i in ids.values() if i.endswith(("_get", "_post", "_put"))]


def test_every_status_a_route_can_give_is_documented(world: World) -> None:
    document = world.client.get("/openapi.json").json()
    for path, method, operation in _operations(document):
        statuses = set(operation["responses"])
        assert {"405"} <= statuses, (method, path)
        assert "Allow" in operation["responses"]["405"]["headers"]
        if path == "/texts":  # no token needed; a parameter
            assert "422" in statuses
        elif path not in ("/health", "/metrics"):  # no token needed, no parameter
            assert {"401", "403", "422"} <= statuses, (method, path)
        if "{" in path:
            assert "404" in statuses, (method, path)
        if method in ("post", "put"):
            assert {"400", "409", "413", "415"} <= statuses, (method, path)


def test_another_method_is_405_with_allow_listing_every_method_of_the_path(world: World) -> None:
    # GET and POST /zones are two routes: Allow names both, not the first one matched.
    response = world.client.delete("/zones", headers=world.auth("A"))
    _problem(response, 405, "method-not-allowed", None)
    assert response.headers["allow"] == "GET, POST"
    response = world.client.put("/health")
    _problem(response, 405, "method-not-allowed", None)
    assert response.headers["allow"] == "GET"


def test_a_body_in_another_media_type_is_415(world: World) -> None:
    before = world.client.get("/log/sth", headers=world.auth("admin")).json()["tree_size"]
    body = '{"to": ["admin"], "text": "hello", "language": "en"}'
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml"):
        headers = world.auth("A", **{"Content-Type": content_type})
        response = world.client.post("/messages", content=body, headers=headers)
        _problem(response, 415, "unsupported-media-type", "Content-Type")
    # JSON, and a +json type, are read; nothing was written by the refusals.
    assert world.client.get("/log/sth", headers=world.auth("admin")).json()["tree_size"] == before
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        headers = world.auth("A", **{"Content-Type": content_type})
        assert world.client.post("/messages", content=body, headers=headers).status_code == 201


def test_an_unknown_query_parameter_is_refused_naming_it(world: World) -> None:
    response = world.client.get("/messages?pendng=true", headers=world.auth("A"))
    _problem(response, 422, "validation", "pendng")
    assert world.client.get("/messages?pending=true", headers=world.auth("A")).status_code == 200
    assert world.client.get("/zones/z/diff?from=1&to=1&x=2", headers=world.auth("A")).status_code == 422


def test_the_wire_keeps_absent_members_absent(world: World) -> None:
    # A message to a recipient has its deadline; the sender's view has deliveries instead,
    # and no recipient-only member turns up as null.
    auth = world.auth("A")
    sent = world.client.post(
        "/messages", json={"to": ["admin"], "text": "hello", "language": "en"}, headers=auth
    )
    message_id = sent.json()["id"]
    own = world.client.get(f"/messages/{message_id}", headers=auth).json()
    assert "deadline" not in own and "escalations" not in own
    assert own["from"] == "A" and [d["party"] for d in own["deliveries"]] == ["admin"]
    received = world.client.get(f"/messages/{message_id}", headers=world.auth("admin")).json()
    assert "deliveries" not in received and "deadline" in received
