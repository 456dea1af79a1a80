"""Request-scoped dependencies: the session, the clock, settings and the image store.

The ones that do no I/O are ``async def``: FastAPI runs a sync dependency in the thread pool, and
each such hop (a queue put, a thread wake-up, a GIL hand-over) cost more than the dependency
itself on the lease and submit paths (benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from app.core.clock import utc_now
from app.core.config import Settings
from app.core.errors import ServiceUnavailable
from app.core.openapi import raises


@raises(ServiceUnavailable)
async def get_session(request: Request) -> AsyncIterator[Session]:
    # Making a session does no I/O (it connects on first use); neither does closing one that
    # holds no transaction, the usual case since services commit their own.
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)  # a rollback and a pool check-in: off the loop
        else:
            session.close()


def clock_of(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utc_now)
    return clock


def base_url_of(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return (settings.public_url or str(request.base_url)).rstrip("/")


async def get_clock(request: Request) -> Callable[[], datetime]:
    return clock_of(request)


async def get_now(clock: Annotated[Callable[[], datetime], Depends(get_clock)]) -> datetime:
    return clock()


async def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_base_url(request: Request) -> str:
    return base_url_of(request)


def client_address(request: Request) -> str:
    """The caller's address as the socket saw it (behind a proxy: the proxy's, so every client
    shares its limits; run uvicorn with ``--forwarded-allow-ips`` to take it from the proxy)."""
    return request.client.host if request.client else "unknown"


SessionDep = Annotated[Session, Depends(get_session)]
Now = Annotated[datetime, Depends(get_now)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
BaseURL = Annotated[str, Depends(get_base_url)]
