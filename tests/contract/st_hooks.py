"""schemathesis hooks for tests/contract/fuzz.py: each operation is called as its role; in the
stateful phase, valid bodies for the calls that need the state (see below)."""

from __future__ import annotations

import base64
import io
import json
import os
import re
from typing import Any

import schemathesis
from hypothesis import strategies as st

KEYS: dict[str, str] = json.loads(os.environ.get("TESSERA_FUZZ_KEYS", "{}"))
ROLE = os.environ.get("TESSERA_FUZZ_ROLE", "auto")

_WORKER = re.compile(
    r"^/v1/(projects/\{project_id\}/assignments|assignments/\{assignment_id\}/(submit|release|appeal)"
    r"|me/assignments|me/skills|payouts.*|assist/.*)$"
)


def role_for(method: str, path: str) -> str:
    if ROLE != "auto":
        return ROLE
    if path.startswith("/v1/admin"):
        return "operator"
    if _WORKER.match(path) and not (path.endswith("/assignments") and method == "GET"):
        return "worker"
    return "requester"


def _set(case: Any, key: str) -> None:
    case.headers = {**(case.headers or {}), "Authorization": f"Bearer {key}"}


@schemathesis.auth(refresh_interval=None).apply_to(
    lambda ctx: role_for(ctx.operation.method.upper(), ctx.operation.path) == "operator"
)
class OperatorAuth:
    def get(self, case: Any, ctx: Any) -> str:
        return KEYS["operator"]

    def set(self, case: Any, data: str, ctx: Any) -> None:
        _set(case, data)


@schemathesis.auth(refresh_interval=None).apply_to(
    lambda ctx: role_for(ctx.operation.method.upper(), ctx.operation.path) == "worker"
)
class WorkerAuth:
    def get(self, case: Any, ctx: Any) -> str:
        return KEYS["worker"]

    def set(self, case: Any, data: str, ctx: Any) -> None:
        _set(case, data)


@schemathesis.auth(refresh_interval=None).apply_to(
    lambda ctx: role_for(ctx.operation.method.upper(), ctx.operation.path) == "requester"
)
class RequesterAuth:
    def get(self, case: Any, ctx: Any) -> str:
        return KEYS["requester"]

    def set(self, case: Any, data: str, ctx: Any) -> None:
        _set(case, data)


# Stateful phase: valid bodies in valid states. The links (app/core/links.py) carry the ids from
# one response to the next call; what no link can carry is a body that fits the state: a project
# of a registered annotation type, real images, an answer in the leased project's shape. For
# the operations below, a positive case's body is (by a coin schemathesis draws) replaced with
# such a body, from the registry's examples (valid on a 100 x 80 image), so the chain goes on
# past creating a project. Each response that names a project type is remembered for later.

_PROJECT_SPECS: dict[str, dict[str, Any]] = {}
"""project id -> annotation spec, from the projects this run created or changed."""
_LEASES: dict[str, dict[str, Any]] = {}
"""assignment id -> the leased task's annotation spec."""
REACHED_FILE = os.environ.get("TESSERA_FUZZ_REACHED", "")
"""Where to append ``METHOD path status`` of every stateful response (for the test)."""


