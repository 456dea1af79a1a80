from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from app.health.service import database_readiness

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(request: Request) -> JSONResponse:
    """The database answers."""
    readiness = database_readiness(request.app.state.engine)
    status = "ok" if readiness.ready else "unavailable"
    return JSONResponse(
        {"status": status, "database": readiness.database},
        status_code=200 if readiness.ready else 503,
    )


@router.get("/v1/ping", include_in_schema=False)
async def ping() -> dict[str, str]:
    """The trivial endpoint the throughput benchmark compares the lease path against."""
    return {"pong": "ok"}
