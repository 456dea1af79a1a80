"""What the sync and async clients share: a request described as data (``Op``), the retry
policy, the Idempotency-Key rule, and turning a response into a model or a typed error."""

from __future__ import annotations

import email.utils
import random
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import IO, Any, Generic, TypeVar

import httpx

from tessera.client.errors import APIError, error_for

T = TypeVar("T")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
"""Answers that mean "not done, try later": the request changed nothing."""
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})

FileList = list[tuple[str, tuple[str, IO[bytes], str]]]


def new_idempotency_key() -> str:
    return f"tsc-{uuid.uuid4().hex}"


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter; a ``Retry-After`` from the service is honoured
    (waited at least, plus up to 10 % jitter so many clients do not return in step)."""

    attempts: int = 6
    """Tries in all, the first included."""
    backoff_s: float = 0.25
    max_backoff_s: float = 20.0
    max_retry_after_s: float = 300.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            wait = min(retry_after, self.max_retry_after_s)
            return wait + random.uniform(0, min(1.0, 0.1 * wait))
        return random.uniform(0, min(self.max_backoff_s, self.backoff_s * 2**attempt))


NO_RETRY = RetryPolicy(attempts=1)


def retry_delay(
    policy: RetryPolicy,
    attempt: int,
    *,
    response: httpx.Response | None = None,
    error: httpx.TransportError | None = None,
    replay_safe: bool,
) -> float | None:
    """Seconds to wait before trying again, or None to stop. ``attempt`` counts from 0.

    Retried: a connection that was never made (nothing reached the service); other transport
    failures only when a replay is harmless (a safe method or an Idempotency-Key); 429 and
    502/503/504 always. Never any other 4xx, never a 500.
    """
    if attempt + 1 >= policy.attempts:
        return None
    if error is not None:
        never_sent = isinstance(
            error, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout
        )
        return policy.delay(attempt, None) if never_sent or replay_safe else None
    if response is not None and response.status_code in RETRY_STATUSES:
        return policy.delay(attempt, parse_retry_after(response.headers.get("retry-after")))
    return None


@dataclass
class Op(Generic[T]):
    """One API call, described: the sync and async clients both run it."""

    method: str
    path: str
    parse: Callable[[httpx.Response], T]
    params: dict[str, Any] | None = None
    json: Any = None
    files: Callable[[ExitStack], FileList] | None = None
    """Opens the files to send, again for every attempt (closed by the stack afterwards)."""
    data: dict[str, str] | None = None
    idempotent: bool = False
    """The endpoint takes an Idempotency-Key: one is made up unless ``idempotency_key`` is given,
    and every retry of this call sends the same one."""
    idempotency_key: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def prepare(self) -> tuple[dict[str, str], bool]:
        """The headers to send on every attempt, and whether a replay is harmless."""
        headers = dict(self.headers)
        if self.idempotent:
            headers["Idempotency-Key"] = self.idempotency_key or new_idempotency_key()
        return headers, self.method in SAFE_METHODS or "Idempotency-Key" in headers

    def request_kwargs(self, stack: ExitStack) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"params": clean_params(self.params)}
        if self.json is not None:
            kwargs["json"] = self.json
        if self.files is not None:
            kwargs["files"] = self.files(stack)
            if self.data:
                kwargs["data"] = self.data
        return kwargs


def clean_params(params: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return None if params is None else {k: v for k, v in params.items() if v is not None}


def problem_of(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        return body
    return {
        "title": response.reason_phrase or f"HTTP {response.status_code}",
        "status": response.status_code,
        "detail": response.text[:500],
    }


def check(response: httpx.Response) -> httpx.Response:
    """The response if it succeeded; otherwise the typed error carrying its problem document."""
    if response.status_code >= 400:
        raise error_for(response.status_code, problem_of(response), dict(response.headers))
    return response


def model(cls: Callable[..., T]) -> Callable[[httpx.Response], T]:
    def parse(response: httpx.Response) -> T:
        return cls(**check(response).json())

    return parse


def page(cls: Callable[..., T]) -> Callable[[httpx.Response], tuple[list[T], str | None]]:
    def parse(response: httpx.Response) -> tuple[list[T], str | None]:
        body = check(response).json()
        return [cls(**item) for item in body["items"]], body.get("next_cursor")

    return parse


def raw_json(response: httpx.Response) -> Any:
    return check(response).json()


def nothing(response: httpx.Response) -> None:
    check(response)


def content(response: httpx.Response) -> bytes:
    return check(response).content


__all__ = ["APIError", "Op", "RetryPolicy", "check", "retry_delay"]
