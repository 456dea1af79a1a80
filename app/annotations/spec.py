"""The annotation spec of a project: its type, label set and the fields its type takes.

Validation errors are pydantic's own, so the HTTP layer renders them like any other body error:
``loc`` is relative to the spec (``["labels", 3]``, ``["keypoints"]``), prefixed by FastAPI with
where the spec sits in the request (``["body", "annotation", ...]``).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from app.annotations.limits import MAX_KEYPOINTS, MAX_LABELS, MAX_NAME_LENGTH
from app.annotations.registry import (
    AnnotationKind,
    UnknownAnnotationType,
    annotation_kind,
    annotation_kinds,
    type_names,
)
from app.core.schemas import refuse_control_characters, text_fields_refuse_control_characters

__all__ = ["AnnotationSpec", "Edge", "Name", "require_unique"]

Name = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH),
    BeforeValidator(refuse_control_characters),
]
"""A label or keypoint name: no control character, stripped, then 1..100 characters."""

Edge = tuple[StrictInt, StrictInt]

_OPTIONAL_FIELDS = ("keypoints", "skeleton")
"""Spec fields that only some types take; each type's ``SpecRules.fields`` says which."""


def _type_enum(schema: dict[str, Any]) -> None:
    # Called when the OpenAPI schema is built, after the types are registered.
    schema["enum"] = list(type_names())


def _rules_per_type(schema: dict[str, Any]) -> None:
    # The type-dependent rules, as far as JSON Schema can say them: which optional fields a type
    # takes, how many labels it allows, whether it may omit them. The finer checks of a type's
    # fields (keypoint names, skeleton edges) are in its SpecRules and in the field descriptions.
    text_fields_refuse_control_characters(schema)
    optional = ("keypoints", "skeleton")
    schema["required"] = [name for name in schema.get("required", []) if name != "labels"]
    rules: list[dict[str, Any]] = []
    for kind in annotation_kinds():
        then: dict[str, Any] = {
            "properties": {
                "labels": {"maxItems": kind.spec.max_labels},
                **{f: {"type": "null"} for f in optional if f not in kind.spec.fields},
            }
        }
        if kind.spec.default_labels is None:
            then["required"] = ["labels"]
        rules.append({"if": {"properties": {"type": {"const": kind.name}}}, "then": then})
    schema["allOf"] = rules


class AnnotationSpec(BaseModel):
    """What a project asks workers to annotate; validated when the project is created or patched.

    - ``type``: a registered annotation type (``app.annotations.registry``); the rules below
      that differ by type come from the type's ``SpecRules``.
    - ``labels``: 1..1000 unique non-empty names (stripped; a type may cap them lower, e.g.
      segmentation at 255 because a mask pixel is 8-bit). Answers must use them exactly. A type
      with ``default_labels`` (keypoints: ``["object"]``) may omit them.
    - ``keypoints``, ``skeleton``: only for a type whose rules take them (keypoints: the named
      points and the edges between them), checked by that type's rules.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_rules_per_type)

    type: Annotated[StrictStr, Field(json_schema_extra=_type_enum)]
    labels: Annotated[list[Name], Field(min_length=1, max_length=MAX_LABELS)]
    keypoints: Annotated[list[Name] | None, Field(max_length=MAX_KEYPOINTS)] = Field(
        default=None, validate_default=True
    )
    skeleton: Annotated[list[Edge] | None, Field(max_length=MAX_KEYPOINTS**2)] = Field(
        default=None, validate_default=True
    )

    @model_validator(mode="before")
    @classmethod
    def _default_labels(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "labels" in data:
            return data
        kind = _kind_or_none(data.get("type"))
        if kind is not None and kind.spec.default_labels is not None:
            return {**data, "labels": list(kind.spec.default_labels)}
        return data

    @field_validator("type")
    @classmethod
    def _check_type(cls, name: str) -> str:
        if _kind_or_none(name) is None:
            raise PydanticCustomError(
                "unknown_type",
                "unknown annotation type {name}; expected one of: {names}",
                {"name": repr(name), "names": ", ".join(type_names())},
            )
        return name

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, labels: list[str], info: ValidationInfo) -> list[str]:
        require_unique(labels, "label")
        kind = _kind_or_none(info.data.get("type"))
        if kind is not None and len(labels) > kind.spec.max_labels:
            raise PydanticCustomError(
                "too_many_labels",
                "{kind} allows at most {max} labels, got {n}",
                {"kind": kind.name, "max": kind.spec.max_labels, "n": len(labels)},
            )
        return labels

    @field_validator(*_OPTIONAL_FIELDS)
    @classmethod
    def _check_optional(cls, value: Any, info: ValidationInfo) -> Any:
        kind = _kind_or_none(info.data.get("type"))
        if kind is None:  # the type itself was invalid; that error is enough
            return value
        field_name = info.field_name or ""
        check = kind.spec.fields.get(field_name)
        if check is None:
            if value is not None:
                takers = [k.name for k in annotation_kinds() if field_name in k.spec.fields]
                raise PydanticCustomError(
                    "not_allowed",
                    "{field} is only allowed when type is {takers}, not '{kind}'",
                    {
                        "field": field_name,
                        "takers": " or ".join(repr(t) for t in takers),
                        "kind": kind.name,
                    },
                )
            return None
        return check(value, info.data)


def _kind_or_none(name: object) -> AnnotationKind | None:
    try:
        return annotation_kind(name)  # type: ignore[arg-type]
    except UnknownAnnotationType:
        return None


def require_unique(names: list[str], what: str) -> None:
    """Raise a pydantic error naming the first repeated name and both positions."""
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise PydanticCustomError(
                "duplicate",
                "duplicate {what} {name} at positions {first} and {second}",
                {"what": what, "name": repr(name), "first": seen[name], "second": index},
            )
        seen[name] = index
