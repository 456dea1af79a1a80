"""Multipart bodies read from one description, which is also what the OpenAPI document says.

``Form(FormField("file", "file"), FormField("answer", "json"))`` reads a request's form strictly:
an unknown field, a missing one, a text where a file belongs (or the reverse) or a control
character in a text field is a 422 naming the field, and ``Form.schema()`` is the
``multipart/form-data`` schema of the route (``app.core.openapi.request_body``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError
from starlette.datastructures import UploadFile
from starlette.requests import Request

from app.core.errors import BodyInvalid, BodyNotJSON, Unprocessable
from app.core.schemas import CONTROL_CHARACTERS, refuse_control_characters

Kind = Literal["file", "files", "json", "text"]


@dataclass(frozen=True)
class FormField:
    name: str
    kind: Kind
    required: bool = True
    description: str = ""
    max_length: int = 100_000
    """For text and JSON fields: characters."""
    choices: tuple[str, ...] = ()
    """For text fields: the values it takes (any, when empty)."""


M = TypeVar("M", bound=BaseModel)


def parse_json_body(raw: bytes, model: type[M], what: str) -> M:
    """``raw`` parsed as JSON and validated as ``model``, for routes that read their body by
    hand (they also take multipart); ``what`` names the body in the 422 ("batch description")."""
    try:
        return model.model_validate(json.loads(raw))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BodyNotJSON(exc) from None
    except ValidationError as exc:
        raise BodyInvalid(what, exc) from None


class FormFieldRefused(Unprocessable):
    """A multipart field that is unknown, missing, of the wrong kind or holds a bad character."""

    def __init__(self, name: str, msg: str, detail: str | None = None) -> None:
        super().__init__(detail or f"{name}: {msg}", errors=[{"loc": ["body", name], "msg": msg}])


class Form:
    def __init__(self, *fields: FormField) -> None:
        self.fields = {f.name: f for f in fields}

    def schema(self) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for f in self.fields.values():
            binary = {"type": "string", "format": "binary"}
            if f.kind == "file":
                prop: dict[str, Any] = dict(binary)
            elif f.kind == "files":
                prop = {"type": "array", "items": binary, "minItems": 1}
            else:
                prop = {"type": "string", "maxLength": f.max_length}
                if f.kind == "json":
                    prop["contentMediaType"] = "application/json"
                if f.choices:
                    prop["enum"] = list(f.choices)
            if f.description:
                prop["description"] = f.description
            properties[f.name] = prop
        required = [f.name for f in self.fields.values() if f.required]
        schema: dict[str, Any] = {
            "type": "object",
            "properties": properties,
            "additionalProperties": False,
        }
        if required:
            schema["required"] = required
        return schema

    @asynccontextmanager
    async def read(self, request: Request, *, max_files: int) -> AsyncIterator[dict[str, Any]]:
        """The form's values by field: a list of files for ``files``, one file for ``file``, the
        parsed value for ``json`` and the string for ``text``; files are readable inside."""
        async with request.form(max_files=max_files, max_fields=len(self.fields) + 1) as form:
            values: dict[str, Any] = {}
            for name in form:
                if name not in self.fields:
                    known = ", ".join(f'"{n}"' for n in self.fields)
                    raise FormFieldRefused(
                        name,
                        "unknown field",
                        f'"{name}" is not a field of this form; it takes {known}.',
                    )
            for f in self.fields.values():
                items = form.getlist(f.name)
                if not items:
                    if f.required:
                        raise FormFieldRefused(
                            f.name, "Field required", f'Form field "{f.name}" is required.'
                        )
                    continue
                if f.kind in ("file", "files"):
                    if not all(isinstance(i, UploadFile) for i in items):
                        raise FormFieldRefused(f.name, "must be a file")
                    if f.kind == "file" and len(items) > 1:
                        raise FormFieldRefused(f.name, "only one file")
                    values[f.name] = items if f.kind == "files" else items[0]
                    continue
                if len(items) > 1 or not isinstance(items[0], str):
                    raise FormFieldRefused(f.name, "must be one text value")
                text = items[0]
                if len(text) > f.max_length:
                    raise FormFieldRefused(f.name, f"at most {f.max_length} characters")
                if CONTROL_CHARACTERS.search(text):
                    raise FormFieldRefused(
                        f.name, "must not contain control characters (only tab and newline)"
                    )
                if f.kind == "json":
                    try:
                        values[f.name] = refuse_control_characters(json.loads(text))
                    except json.JSONDecodeError:
                        raise FormFieldRefused(
                            f.name, "invalid JSON", f'"{f.name}" is not valid JSON.'
                        ) from None
                    except ValueError as exc:
                        raise FormFieldRefused(f.name, str(exc)) from None
                else:
                    if f.choices and text not in f.choices:
                        raise FormFieldRefused(f.name, f"one of {', '.join(f.choices)}")
                    values[f.name] = text
            yield values
