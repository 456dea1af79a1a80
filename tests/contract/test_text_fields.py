"""Every text field of every JSON request body refuses NUL, C0 and C1 control characters and
values past its ``maxLength`` with a 422 problem naming the field, on SQLite and PostgreSQL, and
changes nothing. The fields come from the OpenAPI document (``$ref``s resolved, nested objects and
arrays of objects walked); each operation's valid body comes from the table below."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.core.config import Settings
from app.core.schemas import CONTROL_CHARACTERS
from app.models.task import Task
from tests.factories import make_operator, make_project, open_batch, png, signup, upload, zip_of

PROBLEM = "application/problem+json"
CONTROLS = {"nul": "\u0000", "c0-bel": "\u0007", "c1-nel": "\u0085"}

Path = tuple[str, ...]
"""A field's place in a body: property names, ``"[]"`` for "each item of this array"."""


# --- the OpenAPI walk -------------------------------------------------------------------------


def _resolve(doc: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/components/schemas/"), ref
        node = doc["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return node


def text_fields(doc: dict[str, Any], node: dict[str, Any], path: Path = ()) -> dict[Path, Any]:
    """Each string field (not binary, not an enum) under ``node`` → its ``maxLength`` (or None)."""
    node = _resolve(doc, node)
    found: dict[Path, Any] = {}
    for key in ("anyOf", "oneOf", "allOf"):
        for variant in node.get(key, []):
            for p, limit in text_fields(doc, variant, path).items():
                if found.get(p) is None:
                    found[p] = limit
    for name, prop in node.get("properties", {}).items():
        found.update(text_fields(doc, prop, (*path, name)))
    if isinstance(node.get("items"), dict):
        found.update(text_fields(doc, node["items"], (*path, "[]")))
    if (
        node.get("type") == "string"
        and node.get("format") != "binary"
        and "enum" not in node
        and "const" not in node
    ):
        found.setdefault(path, node.get("maxLength"))
    return found


def json_operations(doc: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (method, path, JSON body schema) of every operation taking a JSON body."""
    ops = {}
    for route, item in doc["paths"].items():
        for method, op in item.items():
            content = (op.get("requestBody") or {}).get("content", {})
            if "application/json" in content:
                ops[op["operationId"]] = (
                    method.upper(),
                    route,
                    content["application/json"]["schema"],
                )
    return ops


# --- valid bodies, per operation ---------------------------------------------------------------


@dataclass
class World:
    """One of each role and the things the operations act on, built through the API."""

    client: TestClient
    settings: Settings
    _cache: dict[str, Any] = field(default_factory=dict)

    def _get(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    @property
    def requester(self) -> dict[str, str]:
        return dict(self._get("requester", lambda: signup(self.client, "requester")))

    @property
    def worker(self) -> dict[str, str]:
        return dict(self._get("worker", lambda: signup(self.client, "worker")))

    @property
    def operator(self) -> dict[str, str]:
        return dict(self._get("operator", lambda: make_operator(self.settings)))

    @property
    def project(self) -> dict[str, Any]:
        return dict(self._get("project", lambda: make_project(self.client, self.requester)))

    @property
    def batch(self) -> dict[str, Any]:
        return dict(
            self._get(
                "batch",
                lambda: upload(self.client, self.requester, self.project["id"], {"a.png": png()}),
            )
        )

    @property
    def assignment(self) -> str:
        """A leased assignment of the worker's, on a project of the requester's."""

        def make() -> str:
            project = make_project(self.client, self.requester, name="Leased")
            open_batch(self.client, self.requester, project["id"], 1)
            r = self.client.post(f"/v1/projects/{project['id']}/assignments", headers=self.worker)
            assert r.status_code == 201, r.text
            return str(r.json()["id"])

        return str(self._get("assignment", make))


PNG_B64 = base64.b64encode(png()).decode()
IMAGE_URL = "https://images.example/cat.png"
LABELS_B64 = base64.b64encode(b"image_name,label\ncat.png,cat\n").decode()


@dataclass
class Case:
    headers: Callable[[World], dict[str, str]]
    path: Callable[[World], str]
    bodies: list[dict[str, Any]]
    """Valid bodies; each field is tried in the first body that has it."""
    listing: Callable[[World], str] | None = None
    """A list endpoint (for the headers) that must show no new item after each refusal."""


CASES: dict[str, Case] = {
    "create_account_v1_accounts_post": Case(
        lambda w: {},
        lambda w: "/v1/accounts",
        [
            {
                "role": "requester",
                "name": "Ann Example",
                "email": "ann@mail.example",
                "password": "correct horse battery",
            }
        ],
    ),
    "sign_in_v1_sessions_post": Case(
        lambda w: {},
        lambda w: "/v1/sessions",
        [{"email": "ann@mail.example", "password": "correct horse battery"}],
    ),
    "create_api_key_v1_me_api_keys_post": Case(
        lambda w: w.requester,
        lambda w: "/v1/me/api-keys",
        [{"name": "ci key"}],
        listing=lambda w: "/v1/me/api-keys",
    ),
    "create_webhook_v1_webhooks_post": Case(
        lambda w: w.requester,
        lambda w: "/v1/webhooks",
        # An IP literal on the public internet: valid without asking DNS.
        [{"url": "https://93.184.216.34/hook", "events": ["batch.launched"], "secret": "s" * 20}],
        listing=lambda w: "/v1/webhooks",
    ),
    "create_deposit_v1_deposits_post": Case(
        lambda w: w.requester, lambda w: "/v1/deposits", [{"amount": "10.50"}]
    ),
    "create_payout_v1_payouts_post": Case(
        lambda w: w.worker, lambda w: "/v1/payouts", [{"amount": "5.00"}]
    ),
    "create_project_v1_projects_post": Case(
        lambda w: w.requester,
        lambda w: "/v1/projects",
        [
            {
                "name": "Pets",
                "instructions": "Pick the animal.",
                "reward": "0.02",
                "annotation": {"type": "classification", "labels": ["cat", "dog"]},
            },
            {"name": "Faces", "annotation": {"type": "keypoints", "keypoints": ["nose", "tail"]}},
        ],
        listing=lambda w: "/v1/projects",
    ),
    "update_project_v1_projects__project_id__patch": Case(
        lambda w: w.requester,
        lambda w: f"/v1/projects/{w.project['id']}",
        [
            {
                "name": "Pets again",
                "instructions": "Pick the animal.",
                "reward": "0.03",
                "status": "paused",
                "annotation": {"type": "classification", "labels": ["cat", "dog"]},
            },
            {"annotation": {"type": "keypoints", "keypoints": ["nose", "tail"]}},
        ],
    ),
    "create_model_v1_projects__project_id__models_post": Case(
        lambda w: w.requester,
        lambda w: f"/v1/projects/{w.project['id']}/models",
        [
            {"kind": "builtin", "name": "linear"},
            {"kind": "http", "name": "mine", "url": "https://models.example/predict"},
        ],
        listing=lambda w: f"/v1/projects/{w.project['id']}/models",
    ),
    "create_batch_v1_projects__project_id__batches_post": Case(
        lambda w: w.requester,
        lambda w: f"/v1/projects/{w.project['id']}/batches",
        [
            {"images": [{"name": "cat.png", "data_base64": PNG_B64}]},
            {"images": [{"name": "cat.png", "url": IMAGE_URL}]},
            {
                "images": [{"name": "cat.png", "data_base64": PNG_B64}],
                "labels": [{"name": "labels.csv", "data_base64": LABELS_B64}],
            },
        ],
        listing=lambda w: f"/v1/projects/{w.project['id']}/batches",
    ),
    "add_batch_images_v1_batches__batch_id__images_post": Case(
        lambda w: w.requester,
        lambda w: f"/v1/batches/{w.batch['id']}/images",
        [
            {"images": [{"name": "dog.png", "data_base64": PNG_B64}]},
            {"images": [{"name": "dog.png", "url": IMAGE_URL}]},
            {
                "images": [{"name": "dog.png", "data_base64": PNG_B64}],
                "labels": [{"name": "labels.csv", "data_base64": LABELS_B64}],
            },
        ],
    ),
    "create_gold_v1_projects__project_id__gold_post": Case(
        lambda w: w.requester,
        lambda w: f"/v1/projects/{w.project['id']}/gold",
        [
            {"name": "gold.png", "image_base64": PNG_B64, "answer": {"label": "cat"}},
            {"name": "gold.png", "image_url": IMAGE_URL, "answer": {"label": "cat"}},
        ],
    ),
    **{
        f"{name}_v1_assist_{name}_post": Case(
            lambda w: w.worker,
            lambda w, name=name: f"/v1/assist/{name}",  # type: ignore[misc]
            [{"assignment_id": "placeholder", "box": [2, 2, 20, 20], "label": "cat"}],
        )
        for name in ("box_to_polygon", "box_to_mask")
    },
    "superpixel_v1_assist_superpixel_post": Case(
        lambda w: w.worker,
        lambda w: "/v1/assist/superpixel",
        [{"assignment_id": "placeholder", "point": [5, 5], "label": "cat"}],
    ),
    "snap_v1_assist_snap_post": Case(
        lambda w: w.worker,
        lambda w: "/v1/assist/snap",
        [{"assignment_id": "placeholder", "point": [5, 5]}],
    ),
    "reject_v1_assignments__assignment_id__reject_post": Case(
        lambda w: w.requester,
        lambda w: f"/v1/assignments/{w.assignment}/reject",
        [{"reason": "Wrong label."}],
    ),
    "appeal_v1_assignments__assignment_id__appeal_post": Case(
        lambda w: w.worker,
        lambda w: f"/v1/assignments/{w.assignment}/appeal",
        [{"message": "It is a cat."}],
    ),
    "grant_appeal_v1_assignments__assignment_id__appeal_grant_post": Case(
        lambda w: w.requester,
        lambda w: f"/v1/assignments/{w.assignment}/appeal/grant",
        [{"reason": "Looks right."}],
    ),
    "deny_appeal_v1_assignments__assignment_id__appeal_deny_post": Case(
        lambda w: w.requester,
        lambda w: f"/v1/assignments/{w.assignment}/appeal/deny",
        [{"reason": "Looks wrong."}],
    ),
    "bonus_v1_assignments__assignment_id__bonus_post": Case(
        lambda w: w.requester,
        lambda w: f"/v1/assignments/{w.assignment}/bonus",
        [{"amount": "0.50", "reason": "Great work."}],
    ),
    "patch_settings_v1_admin_settings_patch": Case(
        lambda w: w.operator,
        lambda w: "/v1/admin/settings",
        [{"platform_fee": "0.10", "min_payout": "5"}],
    ),
    "ban_worker_v1_admin_workers__worker_id__ban_post": Case(
        lambda w: w.operator,
        lambda w: f"/v1/admin/workers/{w.worker['X-Test-Account-Id']}/ban",
        [{"reason": "Spam.", "project_id": "placeholder"}],
    ),
    "unban_worker_v1_admin_workers__worker_id__unban_post": Case(
        lambda w: w.operator,
        lambda w: f"/v1/admin/workers/{w.worker['X-Test-Account-Id']}/unban",
        [{"project_id": "placeholder"}],
    ),
}

NO_TEXT_FIELDS = {
    "release_v1_assignments__assignment_id__release_post": "empty body schema: no text field",
    "submit_v1_assignments__assignment_id__submit_post": (
        "the answer is free JSON in the schema (its shape is the project's); its texts are "
        "covered by test_answer_text_refuses_control_characters below"
    ),
}
"""JSON-body operations walked by no case, and why; each must still have no text field."""

PLACEHOLDERS: dict[str, Callable[[World], str]] = {
    "assignment_id": lambda w: w.assignment,
    "project_id": lambda w: w.project["id"],
}


def _fill(world: World, body: Any) -> Any:
    if isinstance(body, dict):
        return {
            k: PLACEHOLDERS[k](world) if v == "placeholder" else _fill(world, v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [_fill(world, v) for v in body]
    return body


def _has(body: Any, path: Path) -> bool:
    if not path:
        return isinstance(body, str)
    head, rest = path[0], path[1:]
    if head == "[]":
        return isinstance(body, list) and bool(body) and _has(body[0], rest)
    return isinstance(body, dict) and head in body and _has(body[head], rest)


def _replaced(body: Any, path: Path, make: Callable[[str], str]) -> Any:
    """A copy of ``body`` with the string at ``path`` (first item of each array) made anew."""
    if not path:
        return make(body)
    head, rest = path[0], path[1:]
    if head == "[]":
        return [_replaced(body[0], rest, make), *body[1:]]
    return {**body, head: _replaced(body[head], rest, make)}


def _names(problem: dict[str, Any], path: Path) -> bool:
    names = [p for p in path if p != "[]"]
    for error in problem.get("errors", []):
        loc = [str(part) for part in error.get("loc", [])]
        if loc and (loc[-1] == names[-1] or names[-1] in loc):
            return True
    return False


@pytest.fixture
def world(client: TestClient, settings: Settings) -> World:
    return World(client, settings)


@pytest.fixture
def doc(client: TestClient) -> dict[str, Any]:
    return client.app.openapi()  # type: ignore[attr-defined,no-any-return]


def test_every_json_body_operation_is_walked_or_skipped_with_a_reason(doc):
    ops = json_operations(doc)
    unknown = set(ops) - set(CASES) - set(NO_TEXT_FIELDS)
    assert not unknown, f"JSON-body operations with no valid body here (add to CASES): {unknown}"
    assert not (set(CASES) | set(NO_TEXT_FIELDS)) - set(ops), "cases for operations now gone"
    for op_id in NO_TEXT_FIELDS:
        assert not text_fields(doc, ops[op_id][2]), f"{op_id} has text fields now: walk it"
    for op_id in CASES:
        assert text_fields(doc, ops[op_id][2]), f"{op_id} has no text field: list it as skipped"


def _variants(value: str, limit: int | None) -> Iterator[tuple[str, str]]:
    for name, char in CONTROLS.items():
        yield name, f"{value[:1]}{char}{value[1:]}"
    if limit is not None:
        yield "too-long", value + "a" * (limit + 1 - len(value))


@pytest.mark.parametrize("op_id", sorted(CASES), ids=lambda op: op.split("_v1_")[0])
def test_text_fields_refuse_control_characters_and_overlong_values(op_id, doc, world):
    method, _, schema = json_operations(doc)[op_id]
    case = CASES[op_id]
    fields = text_fields(doc, schema)
    assert fields
    headers, url = case.headers(world), case.path(world)
    bodies = [_fill(world, body) for body in case.bodies]
    before = world.client.get(case.listing(world), headers=headers).json() if case.listing else None
    failures = []
    for path, limit in sorted(fields.items()):
        body = next((b for b in bodies if _has(b, path)), None)
        assert body is not None, f"{op_id}: no valid body has {'.'.join(path)}: add one to CASES"
        value = body
        for part in path:
            value = value[0] if part == "[]" else value[part]
        for variant, bad in _variants(value, limit):
            sent = _replaced(body, path, lambda _old, new=bad: new)  # type: ignore[misc]
            r = world.client.request(method, url, json=sent, headers=headers)
            where = f"{'.'.join(path)} {variant}: {r.status_code} {r.text[:300]}"
            if r.status_code != 422:
                failures.append(where)
            elif not r.headers["content-type"].startswith(PROBLEM):
                failures.append(f"{where} (content-type {r.headers['content-type']})")
            elif not _names(r.json(), path):
                failures.append(f"{where} (errors do not name the field)")
    assert not failures, "\n".join(failures)
    if case.listing:
        after = world.client.get(case.listing(world), headers=headers).json()
        assert after == before
    # The valid body itself is not refused as a body: the walk tested one field at a time.
    r = world.client.request(method, url, json=bodies[0], headers=headers)
    assert r.status_code < 500, r.text
    if r.status_code == 422:
        loc_fields = {str(e.get("loc", [""])[-1]) for e in r.json().get("errors", [])}
        assert not loc_fields & {p[-1] for p in fields}, r.text
    # A value of exactly ``maxLength`` is not refused for its length, and where it is stored
    # its column holds it (PostgreSQL refuses a value wider than its varchar: a 500).
    for path, limit in sorted(fields.items()):
        if limit is None:
            continue
        body = next(b for b in bodies if _has(b, path))
        sent = _replaced(body, path, lambda old, n=limit: (old + "a" * n)[:n])  # type: ignore[misc]
        r = world.client.request(method, url, json=sent, headers=headers)
        where = f"{'.'.join(path)} at its maxLength {limit}: {r.status_code} {r.text[:300]}"
        too_long = r.status_code == 422 and "at most" in r.text and _names(r.json(), path)
        if r.status_code >= 500 or too_long:
            failures.append(where)
    assert not failures, "\n".join(failures)


def test_answer_text_refuses_control_characters(world):
    r = world.client.post(
        f"/v1/assignments/{world.assignment}/submit",
        json={"answer": {"label": "c\u0000at"}},
        headers=world.worker,
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert any("answer" in [str(p) for p in e["loc"]] for e in r.json()["errors"])
    r = world.client.get("/v1/me/assignments", headers=world.worker)
    assert [a["status"] for a in r.json()["items"]] == ["leased"]


# --- multipart forms ---------------------------------------------------------------------------


@pytest.mark.parametrize("form_field", ["answer", "pre_annotation"])
@pytest.mark.parametrize("variant", sorted(CONTROLS))
def test_gold_form_json_values_refuse_control_characters(world, session, form_field, variant):
    char = CONTROLS[variant]
    data = {"answer": json.dumps({"label": "cat"})}
    data[form_field] = json.dumps({"label": f"c{char}at"})
    pid = world.project["id"]
    r = world.client.post(
        f"/v1/projects/{pid}/gold",
        data=data,
        files={"file": ("gold.png", png(), "image/png")},
        headers=world.requester,
    )
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    assert any(form_field in [str(p) for p in e["loc"]] for e in r.json()["errors"]), r.text
    assert session.scalar(select(func.count()).select_from(Task)) == 0


@pytest.mark.parametrize("variant", sorted(CONTROLS))
@pytest.mark.parametrize("where", ["file-name", "zip-entry-name"])
def test_batch_form_control_characters_in_names_are_no_5xx(world, variant, where):
    """Names come from the upload (the file's name, a zip entry's path): the server keeps the
    image and cleans its name (app.images.names.clean_name: NUL becomes ``%00``), so the stored
    name carries no control character; never a 5xx."""
    char = CONTROLS[variant]
    name = f"c{char}at.png"
    if where == "file-name":
        files = [("files", (name, png(), "image/png"))]
    else:
        files = [("files", ("pets.zip", zip_of({name: png()}), "application/zip"))]
    pid = world.project["id"]
    r = world.client.post(f"/v1/projects/{pid}/batches", files=files, headers=world.requester)
    assert r.status_code == 201, r.text
    r = world.client.get(
        f"/v1/batches/{r.json()['id']}/results", params={"format": "json"}, headers=world.requester
    )
    assert r.status_code == 200, r.text
    names = [item["image_name"] for item in r.json()["items"]]
    assert len(names) == 1
    assert not CONTROL_CHARACTERS.search(names[0]), names
    assert names[0].startswith("c"), names
    assert names[0].endswith(".png"), names


def test_project_listing_unchanged_after_refused_create(world):
    """One representative create checked end to end: refused, and nothing new anywhere."""
    before = world.client.get("/v1/projects", headers=world.requester).json()
    r = world.client.post(
        "/v1/projects",
        json={"name": f"P{uuid.uuid4().hex[:4]}\u0000", "annotation": {"type": "classification"}},
        headers=world.requester,
    )
    assert r.status_code == 422
    assert world.client.get("/v1/projects", headers=world.requester).json() == before
