"""Security headers on every response: a strict Content-Security-Policy and friends.

The web app loads nothing but its own files (``default-src 'self'``, no inline script), images
come from the API itself (signed URLs), from the object store when one is configured (its presigned
URLs' origin is added to ``img-src``) or from memory (``blob:``/``data:`` for the mask overlay),
no page may frame ours, and no referrer leaves with a URL (signed image URLs are in query strings).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Swagger UI starts itself with an inline script that FastAPI writes into the page: /docs alone
# may run inline script, still only from this origin's files otherwise.
DOCS_CSP = STRICT_CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'").replace(
    "style-src 'self'", "style-src 'self' 'unsafe-inline'"
)
_DOCS_PATHS = ("/docs", "/redoc")

_COMMON = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def with_image_origins(csp: str, origins: list[str]) -> str:
    """The policy with ``origins`` (an object store's presigned URLs) allowed as image sources."""
    if not origins:
        return csp
    return csp.replace("img-src 'self'", "img-src 'self' " + " ".join(origins), 1)


class SecurityHeaders:
    def __init__(self, app: ASGIApp, image_origins: list[str] | None = None) -> None:
        self.app = app
        self.strict = with_image_origins(STRICT_CSP, image_origins or [])
        self.docs = with_image_origins(DOCS_CSP, image_origins or [])

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp = self.docs if scope["path"].startswith(_DOCS_PATHS) else self.strict

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _COMMON.items():
                    headers.setdefault(name, value)
                headers.setdefault("Content-Security-Policy", csp)
            await send(message)

        await self.app(scope, receive, with_headers)
