"""The web app, served by ``tessera serve`` itself: its built files, an app-path fallback to
``index.html`` (the app routes in the browser), and its settings as JSON.

The files are built from ``web/`` by ``scripts/setup`` (only when the sources changed) into
``web/dist``; nothing is rewritten at run time, settings come from ``/v1/web/config``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from app.core.config import Settings
from app.core.deps import SessionDep
from app.core.errors import NotFound
from app.web import service as web_service

DEFAULT_WEB_DIR = Path(__file__).resolve().parents[2] / "web" / "dist"
# Paths the browser app owns (client-side routes); anything else unknown stays a 404 problem.
APP_PATHS = (
    "signin",
    "signup",
    "work",
    "history",
    "earnings",
    "account",
    "projects",
    "batches",
    "operator",
)

_NOT_BUILT = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Tessera</title>
<h1>The web app is not built</h1><p>Run <code>scripts/setup</code> (it builds <code>web/</code>
with npm), then reload. The API is up: <a href="/docs">/docs</a>.</p></html>"""


def web_dir(settings: Settings) -> Path:
    return settings.web_dir or DEFAULT_WEB_DIR


def mount_web_app(app: FastAPI, settings: Settings) -> None:
    root = web_dir(settings)
    assets = root / "assets"
    if assets.is_dir():
        # Hashed file names: cache them for a year; index.html itself is never cached.
        app.mount("/assets", _ImmutableStatic(directory=assets), name="assets")
    app.include_router(_router(root))


class _ImmutableStatic(StaticFiles):
    async def get_response(self, path: str, scope: Any) -> Any:
        response = await super().get_response(path, scope)
        if response.status_code == 200:
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        return response


def _router(root: Path) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    index = root / "index.html"

    def page() -> FileResponse | HTMLResponse:
        if not index.is_file():
            return HTMLResponse(_NOT_BUILT, status_code=503)
        return FileResponse(index, headers={"Cache-Control": "no-cache"})

    @router.get("/", response_model=None)
    async def home() -> FileResponse | HTMLResponse:
        return page()

    @router.get("/favicon.svg", response_model=None)
    async def favicon() -> FileResponse:
        icon = root / "favicon.svg"
        if not icon.is_file():
            raise NotFound("No favicon.")
        return FileResponse(icon)

    async def app_page() -> FileResponse | HTMLResponse:
        return page()

    # One route per section the app owns (not a catch-all, which would shadow routes added to
    # the app later and turn every unknown URL into a page).
    for section in APP_PATHS:
        router.add_api_route(f"/{section}", app_page, methods=["GET"], response_model=None)
        router.add_api_route(
            f"/{section}/{{rest:path}}", app_page, methods=["GET"], response_model=None
        )
    return router


api_router = APIRouter(prefix="/v1", tags=["web"])


@api_router.get("/web/config")
def web_config(session: SessionDep) -> dict[str, Any]:
    """What the web app needs to know before it draws anything."""
    return web_service.web_config(session)
