"""The OpenAPI document, exact: every status a route can send, with the problem schema.

The statuses come from the error classes, never from hand-written dicts:

* a route lists the domain errors its use case raises: ``responses=problems(BatchNotFound, ...)``;
* a dependency says what it raises with ``@raises(...)`` (authentication: 401; a role check:
  403; the database session: 503; pagination: 422), and every route that depends on it, however
  deeply, declares those;
* the request itself: parameters or a body can be refused (422, as ``ValidationProblem``), a path
  names something that may not exist (404), a body can be too large (413, the body-size limit).

Every 4xx/5xx is declared as ``application/problem+json``. Bodies a route parses by hand
(multipart, or JSON next to it) are declared with ``request_body(...)`` from the models and the
form description the parser uses, and their schemas go into ``components`` so every ``$ref``
resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel, TypeAdapter

from app.core.errors import (
    PROBLEM_JSON,
    BadRequest,
    NotFound,
    PayloadTooLarge,
    ProblemError,
    Unprocessable,
)
from app.core.idempotency import IdempotencyKeyReused
from app.core.links import LINKS, Link

F = TypeVar("F", bound=Callable[..., Any])


class MalformedBody(BadRequest):
    """FastAPI's refusal of a body that is not JSON at all (declared, never raised here)."""

    title = "The body cannot be parsed (not JSON, or a broken multipart form)"


PROBLEM_REF = "#/components/schemas/Problem"
VALIDATION_PROBLEM_REF = "#/components/schemas/ValidationProblem"

_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "description": "A URI naming the kind of problem."},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string", "description": "What happened, in the caller's words."},
        "retry_after": {"type": "integer", "description": "429 only: seconds to wait."},
    },
    "additionalProperties": True,
}

_VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ValidationProblem",
    "description": "A problem with one entry in `errors` per refused field.",
    "allOf": [{"$ref": PROBLEM_REF}],
    "type": "object",
    "properties": {
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["loc", "msg"],
                "properties": {
                    "loc": {
                        "type": "array",
                        "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                        "description": 'Where: ["body", "name"], ["query", "cursor"], ...',
                    },
                    "msg": {"type": "string"},
                },
            },
        }
    },
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer"},
    }
}


def _response(status: int, titles: Iterable[str]) -> dict[str, Any]:
    ref = VALIDATION_PROBLEM_REF if status == 422 else PROBLEM_REF
    response: dict[str, Any] = {
        "description": "; ".join(dict.fromkeys(titles)),
        "content": {PROBLEM_JSON: {"schema": {"$ref": ref}}},
    }
    if status in (429, 503):
        response["headers"] = dict(_RETRY_AFTER)
    return response


