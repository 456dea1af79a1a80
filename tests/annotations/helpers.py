"""Small builders shared by the annotation tests (plain functions, no fixtures)."""

from __future__ import annotations

import base64
import io
from typing import Any

import numpy as np
import pytest
from PIL import Image

from app.annotations import AnnotationSpec, AnswerInvalid, validate_answer

WIDTH, HEIGHT = 100, 80


def spec(kind: str, labels: list[str] | None = None, **extra: Any) -> AnnotationSpec:
    data: dict[str, Any] = {"type": kind, **extra}
    if labels is not None:
        data["labels"] = labels
    return AnnotationSpec.model_validate(data)


def check(spec_: AnnotationSpec, answer: object, **size: int) -> dict[str, Any]:
    size = {"width": WIDTH, "height": HEIGHT, **size}
    return validate_answer(spec_, answer, width=size["width"], height=size["height"])


def refuse(spec_: AnnotationSpec, answer: object, **size: int) -> list[dict[str, Any]]:
    """Validate, expect AnswerInvalid, and return its errors."""
    with pytest.raises(AnswerInvalid) as caught:
        check(spec_, answer, **size)
    assert caught.value.detail
    return caught.value.errors


def locs(errors: list[dict[str, Any]]) -> list[list[Any]]:
    return [error["loc"] for error in errors]


def png_base64(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def mask_answer(mask: np.ndarray) -> dict[str, str]:
    return {"mask_png_base64": png_base64(Image.fromarray(mask))}
