"""The FastAPI application: ``create_app(settings)``."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

import payments
from app.accounts.router import router as accounts_router
from app.annotators.router import router as models_router
from app.answers.router import router as answers_router
from app.assist.router import router as assist_router
from app.auth.router import router as sessions_router
from app.batches.router import router as batches_router
from app.core.clock import utc_now
from app.core.config import Settings, get_settings
from app.core.db import make_engine, make_sessionmaker
from app.core.errors import (
    InsufficientStorage,
    ProblemError,
    StorageUnavailable,
    install_handlers,
    register_translator,
)
from app.core.headers import SecurityHeaders
from app.core.limits import BodySizeLimit
from app.core.migrate import upgrade
from app.core.openapi import install_openapi
from app.core.secrets import server_secret
from app.health.router import router as health_router
from app.images import ImageStoreFull, ImageStoreUnavailable, LocalImageStore, UrlSigner
from app.images.s3 import S3ImageStore
from app.images.store import sweep_temporary
from app.images.thumbnails import ThumbnailCache
from app.money.errors import problem_for as money_problem
from app.money.router import router as money_router
from app.operator.router import router as operator_router
from app.projects.router import router as projects_router
from app.quality import skills
from app.web.router import api_router as web_api_router
from app.web.router import mount_web_app
from app.webhooks.router import router as webhooks_router
from app.work.hotpath import HotPath
from app.work.router import router as work_router
from workers.runner import start_in_thread

log = logging.getLogger("tessera")


def _store_full(exc: Exception) -> ProblemError:
    log.error("image store full: %s", exc)
    return InsufficientStorage(
        "The image store has no space left; nothing of this upload was kept. "
        "Retry later (the operator has been told through the log)."
    )


def _store_unavailable(exc: Exception) -> ProblemError:
    log.error("image store unavailable: %s", exc)
    return StorageUnavailable()


def body_caps(settings: Settings) -> dict[tuple[str, str], int]:
    """The routes whose bodies may be larger than small JSON (``max_json_bytes``)."""
    return {
        ("POST", "/v1/projects/{project_id}/batches"): settings.max_request_bytes,
        ("POST", "/v1/projects/{project_id}/gold"): settings.max_request_bytes,
        ("POST", "/v1/batches/{batch_id}/images"): settings.max_request_bytes,
        ("POST", "/v1/assignments/{assignment_id}/submit"): settings.max_answer_bytes,
    }


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # An object store (TESSERA_IMAGE_STORE=s3://…) is opened here, not at start-up: the web app's
    # CSP must allow its origin. Presigned URLs count their lifetime on the app's clock.
    remote_store = (
        S3ImageStore.from_url(
            settings.image_store.strip(),
            clock=lambda: getattr(app.state, "clock", utc_now)(),
        )
        if settings.image_store.strip()
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.should_migrate_on_start:
            upgrade(settings.database_url)
        engine = make_engine(
            settings.database_url,
            pool_size=settings.db_pool_size,
            busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            pool_timeout_s=settings.db_pool_timeout_s,
        )
        app.state.engine = engine
        if not settings.database_url.startswith("sqlite"):
            # As many threads for sync routes as the pool has connections: a thread more only
            # waits for a connection, and 40 threads per process contending for 20 connections
            # and the GIL cost ~2 ms of CPU per lease or submit (benchmarks/README.md).
            anyio.to_thread.current_default_thread_limiter().total_tokens = engine.pool.size()  # type: ignore[attr-defined]
        app.state.sessionmaker = make_sessionmaker(engine)
        # PostgreSQL: lease and submit in one database call each (app/work/hotpath.py).
        app.state.hot_path = (
            HotPath(settings.database_url, statement_timeout_ms=settings.db_statement_timeout_ms)
            if engine.dialect.name == "postgresql" and settings.hot_path
            else None
        )
        with app.state.sessionmaker() as session:
            secret = server_secret(session, "image-urls", configured=settings.secret_key)
        app.state.url_signer = UrlSigner(secret)
        app.state.image_store = remote_store or LocalImageStore(
            settings.images_dir, app.state.url_signer
        )
        app.state.thumbnails = ThumbnailCache(settings.thumbnails_dir)
        if remote_store is None:
            # Temporary files of a process killed mid-write: swept off the startup path.
            threading.Thread(
                target=sweep_temporary, args=(settings.images_dir,), daemon=True
            ).start()
        # The skill bound's scipy import, off the startup path and off the first request's.
        threading.Thread(target=skills.warm_up, daemon=True).start()
        reconcilers = None
        if settings.reconcilers_in_process:
            reconcilers = start_in_thread(app.state.sessionmaker, settings)
        try:
            yield
        finally:
            if reconcilers is not None:
                thread, stop = reconcilers
                stop.set()
                thread.join(timeout=10)
            if app.state.hot_path is not None:
                app.state.hot_path.close()
            engine.dispose()

    # FastAPIOffline: FastAPI whose /docs and /redoc load Swagger UI and ReDoc from assets the
    # package ships and the app serves, never from a CDN (a blank page offline otherwise).
    app = FastAPIOffline(
        title="Tessera",
        version="1",
        summary="A crowdsourced microtask marketplace for image annotation.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    register_translator(payments.PaymentsError, money_problem)
    register_translator(ImageStoreFull, _store_full)
    register_translator(ImageStoreUnavailable, _store_unavailable)
    install_handlers(app)
    routers = (
        health_router,
        accounts_router,
        sessions_router,
        money_router,
        projects_router,
        models_router,
        batches_router,
        work_router,
        assist_router,
        answers_router,
        operator_router,
        web_api_router,
        webhooks_router,
    )
    for router in routers:
        app.include_router(router)
    install_openapi(app)
    mount_web_app(app, settings)  # last: its fallback route must not shadow the API
    app.add_middleware(BodySizeLimit, default=settings.max_json_bytes, routes=body_caps(settings))
    app.add_middleware(
        SecurityHeaders, image_origins=[remote_store.origin] if remote_store is not None else []
    )
    return app
