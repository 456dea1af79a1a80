"""The annotation spec of a project: its type, label set and, for keypoints, the named points.

Validation errors are pydantic's own, so the HTTP layer renders them like any other body error:
``loc`` is relative to the spec (``["labels", 3]``, ``["keypoints"]``), prefixed by FastAPI with
where the spec sits in the request (``["body", "annotation", ...]``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from pydantic import (
    BaseModel,
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

from app.annotations.limits import (
    MAX_KEYPOINTS,
    MAX_LABELS,
    MAX_NAME_LENGTH,
    MAX_SEGMENTATION_LABELS,
)

__all__ = ["DEFAULT_KEYPOINT_LABELS", "AnnotationSpec", "AnnotationType"]

DEFAULT_KEYPOINT_LABELS = ("object",)
"""Labels a keypoints project gets when it names none (see ``AnnotationSpec``)."""


class AnnotationType(StrEnum):
    """The six kinds of annotation a project can ask for (API.md, "Answers")."""

    CLASSIFICATION = "classification"
    MULTILABEL = "multilabel"
    BBOX = "bbox"
    POLYGON = "polygon"
    SEGMENTATION = "segmentation"
    KEYPOINTS = "keypoints"


Name = Annotated[
    StrictStr,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH),
]
"""A label or keypoint name: stripped, then 1..100 characters."""

Edge = tuple[StrictInt, StrictInt]


class AnnotationSpec(BaseModel):
    """What a project asks workers to annotate; validated when the project is created or patched.

    - ``labels``: 1..1000 unique non-empty names (stripped; at most 255 for segmentation,
      because a mask pixel is 8-bit and ``k`` means label ``k-1``). Answers must use them exactly.
    - ``keypoints``: required for, and only allowed with, ``type="keypoints"``: unique names,
      one ``[x, y, v]`` triple per name in every answer object.
    - ``skeleton``: optional, keypoints only: ``[[i, j], ...]`` edges between keypoint indices,
      ``i != j``, no edge twice (``[0, 1]`` and ``[1, 0]`` are the same edge). Defaults to ``[]``.

    A keypoints project may omit ``labels``: it then gets ``["object"]``. Every keypoint answer
    object still carries a ``label`` (API.md), so a project with several kinds of object
    ("face", "hand") names them, but the common case of one kind should not have to.
    Every other type must name its labels: there is no sensible default class set.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: AnnotationType
    labels: Annotated[list[Name], Field(min_length=1, max_length=MAX_LABELS)]
    keypoints: Annotated[list[Name] | None, Field(max_length=MAX_KEYPOINTS)] = Field(
        default=None, validate_default=True
    )
    skeleton: Annotated[list[Edge] | None, Field(max_length=MAX_KEYPOINTS**2)] = Field(
        default=None, validate_default=True
    )

    @model_validator(mode="before")
    @classmethod
    def _default_keypoint_labels(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("type") == "keypoints" and "labels" not in data:
            return {**data, "labels": list(DEFAULT_KEYPOINT_LABELS)}
        return data

    @field_validator("labels")
    @classmethod
    def _check_labels(cls, labels: list[str], info: ValidationInfo) -> list[str]:
        _require_unique(labels, "label")
        if info.data.get("type") == AnnotationType.SEGMENTATION:
            if len(labels) > MAX_SEGMENTATION_LABELS:
                raise PydanticCustomError(
                    "too_many_labels",
                    "segmentation allows at most {max} labels (mask pixels are 8-bit), got {n}",
                    {"max": MAX_SEGMENTATION_LABELS, "n": len(labels)},
                )
        return labels

    @field_validator("keypoints")
    @classmethod
    def _check_keypoints(cls, names: list[str] | None, info: ValidationInfo) -> list[str] | None:
        kind = info.data.get("type")
        if kind is None:  # the type itself was invalid; that error is enough
            return names
        if kind != AnnotationType.KEYPOINTS:
            if names is not None:
                raise _only_for_keypoints("keypoints", kind)
            return None
        if not names:
            raise PydanticCustomError(
                "missing", "keypoints projects need a non-empty list of keypoint names"
            )
        _require_unique(names, "keypoint name")
        return names

    @field_validator("skeleton")
    @classmethod
    def _check_skeleton(cls, edges: list[Edge] | None, info: ValidationInfo) -> list[Edge] | None:
        kind = info.data.get("type")
        if kind is None:
            return edges
        if kind != AnnotationType.KEYPOINTS:
            if edges is not None:
                raise _only_for_keypoints("skeleton", kind)
            return None
        edges = edges or []
        names = info.data.get("keypoints")
        if names:  # when the names were invalid the indices cannot be checked
            _check_edges(edges, len(names))
        return edges


def _only_for_keypoints(field: str, kind: AnnotationType) -> PydanticCustomError:
    return PydanticCustomError(
        "not_allowed",
        "{field} is only allowed when type is 'keypoints', not '{kind}'",
        {"field": field, "kind": str(kind)},
    )


def _require_unique(names: list[str], what: str) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if name in seen:
            raise PydanticCustomError(
                "duplicate",
                "duplicate {what} {name} at positions {first} and {second}",
                {"what": what, "name": repr(name), "first": seen[name], "second": index},
            )
        seen[name] = index


def _check_edges(edges: list[Edge], count: int) -> None:
    seen: set[frozenset[int]] = set()
    for index, (i, j) in enumerate(edges):
        problem = None
        if not (0 <= i < count and 0 <= j < count):
            problem = f"indices must be in 0..{count - 1} ({count} keypoints)"
        elif i == j:
            problem = "an edge joins two different keypoints"
        elif frozenset((i, j)) in seen:
            problem = "duplicate edge"
        if problem:
            raise PydanticCustomError(
                "invalid_edge",
                "edge {index} [{i}, {j}]: {problem}",
                {"index": index, "i": i, "j": j, "problem": problem},
            )
        seen.add(frozenset((i, j)))
