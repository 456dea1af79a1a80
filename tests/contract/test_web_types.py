"""The web app's TypeScript types of API responses match the OpenAPI document.

Each interface in web/src that mirrors a response schema says which (``@schema StandingOut``);
web/scripts/api-types.mjs lists their properties with TypeScript's own parser. A property the
server does not send, or sends only sometimes while the type says always, fails here: the app
once added a dropped ``gold_answers`` and showed workers "NaN graded answers"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

WEB = Path(__file__).resolve().parents[2] / "web"
SCRIPT = WEB / "scripts" / "api-types.mjs"
# Schemas that are request bodies too: their document says what a client may leave out, though
# every response carries the field.
ALWAYS_IN_RESPONSES = {("AnnotationSpec", "labels")}


def _web_types() -> dict[str, Any]:
    node = shutil.which("node")
    if node is None or not (WEB / "node_modules" / "typescript").exists():
        if os.environ.get("CI"):
            pytest.fail("needs Node.js and web/node_modules (scripts/setup installs them)")
        pytest.skip("needs Node.js and web/node_modules (scripts/setup installs them)")
    out = subprocess.run([node, str(SCRIPT)], cwd=WEB, capture_output=True, text=True, check=True)
    types: dict[str, Any] = json.loads(out.stdout)
    return types


def _mismatches(types: dict[str, Any], schemas: dict[str, Any]) -> list[str]:
    found = []
    for name, mirrored in sorted(types.items()):
        where = f"{mirrored['file']}: {mirrored['interface']}"
        if name not in schemas:
            found.append(f"{where} names @schema {name}, which the document does not have")
            continue
        props = schemas[name].get("properties", {})
        required = set(schemas[name].get("required", []))
        for prop, facts in sorted(mirrored["properties"].items()):
            if prop not in props:
                found.append(f"{where}.{prop} is not a property of {name}")
            elif (
                not facts["optional"]
                and prop not in required
                and (name, prop) not in ALWAYS_IN_RESPONSES
            ):
                found.append(f"{where}.{prop} is always there in the type, optional in {name}")
    return found


def test_every_mirrored_type_matches_its_schema(client: TestClient) -> None:
    types = _web_types()
    assert len(types) >= 30, sorted(types)  # the tags are read: a broken script finds none
    schemas = client.app.openapi()["components"]["schemas"]  # type: ignore[attr-defined]
    assert _mismatches(types, schemas) == []


def test_a_dropped_field_is_caught() -> None:
    """The check itself: the worker's standing as it was typed before the gold-leak fix."""
    schemas = {
        "StandingOut": {"properties": {"graded_answers": {}}, "required": ["graded_answers"]}
    }
    old = {
        "StandingOut": {
            "interface": "Skill",
            "file": "src/core/types.ts",
            "properties": {
                "graded_answers": {"optional": False},
                "gold_answers": {"optional": False},
            },
        }
    }
    assert _mismatches(old, schemas) == [
        "src/core/types.ts: Skill.gold_answers is not a property of StandingOut"
    ]
