"""The client against the real service: in-process (the app behind a TestClient, reached through
an httpx transport) and, in the live tests, through uvicorn."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app
from tessera.client import AsyncClient, Client, RetryPolicy


class InProcess(httpx.BaseTransport):
    """httpx → the app, in this process: the request goes through the TestClient (which runs the
    ASGI app with its lifespan), the answer comes back as an httpx response."""

    def __init__(self, app_client: TestClient, fault: Callable[[httpx.Request], Any] | None = None):
        self.app_client = app_client
        self.fault = fault
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        self.requests.append(request)
        if self.fault is not None:
            injected = self.fault(request)
            if isinstance(injected, httpx.Response):
                return injected
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "host"]
        r = self.app_client.request(
            request.method, request.url.raw_path.decode(), headers=headers, content=body
        )
        return httpx.Response(
            r.status_code, headers=list(r.headers.multi_items()), content=r.content
        )


FAST = RetryPolicy(attempts=4, backoff_s=0.001, max_backoff_s=0.01, max_retry_after_s=0.05)


@pytest.fixture
def connect(client: TestClient) -> Iterator[Callable[..., Client]]:
    """``connect(api_key=None, fault=None)``: a ``Client`` on the in-process app."""
    made: list[Client] = []

    def make(api_key: str | None = None, *, fault: Any = None, retry: RetryPolicy = FAST) -> Client:
        c = Client("http://testserver", api_key, transport=InProcess(client, fault), retry=retry)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def aconnect(client: TestClient) -> Callable[..., AsyncClient]:
    """``aconnect(api_key)``: an ``AsyncClient`` on the same app through httpx's ASGI transport
    (the TestClient fixture keeps the app's lifespan running)."""

    def make(api_key: str | None = None) -> AsyncClient:
        transport = httpx.ASGITransport(app=client.app)
        return AsyncClient("http://testserver", api_key, transport=transport, retry=FAST)

    return make


@dataclass
class Live:
    url: str
    app: Any


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Recording(httpx.HTTPTransport):
    """A real HTTP transport that keeps the requests it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.requests: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return super().handle_request(request)


@pytest.fixture
def live(settings: Settings, clock: Any) -> Iterator[Live]:
    """The app served by uvicorn on a free port (in a thread of this process), on the test's
    clock."""
    app = create_app(settings)
    app.state.clock = clock
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield Live(f"http://127.0.0.1:{port}", app)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(params=["in-process", "uvicorn"])
def connect_both(request: pytest.FixtureRequest, client: TestClient) -> Iterator[Any]:
    """``connect`` on the in-process app, then on the same app behind a live uvicorn."""
    made: list[Client] = []
    if request.param == "uvicorn":
        server: Live = request.getfixturevalue("live")
        url, state_app = server.url, server.app
    else:
        url, state_app = "http://testserver", client.app

    def make(api_key: str | None = None) -> Client:
        transport: httpx.BaseTransport = (
            Recording() if request.param == "uvicorn" else InProcess(client)
        )
        c = Client(url, api_key, transport=transport, retry=FAST)
        made.append(c)
        return c

    make.app = state_app  # type: ignore[attr-defined]
    yield make
    for c in made:
        c.close()
