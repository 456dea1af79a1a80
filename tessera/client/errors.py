"""Typed exceptions: one class per kind of refusal, each carrying the problem document."""

from __future__ import annotations

from typing import Any


class TesseraError(Exception):
    """Anything the client raises."""


class ConnectionFailed(TesseraError):
    """The service could not be reached (after the retries)."""


class APIError(TesseraError):
    """The service answered with an error: ``status`` and the RFC 9457 ``problem`` it sent."""

    status: int = 0

    def __init__(self, status: int, problem: dict[str, Any], headers: dict[str, str] | None = None):
        self.status = status
        self.problem = problem
        self.headers = headers or {}
        self.title = str(problem.get("title") or f"HTTP {status}")
        self.detail = str(problem.get("detail") or "")
        self.type = str(problem.get("type") or "about:blank")
        super().__init__(f"{status} {self.title}: {self.detail}" if self.detail else self.title)

    @property
    def errors(self) -> list[dict[str, Any]]:
        """Per-field validation errors (``{"loc", "msg"}``), if the problem lists any."""
        return list(self.problem.get("errors") or [])


class BadRequest(APIError):
    status = 400


class Unauthorized(APIError):
    status = 401


class PaymentRequired(APIError):
    """402: the available balance does not cover it (a launch, a bonus)."""

    status = 402


class Forbidden(APIError):
    status = 403


class NotFound(APIError):
    status = 404


class Conflict(APIError):
    """409: the object's state does not allow it, or an Idempotency-Key reused with another body."""

    status = 409


class PayloadTooLarge(APIError):
    status = 413


class UnsupportedMediaType(APIError):
    status = 415


class Unprocessable(APIError):
    """422: the request is well formed but its content is refused; see ``errors``."""

    status = 422


class RateLimited(APIError):
    """429 after the retries: ``retry_after`` is what the service asked to wait."""

    status = 429

    @property
    def retry_after(self) -> float | None:
        from tessera.client._http import parse_retry_after

        return parse_retry_after(self.headers.get("retry-after"))


class ServerError(APIError):
    """5xx (after the retries, for 502/503/504)."""

    status = 500


_BY_STATUS: dict[int, type[APIError]] = {
    400: BadRequest,
    401: Unauthorized,
    402: PaymentRequired,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: Unprocessable,
    429: RateLimited,
}


def error_for(status: int, problem: dict[str, Any], headers: dict[str, str]) -> APIError:
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else APIError)
    return cls(status, problem, headers)
