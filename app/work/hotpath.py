"""Lease and submit in one round trip on PostgreSQL: one call of a PL/pgSQL function each.

The functions (migration 0019) authenticate the API key, check, claim or store, judge and
answer, in autocommit: no ORM, no session, no transaction round trips. They are called as
server-side prepared statements on this module's own psycopg connections (one per thread that
needs one, kept for reuse). The response is built here with ``json.dumps``.

A call the function cannot finish alone returns ``{"fallback": why}`` having written nothing,
and the route runs the existing service: what decides is always the database's answer to that
first call (the caller's key, the project's settings, the worker's row), never state held in
this process, so two processes make the same choice. On SQLite there is no hot path.
"""

from __future__ import annotations

import json
import queue
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from app.core import ratelimit
from app.core.clock import rfc3339
from app.core.db import pg_connect_args
from app.core.ids import new_id
from app.core.security import hash_secret, split_api_key
from app.quality import service as quality_service
from payments.money import format_usd

_LEASE = "SELECT tessera_lease(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
_SUBMIT = "SELECT tessera_submit(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


@dataclass(frozen=True)
class Done:
    response: tuple[int, bytes] | None
    """``(status, JSON body)``; None: the caller runs the service."""
    counted: bool = False
    """The function counted the request against its rate limit (the service must not again)."""


def _limit_params(limit: ratelimit.Limit, now: datetime) -> tuple[object, ...]:
    index, ends_at = limit.window(now)
    return limit.name, index, ends_at, limit.limit


@dataclass(frozen=True)
class _ImageRef:
    id: str
    sha256: str


def bearer_key(authorization: str | None) -> tuple[str, str] | None:
    """``(key_id, secret hash)`` of an ``Authorization: Bearer <api key>`` header, or None."""
    if not authorization or authorization[:7].lower() != "bearer ":
        return None
    parts = split_api_key(authorization[7:].strip())
    if parts is None:
        return None
    return parts[0], hash_secret(parts[1])


class HotPath:
    """The process's connections for the two functions, and their calls."""

    def __init__(self, database_url: str, *, statement_timeout_ms: int = 0) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._conninfo = url.render_as_string(hide_password=False)
        self._connect_args = pg_connect_args(statement_timeout_ms=statement_timeout_ms)
        self._idle: queue.SimpleQueue[psycopg.Connection[Any]] = queue.SimpleQueue()

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            # prepare_threshold=0: a server-side prepared statement from the first call.
            conn = psycopg.connect(
                self._conninfo, autocommit=True, prepare_threshold=0, **self._connect_args
            )
        try:
            yield conn
        except BaseException:
            conn.close()  # a failed call leaves nothing worth keeping: a fresh one next time
            raise
        self._idle.put(conn)

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    def _call(self, sql: str, params: tuple[object, ...]) -> dict[str, Any]:
        with self._connection() as conn:
            row = conn.execute(sql, params, prepare=True).fetchone()
        assert row is not None
        result: dict[str, Any] = row[0]
        return result

    def lease(
        self,
        key: tuple[str, str],
        project_id: str,
        *,
        now: datetime,
        limit: ratelimit.Limit,
        max_live_leases: int,
        image_store: Any,
        base_url: str,
    ) -> Done:
        """The lease's response, or none: the caller runs the service."""
        assignment_id = new_id("asg")
        r = self._call(
            _LEASE,
            (
                key[0],
                key[1],
                project_id,
                now,
                max_live_leases,
                assignment_id,
                *_limit_params(limit, now),
            ),
        )
        if r.get("rate_limited"):
            raise ratelimit.refusal(limit, now=now, what="leases")
        if "fallback" in r:
            return Done(None, counted=bool(r.get("counted")))
        if r.get("none"):
            return Done((204, b""))
        expires_at = now + timedelta(seconds=r["duration_s"])
        image_url = image_store.url_for(
            _ImageRef(r["image_id"], r["sha256"]),
            viewer_id=r["worker_id"],
            expires_at=expires_at,
            base_url=base_url,
        )
        body = {
            "id": assignment_id,
            "project_id": project_id,
            "task": {
                "id": r["task_id"],
                "image_url": image_url,
                "width": r["width"],
                "height": r["height"],
                "annotation": r["annotation"],
                "instructions": r["instructions"],
                "pre_annotation": r["pre_annotation"],
            },
            "reward": format_usd(r["reward"]),
            "expires_at": rfc3339(expires_at),
        }
        return Done((201, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()))

    def submit(
        self,
        key: tuple[str, str],
        assignment_id: str,
        answer: object,
        *,
        now: datetime,
        limit: ratelimit.Limit,
        sessionmaker: Callable[[], Session],
    ) -> Done:
        """``(status, JSON body)`` of the submit, or None: the caller runs the service. A grade
        that may ban (rare) is decided by the service in a second round trip."""
        # The ids of the webhook events this submit may cause, in the order they happen
        # (written only if a webhook subscribes, app.webhooks.events).
        events = (new_id("evt"), new_id("evt"))
        r = self._call(
            _SUBMIT,
            (
                key[0],
                key[1],
                assignment_id,
                Jsonb(answer),
                now,
                *_limit_params(limit, now),
                *events,
            ),
        )
        if r.get("rate_limited"):
            raise ratelimit.refusal(limit, now=now, what="answers")
        if "fallback" in r:
            return Done(None, counted=bool(r.get("counted")))
        if r["check_bans"]:
            with sessionmaker() as session:
                quality_service.ban_if_due(session, r["project_id"], r["check_bans"], now=now)
        body = {
            "id": assignment_id,
            "project_id": r["project_id"],
            "task_id": r["task_id"],
            "status": "submitted",
            "reward": format_usd(r["reward"]),
            "leased_at": rfc3339(datetime.fromisoformat(r["leased_at"])),
            "expires_at": rfc3339(datetime.fromisoformat(r["expires_at"])),
            "submitted_at": rfc3339(now),
            "reason": None,
            "appeal_until": None,
            "appeal_message": None,
            "appeal_outcome": None,
        }
        return Done((200, json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()))
