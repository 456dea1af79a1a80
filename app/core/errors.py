"""RFC 9457 problem details, everywhere: the one error tree of the service.

    ProblemError                  status, type slug and title on the class; detail per instance
     ├── BadRequest (400)
     ├── Unauthorized (401)
     ├── PaymentRequired (402)
     ├── Forbidden (403)
     ├── NotFound (404)
     ├── Conflict (409)
     ├── PayloadTooLarge (413)
     ├── UnsupportedMediaType (415)
     ├── Unprocessable (422)      may carry ``errors: [{loc, msg}]``
     │    ├── BodyNotJSON         a JSON body that does not parse
     │    ├── BodyInvalid         a JSON body whose fields do not fit its schema
     │    ├── InvalidCursor       a cursor the server did not issue
     │    └── InvalidIdempotencyKey
     ├── TooManyRequests (429)    carries ``Retry-After``
     ├── InsufficientStorage (507)
     ├── InternalError (500)      never carries the cause; it is logged
     └── ServiceUnavailable (503)
          ├── DatabaseUnavailable  carries ``Retry-After``; what database errors translate to
          └── StorageUnavailable   carries ``Retry-After``; the image store did not answer

Domain errors subclass these in each domain's ``errors.py`` (``app/money/errors.py``,
``app/work/errors.py``, ...), built from the domain's objects so each words its own detail, and
are declared in their routes' ``responses=`` (``app.core.responses``). Plain exceptions of the
libraries (``payments``) are mapped by a translator the app registers (``register_translator``).
Handlers here turn all of them, request validation errors, integrity errors and anything
unexpected into ``application/problem+json``; the last-resort handler logs the trace and never
sends it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import psycopg
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("tessera.errors")

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://tessera.dev/problems/"


class ProblemError(Exception):
    status: ClassVar[int] = 500
    type: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[dict[str, Any]] | None = None,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors) if errors is not None else None
        self.extra = extra or {}
        self.headers = headers

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": TYPE_BASE + self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        body.update(self.extra)
        return body


class BadRequest(ProblemError):
    status, type, title = 400, "bad-request", "Bad request"


class Unauthorized(ProblemError):
    status, type, title = 401, "unauthorized", "Missing or unknown API key"


class Forbidden(ProblemError):
    status, type, title = 403, "forbidden", "Not allowed"


class NotFound(ProblemError):
    status, type, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, type, title = 409, "conflict", "Conflict"


class PaymentRequired(ProblemError):
    status, type, title = 402, "payment-required", "Payment required"


class PayloadTooLarge(ProblemError):
    status, type, title = 413, "payload-too-large", "Payload too large"


class UnsupportedMediaType(ProblemError):
    status, type, title = 415, "unsupported-media-type", "Unsupported media type"


class Unprocessable(ProblemError):
    status, type, title = 422, "validation-error", "The request is not valid"


class BodyNotJSON(Unprocessable):
    """A JSON endpoint got bytes that are not UTF-8 JSON (before any field is looked at)."""

    def __init__(self, cause: UnicodeDecodeError | json.JSONDecodeError) -> None:
        if isinstance(cause, UnicodeDecodeError):
            super().__init__("The body is not UTF-8 JSON.")
        else:
            super().__init__(f"The body is not valid JSON: {cause.msg} at position {cause.pos}.")


class BodyInvalid(Unprocessable):
    """A JSON body whose fields do not match its schema; ``what`` names the thing it describes."""

    def __init__(self, what: str, cause: ValidationError) -> None:
        super().__init__(f"The {what} is not valid.", errors=body_errors(cause.errors()))


class InvalidCursor(Unprocessable):
    def __init__(self) -> None:
        super().__init__(
            "cursor is not valid: pass the next_cursor of the previous page",
            errors=[{"loc": ["query", "cursor"], "msg": "invalid cursor"}],
        )


class InvalidIdempotencyKey(Unprocessable):
    def __init__(self, max_length: int) -> None:
        super().__init__(
            f"Idempotency-Key must be 1 to {max_length} characters.",
            errors=[{"loc": ["header", "Idempotency-Key"], "msg": f"1 to {max_length} characters"}],
        )


class TooManyRequests(ProblemError):
    status, type, title = 429, "too-many-requests", "Too many requests"

    def __init__(self, detail: str, *, retry_after_s: int) -> None:
        super().__init__(
            detail,
            headers={"Retry-After": str(retry_after_s)},
            extra={"retry_after": retry_after_s},
        )


class InsufficientStorage(ProblemError):
    status, type, title = 507, "insufficient-storage", "The image store is full"


class InternalError(ProblemError):
    status, type, title = 500, "internal-error", "Internal server error"

    def __init__(self) -> None:
        super().__init__("An unexpected error occurred; it has been logged.")


class ServiceUnavailable(ProblemError):
    status, type, title = 503, "unavailable", "Service unavailable"


class DatabaseUnavailable(ServiceUnavailable):
    """The database is unreachable, restarting, or dropped the connection mid-request: nothing
    the request did was committed unless its response says so; retry after ``Retry-After``."""

    type, title = "database-unavailable", "The database is unavailable"
    RETRY_AFTER_S: ClassVar[int] = 2

    def __init__(self) -> None:
        super().__init__(
            "The database is unreachable or dropped the connection; retry in a moment.",
            headers={"Retry-After": str(self.RETRY_AFTER_S)},
            extra={"retry_after": self.RETRY_AFTER_S},
        )


class StorageUnavailable(ServiceUnavailable):
    """The image store (an object store) is unreachable, throttling or failing: nothing of the
    request was kept; retry after ``Retry-After``."""

    type, title = "storage-unavailable", "The image store is unavailable"
    RETRY_AFTER_S: ClassVar[int] = 5

    def __init__(self) -> None:
        super().__init__(
            "The image store did not answer; nothing of this request was kept. Retry in a moment.",
            headers={"Retry-After": str(self.RETRY_AFTER_S)},
            extra={"retry_after": self.RETRY_AFTER_S},
        )


def problem_response(problem: ProblemError) -> JSONResponse:
    return JSONResponse(
        problem.to_dict(),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _clean_loc(loc: Sequence[Any]) -> list[Any]:
    return [part for part in loc if not (isinstance(part, str) and part.startswith("function-"))]


def validation_errors(errors: Sequence[Any], *, prefix: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """pydantic's errors as ``[{loc, msg}]``; ``prefix`` places them (``("body",)`` for a body
    validated by hand, as FastAPI places the bodies it validates)."""
    return [
        {"loc": [*prefix, *_clean_loc(e.get("loc", ()))], "msg": str(e.get("msg", ""))}
        for e in errors
    ]


def body_errors(errors: Sequence[Any]) -> list[dict[str, Any]]:
    """Errors found in the request body, located as FastAPI locates its own: ``["body", ...]``."""
    return validation_errors(errors, prefix=("body",))


Translator = Callable[[Exception], ProblemError]
_translators: dict[type[Exception], Translator] = {}


def register_translator(error: type[Exception], translate: Translator) -> None:
    """Map a library's plain exception (``payments.PaymentsError``) to a problem, for the
    handlers and for whoever records a refusal (``app.core.idempotency``)."""
    _translators[error] = translate


def as_problem(exc: Exception) -> ProblemError | None:
    """The problem an exception stands for, or None when it is not a known refusal."""
    if isinstance(exc, ProblemError):
        return exc
    for error, translate in _translators.items():
        if isinstance(exc, error):
            return translate(exc)
    return None


_HTTP_TITLES: dict[int, type[ProblemError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    413: PayloadTooLarge,
    415: UnsupportedMediaType,
    422: Unprocessable,
    429: TooManyRequests,
}


def allowed_methods(request: Request) -> list[str]:
    """Every method of every route on the request's path: one path has a route per method, and
    Starlette's own 405 names only the first route's."""
    methods: set[str] = set()
    path = request.url.path
    for context in iter_route_contexts(request.app.router.routes):
        regex = getattr(context, "path_regex", None)
        if regex is not None and regex.match(path):
            methods.update(context.methods or ())
    if "GET" in methods:
        methods.add("HEAD")
    return sorted(methods)


def _database_unavailable(exc: Exception) -> ProblemError:
    log.error("database unavailable: %s", getattr(exc, "orig", None) or exc)
    return DatabaseUnavailable()


# A lost or refused connection, a statement cancelled by ``statement_timeout``, a server shutting
# down (psycopg's OperationalError family, wrapped by SQLAlchemy), an InterfaceError on a closed
# connection, or no pooled connection within ``pool_timeout``: the database, not the request.
# The hot path (app/work/hotpath.py) talks to psycopg directly: the same failures, unwrapped.
for _error in (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    psycopg.OperationalError,
    psycopg.InterfaceError,
):
    register_translator(_error, _database_unavailable)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(_: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = validation_errors(exc.errors())
        detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors[:5])
        return problem_response(Unprocessable(detail, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = _HTTP_TITLES.get(exc.status_code)
        if exc.status_code == 405:
            allowed = allowed_methods(request)
            body = {
                "type": TYPE_BASE + "method-not-allowed",
                "title": "Method not allowed",
                "status": 405,
                "detail": f"{request.method} is not allowed here; use {', '.join(allowed)}.",
            }
            headers = {**(exc.headers or {}), "Allow": ", ".join(allowed)}
            return JSONResponse(body, 405, media_type=PROBLEM_JSON, headers=headers)
        if cls is None:
            body = {
                "type": "about:blank",
                "title": str(exc.detail),
                "status": exc.status_code,
                "detail": str(exc.detail),
            }
            return JSONResponse(body, exc.status_code, media_type=PROBLEM_JSON, headers=exc.headers)
        detail = exc.detail if isinstance(exc.detail, str) else None
        problem = cls(detail, headers=dict(exc.headers) if exc.headers else None)
        return problem_response(problem)

    for error in _translators:

        @app.exception_handler(error)
        async def _translated(_: Request, exc: Exception) -> JSONResponse:
            problem = as_problem(exc)
            return problem_response(problem if problem is not None else InternalError())

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        # A unique-key race that a service did not translate: the request lost to a concurrent
        # one. Not the client's input error, and not a server bug worth a 500.
        log.warning("integrity error: %s", exc.orig)
        return problem_response(
            Conflict("The request conflicts with a concurrent change; retry it.")
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, _exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(InternalError())
