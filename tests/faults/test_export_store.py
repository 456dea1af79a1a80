"""The image store fails while a zip export with the images is downloaded, through a real HTTP
server (uvicorn, in a thread of this process) and a real HTTP client (httpx).

Down before the first byte: a 503 problem with ``Retry-After``, nothing of a zip sent. Gone
part way: the response has started (200), so it cannot become a problem any more; the server
closes the connection without the chunked body's last chunk, which httpx (like any client)
reports as an incomplete read, and the log says which export stopped and why. Never a short
body that ends as if it were complete (docs/EXPORTS.md, "When the image store fails")."""

from __future__ import annotations

import io
import logging
import os
import threading
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from PIL import Image as PILImage

from app.core.config import Settings
from app.images import ImageStore, ImageStoreUnavailable
from app.images.store import ImageRef
from app.main import create_app
from tests.conftest import FakeClock
from tests.factories import make_project, signup, upload
from tests.faults.serve import free_port

N_IMAGES = 8


class FailingStore:
    """The app's store, failing every ``get`` after the first ``good_gets`` (None: never), as
    an object store that stops answering does (``ImageStoreUnavailable``)."""

    def __init__(self, inner: ImageStore) -> None:
        self.inner = inner
        self.good_gets: int | None = None
        self.gets = 0

    def get(self, sha256: str) -> bytes:
        self.gets += 1
        if self.good_gets is not None and self.gets > self.good_gets:
            raise ImageStoreUnavailable("the object store did not answer a GET (test)")
        return self.inner.get(sha256)

    def put(self, data: bytes) -> str:
        return self.inner.put(data)

    def exists(self, sha256: str) -> bool:
        return self.inner.exists(sha256)

    def url_for(
        self, image: ImageRef, *, viewer_id: str, expires_at: datetime, base_url: str
    ) -> str:
        return self.inner.url_for(
            image, viewer_id=viewer_id, expires_at=expires_at, base_url=base_url
        )


@dataclass
class Served:
    url: str
    app: FastAPI
    store: FailingStore
    requester: dict[str, str]
    batch_id: str


def noise_png(side: int = 160) -> bytes:
    """About 26 KiB of incompressible PNG: a few of them pass the first 64 KiB chunk."""
    buf = io.BytesIO()
    PILImage.frombytes("L", (side, side), os.urandom(side * side)).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def served(settings: Settings, clock: FakeClock) -> Iterator[Served]:
    app = create_app(settings)
    app.state.clock = clock
    with TestClient(app) as client:  # runs the app's lifespan; the batch is made through it
        requester = signup(client, "requester")
        project = make_project(client, requester)
        images = {f"n{i}.png": noise_png() for i in range(N_IMAGES)}
        batch = upload(client, requester, project["id"], images)
        store = FailingStore(app.state.image_store)
        app.state.image_store = store
        port = free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            assert thread.is_alive(), "the server did not start"
            assert time.monotonic() < deadline, "the server did not start in 30 s"
            time.sleep(0.05)
        try:
            yield Served(f"http://127.0.0.1:{port}", app, store, requester, batch["id"])
        finally:
            server.should_exit = True
            thread.join(timeout=10)


DOWNLOADS = [
    pytest.param("/v1/batches/{batch}/results?format=csv&images=true", id="csv-with-images"),
    pytest.param("/v1/batches/{batch}/images.zip", id="images-zip"),
]


def _get(served: Served, path: str) -> tuple[httpx.Response, bytes, Exception | None]:
    """Stream the download; what arrived, and the error that ended the read (if any)."""
    got = bytearray()
    url = served.url + path.format(batch=served.batch_id)
    with (
        httpx.Client(timeout=30) as http,
        http.stream("GET", url, headers=served.requester) as r,
    ):
        try:
            for block in r.iter_bytes():
                got += block
        except httpx.HTTPError as exc:
            return r, bytes(got), exc
    return r, bytes(got), None


@pytest.mark.parametrize("path", DOWNLOADS)
def test_a_working_store_gives_the_whole_zip(served: Served, path: str) -> None:
    r, body, error = _get(served, path)
    assert (r.status_code, error) == (200, None)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert zf.testzip() is None
        assert sum(n.endswith(".png") for n in zf.namelist()) == N_IMAGES


@pytest.mark.parametrize("path", DOWNLOADS)
def test_a_store_down_before_the_first_byte_is_503(served: Served, path: str) -> None:
    served.store.good_gets = 0
    r, body, error = _get(served, path)
    assert (r.status_code, error) == (503, None), body[:300]
    assert r.headers["content-type"] == "application/problem+json"
    assert int(r.headers["Retry-After"]) > 0
    problem: dict[str, Any] = httpx.Response(200, content=body).json()
    assert problem["type"].endswith("/storage-unavailable")


@pytest.mark.parametrize("path", DOWNLOADS)
def test_a_store_lost_mid_stream_aborts_the_download(
    served: Served, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    served.store.good_gets = N_IMAGES // 2  # past the first 64 KiB chunk: the 200 is sent
    with caplog.at_level(logging.ERROR, logger="tessera.exports"):
        r, body, error = _get(served, path)
    assert r.status_code == 200
    assert isinstance(error, httpx.RemoteProtocolError), (error, len(body))
    assert "incomplete" in str(error)
    assert 64 * 1024 <= len(body)
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(io.BytesIO(body))
    aborted = [r.getMessage() for r in caplog.records if r.name == "tessera.exports"]
    assert len(aborted) == 1, aborted
    assert served.batch_id in aborted[0]
    assert "ImageStoreUnavailable" in aborted[0]

    # The store is back: the retry downloads the whole zip, the server kept serving.
    served.store.good_gets = None
    r, body, error = _get(served, path)
    assert (r.status_code, error) == (200, None)
    with zipfile.ZipFile(io.BytesIO(body)) as zf:
        assert sum(n.endswith(".png") for n in zf.namelist()) == N_IMAGES
