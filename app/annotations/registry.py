"""The registry of annotation types: one module per type under ``app/annotations/types/``.

Everything that differs between annotation types is found from the type's ``AnnotationKind``:
the spec fields it takes, how an answer is validated, the consensus engine (which points into
``consensus/``), the agreement and verdict wording that engine gives, the export formats it
offers and how each writes it, and the web tool that draws it. Services ask
``annotation_kind(spec.type)`` and never test a type by name. ``docs/ADDING_A_TYPE.md`` lists the
steps to add one; ``tests/annotations/test_registry.py`` fails when a registered type lacks a
piece.

    >>> annotation_kind("bbox").tool
    'bbox'
    >>> type_names()[:2]
    ('classification', 'multilabel')
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from app.annotations.limits import MAX_LABELS

if TYPE_CHECKING:
    from app.annotations.fields import Context
    from app.exports.base import ExportFormat
    from app.exports.shapes import ShapeCodec
    from app.quality.engine import Engine

__all__ = [
    "TYPE_MODULES",
    "AnnotationKind",
    "SpecRules",
    "UnknownAnnotationType",
    "annotation_kind",
    "annotation_kinds",
    "type_names",
]

TYPE_MODULES = (
    "classification",
    "multilabel",
    "bbox",
    "polygon",
    "segmentation",
    "keypoints",
    "points",
)
"""The modules of ``app.annotations.types``, in the order types are listed to users."""

WorkerModel = Literal["confusion", "multilabel", "geometry"]
"""What re-estimation fits for a type: per-worker confusion matrices over the labels (EM), one
yes/no matrix per worker shared by every label (sensitivity and specificity, EM over all
(task, label) pairs), or geometry skills (localisation and presence) from leave-one-out
agreement."""

FieldCheck = Callable[[Any, Mapping[str, Any]], Any]
"""Checks one optional spec field: ``(value, the fields validated so far) -> value``; raises
``pydantic_core.PydanticCustomError`` with a message for the user."""

Validator = Callable[["Context", object], dict[str, Any]]
"""Walks one answer (parsed JSON of any shape), reports problems to ``ctx.errors`` and returns
the normalised answer (see ``app.annotations.validate_answer``)."""


@dataclass(frozen=True, kw_only=True)
class SpecRules:
    """What a type asks of ``AnnotationSpec`` beyond ``type`` and ``labels``."""

    fields: Mapping[str, FieldCheck] = field(default_factory=dict)
    """Optional spec fields this type takes (``keypoints``, ``skeleton``), each with its check.
    Any other optional field is refused for the type."""
    default_labels: tuple[str, ...] | None = None
    """Labels a project of this type gets when it names none; ``None``: labels are required."""
    max_labels: int = MAX_LABELS


@dataclass(frozen=True, kw_only=True)
class AnnotationKind:
    """Everything that makes one annotation type what it is. Every field is required."""

    name: str
    """The ``annotation.type`` string of API.md."""
    summary: str
    """One line for people: what a worker does."""
    spec: SpecRules
    validate: Validator
    engine: Callable[..., Engine]
    """``(spec, *, width, height, fitted) -> Engine``: consensus of one task and each answer's
    verdict with its reason in words (``app.quality.engine``)."""
    worker_model: WorkerModel | None
    """What re-estimation fits; ``None``: nothing is fitted (the submit-time model serves)."""
    formats: Mapping[str, ExportFormat]
    """Export formats in the order offered, each with its writer (``app.exports``)."""
    tool: str
    """The web app's drawing tool for this type (``web/src/tools/<tool>.ts``)."""
    shapes: ShapeCodec | None
    """The type's answers as neutral shapes (CVAT, Datumaro and Label Studio exports) and, with
    ``shapes.answer``, back (labels imported with an upload); ``None``: neither."""
    example_spec: Mapping[str, Any]
    """A valid ``annotation`` body of this type, for tests and docs."""
    example_answers: tuple[Mapping[str, Any], ...]
    """Valid answers for ``example_spec`` on a 100 x 80 image: the first two agree, the last
    disagrees with them (the registry test runs consensus and verdicts on them)."""


class UnknownAnnotationType(ValueError):
    """``name`` is not a registered annotation type."""

    def __init__(self, name: object) -> None:
        self.name = name
        super().__init__(
            f"unknown annotation type {name!r}; expected one of: {', '.join(type_names())}"
        )


@cache
def _kinds() -> dict[str, AnnotationKind]:
    # The type modules are imported on first use rather than at import time: each one pulls in
    # its validators, exporters and consensus engine, and those use AnnotationSpec, which uses
    # this registry. Loading them lazily (as Django loads its apps) lets every module import the
    # registry without an import cycle.
    kinds: dict[str, AnnotationKind] = {}
    for module_name in TYPE_MODULES:
        module = importlib.import_module(f"app.annotations.types.{module_name}")
        kind = module.KIND
        if not isinstance(kind, AnnotationKind) or kind.name in kinds:
            raise RuntimeError(f"app.annotations.types.{module_name}.KIND is not a new type")
        kinds[kind.name] = kind
    return kinds


def annotation_kind(name: str) -> AnnotationKind:
    """The registered type called ``name``; ``UnknownAnnotationType`` if there is none."""
    kind = _kinds().get(name) if isinstance(name, str) else None
    if kind is None:
        raise UnknownAnnotationType(name)
    return kind


def annotation_kinds() -> tuple[AnnotationKind, ...]:
    """Every registered type, in ``TYPE_MODULES`` order."""
    return tuple(_kinds().values())


def type_names() -> tuple[str, ...]:
    """The registered type names (what ``annotation.type`` accepts)."""
    return tuple(_kinds())
