"""Build things through the public API, as a user would."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from typing import Any

from fastapi.testclient import TestClient
from PIL import Image

from app.core.config import Settings


def png(width: int = 64, height: int = 48, color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="PNG")
    return buf.getvalue()


def jpeg(width: int = 64, height: int = 48, color: tuple[int, int, int] = (30, 200, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, format="JPEG")
    return buf.getvalue()


def zip_of(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def make_operator(settings: Settings, name: str = "ops") -> dict[str, str]:
    """An operator, made the only way there is: ``tessera create-operator`` (key on the last line)."""
    env = {
        "TESSERA_DATABASE_URL": settings.database_url,
        "TESSERA_DATA_DIR": str(settings.data_dir),
        "TESSERA_MIGRATE_ON_START": "false",
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [sys.executable, "-m", "app.cli", "create-operator", name],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return auth(out.stdout.strip().splitlines()[-1])


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def signup(client: TestClient, role: str, name: str | None = None) -> dict[str, str]:
    """A new account's auth headers (with the account id under ``"id"`` kept apart)."""
    r = client.post("/v1/accounts", json={"role": role, "name": name or f"a {role}"})
    assert r.status_code == 201, r.text
    body = r.json()
    return {**auth(body["api_key"]), "X-Test-Account-Id": body["id"]}


def account_id(headers: dict[str, str]) -> str:
    return headers["X-Test-Account-Id"]


def make_project(client: TestClient, requester: dict[str, str], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Pets",
        "annotation": {"type": "classification", "labels": ["cat", "dog"]},
        "reward": "0.02",
        "overlap": {"min": 1, "max": 3},
    }
    body.update(overrides)
    r = client.post("/v1/projects", json=body, headers=requester)
    assert r.status_code == 201, r.text
    return dict(r.json())


def upload(
    client: TestClient, requester: dict[str, str], project_id: str, images: dict[str, bytes]
) -> dict[str, Any]:
    files = [("files", (name, data, "application/octet-stream")) for name, data in images.items()]
    r = client.post(f"/v1/projects/{project_id}/batches", files=files, headers=requester)
    assert r.status_code == 201, r.text
    return dict(r.json())


def deposit(client: TestClient, requester: dict[str, str], amount: str) -> dict[str, Any]:
    r = client.post("/v1/deposits", json={"amount": amount}, headers=requester)
    assert r.status_code == 201, r.text
    return dict(r.json())


def open_batch(
    client: TestClient,
    requester: dict[str, str],
    project_id: str,
    n_images: int = 3,
    *,
    fund: str | None = "100",
) -> dict[str, Any]:
    """Upload ``n_images`` distinct images and launch them, depositing ``fund`` dollars first."""
    images = {f"img{i}.png": png(32 + i, 24 + i) for i in range(n_images)}
    batch = upload(client, requester, project_id, images)
    if fund:
        deposit(client, requester, fund)
    r = client.post(f"/v1/batches/{batch['id']}/launch", headers=requester)
    assert r.status_code == 200, r.text
    return dict(r.json())
