"""The client against the real service: in-process (the app behind a TestClient, reached through
an httpx transport) and, in the live tests, through uvicorn."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

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