def _image(seed: int) -> bytes:
    """A real 100 x 80 PNG (the size the registry's example answers are drawn on)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (100, 80), (40 + 50 * (seed % 4), 90, 160 - 30 * (seed % 5)))
    ImageDraw.Draw(image).rectangle((20 + seed % 10, 15, 70, 60), fill=(230, 220, 40))
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def _kinds() -> tuple[Any, ...]:
    from app.annotations.registry import annotation_kinds

    return annotation_kinds()


def _kind(name: str | None) -> Any:
    from app.annotations.registry import annotation_kind

    return annotation_kind(name) if name else None


def _label(case: Any) -> str:
    return f"{case.method.upper()} {case.operation.path}"


def _is_stateful_positive(case: Any) -> bool:
    meta = case.meta
    return (
        meta is not None
        and meta.phase.name == "stateful"
        and meta.generation.mode.is_positive
        and not any(c.mode.is_negative for c in meta.components.values())
    )


def _body(case: Any) -> dict[str, Any]:
    return dict(case.body) if isinstance(case.body, dict) else {}


def _project(case: Any, draw: Any) -> None:
    kind = draw(st.sampled_from(_kinds()))
    case.media_type = "application/json"
    case.body = {
        **_body(case),
        "name": f"fuzz {kind.name}",
        "annotation": dict(kind.example_spec),
        "reward": "0.05",
        "overlap": {"min": 1, "max": draw(st.integers(1, 3))},
        "qualification": {"gold_tasks": 0},
    }


def _batch(case: Any, draw: Any) -> None:
    count = draw(st.integers(2, 5))
    seeds = [draw(st.integers(0, 10_000)) for _ in range(count)]
    if draw(st.booleans()):
        case.media_type = "multipart/form-data"
        case.body = {"files": [_image(seed) for seed in seeds]}
    else:
        case.media_type = "application/json"
        images = [
            {"name": f"img{i}-{seed}.png", "data_base64": base64.b64encode(_image(seed)).decode()}
            for i, seed in enumerate(seeds)
        ]
        case.body = {"images": images}


def _relabel(value: Any, renames: dict[str, str]) -> Any:
    if isinstance(value, str):
        return renames.get(value, value)
    if isinstance(value, dict):
        return {key: _relabel(item, renames) for key, item in value.items()}
    if isinstance(value, list):
        return [_relabel(item, renames) for item in value]
    return value


def _answer(spec: dict[str, Any] | None, draw: Any) -> dict[str, Any] | None:
    """One of the registry's example answers of the spec's type, in the spec's own labels (a
    PATCH may have renamed them)."""
    if spec is None:
        return None
    kind = _kind(spec.get("type"))
    example_labels = list(kind.example_spec.get("labels", []))
    labels = list(spec.get("labels") or example_labels)
    renames = {old: labels[i % len(labels)] for i, old in enumerate(example_labels)}
    return dict(_relabel(draw(st.sampled_from(kind.example_answers)), renames))


def _gold(case: Any, draw: Any) -> None:
    answer = _answer(_PROJECT_SPECS.get(case.path_parameters.get("project_id", "")), draw)
    if answer is None:
        return
    case.media_type = "multipart/form-data"
    case.body = {"file": _image(draw(st.integers(0, 10_000))), "answer": json.dumps(answer)}


def _submit(case: Any, draw: Any) -> None:
    answer = _answer(_LEASES.get(case.path_parameters.get("assignment_id", "")), draw)
    if answer is None:
        return
    case.media_type = "application/json"
    case.body = {"answer": answer}


def _assist(case: Any, draw: Any) -> None:
    body = _body(case)
    spec = _LEASES.get(str(body.get("assignment_id", "")))
    if spec is None or not spec.get("labels"):
        return
    label = draw(st.sampled_from(spec["labels"]))
    if case.operation.path.endswith(("box_to_polygon", "box_to_mask")):
        body.update(box=[20, 15, 50, 45], label=label)
    elif case.operation.path.endswith("superpixel"):
        body.update(point=[45, 35], label=label, segments=100)
    else:
        body.update(point=[20, 15], radius=8)
    case.body = body


def _bonus(case: Any, draw: Any) -> None:
    case.body = {"amount": draw(st.sampled_from(["0.01", "0.25"])), "reason": "careful work"}


def _payout(case: Any, draw: Any) -> None:
    case.body = draw(st.sampled_from([{}, {"amount": "0.01"}]))


_VALID: dict[str, Any] = {
    "POST /v1/projects": _project,
    "POST /v1/projects/{project_id}/batches": _batch,
    "POST /v1/batches/{batch_id}/images": _batch,
    "POST /v1/projects/{project_id}/gold": _gold,
    "POST /v1/assignments/{assignment_id}/submit": _submit,
    "POST /v1/assist/box_to_polygon": _assist,
    "POST /v1/assist/box_to_mask": _assist,
    "POST /v1/assist/superpixel": _assist,
    "POST /v1/assist/snap": _assist,
    "POST /v1/assignments/{assignment_id}/bonus": _bonus,
    "POST /v1/payouts": _payout,
}


# Ids this run has seen, by the state they are in (a pool per kind of path parameter). A step
# whose path parameter is not such an id (a chain's first call, which schemathesis fills with a
# random string: a certain 404) mostly gets one from the pool for that operation, so reviewing,
# appealing or paying out is tried on assignments and payouts that exist, in the right state.
_POOLS: dict[str, list[str]] = {}
_KNOWN: set[str] = set()

_WANTS: dict[str, tuple[str, str]] = {
    # operation -> (path parameter, pool)
    "POST /v1/projects/{project_id}/assignments": ("project_id", "open_project"),
    "POST /v1/batches/{batch_id}/launch": ("batch_id", "draft_batch"),
    "POST /v1/batches/{batch_id}/images": ("batch_id", "draft_batch"),
    "POST /v1/assignments/{assignment_id}/submit": ("assignment_id", "lease"),
    "POST /v1/assignments/{assignment_id}/release": ("assignment_id", "lease"),
    "POST /v1/assignments/{assignment_id}/accept": ("assignment_id", "submitted"),
    "POST /v1/assignments/{assignment_id}/reject": ("assignment_id", "submitted"),
    "POST /v1/assignments/{assignment_id}/bonus": ("assignment_id", "submitted"),
    "POST /v1/assignments/{assignment_id}/appeal": ("assignment_id", "rejected"),
    "POST /v1/assignments/{assignment_id}/appeal/grant": ("assignment_id", "appealed"),
    "POST /v1/assignments/{assignment_id}/appeal/deny": ("assignment_id", "appealed"),
    "GET /v1/payouts/{payout_id}": ("payout_id", "payout"),
    "DELETE /v1/me/api-keys/{key_id}": ("key_id", "api_key"),
    "POST /v1/admin/workers/{worker_id}/ban": ("worker_id", "new_worker"),
    "POST /v1/admin/workers/{worker_id}/unban": ("worker_id", "new_worker"),
}


def _remember(pool: str, value: object) -> None:
    if isinstance(value, str):
        _POOLS.setdefault(pool, []).append(value)
        _KNOWN.add(value)


def _from_pool(case: Any, draw: Any) -> None:
    wanted = _WANTS.get(_label(case))
    if wanted is None or not isinstance(case.path_parameters, dict):
        return
    name, pool = wanted
    if not _POOLS.get(pool) or case.path_parameters.get(name) in _POOLS[pool]:
        return
    # Not an id in the state this call needs (a random string, or a project with nothing open
    # yet): mostly one that is, among the newest (their tasks are not all taken yet).
    if draw(st.integers(0, 9)) < (9 if case.path_parameters.get(name) not in _KNOWN else 7):
        chosen = draw(st.sampled_from(_POOLS[pool][-8:]))
        case.path_parameters = {**case.path_parameters, name: chosen}


@schemathesis.hook
def flatmap_case(_ctx: Any, case: Any) -> Any:
    fill = _VALID.get(_label(case))
    if not _is_stateful_positive(case):
        return st.just(case)

    @st.composite
    def valid(draw: Any) -> Any:
        _from_pool(case, draw)
        if fill is not None and draw(st.integers(0, 9)) < 8:
            # mostly valid; the rest as schemathesis made them
            fill(case, draw)
            if case.media_type == "multipart/form-data":
                # schemathesis cannot validate binary parts against the schema, so revalidating
                # the new body would call it negative; it is a positive case with a valid form.
                case._record_starting_state()
        return case

    return valid()


_OUTCOMES: dict[str, tuple[str, str]] = {
    # operation with a 2xx -> (pool, where the id is: "id" of the body or a path parameter)
    "POST /v1/projects": ("project", "id"),
    "POST /v1/projects/{project_id}/batches": ("draft_batch", "id"),
    "POST /v1/batches/{batch_id}/launch": ("open_project", "project_id"),
    "POST /v1/projects/{project_id}/assignments": ("lease", "id"),
    "POST /v1/assignments/{assignment_id}/submit": ("submitted", "assignment_id"),
    "POST /v1/assignments/{assignment_id}/reject": ("rejected", "assignment_id"),
    "POST /v1/assignments/{assignment_id}/appeal": ("appealed", "assignment_id"),
    "POST /v1/payouts": ("payout", "id"),
    "POST /v1/me/api-keys": ("api_key", "id"),
}


@schemathesis.hook
def after_call(_ctx: Any, case: Any, response: Any) -> None:
    meta = case.meta
    if meta is None or meta.phase.name != "stateful":
        return
    label = _label(case)
    try:
        body = response.json()
    except ValueError:
        body = None
    if REACHED_FILE:
        detail = (
            body.get("detail", "") if isinstance(body, dict) and response.status_code >= 400 else ""
        )
        with open(REACHED_FILE, "a") as out:
            out.write(f"{label} {response.status_code} {str(detail)[:160]!r}\n")
    if response.status_code not in (200, 201) or not isinstance(body, dict):
        return
    outcome = _OUTCOMES.get(label)
    if outcome is not None:
        pool, where = outcome
        _remember(
            pool,
            body.get(where) if where in ("id", "project_id") else case.path_parameters.get(where),
        )
    if label in ("POST /v1/projects", "PATCH /v1/projects/{project_id}"):
        _PROJECT_SPECS[body["id"]] = body["annotation"]
    elif label == "POST /v1/projects/{project_id}/assignments":
        _LEASES[body["id"]] = body["task"]["annotation"]
    elif label == "POST /v1/accounts" and body.get("role") == "worker":
        _remember("new_worker", body.get("id"))
