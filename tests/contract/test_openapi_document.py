"""The OpenAPI document is valid, every ``$ref`` resolves, and it says what the server does."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from tests.factories import make_project, png, signup

PROBLEM = "application/problem+json"


@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    r = client.get("/openapi.json")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = doc
    for part in ref[2:].split("/"):
        assert isinstance(node, dict), f"{ref} does not resolve"
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_document_is_valid_openapi(doc):
    validate(doc)


def test_every_ref_resolves(doc):
    refs = set(_refs(doc))
    assert "#/components/schemas/BatchCreateJSON" in refs
    for ref in refs:
        _resolve(doc, ref)


def test_every_error_is_a_problem_and_422_lists_errors(doc):
    for method, path, op in _operations(doc):
        for status, response in op["responses"].items():
            if status[0] not in "45":
                continue
            content = response.get("content", {})
            assert list(content) == [PROBLEM], (method, path, status)
            ref = content[PROBLEM]["schema"]["$ref"]
            wanted = "ValidationProblem" if status == "422" else "Problem"
            assert ref == f"#/components/schemas/{wanted}", (method, path, status)
    schema = doc["components"]["schemas"]["ValidationProblem"]
    assert "errors" in schema["properties"]
    assert "HTTPValidationError" not in doc["components"]["schemas"]


def test_statuses_follow_from_dependencies_and_errors(doc):
    responses = {(m, p): set(op["responses"]) for m, p, op in _operations(doc)}
    # An authenticated route with a role: 401 and 403; the database: 503; a path id: 404.
    assert {"401", "403", "404", "422", "503"} <= responses[
        ("POST", "/v1/batches/{batch_id}/launch")
    ]
    # A body: 413 too.
    assert "413" in responses[("POST", "/v1/projects")]
    # No credentials needed: no 401.
    assert "401" not in responses[("POST", "/v1/accounts")]
    assert responses[("GET", "/healthz")] == {"200"}


def test_multipart_bodies_are_declared_as_parsed(doc):
    paths = doc["paths"]
    gold = paths["/v1/projects/{project_id}/gold"]["post"]["requestBody"]["content"]
    form = gold["multipart/form-data"]["schema"]
    assert set(form["properties"]) == {"file", "answer", "pre_annotation"}
    assert set(form["required"]) == {"file", "answer"}
    assert form["additionalProperties"] is False
    assert gold["application/json"]["schema"]["$ref"] == "#/components/schemas/GoldJSON"
    batch = paths["/v1/projects/{project_id}/batches"]["post"]["requestBody"]["content"]
    batch_form = batch["multipart/form-data"]["schema"]["properties"]
    assert set(batch_form) == {"files", "labels_format"}
    assert "yolo" in batch_form["labels_format"]["enum"]


def test_reward_constraint_is_in_the_schema(doc):
    import re

    reward = doc["components"]["schemas"]["ProjectCreate"]["properties"]["reward"]
    pattern = reward["pattern"]
    for ok in ("0.02", "100", "0.000001", "99.5"):
        assert re.search(pattern, ok), ok
    for bad in ("0", "0.0", "100.01", "-1", "1e3", " 1"):
        assert not re.search(pattern, bad), bad


def test_schema_pattern_is_the_rule(client: TestClient) -> None:
    requester = signup(client, "requester")
    for reward in ("0", "100.5", " 0.02"):
        r = client.post(
            "/v1/projects",
            json={
                "name": "p",
                "annotation": {"type": "classification", "labels": ["a", "b"]},
                "reward": reward,
            },
            headers=requester,
        )
        assert r.status_code == 422, (reward, r.text)
        assert r.json()["errors"][0]["loc"][:2] == ["body", "reward"]


def test_405_allows_every_method_of_the_path(client: TestClient) -> None:
    r = client.put("/v1/projects/prj_x")
    assert r.status_code == 405
    assert r.headers["content-type"].startswith(PROBLEM)
    allowed = {m.strip() for m in r.headers["Allow"].split(",")}
    assert {"GET", "PATCH", "HEAD"} <= allowed
    r = client.delete("/v1/projects")
    assert {m.strip() for m in r.headers["Allow"].split(",")} >= {"GET", "POST"}


@pytest.mark.parametrize(
    ("path", "files", "data"),
    [
        ("batches", {"files": ("a.png", png(), "image/png")}, {"status": "open"}),
        ("batches", {"files": ("a.png", png(), "image/png")}, {"is_gold": "true"}),
        ("gold", {"file": ("a.png", png(), "image/png")}, {"answer": '{"label": "cat"}', "x": "1"}),
    ],
)
def test_unknown_multipart_fields_are_refused(
    client: TestClient, path: str, files: dict[str, Any], data: dict[str, str]
) -> None:
    requester = signup(client, "requester")
    project = make_project(client, requester)
    r = client.post(
        f"/v1/projects/{project['id']}/{path}", files=files, data=data, headers=requester
    )
    assert r.status_code == 422, r.text
    unknown = next(k for k in data if k not in ("answer",))
    assert r.json()["errors"] == [{"loc": ["body", unknown], "msg": "unknown field"}]
    listed = client.get(f"/v1/projects/{project['id']}", headers=requester)
    assert listed.status_code == 200


def test_patch_with_an_empty_nested_object_takes_its_defaults(client: TestClient) -> None:
    # Found by schemathesis: {"qualification": {}} was a 500 (half a qualification applied).
    requester = signup(client, "requester")
    project = make_project(client, requester)
    r = client.patch(f"/v1/projects/{project['id']}", json={"qualification": {}}, headers=requester)
    assert r.status_code == 200, r.text
    assert r.json()["qualification"] == {"gold_tasks": 0, "min_accuracy": 0.8}


@pytest.mark.parametrize("path", ["batches", "gold"])
def test_a_body_that_is_not_utf8_is_refused_not_a_500(client: TestClient, path: str) -> None:
    # Found by schemathesis: json.loads on non-UTF-8 bytes raised UnicodeDecodeError, a 500.
    requester = signup(client, "requester")
    project = make_project(client, requester)
    r = client.post(
        f"/v1/projects/{project['id']}/{path}",
        content=b"\xff\xfe",
        headers={**requester, "Content-Type": "application/json"},
    )
    assert r.status_code == 422, r.text


def test_links_chain_the_workflow(doc: dict[str, Any]) -> None:
    """The links (app/core/links.py) are in the document, each naming an operation that exists,
    and they chain create project -> upload -> launch -> lease -> submit -> accept -> payout."""
    by_id = {op["operationId"]: (method, path) for method, path, op in _operations(doc)}
    edges: set[tuple[tuple[str, str], tuple[str, str]]] = set()
    for method, path, op in _operations(doc):
        for response in op["responses"].values():
            for link in response.get("links", {}).values():
                assert link["operationId"] in by_id, link
                edges.add(((method, path), by_id[link["operationId"]]))
    chain = [
        ("POST", "/v1/projects"),
        ("POST", "/v1/projects/{project_id}/batches"),
        ("POST", "/v1/batches/{batch_id}/launch"),
        ("POST", "/v1/projects/{project_id}/assignments"),
        ("POST", "/v1/assignments/{assignment_id}/submit"),
        ("POST", "/v1/assignments/{assignment_id}/accept"),
        ("POST", "/v1/payouts"),
        ("GET", "/v1/payouts/{payout_id}"),
    ]
    for source, target in itertools.pairwise(chain):
        assert (source, target) in edges, (source, target)
    assert (("POST", "/v1/deposits"), ("GET", "/v1/me")) in edges


def test_a_link_to_nothing_is_refused() -> None:
    from app.core.links import Link
    from app.core.openapi import add_links

    doc: dict[str, Any] = {
        "paths": {
            "/a": {"post": {"operationId": "a", "responses": {"201": {}}}},
            "/b/{b_id}": {
                "get": {
                    "operationId": "b",
                    "parameters": [{"name": "b_id", "in": "path"}],
                    "responses": {"200": {}},
                }
            },
        }
    }
    for bad in (
        Link("POST /a", "201", "ToB", "GET /b/{b_id}"),  # the path parameter is not given
        Link("POST /a", "200", "ToB", "GET /b/{b_id}", {"b_id": "$response.body#/id"}),
        Link("POST /a", "201", "ToC", "GET /c", {}),
        Link("POST /a", "201", "ToB", "GET /b/{b_id}", {"x": "$response.body#/id"}),
    ):
        with pytest.raises(ValueError, match=r"^link "):
            add_links(doc, [bad])
    add_links(doc, [Link("POST /a", "201", "ToB", "GET /b/{b_id}", {"b_id": "$response.body#/id"})])
    assert doc["paths"]["/a"]["post"]["responses"]["201"]["links"]["ToB"]["operationId"] == "b"


def test_json_downloads_are_declared_in_their_shape(doc: dict[str, Any]) -> None:
    """format=coco and format=labelstudio answer application/json that is not a ResultPage: the
    200 says so (each JSON export format declares its document's schema)."""
    from app.annotations.registry import annotation_kinds

    for kind in annotation_kinds():
        for name, fmt in kind.formats.items():
            if fmt.media_type == "application/json":
                assert fmt.json_schema is not None, (kind.name, name)
    op = doc["paths"]["/v1/batches/{batch_id}/results"]["get"]
    variants = op["responses"]["200"]["content"]["application/json"]["schema"]["anyOf"]
    titles = {v.get("title") or v.get("$ref") for v in variants}
    assert titles == {"#/components/schemas/ResultPage", "CocoDocument", "LabelStudioTasks"}


def test_a_required_text_is_not_blank_in_the_schema_and_the_server(
    doc: dict[str, Any], client: TestClient
) -> None:
    """The server strips whitespace before it counts: a required name of only spaces is refused,
    and the schema's pattern refuses it too (else schemathesis finds valid data refused)."""
    import re

    worker = signup(client, "worker")
    name = doc["components"]["schemas"]["ApiKeyCreate"]["properties"]["name"]
    for blank in (" ", "\t", " \n\u3000"):
        assert not re.search(name["pattern"], blank)
        r = client.post("/v1/me/api-keys", json={"name": blank}, headers=worker)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["loc"] == ["body", "name"]
    assert re.search(name["pattern"], " key ")


def test_an_empty_idempotency_key_is_refused_as_the_schema_says(
    doc: dict[str, Any], client: TestClient
) -> None:
    requester = signup(client, "requester")
    params = doc["paths"]["/v1/deposits"]["post"]["parameters"]
    key = next(p for p in params if p["name"] == "Idempotency-Key")
    assert key["schema"]["anyOf"][0]["minLength"] == 1
    r = client.post(
        "/v1/deposits", json={"amount": "1"}, headers={**requester, "Idempotency-Key": ""}
    )
    assert r.status_code == 422, r.text
