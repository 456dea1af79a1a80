"""Whether the service can do its work: the database answers a trivial query."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text


@dataclass(frozen=True)
class Readiness:
    ready: bool
    database: str
    """The dialect's name when ready; else the error's type name (never its message or trace)."""


def database_readiness(engine: Engine) -> Readiness:
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure means not ready; say which kind, nothing more
        return Readiness(False, type(exc).__name__)
    return Readiness(True, engine.dialect.name)
