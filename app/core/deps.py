"""Request-scoped dependencies: the session, the clock, settings and the image store."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.core.clock import utc_now
from app.core.config import Settings


def get_session(request: Request) -> Iterator[Session]:
    session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


def get_clock(request: Request) -> Callable[[], datetime]:
    clock: Callable[[], datetime] = getattr(request.app.state, "clock", utc_now)
    return clock


def get_now(clock: Annotated[Callable[[], datetime], Depends(get_clock)]) -> datetime:
    return clock()


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_base_url(request: Request) -> str:
    settings: Settings = request.app.state.settings
    return (settings.public_url or str(request.base_url)).rstrip("/")


SessionDep = Annotated[Session, Depends(get_session)]
Now = Annotated[datetime, Depends(get_now)]
SettingsDep = Annotated[Settings, Depends(get_settings_dep)]
BaseURL = Annotated[str, Depends(get_base_url)]
