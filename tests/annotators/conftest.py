"""Fixtures of the model tests: the app behind a real uvicorn, and the example model server of
docs/MODELS.md run from the page itself."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.client.conftest import live as live
from tests.conftest import FakeClock

DOCS = Path(__file__).parents[2] / "docs" / "MODELS.md"


def example_server() -> dict[str, Any]:
    """The example model server's code, exactly as docs/MODELS.md shows it."""
    text = DOCS.read_text().split("## Example server", 1)[1]
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict[str, Any] = {"__name__": "model_server"}
    exec(compile(code, str(DOCS), "exec"), namespace)
    return namespace


EXAMPLE = example_server()


@dataclass
class Server:
    url: str
    handler: Any
    requests: list[dict[str, Any]] = field(default_factory=list)

    def knows(self, secret: str | None) -> None:
        """Give the server the model's signing secret (shown once, at attach time)."""
        assert secret is not None
        self.handler.secret = secret.encode()


@pytest.fixture
def model_server(clock: FakeClock) -> Iterator[Callable[..., Server]]:
    """``model_server(predict=None)``: the example server on a free port; ``predict`` replaces
    its stand-in model (to be slow, fail, or reply badly)."""
    running: list[ThreadingHTTPServer] = []

    def start(predict: Callable[[dict[str, Any]], Any] | None = None) -> Server:
        requests: list[dict[str, Any]] = []

        def recorded(task: dict[str, Any]) -> Any:
            requests.append(task)
            return (predict or EXAMPLE["predict"])(task)

        handler = type(
            "Handler",
            (EXAMPLE["Handler"],),
            {
                "clock": staticmethod(lambda: clock().timestamp()),
                "predict": staticmethod(recorded),
                "log_message": lambda self, *a: None,
            },
        )
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        running.append(httpd)
        return Server(f"http://127.0.0.1:{httpd.server_address[1]}/predict", handler, requests)

    yield start
    for httpd in running:
        httpd.shutdown()
        httpd.server_close()
