"""A cap on request bodies per route, enforced before the body is read.

Each route gets the cap of the first entry of ``routes`` matching its method and path template
(uploads and answers are large, everything else is small JSON), else ``default``. A declared
``Content-Length`` over the cap is refused at once, before a byte of the body is read; a body
without one (chunked) is counted as it streams in and refused on the chunk that crosses it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.core.errors import PayloadTooLarge, problem_response


class BodySizeLimit:
    def __init__(
        self,
        app: ASGIApp,
        *,
        default: int,
        routes: Mapping[tuple[str, str], int] | None = None,
    ) -> None:
        self.app = app
        self.default = default
        self.routes: list[tuple[str, re.Pattern[str], int]] = [
            (method, compile_path(template)[0], cap)
            for (method, template), cap in (routes or {}).items()
        ]

    def cap_for(self, method: str, path: str) -> int:
        for route_method, pattern, cap in self.routes:
            if route_method == method and pattern.match(path):
                return cap
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cap = self.cap_for(scope["method"], scope["path"])
        too_large = PayloadTooLarge(f"The request body exceeds this route's limit of {cap} bytes.")
        declared = _content_length(scope)
        if declared is not None and declared > cap:
            # Answer without reading the body (the server closes the connection after it).
            await problem_response(too_large)(scope, receive, send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    raise too_large
            return message

        await self.app(scope, limited, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
