"""The client through a real uvicorn: an upload of 2,000 images whose process is SIGKILLed
halfway, then resumed; every image stored once, the batch's task count exact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.config import Settings
from app.models import Image, Task
from tessera.client import Client
from tessera.client.upload import Manifest
from tests.client.conftest import Live
from tests.client.test_upload import PROJECT, write_images

UPLOADER = textwrap.dedent(
    """
    import sys
    from tessera.client import Client
    url, key, project, folder, manifest = sys.argv[1:]
    with Client(url, key) as c:
        c.upload_batch(project, folder, manifest=manifest, chunk_files=25, parallel=4)
    """
)


def _done_lines(manifest: Path) -> int:
    if not manifest.exists():
        return 0
    return sum(1 for line in manifest.read_text().splitlines() if '"kind":"done"' in line)


def test_upload_killed_halfway_resumes_exactly(
    live: Live, settings: Settings, session: Session, tmp_path: Path
) -> None:
    folder = tmp_path / "photos"
    write_images(folder, 2000)
    with Client(live.url) as anon:
        key = anon.create_account("requester", "Rita").api_key
    c = Client(live.url, key)
    project = c.create_project(PROJECT)
    manifest = tmp_path / "upload.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2])}
    proc = subprocess.Popen(
        [sys.executable, "-c", UPLOADER, live.url, key, project.id, str(folder), str(manifest)],
        env=env,
    )
    deadline = time.monotonic() + 240
    while _done_lines(manifest) < 1000:
        assert proc.poll() is None, "the upload ended before it could be killed"
        assert time.monotonic() < deadline, "the upload made no progress"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    state = Manifest(manifest)
    state.close()
    assert state.batch_id is not None
    confirmed = len(state.done)
    assert 1000 <= confirmed < 2000

    report = c.upload_batch(project.id, folder, manifest=manifest, chunk_files=25, parallel=4)
    assert report.batch_id == state.batch_id
    assert report.already_done == confirmed
    assert report.added + report.present == 2000 - confirmed
    assert not report.refused
    session.expire_all()
    tasks = session.scalar(
        select(func.count()).select_from(Task).where(Task.batch_id == report.batch_id)
    )
    images = session.scalar(select(func.count()).select_from(Image))
    distinct = session.scalar(
        select(func.count(func.distinct(Task.image_id))).where(Task.batch_id == report.batch_id)
    )
    session.commit()  # end the read (on SQLite it holds the write lock)
    assert (tasks, images, distinct) == (2000, 2000, 2000)
    stored = [p for p in settings.images_dir.rglob("*") if p.is_file()]
    assert len(stored) == 2000
    assert c.get_batch(report.batch_id).task_count == 2000
    c.close()
