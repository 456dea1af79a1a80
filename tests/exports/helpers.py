"""Builders shared by the export tests (plain functions, no fixtures)."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import numpy as np

from app.annotations import AnnotationSpec, encode_mask, validate_answer
from app.exports import ExportItem, export


def spec(kind: str, labels: list[str] | None = None, **extra: Any) -> AnnotationSpec:
    data: dict[str, Any] = {"type": kind, **extra}
    if labels is not None:
        data["labels"] = labels
    return AnnotationSpec.model_validate(data)


def item(
    spec_: AnnotationSpec,
    task_id: str,
    image_name: str,
    answer: dict[str, Any] | None,
    *,
    width: int = 100,
    height: int = 80,
    confidence: float | None = 0.9,
    object_confidences: list[float] | None = None,
) -> ExportItem:
    """An item whose answer went through the real validator, as stored consensus would."""
    if answer is not None:
        answer = validate_answer(spec_, answer, width=width, height=height)
    return ExportItem(
        task_id=task_id,
        image_name=image_name,
        width=width,
        height=height,
        answer=answer,
        confidence=None if answer is None else confidence,
        answer_count=3,
        object_confidences=object_confidences,
    )


def mask_answer(mask: np.ndarray) -> dict[str, str]:
    return encode_mask(mask.astype(np.uint8))


def run(format: str, spec_: AnnotationSpec, items: list[ExportItem]) -> bytes:
    return b"".join(export(format, spec_, items).chunks)


def unzip(data: bytes) -> dict[str, bytes]:
    """Every entry of a zip, after checking its CRCs."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}
