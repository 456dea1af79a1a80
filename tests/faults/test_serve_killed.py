"""``tessera serve`` SIGKILLed in the middle of an upload and of a submit (embedded mode: SQLite,
images on disk): after a restart nothing is half-written (no temporary image file, no batch
without all its tasks, no answer without its task counted), and the client's retry with the same
``Idempotency-Key`` gets the first result (or does the work, once, if none was committed).

Where the kill lands is by timing: the request is sent whole or in part on a raw socket and the
server killed 0 to 0.8 s later, so over the attempts it dies while reading the body, while
checking and storing the images, or around the commit."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import socket
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from PIL import Image as PILImage
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from app.models import Assignment, Batch, Task
from tests.faults.serve import Processes, tessera_env

N_IMAGES = 20
H = dict[str, str]


def noise_png(side: int = 160) -> bytes:
    buf = io.BytesIO()
    PILImage.frombytes("L", (side, side), os.urandom(side * side)).save(buf, format="PNG")
    return buf.getvalue()


def raw(url: str, request: httpx.Request, *, fraction: float = 1.0) -> socket.socket:
    """Send ``request`` (or its first ``fraction``) on a socket left open; no answer is read."""
    body = request.read()
    head = [f"{request.method} {request.url.raw_path.decode()} HTTP/1.1"]
    head += [f"{k}: {v}" for k, v in request.headers.items()]
    data = ("\r\n".join(head) + "\r\n\r\n").encode() + body[: int(len(body) * fraction)]
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80))
    sock.sendall(data)
    return sock


class Service:
    def __init__(self, processes: Processes, data_dir: Path) -> None:
        self.processes, self.data_dir = processes, data_dir
        self.env = tessera_env(
            f"sqlite:///{data_dir / 'tessera.db'}",
            data_dir,
            TESSERA_MIGRATE_ON_START="true",
            TESSERA_RUN_RECONCILERS="false",
        )
        self.child, self.url = processes.serve(self.env)

    def kill_and_restart(self) -> None:
        self.processes.kill(self.child, signal.SIGKILL)
        self.child, self.url = self.processes.serve(self.env)

    def db(self) -> Session:
        return Session(create_engine(f"sqlite:///{self.data_dir / 'tessera.db'}"))


@pytest.fixture
def service(processes: Processes, tmp_path: Path) -> Service:
    return Service(processes, tmp_path / "data")


def signup(url: str, role: str) -> H:
    r = httpx.post(f"{url}/v1/accounts", json={"role": role, "name": f"a {role}"}, timeout=30)
    assert r.status_code == 201, r.text
    return {"Authorization": f"Bearer {r.json()['api_key']}"}


def assert_nothing_half_written(service: Service, per_batch: int) -> None:
    images = service.data_dir / "images"
    # Every stored image is whole: its name is the digest of its bytes.
    for path in images.glob("*/*/*"):
        if not path.name.startswith("."):
            assert hashlib.sha256(path.read_bytes()).hexdigest() == path.name, path
    # A temporary file of the killed process is swept by the restarted one.
    deadline = time.monotonic() + 10
    while (temporary := list(images.rglob(".tmp-*"))) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert temporary == [], temporary
    with service.db() as session:
        for batch_id in session.scalars(select(Batch.id)):
            tasks = session.scalar(select(func.count()).where(Task.batch_id == batch_id))
            assert tasks == per_batch, f"batch {batch_id} has {tasks} of {per_batch} tasks"
        for task in session.scalars(select(Task).where(Task.answer_count > 0)):
            answers = session.scalar(
                select(func.count()).where(
                    Assignment.task_id == task.id, Assignment.answer.is_not(None)
                )
            )
            assert answers == task.answer_count


def test_killed_mid_upload(service: Service) -> None:
    requester = signup(service.url, "requester")
    project = httpx.post(
        f"{service.url}/v1/projects",
        json={
            "name": "Kill",
            "annotation": {"type": "classification", "labels": ["cat", "dog"]},
            "reward": "0.01",
            "overlap": {"min": 1, "max": 1},
        },
        headers=requester,
        timeout=30,
    ).json()
    kept: dict[str, str] = {}
    for attempt, (fraction, delay) in enumerate([(0.5, 0.2), (1.0, 0.1), (1.0, 0.6)]):
        key = f"upload-{attempt}"
        files = [("files", (f"i{i}.png", noise_png(), "image/png")) for i in range(N_IMAGES)]
        request = httpx.Request(
            "POST",
            f"{service.url}/v1/projects/{project['id']}/batches",
            files=files,
            headers={**requester, "Idempotency-Key": key},
        )
        sock = raw(service.url, request, fraction=fraction)
        time.sleep(delay)
        service.kill_and_restart()
        sock.close()
        assert_nothing_half_written(service, N_IMAGES)

        # The retry: same key, same files.
        retry = httpx.Request(
            "POST",
            f"{service.url}/v1/projects/{project['id']}/batches",
            files=files,
            headers={**requester, "Idempotency-Key": key},
        )
        with httpx.Client(timeout=60) as c:
            first = c.send(retry)
            assert first.status_code == 201, first.text
            again = c.send(
                httpx.Request(
                    "POST",
                    f"{service.url}/v1/projects/{project['id']}/batches",
                    files=files,
                    headers={**requester, "Idempotency-Key": key},
                )
            )
        assert again.status_code == 201
        assert again.json()["id"] == first.json()["id"]
        kept[key] = first.json()["id"]
        assert_nothing_half_written(service, N_IMAGES)
    with service.db() as session:
        assert set(session.scalars(select(Batch.id))) == set(kept.values())  # one batch per key


def test_killed_mid_submit(service: Service) -> None:
    url = service.url
    requester = signup(url, "requester")
    body: dict[str, Any] = {
        "name": "Kill",
        "annotation": {"type": "classification", "labels": ["cat", "dog"]},
        "reward": "0.01",
        "overlap": {"min": 1, "max": 1},
    }
    project = httpx.post(f"{url}/v1/projects", json=body, headers=requester, timeout=30).json()
    files = [("files", (f"i{i}.png", noise_png(24), "image/png")) for i in range(4)]
    batch = httpx.post(
        f"{url}/v1/projects/{project['id']}/batches", files=files, headers=requester, timeout=60
    ).json()
    httpx.post(f"{url}/v1/deposits", json={"amount": "10"}, headers=requester, timeout=30)
    httpx.post(f"{url}/v1/batches/{batch['id']}/launch", headers=requester, timeout=30)
    worker = signup(url, "worker")
    for attempt, (fraction, delay) in enumerate([(0.5, 0.1), (1.0, 0.02), (1.0, 0.15)]):
        lease = httpx.post(
            f"{service.url}/v1/projects/{project['id']}/assignments", headers=worker, timeout=30
        )
        assert lease.status_code == 201, lease.text
        lease_id = lease.json()["id"]
        headers = {**worker, "Idempotency-Key": f"submit-{attempt}"}
        path = f"/v1/assignments/{lease_id}/submit"
        answer = {"answer": {"label": "cat"}}
        sock = raw(
            service.url,
            httpx.Request("POST", f"{service.url}{path}", json=answer, headers=headers),
            fraction=fraction,
        )
        time.sleep(delay)
        service.kill_and_restart()
        sock.close()
        assert_nothing_half_written(service, 4)
        first = httpx.post(f"{service.url}{path}", json=answer, headers=headers, timeout=30)
        assert first.status_code == 200, first.text
        again = httpx.post(f"{service.url}{path}", json=answer, headers=headers, timeout=30)
        assert again.status_code == 200
        assert again.json() == first.json()
        with service.db() as session:
            row = session.get_one(Assignment, lease_id)
            assert row.answer == {"label": "cat"}
            task = session.get_one(Task, row.task_id)
            assert task.answer_count == 1  # counted once, whatever the kill interrupted