def problems(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: one entry per status among the errors it can raise."""
    by_status: dict[int, list[str]] = {}
    for error in errors:
        by_status.setdefault(error.status, []).append(error.title)
    return {status: _response(status, titles) for status, titles in sorted(by_status.items())}


def raises(*errors: type[ProblemError]) -> Callable[[F], F]:
    """Mark a dependency with the errors it raises; routes depending on it declare them."""

    def mark(fn: F) -> F:
        fn.__problems__ = (*getattr(fn, "__problems__", ()), *errors)  # type: ignore[attr-defined]
        return fn

    return mark


def _dependency_problems(dependant: Dependant) -> list[type[ProblemError]]:
    found: list[type[ProblemError]] = []
    stack = [dependant]
    while stack:
        current = stack.pop()
        found.extend(getattr(current.call, "__problems__", ()))
        stack.extend(current.dependencies)
    return found


_extra_models: dict[str, type[BaseModel]] = {}


def request_body(
    *,
    json: type[BaseModel] | None = None,
    multipart: dict[str, Any] | None = None,
    description: str | None = None,
) -> dict[str, Any]:
    """``openapi_extra=`` for a route that parses its body by hand: the JSON model it validates
    and the multipart form it reads (``app.core.forms.Form.schema()``)."""
    content: dict[str, Any] = {}
    if multipart is not None:
        content["multipart/form-data"] = {"schema": multipart}
    if json is not None:
        _extra_models[json.__name__] = json
        content["application/json"] = {"schema": {"$ref": f"#/components/schemas/{json.__name__}"}}
    body: dict[str, Any] = {"content": content, "required": True}
    if description:
        body["description"] = description
    return {"requestBody": body}


def model_ref(model: type[BaseModel]) -> dict[str, str]:
    """A ``$ref`` to ``model``'s schema for content a route declares by hand (the document's
    ``components`` will hold it)."""
    _extra_models[model.__name__] = model
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _has_body(route: APIRoute) -> bool:
    return route.body_field is not None or "requestBody" in (route.openapi_extra or {})


def _has_parameters(route: APIRoute) -> bool:
    d = route.dependant
    stack, any_params = [d], False
    while stack:
        current = stack.pop()
        if current.query_params or current.header_params or current.cookie_params:
            any_params = True
        if current.path_params or current.body_params:
            any_params = True
        stack.extend(current.dependencies)
    return any_params


def _header_names(dependant: Dependant) -> set[str]:
    names: set[str] = set()
    stack = [dependant]
    while stack:
        current = stack.pop()
        names.update(p.alias.lower() for p in current.header_params)
        stack.extend(current.dependencies)
    return names


def route_problems(route: APIRoute) -> list[type[ProblemError]]:
    """Every problem a route can send, from its dependencies, its request and its ``responses``."""
    found = _dependency_problems(route.dependant)
    if _has_body(route):
        found.append(MalformedBody)
    if "idempotency-key" in _header_names(route.dependant):
        found.append(IdempotencyKeyReused)
    if _has_parameters(route) or _has_body(route):
        found.append(Unprocessable)
    if route.param_convertors:
        found.append(NotFound)
    if _has_body(route):
        found.append(PayloadTooLarge)
    return found


def _add_extra_models(schemas: dict[str, Any]) -> None:
    for name, model in _extra_models.items():
        if name in schemas:
            continue
        schema = TypeAdapter(model).json_schema(
            ref_template="#/components/schemas/{model}", mode="validation"
        )
        for def_name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(def_name, definition)
        schemas[name] = schema


def build_openapi(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = _PROBLEM_SCHEMA
    schemas["ValidationProblem"] = _VALIDATION_PROBLEM_SCHEMA
    _add_extra_models(schemas)
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute) or not context.include_in_schema:
            continue
        item = doc["paths"].get(context.path_format or "", {})
        declared = problems(*route_problems(route))
        for method in context.methods or ():
            operation = item.get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            for status, response in declared.items():
                existing = responses.get(str(status))
                if existing is None or "content" not in existing or status == 422:
                    description = response["description"]
                    if existing is not None and status != 422:
                        description = existing.get("description") or description
                    responses[str(status)] = {**response, "description": description}
            for status, response in list(responses.items()):
                if status[0] in "45" and PROBLEM_JSON not in response.get("content", {}):
                    responses[status] = {
                        **_response(int(status), [response.get("description", "")]),
                        **{k: v for k, v in response.items() if k not in ("content",)},
                        "content": _response(int(status), [])["content"],
                    }
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    add_links(doc, LINKS)
    return doc


def add_links(doc: dict[str, Any], links: Iterable[Link]) -> None:
    """Write ``links`` into the responses of ``doc``; a link naming an operation, status or
    parameter the document lacks is a bug (``ValueError``), never a silently dead link."""
    operations: dict[str, dict[str, Any]] = {
        f"{method.upper()} {path}": op
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if isinstance(op, dict) and "responses" in op
    }
    for link in links:
        source, target = operations.get(link.source), operations.get(link.target)
        if source is None or target is None:
            raise ValueError(f"link {link.name}: no operation {link.source!r} or {link.target!r}")
        response = source["responses"].get(link.status)
        if response is None:
            raise ValueError(f"link {link.name}: {link.source} sends no {link.status}")
        params = {p["name"]: p for p in target.get("parameters", [])}
        unknown = set(link.parameters) - set(params)
        missing = {n for n, p in params.items() if p["in"] == "path"} - set(link.parameters)
        if unknown or missing:
            raise ValueError(
                f"link {link.name} to {link.target}: {unknown or missing} (parameters)"
            )
        definition: dict[str, Any] = {"operationId": target["operationId"]}
        if link.parameters:
            definition["parameters"] = dict(link.parameters)
        if link.body is not None:
            if "requestBody" not in target:
                raise ValueError(f"link {link.name}: {link.target} takes no body")
            definition["requestBody"] = dict(link.body)
        if link.description:
            definition["description"] = link.description
        links_of = response.setdefault("links", {})
        if link.name in links_of:
            raise ValueError(f"link {link.name} twice on {link.source} {link.status}")
        links_of[link.name] = definition


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


__all__ = [
    "install_openapi",
    "model_ref",
    "problems",
    "raises",
    "request_body",
    "route_problems",
]
