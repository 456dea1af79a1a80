"""schemathesis hooks for tests/contract/fuzz.py: each operation is called as its role."""

from __future__ import annotations

import json
import os
import re
from typing import Any

import schemathesis

KEYS: dict[str, str] = json.loads(os.environ.get("TESSERA_FUZZ_KEYS", "{}"))
ROLE = os.environ.get("TESSERA_FUZZ_ROLE", "auto")

_WORKER = re.compile(
    r"^/v1/(projects/\{project_id\}/assignments|assignments/\{assignment_id\}/(submit|release|appeal)"
    r"|me/assignments|me/skills|payouts.*)$"
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
