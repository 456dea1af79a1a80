"""``validate_answer``: check a worker's (or a gold) answer against the project's spec."""

from __future__ import annotations

from typing import Any

from app.annotations.errors import ErrorList
from app.annotations.fields import Context
from app.annotations.registry import annotation_kind
from app.annotations.spec import AnnotationSpec

__all__ = ["validate_answer"]


def validate_answer(
    spec: AnnotationSpec, answer: object, *, width: int, height: int
) -> dict[str, Any]:
    """Validate ``answer`` (parsed JSON) for a ``width`` x ``height`` image; return it normalised.

    The result has the API shape of the spec's type and is JSON-serialisable: coordinates are
    floats clamped into the image, keypoint ``v`` an int, labels exactly as in the spec,
    multilabel labels in spec order, polygons without repeated points, masks re-encoded as a
    grayscale PNG. The rules are the type's own (``AnnotationKind.validate``, in
    ``app/annotations/types/``).

    Raises:
        AnswerInvalid: with every problem found (up to ``MAX_ERRORS``), each at a location
            starting with ``"answer"``. Nothing else is raised for any JSON value of ``answer``.
        ValueError: ``width`` or ``height`` is not a positive integer (a caller bug).
    """
    for name, size in (("width", width), ("height", height)):
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise ValueError(f"{name} must be a positive integer, got {size!r}")
    ctx = Context(spec=spec, width=width, height=height, errors=ErrorList())
    normalised = annotation_kind(spec.type).validate(ctx, answer)
    ctx.errors.raise_if_any()
    return normalised
