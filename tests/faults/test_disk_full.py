"""The image store's disk fills up (a 1 MiB tmpfs mounted over the images folder): an upload is
a 507 problem, nothing of it is left (no batch, no image row, no temporary file), and leases and
image reads of what was stored before keep working. Needs root to mount the tmpfs."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image as PILImage
from sqlalchemy import func, select

from app.core.config import Settings
from app.main import create_app
from app.models import Batch, Image
from tests.conftest import FakeClock
from tests.factories import make_project, open_batch, signup


@pytest.fixture
def full_disk_client(settings: Settings, clock: FakeClock) -> Iterator[TestClient]:
    images = settings.images_dir
    images.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(images)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        app = create_app(settings)
        app.state.clock = clock
        with TestClient(app) as client:
            yield client
    finally:
        subprocess.run(["umount", "-l", str(images)], check=False)


def noise_png(seed: int, side: int = 256) -> bytes:
    buf = io.BytesIO()
    data = os.urandom(side * side)  # incompressible: ~64 KiB each as PNG
    PILImage.frombytes("L", (side, side), data).save(buf, format="PNG")
    del seed
    return buf.getvalue()


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(".tmp-")]


def test_upload_to_a_full_store_is_507_and_leaves_nothing(
    full_disk_client: TestClient, settings: Settings
) -> None:
    client = full_disk_client
    requester = signup(client, "requester")
    project = make_project(client, requester, overlap={"min": 1, "max": 1})
    open_batch(client, requester, project["id"], n_images=3, fund="10")  # fits

    files = [("files", (f"n{i}.png", noise_png(i), "image/png")) for i in range(24)]  # ~1.5 MiB
    r = client.post(f"/v1/projects/{project['id']}/batches", files=files, headers=requester)
    assert r.status_code == 507, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["type"].endswith("/insufficient-storage")
    assert "no space left" in body["detail"]

    assert leftovers(settings.images_dir) == []
    with client.app.state.sessionmaker() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).select_from(Batch)) == 1
        assert session.scalar(select(func.count()).select_from(Image)) == 3

    # The service keeps serving what it has.
    worker = signup(client, "worker")
    lease = client.post(f"/v1/projects/{project['id']}/assignments", headers=worker)
    assert lease.status_code == 201, lease.text
    image = client.get(lease.json()["task"]["image_url"])
    assert image.status_code == 200
    assert image.content.startswith(b"\x89PNG")


def test_thumbnails_on_a_full_disk_are_served_uncached(
    settings: Settings, clock: FakeClock
) -> None:
    """The thumbnail cache's disk is full (a tmpfs filled to the brim): a thumbnail is made and
    served all the same (200, WebP), not kept, and no temporary file is left."""
    thumbs = settings.thumbnails_dir
    thumbs.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(thumbs)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        filler = thumbs / "filler"
        with contextlib.suppress(OSError), filler.open("wb") as out:
            while True:
                out.write(b"\0" * 4096)
                out.flush()
        app = create_app(settings)
        app.state.clock = clock
        with TestClient(app) as client:
            requester = signup(client, "requester")
            project = make_project(client, requester)
            batch = open_batch(client, requester, project["id"], n_images=1)
            results = client.get(f"/v1/batches/{batch['id']}/results", headers=requester)
            url = results.json()["items"][0]["thumbnail_url"]
            for _ in range(2):  # not cached: made again, and served again
                thumb = client.get(url)
                assert thumb.status_code == 200, thumb.text
                assert thumb.headers["content-type"] == "image/webp"
        assert [p for p in thumbs.rglob("*") if p.is_file()] == [filler]
    finally:
        subprocess.run(["umount", "-l", str(thumbs)], check=False)
