"""``Idempotency-Key`` with Stripe's semantics.

The same key with the same request returns the first response again and does nothing more; the
same key with a different request is 409. The stored response is written in the same transaction
as the effect, so after a crash either both exist or neither does and the retry redoes the work.
A failure (a 4xx problem) is stored too: retrying a refused request gets the same refusal.
Two concurrent requests with one key race on ``UNIQUE(account_id, key)``; the loser replays the
winner's response.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.core.db import transaction
from app.core.errors import PROBLEM_JSON, Conflict, InvalidIdempotencyKey, as_problem
from app.models import Account, IdempotencyKey

MAX_KEY_LENGTH = 255

KeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=MAX_KEY_LENGTH,
        description="Retrying with the same key and body returns the first response.",
    ),
]
"""The ``Idempotency-Key`` header of a route, as declared and as checked (1 to 255 characters)."""


class IdempotencyKeyReused(Conflict):
    type, title = "idempotency-key-reused", "Idempotency-Key reused with a different request"


def fingerprint(method: str, path: str, payload: Any) -> str:
    canonical = json.dumps(
        [method, path, payload], sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def run_once(
    session: Session,
    account: Account,
    key: str | None,
    request_hash: str,
    action: Callable[[], tuple[int, BaseModel]],
    *,
    now: datetime,
) -> JSONResponse:
    """Run ``action`` at most once per key, returning its (stored) response."""
    if key is None:
        status, model = action()
        return JSONResponse(model.model_dump(mode="json"), status_code=status)
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidIdempotencyKey(MAX_KEY_LENGTH)
    stored = _load(session, account.id, key)
    if stored is not None:
        return _replay(stored, request_hash)
    try:
        with transaction(session):
            try:
                status, model = action()
                body, media = model.model_dump(mode="json"), "application/json"
            except Exception as exc:
                problem = as_problem(exc)
                if problem is None or problem.status >= 500:
                    raise
                session.rollback()  # undo the effect; keep only the refusal
                status, body, media = problem.status, problem.to_dict(), PROBLEM_JSON
            session.add(
                IdempotencyKey(
                    account_id=account.id,
                    key=key,
                    request_hash=request_hash,
                    status_code=status,
                    response_body=body,
                    created_at=now,
                )
            )
    except IntegrityError:
        stored = _load(session, account.id, key)
        if stored is None:
            raise
        return _replay(stored, request_hash)
    return JSONResponse(body, status_code=status, media_type=media)


def _load(session: Session, account_id: str, key: str) -> IdempotencyKey | None:
    stored = session.scalar(
        select(IdempotencyKey).where(
            IdempotencyKey.account_id == account_id, IdempotencyKey.key == key
        )
    )
    session.commit()
    return stored


def _replay(stored: IdempotencyKey, request_hash: str) -> JSONResponse:
    if stored.request_hash != request_hash:
        raise IdempotencyKeyReused("This Idempotency-Key was used with a different request.")
    media = PROBLEM_JSON if stored.status_code >= 400 else "application/json"
    return JSONResponse(
        stored.response_body,
        status_code=stored.status_code,
        media_type=media,
        headers={"Idempotent-Replayed": "true"},
    )
