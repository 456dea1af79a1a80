"""Uploads through the client: folders, zips, chunks in parallel, resume after a crash, a
refused file reported by name, and pagination over the 1,200 results of one batch."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Image, Task
from tessera.client.upload import Manifest

PROJECT = {
    "name": "Pets",
    "annotation": {"type": "classification", "labels": ["cat", "dog"]},
    "reward": "0.01",
    "overlap": {"min": 1, "max": 1},
}


def tiny_png(i: int) -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (16, 12), (i % 256, (i // 256) % 256, 77)).save(buf, format="PNG")
    return buf.getvalue()


def write_images(folder: Path, n: int, start: int = 0) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(start, start + n):
        path = folder / f"sub{i % 3}" / f"img{i:05d}.png"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(tiny_png(i))
        paths.append(path)
    return paths


def counts(session: Session, batch_id: str) -> tuple[int, int]:
    session.expire_all()
    tasks = session.scalar(select(func.count()).select_from(Task).where(Task.batch_id == batch_id))
    images = session.scalar(select(func.count()).select_from(Image))
    session.commit()
    return int(tasks or 0), int(images or 0)


@pytest.fixture
def requester(connect: Any) -> Any:
    return connect(connect().create_account("requester", "Rita").api_key)


class Crash(Exception):
    pass


def test_an_interrupted_upload_resumes_without_storing_anything_twice(
    requester: Any, tmp_path: Path, session: Session
) -> None:
    write_images(tmp_path / "photos", 150)
    project = requester.create_project(PROJECT)
    manifest = tmp_path / "upload.jsonl"

    def crash_midway(done: int, _total: int) -> None:
        if done >= 70:
            raise Crash

    with pytest.raises(Crash):
        requester.upload_batch(
            project.id,
            tmp_path / "photos",
            manifest=manifest,
            chunk_files=10,
            parallel=3,
            progress=crash_midway,
        )
    state = Manifest(manifest)
    state.close()
    assert state.batch_id is not None
    confirmed = len(state.done)
    assert 0 < confirmed < 150
    tasks, _ = counts(session, state.batch_id)
    assert tasks >= confirmed  # the service may hold chunks whose answers were never read

    seen: list[tuple[int, int]] = []
    report = requester.upload_batch(
        project.id,
        tmp_path / "photos",
        manifest=manifest,
        chunk_files=10,
        parallel=3,
        progress=lambda d, t: seen.append((d, t)),
    )
    assert report.batch_id == state.batch_id
    assert report.already_done == confirmed
    assert report.added + report.present == 150 - confirmed
    assert report.present == tasks - confirmed  # sent again, recognised by hash
    assert counts(session, report.batch_id) == (150, 150)
    assert requester.get_batch(report.batch_id).task_count == 150
    assert seen[-1][0] == 150

    # A third run sends nothing.
    again = requester.upload_batch(project.id, tmp_path / "photos", manifest=manifest)
    assert (again.already_done, again.added, again.present) == (150, 0, 0)


def test_a_refused_file_is_reported_and_the_rest_goes_in(
    requester: Any, tmp_path: Path, session: Session
) -> None:
    folder = tmp_path / "photos"
    write_images(folder, 12)
    (folder / "sub0" / "broken.png").write_bytes(b"\x89PNG not really")
    (folder / "sub1" / "copy.png").write_bytes(tiny_png(3))
    project = requester.create_project(PROJECT)
    report = requester.upload_batch(
        project.id, folder, manifest=tmp_path / "m.jsonl", chunk_files=4
    )
    assert list(report.refused) == [str(folder / "sub0" / "broken.png")]
    assert report.duplicates == 1
    assert report.added == 12
    assert counts(session, report.batch_id)[0] == 12


def test_a_zip_is_uploaded_member_by_member(requester: Any, tmp_path: Path) -> None:
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for i in range(9):
            zf.writestr(f"dir/{i}.png", tiny_png(500 + i))
        zf.writestr("readme.txt", "not an image")
    project = requester.create_project(PROJECT)
    report = requester.upload_batch(
        project.id, archive, manifest=tmp_path / "z.jsonl", chunk_files=4
    )
    assert report.added == 9
    names = sorted(r.image_name for r in requester.results(report.batch_id))
    assert names == [f"dir/{i}.png" for i in range(9)]


def test_pagination_over_1200_results(requester: Any, tmp_path: Path) -> None:
    write_images(tmp_path / "many", 1200)
    project = requester.create_project(PROJECT)
    report = requester.upload_batch(
        project.id, tmp_path / "many", manifest=tmp_path / "p.jsonl", chunk_files=100
    )
    assert report.added == 1200
    transport = requester._http._transport
    before = len(transport.requests)
    ids = [r.task_id for r in requester.results(report.batch_id, limit=100)]
    assert len(ids) == len(set(ids)) == 1200
    assert len(transport.requests) - before == 12
    assert len({r.image_name for r in requester.results(report.batch_id)}) == 1200  # default 50
